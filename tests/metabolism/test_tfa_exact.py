"""solve_tfa: TFA optimum proven by an LP bound, or the MILP's optimum when the bound is not met.

Checks: the fixed-directions path reaches the full MILP's optimum on e_coli_core and proves it;
every returned point satisfies the TFA constraints (mass balance, bounds, potentials in their
ranges, dG' = sum s mu, each flux down its Gibbs energy); 'proven' only when bound - objective
<= tolerance; where concentration ranges make thermodynamics bind (the FBA directions are
infeasible) the MILP fallback still finds the MILP's optimum, below the bound and not 'proven'.
"""
from __future__ import annotations

import numpy as np
import pytest
from cobra.util import create_stoichiometric_matrix

from greybox_processes.metabolism.tfa import (_EPS, add_tfa_constraints, classify, solve_tfa,
                                              tfa_check)

FLUX_TOL = 1e-6  # mmol/gDW/h
ENERGY_TOL = 1e-6  # kJ/mol


def assert_tfa_feasible(model, summary, result):
    """The result's point meets every constraint TFA adds, and the model's own."""
    fluxes = result.fluxes.reindex([r.id for r in model.reactions]).to_numpy()
    stoich = create_stoichiometric_matrix(model)
    np.testing.assert_allclose(stoich @ fluxes, 0.0, atol=FLUX_TOL)
    for reaction, v in zip(model.reactions, fluxes):
        assert reaction.lower_bound - FLUX_TOL <= v <= reaction.upper_bound + FLUX_TOL
    for met, mu in result.potentials.items():
        var = model.variables[f"mu_{met}"]
        assert var.lb - ENERGY_TOL <= mu <= var.ub + ENERGY_TOL, met
    for rid in summary["reactions"]:
        reaction = model.reactions.get_by_id(rid)
        dg = sum(s * result.potentials[m.id] for m, s in reaction.metabolites.items()
                 if m.id in result.potentials)
        assert result.dG[rid] == pytest.approx(dg, abs=ENERGY_TOL), rid
        v = result.fluxes[rid]
        if v > FLUX_TOL:
            assert result.dG[rid] <= -_EPS + ENERGY_TOL, (rid, v, result.dG[rid])
        elif v < -FLUX_TOL:
            assert result.dG[rid] >= _EPS - ENERGY_TOL, (rid, v, result.dG[rid])


def _both(model, **ranges):
    with model:
        summary = add_tfa_constraints(model, **ranges)
        fast = solve_tfa(model, summary)
        assert_tfa_feasible(model, summary, fast)
        milp = solve_tfa(model, summary, heuristic=False)
        assert_tfa_feasible(model, summary, milp)
        # the model is left with its binaries free: a plain MILP solve still works
        assert model.slim_optimize() == pytest.approx(milp.objective, abs=1e-6)
        assert tfa_check(model, summary) == []
    return fast, milp


def test_fixed_directions_prove_the_milp_optimum_on_e_coli_core(textbook):
    fba = textbook.slim_optimize()
    fast, milp = _both(textbook)
    assert fast.method == "fixed_directions" and fast.status == "proven"
    assert milp.method == "milp"
    assert fast.objective == pytest.approx(milp.objective, abs=1e-6)
    # the bound is the LP relaxation: never below a feasible point, never above FBA
    assert fast.objective <= fast.bound + 1e-9 <= fba + 2e-9
    assert 0 <= fast.gap <= 1e-6


def test_binding_thermodynamics_fall_back_to_the_milp_optimum(textbook):
    # concentrations 1-10 mM: the FBA optimum's directions are thermodynamically infeasible
    fba = textbook.slim_optimize()
    fast, milp = _both(textbook, c_min=1e-3, c_max=1e-2)
    assert fast.method == "milp" and fast.status == "solver_optimal"
    assert fast.objective == pytest.approx(milp.objective, abs=1e-6)
    assert 0 < fast.objective < fba - 0.01  # thermodynamics bind, and growth remains
    assert fast.gap == pytest.approx(fast.bound - fast.objective) and fast.gap > 1e-3


@pytest.mark.parametrize("bound, objective, maximize, proven", [
    (1.0, 1.0 - 5e-7, True, True),
    (1.0, 1.0 - 2e-6, True, False),
    (1.0, 1.0 + 5e-7, False, True),
    (1.0, 1.0 + 2e-6, False, False),
])
def test_proven_only_within_tolerance_of_the_bound(bound, objective, maximize, proven):
    is_proven, gap = classify(bound, objective, 1e-6, maximize)
    assert is_proven is proven and gap == pytest.approx(abs(bound - objective))


def test_an_infeasible_relaxation_is_a_typed_error(textbook):
    from cobra.exceptions import Infeasible

    with textbook:
        summary = add_tfa_constraints(textbook)
        textbook.reactions.ATPM.lower_bound = 500.0  # more maintenance than glucose can pay
        with pytest.raises(Infeasible, match="LP relaxation"):
            solve_tfa(textbook, summary)


@pytest.mark.slow
def test_ijo1366_tfa_is_proven_at_the_fba_optimum(ijo1366):
    fba = ijo1366.slim_optimize()
    with ijo1366:
        summary = add_tfa_constraints(ijo1366)
        result = solve_tfa(ijo1366, summary, time_limit=120)
        assert result.status == "proven" and result.method == "fixed_directions"
        assert_tfa_feasible(ijo1366, summary, result)
    assert result.objective == pytest.approx(fba, abs=1e-6)
