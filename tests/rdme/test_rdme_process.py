"""The RDME process: B1 composite identical in both engines, YAML = builder, hybrid coupling."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.rdme.composites import rdme_bimolecular


def test_yaml_and_builder_agree(composites_dir, core):
    from_yaml = gb.build_document(composites_dir / "rdme_bimolecular.yaml",
                                  params={"size": 8, "n_replicas": 2, "seed": 3}, core=core)
    from_python = gb.build_document(rdme_bimolecular(size=8, n_replicas=2, seed=3), core=core)
    assert from_yaml["state"] == from_python["state"]


def test_rdme_composite_identical_in_both_engines(composites_dir, core):
    spec = composites_dir / "rdme_bimolecular.yaml"
    params = {"size": 4, "n_replicas": 2, "seed": 5, "interval": 0.25}
    pbg = gb.run(spec, 1.0, engine="pbg", params=params, core=core, progress=False)
    viv = gb.run(spec, 1.0, engine="vivarium", params=params, core=core, progress=False)
    assert pbg["time"].values.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    counts = pbg["lattice.region_counts"]
    assert counts.dims == ("time", "replica", "region", "species")
    assert counts["species"].values.tolist() == ["A", "B", "C"]
    np.testing.assert_array_equal(counts.values, viv["lattice.region_counts"].values)
    c = counts.sel(species="C").values
    assert c[0].sum() == 0 and c[-1].min() > 0                       # it ran
    np.testing.assert_array_equal(counts.sel(species="A").values + c, 1000)


def hybrid_document(core):
    model = {"geometry": {"kind": "sphere", "shape": [8, 8, 8], "spacing": 2.5e-8,
                          "radius": 9e-8},
             "species": {"M": {"D": 1e-12, "initial": {"cytoplasm": 20}}, "P": {"D": 0.0}},
             "reactions": [{"reaction": "M -> P", "rate": 0.5}],
             "transitions": [{"species": "M", "from": "cytoplasm", "to": "membrane", "D": 0.0}]}
    config = {"model": model, "n_replicas": 2, "seed": 1}
    # the store starts from the lattice's counts in both engines (vivarium-core would
    # otherwise take RegionODE's zero default for the shared store; see the report)
    start = core.link_registry["RDME"](config, core=core).initial_state()["region_counts"]
    return {"state": {
        "cell": {"counts": start},
        "rdme": {"_type": "process", "address": "local:RDME", "interval": 0.5,
                 "config": config,
                 "inputs": {"region_counts": ["cell", "counts"]},
                 "outputs": {"region_counts": ["cell", "counts"]}},
        "ode": {"_type": "process", "address": "local:RegionODE", "interval": 0.5,
                "config": {"species": ["M", "P"],
                           "regions": ["extracellular", "cytoplasm", "membrane"],
                           "region": "cytoplasm", "n_replicas": 2,
                           "reactions": [{"reaction": "0 -> M", "rate": 40.0}]},
                "inputs": {"region_counts": ["cell", "counts"]},
                "outputs": {"region_counts": ["cell", "counts"]}},
    }}


def test_hybrid_ode_changes_counts_in_a_region(core):
    """A well-mixed ODE makes M in the cytoplasm (40/s); the lattice turns it into P."""
    pbg = gb.run(hybrid_document(core), 3.0, engine="pbg", core=core, progress=False)
    counts = pbg["cell.counts"].values                          # (time, replica, region, species)
    assert np.all(counts[:, :, [0, 2], :] == 0)                 # only the cytoplasm has anything
    total = counts[:, :, 1, :].sum(axis=-1)                     # M + P per replica
    # every particle the ODE made reached the lattice: 20 + 40/s * t (up to rounding)
    np.testing.assert_allclose(total[-1], 20 + 40 * 3.0, atol=2)
    assert counts[-1, :, 1, 1].min() > 20                        # and the lattice reacted


@pytest.mark.slow
def test_hybrid_identical_in_both_engines(core):
    pbg = gb.run(hybrid_document(core), 1.5, engine="pbg", core=core, progress=False)
    viv = gb.run(hybrid_document(core), 1.5, engine="vivarium", core=core, progress=False)
    np.testing.assert_array_equal(pbg["cell.counts"].values, viv["cell.counts"].values)
