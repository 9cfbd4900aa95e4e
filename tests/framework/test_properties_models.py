"""Property: any number in a model's parameters gives a run or a GreyboxError, and no NaN.

Hypothesis draws the numeric parameters of the GRN kernel (decay, q, dt, k_trans, k_deg,
shared_coop_state) and of an RDME model (diffusion constants, reaction rates, initial
counts, box size, dt) from ordinary values and from the edges (0, negative, tiny, huge,
``nan``, ``inf``). Through :func:`greybox_processes.run` each either runs one interval with
finite, non-negative amounts in its stores, or stops with a
:class:`~greybox_processes.errors.SpecError` (the process refused its config, before
anything ran) or a :class:`~greybox_processes.errors.SimulationError` (the kernel's checks
caught an invalid state): a GreyboxError with a message, never a raw traceback, and never a
NaN or a negative count that reaches a store silently.

Small on purpose (one cell per type, a 4^3 lattice, ten kernel steps per interval).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import greybox_processes as gb
from greybox_processes import composites as gc
from greybox_processes.errors import GreyboxError, SimulationError, SpecError
from greybox_processes.rdme.composites import rdme_bimolecular


def _settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


EDGES = [math.nan, math.inf, -math.inf, -1.0, 0.0, -0.0, 1e-300, 1e300]


def _numbers(ordinary):
    # one draw in four at an edge, so that a good share of the examples also run
    return st.one_of(st.sampled_from(EDGES), ordinary, ordinary, ordinary)


def _run_or_greybox_error(document, time, core, what):
    """The run's Dataset, or ``None`` after checking the error is typed and says something."""
    try:
        result = gb.run(document, time, core=core, progress=False)
    except GreyboxError as error:
        event(f"raised {type(error).__name__}")
        assert isinstance(error, (SpecError, SimulationError)), (what, repr(error))
        assert str(error).strip(), what
        return None
    event("ran")
    return result


def _assert_finite_non_negative(result, what):
    for name, variable in result.data_vars.items():
        values = np.asarray(variable.values, dtype=float)
        assert np.isfinite(values).all(), (what, name, "NaN or inf reached a store")
        assert (values >= 0).all(), (what, name, "a negative amount reached a store")


GRN_VALUES = {
    "decay": _numbers(st.floats(0.05, 5.0)),
    "q": _numbers(st.floats(0.0, 2.0)),
    "dt": _numbers(st.sampled_from([0.005, 0.01, 0.02, 0.05])),
    "k_trans": _numbers(st.floats(0.1, 10.0)),
    "k_deg": _numbers(st.floats(0.05, 2.0)),
    "shared_coop_state": st.one_of(st.sampled_from([-1.0, 0.0, 1e300]), st.floats(0.0, 5.0)),
}


@_settings(20)
@given(config=st.fixed_dictionaries({}, optional=GRN_VALUES))
def test_grn_numbers_run_or_raise_a_greybox_error(core, config):
    document = gc.grn_cells(cells_per_type=1, seed=1)
    node = document["state"]["grn"]
    node["config"].update(config)
    dt = config.get("dt", 0.01)
    # ten kernel steps per interval where dt allows it, else a plain interval the process
    # must refuse (or accept) by itself
    node["interval"] = 10 * dt if math.isfinite(dt) and 1e-3 <= dt <= 1 else 0.1
    result = _run_or_greybox_error(document, node["interval"], core, config)
    if result is not None:
        _assert_finite_non_negative(result, config)


RDME_VALUES = {
    "D_A": _numbers(st.sampled_from([0.0, 1e-13, 1e-12, 5e-12])),
    "D_C": _numbers(st.sampled_from([0.0, 1e-12])),
    "rate_forward": _numbers(st.floats(0.0, 1e9)),
    "rate_reverse": _numbers(st.floats(0.0, 1e3)),
    # huge counts are refused at allocation; counts of millions are valid but slow
    "initial_A": st.one_of(st.sampled_from([math.nan, -1, 0.5, 1e300, 10 ** 16, 0]),
                           st.integers(0, 200), st.integers(0, 200)),
    "extent": _numbers(st.sampled_from([2e-7, 1e-6])),
    # 0 (choose dt from the hop probability) is left out: with a huge D it plans very many
    # steps, a valid but long run that test_run_faults covers
    "dt": st.sampled_from([math.nan, math.inf, -1e-4, 1e-4, 1e-4, 1e-4, 3e-4, 1e300]),
}


def _rdme_document(values):
    document = rdme_bimolecular(size=4, interval=1e-3, dt=values.get("dt", 1e-4), seed=2)
    model = document["state"]["rdme"]["config"]["model"]
    species, reactions = model["species"], model["reactions"]
    species["A"]["initial"] = values.get("initial_A", 20)
    species["B"]["initial"] = 20
    species["A"]["D"] = values.get("D_A", 1e-12)
    species["C"]["D"] = values.get("D_C", 1e-12)
    reactions[0]["rate"] = values.get("rate_forward", 1.07e5)
    reactions[1]["rate"] = values.get("rate_reverse", 0.351)
    model["geometry"]["extent"] = values.get("extent", 1e-6)
    return document


@_settings(18)
@given(values=st.fixed_dictionaries({}, optional=RDME_VALUES))
def test_rdme_numbers_run_or_raise_a_greybox_error(core, values):
    result = _run_or_greybox_error(_rdme_document(values), 1e-3, core, values)
    if result is not None:
        _assert_finite_non_negative(result, values)
        counts = np.asarray(result["lattice.region_counts"].values, dtype=float)
        assert (counts == np.round(counts)).all(), (values, "counts must be whole numbers")


# --- found by the properties, fixed inside the processes: each names the value to change ---


def test_grn_infinite_shared_coop_state_names_the_value(core):
    # was int(inf) -> OverflowError inside GRNParams.from_network
    document = gc.grn_cells(cells_per_type=1)
    document["state"]["grn"]["config"]["shared_coop_state"] = math.inf
    with pytest.raises(SpecError, match="shared_coop_state"):
        gb.build_document(document, core=core)


@pytest.mark.parametrize("values,name", [
    ({"extent": 1e-300}, "extent"),      # was: site volume 0 -> ZeroDivisionError
    ({"extent": 1e300}, "extent"),       # was: site volume overflows -> OverflowError
    ({"initial_A": math.nan}, "initial"),  # was: int(nan) before the range check
])
def test_rdme_out_of_range_model_numbers_name_the_value(core, values, name):
    with pytest.raises(SpecError, match=name):
        gb.build_document(_rdme_document(values), core=core)
