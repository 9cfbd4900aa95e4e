"""TFA (thermodynamics-based FBA, greybox_processes.metabolism.tfa) with GLPK vs HiGHS.

For each model and solver (``add_tfa_constraints(model, solver=...)``; HiGHS through optlang's
``hybrid`` interface), in a fresh subprocess killed after ``--limit`` seconds (GLPK's own time
limit does not stop its MILP search): the FBA optimum (the LP bound of the TFA optimum), the
time to switch the model to the solver, to add the TFA constraints and to solve the MILP, the
status and growth the solver reports, HiGHS's dual bound, and ``tfa_check`` of the solution
(fluxes running against their Gibbs energy). Prints one Markdown table.

``--certify`` adds, per model and solver, a check that does not trust the solver's bound:
growth is forced to at least 0.1 1/h, the MILP solved, the binaries fixed to their rounded
values and the growth LP re-solved; a TFA-feasible growth from it bounds the true optimum
from below.

``--solvers solve_tfa`` runs :func:`~greybox_processes.metabolism.tfa.solve_tfa` (GLPK): the
LP-relaxation bound, the binaries fixed from a loopless optimal flux, and the MILP only where
that point does not reach the bound (with 80% of ``--limit`` as its time limit). Its row gives
the total solve time, the status (``proven``: bound met within 1e-6), the growth and, in the
dual-bound column, the LP bound.

Usage::

    python benchmarks/tfa_solvers.py                               # both models, 300 s limit
    python benchmarks/tfa_solvers.py --models textbook --repeats 5  # e_coli_core only
    python benchmarks/tfa_solvers.py --models iJO1366 --solvers highs --certify
    python benchmarks/tfa_solvers.py --models textbook iJO1366 --solvers solve_tfa
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

MARKER = "TFA_SOLVERS "


def exact_run(model_name: str, time_limit: float) -> dict:
    """Figures of one :func:`solve_tfa` (in this process)."""
    from greybox_processes.metabolism import load_model
    from greybox_processes.metabolism.tfa import add_tfa_constraints, solve_tfa, tfa_check

    model = load_model(model_name)
    fba = model.slim_optimize()
    started = time.perf_counter()
    summary = add_tfa_constraints(model, solver="glpk")
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    result = solve_tfa(model, summary, time_limit=time_limit)
    solve_s = time.perf_counter() - started
    # re-impose the returned point's binaries to check it with tfa_check
    for rid in summary["reactions"]:
        flux, dg = result.fluxes[rid], result.dG[rid]
        value = 1.0 if flux > 1e-7 or (abs(flux) <= 1e-7 and dg < 0) else 0.0
        model.variables[f"z_{rid}"].set_bounds(value, value)
    model.slim_optimize()
    return {"model": model_name, "solver": "solve_tfa", "fba_growth": fba,
            "tfa_reactions": len(summary["reactions"]), "build_s": build_s, "solve_s": solve_s,
            "status": f"{result.status} ({result.method})", "growth": result.objective,
            "dual_bound": result.bound, "gap": result.gap, "stages_s": result.times,
            "against_energy": len(tfa_check(model, summary))}


def one_run(model_name: str, solver: str, certify: bool, limit: float = 300.0) -> dict:
    """Figures of one TFA solve (in this process)."""
    from greybox_processes.metabolism import load_model
    from greybox_processes.metabolism.models import biomass_reaction
    from greybox_processes.metabolism.tfa import add_tfa_constraints, tfa_check

    if solver == "solve_tfa":
        return exact_run(model_name, 0.8 * limit)
    model = load_model(model_name)
    fba = model.slim_optimize()
    started = time.perf_counter()
    summary = add_tfa_constraints(model, solver=solver)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    growth = model.slim_optimize(error_value=float("nan"))
    solve_s = time.perf_counter() - started
    row = {"model": model_name, "solver": solver, "fba_growth": fba,
           "tfa_reactions": len(summary["reactions"]), "build_s": build_s,
           "solve_s": solve_s, "status": model.solver.status, "growth": growth,
           "against_energy": len(tfa_check(model, summary)) if growth == growth else None}
    if solver == "highs":
        problem = model.solver.problem  # HiGHS's bound is in its own sense: times the direction
        row["dual_bound"] = problem.info.mip_dual_bound * problem.direction
    if certify:
        biomass = biomass_reaction(model)
        biomass.lower_bound = 0.1
        started = time.perf_counter()
        forced = model.slim_optimize(error_value=float("nan"))
        row.update(forced_status=model.solver.status, forced_growth=forced,
                   forced_solve_s=time.perf_counter() - started)
        if forced == forced:
            # read every binary before changing any bound (a change discards the solution)
            binaries = {rid: round(model.variables[f"z_{rid}"].primal)
                        for rid in summary["reactions"]}
            for rid, value in binaries.items():
                model.variables[f"z_{rid}"].lb = model.variables[f"z_{rid}"].ub = float(value)
            biomass.lower_bound = 0.0
            row["fixed_binaries_growth"] = model.slim_optimize(error_value=float("nan"))
            row["fixed_binaries_against_energy"] = len(tfa_check(model, summary))
    return row


def in_subprocess(model_name, solver, certify, limit):
    command = [sys.executable, str(Path(__file__).resolve()), "--one", model_name, solver,
               "--limit", str(limit)]
    command += ["--certify"] if certify else []
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"model": model_name, "solver": solver,
                "status": f"did not finish in {limit:.0f} s", "wall_s": limit}
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not lines:
        return {"model": model_name, "solver": solver,
                "status": f"failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"}
    return {**json.loads(lines[-1][len(MARKER):]), "wall_s": time.perf_counter() - started}


def fmt(value, spec=".3f"):
    return "-" if value is None else format(value, spec) if isinstance(value, float) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["textbook", "iJO1366"])
    parser.add_argument("--solvers", nargs="+", default=["glpk", "highs"])
    parser.add_argument("--limit", type=float, default=300.0, help="s per run (hard kill)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per model and solver "
                        "(median solve time)")
    parser.add_argument("--certify", action="store_true")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(MARKER + json.dumps(one_run(*args.one, args.certify, args.limit)), flush=True)
        return 0
    print("| model | solver | FBA growth | TFA reactions | switch + build (s) | MILP solve (s) "
          "| status | growth (1/h) | bound (HiGHS dual; solve_tfa: LP relaxation) "
          "| fluxes against their energy | certify: "
          "forced >= 0.1 (s, growth) -> binaries fixed: growth, against energy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model_name in args.models:
        for solver in args.solvers:
            rows = [in_subprocess(model_name, solver, args.certify, args.limit)
                    for _ in range(args.repeats)]
            row = rows[-1]
            if "solve_s" in row:
                row["solve_s"] = statistics.median(r["solve_s"] for r in rows if "solve_s" in r)
            certify = "-"
            if "forced_status" in row:
                certify = (f"{fmt(row['forced_solve_s'], '.1f')} s, {row['forced_status']} "
                           f"{fmt(row['forced_growth'], '.4f')} -> "
                           f"{fmt(row.get('fixed_binaries_growth'), '.10f')}, "
                           f"{fmt(row.get('fixed_binaries_against_energy'))}")
            print(f"| {model_name} | {solver} | {fmt(row.get('fba_growth'), '.10f')} | "
                  f"{fmt(row.get('tfa_reactions'))} | {fmt(row.get('build_s'), '.2f')} | "
                  f"{fmt(row.get('solve_s'), '.3f')} | {row['status']} | "
                  f"{fmt(row.get('growth'), '.10f')} | {fmt(row.get('dual_bound'), '.10g')} | "
                  f"{fmt(row.get('against_energy'))} | {certify} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
