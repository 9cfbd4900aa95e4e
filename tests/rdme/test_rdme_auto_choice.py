"""'auto' storage and kernel form are chosen from the initial counts, with or without a fixed dt.

Before the fix a fixed dt built the kernel before the initial statistics existed, so 'auto'
always picked uint8 storage and the lattice form.
"""
import numpy as np
import pytest

from greybox_processes.rdme.composites import b1_model
from greybox_processes.rdme.process import RDME


def _process(core, initial_a, dt):
    model = b1_model(8)
    model["species"]["A"]["initial"] = initial_a
    model["species"]["B"]["initial"] = initial_a
    return RDME({"model": model, "dt": dt, "method": "auto", "count_dtype": "auto"}, core=core)


@pytest.mark.parametrize("initial_a", [50, 60_000])
def test_fixed_dt_picks_what_automatic_dt_picks(core, initial_a):
    automatic = _process(core, initial_a, 0.0)
    dt = automatic._dt_max()
    fixed = _process(core, initial_a, dt)
    assert type(fixed._state) is type(automatic._state)
    assert np.asarray(fixed._state.counts).dtype == np.asarray(automatic._state.counts).dtype


def test_dense_lattice_with_fixed_dt_gets_wide_storage(core):
    dense = _process(core, 60_000, _process(core, 50, 0.0)._dt_max())
    # ~234 A and B per site: more than uint8's 15-per-site headroom
    assert np.asarray(dense._state.counts).dtype != np.uint8
