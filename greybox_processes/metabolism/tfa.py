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
"""
from __future__ import annotations

import math

import numpy as np

from .thermo import R_KJ, base_id, formation_energies, formation_sigma, reaction_gibbs

__all__ = ["SOLVERS", "add_tfa_constraints", "tfa_check"]

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
