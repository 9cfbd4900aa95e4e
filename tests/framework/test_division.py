"""Populations in per-cell stores: the pure dividers, the Division step and its rule checks."""
from __future__ import annotations

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import GreyboxError, SimulationError, SpecError
from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.division import (
    VIVARIUM_DIVIDERS,
    CapacityError,
    binomial_parts,
    daughter_slots,
    divide_cells,
    split_parts,
    vivarium_divider,
)
from greybox_processes.framework.population import Division
from greybox_processes.framework.ports import DIVISION_RULES, array_port, port_divide
from greybox_processes.framework.validation import validate_document


# --- test-only processes ------------------------------------------------------------------

class ToyGrowth(GreyboxProcess):
    """Per-cell counts that grow; a cell flags division past a threshold (test process)."""

    config_schema = {
        "capacity": {"_type": "integer", "_default": 64},
        "gain": {"_type": "integer", "_default": 2},       # molecules per cell per interval
        "growth": {"_type": "float", "_default": 0.1},     # volume growth per interval
        "threshold": {"_type": "float", "_default": 12.0},  # molecules at which a cell divides
        "initial_cells": {"_type": "integer", "_default": 1},
        "counts_rule": {"_type": "string", "_default": "binomial"},  # '' declares none
    }

    def _ports(self):
        n = self.config["capacity"]
        rule = self.config["counts_rule"] or None
        return {"counts": array_port((n,), divide=rule),
                "volume": array_port((n,), "fL", divide="split"),
                "conc": array_port((n, 2), "mM", divide="copy"),
                "age": array_port((n,), divide="zero"),
                "alive": array_port((n,)), "divide": array_port((n,))}

    def inputs(self):
        return self._ports()

    def outputs(self):
        return {k: v for k, v in self._ports().items() if k not in ("conc", "alive")}

    def initial_state(self):
        n, n0 = self.config["capacity"], self.config["initial_cells"]
        first = (np.arange(n) < n0).astype(np.float64)
        return {"counts": 4.0 * first, "volume": 1.0 * first,
                "conc": first[:, None] * np.array([[1.0, 2.5]]), "age": np.zeros(n)}

    def update(self, state, interval):
        alive = np.asarray(state["alive"]) > 0.5
        counts = np.asarray(state["counts"])
        volume = np.asarray(state["volume"])
        new_counts = counts + self.config["gain"] * alive
        new_volume = np.where(alive, volume * (1.0 + self.config["growth"] * interval), volume)
        flag = (alive & (new_counts >= self.config["threshold"])).astype(np.float64)
        return {"counts": new_counts - counts, "volume": new_volume - volume,
                "age": np.where(alive, interval, 0.0),
                "divide": flag - np.asarray(state["divide"])}


class ToyReader(GreyboxProcess):
    """Reads a per-cell store and declares its own division rule for it (test process)."""

    config_schema = {"capacity": {"_type": "integer", "_default": 64},
                     "rule": {"_type": "string", "_default": "split"}}

    def inputs(self):
        return {"x": array_port((self.config["capacity"],), divide=self.config["rule"] or None)}

    def outputs(self):
        return {}

    def update(self, state, interval):
        return {}


@pytest.fixture()
def toy_core(core):
    for cls in (ToyGrowth, ToyReader):
        core.register_link(cls.__name__, cls)
    return core


def _wires(names):
    return {name: ["cells", name] for name in names}


def population_document(capacity=64, *, seed=3, growth=None, division=None, extra=None):
    """A toy cell (ToyGrowth) and the Division step sharing the stores under ``cells``."""
    growth_config = {"capacity": capacity, **(growth or {})}
    division_config = {"capacity": capacity, "stores": ["counts", "volume", "conc", "age"],
                       "trailing_shape": {"conc": [2]}, "seed": seed, **(division or {})}
    ports = ["counts", "volume", "conc", "age", "alive", "divide"]
    state = {
        "cells": {},
        "growth": {"_type": "process", "address": "local:ToyGrowth", "config": growth_config,
                   "interval": 1.0, "inputs": _wires(ports),
                   "outputs": _wires(["counts", "volume", "age", "divide"])},
        "division": {"_type": "step", "address": "local:Division", "config": division_config,
                     "inputs": _wires(ports), "outputs": _wires(ports + ["divisions"])},
    }
    state.update(extra or {})
    return {"state": state}


# --- the dividers -------------------------------------------------------------------------

def test_daughters_go_to_the_lowest_free_slots_in_order():
    alive = np.array([1, 0, 1, 0, 0, 1], bool)
    dividing = np.array([1, 1, 0, 0, 0, 1], bool)  # slot 1 is free: its flag is ignored
    mothers, slots = daughter_slots(alive, dividing)
    assert mothers.tolist() == [0, 5]
    assert slots.tolist() == [1, 3]


def test_divide_cells_places_partitions_and_marks_daughters_alive():
    rng = np.random.default_rng(0)
    alive = np.array([1, 1, 0, 0], bool)
    dividing = np.array([0, 1, 0, 0], bool)
    stores = {"n": np.array([7.0, 10.0, 0.0, 0.0]), "v": np.array([1.0, 2.0, 0.0, 0.0]),
              "c": np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0], [0.0, 0.0]]),
              "t": np.array([5.0, 6.0, 0.0, 0.0])}
    rules = {"n": "binomial", "v": "split", "c": "copy", "t": "zero"}
    new, new_alive = divide_cells(stores, rules, alive, dividing, 0.25, rng)
    assert new_alive.tolist() == [True, True, True, False]
    # the non-dividing cell and the still-free slot are untouched
    for name in stores:
        np.testing.assert_array_equal(new[name][[0, 3]], stores[name][[0, 3]])
    assert new["n"][1] + new["n"][2] == 10.0
    assert new["v"][1] == 0.5 and new["v"][2] == 1.5    # daughter 1 gets the ratio
    np.testing.assert_array_equal(new["c"][1], [3.0, 4.0])
    np.testing.assert_array_equal(new["c"][2], [3.0, 4.0])
    assert new["t"][1] == 0.0 and new["t"][2] == 0.0
    # the inputs are not modified (the dividers are pure)
    assert stores["n"][1] == 10.0 and not alive[2]


def test_split_conserves_exactly_also_through_accumulate_deltas():
    rng = np.random.default_rng(1)
    x = rng.lognormal(0.0, 3.0, size=200_000)
    ratio = rng.uniform(0.001, 0.999, size=x.size)
    first, second = split_parts(x, ratio)
    np.testing.assert_array_equal(first + second, x)  # bit for bit, not approximately
    # the engines apply old + (new - old): the mother's slot lands exactly on daughter 1
    np.testing.assert_array_equal(x + (first - x), first)
    np.testing.assert_array_equal(0.0 + (second - 0.0), second)
    np.testing.assert_allclose(first, x * ratio, rtol=1e-12)


def test_binomial_conserves_keeps_integers_and_non_negative():
    rng = np.random.default_rng(2)
    counts = rng.integers(0, 1000, size=(500, 3)).astype(np.int64)
    first, second = binomial_parts(counts, rng.uniform(0.1, 0.9, 500), rng)
    assert first.dtype == np.int64 and second.dtype == np.int64
    np.testing.assert_array_equal(first + second, counts)
    assert first.min() >= 0 and second.min() >= 0


def test_binomial_daughters_have_binomial_statistics():
    rng = np.random.default_rng(4)
    cells, n, p = 20_000, 100, 0.3
    first, _ = binomial_parts(np.full(cells, float(n)), np.full(cells, p), rng)
    mean, var = n * p, n * p * (1 - p)
    # tolerances of 5 standard errors: of the mean, sqrt(var/N); of the sample variance,
    # sqrt(2/(N-1)) var (near-normal counts)
    assert abs(first.mean() - mean) < 5 * np.sqrt(var / cells)
    assert abs(first.var(ddof=1) - var) < 5 * var * np.sqrt(2.0 / (cells - 1))
    assert np.all(first == np.floor(first))


def test_binomial_rejects_non_whole_counts():
    with pytest.raises(SimulationError, match="whole non-negative count"):
        binomial_parts(np.array([2.5]), np.array([0.5]), np.random.default_rng(0), name="lacY")


def test_capacity_overflow_is_a_typed_error():
    alive = np.array([1, 1, 1, 0], bool)
    dividing = np.array([1, 1, 0, 0], bool)
    with pytest.raises(CapacityError, match="exceeded its capacity of 4 slots") as info:
        divide_cells({"n": np.ones(4)}, {"n": "binomial"}, alive, dividing, 0.5,
                     np.random.default_rng(0))
    assert isinstance(info.value, SimulationError) and isinstance(info.value, GreyboxError)
    assert "raise `capacity`" in str(info.value)


def test_rules_map_onto_vivarium_dividers():
    import vivarium  # noqa: F401  (registers the dividers)
    from vivarium.core.registry import divider_registry

    assert set(VIVARIUM_DIVIDERS) == set(DIVISION_RULES)
    assert vivarium_divider("copy") == "set" and vivarium_divider(None) is None
    for name in VIVARIUM_DIVIDERS.values():
        assert divider_registry.access(name) is not None


def test_vivarium_adapter_carries_each_store_rule_as_its_divider(core):
    from greybox_processes.framework.vivarium_adapter import to_vivarium

    schema = to_vivarium(Division)({"capacity": 4, "stores": ["n", "v"],
                                    "rules": {"n": "binomial", "v": "split"}}).ports_schema()
    assert schema["n"]["_divider"] == "binomial" and schema["v"]["_divider"] == "split"
    assert "_divider" not in schema["divisions"]


def test_array_port_declares_the_rule():
    assert port_divide(array_port((4,), divide="binomial")) == "binomial"
    assert port_divide(array_port((4,))) is None
    with pytest.raises(ValueError, match="unknown division rule"):
        array_port((4,), divide="half")


def _step(core, **config):
    return Division({"capacity": 4, "stores": ["n", "v"], "rules": {"n": "binomial", "v": "split"},
                     **config}, core=core)


def test_division_step_returns_deltas_and_clears_flags(core):
    step = _step(core, ratio_input=True)
    state = {"n": np.array([10.0, 0.0, 6.0, 0.0]), "v": np.array([2.0, 0.0, 1.0, 0.0]),
             "alive": np.array([1.0, 0.0, 1.0, 0.0]), "divide": np.array([1.0, 1.0, 0.0, 0.0]),
             "division_ratio": np.array([0.25, 0.5, 0.5, 0.5])}
    update = step.update(state)
    assert update["divisions"] == 1.0
    np.testing.assert_array_equal(update["divide"], [-1.0, -1.0, 0.0, 0.0])
    np.testing.assert_array_equal(update["alive"], [0.0, 1.0, 0.0, 0.0])
    new_v = state["v"] + update["v"]
    np.testing.assert_array_equal(new_v, [0.5, 1.5, 1.0, 0.0])  # the ratio input is used
    new_n = state["n"] + update["n"]
    assert new_n[0] + new_n[1] == 10.0 and new_n[2] == 6.0


def test_division_step_draws_only_when_cells_divide(core):
    step = _step(core, ratio_noise=0.1, seed=5)
    before = step._rng.bit_generator.state
    quiet = {"n": np.ones(4), "v": np.ones(4), "alive": np.ones(4), "divide": np.zeros(4)}
    assert step.update(quiet) == {"divisions": 0.0}
    assert step._rng.bit_generator.state == before
    # the same seed gives the same daughters
    busy = dict(quiet, n=np.array([50.0, 0, 0, 0]), alive=np.array([1.0, 0, 0, 0]),
                divide=np.array([1.0, 0, 0, 0]))
    first = step.update(busy)
    again = _step(core, ratio_noise=0.1, seed=5).update(busy)
    for name in ("n", "v", "alive"):
        np.testing.assert_array_equal(first[name], again[name])


# --- validation: the rule of each store ---------------------------------------------------

def _yaml_spec(tmp_path, document):
    import yaml

    path = tmp_path / "cell.yaml"
    path.write_text(yaml.safe_dump({"name": "cell", "state": document["state"]}))
    return path


def test_validation_fills_the_rules_from_the_other_processes(toy_core):
    document = population_document(8)
    instances = validate_document(document, core=toy_core)
    expected = {"counts": "binomial", "volume": "split", "conc": "copy", "age": "zero"}
    assert document["state"]["division"]["config"]["rules"] == expected
    assert instances[("division",)].rules() == expected


def test_missing_rule_is_a_spec_error_naming_file_path_and_fix(toy_core, tmp_path):
    path = _yaml_spec(tmp_path, population_document(8, growth={"counts_rule": ""}))
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=toy_core)
    error = info.value
    assert error.file == str(path)
    assert error.path == ("division", "inputs", "counts")
    assert "cells/counts" in str(error) and "declares how it divides" in str(error)
    assert "divide=" in error.fix and "rules" in error.fix
    # the Division config may give the rule instead
    document = population_document(8, growth={"counts_rule": ""},
                                   division={"rules": {"counts": "binomial"}})
    validate_document(document, core=toy_core)


def test_per_cell_store_left_out_of_division_is_a_spec_error(toy_core, tmp_path):
    # ToyGrowth declares a rule for cells/age; a Division that does not partition it would
    # leave a daughter's slot with stale values
    document = population_document(8, division={"stores": ["counts", "volume", "conc"]})
    for key in ("inputs", "outputs"):
        del document["state"]["division"][key]["age"]
    path = _yaml_spec(tmp_path, document)
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=toy_core)
    error = info.value
    assert error.file == str(path)
    assert error.path == ("division", "config", "stores")
    assert "cells/age" in str(error) and "no division step partitions it" in str(error)
    assert "'age'" in error.fix and "stores" in error.fix


def test_conflicting_rules_are_a_spec_error(toy_core, tmp_path):
    reader = {"reader": {"_type": "process", "address": "local:ToyReader",
                         "config": {"capacity": 8, "rule": "copy"},
                         "inputs": {"x": ["cells", "counts"]}, "outputs": {}}}
    path = _yaml_spec(tmp_path, population_document(8, extra=reader))
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=toy_core)
    assert info.value.file == str(path)
    assert "two division rules" in str(info.value)
    assert "'binomial'" in str(info.value) and "'copy'" in str(info.value)
    assert info.value.fix
    # a Division config that contradicts a process's port points at the config entry
    document = population_document(8, division={"rules": {"volume": "copy"}})
    with pytest.raises(SpecError) as info:
        validate_document(document, core=toy_core, file="cell.yaml")
    assert info.value.path == ("division", "config", "rules", "volume")


def test_division_without_rules_refuses_to_run(toy_core):
    step = Division({"capacity": 4, "stores": ["counts"]}, core=toy_core)
    with pytest.raises(SpecError, match="no division rule"):
        step.update({"counts": np.zeros(4), "alive": np.ones(4), "divide": np.ones(4)})


def test_division_config_errors_are_spec_errors(toy_core):
    document = population_document(8, division={"rules": {"counts": "halves"}})
    with pytest.raises(SpecError, match="unknown division rule"):
        validate_document(document, core=toy_core)
    document = population_document(8, division={"capacity": 6})
    with pytest.raises(SpecError, match="shape"):
        validate_document(document, core=toy_core)


# --- a population in both engines -----------------------------------------------------------

def test_population_identical_in_both_engines_and_conserving(toy_core):
    document = population_document(64, seed=11, division={"ratio_noise": 0.1})
    time = 12.0
    pbg = gb.run(document, time, engine="pbg", core=toy_core, progress=False)
    viv = gb.run(document, time, engine="vivarium", core=toy_core, progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    for name in ("counts", "volume", "conc", "age", "alive", "divide", "divisions"):
        np.testing.assert_array_equal(pbg[f"cells.{name}"].values, viv[f"cells.{name}"].values,
                                      err_msg=name)
    alive = pbg["cells.alive"].values
    counts = pbg["cells.counts"].values
    n_alive = alive.sum(axis=1)
    assert n_alive[0] == 1 and n_alive[-1] >= 8, "the population did not grow"
    # each division adds one live cell
    np.testing.assert_array_equal(np.diff(n_alive), pbg["cells.divisions"].values[1:])
    # every interval adds `gain` molecules per live cell; division moves them, never loses any
    np.testing.assert_array_equal(np.diff(counts.sum(axis=1)), 2.0 * n_alive[:-1])
    assert np.all(counts == np.floor(counts)) and counts.min() >= 0
    # free slots stay empty, live cells have the copied concentrations
    live = alive > 0.5
    assert np.all(counts[~live] == 0.0)
    np.testing.assert_array_equal(pbg["cells.conc"].values[live], np.tile([1.0, 2.5], (live.sum(), 1)))
    # the volume (split) grows by the growth factor per interval, division conserves it
    volume = pbg["cells.volume"].values.sum(axis=1)
    np.testing.assert_allclose(volume[1:], volume[:-1] * 1.1, rtol=1e-12)
    # no flag stays raised after the Division has read it
    assert np.all(pbg["cells.divide"].values == 0.0)


def test_overflow_in_a_run_keeps_what_was_emitted(toy_core):
    document = population_document(4, seed=1)
    with pytest.raises(CapacityError, match="raise `capacity`") as info:
        gb.run(document, 30.0, engine="pbg", core=toy_core, progress=False)
    assert info.value.partial.sizes["time"] >= 1
    assert info.value.partial["cells.alive"].values[-1].sum() == 4  # full when it stopped
