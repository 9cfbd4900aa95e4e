"""PopulationMetabolism: per-cell growth from each cell's LacY in a shared medium.

The cells are e_coli_core with the lactose pathway (``textbook_lactose``); a handful of cells
per test keeps every test well under a few seconds. An update charges the medium for the LP
decided at the previous update (``exchange_rates``) over the growth the cell cycle makes at
``growth_rate``, then decides the next LP; :func:`grow` stands in for the cell cycle.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port
from greybox_processes.framework.validation import validate_document
from greybox_processes.metabolism.errors import (InfeasibleError, ModelLoadError,
                                                 UnknownExchangeError)
from greybox_processes.metabolism.expression import DEFAULT_KCAT
from greybox_processes.metabolism.lac import CYTOPLASM_L_PER_GDW
from greybox_processes.metabolism.population_fba import solve_each_cell, solve_population
from greybox_processes.metabolism.population_process import (AVOGADRO, LAC_SPECIES,
                                                              RATE_COLUMNS,
                                                              PopulationMetabolism,
                                                              availability_cap,
                                                              biomass_elements, element_counts,
                                                              growth_integral)
from greybox_processes.metabolism.uptake import DEFAULT_KINETICS, uptake_bound

LACY, LACZ = LAC_SPECIES.index("lacY"), LAC_SPECIES.index("lacZ")
#: Growth and fluxes of the shared method agree with per-cell LPs to this (1/h, mmol/gDW/h),
#: as in test_population_fba.py.
TOL = 1e-7


# --- helpers ------------------------------------------------------------------------------

def make_process(core, **config):
    return PopulationMetabolism({"capacity": 6, "initial_cells": 4, **config}, core=core)


def cells_state(capacity, alive, volume, lacy, lacz, glucose, lactose, growth_rate=None):
    """A state of the process's ports; per-cell lists fill slots 0.. (the rest are free).

    No LP pending (``exchange_rates`` 0) and, by default, no growth: the first update charges
    nothing and decides the cells' LPs."""
    def slots(values):
        out = np.zeros(capacity)
        out[:len(values)] = values
        return out

    lac = np.zeros((capacity, len(LAC_SPECIES)))
    lac[:, LACY], lac[:, LACZ] = slots(lacy), slots(lacz)
    return {"alive": slots(alive), "volume": slots(volume), "lac": lac,
            "growth_rate": np.zeros(capacity) if growth_rate is None else growth_rate,
            "exchange_rates": np.zeros((capacity, len(RATE_COLUMNS))),
            "glucose": float(glucose), "lactose": float(lactose), "ledger": np.zeros(2)}


def expected_lactose_bound(lacy, lacz, volume_fl, glucose, lactose):
    """The module docstring's formula, written out from the cited constants (mmol/gDW/h)."""
    dry_mass = volume_fl * 1e-15 / CYTOPLASM_L_PER_GDW  # gDW
    per_gdw = 1e3 / AVOGADRO / dry_mass
    k_l, k_g = DEFAULT_KINETICS["EX_lcts_e"].km, DEFAULT_KINETICS["EX_glc__D_e"].km
    permease = DEFAULT_KCAT["LCTSt"] * 3600 * lacy * per_gdw * lactose / (k_l + lactose) * \
        k_g / (k_g + glucose)
    return np.minimum(permease, DEFAULT_KCAT["LACZ"] * 3600 * lacz * per_gdw)


def advance(state, update):
    """The state after an update (the stores accumulate)."""
    new = dict(state)
    for key, delta in update.items():
        new[key] = state[key] + delta
    return new


def grow(state, interval):
    """The cell cycle's growth over ``interval`` min: ``V e^(mu dt)`` at the store's rate."""
    live = state["alive"] > 0.5
    volume = state["volume"].copy()
    volume[live] *= np.exp(state["growth_rate"][live] * interval)
    return {**state, "volume": volume}


def step(process, state, interval):
    """``(update, state after it)``: the metabolism's update and the cycle's growth, both
    from the state at the start of the interval (as the engines run them)."""
    update = process.update(state, interval)
    return update, advance(grow(state, interval), update)


def resolvable_glucose(process):
    """mM below which the glucose uptake bound is under the solver floor (taken as 0)."""
    kinetics, floor = process.glucose_kinetics, process.solver_floor
    return kinetics.km * floor / (kinetics.vmax - floor)


def budget(process, state):
    """``(e,)`` mM of C and N in medium + ledger + the live cells' biomass."""
    model = process.model
    medium = np.array([state["glucose"], state["lactose"]])
    live = state["alive"] > 0.5
    biomass = process.dry_mass(state["volume"][live]).sum() * process.cells_per_litre
    return medium @ element_counts(model, process.exchanges) + state["ledger"] + \
        biomass * biomass_elements(model)


@pytest.fixture()
def population_core(core):
    for cls in (PopulationMetabolism, StaticCells):
        core.register_link(cls.__name__, cls)
    return core


# --- (1) each cell's growth is its own LP's optimum ----------------------------------------

def test_growth_equals_each_cells_own_lp(population_core):
    rng = np.random.default_rng(16)
    n = 10
    process = make_process(population_core, capacity=n, initial_cells=n)
    volume = rng.uniform(1.0, 2.0, n)
    lacy = rng.integers(0, 20000, n).astype(float)
    lacy[:3] = 0.0  # cells without permease
    lacz = rng.integers(0, 5000, n).astype(float)
    state = cells_state(n, np.ones(n), volume, lacy, lacz, glucose=0.05, lactose=0.58)
    update = process.update(state, 1.0)
    cells = process.cell_bounds(state, 1.0)
    # the bounds are the documented formula (the medium is plentiful: no availability cap)
    np.testing.assert_allclose(cells.bounds[:, 0], 10.5 * 0.05 / (0.015 + 0.05), rtol=1e-12)
    np.testing.assert_allclose(cells.bounds[:, 1], expected_lactose_bound(
        lacy, lacz, volume, 0.05, 0.58), rtol=1e-12)
    each = solve_each_cell(process.model, process.exchanges, cells.bounds,
                           on_infeasible="status")
    expected_per_min = np.where(each.status == 1, each.growth, 0.0) / 60.0
    np.testing.assert_allclose(update["growth_rate"], expected_per_min, rtol=0, atol=TOL / 60)
    assert np.all(update["growth_rate"] > 0)  # all grow on the glucose
    # and against an independent code path: cobra's own optimum per cell
    for row, rate in zip(cells.bounds, update["growth_rate"]):
        with process.model:
            process.model.reactions.EX_glc__D_e.lower_bound = -row[0]
            process.model.reactions.EX_lcts_e.lower_bound = -row[1]
            assert abs(process.model.slim_optimize() / 60.0 - rate) <= TOL / 60


def test_the_induced_permease_gives_the_deterministic_models_vmax(population_core):
    """A cell holding lac.py's fully induced LacY takes up lactose at uptake.py's v_max."""
    from greybox_processes.metabolism.lac import LacParameters, induced_lactose_vmax

    p = LacParameters.from_sbml()
    m_star = (p.gamma_0 + p.alpha_M) / (p.gamma_M + p.mu)
    p_star = p.alpha_P * m_star * np.exp(-p.mu * (p.tau_B + p.tau_P)) / (p.gamma_P + p.mu)
    volume = 1.3  # fL
    lacy = p_star * 1e-3 * AVOGADRO * volume * 1e-15  # molecules at P* mM
    process = make_process(population_core, initial_cells=1)
    lactose = 1e3  # mM: saturating
    bound = process.lactose_bounds([lacy], [1e9], process.dry_mass([volume]), 0.0, lactose)
    vmax = induced_lactose_vmax(p)
    assert vmax == pytest.approx(DEFAULT_KINETICS["EX_lcts_e"].vmax, rel=1e-12)
    assert bound[0] == pytest.approx(vmax * lactose / (p.K_Le + lactose), rel=1e-12)


# --- (2) what the medium loses is what the cells take up ------------------------------------

def test_medium_pays_for_the_previous_lp_over_the_growth_the_cycle_makes(population_core):
    process = make_process(population_core, initial_biomass=0.002, initial_cells=3,
                           initial_volume=1.2)
    volume = np.array([1.0, 1.7, 2.3])
    state = cells_state(6, [1, 1, 1], volume, [0, 3000, 15000], [0, 800, 4000],
                        glucose=0.03, lactose=0.6)
    interval = 2.0  # minutes
    # the scale: the initial cells carry the initial culture biomass exactly
    density = 1.0 / CYTOPLASM_L_PER_GDW
    np.testing.assert_allclose(process.dry_mass(volume), volume * 1e-15 * density, rtol=1e-15)
    np.testing.assert_allclose(process.cells_per_litre * 3 * 1.2e-15 * density, 0.002,
                               rtol=1e-14)
    first = process.update(state, interval)
    # nothing was pending: the first update only decides each cell's own LP
    assert first["glucose"] == 0.0 and first["lactose"] == 0.0
    assert np.all(first["ledger"] == 0.0)
    cells = process.cell_bounds(state, interval)
    each = solve_each_cell(process.model, process.exchanges, cells.bounds)
    assert np.all(each.status == 1)
    rates = first["exchange_rates"][:3]
    np.testing.assert_allclose(rates[:, :2], each.fluxes, rtol=0, atol=TOL)
    np.testing.assert_allclose(first["growth_rate"][:3] * 60.0, each.growth, rtol=0, atol=TOL)
    # the next interval: the cycle grows each cell at that rate, and the medium pays for it
    after = advance(grow(state, interval), first)
    second = process.update(after, interval)
    mu = after["growth_rate"][:3]  # 1/min
    # (the first interval grew nothing: the growth rate at its start was 0)
    np.testing.assert_array_equal(after["volume"][:3], volume)
    mass = volume * 1e-15 * density  # gDW at the start of the second interval
    hours = np.expm1(mu * interval) / mu / 60.0  # int_0^dt e^(mu s) ds, in h
    expected = (mass * process.cells_per_litre * hours) @ rates
    assert second["glucose"] == pytest.approx(expected[0], rel=1e-12, abs=0)
    assert second["lactose"] == pytest.approx(expected[1], rel=1e-12, abs=0)
    np.testing.assert_allclose(second["ledger"], expected[2:], rtol=1e-12)
    assert second["glucose"] < 0 and second["lactose"] < 0 and second["ledger"][0] > 0
    # the exponential growth, not the first-order charge at the starting mass
    linear = (mass * process.cells_per_litre * interval / 60.0) @ rates
    assert abs(second["glucose"] - linear[0]) > 1e-3 * abs(linear[0])


def test_growth_integral_is_the_biomass_time_of_exponential_growth():
    mu, dt = np.array([0.0, 1e-3, 0.0145, 0.05]), 3.0
    s = np.linspace(0.0, dt, 20001)
    numeric = np.trapezoid(np.exp(np.outer(mu, s)), s, axis=1)
    np.testing.assert_allclose(growth_integral(mu, dt), numeric, rtol=1e-8)
    assert growth_integral(0.0, dt) == dt
    # mu times it is the biomass made per unit of starting biomass
    np.testing.assert_allclose(mu * growth_integral(mu, dt), np.expm1(mu * dt), rtol=1e-14)


def test_the_element_budget_closes_every_interval_through_a_division(population_core):
    """medium + ledger + the cells' biomass, per element, over steps of the pipeline."""
    process = make_process(population_core, initial_biomass=0.05, initial_cells=3)
    state = cells_state(6, [1, 1, 1], [1.0, 1.5, 1.9], [0, 4000, 12000], [0, 1000, 3000],
                        glucose=0.05, lactose=0.6)
    start = budget(process, state)
    for k in range(8):
        _, state = step(process, state, 1.0)
        if k == 3:  # cell 2 divides into slot 3: volume split, rates and growth copied
            for name in ("growth_rate", "exchange_rates", "lac", "volume", "alive"):
                state[name] = state[name].copy()
            for name in ("growth_rate", "exchange_rates", "lac"):
                state[name][3] = state[name][2]
            state["volume"][[2, 3]] = state["volume"][2] / 2
            state["alive"][3] = 1.0
        content = process.dry_mass(state["volume"][:4]).sum() * process.cells_per_litre * \
            biomass_elements(process.model)
        assert np.all(np.abs(budget(process, state) - start) <= 1e-9 * content)
    assert state["glucose"] < 0.05 and state["ledger"][0] > 0  # matter moved


def test_availability_cap_shares_what_is_left():
    rng = np.random.default_rng(3)
    bounds, weights = rng.uniform(0, 5, 50), rng.uniform(0.1, 1.0, 50)
    assert availability_cap(bounds, weights, 1e9) == np.inf
    amount = 0.4 * float(weights @ bounds)
    cap = availability_cap(bounds, weights, amount)
    capped = np.minimum(bounds, cap)
    assert float(weights @ capped) == pytest.approx(amount, rel=1e-12)
    assert np.all(capped[bounds < cap] == bounds[bounds < cap])  # small bounds are kept
    assert availability_cap(bounds, weights, 0.0) == 0.0


def test_uptake_never_exceeds_the_medium(population_core, caplog):
    # a dense culture and little glucose: the cells could take up far more than is there
    process = make_process(population_core, initial_biomass=5.0)
    state = cells_state(6, [1, 1, 1, 1], [1, 1.5, 2, 1.2], [0, 500, 5000, 20000],
                        [0, 100, 1000, 5000], glucose=1e-3, lactose=2e-3)
    for _ in range(6):
        before = (state["glucose"], state["lactose"])
        _, state = step(process, state, 1.0)
        assert state["glucose"] >= 0.0 and state["lactose"] >= 0.0
        assert state["glucose"] <= before[0] and state["lactose"] <= before[1]
    assert state["glucose"] < 1e-6  # (nearly) used up
    # the cap was computed on the growth the cycle then made: nothing had to be clamped
    assert "exceeds the medium" not in caplog.text


# --- (3) cells without LacY stop when glucose runs out -------------------------------------

def test_cells_without_lacy_stop_growing_when_glucose_runs_out(population_core):
    process = make_process(population_core, initial_biomass=0.3)
    lacy, lacz = [0, 0, 8000, 8000], [0, 0, 2000, 2000]
    state = cells_state(6, [1, 1, 1, 1], [1.0, 1.5, 1.0, 1.5], lacy, lacz, glucose=0.2,
                        lactose=0.58)
    history = []
    for _ in range(40):
        _, state = step(process, state, 1.0)
        history.append((state["glucose"], state["growth_rate"][:4].copy()))
    on_glucose = [rates for glucose, rates in history if glucose > 0.05]
    after = [rates for glucose, rates in history if glucose < resolvable_glucose(process)]
    assert on_glucose and len(after) >= 5, "glucose should run out during the run"
    for rates in on_glucose:  # every cell grows on glucose
        assert np.all(rates > 0)
    for rates in after[1:]:
        assert np.all(rates[:2] == 0.0), "cells without LacY cannot use lactose"
        assert np.all(rates[2:] > 0.002), "cells with LacY grow on lactose"
    assert state["lactose"] < 0.58


def test_infeasible_cells_take_up_their_bounds_as_maintenance(population_core):
    process = make_process(population_core, initial_cells=2)
    state = cells_state(6, [1, 1], [1.0, 1.0], [0, 0], [0, 0], glucose=2e-4, lactose=0.5)
    cells = process.cell_bounds(state, 1.0)
    assert solve_each_cell(process.model, process.exchanges, cells.bounds,
                           on_infeasible="status").status.tolist() == [-1, -1]
    update = process.update(state, 1.0)
    assert np.all(update["growth_rate"] == 0.0)
    rates = update["exchange_rates"][:2]
    np.testing.assert_array_equal(rates[:, :2], -cells.bounds)
    # making no biomass, they pass what they take up on through the untracked exchanges
    np.testing.assert_allclose(rates[:, 2:], -rates[:, :2] @ element_counts(
        process.model, process.exchanges), rtol=1e-12)
    # ... charged in the next interval, in which they do not grow
    second = process.update(advance(grow(state, 1.0), update), 1.0)
    weights = process.dry_mass([1.0, 1.0]) * process.cells_per_litre / 60.0
    assert second["glucose"] == pytest.approx(-cells.bounds[:, 0] @ weights, rel=1e-12)
    assert second["lactose"] == 0.0
    # DynamicFBA's maintenance-only LP (growth 0, ATP maintenance up to its requirement)
    # takes the glucose to its bound, which is what the process charges the medium
    model = process.model
    with model:
        model.reactions.EX_glc__D_e.lower_bound = -cells.bounds[0, 0]
        model.reactions.EX_lcts_e.lower_bound = 0.0
        model.reactions.Biomass_Ecoli_core.bounds = (0.0, 0.0)
        atpm = model.reactions.ATPM
        atpm.bounds = (0.0, atpm.lower_bound)
        model.objective = atpm
        model.slim_optimize()
        assert model.reactions.EX_glc__D_e.flux == pytest.approx(-cells.bounds[0, 0],
                                                                 rel=1e-9)
    strict = make_process(population_core, initial_cells=2, on_infeasible="raise")
    with pytest.raises(InfeasibleError, match="on_infeasible='status'"):
        strict.update(state, 1.0)


# --- (4) free slots ------------------------------------------------------------------------

def test_free_slots_get_no_growth_and_take_nothing(population_core):
    capacity = 6
    alive = np.array([1, 0, 1, 0, 1, 0], float)
    volume = np.array([1.0, 9.0, 1.5, 0.0, 2.0, 3.0])  # stale values in free slots
    lacy = [4000, 9e5, 0, 7e5, 12000, 1e6]
    lacz = [1000, 9e5, 0, 7e5, 3000, 1e6]
    stale = np.array([0.0, 0.5, 0.0, 0.3, 0.0, 0.2])
    state = cells_state(capacity, alive, volume, lacy, lacz, glucose=0.01, lactose=0.6,
                        growth_rate=stale)
    state["exchange_rates"][alive == 0] = -7.0  # stale LPs of dead cells
    process = make_process(population_core)
    update, after = step(process, state, 1.0)
    assert np.all(after["growth_rate"][alive == 0] == 0.0)
    assert np.all(after["exchange_rates"][alive == 0] == 0.0)
    assert np.all(after["growth_rate"][alive == 1] > 0)
    second = process.update(after, 1.0)
    # the same cells packed into a population without free slots change the medium alike
    live = alive == 1
    packed = cells_state(3, [1, 1, 1], volume[live], np.array(lacy)[live],
                         np.array(lacz)[live], glucose=0.01, lactose=0.6)
    packed_process = make_process(population_core, capacity=3, initial_cells=3,
                                  initial_biomass=0.001 * 3 / 4)
    packed_update, packed_after = step(packed_process, packed, 1.0)
    packed_second = packed_process.update(packed_after, 1.0)
    np.testing.assert_allclose(packed_after["growth_rate"], after["growth_rate"][live],
                               rtol=1e-12)
    for name in ("glucose", "lactose"):
        assert update[name] == packed_update[name] == 0.0  # nothing was pending
        assert second[name] < 0
        assert packed_second[name] == pytest.approx(second[name], rel=1e-12)


# --- (5) a composite in both engines -------------------------------------------------------

class StaticCells(GreyboxProcess):
    """Fixed cells for the tests: the alive mask, volumes and lac counts, held constant."""

    config_schema = {"capacity": {"_type": "integer", "_default": 4},
                     "volume": {"_type": "list[float]", "_default": []},
                     "lacy": {"_type": "list[float]", "_default": []},
                     "lacz": {"_type": "list[float]", "_default": []}}

    def inputs(self):
        n = self.config["capacity"]
        return {"alive": array_port((n,)), "volume": array_port((n,), "fL", divide="split"),
                "lac": array_port((n, len(LAC_SPECIES)), divide="binomial"),
                "growth_rate": array_port((n,), "1/min", divide="copy")}

    def outputs(self):
        ports = self.inputs()
        return {name: ports[name] for name in ("alive", "volume", "lac")}

    def initial_state(self):
        cfg = self.config
        state = cells_state(cfg["capacity"], np.ones(len(cfg["volume"])), cfg["volume"],
                            cfg["lacy"], cfg["lacz"], 0.0, 0.0)
        return {key: state[key] for key in ("alive", "volume", "lac", "growth_rate")}

    def update(self, state, interval):
        return {name: np.zeros_like(np.asarray(state[name], dtype=float))
                for name in ("alive", "volume", "lac")}


def culture_document(capacity=4):
    cell_ports = ["alive", "volume", "lac", "growth_rate"]
    wires = {**{p: ["cells", p] for p in [*cell_ports, "exchange_rates"]},
             **{p: ["medium", p] for p in ("glucose", "lactose", "ledger")}}
    return {"state": {
        "cells": {}, "medium": {},
        "static": {"_type": "process", "address": "local:StaticCells",
                   "config": {"capacity": capacity, "volume": [1.0, 1.4, 1.8],
                              "lacy": [0.0, 2000.0, 9000.0], "lacz": [0.0, 500.0, 2500.0]},
                   "interval": 1.0, "inputs": {p: ["cells", p] for p in cell_ports},
                   "outputs": {p: ["cells", p] for p in ("alive", "volume", "lac")}},
        "metabolism": {"_type": "process", "address": "local:PopulationMetabolism",
                       "config": {"capacity": capacity, "initial_cells": 3,
                                  "initial_volume": 1.4, "initial_biomass": 0.2,
                                  "initial_glucose": 0.1, "initial_lactose": 0.3},
                       "interval": 1.0, "inputs": dict(wires),
                       "outputs": {p: wires[p] for p in ("growth_rate", "exchange_rates",
                                                         "glucose", "lactose", "ledger")}},
    }}


def test_composite_same_trajectory_in_both_engines(population_core):
    pbg = gb.run(culture_document(), 30.0, engine="pbg", core=population_core, progress=False)
    viv = gb.run(culture_document(), 30.0, engine="vivarium", core=population_core,
                 progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    for name in ("cells.growth_rate", "medium.glucose", "medium.lactose"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values, err_msg=name)
    glucose, rates = pbg["medium.glucose"].values, pbg["cells.growth_rate"].values
    # used up, to what the cells' uptake at the solver floor takes in an interval (~1e-9 mM)
    assert glucose[0] == 0.1 and glucose[-1] < 1e-7 * glucose[0]
    assert np.all(np.diff(glucose) <= 0)
    assert np.all(rates[:, 3] == 0.0)  # the free slot
    assert rates[-1, 0] == 0.0 and rates[-1, 2] > 0.0  # after glucose: only LacY cells grow
    assert pbg["cells.growth_rate"].attrs.get("units") == "1/min"


# --- (6) bad config ------------------------------------------------------------------------

@pytest.mark.parametrize("config, error, match", [
    ({"model": "no_such_model"}, ModelLoadError, "no_such_model"),
    ({"glucose_exchange": "EX_glucose"}, UnknownExchangeError, "EX_glucose"),
    ({"capacity": 0}, ValueError, "capacity"),
    ({"lac_species": ["mrna", "lacZ"]}, ValueError, "lacY"),
    ({"method": "pfba"}, ValueError, "method"),
    ({"kcat_lacy": -1.0}, ValueError, "kcat_lacy"),
    ({"initial_biomass": 0.0}, ValueError, "initial_biomass"),
    ({"on_infeasible": "ignore"}, ValueError, "on_infeasible"),
])
def test_bad_config_is_a_clear_error(population_core, config, error, match):
    with pytest.raises(error, match=match):
        PopulationMetabolism({"capacity": 4, **config}, core=population_core)


@pytest.mark.parametrize("config, match", [
    ({"model": "no_such_model"}, "no_such_model"),
    ({"lactose_exchange": "EX_lactose"}, "EX_lactose"),
    ({"capacity": 0}, "capacity"),
])
def test_bad_config_in_a_spec_is_a_spec_error(population_core, config, match):
    document = culture_document()
    document["state"]["metabolism"]["config"].update(config)
    with pytest.raises(gb.SpecError, match=match) as info:
        validate_document(document, core=population_core)
    assert info.value.path[0] == "metabolism"


def test_an_intervention_rederives_the_bounds_and_fixed_keys_refuse(population_core):
    process = make_process(population_core, initial_cells=1)
    state = cells_state(6, [1], [1.0], [3000], [1e6], glucose=0.0, lactose=0.5)
    before = process.cell_bounds(state, 1.0).bounds[0, 1]
    process.config["kcat_lacy"] = 2 * DEFAULT_KCAT["LCTSt"]
    process.parameters_changed(["kcat_lacy"])
    assert process.cell_bounds(state, 1.0).bounds[0, 1] == pytest.approx(2 * before, rel=1e-12)
    with pytest.raises(ValueError, match="capacity"):
        process.config_changed(["capacity"])


# --- method: etfl, and iJO1366 -------------------------------------------------------------

def test_etfl_caps_growth_at_the_preculture_ribosomes(population_core):
    process = make_process(population_core, method="etfl", initial_cells=2)
    cap = process.ribosome_growth_cap
    assert cap > 0
    # lactose on top of the pre-culture's glucose cannot make the cells grow faster
    state = cells_state(6, [1, 1], [1.0, 1.0], [0, 30000], [0, 8000],
                        glucose=process.config["initial_glucose"], lactose=5.0)
    rates = process.update(state, 1.0)["growth_rate"][:2] * 60.0
    assert np.all(rates <= cap * (1 + 1e-9)) and rates[1] == pytest.approx(cap, rel=1e-9)
    plain = make_process(population_core, initial_cells=2).update(state, 1.0)
    assert plain["growth_rate"][1] * 60.0 > cap


@pytest.mark.slow
def test_ijo1366_cells_equal_their_own_lps(population_core):
    process = make_process(population_core, model="iJO1366", initial_cells=3)
    state = cells_state(6, [1, 1, 1], [1.0, 1.5, 2.0], [0, 4000, 15000], [0, 1000, 4000],
                        glucose=0.02, lactose=0.6)
    update = process.update(state, 1.0)
    cells = process.cell_bounds(state, 1.0)
    each = solve_each_cell(process.model, process.exchanges, cells.bounds,
                           on_infeasible="status")
    np.testing.assert_allclose(update["growth_rate"][:3] * 60.0, each.growth, atol=TOL)
    assert np.all(update["growth_rate"][:3] > 0) and update["growth_rate"][2] > \
        update["growth_rate"][0]


@pytest.mark.slow
def test_ijo1366_etfl_translates_from_charged_trnas_under_a_ribosome_cap(population_core):
    from greybox_processes.metabolism.translation import coupled_charged_trnas

    process = make_process(population_core, model="iJO1366", method="etfl", initial_cells=2)
    assert len(coupled_charged_trnas(process.model)) == 21  # 20 amino acids + fMet
    state = cells_state(6, [1, 1], [1.0, 1.0], [0, 30000], [0, 8000],
                        glucose=process.config["initial_glucose"], lactose=5.0)
    rates = process.update(state, 1.0)["growth_rate"][:2] * 60.0
    assert rates[0] > 0 and rates[1] == pytest.approx(process.ribosome_growth_cap, rel=1e-9)


# --- the ledger, the single-cell DynamicFBA, unknown ids -------------------------------------

def test_recorded_read_outs_equal_each_cells_own_lp(population_core):
    from greybox_processes.metabolism.population_process import ELEMENTS, element_counts

    process = make_process(population_core)
    record = dict(zip(process.untracked, element_counts(process.model, process.untracked)))
    rng = np.random.default_rng(3)
    bounds = np.column_stack([np.full(12, 8.0), rng.choice([0.0, 0.4, 1.1, 2.5, 3.0], 12)])
    shared = solve_population(process.model, process.exchanges, bounds, record=record)
    each = solve_each_cell(process.model, process.exchanges, bounds, record=record)
    assert shared.recorded.shape == (12, len(ELEMENTS))
    np.testing.assert_allclose(shared.recorded, each.recorded, atol=1e-6)
    # what leaves through the untracked exchanges is what the tracked ones and growth do not
    # hold (the network is balanced): carbon in = carbon out + carbon in biomass
    from greybox_processes.metabolism.population_process import biomass_elements

    tracked = shared.fluxes @ element_counts(process.model, process.exchanges)
    balance = tracked + shared.recorded + shared.growth[:, None] * biomass_elements(
        process.model)[None, :]
    np.testing.assert_allclose(balance, 0.0, atol=1e-6)


def test_the_ledger_moves_with_the_mediums_weights(population_core):
    process = make_process(population_core, initial_cells=3)
    state = cells_state(6, [1, 1, 1], [1.0, 1.5, 2.0], [0, 4000, 9000], [0, 2000, 4000],
                        glucose=0.05, lactose=0.6)
    first, after = step(process, state, 2.0)
    growth, fluxes, secreted = process._solve(process.cell_bounds(state, 2.0))
    np.testing.assert_allclose(first["exchange_rates"][:3, 2:], secreted, rtol=1e-12)
    second = process.update(after, 2.0)
    weights = process.weights(process.dry_mass(after["volume"][:3]), after["growth_rate"][:3],
                              2.0)
    np.testing.assert_allclose(second["ledger"], weights @ secreted, rtol=1e-12)
    np.testing.assert_allclose([second["glucose"], second["lactose"]], weights @ fluxes,
                               rtol=1e-12)
    assert second["ledger"][0] > 0  # carbon leaves as CO2 (and acetate)


def test_single_cell_dfba_has_the_populations_lp_at_t0(population_core):
    process = make_process(population_core, initial_cells=2, initial_lactose=2.0)
    lac = np.zeros(len(LAC_SPECIES))
    for lacy, lacz in ((0.0, 0.0), (3000.0, 800.0)):
        lac[LACY], lac[LACZ] = lacy, lacz
        dfba = process.single_cell_dfba(lac=lac, volume=1.3)
        with dfba.initial_lp() as model:
            single = model.slim_optimize()
            lactose_uptake = -model.reactions.get_by_id("EX_lcts_e").lower_bound
        state = cells_state(6, [1], [1.3], [lacy], [lacz], process.config["initial_glucose"],
                            2.0)
        cells = process.cell_bounds(state, 1e-9)  # no availability cap in a tiny interval
        assert single == pytest.approx(process._solve(cells)[0][0], abs=1e-9)
        assert lactose_uptake == pytest.approx(cells.bounds[0, 1], rel=1e-12)
    assert lactose_uptake > 0


def test_initial_state_holds_the_first_intervals_lp(population_core):
    """t = 0: the initial cells (no lac enzymes) on the initial medium, one LP."""
    process = make_process(population_core, initial_cells=3, initial_lactose=2.0)
    initial = process.initial_state()
    single = process.single_cell_dfba()  # the population's LP of a cell at t = 0
    with single.initial_lp() as model:
        growth = model.slim_optimize()
        glucose = model.reactions.get_by_id("EX_glc__D_e").flux
    np.testing.assert_allclose(initial["growth_rate"][:3], growth / 60.0, rtol=0, atol=TOL / 60)
    np.testing.assert_allclose(initial["exchange_rates"][:3, 0], glucose, rtol=0, atol=TOL)
    assert np.all(initial["exchange_rates"][:3, 1] == 0.0)  # no LacY: no lactose
    assert np.all(initial["growth_rate"][3:] == 0.0)
    assert np.all(initial["exchange_rates"][3:] == 0.0)
    # its first update charges exactly that LP over the first interval's growth
    state = {**cells_state(6, [1, 1, 1], [1.0, 1.0, 1.0], [0] * 3, [0] * 3,
                           process.config["initial_glucose"], 2.0), **initial}
    update = process.update(state, 1.0)
    weights = process.weights(process.dry_mass(np.ones(3)), initial["growth_rate"][:3], 1.0)
    assert update["glucose"] == pytest.approx(weights @ initial["exchange_rates"][:3, 0],
                                              rel=1e-12)


def test_a_growth_rate_that_is_not_the_pending_lps_is_an_error(population_core):
    process = make_process(population_core, initial_cells=2)
    state = {**cells_state(6, [1, 1], [1.0, 1.0], [0, 0], [0, 0], 0.2, 0.5),
             **process.initial_state()}
    process.update(state, 1.0)  # consistent: fine
    state["growth_rate"] = state["growth_rate"].copy()
    state["growth_rate"][1] = math.log(2.0) / 30.0  # e.g. CellCycle's initial_growth_rate
    with pytest.raises(gb.SimulationError, match="slot 1: growth_rate 0.0231049"):
        process.update(state, 1.0)


@pytest.mark.parametrize("relative", [3e-6, -3e-6])
def test_solver_noise_in_the_pending_balance_is_not_an_error(population_core, relative):
    """iJO1366's LPs balance to ~1e-6 relative at times (GLPK's tolerances act on the scaled
    problem): that passes; a written growth rate off by 1e-3 does not."""
    from greybox_processes.metabolism.population_process import BALANCE_RTOL

    assert 3e-6 < BALANCE_RTOL <= 1e-4
    process = make_process(population_core, initial_cells=2)
    state = {**cells_state(6, [1, 1], [1.0, 1.0], [0, 0], [0, 0], 0.2, 0.5),
             **process.initial_state()}
    noisy = state["growth_rate"].copy()
    noisy[1] *= 1.0 + relative
    process.update({**state, "growth_rate": noisy}, 1.0)
    noisy[1] = state["growth_rate"][1] * (1.0 + 1e-3)
    with pytest.raises(gb.SimulationError, match="slot 1"):
        process.update({**state, "growth_rate": noisy}, 1.0)


def test_uptake_bounds_below_the_solver_floor_are_zero(population_core):
    process = make_process(population_core, initial_cells=2)
    assert process.solver_floor == pytest.approx(10 * process.model.tolerance)
    kinetics = process.glucose_kinetics
    # a glucose bound of 3.5e-7 mmol/gDW/h: under the floor (GLPK resolves 1e-7)
    glucose = 3.5e-7 * kinetics.km / (kinetics.vmax - 3.5e-7)
    state = cells_state(6, [1, 1], [1.0, 1.0], [0, 20000], [0, 8000], glucose, 1.0)
    cells = process.cell_bounds(state, 1.0)
    assert np.all(cells.bounds[:, 0] == 0.0) and cells.bounds[1, 1] > 1.0
    rates = process.update(state, 1.0)["exchange_rates"]
    assert np.all(rates[:2, 0] == 0.0) and rates[1, 1] < 0.0  # grows on lactose alone
    # at ten times the floor the bound is the kinetics'
    state["glucose"] = 100 * glucose
    assert process.cell_bounds(state, 1.0).bounds[0, 0] == pytest.approx(
        uptake_bound(kinetics, 100 * glucose), rel=1e-12)


def test_single_cell_dfba_carries_the_etfl_cap(population_core):
    process = make_process(population_core, method="etfl", initial_cells=1)
    dfba = process.single_cell_dfba()
    assert dfba.biomass_rxn.upper_bound == pytest.approx(process.ribosome_growth_cap)


def test_unknown_exchange_names_the_key_the_model_and_the_fix(population_core):
    with pytest.raises(UnknownExchangeError) as info:
        make_process(population_core, lactose_exchange="EX_lcts")
    message = str(info.value)
    for part in ("lactose_exchange", "'EX_lcts'", "textbook_lactose", "EX_lcts_e", "Fix"):
        assert part in message, message
    with pytest.raises(UnknownExchangeError, match="not an exchange"):
        make_process(population_core, glucose_exchange="PFK")  # a reaction, not an exchange
