"""Thermodynamics-based flux analysis (TFA): every flux runs down its Gibbs energy.

The formulation of Henry et al. 2007 (Biophys J 92:1792), as pyTFA and ETFL use it, over the
reactions :func:`~.thermo.reaction_gibbs` covers, written with chemical potentials:

* a variable ``mu_i = dfG'0_i + e_i + RT ln c_i`` (kJ/mol) per metabolite of those reactions,
  bounded by ``c`` in ``[c_min, c_max]`` and the estimate's error ``e_i`` in
  ``[-sigma_i, sigma_i]`` (one standard error); water at unit activity with ``e = 0``;
  protons are absorbed by the transform at the pH;
* ``dG'_j = sum_i s_ij mu_i``;
* a binary ``z_j`` per reaction, ``v_j <= U_j z_j``, ``v_j >= L_j (1 - z_j)``,
  ``dG'_j <= K (1 - z_j) - eps`` and ``dG'_j >= eps - K z_j``: forward flux only with
  ``dG' < 0``, reverse flux only with ``dG' > 0``.

Errors sit on metabolites, not reactions, so the energies around any cycle of covered reactions
sum to exactly zero: TFA removes internal cycles among them (a cycle would need a net energy
that is zero and negative at once). Reactions the estimates say cannot run in their curated
direction (``conflict`` in :func:`~.thermo.apply_gibbs_directions`) and estimates larger than
``K / 2`` in magnitude are left out, and listed in the returned summary. This is a
mixed-integer problem: well under a second on e_coli_core, far longer on genome-scale models.

Solver (``solver=``, :data:`SOLVERS`): ``'glpk'`` (the default) or ``'highs'`` (HiGHS through
optlang's ``hybrid`` interface; needs ``highspy`` and ``osqp``). Both reach the same optimum
on e_coli_core (GLPK as fast or faster there). On iJO1366 HiGHS 1.11 returns "optimal" within a
minute but at growth 0 with a dual bound of 0, although a TFA-feasible solution at the FBA
optimum (0.982 1/h) exists, and GLPK does not finish in 300 s (benchmarks/tfa_solvers.py,
benchmarks/RESULTS.md): neither is an exact genome-scale TFA solver here, so the default stays
GLPK and a HiGHS optimum below the FBA optimum must be checked (``--certify`` there).

:func:`solve_tfa` solves it exactly without trusting either MILP solver where it can: the LP
relaxation bounds the optimum; fixing every direction binary to the direction of a loopless
optimal flux (and each idle reaction's binary to the sign of its Gibbs energy) leaves an LP
whose solution is TFA-feasible; where that point reaches the bound it is proven optimal
(iJO1366: benchmarks/tfa_solvers.py ``--solvers solve_tfa``). Otherwise it falls back to the
MILP with a time limit and reports the remaining gap.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from cobra.exceptions import Infeasible, OptimizationError
from cobra.flux_analysis import loopless_solution

from .thermo import R_KJ, base_id, formation_energies, formation_sigma, reaction_gibbs

__all__ = ["SOLVERS", "TFAResult", "TFATimeout", "add_tfa_constraints", "solve_tfa",
           "tfa_check"]

logger = logging.getLogger(__name__)

#: TFA's solvers by name -> the optlang interface cobra switches the model to
SOLVERS = {"glpk": "glpk", "highs": "hybrid"}

_K = 1000.0  # kJ/mol: big-M of the Gibbs-energy rows
_EPS = 1e-3  # kJ/mol: smallest |dG'| that drives a flux


def add_tfa_constraints(model, *, table=None, pH: float = 7.0, ionic_strength: float = 0.25,
                        temperature: float = 298.15, c_min: float = 1e-6,
                        c_max: float = 1e-2, solver: str = "glpk") -> dict:
    """Add TFA variables and constraints to ``model`` (context-aware: use ``with model:``).

    ``c_min``/``c_max`` bound every concentration (M), ``temperature`` in K, ``ionic_strength``
    in M. ``solver`` (a key of :data:`SOLVERS`) switches the model's solver first where it is
    another one (also undone on leaving ``with model:``).

    Returns a summary: ``reactions`` constrained, ``left_out`` (``{reaction: why}``),
    ``metabolites`` with a potential variable, ``table`` (the Gibbs table) and ``solver``.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {sorted(SOLVERS)} (TFA's MILP solvers), got "
                         f"{solver!r}")
    if model.solver.interface.__name__ != f"optlang.{SOLVERS[solver]}_interface":
        model.solver = SOLVERS[solver]  # a copy of the problem on the other interface
    if table is None:
        table = reaction_gibbs(model, pH=pH, ionic_strength=ionic_strength,
                               temperature=temperature, c_min=c_min, c_max=c_max)
    dgf = formation_energies(pH, ionic_strength, temperature)
    sigma = formation_sigma()
    rt = R_KJ * temperature
    problem = model.problem
    potential, added, constrained, left_out = {}, [], [], {}

    def mu(met):
        if met.id not in potential:
            base = base_id(met)
            centre = float(dgf[base])
            if base == "h2o":
                low = high = centre
            else:
                spread = float(sigma[base])
                low = centre + rt * math.log(c_min) - spread
                high = centre + rt * math.log(c_max) + spread
            potential[met.id] = problem.Variable(f"mu_{met.id}", lb=low, ub=high)
            added.append(potential[met.id])
        return potential[met.id]

    for rid, row in table.iterrows():
        if not np.isfinite(row["dG0_prime"]):
            continue
        reaction = model.reactions.get_by_id(rid)
        if abs(row["dG0_prime"]) > _K / 2:
            left_out[rid] = f"|dG'0| = {abs(row['dG0_prime']):.0f} kJ/mol is implausible"
            continue
        if (row["direction"] == "forward" and reaction.upper_bound <= 0) or \
                (row["direction"] == "reverse" and reaction.lower_bound >= 0):
            left_out[rid] = "curated direction contradicts the estimate"
            continue
        terms = [s * mu(met) for met, s in reaction.metabolites.items() if base_id(met) != "h"]
        dg = problem.Variable(f"dG_{rid}", lb=-2 * _K, ub=2 * _K)
        z = problem.Variable(f"z_{rid}", type="binary")
        upper, lower = max(reaction.upper_bound, 0.0), min(reaction.lower_bound, 0.0)
        added += [dg, z,
                  problem.Constraint(dg - sum(terms), lb=0.0, ub=0.0, name=f"dGdef_{rid}"),
                  problem.Constraint(reaction.flux_expression - upper * z, ub=0.0,
                                     name=f"fwd_{rid}"),
                  problem.Constraint(reaction.flux_expression + lower * z, lb=lower,
                                     name=f"rev_{rid}"),
                  problem.Constraint(dg + _K * z, ub=_K - _EPS, name=f"dGfwd_{rid}"),
                  problem.Constraint(dg + _K * z, lb=_EPS, name=f"dGrev_{rid}")]
        constrained.append(rid)
    model.add_cons_vars(added)
    return {"reactions": constrained, "left_out": left_out, "metabolites": sorted(potential),
            "table": table, "solver": solver}


def tfa_check(model, summary, tolerance: float = 1e-6) -> list:
    """Reactions of the current solution whose flux runs against its Gibbs energy (none if
    the TFA constraints hold): ``[(reaction, flux, dG')]``."""
    bad = []
    variables = model.variables
    for rid in summary["reactions"]:
        flux = model.reactions.get_by_id(rid).flux
        dg = variables[f"dG_{rid}"].primal
        if (flux > tolerance and dg >= 0) or (flux < -tolerance and dg <= 0):
            bad.append((rid, flux, dg))
    return bad


class TFATimeout(OptimizationError):
    """The TFA MILP reached its time limit without any TFA-feasible solution."""


@dataclass
class TFAResult:
    """A TFA solution and how far it is proven.

    ``status``: ``'proven'`` (``bound - objective <= tolerance``, whatever solver ran),
    ``'solver_optimal'`` (the MILP solver says optimal; ``gap`` is against the LP bound, not
    the solver's own bound), or ``'time_limit'`` (the best solution found, ``gap`` open).
    ``objective`` and ``bound`` in the objective's unit (1/h for growth); ``bound`` is the LP
    relaxation's optimum (an upper bound when maximizing, lower when minimizing).
    ``method``: ``'fixed_directions'`` (the LP with the binaries fixed) or ``'milp'``.
    ``fluxes`` (mmol/gDW/h), ``dG`` (kJ/mol, per constrained reaction), ``potentials``
    (kJ/mol, per metabolite); ``times`` in s per stage.
    """

    status: str
    objective: float
    bound: float
    gap: float
    method: str
    fluxes: pd.Series
    dG: pd.Series
    potentials: pd.Series
    times: dict = field(default_factory=dict)


def classify(bound: float, objective: float, tolerance: float, maximize: bool) -> tuple:
    """``(proven, gap)``: the gap between the bound and a feasible objective (>= 0 up to
    rounding) and whether it is within ``tolerance`` (absolute, the objective's unit)."""
    gap = (bound - objective) if maximize else (objective - bound)
    return gap <= tolerance, gap


def _snapshot(model, summary):
    variables = model.variables
    fluxes = pd.Series({r.id: r.flux for r in model.reactions})
    dg = pd.Series({rid: variables[f"dG_{rid}"].primal for rid in summary["reactions"]})
    mu = pd.Series({m: variables[f"mu_{m}"].primal for m in summary["metabolites"]})
    return fluxes, dg, mu


def _set_binaries(model, summary, continuous: bool):
    for rid in summary["reactions"]:
        model.variables[f"z_{rid}"].type = "continuous" if continuous else "binary"


def _fix(model, summary, values):
    for rid in summary["reactions"]:
        z = model.variables[f"z_{rid}"]
        low, high = (0.0, 1.0) if values is None else (values[rid], values[rid])
        z.set_bounds(low, high)


def _directions(model, summary, fluxes, tolerance):
    """Binaries from a loopless flux vector: 1 forward, 0 reverse; for idle reactions the
    sign of dG' in an LP with those fluxes' directions fixed and the idle fluxes at 0."""
    busy = {rid: float(fluxes[rid] > 0) for rid in summary["reactions"]
            if abs(fluxes[rid]) > tolerance}
    with model:
        for rid in summary["reactions"]:
            if rid not in busy:
                model.reactions.get_by_id(rid).bounds = (0.0, 0.0)
        _fix(model, summary, None)
        for rid, value in busy.items():
            model.variables[f"z_{rid}"].set_bounds(value, value)
        model.slim_optimize(error_value=float("nan"))
        if model.solver.status != "optimal":
            return None
        dg = {rid: model.variables[f"dG_{rid}"].primal for rid in summary["reactions"]}
    return {rid: busy.get(rid, float(dg[rid] < 0)) for rid in summary["reactions"]}


def _milp(model, summary, time_limit):
    """The MILP with every binary free: (status, objective or nan)."""
    _fix(model, summary, None)
    model.solver.configuration.timeout = max(1, int(math.ceil(time_limit)))
    objective = model.slim_optimize(error_value=float("nan"))
    return model.solver.status, objective


def solve_tfa(model, summary, *, tolerance: float = 1e-6, flux_tolerance: float = 1e-7,
              time_limit: float = 300.0, heuristic: bool = True) -> TFAResult:
    """Optimize ``model``'s objective under the TFA constraints ``summary`` describes.

    ``model`` carries the constraints of :func:`add_tfa_constraints` (``summary`` is what it
    returned); it is left as it was (binaries free and binary), holding the returned
    solution's problem only where the last solve was the returned one.
    ``tolerance``: absolute, objective unit, for calling the bound reached; ``flux_tolerance``
    (mmol/gDW/h): a smaller flux counts as idle; ``time_limit`` (s) for the MILP fallback;
    ``heuristic=False`` goes straight to the MILP. The MILP runs on the model's solver
    (``add_tfa_constraints(solver=...)``); GLPK's MILP search was seen to run past its time
    limit (benchmarks/tfa_solvers.py runs it in a subprocess it kills).

    Raises :class:`cobra.exceptions.Infeasible` if even the LP relaxation is infeasible, and
    :class:`TFATimeout` if the MILP finds no solution in ``time_limit``.
    """
    maximize = model.objective.direction == "max"
    better = (lambda a, b: a > b) if maximize else (lambda a, b: a < b)
    times, best, values = {}, None, None
    started = time.perf_counter()
    _set_binaries(model, summary, continuous=True)
    try:
        bound = model.slim_optimize(error_value=float("nan"))
        if model.solver.status != "optimal":
            raise Infeasible(f"the LP relaxation of the TFA problem is {model.solver.status}: "
                             "no flux meets the model's bounds with these concentration ranges")
        relaxed = pd.Series({r.id: r.flux for r in model.reactions})
        times["bound_s"] = time.perf_counter() - started
        if heuristic:
            started = time.perf_counter()
            # loopless: TFA forbids internal cycles, so a loop's directions would be infeasible
            loopless = loopless_solution(model, fluxes=relaxed.to_dict()).fluxes
            values = _directions(model, summary, loopless, flux_tolerance)
            times["directions_s"] = time.perf_counter() - started
    finally:
        _set_binaries(model, summary, continuous=False)
    if heuristic and values is not None:
        started = time.perf_counter()
        _fix(model, summary, values)
        objective = model.slim_optimize(error_value=float("nan"))
        if model.solver.status == "optimal":
            best = (objective, "fixed_directions", *_snapshot(model, summary))
        times["fixed_lp_s"] = time.perf_counter() - started
        _fix(model, summary, None)
        if best is not None:
            proven, gap = classify(bound, objective, tolerance, maximize)
            if proven:
                return TFAResult("proven", objective, bound, gap, best[1], *best[2:],
                                 times=times)
    started = time.perf_counter()
    try:
        status, objective = _milp(model, summary, time_limit)
    finally:
        times["milp_s"] = time.perf_counter() - started
    if objective == objective and (best is None or better(objective, best[0])):
        best = (objective, "milp", *_snapshot(model, summary))
    elif status == "optimal" and best is not None:
        logger.warning("the MILP solver says %s is optimal, but fixing directions found %s: "
                       "keeping the better point", objective, best[0])
        status = "feasible"
    _fix(model, summary, None)
    if best is None:
        raise TFATimeout(f"the TFA MILP is {status} after {time_limit:g} s with no solution; "
                         "raise time_limit or try the other solver (solver='highs'/'glpk')")
    proven, gap = classify(bound, best[0], tolerance, maximize)
    label = "proven" if proven else "solver_optimal" if status == "optimal" else "time_limit"
    return TFAResult(label, best[0], bound, gap, best[1], *best[2:], times=times)
