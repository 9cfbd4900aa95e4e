"""Speed of the grey-box E. coli population through the diauxic shift: throughput, per-process cost.

Runs :func:`greybox_processes.ecoli.cells.ecoli_grey_box` (iJO1366, ``method: etfl`` by default:
PopulationMetabolism, LacOperon, PopulationController, CellCycle, Division, RegulatorActivity and
EcoliTranscriptome: the stress response and the 3923-gene expression) at a few population
sizes, each in a fresh Python process (so its peak memory and its one-off start-up are its own),
and prints a Markdown table per size:

* throughput: cell-hours simulated per wall second, the sum over the intervals of the live cells
  times the interval (h), over the wall time of those intervals. The first interval is left out
  of both and reported on its own with the start-up (model load, building the composite, the
  lac operon's JAX compile for this capacity): it is paid once per run;
* each process's wall time per step (its ``update`` timed by wrapping the class method), for
  the metabolism split into the glucose phase and the lactose phase (glucose below 1% of its
  initial value), because its cost differs between them;
* peak resident memory of the run's process (``resource.getrusage`` max RSS).

Each size starts ``initial_biomass`` high enough that glucose runs out inside its short run
(the medium is a batch culture: the population grows, its biomass consumes the glucose, then
the lactose), so both phases are measured. From the steady per-step costs at ~1000 cells it
prints a projection (labelled as such) for issue 16's target, 1000 cells x 9 h in <= 5 min on
2 cores: 540 one-minute steps at ~1000 live cells = 9000 cell-hours, i.e. 30 cell-hours per
wall second, or <= 0.556 s per step.

    python benchmarks/ecoli_population_speed.py                     # 1e2, 1e3, 1e4 cells
    python benchmarks/ecoli_population_speed.py --sizes 1000:30:2000:0.09   # 1e3 again
    python benchmarks/ecoli_population_speed.py --sizes 8:540:1024:0.001    # 9 h, real run
    python benchmarks/ecoli_population_speed.py --one 100 20 200 0.02   # one size, JSON line
    python benchmarks/ecoli_population_speed.py --sizes 1000:30:2000:0.09 --baseline-fba ee7aa22
    python benchmarks/ecoli_population_speed.py --sizes 1000:30:2000:0.09 --compare-glass

``--compare-glass`` runs every size with ``ecoli_glass_box`` too (the same population, seed and
medium; its lac operon regulates itself, no controller), alternating with the grey box so both
see the same machine load, and prints the grey box's whole step over the glass box's (issue 18:
a grey-box step no more than 2x a glass-box step).

``--sizes`` takes ``initial_cells:minutes:capacity:initial_biomass`` per size.
``--baseline-fba REV`` runs every size a second time with the metabolism's
``solve_population`` taken from git revision ``REV`` (see ``lp_solvers.baseline_module``),
and prints the metabolism's cost per step and LPs per update before (``REV``) and after
(this tree), with their ratio.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time as wallclock
from collections import defaultdict

#: initial cells : minutes : capacity : initial biomass (gDW/L), the biomass chosen so that glucose
#: runs out inside the run (0.005% glucose lasts ~4 doublings from 0.001 gDW/L; measured uptake
#: ~11 mmol/gDW/h), the capacity ~1.5-2x the cells reached
DEFAULT_SIZES = ["100:120:500:0.015", "1000:30:2000:0.09", "10000:10:16000:0.3"]
#: issue 16: 1000 cells x 9 h (540 one-minute steps) in at most 5 minutes of wall time
TARGET_CELLS, TARGET_MINUTES, TARGET_WALL_S = 1000, 540.0, 300.0
PROCESSES = ("metabolism", "lac", "controller", "cycle", "division", "stress", "transcriptome")
GLUCOSE_GONE = 0.01  # fraction of the initial glucose below which a step is "lactose phase"


def _timed_classes():
    """{node name: process class} of the grey box's seven processes."""
    from greybox_processes.cellcycle.process import CellCycle
    from greybox_processes.ecoli.stress import RegulatorActivity
    from greybox_processes.framework.population import Division
    from greybox_processes.grn.transcriptome_process import EcoliTranscriptome
    from greybox_processes.lac.process import LacOperon
    from greybox_processes.metabolism.population_process import PopulationMetabolism
    from greybox_processes.neural.population_controller import PopulationController
    return {"metabolism": PopulationMetabolism, "lac": LacOperon,
            "controller": PopulationController, "cycle": CellCycle, "division": Division,
            "stress": RegulatorActivity, "transcriptome": EcoliTranscriptome}


def _wrap_updates(calls):
    """Time every ``update`` of the seven classes into ``calls[name]`` as (start, seconds)."""
    for name, cls in _timed_classes().items():
        original = cls.update

        def timed(self, *args, _original=original, _name=name, **kwargs):
            started = wallclock.perf_counter()
            result = _original(self, *args, **kwargs)
            calls[_name].append((started, wallclock.perf_counter() - started))
            return result
        cls.update = timed


def _count_lps(fba_revision, lp_counts):
    """The metabolism's ``solve_population`` (from ``fba_revision``, or this tree's) wrapped
    to append each update's LP count to ``lp_counts``."""
    import greybox_processes.metabolism.population_process as process_module

    solve = process_module.solve_population
    if fba_revision:
        from lp_solvers import baseline_module

        solve = baseline_module(fba_revision).solve_population

    def counting(model, exchanges, bounds, **kwargs):
        result = solve(model, exchanges, bounds, **kwargs)
        if len(bounds) > 1:  # the updates, not the one-row pre-culture checks
            lp_counts.append(result.lp_count)
        return result
    process_module.solve_population = counting


def run_one(cells: int, minutes: float, capacity: int, biomass: float, model: str,
            method: str, seed: int, fba_revision: str | None = None, box: str = "grey") -> dict:
    """Run one size and measure it (call in a fresh process: peak RSS is process-wide)."""
    import numpy as np

    import greybox_processes as gb
    from greybox_processes.ecoli.cells import ecoli_glass_box, ecoli_grey_box

    calls, lp_counts = defaultdict(list), []
    _wrap_updates(calls)
    _count_lps(fba_revision, lp_counts)
    builder = {"grey": ecoli_grey_box, "glass": ecoli_glass_box}[box]
    document = builder(capacity=capacity, initial_cells=cells, initial_biomass=biomass,
                       model=model, method=method, seed=seed)
    started = wallclock.perf_counter()
    ds = gb.run(document, minutes, progress=False)
    ended = wallclock.perf_counter()
    # the metabolism runs once per interval, first: its start times mark the intervals
    marks = np.array([t for t, _ in calls["metabolism"]])
    steady_from = marks[1]
    live = (ds["cells.alive"].values > 0.5).sum(axis=1)       # at each emitted time
    times = ds["time"].values
    glucose = ds["medium.glucose"].values
    steps = len(marks)
    interval_h = float(times[1] - times[0]) / 60.0
    # interval k runs from emitted time k with live[k] cells (k = 1 .. steps - 1: steady)
    steady_cell_h = float(live[1:steps].sum()) * interval_h
    lactose_phase = glucose[:steps] < GLUCOSE_GONE * glucose[0]
    per_step = {}
    for name in PROCESSES:
        record = calls[name]
        steady = [d for t, d in record if t >= steady_from]
        per_step[name] = sum(steady) / (steps - 1)
    metabolism = np.array([d for _, d in calls["metabolism"]])
    shift = times[:steps][lactose_phase]
    lps = np.array(lp_counts[-(steps - 1):], dtype=float)  # the steady updates'
    phase = lactose_phase[1:steps][-len(lps):]
    return {
        "box": box, "fba": fba_revision or "this tree",
        "lps_glucose": float(lps[~phase].mean()) if (~phase).any() else None,
        "lps_lactose": float(lps[phase].mean()) if phase.any() else None,
        "cells": cells, "minutes": minutes, "capacity": capacity, "biomass": biomass,
        "model": model, "method": method, "final_cells": int(live[-1]),
        "mean_cells": float(live[1:steps].mean()),
        "shift_min": float(shift[0]) if shift.size else None,
        "glucose_end_mM": float(glucose[-1]),
        "one_off_s": float(steady_from - started),
        "steady_wall_s": float(ended - steady_from), "steady_cell_h": steady_cell_h,
        "steps": steps, "per_step_s": per_step,
        "metabolism_glucose_s": float(metabolism[1:][~lactose_phase[1:]].mean())
        if (~lactose_phase[1:]).any() else None,
        "metabolism_lactose_s": float(metabolism[1:][lactose_phase[1:]].mean())
        if lactose_phase[1:].any() else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _fmt(value, spec=".2f"):
    return "-" if value is None else format(value, spec)


def report(results: list[dict]) -> None:
    """Markdown tables: throughput and memory, per-process cost, scaling, the projection."""
    print("| cells (start -> end) | population_fba | minutes | capacity | gDW/L | glucose gone "
          "at (min) | one-off: load + build + JIT + 1st step (s) | steady wall (s) | cell-hours "
          "| cell-hours per wall s | wall s per cell-hour | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rate = r["steady_cell_h"] / r["steady_wall_s"]
        print(f"| {r['cells']} -> {r['final_cells']} | "
              f"{r.get('box', 'grey')} box, {r.get('fba', 'this tree')} | "
              f"{r['minutes']:g} | {r['capacity']} | "
              f"{r['biomass']:g} | {_fmt(r['shift_min'], '.0f')} | {r['one_off_s']:.1f} | "
              f"{r['steady_wall_s']:.1f} | {r['steady_cell_h']:.1f} | {rate:.2f} | "
              f"{1 / rate:.3f} | {r['peak_rss_mb']:.0f} |")
    print()
    print("Per step (s, steady steps, mean live cells):")
    print()
    print("| mean live cells | population_fba | " + " | ".join(PROCESSES) +
          " | metabolism, glucose phase | metabolism, lactose phase | LPs per update (glucose "
          "/ lactose phase) | sum of processes | whole step (incl. engine) |")
    print("|---" * (len(PROCESSES) + 7) + "|")
    for r in results:
        total = sum(r["per_step_s"].values())
        whole = r["steady_wall_s"] / (r["steps"] - 1)
        print(f"| {r['mean_cells']:.0f} | {r.get('fba', 'this tree')} | " +
              " | ".join(f"{r['per_step_s'][p]:.3f}" for p in PROCESSES) +
              f" | {_fmt(r['metabolism_glucose_s'], '.3f')} | "
              f"{_fmt(r['metabolism_lactose_s'], '.3f')} | {_fmt(r.get('lps_glucose'), '.1f')}"
              f" / {_fmt(r.get('lps_lactose'), '.1f')} | {total:.3f} | {whole:.3f} |")
    print()
    for before, after in zip(results, results[1:]):
        if before.get("fba", "this tree") != "this tree" and after.get("fba") == "this tree":
            ratio = before["per_step_s"]["metabolism"] / after["per_step_s"]["metabolism"]
            print(f"metabolism per step, {after['mean_cells']:.0f} mean cells: "
                  f"{before['per_step_s']['metabolism']:.3f} s ({before['fba']}) -> "
                  f"{after['per_step_s']['metabolism']:.3f} s (this tree), {ratio:.1f}x faster")
    for grey, glass in zip(results, results[1:]):
        if grey.get("box", "grey") == "grey" and glass.get("box") == "glass":
            steps = [r["steady_wall_s"] / (r["steps"] - 1) for r in (grey, glass)]
            print(f"grey-box step / glass-box step, {grey['mean_cells']:.0f} / "
                  f"{glass['mean_cells']:.0f} mean cells: {steps[0]:.3f} / {steps[1]:.3f} s = "
                  f"{steps[0] / steps[1]:.2f}x (issue 18: <= 2x); controller "
                  f"{grey['per_step_s']['controller']:.3f} s, lac {grey['per_step_s']['lac']:.3f}"
                  f" vs {glass['per_step_s']['lac']:.3f} s")
    results = [r for r in results if r.get("fba", "this tree") == "this tree"
               and r.get("box", "grey") == "grey"]
    print()
    for r in results:  # issue 17: the 3923-gene expression must not dominate the step
        whole = r["steady_wall_s"] / (r["steps"] - 1)
        print(f"expression (stress + transcriptome), {r['mean_cells']:.0f} mean cells: "
              f"{r['per_step_s']['stress'] + r['per_step_s']['transcriptome']:.4f} s of a "
              f"{whole:.3f} s step = "
              f"{(r['per_step_s']['stress'] + r['per_step_s']['transcriptome']) / whole:.1%}")
    print()
    for small, large in zip(results, results[1:]):
        cost = [r["steady_wall_s"] / r["steady_cell_h"] for r in (small, large)]
        print(f"scaling {small['mean_cells']:.0f} -> {large['mean_cells']:.0f} mean cells: wall per "
              f"cell-hour x{cost[1] / cost[0]:.2f} (<= 1: no worse than linear in cells)")
    near = min(results, key=lambda r: abs(r["mean_cells"] - TARGET_CELLS))
    whole = near["steady_wall_s"] / (near["steps"] - 1)
    others = whole - near["per_step_s"]["metabolism"]
    phases = [near[k] for k in ("metabolism_glucose_s", "metabolism_lactose_s") if near[k]]
    budget = TARGET_WALL_S / TARGET_MINUTES
    print(f"\nPROJECTION (not a run) for {TARGET_CELLS} cells x {TARGET_MINUTES:g} min, from the "
          f"{near['mean_cells']:.0f}-cell run's steady steps: {whole:.3f} s/step x "
          f"{TARGET_MINUTES:g} steps + one-off {near['one_off_s']:.0f} s = "
          f"{whole * TARGET_MINUTES + near['one_off_s']:.0f} s (target {TARGET_WALL_S:g} s, "
          f"i.e. {budget:.3f} s/step or {TARGET_CELLS * TARGET_MINUTES / 60 / TARGET_WALL_S:.0f} "
          f"cell-hours per wall s); range by phase "
          + ", ".join(f"{(others + m) * TARGET_MINUTES + near['one_off_s']:.0f} s" for m in phases)
          + " (all steps at the glucose-phase / lactose-phase metabolism cost)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES,
                        help="initial_cells:minutes:capacity:initial_biomass per size")
    parser.add_argument("--one", nargs=4, metavar=("CELLS", "MINUTES", "CAPACITY", "BIOMASS"),
                        help="run one size in this process and print its JSON line")
    parser.add_argument("--model", default="iJO1366")
    parser.add_argument("--method", default="etfl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fba-revision", help="with --one: the metabolism's "
                        "solve_population from this git revision")
    parser.add_argument("--baseline-fba", metavar="REV", help="run every size also with "
                        "solve_population from git revision REV, before this tree's")
    parser.add_argument("--box", choices=("grey", "glass"), default="grey",
                        help="with --one: the composite (ecoli_grey_box or ecoli_glass_box)")
    parser.add_argument("--compare-glass", action="store_true",
                        help="run every size with the glass box too and print the step ratio")
    args = parser.parse_args()
    if args.one:
        cells, minutes, capacity, biomass = args.one
        result = run_one(int(cells), float(minutes), int(capacity), float(biomass), args.model,
                         args.method, args.seed, args.fba_revision, args.box)
        print("RESULT " + json.dumps(result), flush=True)
        return
    results = []
    for size in args.sizes:
        cells, minutes, capacity, biomass = size.split(":")
        runs = [(revision, "grey") for revision in
                ([args.baseline_fba] if args.baseline_fba else []) + [None]]
        runs += [(None, "glass")] if args.compare_glass else []
        for revision, box in runs:
            command = [sys.executable, __file__, "--one", cells, minutes, capacity, biomass,
                       "--model", args.model, "--method", args.method, "--seed",
                       str(args.seed), "--box", box] + \
                (["--fba-revision", revision] if revision else [])
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not lines:
                sys.exit(f"size {size} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
            results.append(json.loads(lines[-1][len("RESULT "):]))
            print(f"# done {size} ({box} box, {revision or 'this tree'}): "
                  f"{results[-1]['steady_wall_s']:.1f} s steady", file=sys.stderr, flush=True)
    report(results)


if __name__ == "__main__":
    main()
