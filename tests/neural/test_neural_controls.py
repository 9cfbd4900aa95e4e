"""Opt-in controls of RegulatedDynamicFBA that the controller writes: uptake and allocation.

``uptake_control`` multiplies each Michaelis-Menten uptake bound; ``synthesis_allocation``
scales the lac enzymes' translation. Both default to off, and a store of ones is the glass box.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import greybox_processes as gb
from greybox_processes.metabolism.uptake import DEFAULT_KINETICS, uptake_bound
from greybox_processes.neural import (NeuralLatentController, RegulatedDynamicFBA,
                                      glass_box_cell, grey_box_cell, mechanistic_only_cell)
from greybox_processes.neural.networks import WEIGHTS_DIR, load_weights

BOTH = ["lac_induction", "uptake_control"]
CONTROLS = {"uptake_control": True, "synthesis_allocation": True}
EXCHANGES = ["EX_glc__D_e", "EX_lcts_e"]


def _dfba(core, **config):
    return RegulatedDynamicFBA({"model": "textbook_lactose", "exchanges": EXCHANGES,
                                "initial_concentrations": {"EX_glc__D_e": 0.28,
                                                           "EX_lcts_e": 0.58},
                                "initial_biomass": 0.001, "expression": True,
                                "on_infeasible": "status", **config}, core=core)


def test_controls_of_one_are_the_glass_box(core):
    """Reading stores of ones changes nothing: bit for bit the hand-written kinetics."""
    plain = gb.run(glass_box_cell(), 0.25, core=core, progress=False)
    read = gb.run(glass_box_cell(dfba_config=CONTROLS), 0.25, core=core, progress=False)
    for name in CONTROLS:
        assert np.all(read[f"cell.{name}"].values == 1)
    for name in ("env.concentrations", "env.biomass", "cell.lac", "cell.fluxes",
                 "cell.ledger", "cell.proteome"):
        np.testing.assert_array_equal(plain[name].values, read[name].values)


def test_uptake_never_exceeds_the_controlled_bound(core):
    ds = gb.run(grey_box_cell(weights="", controller_config={"seed": 1, "outputs": BOTH}),
                0.25, core=core, progress=False)
    conc = ds["env.concentrations"].values
    control = ds["cell.uptake_control"].values
    uptake = -ds["cell.fluxes"].values
    for i, ex in enumerate(EXCHANGES):
        bound = np.array([uptake_bound(DEFAULT_KINETICS[ex], c) for c in conc[:-1, i]])
        # step k reads the stores at row k and records its fluxes at row k + 1
        assert np.all(uptake[1:, i] <= control[:-1, i] * bound * (1 + 1e-9) + 1e-12), ex
    assert np.any(uptake[1:, 0] < 0.9 * np.array(
        [uptake_bound(DEFAULT_KINETICS["EX_glc__D_e"], c) for c in conc[:-1, 0]]))


def test_zero_control_stops_uptake_and_moves_nothing(core):
    proc = _dfba(core, uptake_control=True)
    state = proc.initial_state()
    state["uptake_control"] = np.zeros(2)
    out = proc.update(state, 1 / 60)
    assert np.all(out["concentrations"] == 0) and out["biomass"] == 0
    assert np.all(out["ledger"] == 0) and np.all(out["uptake_control"] == 0)
    assert state["status"] + out["status"] < 1  # not growing: recorded, not silent


def test_allocation_trades_lac_enzymes_for_growth(core):
    proc = _dfba(core, synthesis_allocation=True)
    out = {}
    for allocation in (0.0, 0.5, 1.0):
        state = proc.initial_state()
        state["synthesis_allocation"] = np.array([allocation])
        out[allocation] = proc.update(state, 1 / 60)
    made = {a: o["lac"][[1, 4]] for a, o in out.items()}  # B (LacZ) and P (LacY)
    assert np.all(made[0.0] < made[0.5]) and np.all(made[0.5] < made[1.0])
    # at t = 0 the ribosomes cap growth: what lac synthesis does not use goes to growth
    mu = {a: o["growth_rate"] for a, o in out.items()}
    assert mu[0.0] > mu[0.5] > mu[1.0]
    assert all(o["proteome"][2] <= 1 + 1e-9 for o in out.values())  # never over capacity


def test_bad_control_store_or_config(core):
    proc = _dfba(core, **CONTROLS)
    state = proc.initial_state()
    for bad in (np.array([0.5, np.nan]), np.ones(3)):
        state["uptake_control"] = bad
        with pytest.raises(ValueError, match="uptake_control.*one per tracked exchange"):
            proc.update(state, 1 / 60)
    state = proc.initial_state()
    state["synthesis_allocation"] = np.array([np.inf])
    with pytest.raises(ValueError, match="synthesis_allocation.*lac enzymes' translation"):
        proc.update(state, 1 / 60)
    with pytest.raises(ValueError, match=r"no kinetics.*'vmax' and 'km'"):
        _dfba(core, uptake_control=True, exchanges=EXCHANGES + ["EX_ac_e"])
    assert not set(CONTROLS) & set(_dfba(core).inputs())  # opt-in: the glass box has none


def test_controller_outputs_and_weights_must_match(core, tmp_path):
    ctrl = NeuralLatentController({"outputs": BOTH, "weights": ""}, core=core)
    assert ctrl.outputs()["uptake_control"]["_shape"] == (2,)
    with pytest.raises(ValueError, match=r"trained for outputs \['lac_induction'\].*"
                                         r"uptake_control \(2\).*set 'outputs'"):
        NeuralLatentController({"outputs": BOTH, "weights": "grey_box_controller.pt"},
                               core=core)
    _, state = load_weights(WEIGHTS_DIR / "grey_box_controller.pt")
    bare = tmp_path / "bare.pt"  # no header: the shapes alone must say which output differs
    torch.save(state, bare)
    with pytest.raises(ValueError, match=r"lac_induction \(1\) \+ uptake_control \(2\).*"
                                         r"decode.weight: file \(1, 32\), configured \(3, 32\)"):
        NeuralLatentController({"outputs": BOTH, "weights": str(bare)}, core=core)
    with pytest.raises(ValueError, match="more than once"):
        NeuralLatentController({"outputs": ["uptake_control", "uptake_control"]}, core=core)
    with pytest.raises(ValueError, match="uptake_control: false"):
        grey_box_cell(controller_config={"outputs": BOTH},
                      dfba_config={"uptake_control": False})


def test_uptake_control_wiring(core):
    grey = grey_box_cell(weights="", controller_config={"outputs": BOTH})["state"]
    assert grey["controller"]["outputs"]["uptake_control"] == ["cell", "uptake_control"]
    assert grey["dfba"]["config"]["uptake_control"] is True
    mech = mechanistic_only_cell(dfba_config={"uptake_control": True})["state"]
    assert {k: v for k, v in grey.items() if k != "controller"} == mech
    only = grey_box_cell(weights="", controller_config={"outputs": ["uptake_control"]})
    assert "regulation" not in only["state"]["controller"]["outputs"]


def test_controls_identical_in_both_engines(core):
    doc = grey_box_cell(weights="", controller_config={"seed": 2,
                                                       "outputs": BOTH + ["synthesis_allocation"]})
    pbg = gb.run(doc, 0.1, engine="pbg", core=core, progress=False)
    viv = gb.run(doc, 0.1, engine="vivarium", core=core, progress=False)
    for name in ("env.concentrations", "env.biomass", "cell.uptake_control", "cell.fluxes",
                 "cell.synthesis_allocation", "cell.lac"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values)
