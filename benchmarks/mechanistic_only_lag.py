"""Does the mechanistic-only E. coli population recover from the diauxic shift? (issue 18, tier 7)

Runs ``ecoli_mechanistic_only`` (lac regulation held at the repressed 1/K) on the evaluation seeds of
``benchmarks/grey_box_lac_lags.py`` (4 founder cells, 420 min, 0.02% lactose) and prints, per seed,
the population lag (:func:`greybox_processes.ecoli.lag.population_lag`: unbounded when growth never
resumes with lactose left) and the total volume at the shift and at the end.

    python benchmarks/mechanistic_only_lag.py --seeds 100 101 102 103 104
"""
from __future__ import annotations

import argparse
import logging
import math

from greybox_processes.ecoli import cells
from greybox_processes.ecoli.lag import _total_volume, glucose_exhaustion_index, population_lag
from greybox_processes.framework.run import run
from greybox_processes.metabolism.population_process import LACTOSE_MW, percent_to_mM


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    parser.add_argument("--cells", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=1024)
    parser.add_argument("--minutes", type=float, default=420.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print("| seed | population lag (min) | volume at shift (fL) | volume at end (fL) |")
    print("|---|---|---|---|")
    for seed in args.seeds:
        document = cells.ecoli_mechanistic_only(
            capacity=args.capacity, initial_cells=args.cells, seed=seed,
            initial_lactose=percent_to_mM(0.02, LACTOSE_MW))
        dataset = run(document, args.minutes, progress=False)
        volume = _total_volume(dataset)
        shift = glucose_exhaustion_index(dataset)
        try:
            # the reference only shifts the lag; the never-recovers verdict is the run's own
            lag = population_lag(dataset, dataset).lag_min
        except ValueError:
            lag = math.inf
        print(f"| {seed} | {lag:.1f} | {volume[shift]:.1f} | {volume[-1]:.1f} |")


if __name__ == "__main__":
    main()
