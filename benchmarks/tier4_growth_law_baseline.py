"""WCM-Hard tier 4 reference point: how far a growth-rate ("growth law") expression model gets.

No composite of this project has a genome-wide expression store or a temperature/pH input, so
tier 4 is not applicable to our cells. This script measures what the simplest model trained
only on nutrient conditions would score, to tell how hard the tier is:

* training set: PRECISE samples of wild-type MG1655/BW25113 at 37 C, pH 7, not evolved, with a
  measured growth rate > 0 (nutrient conditions: carbon and nitrogen sources, supplements);
  neither stress sample is in it;
* model: per gene, log2(TPM+1) = a_project + b_gene * mu (ordinary least squares on the samples
  centred within each project, which removes project batch effects);
* prediction for a stress: b * (mu_stress - mu_control), with the growth rates PRECISE measured
  (an oracle input: the model is even told how much the stress slows growth); its cosine with
  the observed log2 fold changes equals +/- cos(b, observed), whatever the growth change.

Run: ``python benchmarks/tier4_growth_law_baseline.py [--shared ../shared]`` (~15 s).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def growth_slopes(samples: pd.DataFrame, log_tpm: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Per-gene slope of log2(TPM+1) on growth rate over the nutrient samples (within project)."""
    keep = ((samples["Temperature (C)"] == 37) & (samples["pH"] == 7.0)
            & samples["Strain"].isin(["MG1655", "BW25113"])
            & (samples["Evolved Sample"] == "No")
            & (samples["Growth Rate (1/hr)"] > 0))
    train = samples[keep]
    x = log_tpm[train.index].T
    mu = train["Growth Rate (1/hr)"].astype(float)
    xc = x - x.groupby(train["project"]).transform("mean")
    muc = mu - mu.groupby(train["project"]).transform("mean")
    return xc.mul(muc, axis=0).sum() / float((muc ** 2).sum()), train


def main(argv=None):
    from greybox_processes.wcm_hard import refdata
    from greybox_processes.wcm_hard.tiers.t4_stress import cosine_similarity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = parser.parse_args(argv)
    folder = Path(args.shared) / "refdata" / "transcriptome"
    samples = pd.read_csv(folder / "precise_sample_table.csv", index_col=0)
    log_tpm = pd.read_csv(folder / "precise_log_tpm.csv.gz", index_col=0)
    slopes, train = growth_slopes(samples, log_tpm)
    observed = refdata.stress_log_fold_changes()
    print(f"training: {len(train)} nutrient samples from {train['project'].nunique()} projects "
          f"(growth {train['Growth Rate (1/hr)'].min():.2f} to "
          f"{train['Growth Rate (1/hr)'].max():.2f} /h)")
    rates = samples["Growth Rate (1/hr)"]
    for stress, (stressed, control) in refdata.STRESS_CONTRASTS.items():
        genes = observed.index.intersection(slopes.index)
        mu_s, mu_c = rates[stressed].mean(), rates[control].mean()
        line = f"{stress}: cos(slopes, observed) = " \
               f"{cosine_similarity(slopes[genes], observed.loc[genes, stress]):+.3f}"
        if np.isfinite(mu_s) and np.isfinite(mu_c):
            line += (f"; measured growth {mu_c:.2f} -> {mu_s:.2f} /h, so the prediction scores "
                     f"{cosine_similarity(slopes[genes] * (mu_s - mu_c), observed.loc[genes, stress]):+.3f}")
        else:
            line += "; a growth rate of the contrast is not recorded (sign of the change unknown)"
        print(line + f" over {len(genes)} genes")


if __name__ == "__main__":
    main()
