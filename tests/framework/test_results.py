"""Results come back as a labelled xarray Dataset, round-trip through zarr, survive failures."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SimulationError


@pytest.fixture()
def small_run(composites_dir, core):
    return gb.run(composites_dir / "grn_cells.yaml", 3.0, params={"cells_per_type": 2},
                  core=core, progress=False)


def test_dataset_is_labelled(small_run):
    ds = small_run
    assert list(ds["time"].values) == [0.0, 1.0, 2.0, 3.0]
    assert ds["cells.mrna"].dims == ("time", "cell", "gene")
    assert ds.sizes["cell"] == 18 and ds.sizes["gene"] == 100
    assert "units" in ds["cells.mrna"].attrs
    # each cell carries its type: 2 cells of each of DS1's 9 types
    assert np.bincount(ds["cell_type"].values).tolist() == [2] * 9
    assert (ds["cells.mrna"].values >= 0).all()


def test_zarr_round_trip(small_run, tmp_path):
    path = tmp_path / "run.zarr"
    gb.write_zarr(small_run, path)
    back = gb.read_zarr(path)
    np.testing.assert_array_equal(back["cells.mrna"].values, small_run["cells.mrna"].values)
    np.testing.assert_array_equal(back["cell_type"].values, small_run["cell_type"].values)
    assert back.attrs["engine"] == "pbg"


@pytest.mark.parametrize("engine", ["pbg", "vivarium"])
def test_failed_run_keeps_what_was_emitted(core, tmp_path, engine):
    from framework.toy_processes import register

    register(core)
    document = {"state": {
        "cell": {"x": np.array([1.0, 2.0, 4.0])},
        "decay": {"_type": "process", "address": "local:Decay",
                  "config": {"rate": 0.1, "fail_at": 3.0}, "interval": 1.0,
                  "inputs": {"x": ["cell", "x"]}, "outputs": {"x": ["cell", "x"]}},
    }}
    out = tmp_path / "partial.zarr"
    with pytest.raises(SimulationError) as info:
        gb.run(document, 10.0, core=core, out=out, engine=engine, progress=False)
    partial = info.value.partial
    assert "FloatingPointError" in str(info.value)
    assert list(partial["time"].values) == [0.0, 1.0, 2.0]
    np.testing.assert_allclose(partial["cell.x"].values[-1], [0.81, 1.62, 3.24])
    assert gb.read_zarr(out).sizes["time"] == 3


def test_bad_run_arguments(composites_dir, core):
    with pytest.raises(ValueError, match="engine"):
        gb.run(composites_dir / "grn_cells.yaml", 1.0, engine="copasi", core=core)
    with pytest.raises(ValueError, match="positive"):
        gb.run(composites_dir / "grn_cells.yaml", -1.0, core=core)


def test_netcdf_round_trip(small_run, tmp_path):
    """Attributes are netCDF-safe (dicts are stored as JSON strings)."""
    import json

    path = tmp_path / "run.nc"
    small_run.to_netcdf(path)
    import xarray as xr

    back = xr.load_dataset(path)
    assert json.loads(back.attrs["params"]) == {"cells_per_type": 2}


def test_text_coordinates_round_trip_without_zarr_format_warning(tmp_path):
    """Gene / species names are stored as variable-length strings (specified in zarr v3)."""
    import warnings

    import numpy as np
    import xarray as xr

    ds = xr.Dataset({"x": (("species",), np.arange(3.0))},
                    coords={"species": np.array(["lacY", "lacZ", "allolactose"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gb.write_zarr(ds, tmp_path / "t.zarr")
    back = gb.read_zarr(tmp_path / "t.zarr")
    assert [str(v) for v in back.species.values] == ["lacY", "lacZ", "allolactose"]
    np.testing.assert_array_equal(back.x.values, ds.x.values)
