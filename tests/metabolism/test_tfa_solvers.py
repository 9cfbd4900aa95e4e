"""TFA's solver choice (``add_tfa_constraints(solver=...)``): GLPK and HiGHS reach one optimum."""
import pytest

from greybox_processes.metabolism.tfa import SOLVERS, add_tfa_constraints, tfa_check

pytest.importorskip("highspy")
pytest.importorskip("osqp")  # optlang's hybrid interface needs both


def _tfa_optimum(model, solver):
    with model:
        summary = add_tfa_constraints(model, solver=solver)
        interface = model.solver.interface.__name__
        growth = model.slim_optimize()
        fluxes = {r.id: r.flux for r in model.reactions}
        against = tfa_check(model, summary)
    return growth, fluxes, against, interface, summary


def test_glpk_and_highs_reach_the_same_tfa_optimum_on_e_coli_core(textbook):
    results = {name: _tfa_optimum(textbook, name) for name in SOLVERS}
    (g_glpk, f_glpk, bad_glpk, i_glpk, s_glpk) = results["glpk"]
    (g_highs, f_highs, bad_highs, i_highs, s_highs) = results["highs"]
    # each solver really solved it (the option acts), and was undone on leaving the context
    assert (i_glpk, i_highs) == ("optlang.glpk_interface", "optlang.hybrid_interface")
    assert textbook.solver.interface.__name__ == "optlang.glpk_interface"
    assert s_glpk["reactions"] == s_highs["reactions"] and s_highs["solver"] == "highs"
    # one optimum to solver tolerance, both thermodynamically consistent
    assert g_highs == pytest.approx(g_glpk, rel=1e-6)
    assert bad_glpk == [] and bad_highs == []
    # growth is glucose-limited in both: the same uptake (at its bound)
    assert f_highs["EX_glc__D_e"] == pytest.approx(f_glpk["EX_glc__D_e"], abs=1e-6)


def test_an_unknown_solver_is_named(textbook):
    with pytest.raises(ValueError, match="'glpk', 'highs'"):
        add_tfa_constraints(textbook, solver="cplex")
