"""The same composite gives the same trajectory under process-bigraph and vivarium-core."""
import numpy as np
import pytest

import greybox_processes as gb


@pytest.mark.parametrize("noise", ["dpd", "sp"])
def test_grn_cells_identical_in_both_engines(composites_dir, core, noise):
    spec = composites_dir / "grn_cells.yaml"
    params = {"cells_per_type": 3, "noise": noise, "seed": 7}
    pbg = gb.run(spec, 4.0, engine="pbg", params=params, core=core, progress=False)
    viv = gb.run(spec, 4.0, engine="vivarium", params=params, core=core, progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    assert pbg["time"].values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    for name in ("cells.mrna", "cells.protein"):
        assert pbg[name].dtype == np.float64
        # bit-for-bit: the engines apply the same deltas to the same float64 stores
        np.testing.assert_array_equal(pbg[name].values, viv[name].values)
    # and the run really moved: the trajectory is not constant
    assert np.abs(np.diff(pbg["cells.mrna"].values, axis=0)).max() > 0


def test_different_seeds_differ(composites_dir, core):
    spec = composites_dir / "grn_cells.yaml"
    a = gb.run(spec, 2.0, params={"cells_per_type": 2, "seed": 1}, core=core, progress=False)
    b = gb.run(spec, 2.0, params={"cells_per_type": 2, "seed": 2}, core=core, progress=False)
    assert not np.array_equal(a["cells.mrna"].values[-1], b["cells.mrna"].values[-1])


def test_toy_two_process_composite_identical(core):
    """Two processes on one store, one of them overwriting (a 'set' updater in vivarium).

    Both processes share one interval: with different intervals the two engines
    schedule the slower process's update differently (see README, "Engines").
    """
    from framework.toy_processes import register

    register(core)
    document = {"state": {
        "cell": {"x": np.array([1.0, 2.0, 4.0]), "total": 0.0},
        "decay": {"_type": "process", "address": "local:Decay", "config": {"rate": 0.3},
                  "interval": 0.5, "inputs": {"x": ["cell", "x"]}, "outputs": {"x": ["cell", "x"]}},
        "reader": {"_type": "process", "address": "local:Reader", "config": {},
                   "interval": 0.5, "inputs": {"x": ["cell", "x"]},
                   "outputs": {"total": ["cell", "total"]}},
    }}
    pbg = gb.run(document, 3.0, engine="pbg", core=core, progress=False)
    viv = gb.run(document, 3.0, engine="vivarium", core=core, progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    np.testing.assert_array_equal(pbg["cell.x"].values, viv["cell.x"].values)
    np.testing.assert_array_equal(pbg["cell.total"].values, viv["cell.total"].values)
    # x decays by (1 - 0.3*0.5) per half-unit step: an exact check of the update semantics
    np.testing.assert_allclose(pbg["cell.x"].values[-1], np.array([1.0, 2.0, 4.0]) * 0.85 ** 6)
