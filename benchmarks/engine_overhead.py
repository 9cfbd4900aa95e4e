"""Share of a step of composites/grn_cells.yaml spent in the engines, outside our kernel.

Runs the composite under process-bigraph and under vivarium-core (same seed,
same document, emitting every interval as `greybox run` does) and splits the
wall time of the run loop (set-up excluded) into

* kernel: the jitted GRN SDE advance (``GRN._step_fn`` plus the error check),
* adapter: the rest of ``GRN.update`` (store arrays to and from JAX, deltas),
* engine: everything else (scheduling, applying updates, emitting).

    python benchmarks/engine_overhead.py                 # 2700 cells, 20 intervals
    python benchmarks/engine_overhead.py --cells-per-type 30 --intervals 5   # quick
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax

import greybox_processes as gb
from greybox_processes.grn.process import GRN

SPEC = Path(__file__).resolve().parent.parent / "composites" / "grn_cells.yaml"


class TimedGRN(GRN):
    """GRN that records the time spent in its kernel and in its update (benchmark only)."""

    kernel_s = 0.0
    update_s = 0.0

    def initialize(self, config):
        super().initialize(config)
        inner = self._step_fn

        def timed_step(state, n_steps):
            start = time.perf_counter()
            result = inner(state, n_steps)
            jax.block_until_ready(result.mrna)
            TimedGRN.kernel_s += time.perf_counter() - start
            return result

        self._step_fn = timed_step

    def update(self, state, interval):
        start = time.perf_counter()
        delta = super().update(state, interval)
        TimedGRN.update_s += time.perf_counter() - start
        return delta


def measure(engine: str, cells_per_type: int, intervals: int, core) -> dict:
    params = {"cells_per_type": cells_per_type}
    overrides = {"grn.address": "local:TimedGRN"}
    # warm up: compile the kernel for this shape outside the timed run
    gb.run(SPEC, 1.0, engine=engine, params=params, overrides=overrides, core=core, progress=False)
    TimedGRN.kernel_s = TimedGRN.update_s = 0.0
    dataset = gb.run(SPEC, float(intervals), engine=engine, params=params, overrides=overrides,
                     core=core, progress=False)
    # the run loop only (building the composite and the engine is set-up, not stepping)
    total = dataset.attrs["wall_time_s"]
    kernel, update = TimedGRN.kernel_s, TimedGRN.update_s
    return {"engine": engine, "total_s": total, "kernel_s": kernel, "adapter_s": update - kernel,
            "engine_s": total - update, "engine_share": (total - update) / total}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells-per-type", type=int, default=300)
    parser.add_argument("--intervals", type=int, default=20)
    args = parser.parse_args(argv)
    from greybox_processes.framework.spec import default_core

    core = default_core()
    core.register_link("TimedGRN", TimedGRN)
    cells = 9 * args.cells_per_type
    print(f"composites/grn_cells.yaml, DS1, {cells} cells x 100 genes, {args.intervals} intervals "
          f"of 100 SDE steps, emitting every interval")
    print(f"{'engine':<9} {'total s':>8} {'kernel s':>9} {'adapter s':>10} {'engine s':>9} "
          f"{'engine share':>13}")
    rows = [measure(engine, args.cells_per_type, args.intervals, core) for engine in ("pbg", "vivarium")]
    for r in rows:
        print(f"{r['engine']:<9} {r['total_s']:8.2f} {r['kernel_s']:9.2f} {r['adapter_s']:10.3f} "
              f"{r['engine_s']:9.3f} {100 * r['engine_share']:12.1f}%")
    return rows


if __name__ == "__main__":
    main()
