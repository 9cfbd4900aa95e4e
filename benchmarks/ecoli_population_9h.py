"""Issue 16's target as a real run: 1000 cells of the grey-box E. coli through 9 h of the diauxic shift.

Not a projection: builds :func:`greybox_processes.ecoli.cells.ecoli_grey_box` (iJO1366, ``etfl``)
with 1000 cells in 4096 slots at 0.09 gDW/L (so the glucose runs out at ~30 min and the lactose by
~3.5 h), runs 540 one-minute steps with the progress bar and zarr output on, and prints the wall
time (target: 300 s on 2 cores), the seconds spent in the metabolism's and the lac operon's
updates, the live cells and the medium every 30 min. Warnings of the population LP (retried
stages, rows solved one by one near starvation) are printed the first time each happens.

``--lac-workers N`` sets the lac operon's concurrent kernel calls (``LacOperon`` config
``workers``; default 0: one per available core). ``--compare-workers`` runs the same population
twice, each in a fresh process, with ``workers: 1`` and with the default, and prints both walls
and their ratio (the trajectories are the same: each cell draws by its own counter).

    python benchmarks/ecoli_population_9h.py [--out /tmp/run9h.zarr]
    python benchmarks/ecoli_population_9h.py --compare-workers
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time as wallclock


def _timed(cls, totals, name):
    original = cls.update

    def update(self, *args, **kwargs):
        started = wallclock.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            totals[name] += wallclock.perf_counter() - started

    cls.update = update


def run(args) -> dict:
    import numpy as np

    import greybox_processes as gb
    from greybox_processes.ecoli.cells import ecoli_grey_box
    from greybox_processes.lac.process import LacOperon, auto_workers
    from greybox_processes.metabolism.population_process import PopulationMetabolism

    totals = {"metabolism": 0.0, "lac": 0.0}
    _timed(PopulationMetabolism, totals, "metabolism")
    _timed(LacOperon, totals, "lac")
    started = wallclock.perf_counter()
    document = ecoli_grey_box(capacity=args.capacity, initial_cells=args.cells,
                              initial_biomass=args.biomass, model="iJO1366", method="etfl",
                              seed=0)
    document["state"]["lac"]["config"]["workers"] = args.lac_workers
    ds = gb.run(document, args.minutes, progress=not args.quiet, out=args.out)
    wall = wallclock.perf_counter() - started
    alive = (ds["cells.alive"].values > 0.5).sum(axis=1)
    return {"wall_s": wall, "workers": args.lac_workers or auto_workers(), **totals,
            "live_cells": alive[::30].tolist(),
            "glucose_mM": ds["medium.glucose"].values[::30].round(4).tolist(),
            "lactose_mM": ds["medium.lactose"].values[::30].round(4).tolist(),
            "final_lac_sum": float(np.nansum(ds["cells.lac"].values[-1]))}


def _print(result, args):
    print(f"wall {result['wall_s']:.1f} s for {args.cells} cells x {args.minutes:g} min (target "
          f"300 s); lac operon {result['lac']:.1f} s ({result['workers']} concurrent kernel "
          f"calls), metabolism {result['metabolism']:.1f} s")
    print("live cells every 30 min:", result["live_cells"])
    print("glucose (mM) every 30 min:", result["glucose_mM"])
    print("lactose (mM) every 30 min:", result["lactose_mM"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/ecoli_population_9h.zarr")
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=4096)
    parser.add_argument("--biomass", type=float, default=0.09)
    parser.add_argument("--minutes", type=float, default=540.0)
    parser.add_argument("--lac-workers", type=int, default=0)
    parser.add_argument("--compare-workers", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if not args.compare_workers:
        result = run(args)
        if args.json:
            print(json.dumps(result))
        else:
            _print(result, args)
        return
    results = {}
    for workers in (1, 0):
        command = [sys.executable, __file__, "--json", "--quiet", "--lac-workers", str(workers),
                   "--cells", str(args.cells), "--capacity", str(args.capacity), "--biomass",
                   str(args.biomass), "--minutes", str(args.minutes), "--out",
                   f"{args.out}.w{workers}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            sys.exit(f"workers {workers} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        results[workers] = json.loads(lines[-1])
        _print(results[workers], args)
    one, auto = results[1], results[0]
    print(f"\nlac workers 1 -> {auto['workers']}: wall {one['wall_s']:.1f} -> "
          f"{auto['wall_s']:.1f} s ({one['wall_s'] / auto['wall_s']:.2f}x), lac operon "
          f"{one['lac']:.1f} -> {auto['lac']:.1f} s ({one['lac'] / auto['lac']:.2f}x); same "
          f"trajectory: {one['live_cells'] == auto['live_cells'] and one['final_lac_sum'] == auto['final_lac_sum']}")


if __name__ == "__main__":
    main()
