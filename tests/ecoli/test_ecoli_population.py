"""The E. coli population composite: four separate processes sharing each cell's stores.

The element budget (WCM-Hard tier 1's observable): carbon and nitrogen in the medium, in the
ledger of the untracked exchanges and in the cells' biomass (their volumes, which the cell
cycle grows) are conserved; the integrated violation is read as tier 1 reads it.
"""
from __future__ import annotations

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.ecoli.composites import CELL_STORES, LAC_SPECIES, ecoli_population
from greybox_processes.framework.registry import default_core
from greybox_processes.metabolism.population_process import (PopulationMetabolism,
                                                              biomass_elements, element_counts)


def _small(**kwargs):
    return ecoli_population(capacity=32, initial_cells=6, seed=4, **kwargs)


def budget_violation(document, ds):
    """``(e,)`` integrated violation of medium + ledger + biomass (C, N), relative to the
    largest biomass's content: ``sum_k |M_k - M_(k-1)| / (X_max * composition)``."""
    process = PopulationMetabolism(document["state"]["metabolism"]["config"], default_core())
    alive = ds["cells.alive"].values > 0.5
    volume = np.where(alive, ds["cells.volume"].values, 0.0).sum(axis=1)
    biomass = process.dry_mass(volume) * process.cells_per_litre  # gDW/L
    medium = np.column_stack([ds["medium.glucose"].values, ds["medium.lactose"].values])
    composition = biomass_elements(process.model)
    total = medium @ element_counts(process.model, process.exchanges) + \
        ds["medium.ledger"].values + biomass[:, None] * composition[None, :]
    return np.abs(np.diff(total, axis=0)).sum(axis=0) / (biomass.max() * composition)


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
                     "exchange_rates": "copy", "lac": "binomial"}
    assert set(rules) == set(CELL_STORES)


def test_the_metabolisms_initial_state_must_fill_the_growth_rate():
    """Listed before the cycle, the cycle's initial_growth_rate would fill growth_rate at
    t = 0, which the metabolism's first interval's LP does not pay for: a clear error."""
    document = _small()
    state = document["state"]
    order = ["cells", "medium", "metabolism", "lac", "cycle", "division"]
    document["state"] = {key: state[key] for key in order}
    with pytest.raises(gb.SimulationError, match="list the metabolism after"):
        gb.run(document, 2.0, progress=False)


@pytest.fixture(scope="module")
def both_engines():
    document = _small(initial_biomass=0.01)
    return document, {engine: gb.run(document, 40.0, engine=engine, progress=False)
                      for engine in ("pbg", "vivarium")}


def test_same_trajectory_in_both_engines(both_engines):
    pbg, viv = both_engines[1]["pbg"], both_engines[1]["vivarium"]
    for name in ("cells.lac", "cells.volume", "cells.alive", "cells.growth_rate",
                 "cells.exchange_rates", "medium.glucose", "medium.lactose", "medium.ledger"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values, err_msg=name)


@pytest.mark.parametrize("engine", ["pbg", "vivarium"])
def test_the_element_budget_closes_in_both_engines(both_engines, engine):
    document, runs = both_engines
    assert np.all(budget_violation(document, runs[engine]) <= 1e-6)


def test_the_element_budget_closes_through_the_diauxic_shift():
    """A dense culture runs out of glucose: divisions, the availability cap, the cells'
    growth stopping (their basal LacY takes up a little lactose, not enough to grow, and
    infeasible cells burn what they take up); C and N are conserved all along."""
    document = _small(initial_biomass=0.03, cycle_config={"synchronized": False})
    ds = gb.run(document, 45.0, progress=False)
    alive = ds["cells.alive"].values > 0.5
    glucose, lactose = ds["medium.glucose"].values, ds["medium.lactose"].values
    assert alive.sum(axis=1)[-1] > alive.sum(axis=1)[0]               # cells divided
    assert glucose[-1] < 1e-4 * glucose[0]                             # glucose ran out
    assert np.all(glucose >= 0) and np.all(lactose >= 0) and lactose[-1] < lactose[0]
    rates = ds["cells.growth_rate"].values[-1][alive[-1]]
    assert np.any(rates == 0.0) and rates.max() < 0.3 * ds["cells.growth_rate"].values[0, 0]
    violation = budget_violation(document, ds)
    assert np.all(violation <= 1e-6), violation


def test_cells_grow_divide_and_consume_the_shared_medium(both_engines):
    ds = both_engines[1]["pbg"]
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
