"""Each tier's scoring on synthetic inputs whose right answer is known."""
import math

import numpy as np
import pandas as pd
import pytest

from greybox_processes.wcm_hard.tiers import t1_conservation as t1
from greybox_processes.wcm_hard.tiers import t2_essentiality as t2
from greybox_processes.wcm_hard.tiers import t3_diauxie as t3
from greybox_processes.wcm_hard.tiers import t4_stress as t4
from greybox_processes.wcm_hard.tiers import t5_synergy as t5
from greybox_processes.wcm_hard.tiers import t6_dephasing as t6
from greybox_processes.wcm_hard.tiers import t7_ablation as t7
from greybox_processes.wcm_hard.tiers import t8_robustness as t8


# -- tier 1 --------------------------------------------------------------------------------
def test_conserving_trajectory_scores_zero():
    rng = np.random.default_rng(0)
    medium = np.cumsum(-rng.random(1000)) + 2000.0   # mass moves from medium to cell
    cell = 2000.0 - medium + 5.0
    assert t1.integrated_violation(medium + cell) == pytest.approx(0.0, abs=1e-9)


def test_leaking_trajectory_scores_its_leak():
    steps, leak = 999, 1e-3
    total = 10.0 - leak * np.arange(steps + 1)
    assert t1.integrated_violation(total) == pytest.approx(steps * leak)
    assert t1.relative_violation(total, 4.0) == pytest.approx(steps * leak / 4.0)


def test_declared_inflow_is_not_a_violation():
    inflow = np.full(50, 0.2)
    total = np.concatenate([[1.0], 1.0 + np.cumsum(inflow)])
    assert t1.integrated_violation(total, inflow) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="one value per step"):
        t1.integrated_violation(total, inflow[:-1])


def test_dfba_budget_closes_for_an_exact_culture():
    """A synthetic culture integrated exactly as DynamicFBA does closes to round-off."""
    import xarray as xr

    dt, mu, v = 1 / 60, 0.5, np.array([-8.0, -1.0])
    n = 200
    x = 0.01 * np.exp(mu * dt * np.arange(n))
    conc = np.zeros((n, 2))
    conc[0] = [5.0, 3.0]
    for k in range(1, n):
        conc[k] = conc[k - 1] + v * x[k - 1] * np.expm1(mu * dt) / mu
    ds = xr.Dataset({"env.concentrations": (("time", "m"), conc),
                     "cell.fluxes": (("time", "m"), np.tile(v, (n, 1))),
                     "env.biomass": ("time", x), "cell.growth_rate": ("time", np.full(n, mu))},
                    coords={"time": dt * np.arange(n)})
    atoms = {"a": {"C": 6, "N": 0, "P": 0}, "b": {"C": 12, "N": 1, "P": 0}}
    budget = t1.dfba_element_budget(ds, atoms, ["a", "b"])
    assert t1.integrated_violation(budget["C"][0]) < 1e-9
    # a model that loses 1% of what it takes up is caught
    leaky = ds.assign({"env.concentrations": ds["env.concentrations"] * 1.0})
    leaky["cell.fluxes"] = ds["cell.fluxes"] * 0.99
    assert t1.integrated_violation(t1.dfba_element_budget(leaky, atoms, ["a", "b"])["C"][0]) > 1e-3


# -- tier 2 --------------------------------------------------------------------------------
def test_perfect_predictor_has_f1_one():
    truth = np.array([True] * 10 + [False] * 90)
    assert t2.f1_score(truth, truth)["f1"] == 1.0


def test_all_essential_predictor_scores_2p_over_1_plus_p():
    truth = np.array([True] * 10 + [False] * 90)
    p = 0.1
    assert t2.f1_score(np.ones(100, bool), truth)["f1"] == pytest.approx(2 * p / (1 + p))
    assert t2.f1_score(np.zeros(100, bool), truth)["f1"] == 0.0


# -- tier 3 --------------------------------------------------------------------------------
def test_lag_error():
    assert t3.lag_error(41.0, 41.0) == 0.0
    assert t3.lag_error(45.1, 41.0) == pytest.approx(0.1)
    assert t3.lag_error(float("nan"), 41.0) == math.inf


# -- tier 4 --------------------------------------------------------------------------------
def test_cosine_perfect_and_constant_predictors():
    obs = np.random.default_rng(1).normal(0.3, 1.0, 500)
    assert t4.cosine_similarity(obs, obs) == pytest.approx(1.0)
    assert t4.cosine_similarity(2.5 * obs, obs) == pytest.approx(1.0)
    assert t4.cosine_similarity(-obs, obs) == pytest.approx(-1.0)
    const = np.full(500, 0.7)
    expected = obs.sum() / (np.sqrt(500) * np.linalg.norm(obs))
    assert t4.cosine_similarity(const, obs) == pytest.approx(expected)
    assert t4.constant_prediction_cosine(obs) == pytest.approx(expected)


def test_score_stresses_aligns_genes():
    observed = pd.DataFrame({"heat": [1.0, -2.0, 0.5]}, index=["b1", "b2", "b3"])
    predicted = {"heat": pd.Series([0.5, 1.0, -2.0], index=["b3", "b1", "b2"])}
    assert t4.score_stresses(predicted, observed)["heat"] == pytest.approx(1.0)


# -- tier 5 --------------------------------------------------------------------------------
def _loewe_additive_effect(a, b, ca, cb, n=1.0):
    """Effect E solving a/A(E) + b/B(E) = 1 for Hill curves of equal slope (closed form)."""
    z = a / ca + b / cb  # with equal n: (E/(1-E))^(1/n) = z
    return z ** n / (1 + z ** n)


def test_additive_surface_has_index_one_everywhere():
    a, b = np.meshgrid(np.logspace(-2, 1, 8), np.logspace(-2, 1, 8))
    for n in (1.0, 2.0):
        effect = _loewe_additive_effect(a, b, 0.5, 2.0, n)
        index = t5.loewe_index(a, b, effect, 0.5, 2.0, n, n)
        np.testing.assert_allclose(index, 1.0, rtol=1e-10)
        assert set(t5.classify_index(index).ravel()) == {"additive"}


def test_synergistic_and_antagonistic_surfaces():
    a, b = 0.3, 0.8
    additive = _loewe_additive_effect(a, b, 0.5, 2.0)
    stronger = min(additive * 1.3, 0.99)
    weaker = additive * 0.6
    assert t5.classify_index(t5.loewe_index(a, b, stronger, 0.5, 2.0)) == "synergy"
    assert t5.classify_index(t5.loewe_index(a, b, weaker, 0.5, 2.0)) == "antagonism"


def test_indigo_classes_and_accuracy():
    classes = t5.classify_indigo([-0.5, -0.05, 0.0, 0.09, 0.3])
    assert list(classes) == ["synergy", "additive", "additive", "additive", "antagonism"]
    assert t5.classification_accuracy(classes, classes) == 1.0
    assert t5.classification_accuracy(np.full(5, "additive"), classes) == pytest.approx(0.6)


def test_distinct_target_pairs_keeps_only_mechanistic_distinct_processes():
    pairs = pd.DataFrame({"Drug_1": ["AMK", "AMK", "CIP", "NIT"],
                          "Drug_2": ["CEF", "GEN", "RIF", "TMP"], "Score": [1, 2, 3, 4]})
    kept = t5.distinct_target_pairs(pairs)
    assert list(kept["Score"]) == [1, 3]


def test_target_level_ceiling_is_the_sum_of_per_target_pair_majorities():
    pairs = pd.DataFrame({"target_1": ["ribosome", "folate", "ribosome", "cell wall"],
                          "target_2": ["folate", "ribosome", "folate", "folate"]})
    observed = np.array(["antagonism", "antagonism", "synergy", "synergy"])
    # ribosome+folate (either order): 2 of 3 at best; cell wall+folate: 1 of 1
    assert t5.target_level_ceiling(pairs, observed) == pytest.approx(3 / 4)


# -- tier 6 --------------------------------------------------------------------------------
def test_volume_cv_of_live_cells():
    v = np.array([[1.0, 1.0, 5.0], [1.0, 3.0, 9.0]])
    alive = np.array([[True, True, False], [True, True, False]])
    np.testing.assert_allclose(t6.volume_cv(v, alive), [0.0, 0.5])


def test_monotone_rise_to_plateau_is_detected():
    t = np.linspace(0, 8, 400)
    cv = 0.2 * (1 - np.exp(-t / 0.8))
    score = t6.dephasing_score(t, cv, generation_time=1.0)
    assert score["plateau"] == pytest.approx(0.2, rel=1e-3)
    assert score["monotone"]
    assert score["rise_generations"] == pytest.approx(0.8 * np.log(10), abs=0.05)


def test_non_monotone_and_clockwork_trajectories():
    t = np.linspace(0, 8, 400)
    bump = 0.2 * (1 - np.exp(-t / 0.8)) + 0.1 * np.exp(-((t - 0.6) / 0.2) ** 2)
    assert not t6.dephasing_score(t, bump, 1.0)["monotone"]
    clockwork = np.full(t.size, 1e-12)  # a synchronised population that never de-phases
    assert t6.dephasing_score(t, clockwork, 1.0)["plateau"] < 1e-9


def test_reference_plateau_of_identical_cells_is_analytic():
    table = pd.DataFrame({"s_b_um": [2.0] * 3, "s_d_um": [4.0] * 3})
    a = (np.arange(2001) + 0.5) / 2001
    w = 2.0 ** (1 - a)
    length = 2.0 * 2.0 ** a
    mean = np.sum(w * length) / w.sum()
    cv = np.sqrt(np.sum(w * (length - mean) ** 2) / w.sum()) / mean
    assert t6.reference_plateau(table, n_ages=2001) == pytest.approx(cv, rel=1e-6)


def test_dephasing_generation_time_follows_the_size_rule():
    cycle = {"t_interphase": [12.0], "t_mitosis": [1.0], "growth_rate": [math.log(2.0) / 20]}
    assert t6.generation_time({**cycle, "size_rule": "timer"}) == pytest.approx(13.0)
    for rule in ("adder", "sizer"):  # a steady cycle doubles the volume: ln2 / rate
        assert t6.generation_time({**cycle, "size_rule": rule}) == pytest.approx(21.0)
    with pytest.raises(ValueError, match="size_rule 'clock'"):
        t6.generation_time({**cycle, "size_rule": "clock"})
    with pytest.raises(ValueError, match="no 't_interphase'"):
        t6.generation_time({"t_mitosis": [1.0]})


def test_dephasing_capacity_check_names_the_fix():
    assert t6.required_capacity(100, 7) == math.ceil(100 * 2 ** 7 * t6.CAPACITY_MARGIN)
    t6.check_capacity({"initial_per_type": 100, "capacity_per_type": 16000}, 7)
    with pytest.raises(ValueError, match=r"capacity_per_type >= 308.*run_generations"):
        t6.check_capacity({"initial_per_type": 2, "capacity_per_type": 8}, 7, "tissue")
    with pytest.raises(ValueError, match="at least 2"):
        t6.check_capacity({"initial_per_type": 1, "capacity_per_type": 800}, 7)


def test_dephasing_cv_per_generation_averages_whole_generations():
    t = np.arange(0.0, 30.5, 1.0)                      # 3 generations of 10
    cv = np.floor(t / 10.0) * 0.1
    cv[3] = np.nan                                     # NaN samples (< 2 cells) are skipped
    np.testing.assert_allclose(t6.cv_per_generation(t, cv, 10.0), [0.0, 0.1, 0.2])


# -- tier 7 --------------------------------------------------------------------------------
def test_double_dissociation():
    assert t7.double_dissociation(0.05, 0.6, 0.0, 0.3)["passed"] is True
    assert t7.double_dissociation(0.7, 0.6, 0.0, 0.3)["passed"] is False
    assert t7.double_dissociation(0.05, 0.6, None, None)["passed"] is None


# -- tier 8 --------------------------------------------------------------------------------
def test_latin_hypercube_strata_and_range():
    f = t8.latin_hypercube(10, 3, span=0.2, seed=4)
    assert f.shape == (10, 3) and f.min() >= 0.8 and f.max() <= 1.2
    for column in f.T:  # one sample per stratum
        assert sorted(np.floor((column - 0.8) / 0.04).astype(int)) == list(range(10))


def test_stability_share():
    ref = np.array([True, False, True, False])
    assert t8.stability_share(ref, np.tile(ref, (5, 1))) == 1.0
    flipped = np.tile(ref, (5, 1))
    flipped[2, 0] = False
    assert t8.stability_share(ref, flipped) == 0.75
    assert t8.stability_share(ref, ~np.tile(ref, (2, 1))) == 0.0


def test_ledger_budget_is_cell_plus_environment():
    """Glucose burnt to CO2 (ledger) and to biomass: the closed budget is constant."""
    import xarray as xr

    n = 50
    glc = np.linspace(5.0, 0.0, n)                      # mM glucose (6 C)
    x = 0.01 + 0.1 * (5.0 - glc)                        # gDW/L, 2 mmol C per gDW below
    co2 = 6 * (5.0 - glc) - 2.0 * (x - 0.01)            # the rest of the carbon leaves as CO2
    ds = xr.Dataset({"env.concentrations": (("time", "m"), glc[:, None]),
                     "env.biomass": ("time", x),
                     "cell.ledger": (("time", "element"), np.stack([co2, 0 * co2], 1))},
                    coords={"time": np.arange(n), "element": ["C", "N"]})
    budget = t1.ledger_element_budget(ds, {"g": {"C": 6, "N": 0, "P": 0}}, ["g"],
                                      {"C": 2.0, "N": 0.3, "P": 0.1})
    assert set(budget) == {"C", "N"}
    assert t1.integrated_violation(budget["C"]) < 1e-12
    assert t1.integrated_violation(budget["N"]) == pytest.approx(0.3 * (x[-1] - x[0]))
