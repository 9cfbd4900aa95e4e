"""The diauxic lag of the E. coli population (glass box), at two lactose levels, with single cells.

Runs ``composites/ecoli_population.yaml`` without and with IPTG (same seed) through the
glucose -> lactose shift and prints, per lactose level: the population lag (Julou et al.
2020's definition, :func:`greybox_processes.ecoli.lag.population_lag`), the single-cell
lags, the share of cells with no LacY at the shift and the wall time. Nothing is fitted.
Writes a figure (growth curves with the IPTG reference; single-cell lag vs LacY at the shift).

    python benchmarks/ecoli_population_lag.py --time 420 --cells 8 --capacity 1024 \
        --lactose-percent 0.02 0.2 --out lag.png
"""
from __future__ import annotations

import argparse
import time as wallclock

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import greybox_processes as gb  # noqa: E402
from greybox_processes.ecoli.composites import LAC_SPECIES, ecoli_population  # noqa: E402
from greybox_processes.ecoli.lag import population_lag, single_cell_lags  # noqa: E402
from greybox_processes.metabolism.population_process import (LACTOSE_MW,  # noqa: E402
                                                             percent_to_mM)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=float, default=420.0, help="minutes")
    parser.add_argument("--cells", type=int, default=8, help="initial cells")
    parser.add_argument("--capacity", type=int, default=1024)
    parser.add_argument("--lactose-percent", type=float, nargs="+", default=[0.02, 0.2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="ecoli_population_lag.png")
    args = parser.parse_args()
    lacy = list(LAC_SPECIES).index("lacY")
    fig, axes = plt.subplots(len(args.lactose_percent), 2, figsize=(10, 3.6 * len(args.lactose_percent)),
                             squeeze=False)
    print("| lactose | population lag (min) | arrest (min) | cells at shift | no LacY at shift | "
          "median single-cell lag, LacY=0 / LacY>0 (min) | not recovered | wall (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for row, percent in zip(axes, args.lactose_percent):
        kwargs = dict(capacity=args.capacity, initial_cells=args.cells, seed=args.seed,
                      initial_lactose=percent_to_mM(percent, LACTOSE_MW))
        started = wallclock.perf_counter()
        experiment = gb.run(ecoli_population(**kwargs), args.time, progress=True)
        reference = gb.run(ecoli_population(iptg=True, **kwargs), args.time, progress=True)
        wall = wallclock.perf_counter() - started
        lag = population_lag(experiment, reference)
        cells = single_cell_lags(experiment, lacy_index=lacy)
        none = cells.lacy_at_shift == 0
        med0 = np.nanmedian(cells.lag_min[none]) if none.any() else float("nan")
        med1 = np.nanmedian(cells.lag_min[~none]) if (~none).any() else float("nan")
        print(f"| {percent}% | {lag.lag_min:.1f} | {lag.arrest_min:.1f} | {len(cells)} | "
              f"{none.mean():.3f} | {med0:.1f} / {med1:.1f} | {int(cells.lag_min.isna().sum())} | "
              f"{wall:.0f} |")
        for ds, label in ((experiment, "glucose + lactose"), (reference, "+ IPTG")):
            alive = ds["cells.alive"].values > 0.5
            total = np.where(alive, ds["cells.volume"].values, 0.0).sum(1)
            row[0].semilogy(ds.time, total, label=label)
        row[0].set(xlabel="time (min)", ylabel="total cell volume (fL)",
                   title=f"{percent}% lactose: population lag {lag.lag_min:.0f} min")
        row[0].legend()
        row[1].scatter(cells.lacy_at_shift + 0.5, cells.lag_min, s=8)
        row[1].set(xscale="log", xlabel="LacY at the shift + 0.5 (molecules)",
                   ylabel="single-cell lag (min)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
