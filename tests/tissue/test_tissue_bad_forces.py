"""Huge or non-finite force-law parameters are rejected; non-finite state raises."""
from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import pytest

import greybox_processes as gb
from greybox_processes import composites as gc
from greybox_processes.errors import SimulationError, SpecError
from greybox_processes.tissue import process as tissue_process


def _doc(**config):
    doc = gc.tissue(dim=2, cells_per_type=2, initial_per_type=1)
    doc["state"]["tissue"]["config"].update(config)
    return doc


@pytest.mark.parametrize("config, key", [
    ({"repulsion": [8e300]}, "repulsion"),
    ({"attraction": [math.inf]}, "attraction"),
    ({"random_force": [math.nan]}, "random_force"),
    ({"drift": [2.0]}, "drift"),
    ({"mobility": 1e300}, "mobility"),
    ({"repulsion": [-1.0]}, "repulsion"),
])
def test_bad_force_parameter_is_a_spec_error_naming_key_and_range(core, config, key):
    with pytest.raises(SpecError, match=rf"'{key}' must be finite and within \[") as info:
        gb.build_document(_doc(**config), core=core)
    assert info.value.path[:2] == ("tissue", "config")


def test_non_finite_force_after_an_interval_raises(core, monkeypatch):
    doc = gb.build_document(_doc(), core=core)
    real = tissue_process.advance

    def poisoned(params, s, n_steps):
        out = real(params, s, n_steps=n_steps)
        return dataclasses.replace(out, force=jnp.full_like(out.force, jnp.inf))

    monkeypatch.setattr(tissue_process, "advance", poisoned)
    with pytest.raises(SimulationError, match="non-finite"):
        gb.run(doc, 1.0, core=core, progress=False)
