"""The E. coli population composite: four separate processes sharing each cell's stores."""
from __future__ import annotations

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.ecoli.composites import CELL_STORES, LAC_SPECIES, ecoli_population


def _small(**kwargs):
    return ecoli_population(capacity=32, initial_cells=6, seed=4, **kwargs)


def test_yaml_and_builder_agree(composites_dir, core):
    spec = composites_dir / "ecoli_population.yaml"
    assert gb.build_document(spec, core=core)["state"] == \
        gb.build_document(gb.composites.ecoli_population(), core=core)["state"]
    with_params = gb.build_document(spec, params={"capacity": 32, "iptg": True}, core=core)
    assert with_params["state"] == gb.build_document(
        ecoli_population(capacity=32, iptg=True), core=core)["state"]


def test_division_partitions_every_per_cell_store(core):
    document = gb.build_document(_small(), core=core)
    rules = document["state"]["division"]["config"]["rules"]
    assert rules == {"volume": "split", "division_protein": "zero", "growth_rate": "copy",
                     "lac": "binomial"}
    assert set(rules) == set(CELL_STORES)


@pytest.fixture(scope="module")
def both_engines():
    document = _small(initial_biomass=0.01)
    return {engine: gb.run(document, 40.0, engine=engine, progress=False)
            for engine in ("pbg", "vivarium")}


def test_same_trajectory_in_both_engines(both_engines):
    pbg, viv = both_engines["pbg"], both_engines["vivarium"]
    for name in ("cells.lac", "cells.volume", "cells.alive", "cells.growth_rate",
                 "medium.glucose", "medium.lactose"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values, err_msg=name)


def test_cells_grow_divide_and_consume_the_shared_medium(both_engines):
    ds = both_engines["pbg"]
    alive = ds["cells.alive"].values > 0.5
    assert alive.sum(axis=1)[-1] > alive.sum(axis=1)[0]          # cells divided
    assert np.all(np.diff(ds["medium.glucose"].values) < 0)      # every interval eats glucose
    lac = ds["cells.lac"].values
    assert np.all(lac >= 0) and np.all(lac == np.round(lac))     # molecule counts
    assert list(ds["lac_species"].values[:5]) == list(LAC_SPECIES[:5])
    # once the metabolism has written it, growth only where there are cells
    assert np.all(ds["cells.growth_rate"].values[1:][~alive[1:]] == 0.0)


def test_iptg_swaps_in_the_induced_reference(core):
    """The IPTG reference differs by one parameter and induces every cell's lac operon."""
    plain = gb.run(_small(), 20.0, core=core, progress=False)
    induced = gb.run(_small(iptg=True), 20.0, core=core, progress=False)
    lacy = list(LAC_SPECIES).index("lacY")

    def per_live_cell(ds):
        alive = ds["cells.alive"].values[-1] > 0.5
        return ds["cells.lac"].values[-1][alive, lacy]

    assert per_live_cell(induced).min() > 10 * max(per_live_cell(plain).mean(), 1.0)
