"""The Tissue composite: YAML = builder, identical in both engines, clear errors for bad input."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError
from greybox_processes.tissue import composites as tc


@pytest.mark.parametrize("dim, name", [(3, "tissue.yaml"), (2, "tissue_2d.yaml")])
def test_yaml_and_builder_agree(composites_dir, core, dim, name):
    from_yaml = gb.build_document(composites_dir / name, core=core, validate=False)
    assert from_yaml["state"] == tc.tissue(dim=dim)["state"]
    small = gb.build_document(composites_dir / name, params={"cells_per_type": 4, "seed": 3},
                              core=core, validate=False)
    assert small["state"] == tc.tissue(dim=dim, cells_per_type=4, seed=3)["state"]


def test_tissue_2d_is_identical_in_both_engines_and_alive(composites_dir, core, tmp_path):
    spec = composites_dir / "tissue_2d.yaml"
    params = {"cells_per_type": 3, "initial_per_type": 1, "seed": 5}
    pbg = gb.run(spec, 3.0, engine="pbg", params=params, core=core, progress=False)
    viv = gb.run(spec, 3.0, engine="vivarium", params=params, core=core, progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    for name in ("cells.position", "cells.volume", "cells.phase", "cells.chem", "cells.mrna",
                 "cells.protein", "fields.amount"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values)
    assert pbg["cells.position"].dims == ("time", "cell", "axis")
    assert pbg["fields.amount"].dims == ("time", "chemical", "field_x", "field_y")
    phase = pbg["cells.phase"].values
    assert np.all(np.isin(phase, [0, 1, 2, 3, 4]))
    assert np.all(pbg["cells.mrna"].values >= 0) and np.all(pbg["fields.amount"].values >= 0)
    # free slots and dead cells hold no GRN state; live cells do
    live = np.isin(phase[-1], [1, 2])
    assert np.all(pbg["cells.mrna"].values[-1][~live] == 0)
    assert np.all(pbg["cells.mrna"].values[-1][live].sum(axis=1) > 0)
    # secreted proteins reached the fields
    assert pbg["fields.amount"].values[-1].sum() > 0
    # results go to zarr and to pictures
    gb.write_zarr(pbg, tmp_path / "tissue.zarr")
    back = gb.read_zarr(tmp_path / "tissue.zarr")
    np.testing.assert_array_equal(back["cells.position"].values, pbg["cells.position"].values)
    import matplotlib
    matplotlib.use("Agg")
    from greybox_processes.tissue import plot
    plot.snapshots(pbg, times=(0, -1))
    assert plot.animate(pbg, tmp_path / "tissue.gif").exists()


def _doc(**config):
    doc = tc.tissue(dim=2, cells_per_type=2, initial_per_type=1)
    doc["state"]["tissue"]["config"].update(config)
    return doc


@pytest.mark.parametrize("config, message", [
    ({"diffusion": [-1.0, 1.0]}, "diffusion constants must be >= 0"),
    ({"field_spacing": [2.0, 2.0]}, "does not cover the domain"),
    ({"reactions": ["A + C -> B: 1.0"]}, "unknown chemical 'C'"),
    ({"initial_per_type": 5}, "capacity is too small"),
    ({"secrete": ["0:Z"]}, "unknown chemical 'Z'"),
    ({"n_genes": 1}, "secrete gene index 2 is outside \\[0, n_genes=1\\); set n_genes"),
    ({"size_rule": "bigger"}, "size_rule must be one of"),
])
def test_bad_tissue_config_is_a_clear_spec_error(core, config, message):
    with pytest.raises(SpecError, match=message) as info:
        gb.build_document(_doc(**config), core=core)
    assert info.value.path[:2] == ("tissue", "config")


def test_tissue_and_grn_disagreeing_on_cell_types_is_a_spec_error_naming_the_store(core):
    """The GRN (DS1: 9 cell types) and a Tissue of 3 types cannot share the cells' stores."""
    with pytest.raises(SpecError, match=r"store 'cells/\w+': .* has shape \(18,.* has shape "
                                        r"\(6,") as info:
        gb.build_document(_doc(n_types=3), core=core)
    assert info.value.path[:1] in (("tissue",), ("grn",))


def test_fields_process_rejects_a_grid_that_does_not_cover_the_domain(core):
    doc = tc.fields_pulse(n=5)
    doc["state"]["diffusion"]["config"].update(field_shape=[3, 5], field_spacing=[1.0, 1.0])
    with pytest.raises(SpecError, match="axis 0 it spans 3 x 1 = 3 but the domain is 5"):
        gb.build_document(doc, core=core)
