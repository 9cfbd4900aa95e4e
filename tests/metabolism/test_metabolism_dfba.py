"""Dynamic FBA: mass balance, exact integration, typed errors, no side effects, knockouts."""
from __future__ import annotations

import math

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.metabolism import (DynamicFBA, InfeasibleError, InvalidConcentrationError,
                                          ModelLoadError, UnknownExchangeError, UnknownGeneError,
                                          load_model)


def fba_growth(glucose_uptake: float) -> float:
    """Plain FBA growth of e_coli_core at a given glucose uptake bound."""
    model = load_model("textbook")
    model.reactions.EX_glc__D_e.lower_bound = -glucose_uptake
    return model.slim_optimize()


def culture(**config):
    """A one-process composite: a textbook culture on glucose (and acetate, secreted)."""
    base = {"model": "textbook", "exchanges": ["EX_glc__D_e", "EX_ac_e"],
            "initial_concentrations": {"EX_glc__D_e": 5.0}, "initial_biomass": 0.05}
    base.update(config)
    wires = {"concentrations": ["env", "concentrations"], "biomass": ["env", "biomass"],
             "lac": ["cell", "lac"], "fluxes": ["cell", "fluxes"],
             "growth_rate": ["cell", "growth_rate"], "status": ["cell", "status"],
             "proteome": ["cell", "proteome"]}
    return {"state": {"env": {}, "cell": {}, "dfba": {
        "_type": "process", "address": "local:DynamicFBA", "config": base, "interval": 0.25,
        "inputs": dict(wires), "outputs": dict(wires)}}}


def test_mass_balance_over_a_run(metabolism_core):
    """Exchange flux x integrated biomass equals the change of every external store."""
    ds = gb.run(culture(on_infeasible="status"), 6.0, core=metabolism_core, progress=False)
    conc = ds["env.concentrations"].values
    biomass = ds["env.biomass"].values
    fluxes = ds["cell.fluxes"].values  # row k+1 holds the fluxes used from k to k+1
    mu = ds["cell.growth_rate"].values
    dt = np.diff(ds.time.values)
    integral = np.where(mu[1:] > 1e-12, np.diff(biomass) / np.where(mu[1:] > 1e-12, mu[1:], 1.0),
                        biomass[:-1] * dt)  # integral of X dt over each interval
    predicted = (fluxes[1:] * integral[:, None]).sum(axis=0)
    np.testing.assert_allclose(conc[-1] - conc[0], predicted, rtol=1e-9, atol=1e-12)
    assert conc[-1, 0] < 1e-9 < conc[0, 0]  # the glucose ran out...
    assert np.all(conc >= 0)  # ...and never went negative
    assert ds["cell.status"].values[-1] == 0.0  # then the culture was recorded as not growing
    assert ds["env.concentrations"].attrs["units"] == "mM"
    assert ds["env.biomass"].attrs["units"] == "gDW/L"


def test_growth_integrates_exactly(metabolism_core):
    """With glucose in excess, biomass grows as X0 exp(mu t) (to LP tolerance)."""
    ds = gb.run(culture(initial_concentrations={"EX_glc__D_e": 1000.0}, initial_biomass=0.001),
                1.0, core=metabolism_core, progress=False)
    mu = ds["cell.growth_rate"].values[1]
    expected = 0.001 * np.exp(mu * ds.time.values)
    np.testing.assert_allclose(ds["env.biomass"].values, expected, rtol=1e-8)
    # e_coli_core at glucose v_max 10.5 mmol/gDW/h (saturated): plain FBA's optimum
    assert mu == pytest.approx(fba_growth(10.5 * 1000 / (0.015 + 1000)), rel=1e-9)


def test_infeasible_medium_raises_typed_error(metabolism_core):
    """No carbon: the maintenance requirement makes the LP infeasible -> InfeasibleError."""
    with pytest.raises(InfeasibleError, match="infeasible") as info:
        gb.run(culture(initial_concentrations={"EX_glc__D_e": 0.0}), 1.0, core=metabolism_core,
               progress=False)
    assert info.value.status == "infeasible"


def test_infeasible_medium_recorded_in_status(metabolism_core):
    ds = gb.run(culture(initial_concentrations={"EX_glc__D_e": 0.0}, on_infeasible="status"),
                0.5, core=metabolism_core, progress=False)
    assert np.all(ds["cell.status"].values[1:] < 1)  # not growing, explicitly
    np.testing.assert_array_equal(ds["env.biomass"].values, 0.05)


def test_model_is_never_left_modified(metabolism_core):
    from metabolism_helpers import model_state

    before = model_state(load_model("textbook"))
    process = DynamicFBA({"model": "textbook", "exchanges": ["EX_glc__D_e"],
                          "initial_concentrations": {"EX_glc__D_e": 2.0},
                          "knockout": ["b1723"], "expression": False}, core=metabolism_core)
    own_before = model_state(process.model)
    state = process.initial_state()
    for _ in range(3):
        update = process.update(state, 0.5)
        state = {k: (v + update[k]) for k, v in state.items()}
    assert model_state(process.model) == own_before  # bounds changed only inside `with model:`
    assert model_state(load_model("textbook")) == before  # the cached bundled model untouched


def test_two_instances_are_identical(metabolism_core):
    config = {"model": "textbook", "exchanges": ["EX_glc__D_e", "EX_ac_e"],
              "initial_concentrations": {"EX_glc__D_e": 3.0}, "loopless": True}
    a, b = DynamicFBA(config, core=metabolism_core), DynamicFBA(config, core=metabolism_core)
    sa, sb = a.initial_state(), b.initial_state()
    for _ in range(4):
        ua, ub = a.update(sa, 0.25), b.update(sb, 0.25)
        for key in ua:
            np.testing.assert_array_equal(ua[key], ub[key])
        sa = {k: v + ua[k] for k, v in sa.items()}
        sb = {k: v + ub[k] for k, v in sb.items()}


def test_loopless_fluxes_have_no_cycles(metabolism_core):
    """CycleFreeFlux: same growth and exchanges, and every internal flux set is loop-free."""
    from cobra.flux_analysis.loopless import add_loopless

    process = DynamicFBA({"model": "textbook", "exchanges": ["EX_glc__D_e"],
                          "initial_concentrations": {"EX_glc__D_e": 10.0}, "loopless": True},
                         core=metabolism_core)
    update = process.update(process.initial_state(), 0.1)
    fluxes = process._last_internal
    model = load_model("textbook")
    with model:  # the loopless MILP accepts the CycleFreeFlux solution as feasible
        add_loopless(model)
        for reaction in model.reactions:
            reaction.bounds = (fluxes[reaction.id] - 1e-6, fluxes[reaction.id] + 1e-6)
        assert model.slim_optimize(error_value=None) is not None
    assert update["growth_rate"] == pytest.approx(fba_growth(10.5 * 10 / 10.015), rel=1e-9)


def test_knockout_override_through_gprs(metabolism_core):
    """eno (b2779) is the only enolase: no growth; pfkA (b3916) has the isozyme pfkB."""
    eno = gb.run(culture(on_infeasible="status"), 0.5, core=metabolism_core, progress=False,
                 overrides={"dfba.config.knockout": ["b2779"]})
    assert np.all(eno["cell.growth_rate"].values == 0.0)
    assert np.all(eno["cell.status"].values[1:] < 1)
    pfka = gb.run(culture(), 0.5, core=metabolism_core, progress=False,
                  overrides={"dfba.config.knockout": ["b3916"]})
    assert pfka["cell.growth_rate"].values[-1] > 0.8


@pytest.mark.parametrize("config, error, match", [
    ({"knockout": ["b9999"]}, UnknownGeneError, "b9999"),
    ({"exchanges": ["EX_glc__D_e", "EX_glucose"]}, UnknownExchangeError, "EX_glucose"),
    ({"initial_concentrations": {"EX_glc__D_e": -1.0}}, InvalidConcentrationError, "-1.0"),
    ({"model": "no_such_model"}, ModelLoadError, "no_such_model"),
    ({"vmax": {"EX_glc__D_e": -3.0}}, ValueError, "positive"),
    ({"on_infeasible": "ignore"}, ValueError, "on_infeasible"),
])
def test_bad_config_is_a_clear_error(metabolism_core, config, error, match):
    base = {"model": "textbook", "exchanges": ["EX_glc__D_e"],
            "initial_concentrations": {"EX_glc__D_e": 1.0}}
    base.update(config)
    with pytest.raises(error, match=match):
        DynamicFBA(base, core=metabolism_core)


def test_bad_config_in_a_spec_names_the_path(metabolism_core):
    with pytest.raises(gb.SpecError, match="dfba/config") as info:
        gb.build_document(culture(knockout=["b9999"]), core=metabolism_core)
    assert "b9999" in str(info.value)


def test_negative_store_value_is_rejected(metabolism_core):
    process = DynamicFBA({"model": "textbook", "exchanges": ["EX_glc__D_e"]}, core=metabolism_core)
    state = process.initial_state()
    state["concentrations"] = np.array([-0.5])
    with pytest.raises(InvalidConcentrationError, match="negative"):
        process.update(state, 0.1)


@pytest.mark.parametrize("suffix, text", [(".xml", "<sbml><model>broken"),
                                          (".json", "{not json"), (".txt", "whatever")])
def test_model_file_that_does_not_parse(tmp_path, suffix, text):
    path = tmp_path / f"model{suffix}"
    path.write_text(text)
    with pytest.raises(ModelLoadError, match="model"):
        load_model(path)


def test_model_from_json_and_sbml_files(tmp_path, textbook):
    import cobra.io

    cobra.io.save_json_model(textbook, tmp_path / "core.json")
    cobra.io.write_sbml_model(textbook, str(tmp_path / "core.xml"))
    for name in ("core.json", "core.xml"):
        model = load_model(tmp_path / name)
        assert math.isclose(model.slim_optimize(), textbook.slim_optimize(), rel_tol=1e-9)


def test_describe_and_metadata(metabolism_core):
    assert DynamicFBA.describe().startswith("Dynamic FBA")
    process = DynamicFBA({"model": "textbook", "exchanges": ["EX_glc__D_e", "EX_ac_e"]},
                         core=metabolism_core)
    meta = process.port_metadata()
    assert list(meta["concentrations"]["coords"]["metabolite"]) == ["glc__D_e", "ac_e"]
    assert process.inputs()["concentrations"]["_units"] == "mM"
