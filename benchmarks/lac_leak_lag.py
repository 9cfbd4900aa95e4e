"""The lac operon's repressed leak: cells without LacY, single-cell lags and the kernel's speed.

Three measurements (issue 16), nothing fitted:

``glucose``: the stochastic lac kernel alone (no division), 512 cells of 1.5 fL growing at
0.0231/min for 60 min in 10 mM glucose (with and without 0.584 mM lactose, inducer
exclusion): mean counts and the share of cells with no LacY / no LacZ, for each leak
(``ym``: Yildirim-Mackey's mean field; ``single_molecule``: Yu et al. 2006's single
transcripts, 0.022/min per cell) with YM's LacY turnover, and for the single-molecule leak
with the per-species count scales (``counts: single_molecule``, lac/scales.py) and LacY
diluted, not degraded.

``lag``: the E. coli population (``ecoli_population``: PopulationMetabolism on
e_coli_core + lactose, LacOperon, CellCycle, Division) through the glucose -> lactose shift,
with the lac process config given as JSON, against the same population with IPTG: the
population lag (Julou et al. 2020's definition, ``ecoli/lag.py``), the share of cells with no
LacY at glucose exhaustion and the single-cell lags (tier 3's summary).

``speed``: CPU and wall seconds per 1-minute update of the kernel at ``--cells`` cells,
float64, in three states: uninduced in glucose + lactose (YM leak), fully induced in lactose
(lac.py's IPTG steady state), uninduced with the single-molecule leak.

``process``: the LacOperon process alone as benchmarks/RESULTS.md measured it (issue 16):
``--cells`` live cells of 1.5 fL at 0.0231/min in 2048 slots, 0.58 mM lactose and no glucose,
from no lac molecules, ``--warmup`` updates, then the mean over ``--updates`` updates.

    python benchmarks/lac_leak_lag.py glucose
    python benchmarks/lac_leak_lag.py lag --cells 4 --time 420 --lactose-percent 0.02 \\
        --lac-config '{"leak": "single_molecule", "lacy_turnover": "dilution"}'
    python benchmarks/lac_leak_lag.py lag --cells 4 --time 420 --lactose-percent 0.02 0.2 \\
        --counts single_molecule     # = leak single_molecule, dilution, per-species scales
    python benchmarks/lac_leak_lag.py speed --cells 1000
    python benchmarks/lac_leak_lag.py process --cells 1000
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from greybox_processes.lac.kernel import (SPECIES, LacKinetics,  # noqa: E402
                                          concentrations_to_counts, make_lac_operon)

Z, Y = SPECIES.index("lacZ"), SPECIES.index("lacY")
#: The lac config of ``--counts single_molecule``: the measured leak, LacY diluted, and the
#: per-species count scales from measured copy numbers (lac/scales.py).
SINGLE_MOLECULE_COUNTS = {"leak": "single_molecule", "lacy_turnover": "dilution",
                          "counts": "single_molecule"}


def glucose(_args):
    n = 512
    volume, mu, alive = np.full(n, 1.5), np.full(n, 0.0231), np.ones(n, bool)
    print("| lac config | lactose (mM) | mRNA | LacZ | LacY | P(LacY = 0) | P(LacZ = 0) |")
    print("|---|---|---|---|---|---|---|")
    for config in ({"leak": "ym"}, {"leak": "single_molecule"}, SINGLE_MOLECULE_COUNTS):
        leak = json.dumps(config)
        init, step = make_lac_operon(LacKinetics.create(**config))
        for lactose in (0.0, 0.584):
            state = step(init(0, np.zeros((n, len(SPECIES)))), volume, mu, alive, 10.0,
                         lactose, 60.0)
            c = np.asarray(state.counts)
            print(f"| {leak} | {lactose} | {c[:, 0].mean():.3f} | {c[:, Z].mean():.3f} | "
                  f"{c[:, Y].mean():.2f} | {np.mean(c[:, Y] == 0):.3f} | "
                  f"{np.mean(c[:, Z] == 0):.3f} |")


def _run_population(lac_config, *, cells, minutes, lactose, iptg, seed):
    from greybox_processes.ecoli.composites import ecoli_population
    from greybox_processes.framework.division import CapacityError
    from greybox_processes.framework.run import run

    capacity = 256
    while True:
        document = ecoli_population(capacity=capacity, initial_cells=cells, seed=seed,
                                    initial_lactose=lactose, iptg=iptg, lac_config=lac_config)
        try:
            return run(document, minutes, progress=False), capacity
        except CapacityError:
            capacity *= 2


def lag(args):
    from greybox_processes.ecoli.lag import (glucose_exhaustion_index, population_lag,
                                             single_cell_lags)
    from greybox_processes.metabolism.population_process import LACTOSE_MW, percent_to_mM
    from greybox_processes.wcm_hard.tiers.t3_population import lag_summary

    lac_config = json.loads(args.lac_config)
    if args.counts == "single_molecule":
        lac_config = {**SINGLE_MOLECULE_COUNTS, **lac_config}
    for percent in args.lactose_percent:
        lactose = percent_to_mM(percent, LACTOSE_MW)
        started = time.perf_counter()
        experiment, slots = _run_population(lac_config, cells=args.cells, minutes=args.time,
                                            lactose=lactose, iptg=False, seed=args.seed)
        reference, _ = _run_population(lac_config, cells=args.cells, minutes=args.time,
                                       lactose=lactose, iptg=True, seed=args.seed)
        wall = time.perf_counter() - started
        result = population_lag(experiment, reference)
        table = single_cell_lags(experiment, lacy_index=Y)
        summary = lag_summary(table)
        lags = table["lag_min"].to_numpy(dtype=float)
        none = table["lacy_at_shift"].to_numpy(dtype=float) == 0
        shift = glucose_exhaustion_index(experiment)
        slots_at_shift = table["slot"].to_numpy()
        no_lacz = np.asarray(experiment["cells.lac"].values[shift, slots_at_shift, Z]) == 0
        record = {
            "lac_config": lac_config, "lactose_percent": percent, "initial_cells": args.cells,
            "minutes": args.time, "slots": slots, "wall_s": round(wall, 1),
            "population_lag_min": result.lag_min, "delay_start_min": result.delay_start_min,
            "delay_plateau_min": result.delay_plateau_min, "arrest_min": result.arrest_min,
            "lags_min_no_lacy": np.sort(lags[none]).tolist(),
            "lags_min_with_lacy": np.sort(lags[~none]).tolist(),
            "lacy_at_shift_quartiles": np.percentile(table["lacy_at_shift"], [25, 50, 75]).tolist(),
            "share_no_lacz_at_shift": float(np.mean(no_lacz)),
            "recovered_no_lacz": int(np.sum(no_lacz & np.isfinite(lags))),
            "recovered_with_lacz": int(np.sum(~no_lacz & np.isfinite(lags))),
            "cells_with_lacz_at_shift": int(np.sum(~no_lacz)),
            **summary}
        print(json.dumps(record))


def speed(args):
    from greybox_processes.metabolism.lac import LacParameters, integrate_lac

    n = args.cells
    volume, mu, alive = np.full(n, 1.5), np.full(n, 0.0231), np.ones(n, bool)
    induced = integrate_lac(np.zeros(8), 300.0, 0.0, 0.584, 0.0231, LacParameters.from_sbml(),
                            iptg=True)
    cases = (("uninduced, glucose + lactose, ym leak", {}, None, 10.0),
             ("fully induced, lactose", {}, concentrations_to_counts(induced, 1.5), 0.0),
             ("uninduced, glucose + lactose, single-molecule leak",
              {"leak": "single_molecule"}, None, 10.0))
    print(f"| state ({n} cells) | CPU s per update | wall s per update |")
    print("|---|---|---|")
    for name, kwargs, start, glc in cases:
        init, step = make_lac_operon(LacKinetics.create(**kwargs))
        counts = np.zeros((n, len(SPECIES))) if start is None else np.tile(start, (n, 1))
        state = init(1, counts)
        for _ in range(args.warmup):
            state = step(state, volume, mu, alive, glc, 0.584, 1.0)
        state.counts.block_until_ready()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.updates):
            state = step(state, volume, mu, alive, glc, 0.584, 1.0)
        state.counts.block_until_ready()
        print(f"| {name} | {(time.process_time() - cpu) / args.updates:.3f} | "
              f"{(time.perf_counter() - wall) / args.updates:.3f} |")


def process(args):
    from greybox_processes.framework.registry import default_core
    from greybox_processes.lac.process import LacOperon

    slots, n = 2048, args.cells
    alive = (np.arange(slots) < n).astype(float)
    print(f"| LacOperon, {n} live cells in {slots} slots | CPU s per update | wall s per update |")
    print("|---|---|---|")
    for config in ({}, {"leak": "single_molecule"}):
        lac = LacOperon({"capacity": slots, "initial_cells": n, **config}, core=default_core())
        state = {"lac": np.zeros((slots, len(SPECIES))), "volume": np.where(alive > 0, 1.5, 0.0),
                 "growth_rate": np.where(alive > 0, 0.0231, 0.0), "alive": alive,
                 "glucose": 0.0, "lactose": 0.58}
        for _ in range(args.warmup):
            state["lac"] = state["lac"] + lac.update(state, 1.0)["lac"]
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.updates):
            state["lac"] = state["lac"] + lac.update(state, 1.0)["lac"]
        print(f"| {config or 'default (ym leak)'} | {(time.process_time() - cpu) / args.updates:.3f} "
              f"| {(time.perf_counter() - wall) / args.updates:.3f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("glucose")
    p_lag = sub.add_parser("lag")
    p_lag.add_argument("--cells", type=int, default=4, help="initial cells")
    p_lag.add_argument("--time", type=float, default=420.0, help="minutes")
    p_lag.add_argument("--lactose-percent", type=float, nargs="+", default=[0.02, 0.2])
    p_lag.add_argument("--lac-config", default="{}", help="lac process config, JSON")
    p_lag.add_argument("--seed", type=int, default=0)
    p_lag.add_argument("--counts", choices=("ym", "single_molecule"), default="ym",
                       help="single_molecule: the per-species count scales with the measured "
                            "leak and LacY dilution (overridden by --lac-config keys)")
    p_speed = sub.add_parser("speed")
    p_speed.add_argument("--cells", type=int, default=1000)
    p_speed.add_argument("--warmup", type=int, default=20, help="updates before timing")
    p_speed.add_argument("--updates", type=int, default=10)
    p_process = sub.add_parser("process")
    p_process.add_argument("--cells", type=int, default=1000)
    p_process.add_argument("--warmup", type=int, default=20, help="updates before timing")
    p_process.add_argument("--updates", type=int, default=20)
    args = parser.parse_args()
    {"glucose": glucose, "lag": lag, "speed": speed, "process": process}[args.mode](args)


if __name__ == "__main__":
    main()
