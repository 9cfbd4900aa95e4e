"""WCM-Hard tier 4 reference point: how far a growth-rate ("growth law") expression model gets.

The model and its training set: :mod:`greybox_processes.wcm_hard.tiers.t4_baselines` (the tier
report shows the same numbers). This script prints them.

Run: ``python benchmarks/tier4_growth_law_baseline.py [--shared ../shared]`` (~15 s).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main(argv=None):
    from greybox_processes.wcm_hard.tiers.t4_baselines import growth_law_cosines

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = parser.parse_args(argv)
    result = growth_law_cosines(args.shared)
    if not result["available"]:
        raise SystemExit(result["why"])
    lo, hi = result["growth_range_per_h"]
    print(f"training: {result['training_samples']} nutrient samples from "
          f"{result['training_projects']} projects (growth {lo:.2f} to {hi:.2f} /h)")
    for stress, entry in result["stresses"].items():
        line = f"{stress}: cos(slopes, observed) = {entry['cos_slopes']:+.3f}"
        if entry["cosine"] is not None:
            mu_c, mu_s = entry["growth_per_h"]
            line += (f"; measured growth {mu_c:.2f} -> {mu_s:.2f} /h, so the prediction scores "
                     f"{entry['cosine']:+.3f}")
        else:
            line += "; a growth rate of the contrast is not recorded (sign of the change unknown)"
        print(line + f" over {entry['genes']} genes")


if __name__ == "__main__":
    main()
