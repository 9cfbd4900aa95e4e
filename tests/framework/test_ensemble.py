"""Ensembles and sweeps run on Dask and come back stacked along 'run'."""
import numpy as np
import pytest
from distributed import Client, LocalCluster

import greybox_processes as gb
from greybox_processes.framework.ensemble import run_many


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def test_seed_ensemble_matches_single_runs(composites_dir, client):
    spec = composites_dir / "grn_cells.yaml"
    variants = [{"seed": s, "cells_per_type": 1} for s in (1, 2, 3)]
    stacked = run_many(spec, 2.0, variants, client=client, progress=False)
    assert stacked.sizes["run"] == 3
    assert stacked["seed"].values.tolist() == [1, 2, 3]
    single = gb.run(spec, 2.0, params={"seed": 2, "cells_per_type": 1}, progress=False)
    np.testing.assert_array_equal(stacked["cells.mrna"].sel(run=1).values,
                                  single["cells.mrna"].values)


def test_override_sweep(composites_dir, client):
    spec = composites_dir / "grn_cells.yaml"
    stacked = run_many(spec, 1.0, [{"cells_per_type": 1, "grn.config.q": q} for q in (0.0, 1.0)],
                       client=client, progress=False)
    quiet = stacked["cells.mrna"].sel(run=0).values
    np.testing.assert_allclose(quiet[-1], quiet[0], rtol=1e-9, atol=1e-12)


def test_empty_variants(composites_dir):
    with pytest.raises(ValueError, match="variants"):
        run_many(composites_dir / "grn_cells.yaml", 1.0, [])


@pytest.mark.slow
def test_default_local_cluster_of_processes(composites_dir):
    """Without a client, run_many starts (and closes) a LocalCluster of worker processes."""
    stacked = run_many(composites_dir / "grn_cells.yaml", 1.0,
                       [{"seed": s, "cells_per_type": 1} for s in (4, 5)], n_workers=1,
                       progress=False)
    assert stacked.sizes["run"] == 2
    assert not np.array_equal(stacked["cells.mrna"].sel(run=0).values[-1],
                              stacked["cells.mrna"].sel(run=1).values[-1])
