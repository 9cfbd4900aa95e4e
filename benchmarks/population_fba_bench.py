"""Population FBA: per-cell LPs vs the shared method (identical rows + parametric), iJO1366.

One population step of the diauxic shift: glucose bound shared (Michaelis-Menten at
``--glucose-mM``, uptake.py), lactose bound from each cell's integer LacY count
(fully induced uptake at ``--lactose-mM`` scaled by count / ``--induced-lacy``), oxygen capped at
its Mahadevan et al. 2002 uptake at 0.2 mM, so that growth has breakpoints (carbon- vs
oxygen-limited) inside the range. LacY counts: a quarter of the cells have none (the
long-lag cells of Julou et al. 2020), the rest Poisson around ``--induced-lacy``/2.

For each population size it solves every cell's LP (the reference) and the shared method,
both for growth alone and for the staged LP (growth, least carbon uptake, unique tracked
fluxes), and prints a Markdown table: LPs, wall times, speed-up, largest differences.
Usage::

    python benchmarks/population_fba_bench.py [--cells 100 1000] [--model iJO1366]
"""
from __future__ import annotations

import argparse
import platform
import time


def population_bounds(rng, n_cells, glucose_mM, lactose_mM, induced_lacy):
    """(n_cells, 2) uptake bounds (mmol/gDW/h) for glucose and lactose."""
    import numpy as np

    from greybox_processes.metabolism.uptake import DEFAULT_KINETICS, uptake_bound

    lacy = rng.poisson(induced_lacy / 2, n_cells)
    lacy[rng.random(n_cells) < 0.25] = 0
    glucose = uptake_bound(DEFAULT_KINETICS["EX_glc__D_e"], glucose_mM)
    lactose = uptake_bound(DEFAULT_KINETICS["EX_lcts_e"], lactose_mM) * \
        np.minimum(lacy / induced_lacy, 1.0)
    return np.column_stack([np.full(n_cells, glucose), lactose])


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--model", default="iJO1366")
    parser.add_argument("--glucose-mM", type=float, default=0.005)
    parser.add_argument("--lactose-mM", type=float, default=5.0)
    parser.add_argument("--induced-lacy", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()

    import numpy as np

    from greybox_processes.metabolism import load_model
    from greybox_processes.metabolism.population_fba import solve_each_cell, solve_population
    from greybox_processes.metabolism.uptake import DEFAULT_KINETICS, uptake_bound

    model = load_model(args.model)
    model.reactions.EX_o2_e.lower_bound = -uptake_bound(DEFAULT_KINETICS["EX_o2_e"], 0.2)
    exchanges = ["EX_glc__D_e", "EX_lcts_e"]
    rng = np.random.default_rng(args.seed)
    print(f"model {model.id}, solver {type(model.solver).__module__}, "
          f"{platform.processor() or platform.machine()}, seed {args.seed}\n")
    print("| cells | LP | distinct rows | LPs per-cell | LPs shared | points shared | "
          "wall per-cell (s) | wall shared (s) | speed-up | max growth diff (1/h) | "
          "max flux diff (mmol/gDW/h) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n_cells in args.cells:
        bounds = population_bounds(rng, n_cells, args.glucose_mM, args.lactose_mM,
                                   args.induced_lacy)
        for label, options in (("growth only", {"min_uptake": False, "unique_fluxes": False}),
                               ("staged (unique fluxes)", {})):
            each, t_each = timed(solve_each_cell, model, exchanges, bounds, **options)
            shared, t_shared = timed(solve_population, model, exchanges, bounds, **options)
            growth_diff = float(np.max(np.abs(shared.growth - each.growth)))
            flux_diff = f"{float(np.nanmax(np.abs(shared.fluxes - each.fluxes))):.1e}" \
                if options == {} else "- (alternative optima)"
            print(f"| {n_cells} | {label} | {shared.distinct_rows} | {each.lp_count} | "
                  f"{shared.lp_count} | {shared.points_solved} | {t_each:.2f} | "
                  f"{t_shared:.3f} | {t_each / t_shared:.0f}x | {growth_diff:.1e} | "
                  f"{flux_diff} |", flush=True)


if __name__ == "__main__":
    main()
