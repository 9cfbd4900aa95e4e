"""Population FBA: the shared method gives every cell exactly its own LP's optimum, with few LPs.

The population is e_coli_core with the lactose pathway (``textbook_lactose``); oxygen uptake
is capped so that growth, as lactose uptake rises, crosses from carbon-limited to
oxygen-limited regimes (breakpoints inside the range of bounds).
"""
from __future__ import annotations

import numpy as np
import pytest
from metabolism_helpers import model_state

from greybox_processes.metabolism import load_model
from greybox_processes.metabolism.errors import InfeasibleError, UnknownExchangeError
from greybox_processes.metabolism.population_fba import solve_each_cell, solve_population

EXCHANGES = ["EX_glc__D_e", "EX_lcts_e"]
#: Lactose uptake per LacY molecule-equivalent used to make integer-count bounds (mmol/gDW/h).
PER_PERMEASE = 0.25
TOL = 1e-7


@pytest.fixture(scope="module")
def lactose_session():
    return load_model("textbook_lactose")


@pytest.fixture()
def lactose_model(lactose_session):
    model = lactose_session.copy()
    model.reactions.EX_o2_e.lower_bound = -12.0  # oxygen-limited at high carbon: kinks
    return model


def _lacy_population(rng, n_cells, glucose=1.5, max_permeases=40):
    """Shared glucose bound; lactose bound from each cell's integer LacY count."""
    lacy = rng.integers(0, max_permeases, n_cells)
    return np.column_stack([np.full(n_cells, glucose), lacy * PER_PERMEASE])


def _assert_same(shared, each):
    assert np.array_equal(shared.status, each.status)
    np.testing.assert_allclose(shared.growth, each.growth, rtol=0, atol=TOL)
    np.testing.assert_allclose(shared.fluxes, each.fluxes, rtol=0, atol=TOL, equal_nan=True)


def _kinks(model, bounds):
    """Number of slope changes of growth along the (sorted, distinct) lactose bounds."""
    xs = np.unique(bounds[:, 1])
    growth = []
    for x in xs:
        with model:
            model.reactions.EX_glc__D_e.lower_bound = -bounds[0, 0]
            model.reactions.EX_lcts_e.lower_bound = -x
            growth.append(model.slim_optimize())
    slopes = np.diff(growth) / np.diff(xs)
    return int(np.sum(np.abs(np.diff(slopes)) > 1e-6))


def test_lacy_counts_equal_per_cell_lps_with_few_lps(lactose_model):
    rng = np.random.default_rng(20240516)
    bounds = _lacy_population(rng, 300)
    before = model_state(lactose_model)
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    assert model_state(lactose_model) == before  # everything inside `with model:`
    assert _kinks(lactose_model, bounds) >= 2  # the range has breakpoints
    _assert_same(shared, each)
    assert np.all(shared.status == 1)
    assert shared.points_solved <= 0.1 * len(bounds)
    assert shared.lp_count <= 0.1 * each.lp_count
    assert shared.distinct_rows == len(np.unique(bounds, axis=0))


def test_growth_equals_plain_cobra_optimum_per_cell(lactose_model):
    """Against an independent code path: cobra's own slim_optimize for each cell."""
    rng = np.random.default_rng(7)
    bounds = _lacy_population(rng, 200, glucose=0.8)
    shared = solve_population(lactose_model, EXCHANGES, bounds, min_uptake=False,
                              unique_fluxes=False)
    for row, growth in zip(bounds, shared.growth):
        with lactose_model:
            lactose_model.reactions.EX_glc__D_e.lower_bound = -row[0]
            lactose_model.reactions.EX_lcts_e.lower_bound = -row[1]
            assert abs(lactose_model.slim_optimize() - growth) <= TOL
    assert shared.lp_count <= 0.1 * len(bounds)


def test_continuous_bounds_no_duplicates_are_parametric(lactose_model):
    """400 distinct lactose bounds: only the breakpoints cost LPs."""
    rng = np.random.default_rng(11)
    n = 400
    bounds = np.column_stack([np.full(n, 1.0), rng.uniform(0.0, 12.0, n)])
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    _assert_same(shared, each)
    assert shared.distinct_rows == n
    assert shared.points_solved <= 0.1 * n


def test_convex_combination_fluxes_are_optimal(lactose_model):
    """Without tie-breaks, interpolated fluxes are an optimum of the cell's own LP."""
    rng = np.random.default_rng(3)
    bounds = np.column_stack([np.full(60, 1.0), rng.uniform(0.0, 12.0, 60)])
    shared = solve_population(lactose_model, EXCHANGES, bounds, min_uptake=False,
                              unique_fluxes=False)
    for row, growth, fluxes in zip(bounds, shared.growth, shared.fluxes):
        with lactose_model:
            for ex, bound, flux in zip(EXCHANGES, row, fluxes):
                assert flux >= -bound - TOL  # within the cell's uptake bound
                reaction = lactose_model.reactions.get_by_id(ex)
                reaction.bounds = (flux - 1e-9, flux + 1e-9)
            assert lactose_model.slim_optimize() >= growth - 1e-6


def test_duplicates_zero_bounds_and_infeasible_cells(lactose_model):
    rng = np.random.default_rng(5)
    bounds = _lacy_population(rng, 250, glucose=0.0)  # lactose only; LacY 0 -> no carbon
    bounds[:10] = 0.0  # no uptake at all
    assert np.any(bounds[:, 1] == 0.0)
    with pytest.raises(InfeasibleError, match="no feasible LP") as info:
        solve_population(lactose_model, EXCHANGES, bounds)
    assert info.value.status == "infeasible"
    shared = solve_population(lactose_model, EXCHANGES, bounds, on_infeasible="status")
    each = solve_each_cell(lactose_model, EXCHANGES, bounds, on_infeasible="status")
    _assert_same(shared, each)
    # ATP maintenance (8.39 mmol/gDW/h) needs carbon: small lactose bounds are infeasible
    infeasible = shared.status == -1
    assert infeasible[:10].all() and (~infeasible).any()
    assert np.all(shared.growth[infeasible] == 0.0)
    assert np.all(np.isnan(shared.fluxes[infeasible]))
    assert shared.lp_count <= 0.1 * each.lp_count


def test_two_varying_bounds_fall_back_per_group(lactose_model):
    """Glucose and lactose both vary: grouped by glucose, parametric in lactose; exact."""
    rng = np.random.default_rng(9)
    n = 300
    glucose = rng.choice([0.5, 1.0, 2.0], n)
    lactose = rng.integers(0, 30, n) * PER_PERMEASE
    bounds = np.column_stack([glucose, lactose])
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    _assert_same(shared, each)
    assert shared.points_solved < shared.distinct_rows


def test_all_distinct_two_dimensional_rows_are_exact(lactose_model):
    """The worst case (every row distinct in both columns) is one point per row, exact."""
    rng = np.random.default_rng(13)
    bounds = rng.uniform(0.5, 6.0, (20, 2))
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    _assert_same(shared, each)


def test_dual_slope_is_the_derivative_of_growth(lactose_model):
    """The slope read from the reverse variable's dual (sign convention) is dg/db."""
    from greybox_processes.metabolism.population_fba import _LexicographicLP

    with lactose_model:
        lp = _LexicographicLP(lactose_model, EXCHANGES, False, False)
        for lactose in (0.5, 3.0, 8.0):
            point = lp.solve(np.array([1.0, lactose]), vary=1)
            step = 1e-4
            above = lp.solve(np.array([1.0, lactose + step]), vary=1)
            assert point.bound_dual[0] == pytest.approx(
                (above.values[0] - point.values[0]) / step, abs=1e-6)
            assert point.bound_dual[0] > 0


def test_single_cell_and_infinite_bound(lactose_model):
    one = solve_population(lactose_model, EXCHANGES, [[1.0, 2.0]])
    assert one.points_solved == 1 and one.growth.shape == (1,)
    inf = solve_population(lactose_model, EXCHANGES, [[1.0, np.inf], [1.0, 2.0], [1.0, 3.0]])
    each = solve_each_cell(lactose_model, EXCHANGES, [[1.0, np.inf], [1.0, 2.0], [1.0, 3.0]])
    _assert_same(inf, each)


@pytest.mark.parametrize("bounds, error", [
    (np.ones((3, 3)), ValueError),
    (-np.ones((3, 2)), ValueError),
    (np.full((3, 2), np.nan), ValueError),
])
def test_bad_bounds(lactose_model, bounds, error):
    with pytest.raises(error, match="uptake_bounds|uptake bounds"):
        solve_population(lactose_model, EXCHANGES, bounds)


def test_unknown_exchange_and_policy(lactose_model):
    with pytest.raises(UnknownExchangeError, match="EX_lcts"):
        solve_population(lactose_model, ["EX_glc__D_e", "EX_lcts"], np.ones((2, 2)))
    with pytest.raises(ValueError, match="on_infeasible"):
        solve_population(lactose_model, EXCHANGES, np.ones((2, 2)), on_infeasible="ignore")


def test_zero_growth_optimum_is_status_zero(lactose_model):
    """A feasible LP whose optimum is zero growth: status 0, fluxes reported (not -1)."""
    lactose_model.reactions.Biomass_Ecoli_core.upper_bound = 0.0
    bounds = _lacy_population(np.random.default_rng(17), 100, glucose=2.0)
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    _assert_same(shared, each)
    assert np.all(shared.status == 0) and np.all(shared.growth == 0.0)
    assert np.all(np.isfinite(shared.fluxes))


def test_without_duals_every_distinct_row_is_solved_and_exact(lactose_model, monkeypatch):
    """A solver without duals (NaN slopes) costs LPs, never exactness."""
    from greybox_processes.metabolism import population_fba

    monkeypatch.setattr(population_fba, "_dual", lambda _: float("nan"))
    bounds = _lacy_population(np.random.default_rng(19), 120)
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    _assert_same(shared, each)
    assert shared.points_solved == shared.distinct_rows


@pytest.mark.slow
def test_ijo1366_lacy_population_equals_per_cell_lps(ijo1366):
    """Genome scale: iJO1366 (its own LCTStpp lactose import), 50 cells."""
    rng = np.random.default_rng(1366)
    ijo1366.reactions.EX_o2_e.lower_bound = -12.0
    n = 50
    lacy = rng.integers(0, 40, n)
    bounds = np.column_stack([np.full(n, 2.0), lacy * PER_PERMEASE])
    bounds[:3, 1] = 0.0
    shared = solve_population(ijo1366, EXCHANGES, bounds)
    each = solve_each_cell(ijo1366, EXCHANGES, bounds)
    _assert_same(shared, each)
    assert shared.lp_count <= 0.3 * each.lp_count
