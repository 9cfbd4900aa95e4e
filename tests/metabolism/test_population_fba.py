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


@pytest.fixture(params=["glpk copies", "optlang"])
def stages_class(request, monkeypatch):
    """Each way of solving the stages: GLPK copies (the default on GLPK) and optlang on the
    model itself (the path of every other solver), forced on the GLPK model."""
    from greybox_processes.metabolism import population_lp

    chosen = {"glpk copies": population_lp._GlpkStages,
              "optlang": population_lp._OptlangStages}[request.param]
    monkeypatch.setattr(population_lp, "_stages_class", lambda model: chosen)
    return chosen


def test_dual_slope_is_the_derivative_of_growth(lactose_model, stages_class):
    """The slopes read from the duals (sign convention of the module docstring) are the
    derivatives: of growth in the uptake bound, and of the least-carbon stage in the held
    growth."""
    from greybox_processes.metabolism.population_lp import _LexicographicLP

    with lactose_model:
        lp = _LexicographicLP(lactose_model, EXCHANGES, True, False)
        assert isinstance(lp.stages, stages_class)
        try:
            for lactose in (0.5, 3.0, 8.0):
                point = lp.solve(np.array([1.0, lactose]), vary=1)
                step = 1e-4
                above = lp.solve(np.array([1.0, lactose + step]), vary=1)
                assert point.bound_dual[0] == pytest.approx(
                    (above.values[0] - point.values[0]) / step, abs=1e-6)
                assert point.bound_dual[0] > 0
                stages = lp.stages  # stage 1 with growth held a little lower
                stages.set_uptake(np.array([1.0, lactose]))
                growth = stages.optimize(0, [])[1]
                carbon = stages.optimize(1, [growth])[1]
                dual = stages.hold_dual(1, 0)
                shift = 1e-5
                lower = stages.optimize(1, [growth - shift])[1]
                assert dual == pytest.approx((carbon - lower) / shift, rel=1e-3, abs=1e-6)
                assert dual < 0  # holding more growth costs carbon
        finally:
            lp.close()


def test_glpk_copies_equal_the_optlang_path_and_leave_the_model(lactose_model):
    """The default GLPK path (private copies) gives what optlang on the model gives, with
    recorded read-outs; the model keeps its bounds, objective and rows, and its own LP
    solves as before."""
    from greybox_processes.metabolism import population_lp

    assert population_lp._stages_class(lactose_model) is population_lp._GlpkStages
    rng = np.random.default_rng(23)
    bounds = _lacy_population(rng, 200)
    record = {"EX_co2_e": [1.0, 0.0], "EX_ac_e": [2.0, 0.0], "EX_nh4_e": [0.0, 1.0]}
    before, optimum = model_state(lactose_model), lactose_model.slim_optimize()
    rows = len(lactose_model.solver.constraints)
    copies = solve_population(lactose_model, EXCHANGES, bounds, record=record)
    assert model_state(lactose_model) == before
    assert len(lactose_model.solver.constraints) == rows
    assert lactose_model.slim_optimize() == pytest.approx(optimum, abs=1e-9)
    original = population_lp._stages_class
    try:
        population_lp._stages_class = lambda model: population_lp._OptlangStages
        through_optlang = solve_population(lactose_model, EXCHANGES, bounds, record=record)
    finally:
        population_lp._stages_class = original
    _assert_same(copies, through_optlang)
    np.testing.assert_allclose(copies.recorded, through_optlang.recorded, rtol=0, atol=TOL)
    assert np.abs(copies.recorded[:, 0]).max() > 0.1  # CO2 leaves: the read-out is not empty


def test_every_path_equals_per_cell_lps(lactose_model, stages_class):
    rng = np.random.default_rng(29)
    bounds = _lacy_population(rng, 150)
    shared = solve_population(lactose_model, EXCHANGES, bounds)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    _assert_same(shared, each)
    assert shared.lp_count <= 0.2 * each.lp_count


def _point(values, bound_dual, hold_dual=None):
    from greybox_processes.metabolism.population_lp import _Point

    values = np.atleast_1d(np.asarray(values, dtype=float))
    n = len(values)
    hold = np.zeros((n, n)) if hold_dual is None else np.asarray(hold_dual, dtype=float)
    return _Point(values, np.zeros(0), np.atleast_1d(np.asarray(bound_dual, float)), hold)


def test_tangent_test_uses_either_end():
    """g(x) = min(2x, x/2 + 3/2): concave, kink at 1. On [1, 3] g is linear, but a dual at
    the kink may give the left slope 2; the tangent at 3 (slope 1/2) still proves the line.
    On [0, 3] (kink inside) neither tangent meets the other end."""
    from greybox_processes.metabolism.population_fba import _linear_between

    def g(x):
        return min(2 * x, x / 2 + 1.5)

    at_kink, right = _point(g(1), 2.0), _point(g(3), 0.5)
    assert _linear_between(at_kink, right, 2.0, 1e-9)
    assert not _linear_between(_point(g(0), 2.0), right, 3.0, 1e-9)
    wrong_both = _point(g(3), 2.0)  # a slope that is no derivative: never a false "linear"
    assert not _linear_between(at_kink, wrong_both, 2.0, 1e-9)


def test_tangent_test_allows_the_hold_gap_only():
    """A later stage may move within the earlier stage's hold gap (1e-9 relative, times the
    hold dual): the per-cell LP fixes it no better. A larger miss is a kink."""
    from greybox_processes.metabolism.population_fba import _linear_between
    from greybox_processes.metabolism.population_lp import _held

    # stage 0: 1 -> 2 on [0, 1], slope 1; stage 1: 5 -> 7, slope 5 + (-3) * 1 = 2 from the
    # bound dual 5 and the hold dual -3 (stage 1 per unit of held growth)
    hold_dual = [[0.0, 0.0], [-3.0, 0.0]]
    gap = 2.0 - _held(2.0)  # the larger of the two ends' gaps

    def right(miss):
        return _point([2.0, 7.0 + miss], [1.0, 5.0], hold_dual)

    left = _point([1.0, 5.0], [1.0, 5.0], hold_dual)
    assert _linear_between(left, right(0.0), 1.0, 1e-12)
    assert _linear_between(left, right(0.5 * 3.0 * gap), 1.0, 1e-12)
    assert not _linear_between(left, right(3.0 * 3.0 * gap), 1.0, 1e-12)


def test_forced_uptake_above_the_cell_bound_is_a_clear_error(lactose_model):
    lactose_model.reactions.EX_glc__D_e.upper_bound = -2.0  # at least 2 mmol/gDW/h taken up
    with pytest.raises(ValueError, match="EX_glc__D_e"):
        solve_population(lactose_model, EXCHANGES, [[1.0, 0.5]])


def test_growth_reaction_is_the_biomass_reaction(lactose_model):
    from greybox_processes.metabolism.errors import ModelLoadError
    from greybox_processes.metabolism.models import biomass_reaction
    from greybox_processes.metabolism.population_lp import _growth_reaction

    assert _growth_reaction(lactose_model) is biomass_reaction(lactose_model)
    lactose_model.objective = {lactose_model.reactions.Biomass_Ecoli_core: 1.0,
                               lactose_model.reactions.ATPM: 1.0}
    with pytest.raises(ModelLoadError, match="2 objective reactions"):
        _growth_reaction(lactose_model)


def test_an_exchange_checked_once_is_checked_again_once_removed(lactose_model):
    solve_population(lactose_model, EXCHANGES, [[1.0, 2.0]])
    lactose_model.remove_reactions([lactose_model.reactions.EX_lcts_e])
    with pytest.raises(UnknownExchangeError, match="EX_lcts_e"):
        solve_population(lactose_model, EXCHANGES, [[1.0, 2.0]])


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
    from greybox_processes.metabolism import population_lp

    monkeypatch.setattr(population_lp, "_dual", lambda _: float("nan"))
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


def test_a_row_the_solver_flips_infeasible_above_the_boundary_is_solved_row_by_row(
        lactose_model, monkeypatch, caplog):
    """Near the feasibility boundary the solver's tolerance can call one LP infeasible at a larger
    uptake bound than a feasible one (seen on iJO1366 in a 9 h population run). That row's interval
    is then solved row by row: the run goes on, the row is reported infeasible, and every other
    cell still gets exactly its own LP's optimum."""
    from greybox_processes.metabolism import population_lp

    bounds = _lacy_population(np.random.default_rng(7), 200)
    ends = (bounds[:, 1].min(), bounds[:, 1].max())
    original = population_lp._LexicographicLP.solve
    flips = []  # the first interior bound the parametric search solves: "infeasible" from then on

    def flaky(self, row, vary=None):
        if vary is not None and not flips and row[1] not in ends:
            flips.append(float(row[1]))
        if flips and row[1] == flips[0]:
            return None
        return original(self, row, vary)

    monkeypatch.setattr(population_lp._LexicographicLP, "solve", flaky)
    with caplog.at_level("WARNING", logger="greybox_processes.metabolism.population_fba"):
        shared = solve_population(lactose_model, EXCHANGES, bounds, on_infeasible="status")
    assert any("one by one" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(population_lp._LexicographicLP, "solve", original)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    hit = bounds[:, 1] == flips[0]
    assert hit.any() and np.all(shared.status[hit] == -1)
    np.testing.assert_array_equal(shared.status[~hit], each.status[~hit])
    np.testing.assert_allclose(shared.growth[~hit], each.growth[~hit], rtol=0, atol=TOL)
    np.testing.assert_allclose(shared.fluxes[~hit], each.fluxes[~hit], rtol=0, atol=TOL,
                               equal_nan=True)


@pytest.mark.parametrize("refused_stage", [1, -1])
def test_a_later_stage_the_solver_calls_infeasible_is_retried_with_a_looser_hold(
        lactose_model, monkeypatch, caplog, refused_stage):
    """Holding an earlier stage's optimum to 1e-9 can make the next stage infeasible when the
    solver's own tolerance is looser (seen on iJO1366 at a tiny lactose bound): that stage is
    retried once with the hold at 1e-6, logged, and the optimum is still the cell's own."""
    from greybox_processes.metabolism import population_lp

    stages_class = population_lp._stages_class(lactose_model)
    original = stages_class.optimize
    refused = []

    def strict_once(self, stage, held):
        last = len(self.objectives) - 1
        if stage == (refused_stage if refused_stage > 0 else last) and not refused:
            refused.append(stage)
            return "infeasible", float("nan")
        return original(self, stage, held)

    from cobra.util.solver import linear_reaction_coefficients

    biomass = next(iter(linear_reaction_coefficients(lactose_model))).id
    bounds = _lacy_population(np.random.default_rng(3), 30)
    monkeypatch.setattr(stages_class, "optimize", strict_once)
    with caplog.at_level("WARNING", logger="greybox_processes.metabolism.population_lp"):
        shared = solve_population(lactose_model, EXCHANGES, bounds,
                                  record={biomass: np.array([1.0, 0.0, 0.0]),
                                          EXCHANGES[0]: np.array([0.0, 1.0, 0.0]),
                                          EXCHANGES[1]: np.array([0.0, 0.0, 1.0])})
    assert refused and any("held to" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(stages_class, "optimize", original)
    each = solve_each_cell(lactose_model, EXCHANGES, bounds)
    np.testing.assert_array_equal(shared.status, each.status)
    # the retried cell's growth is at least the loosened hold: at most 1e-6 (1 + g) below
    # its optimum ...
    gap = each.growth - shared.growth
    assert np.all(gap >= -TOL) and np.all(gap <= 1e-6 * (1 + each.growth) + TOL)
    # ... and growth and exchanges are those of one solution (the biomass and exchange fluxes
    # of the last stage), so the medium pays for the growth (PopulationMetabolism checks this
    # balance; a retry at the last stage once reported held exchanges, off by the slack)
    np.testing.assert_allclose(shared.growth, shared.recorded[:, 0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(shared.fluxes, shared.recorded[:, 1:], rtol=0, atol=1e-8)


def test_a_repeated_numerical_fallback_warns_once_and_is_counted(caplog):
    """A long run loosens holds hundreds of times: the first of each kind is a WARNING, the
    repeats are DEBUG, and every one is counted (nothing is hidden, the log stays readable)."""
    from types import SimpleNamespace

    from greybox_processes.metabolism.population_lp import _LexicographicLP

    lp = SimpleNamespace(fallbacks={})
    with caplog.at_level("DEBUG", logger="greybox_processes.metabolism.population_lp"):
        for _ in range(5):
            _LexicographicLP.note_fallback(lp, ("hold", 2), "stage %d loosened", 2)
        _LexicographicLP.note_fallback(lp, ("hold", 3), "stage %d loosened", 3)
    levels = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert levels.count(("WARNING", "stage 2 loosened")) == 1
    assert levels.count(("DEBUG", "stage 2 loosened")) == 4
    assert ("WARNING", "stage 3 loosened") in levels
    assert lp.fallbacks == {("hold", 2): 5, ("hold", 3): 1}


def test_fallback_counts_can_span_the_calls_of_a_run(lactose_model, monkeypatch, caplog):
    """PopulationMetabolism passes one dict to every step's solve: a fallback repeated over
    steps warns once per run, and the dict counts them all."""
    from greybox_processes.metabolism import population_lp

    stages_class = population_lp._stages_class(lactose_model)
    original = stages_class.optimize

    def refuse_stage_1_strictly(self, stage, held):
        if stage == 1 and not getattr(self, "_refused", False):
            self._refused = True
            return "infeasible", float("nan")
        return original(self, stage, held)

    monkeypatch.setattr(stages_class, "optimize", refuse_stage_1_strictly)
    counts = {}
    bounds = _lacy_population(np.random.default_rng(3), 5)
    with caplog.at_level("WARNING", logger="greybox_processes.metabolism.population_lp"):
        for _ in range(3):
            solve_population(lactose_model, EXCHANGES, bounds, fallbacks=counts)
    warned = [r for r in caplog.records if "held to" in r.getMessage()]
    assert sum(counts.values()) == 3 and len(warned) == 1
