"""The mechanistic adder (CellCycle): physics and statistics of the kernel, the process in a population.

Tolerances are derived from standard errors of the samples (4 SE: a false failure about
once in 16,000 runs per check), never from stored outputs.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import greybox_processes as gb
from greybox_processes.cellcycle.composites import cell_cycle_population
from greybox_processes.cellcycle.kernel import (DEFAULT_MEAN_BURST_SIZE,
                                                DEFAULT_PRODUCTION_PER_VOLUME,
                                                DEFAULT_THRESHOLD, TYPICAL_ADDED_VOLUME_FL,
                                                CellCycleParams, added_volume_cv, check_errors,
                                                expected_added_volume, make_cell_cycle)
from greybox_processes.cellcycle.process import CellCycle
from greybox_processes.errors import SimulationError, SpecError
from greybox_processes.framework.validation import validate_document

MU = math.log(2.0) / 30.0  # 1/min: a 30 min doubling time
Z = 4.0                    # tolerances in standard errors
CELLS = 20_000             # cells of the statistical tests (one compilation of the kernel)


def _kernel(threshold=DEFAULT_THRESHOLD, production=DEFAULT_PRODUCTION_PER_VOLUME,
            burst=DEFAULT_MEAN_BURST_SIZE, dtype=jnp.float64):
    return make_cell_cycle(CellCycleParams.create(threshold, production, burst, dtype=dtype))


def _cycle_to_trigger(init_fn, step_fn, key, birth_volume, *, mu=MU, dt=1.0, max_steps=400):
    """Grow cells born at ``birth_volume`` (no protein) until each triggers; the new key and
    each cell's added volume (trigger volume - birth volume, exact within the step).

    A cell that triggered is set dead (left untouched) so that it does not grow on while
    the others catch up: the kernel's cost per step grows with the bursts in it.
    """
    state = init_fn(key, birth_volume)
    rate = jnp.full(birth_volume.shape, mu)
    for _ in range(0, max_steps, 10):
        waiting = state.trigger_volume == 0
        if not bool(jnp.any(waiting)):
            break
        state = step_fn(state, rate, waiting, dt, 10)
    check_errors(state)
    trigger = np.asarray(state.trigger_volume)
    assert np.all(trigger > 0), "some cells did not reach the threshold: raise max_steps"
    return state.key, trigger - np.asarray(birth_volume)


def _slope_and_se(x, y):
    """Least-squares slope of y on x and its standard error."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dx = x - x.mean()
    slope = np.sum(dx * (y - y.mean())) / np.sum(dx * dx)
    residual = y - y.mean() - slope * dx
    se = math.sqrt(np.sum(residual ** 2) / (x.size - 2) / np.sum(dx * dx))
    return slope, se


# --- (1) the adder --------------------------------------------------------------------------

def test_cells_add_the_same_volume_whatever_their_birth_volume():
    """Cells born from 0.25 to 4 fL, followed over 6 cycles dividing symmetrically at the
    trigger: the added volume does not depend on the birth volume (slope 0, not the sizer's -1
    or the timer's +1), every start adds the same mean, and birth volumes converge to it."""
    init_fn, step_fn = _kernel()
    starts = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    per_start = CELLS // 5
    birth = jnp.asarray(np.repeat(starts, per_start))
    expected = expected_added_volume(DEFAULT_THRESHOLD, DEFAULT_PRODUCTION_PER_VOLUME,
                                     DEFAULT_MEAN_BURST_SIZE)
    key = jax.random.key(1)
    births, addeds = [], []
    for generation in range(6):
        key, added = _cycle_to_trigger(init_fn, step_fn, key, birth)
        births.append(np.asarray(birth))
        addeds.append(added)
        if generation == 0:
            # every starting size adds the same mean volume
            for group in np.split(added, starts.size):
                se = group.std(ddof=1) / math.sqrt(group.size)
                assert abs(group.mean() - expected) < Z * se
        birth = (birth + jnp.asarray(added)) / 2.0  # symmetric division at the trigger
    slope, se = _slope_and_se(np.concatenate(births), np.concatenate(addeds))
    assert abs(slope) < Z * se
    assert se < 0.02  # precise enough to tell the rules apart
    # the controls: a sizer (divide at a fixed volume) and a timer (after a fixed time)
    # fed the same birth volumes have slopes -1 and +1, far from the adder's
    x = np.concatenate(births)
    sizer_slope, _ = _slope_and_se(x, 2.0 * expected - x)
    timer_slope, _ = _slope_and_se(x, x * (math.exp(MU * math.log(2.0) / MU) - 1.0))
    assert sizer_slope == pytest.approx(-1.0) and timer_slope == pytest.approx(1.0)
    assert abs(slope - sizer_slope) > 40 * se and abs(slope - timer_slope) > 40 * se
    # size homeostasis: each start's distance from the adder's birth volume halves per cycle
    final = np.split(np.asarray(birth), starts.size)
    for start, group in zip(starts, final):
        se_group = group.std(ddof=1) / math.sqrt(group.size)
        assert abs(group.mean() - expected) < abs(start - expected) / 2 ** 6 + Z * se_group


# --- (2) the mean and noise of the added volume --------------------------------------------

@pytest.mark.parametrize("burst", [0.0, DEFAULT_MEAN_BURST_SIZE])
def test_added_volume_has_the_first_passage_mean_and_noise(burst):
    threshold, production = 40.0, 25.0
    init_fn, step_fn = _kernel(threshold, production, burst)
    cells = CELLS
    _, added = _cycle_to_trigger(init_fn, step_fn, jax.random.key(2), jnp.ones(cells))
    mean = expected_added_volume(threshold, production, burst)
    assert mean == (threshold + burst) / production
    cv = added_volume_cv(threshold, burst)
    variance = (cv * mean) ** 2
    assert abs(added.mean() - mean) < Z * added.std(ddof=1) / math.sqrt(cells)
    # the SE of a sample variance: sqrt((m4 - s^4) / n)
    s2 = added.var(ddof=1)
    m4 = np.mean((added - added.mean()) ** 4)
    assert abs(s2 - variance) < Z * math.sqrt((m4 - s2 ** 2) / cells)
    if burst == 0.0:
        # Poisson production: the added volume is the N-th event of a Poisson process in
        # volume, a gamma law of shape N and rate `production`
        assert cv == pytest.approx(1.0 / math.sqrt(threshold))
        p_value = stats.kstest(added, stats.gamma(a=threshold, scale=1.0 / production).cdf)[1]
        assert p_value > 1e-3


@pytest.mark.parametrize("burst", [0.0, 3.0])
def test_molecules_per_step_are_compound_poisson_in_the_added_volume(burst):
    production, cells = 50.0, CELLS
    init_fn, step_fn = _kernel(1e9, production, burst)
    volume = jnp.full(cells, 2.0)
    # ten steps of 0.15 min: the bursts are a Poisson process in the volume added over all
    state = step_fn(init_fn(3, volume), jnp.full(cells, MU), jnp.ones(cells, bool), 0.15, 10)
    made = np.asarray(state.protein)
    added = float(2.0 * (math.exp(MU * 1.5) - 1.0))
    mean = production * added
    # geometric bursts on {0, 1, ...} of mean b, at production/b per fL: variance (1 + 2b) x mean
    variance = mean * (1.0 + 2.0 * burst)
    assert np.all(made == np.floor(made)) and made.min() >= 0
    assert abs(made.mean() - mean) < Z * math.sqrt(variance / cells)
    s2 = made.var(ddof=1)
    m4 = np.mean((made - made.mean()) ** 4)
    assert abs(s2 - variance) < Z * math.sqrt((m4 - s2 ** 2) / cells)


def test_defaults_imply_the_typical_added_volume():
    assert expected_added_volume(DEFAULT_THRESHOLD, DEFAULT_PRODUCTION_PER_VOLUME,
                                 DEFAULT_MEAN_BURST_SIZE) == pytest.approx(
        TYPICAL_ADDED_VOLUME_FL)
    assert CellCycle.config_schema["threshold"]["_default"] == DEFAULT_THRESHOLD


# --- (3) exponential growth and (4) dead slots ------------------------------------------------

def test_volume_grows_exactly_exponentially():
    init_fn, step_fn = _kernel(1e9)  # never triggers within the test
    volume = np.array([0.3, 1.0, 2.5, 7.0])
    mu = np.array([0.0, MU, 0.05, -0.01])  # a shrinking cell follows the same law
    dt, n_steps = 0.1, 1000
    state = step_fn(init_fn(4, volume), mu, np.ones(4, bool), dt, n_steps)
    expected = volume * np.exp(mu * dt * n_steps)
    np.testing.assert_allclose(np.asarray(state.volume), expected, rtol=2000 * 2.0 ** -52)
    made = np.asarray(state.protein)
    assert made[0] == 0.0 and made[3] == 0.0  # no growth, no protein
    assert made[2] > made[1] > 0.0


def test_dead_slots_are_untouched():
    init_fn, step_fn = _kernel(threshold=5.0)
    rng = np.random.default_rng(5)
    n = CELLS
    volume = rng.uniform(0.5, 3.0, n)
    protein = rng.integers(0, 5, n).astype(np.float64)
    divide = rng.integers(0, 2, n).astype(np.float64)
    alive = rng.random(n) < 0.5
    mu = np.where(alive, MU, np.nan)  # garbage in dead slots raises nothing
    state = step_fn(init_fn(6, volume, protein, divide), mu, alive, 6.0, 10)
    check_errors(state)
    for name, before in (("volume", volume), ("protein", protein), ("divide", divide)):
        after = np.asarray(getattr(state, name))
        np.testing.assert_array_equal(after[~alive], before[~alive], err_msg=name)
    assert np.all(np.asarray(state.trigger_volume)[~alive] == 0.0)
    assert np.all(np.asarray(state.volume)[alive] > volume[alive])
    assert np.all(np.asarray(state.divide)[alive] == 1.0)  # 60 min to make 5 molecules


def test_a_broken_growth_rate_in_a_live_cell_is_an_error(core):
    process = CellCycle({"capacity": 3, "initial_cells": 2}, core=core)
    state = {**process.initial_state(), "alive": np.array([1.0, 1.0, 0.0]),
             "growth_rate": np.array([MU, np.inf, 0.0])}
    with pytest.raises(SimulationError, match="NaN or infinite"):
        process.update(state, 1.0)


# --- (5) a population: CellCycle + Division in both engines ------------------------------------

def test_population_is_identical_in_both_engines_and_grows_as_exp_mu_t(core):
    initial, capacity, time = 16, 512, 120.0
    document = cell_cycle_population(capacity=capacity, initial_cells=initial, growth_rate=MU,
                                     seed=7)
    pbg = gb.run(document, time, engine="pbg", core=core, progress=False)
    viv = gb.run(document, time, engine="vivarium", core=core, progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    for name in ("volume", "division_protein", "growth_rate", "alive", "divide", "divisions"):
        np.testing.assert_array_equal(pbg[f"cells.{name}"].values, viv[f"cells.{name}"].values,
                                      err_msg=name)
    t = pbg["time"].values
    alive = pbg["cells.alive"].values > 0.5
    volume = pbg["cells.volume"].values
    n_alive = alive.sum(axis=1)
    assert pbg["cells.volume"].dims == ("time", "cell")
    # division splits volume exactly: the total grows as exp(mu t) across every division
    total = np.where(alive, volume, 0.0).sum(axis=1)
    np.testing.assert_allclose(total, initial * TYPICAL_ADDED_VOLUME_FL * np.exp(MU * t),
                               rtol=1e-12)
    assert pbg["cells.divisions"].values.sum() == n_alive[-1] - initial
    np.testing.assert_array_equal(np.diff(n_alive), pbg["cells.divisions"].values[1:])
    # free slots hold nothing, newborns start without division protein, flags are cleared
    assert np.all(volume[~alive] == 0.0)
    protein = pbg["cells.division_protein"].values
    assert np.all(protein == np.floor(protein)) and protein.min() >= 0
    assert np.all(pbg["cells.divide"].values == 0.0)
    born = np.diff(alive.astype(int), axis=0) > 0
    assert born.any() and np.all(protein[1:][born] == 0.0)
    # in number: every cell starts at birth, at the mean added volume (the adder's steady
    # birth volume V_b for symmetric division). Once the cycles de-phase (the added volume's
    # CV is 0.39), the number grows as exp(mu t) and the mean cell volume is that of a steady
    # exponential population, 2 ln2 V_b (age density 2^(1-a), volume V_b 2^a), so
    # N(t) ~ N0 exp(mu t) / (2 ln 2). Over the last two doublings (~100-200 cells, so
    # ln N fluctuates by ~1/sqrt(N) < 0.1) the slope of ln N and its offset match.
    late = t >= time - 2 * math.log(2.0) / MU
    slope = np.polyfit(t[late], np.log(n_alive[late]), 1)[0]
    assert abs(slope / MU - 1.0) < 0.2, slope
    offset = np.log(n_alive[late]) - (math.log(initial) + MU * t[late]
                                      - math.log(2.0 * math.log(2.0)))
    assert abs(offset.mean()) < 0.15, offset


# --- (6) float32 -----------------------------------------------------------------------------

def test_float32_kernel_and_process_run(core):
    init_fn, step_fn = _kernel(dtype=jnp.float32)
    cells = 4000
    state = init_fn(8, jnp.ones(cells, jnp.float32))
    state = step_fn(state, jnp.full(cells, MU, jnp.float32), jnp.ones(cells, bool), 1.0, 10)
    assert state.volume.dtype == jnp.float32 and state.protein.dtype == jnp.float32
    _, added = _cycle_to_trigger(init_fn, step_fn, state.key, jnp.ones(cells, jnp.float32))
    assert added.dtype == np.float32 and np.all(added > 0)
    added = added.astype(np.float64)
    expected = expected_added_volume(DEFAULT_THRESHOLD, DEFAULT_PRODUCTION_PER_VOLUME,
                                     DEFAULT_MEAN_BURST_SIZE)
    assert abs(added.mean() - expected) < Z * added.std() / math.sqrt(cells)
    ds = gb.run(cell_cycle_population(capacity=32, initial_cells=2,
                                      cycle_config={"dtype": "float32"}), 40.0, core=core,
                progress=False)
    assert ds["cells.alive"].values[-1].sum() >= 2
    assert np.all(np.isfinite(ds["cells.volume"].values))


# --- (7) bad configs -------------------------------------------------------------------------

@pytest.mark.parametrize("config, message", [
    ({"threshold": 0.5}, "whole number >= 1"),
    ({"threshold": 64.5}, "whole number >= 1"),
    ({"production_per_volume": -3.0}, "must be > 0"),
    ({"production_per_volume": 0.0}, "never divides"),
    ({"mean_burst_size": -1.0}, "use 0 for one molecule at a time"),
    ({"mean_burst_size": float("nan")}, "must be finite"),
    ({"initial_growth_rate": -0.01}, "ln\\(2\\)/T"),
    ({"initial_volume": 0.0}, "positive number"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": 4, "initial_cells": 5}, "raise capacity"),
    ({"dtype": "float16"}, "float32"),
])
def test_bad_config_says_what_to_do(core, config, message):
    with pytest.raises(ValueError, match=message):
        CellCycle(config, core=core)


def test_bad_config_in_a_composite_is_a_spec_error(core):
    document = cell_cycle_population(capacity=8, cycle_config={"threshold": 0.0})
    with pytest.raises(SpecError, match="threshold"):
        validate_document(document, core=core)


# --- the YAML spec ---------------------------------------------------------------------------

def test_yaml_and_builder_agree_and_declare_the_division_rules(composites_dir, core):
    spec = composites_dir / "cell_cycle_population.yaml"
    from_yaml = gb.build_document(spec, core=core)
    assert from_yaml["state"] == gb.build_document(cell_cycle_population(), core=core)["state"]
    assert from_yaml["state"] == gb.build_document(gb.composites.cell_cycle_population(),
                                                   core=core)["state"]
    assert from_yaml["state"]["division"]["config"]["rules"] == {
        "volume": "split", "division_protein": "zero", "growth_rate": "copy"}
    small = gb.build_document(spec, params={"capacity": 16, "growth_rate": 0.01, "seed": 2},
                              core=core)
    built = gb.build_document(cell_cycle_population(capacity=16, growth_rate=0.01, seed=2),
                              core=core)
    assert small["state"] == built["state"]


def test_synchronized_start_and_the_steady_age_spread(core):
    from greybox_processes.cellcycle.process import CellCycle, steady_age_quantiles

    config = {"capacity": 2000, "initial_cells": 1000, "initial_volume": 1.2}
    synchronized = CellCycle(config, core).initial_state()
    assert np.all(synchronized["volume"][:1000] == 1.2)  # all born together, one size
    assert np.all(synchronized["division_protein"] == 0) and synchronized["volume"][1000] == 0
    spread = CellCycle({**config, "synchronized": False}, core)
    state = spread.initial_state()
    volume, protein = state["volume"][:1000], state["division_protein"][:1000]
    age = np.log2(volume / 1.2)
    # the ages follow the steady density 2^(1-a) ln 2: its CDF 2 (1 - 2^-a) at each age
    empirical = (np.arange(1000) + 0.5) / 1000
    np.testing.assert_allclose(2 * (1 - 2.0 ** -np.sort(age)), empirical, atol=1e-12)
    assert np.mean(age < 0.5) > 0.5  # young cells outnumber old ones
    expected = np.floor(spread.config["production_per_volume"] * (volume - 1.2))
    np.testing.assert_array_equal(protein, np.minimum(expected, spread.config["threshold"] - 1))
    assert protein.max() < spread.config["threshold"] and np.std(volume) > 0
    assert steady_age_quantiles(1)[0] == pytest.approx(-np.log2(0.75))
