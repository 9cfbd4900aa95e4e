"""The four E. coli cells (glass, grey, mechanistic-only, black box): one swap apart, and each runs."""
from __future__ import annotations

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.ecoli import cells
from greybox_processes.ecoli.composites import CELL_STORES
from greybox_processes.lac.kernel import SPECIES, molecules_per_mM
from greybox_processes.metabolism.lac import LAC_VARIABLES, LacParameters

KINDS = cells.CELL_KINDS
FAST = {"capacity": 16, "initial_cells": 4, "seed": 3, "initial_biomass": 0.01}
MRNA = SPECIES.index("mrna")


def _builder(kind):
    return getattr(cells, f"ecoli_{kind}")


def _fast(kind, **kwargs):
    """A small population on e_coli_core (the black box has no metabolic model)."""
    model = {} if kind == "black_box" else {"model": "textbook_lactose"}
    return _builder(kind)(**FAST, **model, **kwargs)


# --- documents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_yaml_and_builder_agree(kind, composites_dir, core):
    spec = composites_dir / f"ecoli_{kind}.yaml"
    # the defaults (iJO1366) without instantiating the processes (loading iJO1366 is slow) ...
    assert gb.build_document(spec, core=core, validate=False)["state"] == \
        gb.build_document(_builder(kind)(), core=core, validate=False)["state"]
    # ... and validated, with parameters
    params = {"capacity": 32, "initial_cells": 4, "iptg": True}
    if kind != "black_box":
        params["model"] = "textbook_lactose"
    assert gb.build_document(spec, params=params, core=core)["state"] == \
        gb.build_document(_builder(kind)(**params), core=core)["state"]


def test_genome_scale_by_default():
    for kind in ("glass_box", "grey_box", "mechanistic_only"):
        assert _builder(kind)()["state"]["metabolism"]["config"]["model"] == "iJO1366"


def _differing_nodes(a, b):
    a, b = a["state"], b["state"]
    return {key for key in set(a) | set(b) if a.get(key) != b.get(key)}


def _division_stores(document):
    return set(document["state"]["division"]["config"]["stores"])


def test_the_cells_are_one_swap_apart():
    glass, grey, mech, black = (_builder(kind)() for kind in
                                ("glass_box", "grey_box", "mechanistic_only", "black_box"))
    # glass -> mechanistic-only: the lac operon reads its regulation from the store
    assert _differing_nodes(glass, mech) == {"lac", "division"}
    lac_glass, lac_mech = glass["state"]["lac"], mech["state"]["lac"]
    assert lac_mech["config"] == {**lac_glass["config"], "regulation": "store"}
    assert lac_mech["inputs"] == {**lac_glass["inputs"], "regulation": ["cells", "regulation"]}
    assert _division_stores(mech) - _division_stores(glass) == {"regulation"}
    # mechanistic-only -> grey: the controller, nothing else but its per-cell stores
    assert _differing_nodes(mech, grey) == {"controller", "division"}
    assert "controller" not in mech["state"]
    assert _division_stores(grey) - _division_stores(mech) == {"latent", "history"}
    # the stress response (stress, transcriptome) is the same node pair in the three cells
    assert {"stress", "transcriptome"} <= set(glass["state"]) & set(mech["state"]) & \
        set(grey["state"])
    # grey minus controller -> black: the metabolism swapped (and the stress response for the
    # black box's own data-only expression, which ecoli_black_box() sets)
    expression = {"stress", "transcriptome"}
    grey_minus_controller = {"state": {k: v for k, v in grey["state"].items()
                                       if k != "controller"}}
    assert _differing_nodes(grey_minus_controller, black) - expression == {"metabolism",
                                                                          "division"}
    assert _differing_nodes(mech, black) - expression == {"metabolism", "division"}
    assert black["state"]["metabolism"]["address"] == "local:PopulationDataOnly"
    assert _division_stores(black) - _division_stores(mech) == {"metabolism_latent",
                                                                "metabolism_history"}
    # ... and it has no pending LP fluxes, so nothing partitions them
    assert _division_stores(mech) - _division_stores(black) == {"exchange_rates"}
    assert "exchange_rates" not in black["state"]["division"]["config"]["trailing_shape"]
    # the ports of PopulationMetabolism but its LP's exchange_rates, plus the network's own
    # per-cell stores
    for direction in ("inputs", "outputs"):
        ours = black["state"]["metabolism"][direction]
        theirs = mech["state"]["metabolism"][direction]
        assert set(theirs) - set(ours) == {"exchange_rates"}
        assert {k: v for k, v in ours.items() if k in theirs} == \
            {k: v for k, v in theirs.items() if k != "exchange_rates"}
        assert set(ours) - set(theirs) == {"latent", "history"}


def test_every_per_cell_store_is_partitioned(core):
    document = gb.build_document(_fast("grey_box"), core=core)
    rules = document["state"]["division"]["config"]["rules"]
    assert rules == {"volume": "split", "division_protein": "zero", "growth_rate": "copy",
                     "exchange_rates": "copy", "lac": "binomial", "regulation": "copy",
                     "latent": "copy", "history": "copy"}
    assert set(CELL_STORES) < set(rules)


# --- the networks per cell ----------------------------------------------------------------------

def test_controller_features_are_the_single_cultures_units():
    """Counts per volume -> mM in lac.py's order; growth 1/min -> 1/h; medium in mM."""
    from greybox_processes.neural.population_controller import cell_features

    counts = np.arange(1, len(SPECIES) + 1, dtype=float)[None] * 1000.0
    volume = np.array([2.0])
    features = cell_features(0.1, 0.5, np.array([0.01]), counts, volume)
    assert features.shape == (1, 2 + 1 + len(LAC_VARIABLES))
    np.testing.assert_allclose(features[0, :2], np.log(np.array([0.1, 0.5]) + 1e-3))
    assert features[0, 2] == pytest.approx(0.6)          # 0.01 /min = 0.6 /h
    omega = float(molecules_per_mM(2.0))
    for i, name in enumerate(LAC_VARIABLES):
        ours = {"M": "mrna", "B": "lacZ", "P": "lacY", "A": "allolactose", "L": "lactose_in",
                "I1": "mrna_nascent", "I2": "lacZ_nascent", "I3": "lacY_nascent"}[name]
        expected = np.log(counts[0, SPECIES.index(ours)] / omega + 1e-9)
        assert features[0, 3 + i] == pytest.approx(expected), name


def test_batched_controller_is_the_single_cell_controller_per_cell(core):
    """The population's batched network call equals NeuralLatentController on each cell."""
    from greybox_processes.neural.controller import NeuralLatentController
    from greybox_processes.neural.population_controller import PopulationController

    population = PopulationController({"capacity": 3, "weights": "grey_box_controller.pt"},
                                      core=core)
    single = NeuralLatentController({"weights": "grey_box_controller.pt"}, core=core)
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(3, population.width))
    history = rng.normal(size=(3, population.history, population.n_features))
    batch_latent, batch_induction = population.step_network(latent, history)
    for cell in range(3):
        one_latent, one_induction = single.step_network(latent[cell], history[cell])
        np.testing.assert_allclose(batch_latent[cell], one_latent, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(batch_induction[cell], one_induction[0], rtol=1e-5)


def test_controller_writes_only_regulation_and_its_own_state(core):
    from greybox_processes.neural.population_controller import PopulationController

    random = PopulationController({"capacity": 4, "weights": ""}, core=core)
    assert set(random.outputs()) == {"latent", "history", "regulation"}
    state = {"alive": np.array([1.0, 1.0, 0.0, 0.0]), "volume": np.array([1.0, 1.5, 0.0, 0.0]),
             "lac": np.full((4, len(SPECIES)), 3.0), "growth_rate": np.full(4, 0.02),
             "glucose": 0.2, "lactose": 0.5, **random.initial_state(),
             "regulation": np.full(4, 1e-4)}
    update = random.update(state, 1.0)
    new = state["regulation"] + update["regulation"]
    assert np.all((new[:2] > 0) & (new[:2] < 1)) and np.all(update["regulation"][2:] == 0)
    with pytest.raises(ValueError, match="1-minute steps.*interval to 1"):
        random.update(state, 2.0)


def test_black_box_of_identical_cells_is_the_culture_network(core):
    """Identical cells: the medium changes as DataOnlyCell predicts for the culture."""
    from greybox_processes.neural.blackbox import DataOnlyCell
    from greybox_processes.neural.population_blackbox import PopulationDataOnly

    black = PopulationDataOnly({"capacity": 5, "initial_cells": 3, "initial_biomass": 0.002,
                                "weights": "black_box_cell.pt"}, core=core)
    alive = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    state = {**black.initial_state(), "alive": alive, "volume": alive * 1.0,
             "lac": np.zeros((5, 5)), "growth_rate": alive * 0.01, "glucose": 0.2,
             "lactose": 0.5, "ledger": np.array([0.01, -0.002])}
    update = black.update(state, 1.0)
    culture = DataOnlyCell({"weights": "black_box_cell.pt"}, core=core)
    single = {"concentrations": np.array([0.2, 0.5]), "biomass": 0.002, "growth_rate": 0.6,
              "ledger": np.array([0.01, -0.002]), **{k: v for k, v in culture.initial_state()
                                                     .items() if k in ("latent", "history")}}
    expected = culture.update(single, 1.0 / 60.0)
    assert update["glucose"] == pytest.approx(expected["concentrations"][0], rel=1e-6)
    assert update["lactose"] == pytest.approx(expected["concentrations"][1], rel=1e-6)
    np.testing.assert_allclose(update["ledger"], expected["ledger"], rtol=1e-6)
    growth = max(0.6 + expected["growth_rate"], 0.0) / 60.0
    np.testing.assert_allclose((state["growth_rate"] + update["growth_rate"])[:3], growth,
                               rtol=1e-6)
    assert np.all(update["growth_rate"][3:] == 0.0)


# --- running them -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs():
    """Each cell, 20 min on e_coli_core; the grey box also with a random-weights controller."""
    out = {kind: gb.run(_fast(kind), 20.0, progress=False) for kind in KINDS}
    out["random_controller"] = gb.run(_fast("grey_box", weights=""), 20.0, progress=False)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_each_cell_runs_finite_and_non_negative(runs, kind):
    ds = runs[kind]
    for name in ds.data_vars:
        values = ds[name].values
        if values.dtype.kind == "f":
            assert np.all(np.isfinite(values)), name
    for name in ("cells.volume", "cells.lac", "cells.growth_rate", "medium.glucose",
                 "medium.lactose"):
        assert np.all(ds[name].values >= 0), name
    alive = ds["cells.alive"].values > 0.5
    assert np.all(ds["cells.volume"].values[-1][alive[-1]] > ds["cells.volume"].values[0][0] / 2)
    assert ds["medium.glucose"].values[-1] < ds["medium.glucose"].values[0]   # cells eat


def test_mechanistic_only_holds_the_models_initial_regulation(runs):
    regulation = runs["mechanistic_only"]["cells.regulation"].values
    np.testing.assert_allclose(regulation, 1.0 / LacParameters.from_sbml().K, rtol=1e-12)


def test_the_grey_box_controller_acts(runs):
    grey, mech = runs["grey_box"], runs["mechanistic_only"]
    alive = grey["cells.alive"].values > 0.5
    written = grey["cells.regulation"].values[1:][alive[1:]]
    held = mech["cells.regulation"].values[0, 0]
    assert np.all((written > 0) & (written < 1)) and np.all(written != held)
    assert not np.array_equal(grey["cells.lac"].values, mech["cells.lac"].values)
    # a controller writing far more induction (random weights: ~sigmoid(O(1))) than the
    # repressed operon's 1/K makes far more lac mRNA: the store is what the lac operon reads
    random = runs["random_controller"]

    def mean_mrna(ds):
        alive = ds["cells.alive"].values[-1] > 0.5
        return ds["cells.lac"].values[-1][alive, MRNA].mean()

    assert random["cells.regulation"].values[-1][alive[-1]].min() > 100 * held
    assert mean_mrna(random) > 20 * max(mean_mrna(mech), 1.0)


def test_black_box_growth_comes_from_its_network(runs):
    black, mech = runs["black_box"], runs["mechanistic_only"]
    assert "cells.metabolism_latent" in black
    assert not np.allclose(black["cells.growth_rate"].values[1:],
                           mech["cells.growth_rate"].values[1:])


def test_grey_box_identical_in_both_engines():
    document = _fast("grey_box")
    pbg = gb.run(document, 8.0, engine="pbg", progress=False)
    viv = gb.run(_fast("grey_box"), 8.0, engine="vivarium", progress=False)
    for name in ("cells.lac", "cells.regulation", "cells.latent", "cells.history",
                 "cells.volume", "cells.alive", "cells.growth_rate", "medium.glucose",
                 "medium.lactose"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values, err_msg=name)
    assert np.abs(np.diff(pbg["cells.regulation"].values, axis=0)).max() > 0


def test_stress_response_runs_under_vivarium():
    # the regulators store is map[float] and RegulatorActivity writes changes: vivarium-core
    # must add them key by key (vivarium_adapter's map updater), as process-bigraph does
    viv = gb.run(_fast("glass_box"), 3.0, engine="vivarium", progress=False)
    pbg = gb.run(_fast("glass_box"), 3.0, engine="pbg", progress=False)
    rpos = [name for name in pbg if name.startswith("regulators.")]
    assert "regulators.rpoS" in rpos
    for name in rpos:
        np.testing.assert_allclose(viv[name].values, pbg[name].values, err_msg=name)
    assert np.all(pbg["regulators.rpoS"].values >= 0)


@pytest.mark.slow
def test_genome_scale_grey_box_runs():
    ds = gb.run(cells.ecoli_grey_box(**FAST), 20.0, progress=False)
    alive = ds["cells.alive"].values > 0.5
    for name in ("cells.volume", "cells.lac", "cells.growth_rate", "cells.regulation",
                 "medium.glucose", "medium.lactose"):
        values = ds[name].values
        assert np.all(np.isfinite(values)) and np.all(values >= 0), name
    assert np.all(ds["cells.growth_rate"].values[-1][alive[-1]] > 0)
    assert ds["medium.glucose"].values[-1] < ds["medium.glucose"].values[0]
