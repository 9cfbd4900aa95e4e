"""Property: building a composite from bad numbers gives a result or a GreyboxError, nothing else.

Bounded (25 examples, build only) so that it stays in the fast suite.
"""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import greybox_processes as gb
from greybox_processes import composites as gc
from greybox_processes.errors import GreyboxError, SpecError
from greybox_processes.tissue.forces import FORCE_PARAMETER_RANGES

_NUMBERS = st.one_of(st.sampled_from([0.0, -1.0, math.nan, math.inf, -math.inf, 8e300, 1e-300]),
                     st.floats(allow_nan=True, allow_infinity=True))
_FORCE_KEYS = ("attraction", "repulsion", "drift", "random_force")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(_FORCE_KEYS + ("mobility",)), value=_NUMBERS)
def test_tissue_force_numbers_build_or_raise_a_greybox_error(core, key, value):
    doc = gc.tissue(dim=2, cells_per_type=2, initial_per_type=1)
    doc["state"]["tissue"]["config"][key] = value if key == "mobility" else [value]
    low, high = FORCE_PARAMETER_RANGES[key]
    in_range = math.isfinite(value) and low <= value <= high
    try:
        gb.build_document(doc, core=core)
    except GreyboxError as exc:
        assert str(exc).strip()
        # an out-of-range force must be the error, named by its key
        assert in_range or (isinstance(exc, SpecError) and key in str(exc))
    else:
        assert in_range, f"{key}={value!r} built silently"
