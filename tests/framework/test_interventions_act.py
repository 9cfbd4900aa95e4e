"""Interventions reach parameters that GRN and RDME cache in their kernels.

An intervention from time t0 must change the trajectory exactly as the same value in the spec
would from that state on: identical to the plain run before t0, and (for an intervention from
t = 0) bit-identical to the spec that holds the value from the start.
"""
import copy

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.composites import rdme_bimolecular


def _mrna(ds):
    return np.asarray(ds["cells.mrna"])


def test_grn_intervention_from_start_equals_the_spec_value():
    # q does not enter the initial (deterministic steady) state, so the two runs start alike
    target, change, spec_value = "q", {"value": 0.3}, 0.3
    doc = gb.composites.grn_cells(cells_per_type=1)
    spec = _mrna(gb.run(doc, 3.0, overrides={f"grn.config.{target}": spec_value}))
    hit = _mrna(gb.run(doc, 3.0, interventions={"grn": [{"target": target, **change}]}))
    np.testing.assert_array_equal(hit, spec)
    assert not np.array_equal(hit, _mrna(gb.run(doc, 3.0)))


@pytest.mark.parametrize("engine, change", [
    ("pbg", {"target": "q", "value": 0.0}), ("vivarium", {"target": "q", "value": 0.0}),
    ("pbg", {"target": "decay", "factor": 10.0}),
])
def test_grn_intervention_at_t0_acts_from_t0_on(engine, change):
    doc = gb.composites.grn_cells(cells_per_type=1)
    base = gb.run(doc, 4.0, engine=engine)
    hit = gb.run(doc, 4.0, engine=engine, interventions={"grn": [{**change, "start": 2.0}]})
    before = base["time"].values <= 2.0
    np.testing.assert_array_equal(_mrna(hit)[before], _mrna(base)[before])
    assert not np.array_equal(_mrna(hit)[~before], _mrna(base)[~before])


def test_grn_fixed_key_rejected():
    doc = gb.composites.grn_cells(cells_per_type=1)
    with pytest.raises(ValueError, match="cells_per_type"):
        gb.run(doc, 1.0, interventions={"grn": [{"target": "cells_per_type", "value": 2}]})


def test_rdme_rate_intervention_stops_the_reaction():
    doc = rdme_bimolecular(size=8, interval=0.5, seed=3)
    stop = {"rdme": [{"target": "model.reactions.0.rate", "value": 0.0, "start": 1.0},
                     {"target": "model.reactions.1.rate", "value": 0.0, "start": 1.0}]}
    base = gb.run(doc, 3.0)
    hit = gb.run(doc, 3.0, interventions=stop)
    counts, plain = np.asarray(hit["lattice.region_counts"]), \
        np.asarray(base["lattice.region_counts"])
    times = hit["time"].values
    before = times <= 1.0
    np.testing.assert_array_equal(counts[before], plain[before])
    c = counts[..., 2].sum(axis=(1, 2))            # species C, all replicas and regions
    assert np.all(c[times >= 1.0] == c[times == 1.0])   # no C formed or lost after t0
    assert not np.array_equal(counts, plain)


def test_rdme_rate_intervention_from_start_equals_the_spec_value():
    doc = rdme_bimolecular(size=8, interval=0.5, seed=3)
    spec = copy.deepcopy(doc)
    spec["state"]["rdme"]["config"]["model"]["reactions"][0]["rate"] *= 0.1
    slow = gb.run(spec, 2.0)
    hit = gb.run(doc, 2.0, interventions={
        "rdme": [{"target": "model.reactions.0.rate", "factor": 0.1}]})
    np.testing.assert_array_equal(np.asarray(hit["lattice.region_counts"]),
                                  np.asarray(slow["lattice.region_counts"]))


def test_rdme_geometry_cannot_change_in_a_run():
    doc = rdme_bimolecular(size=8, interval=0.5)
    with pytest.raises(ValueError, match="n_replicas"):
        gb.run(doc, 1.0, interventions={"rdme": [{"target": "n_replicas", "value": 2}]})


def test_rdme_lattice_without_sites_is_a_clear_error():
    with pytest.raises(Exception, match="at least|>= 1 site"):
        gb.run(rdme_bimolecular(size=0), 1.0)


def test_config_changed_refuses_fixed_keys_before_the_process_rebuilds(core):
    """One check for every process (GreyboxMixin.config_changed), the one Intervened calls."""
    from greybox_processes.cellcycle.process import CellCycle

    process = CellCycle({"capacity": 4}, core=core)
    process.config["threshold"] = 30.0
    process.config_changed(["threshold"])            # a rate: rebuilt, accepted
    assert float(process.params.threshold) == 30.0
    with pytest.raises(ValueError, match=r"CellCycle config \['capacity'\].*set it in the spec"):
        process.config_changed(["capacity.0"])
