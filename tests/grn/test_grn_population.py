"""PopulationGRN: the GRN process on per-cell stores with an alive mask, and its sensing."""
import numpy as np
import pytest

from greybox_processes.framework.ports import port_divide
from greybox_processes.grn.population import PopulationGRN


@pytest.fixture
def make_grn(core):
    def make(**config):
        return PopulationGRN({"network": "DS1", "cells_per_type": 3, **config}, core=core)
    return make


def test_initial_cells_only_and_expression_divides_by_copy(make_grn):
    grn = make_grn(initial_per_type=2)
    start = grn.initial_state()
    alive = np.tile(np.arange(3) < 2, 9)
    assert start["mrna"].shape == (27, 100)
    assert np.all(start["mrna"][~alive] == 0) and np.all(start["protein"][~alive] == 0)
    assert np.all(start["mrna"][alive].sum(axis=1) > 0)
    # concentrations: both daughters start from the mother's expression
    for port in ("mrna", "protein"):
        assert port_divide(grn.outputs()[port]) == "copy"
        assert port_divide(grn.inputs()[port]) == "copy"
    with pytest.raises(ValueError, match="initial_per_type"):
        make_grn(initial_per_type=4)


def test_live_cells_advance_and_free_slots_are_left_alone(make_grn):
    grn = make_grn()
    start = grn.initial_state()
    alive = np.ones(27)
    alive[[4, 11]] = 0.0
    # a free slot holding something (another process empties it): not the GRN's to change
    start["mrna"][11] = 5.0
    delta = grn.update({**start, "alive": alive}, 1.0)
    assert np.all(delta["mrna"][[4, 11]] == 0) and np.all(delta["protein"][[4, 11]] == 0)
    moved = np.abs(delta["mrna"][alive > 0]).sum(axis=1)
    assert np.all(moved > 0)


def test_sensing_scales_the_production_of_the_sensed_gene(make_grn):
    """Deterministic (q=0): gene 17 (a DS1 master regulator, production b, decay lambda)
    relaxes from b/lambda to s*b/lambda with s = 1 + gain C^n/(k^n + C^n); explicit Euler
    converges as (1 - lambda dt)^steps."""
    gain, k, hill, conc = 0.9, 2.0, 3.0, 3.0
    config = dict(q=0.0, signals=["A", "B"], sense=["A:17"], sense_gain=gain, sense_k=k,
                  sense_hill=hill)
    sensing, blind = make_grn(**config), make_grn(**{**config, "sense_gain": 0.0})
    start = sensing.initial_state()
    signal = np.zeros((27, 2))
    signal[:, 0] = conc
    signal[:, 1] = 50.0  # B is not sensed
    alive = np.ones(27)
    t, dt, decay = 10.0, 0.01, 0.8
    x_sensed = start["mrna"][:, 17] + sensing.update(
        {**start, "alive": alive, "signal": signal}, t)["mrna"][:, 17]
    x_blind = start["mrna"][:, 17] + blind.update(
        {**start, "alive": alive, "signal": signal}, t)["mrna"][:, 17]
    scale = 1.0 + gain * conc ** hill / (k ** hill + conc ** hill)
    steady = start["mrna"][:, 17]          # b / lambda: the kernel starts at steady state
    relax = (1.0 - decay * dt) ** round(t / dt)
    np.testing.assert_allclose(x_sensed, scale * steady + (steady - scale * steady) * relax,
                               rtol=1e-9)
    np.testing.assert_allclose(x_blind, steady, rtol=1e-9)


@pytest.mark.parametrize("config, message", [
    ({"signals": ["A"], "sense": ["C:17"]}, "unknown signal 'C'"),
    ({"signals": ["A"], "sense": ["A:100"]}, "outside \\[0, n_genes=100\\)"),
    ({"signals": ["A"], "sense": ["A"]}, "must read '<signal>:<gene index>'"),
    ({"sense_k": -1.0}, "sense_k must be"),
])
def test_bad_sensing_config_says_what_to_fix(make_grn, config, message):
    with pytest.raises(ValueError, match=message):
        make_grn(**config)
