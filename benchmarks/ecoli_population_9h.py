"""Issue 16's target as a real run: 1000 cells of the grey-box E. coli through 9 h of the diauxic shift.

Not a projection: builds :func:`greybox_processes.ecoli.cells.ecoli_grey_box` (iJO1366, ``etfl``)
with 1000 cells in 4096 slots at 0.09 gDW/L (so the glucose runs out at ~30 min and the lactose by
~3.5 h), runs 540 one-minute steps with the progress bar and zarr output on, and prints the wall
time (target: 300 s on 2 cores), the live cells and the medium every 30 min. Warnings of the
population LP (retried stages, rows solved one by one near starvation) are printed as they happen.

    python benchmarks/ecoli_population_9h.py [--out /tmp/run9h.zarr]
"""
from __future__ import annotations

import argparse
import logging
import time as wallclock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/ecoli_population_9h.zarr")
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=4096)
    parser.add_argument("--biomass", type=float, default=0.09)
    parser.add_argument("--minutes", type=float, default=540.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")

    import greybox_processes as gb
    from greybox_processes.ecoli.cells import ecoli_grey_box

    started = wallclock.perf_counter()
    document = ecoli_grey_box(capacity=args.capacity, initial_cells=args.cells,
                              initial_biomass=args.biomass, model="iJO1366", method="etfl",
                              seed=0)
    ds = gb.run(document, args.minutes, progress=True, out=args.out)
    wall = wallclock.perf_counter() - started
    alive = (ds["cells.alive"].values > 0.5).sum(axis=1)
    print(f"wall {wall:.1f} s for {args.cells} cells x {args.minutes:g} min (target 300 s)")
    print("live cells every 30 min:", alive[::30].tolist())
    print("glucose (mM) every 30 min:", ds["medium.glucose"].values[::30].round(4).tolist())
    print("lactose (mM) every 30 min:", ds["medium.lactose"].values[::30].round(4).tolist())


if __name__ == "__main__":
    main()
