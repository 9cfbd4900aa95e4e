"""The JAX scaffolding shared by the kernels (greybox_processes.jax_common)."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from greybox_processes.errors import GreyboxError, SimulationError
from greybox_processes.jax_common import ErrorFlags, host_bits, raw_key, register_pytree


@register_pytree(static=("method", "shape"))
@dataclasses.dataclass(frozen=True)
class _Thing:
    x: jax.Array
    y: jax.Array
    method: str = "a"
    shape: tuple = ()


# ------------------------------------------------------------------------ pytrees

def test_pytree_leaves_are_the_data_fields_only():
    t = _Thing(x=jnp.arange(3.0), y=jnp.ones(2), method="b", shape=(3,))
    leaves, tree = jax.tree_util.tree_flatten(t)
    assert len(leaves) == 2
    back = jax.tree_util.tree_unflatten(tree, leaves)
    assert back.method == "b" and back.shape == (3,)
    np.testing.assert_array_equal(back.x, t.x)


def test_pytree_round_trip_through_jit_keeps_static_fields():
    traces = []

    @jax.jit
    def f(t):
        traces.append(t.method)
        # a static field is a Python value inside jit, usable for control flow
        scale = 2.0 if t.method == "b" else 3.0
        return dataclasses.replace(t, x=t.x * scale, y=t.y + len(t.shape))

    out = f(_Thing(x=jnp.arange(3.0), y=jnp.zeros(2), method="b", shape=(3,)))
    assert isinstance(out, _Thing) and out.method == "b" and out.shape == (3,)
    np.testing.assert_allclose(out.x, [0.0, 2.0, 4.0])
    np.testing.assert_allclose(out.y, [1.0, 1.0])
    f(_Thing(x=jnp.arange(3.0) + 1, y=jnp.zeros(2), method="b", shape=(3,)))
    assert traces == ["b"]  # same static fields: no retrace
    out = f(_Thing(x=jnp.arange(3.0), y=jnp.zeros(2), method="c", shape=(3,)))
    assert traces == ["b", "c"] and out.method == "c"
    np.testing.assert_allclose(out.x, [0.0, 3.0, 6.0])


def test_pytree_vmap_maps_data_and_keeps_static_fields():
    batch = _Thing(x=jnp.arange(6.0).reshape(3, 2), y=jnp.ones((3, 4)), method="m",
                   shape=(2,))

    def f(t):
        assert t.x.shape == (2,) and t.method == "m"
        return dataclasses.replace(t, x=t.x.sum() * jnp.ones(1))

    out = jax.vmap(f)(batch)
    assert out.method == "m" and out.shape == (2,)
    np.testing.assert_allclose(out.x[:, 0], [1.0, 5.0, 9.0])
    assert out.y.shape == (3, 4)


def test_register_pytree_as_a_call_returns_the_class():
    @dataclasses.dataclass(frozen=True)
    class S:
        a: jax.Array
        b: int = 0

    assert register_pytree(S, static="b") is S
    assert jax.tree_util.tree_leaves(S(a=jnp.ones(1), b=5)) == [jnp.ones(1)]


def test_register_pytree_rejects_bad_classes_and_unknown_static_names():
    @dataclasses.dataclass
    class Mutable:
        a: jax.Array

    with pytest.raises(TypeError, match="frozen"):
        register_pytree(Mutable)
    with pytest.raises(TypeError, match="dataclass"):
        register_pytree(dict)

    @dataclasses.dataclass(frozen=True)
    class S:
        a: jax.Array

    with pytest.raises(ValueError, match=r"no field\(s\) \['typo'\]"):
        register_pytree(S, static=("typo",))


def _grn_params():
    from greybox_processes.grn.kernel import GRNParams
    from greybox_processes.grn.network import GRNNetwork

    net = GRNNetwork.from_arrays([[1.0, 0.0]], [1], [0], [1.0], [2.0])
    return GRNParams.from_network(net, np.array([0, 0]))


def test_kernel_pytrees_keep_their_static_fields():
    from greybox_processes.grn.kernel import GRNState
    from greybox_processes.tissue.kernel import TissueState

    p = _grn_params()
    leaves, tree = jax.tree_util.tree_flatten(p)
    assert len(leaves) == len(dataclasses.fields(p)) - 2  # method, hill_int are static
    back = jax.tree_util.tree_unflatten(tree, leaves)
    assert (back.method, back.hill_int) == (p.method, p.hill_int)
    s = GRNState(mrna=jnp.ones((2, 2)), protein=jnp.ones((2, 2)), key=raw_key(0),
                 error=jnp.int32(0), n_clipped=jnp.int32(0))
    assert len(jax.tree_util.tree_leaves(s)) == 5
    n = len(dataclasses.fields(TissueState))
    assert len(jax.tree_util.tree_leaves(
        TissueState(**{f.name: jnp.zeros(1) for f in dataclasses.fields(TissueState)}))) == n


# ------------------------------------------------------------------------ keys

def _expected(seed=7):
    return np.asarray(jax.random.key_data(jax.random.key(seed)))


@pytest.mark.parametrize("form", ["int", "numpy_int", "typed", "legacy", "raw_numpy", "raw_jax"])
def test_raw_key_accepts_every_form(form):
    given = {"int": 7, "numpy_int": np.int64(7), "typed": jax.random.key(7),
             "legacy": jax.random.PRNGKey(7), "raw_numpy": _expected(7),
             "raw_jax": jnp.asarray(_expected(7))}[form]
    out = raw_key(given)
    assert out.dtype == jnp.uint32 and out.shape == (2,)
    np.testing.assert_array_equal(out, _expected(7))
    # what the kernels do with it: wrap it back into a typed key
    assert jnp.issubdtype(jax.random.wrap_key_data(out).dtype, jax.dtypes.prng_key)


def test_raw_key_works_under_jit_and_vmap():
    keys = jax.random.split(jax.random.key(3), 4)
    out = jax.jit(jax.vmap(raw_key))(keys)
    np.testing.assert_array_equal(out, jax.random.key_data(keys))
    out = jax.jit(raw_key)(jax.random.key_data(keys[0]))
    np.testing.assert_array_equal(out, jax.random.key_data(keys[0]))


@pytest.mark.parametrize("bad, match", [
    (1.5, "float"),
    (np.zeros(2, np.int64), "int64"),
    (np.zeros(3, np.uint32), r"\[3\]"),
    (np.zeros((2, 2), np.uint32), r"\[2, 2\]"),
    ("seed", "str"),
    (None, "NoneType"),
    (True, "bool"),
])
def test_raw_key_rejects_other_values_clearly(bad, match):
    with pytest.raises(ValueError, match="key must be an int seed, a jax.random.key or raw key"
                       ) as info:
        raw_key(bad)
    assert info.match(match)


def test_kernels_accept_every_key_form():
    """grn and tissue init functions go through raw_key (an int seed now works too)."""
    from greybox_processes.grn import kernel as gk

    init_fn, _ = gk.grn_sde(_grn_params(), noise="sp", dt=0.01)
    for key in (5, jax.random.key(5), jax.random.PRNGKey(5)):
        np.testing.assert_array_equal(init_fn(key).key, _expected(5))
    with pytest.raises(ValueError, match="key must be"):
        init_fn(np.zeros(2, np.int64))


# ------------------------------------------------------------------------ error flags

_TABLE = ErrorFlags({"overflow": (1, "a count exceeded {dtype}"),
                     "negative": (2, "a count went negative"),
                     "capacity": (4, "no free slot")},
                    template="KERNEL: {messages} (error bits {bits})")


def test_no_flag_raises_nothing():
    _TABLE.check(jnp.int32(0), dtype="uint8")
    _TABLE.check(np.zeros((3,), np.int32))
    assert _TABLE.messages(0) == [] and _TABLE.names(jnp.int32(0)) == ()


@pytest.mark.parametrize("bits, names", [
    (1, ("overflow",)), (2, ("negative",)), (4, ("capacity",)), (5, ("overflow", "capacity")),
    (7, ("overflow", "negative", "capacity"))])
def test_flags_decode_to_their_messages(bits, names):
    assert _TABLE.names(jnp.int32(bits)) == names
    want = {"overflow": "a count exceeded uint8", "negative": "a count went negative",
            "capacity": "no free slot"}
    with pytest.raises(SimulationError) as info:
        _TABLE.check(jnp.asarray(bits, jnp.int32), dtype="uint8")
    assert str(info.value) == (
        "KERNEL: " + "; ".join(want[n] for n in names) + f" (error bits {bits})")
    assert isinstance(info.value, GreyboxError)


def test_unknown_bits_are_named():
    with pytest.raises(SimulationError, match="no free slot; unknown error bits 8 "
                                              r"\(error bits 12\)"):
        _TABLE.check(12, dtype="x")


def test_flag_is_traceable_and_bits_of_a_batch_are_ored():
    @jax.jit
    def errors(x):
        return _TABLE.flag("overflow", x > 1) | _TABLE.flag("capacity", x < 0)

    e = jax.vmap(errors)(jnp.array([0.0, 2.0, -1.0]))
    assert e.dtype == jnp.int32
    np.testing.assert_array_equal(e, [0, 1, 4])
    assert host_bits(e) == 5 and host_bits(np.zeros((0,), np.int32)) == 0
    assert _TABLE["capacity"] == 4 and len(_TABLE) == 3


def test_error_table_validates_its_bits():
    with pytest.raises(ValueError, match="power of two"):
        ErrorFlags({"a": (3, "x")})
    with pytest.raises(ValueError, match="used twice"):
        ErrorFlags({"a": (1, "x"), "b": (1, "y")})
    with pytest.raises(KeyError, match="no error flag 'typo'"):
        _TABLE["typo"]


def test_custom_exception_class():
    table = ErrorFlags({"a": (1, "bad")}, error=RuntimeError, template="{messages}")
    with pytest.raises(RuntimeError, match="^bad$"):
        table.check(1)


def test_grn_and_tissue_messages_unchanged():
    import types

    from greybox_processes.grn.kernel import ERROR_NAN, ERROR_NONFINITE
    from greybox_processes.grn.kernel import check_errors as grn_check
    from greybox_processes.tissue.kernel import ERROR_BIN_OVERFLOW, ERROR_CAPACITY
    from greybox_processes.tissue.kernel import ERROR_NAN as TISSUE_NAN
    from greybox_processes.tissue.kernel import check_errors as tissue_check

    assert (ERROR_NAN, ERROR_NONFINITE) == (1, 2)
    assert (ERROR_CAPACITY, ERROR_BIN_OVERFLOW, TISSUE_NAN) == (1, 2, 4)
    grn_check(types.SimpleNamespace(error=jnp.int32(0)))
    with pytest.raises(SimulationError) as info:
        grn_check(types.SimpleNamespace(error=jnp.int32(3)))
    assert str(info.value).startswith(
        "GRN simulation produced NaN and infinite values in mRNA or protein (error bits 3). "
        "Usually dt is too large")
    with pytest.raises(SimulationError) as info:
        tissue_check(types.SimpleNamespace(error=jnp.int32(5), capacity=64))
    text = str(info.value)
    assert text.startswith("tissue simulation failed: the cell capacity (64 slots) is full")
    assert "; a NaN or infinite value appeared" in text and text.endswith("(error bits 5)")
