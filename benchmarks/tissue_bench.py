"""Tissue speed: ours against nexusim 0.2.0 side by side, then ours alone from 1e2 to 1e5 cells.

Scenario (both simulators): a 3D box of cells of one type at a fixed density
(0.5 cells per unit volume, cell volume 1), attraction + overlap repulsion +
residual drift + random force, cell cycle with growth, division, apoptosis and
necrosis, two chemicals in a grid of fields with diffusion, a first-order
reaction (Poisson) and cell-field exchange. Ours: the jitted kernel
``greybox_processes.tissue.kernel.advance`` (float64, capacity = 2 x cells).
nexusim: ``SpatialSim`` stepped one step at a time as its ``run_sim`` does,
run in its own virtual environment (``--nexus-python``) because it is a
separate install; skipped when that interpreter is missing.

Each size runs in a fresh subprocess so that its peak memory (max RSS) is its
own. Reported: cell-steps per second (live cells x steps / wall time, after a
warm-up call that compiles), peak RSS, and the log-log slope of time per step
against cells (1 = linear).

    python benchmarks/tissue_bench.py --quick
    python benchmarks/tissue_bench.py --nexus-python /tmp/nexus_venv/bin/python
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DENSITY = 0.5


def run_ours(n_cells: int, n_steps: int, dtype: str = "float64") -> dict:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", dtype == "float64")
    from greybox_processes.tissue.kernel import (TissueParams, advance, check_errors, n_alive,
                                                 place_cells)
    from greybox_processes.tissue.kernel import make_tissue

    # the cells fill a cube at DENSITY in the middle of a box with a margin of 2 on each side
    side = math.ceil(n_cells ** (1.0 / 3.0)) * DENSITY ** (-1.0 / 3.0) + 4.0
    n_fields = max(2, int(round(side / 2.5)))
    p = TissueParams.create(
        n_types=1, dim=3, dt=0.05, domain=(side,) * 3, field_shape=(n_fields,) * 3,
        chemicals=("A", "B"), reactions=["A -> B: 0.1"], diffusion=[0.5, 0.5],
        permeability=[0.1, 0.1], attraction=0.5, repulsion=2.0, drift=0.5, random_force=0.05,
        t_interphase=11.0, t_mitosis=1.0, growth_rate=0.05, apoptosis_rate=0.001,
        necrosis_rate=0.0005, decomposition_rate=0.5, max_per_bin=16,
        dtype=jnp.float64 if dtype == "float64" else jnp.float32)
    init_fn, _ = make_tissue(p)
    key = jax.random.key(0)
    cap = 2 * n_cells
    pos = jnp.concatenate([place_cells(key, n_cells, p.domain, 3, spacing=DENSITY ** (-1 / 3),
                                       dtype=p.dtype),
                           jnp.zeros((cap - n_cells, 3), p.dtype)])
    s = init_fn(key, pos, jnp.zeros(cap, jnp.int32), jnp.arange(cap) < n_cells,
                chem=jnp.ones((cap, 2), p.dtype),
                fields=jnp.full((2,) + p.field_shape, 5.0, p.dtype))
    t0 = time.perf_counter()
    s = advance(p, s, n_steps=n_steps)
    s.error.block_until_ready()
    compile_s = time.perf_counter() - t0
    live = n_alive(s)
    t0 = time.perf_counter()
    s = advance(p, s, n_steps=n_steps)
    s.error.block_until_ready()
    elapsed = time.perf_counter() - t0
    check_errors(s)
    live = 0.5 * (live + n_alive(s))
    return {"sim": "greybox", "cells": n_cells, "live_cells": live, "steps": n_steps,
            "s_per_step": elapsed / n_steps, "cell_steps_per_s": live * n_steps / elapsed,
            "first_call_s": compile_s, "dtype": dtype,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _subprocess(args, python=sys.executable, timeout=3600):
    out = subprocess.run([python] + args, capture_output=True, text=True, timeout=timeout,
                         cwd=HERE)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_nexus(python, n_cells, n_steps):
    result = _subprocess([str(HERE / "_nexusim_runner.py"), str(n_cells), str(n_steps)], python)
    result["sim"] = "nexusim"
    result["cell_steps_per_s"] = result["cells"] / result["s_per_step"]
    return result


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"
    except OSError:
        return "load unknown"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few steps (a smoke run)")
    ap.add_argument("--nexus-python", default="/tmp/nexus_venv/bin/python",
                    help="python of a virtual env with nexusim installed")
    ap.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    ap.add_argument("--one", nargs=2, type=int, metavar=("CELLS", "STEPS"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--json", default="", help="write the results to this file")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_ours(args.one[0], args.one[1], args.dtype)))
        return
    print(f"# tissue_bench on {platform.processor() or platform.machine()}, {load()}")
    sizes = [100, 1000] if args.quick else [100, 1000, 10_000, 100_000]
    steps = {100: 100, 1000: 100, 10_000: 40, 100_000: 10}
    if args.quick:
        steps = {100: 20, 1000: 20}
    results = []
    for n in sizes:
        r = _subprocess([__file__, "--one", str(n), str(steps[n]), "--dtype", args.dtype])
        results.append(r)
        print(f"greybox  {n:>7} cells: {r['s_per_step'] * 1e3:9.2f} ms/step  "
              f"{r['cell_steps_per_s']:12.4g} cell-steps/s  peak {r['peak_rss_mb']:7.0f} MB  "
              f"(first call {r['first_call_s']:.1f} s)", flush=True)
    nexus = []
    if Path(args.nexus_python).exists():
        for n, k in ([(9, 3), (100, 3)] if args.quick else [(9, 5), (100, 5), (1000, 3)]):
            try:
                r = run_nexus(args.nexus_python, n, k)
            except Exception as error:  # report, do not fail the benchmark
                print(f"nexusim  {n:>7} cells: failed: {error}")
                continue
            nexus.append(r)
            print(f"nexusim  {r['cells']:>7} cells: {r['s_per_step'] * 1e3:9.2f} ms/step  "
                  f"{r['cell_steps_per_s']:12.4g} cell-steps/s  peak {r['peak_rss_mb']:7.0f} MB",
                  flush=True)
    else:
        print(f"nexusim: no interpreter at {args.nexus_python}; measured ours alone")
    if len(results) >= 2:
        xs = [math.log(r["cells"]) for r in results]
        ys = [math.log(r["s_per_step"]) for r in results]
        slope = (ys[-1] - ys[0]) / (xs[-1] - xs[0])
        print(f"time per step grows as cells^{slope:.2f} from {results[0]['cells']} to "
              f"{results[-1]['cells']} cells")
    ours = {r["cells"]: r for r in results}
    for r in nexus:
        if r["cells"] in ours:
            ratio = ours[r["cells"]]["cell_steps_per_s"] / r["cell_steps_per_s"]
            print(f"at {r['cells']} cells greybox is {ratio:.0f}x nexusim's throughput")
    if args.json:
        Path(args.json).write_text(json.dumps({"ours": results, "nexusim": nexus,
                                               "load": load()}, indent=1))


if __name__ == "__main__":
    main()
