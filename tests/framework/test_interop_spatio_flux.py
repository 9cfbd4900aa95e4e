"""A greybox process and a process of another Vivarium package share stores under gb.run.

composites/interop_spatio_flux.yaml: greybox's DynamicFBA culture sits in one bin of a
glucose field that spatio-flux's DiffusionAdvection diffuses; greybox's FieldPatch step
exchanges glucose between the culture and its bin. The tests check that the two act on
each other: every mmol the culture takes leaves the field (and is what the culture's own
fluxes and growth say it took), the field forms a sink around the culture, and the culture
takes more glucose than its bin ever held, and grows more, only when spatio-flux moves
glucose to it.

spatio-flux is not a dependency of greybox; CI installs it (see README, "Mixing with other
Vivarium packages"). Without it these tests fail and say what to install.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SimulationError
from greybox_processes.framework.interop_fields import FieldPatch
from greybox_processes.framework.registry import (claim_short_names, default_core,
                                                   resolve_process_class)
from greybox_processes.framework.results import read_zarr, to_dataset, write_zarr

SPEC = "interop_spatio_flux.yaml"
INSTALL = ("pip install --no-deps spatio-flux==1.5.5 pbg-superpowers==0.23.0 "
           "viva-superpowers==0.24.0 viva-emitters==0.4.3 viva-workspace==0.1.0 "
           "pymunk==7.3.1 imageio==2.38.2 && pip install 'cffi>=1.17.1' 'ruamel.yaml>=0.18'")
HOURS = 2.0


@pytest.fixture(scope="module")
def spatio_flux():
    if importlib.util.find_spec("spatio_flux") is None:
        pytest.fail(f"spatio-flux is not installed; this interoperation test needs it: {INSTALL}")


def _run(composites_dir, **params):
    ds = gb.run(str(composites_dir / SPEC), time=HOURS, params=params, progress=False)
    field = ds["fields.glucose"].values  # (time, ny, nx), mM: the map store split by key
    return ds, field


@pytest.fixture(scope="module")
def diffusing(spatio_flux, composites_dir):
    return _run(composites_dir)


@pytest.fixture(scope="module")
def isolated(spatio_flux, composites_dir):
    # the same composite with spatio-flux's glucose diffusion off: the culture's bin is closed
    return _run(composites_dir, glucose_diffusion=0.0)


def test_greybox_short_names_resolve_to_greybox_classes(spatio_flux):
    from greybox_processes.framework.population import Division
    from greybox_processes.metabolism.dfba import DynamicFBA

    core = default_core()
    assert resolve_process_class("local:Division", core) is Division
    assert resolve_process_class("local:DynamicFBA", core) is DynamicFBA
    # spatio-flux's classes of the same names stay reachable by their full address
    theirs = resolve_process_class("local:spatio_flux.processes.dfba.DynamicFBA", core)
    assert theirs is not DynamicFBA and theirs.__module__ == "spatio_flux.processes.dfba"


@pytest.mark.parametrize("imported", [True, False], ids=["imported", "placeholder"])
def test_claim_short_names_takes_back_a_name_another_package_was_discovered_under(
        spatio_flux, imported):
    from greybox_processes.metabolism.dfba import DynamicFBA

    core = default_core()
    registry = core.link_registry
    foreign = "spatio_flux.processes.dfba"
    # what discovery does when spatio-flux is discovered first: the short name is theirs,
    # either as an imported class or as a not-yet-imported placeholder of the lazy registry
    if imported:
        core.register_link("DynamicFBA", registry[f"{foreign}.DynamicFBA"])
    else:
        registry.pop("DynamicFBA", None)  # (a placeholder pop without default raises)
        registry._index["DynamicFBA"] = foreign
    assert resolve_process_class("local:DynamicFBA", core).__module__ == foreign
    assert claim_short_names(core) == {"DynamicFBA": foreign}
    assert resolve_process_class("local:DynamicFBA", core) is DynamicFBA
    assert claim_short_names(core) == {}  # nothing left to take back


def test_the_interop_run_writes_to_zarr_with_the_field_map_split(diffusing, tmp_path):
    ds, field = diffusing
    assert ds["fields.glucose"].attrs["units"] == "mM"
    write_zarr(ds, tmp_path / "run.zarr")
    back = read_zarr(tmp_path / "run.zarr")
    np.testing.assert_array_equal(back["fields.glucose"].values, field)


def _uptake_from_growth(ds):
    """Glucose the culture took (mM of its bin), from DynamicFBA's own outputs only.

    DynamicFBA integrates each interval at constant flux v (mmol/gDW/h) and growth rate mu
    (1/h): the medium changes by v X (e^{mu dt} - 1)/mu = v dX/mu (growth) or v X dt (mu = 0).
    """
    biomass = ds["patch.biomass"].values
    flux = ds["patch.fluxes"].values[:, 0]
    mu = ds["patch.growth_rate"].values
    dt = np.diff(ds.time.values)
    growing = mu[1:] > 1e-12
    per_interval = np.where(growing, -flux[1:] * np.diff(biomass) / np.where(growing, mu[1:], 1.0),
                            -flux[1:] * biomass[:-1] * dt)
    return np.concatenate([[0.0], np.cumsum(per_interval)])


def test_every_mmol_the_culture_takes_leaves_the_field(diffusing):
    ds, field = diffusing
    total = field.sum(axis=(1, 2))  # mM x bins: amount in units of one bin's volume
    taken = ds["patch.taken_total"].values[:, 0]
    assert taken[-1] > field[0, 4, 4]  # more than one bin's worth: a real exchange
    # field + culture uptake is conserved at every emitted time
    np.testing.assert_allclose(total + taken, total[0], rtol=1e-12, atol=0)
    # and what left the field is what the culture's fluxes and growth say it took
    np.testing.assert_allclose(taken, _uptake_from_growth(ds), rtol=1e-9, atol=1e-12)
    # the culture's medium is its bin's concentration after every exchange
    np.testing.assert_allclose(ds["patch.concentrations"].values[:, 0], field[:, 4, 4],
                               rtol=0, atol=1e-12)


def test_the_culture_makes_a_sink_that_spatio_flux_spreads(diffusing):
    _, field = diffusing
    assert np.all(field[0] == field[0, 0, 0])  # uniform at t=0
    end = field[-1]
    assert end.argmin() == np.ravel_multi_index((4, 4), end.shape)
    # concentration rises with distance from the culture along its row and its column,
    # and by symmetry of the grid and the zero-flux walls the sink is symmetric
    for line in (end[4, 4:], end[4, 4::-1], end[4:, 4], end[4::-1, 4]):
        assert np.all(np.diff(line) > 0), line
    np.testing.assert_allclose(end, end.T, rtol=1e-12)
    np.testing.assert_allclose(end, end[::-1, ::-1], rtol=1e-12)
    # glucose reached the culture from far bins: every bin lost some
    assert np.all(end < field[0])


def test_the_culture_grows_on_glucose_that_spatio_flux_brings(diffusing, isolated):
    (ds, field), (ds0, field0) = diffusing, isolated
    start = field[0, 4, 4]
    taken = ds["patch.taken_total"].values[-1, 0]
    taken0 = ds0["patch.taken_total"].values[-1, 0]
    # closed bin: the culture takes at most what its bin held, and no other bin changes
    assert taken0 <= start * (1 + 1e-12)
    outside = np.ones(field0.shape[1:], bool)
    outside[4, 4] = False
    assert np.all(field0[:, outside] == start)
    np.testing.assert_allclose(field0.sum(axis=(1, 2)) + ds0["patch.taken_total"].values[:, 0],
                               field0[0].sum(), rtol=1e-12)
    # with diffusion the culture takes more than its bin ever held, and grows more on it
    assert taken > 2 * start
    assert ds["patch.biomass"].values[-1] > ds0["patch.biomass"].values[-1] * 1.5
    assert ds["patch.growth_rate"].values[-1] > ds0["patch.growth_rate"].values[-1]


# FieldPatch and map stores alone (no spatio-flux needed) -------------------------------------


def test_to_dataset_splits_a_map_of_arrays_into_one_variable_per_key(tmp_path):
    a0, a1 = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    series = {("fields",): [np.array({"glc": a0, "ace": a0 * 2}, dtype=object),
                            {"glc": a1}],  # acetate absent at the second time
              ("cells",): [{"a": {"mass": 1.0}}, {"a": {"mass": 2.0}}],  # nested map
              ("status",): [np.array("ok"), np.array("ok")]}
    ds = to_dataset([0.0, 1.0], series, {("fields",): {"units": "mM"}})
    assert set(ds.data_vars) == {"fields.ace", "fields.glc", "cells.a.mass", "status"}
    np.testing.assert_array_equal(ds["fields.glc"].values, [a0, a1])
    np.testing.assert_array_equal(ds["fields.ace"].values[0], a0 * 2)
    assert np.isnan(ds["fields.ace"].values[1]).all()
    assert ds["fields.glc"].attrs["units"] == "mM"
    np.testing.assert_array_equal(ds["cells.a.mass"].values, [1.0, 2.0])
    write_zarr(ds, tmp_path / "maps.zarr")  # a dict-valued variable would make this fail
    np.testing.assert_array_equal(read_zarr(tmp_path / "maps.zarr")["fields.glc"].values, [a0, a1])


def test_to_dataset_keeps_a_map_with_text_values_whole():
    ds = to_dataset([0.0], {("labels",): [{"a": "x"}]}, {})
    assert list(ds.data_vars) == ["labels"] and ds["labels"].dtype == object


def _patch(core, **config):
    base = {"species": ["glucose"], "field_shape": [3, 4], "bin": [1, 2], "initial": [2.0]}
    return FieldPatch({**base, **config}, core=core)


def test_field_patch_moves_what_the_culture_took_into_the_field_and_back(core):
    patch = _patch(core)
    field = np.full((3, 4), 2.0)
    field[1, 2] = 2.5  # diffusion brought 0.5 mM to the bin while the culture took 0.3
    update = patch.update({"fields": {"glucose": field}, "concentrations": np.array([1.7]),
                           "synced": np.array([2.0])})
    delta = update["fields"]["glucose"]
    assert delta[1, 2] == pytest.approx(-0.3) and np.count_nonzero(delta) == 1
    assert 1.7 + update["concentrations"][0] == pytest.approx(2.2)  # the bin after both
    assert 2.0 + update["synced"][0] == pytest.approx(2.2)
    assert update["taken_total"][0] == pytest.approx(0.3)


def test_field_patch_refuses_a_bin_emptied_below_what_the_culture_took(core):
    patch = _patch(core)
    field = np.zeros((3, 4))
    field[1, 2] = 0.1
    with pytest.raises(SimulationError, match="shorten the interval"):
        patch.update({"fields": {"glucose": field}, "concentrations": np.array([1.0]),
                      "synced": np.array([2.0])})
    with pytest.raises(SimulationError, match="no \\['glucose'\\]"):
        patch.update({"fields": {"lactose": field}, "concentrations": np.array([1.0]),
                      "synced": np.array([2.0])})


@pytest.mark.parametrize("config, message", [
    ({"bin": [3, 0]}, "bin must be"),
    ({"field_shape": [3]}, "field_shape must be"),
    ({"initial": []}, "initial must give one"),
    ({"initial": [-1.0]}, "initial must give one"),
    ({"species": ["glucose", "glucose"]}, "species must be distinct"),
])
def test_field_patch_config_errors_say_what_is_wrong(core, config, message):
    with pytest.raises(ValueError, match=message):
        _patch(core, **config)
