"""Scaffolding shared by the JAX kernels (GRN, tissue, RDME).

Three small pieces every kernel needs, in one place:

- :func:`register_pytree` registers a frozen dataclass as a JAX pytree: its
  fields are array leaves except the ``static`` ones, which become part of the
  tree structure (hashable metadata that ``jax.jit`` specialises on).
- :func:`raw_key` turns an int seed, a typed ``jax.random.key`` or raw key data
  into the raw ``uint32`` key data the kernels keep in their states (so that a
  state holds only plain arrays; ``jax.random.wrap_key_data`` restores the key).
- :class:`ErrorFlags` is a kernel's table of error bits, ``name -> (bit,
  message)``. Inside ``jit`` a kernel ORs :meth:`ErrorFlags.flag` bits into an
  int32 mask; on the host :meth:`ErrorFlags.check` decodes the mask and raises
  :class:`~greybox_processes.errors.SimulationError` with the messages of the
  bits that are set.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .errors import SimulationError

__all__ = ["register_pytree", "raw_key", "host_bits", "ErrorFlag", "ErrorFlags", "float_dtype"]


# ------------------------------------------------------------------------ pytrees

def register_pytree(cls=None, *, static=()):
    """Register the frozen dataclass ``cls`` as a pytree; return ``cls``.

    Every field is a data leaf (traced by ``jit``, mapped by ``vmap``) except the
    names in ``static``, which are kept as metadata (hashable, compared for
    equality; a new value recompiles). Use it as a call,
    ``register_pytree(State, static=("method",))``, or as a decorator above
    ``@dataclasses.dataclass(frozen=True)``: ``@register_pytree(static=(...))``.
    """
    if isinstance(static, str):
        static = (static,)
    static = tuple(static)
    if cls is None:
        return functools.partial(register_pytree, static=static)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"register_pytree needs a dataclass, got {cls!r}")
    if not cls.__dataclass_params__.frozen:
        raise TypeError(f"register_pytree needs a frozen dataclass (a pytree is immutable); "
                        f"declare {cls.__name__} with @dataclasses.dataclass(frozen=True)")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [n for n in static if n not in names]
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {unknown} to keep static; "
                         f"its fields are {names}")
    jax.tree_util.register_dataclass(cls, data_fields=[n for n in names if n not in static],
                                     meta_fields=list(static))
    return cls


# ------------------------------------------------------------------------ random keys

@functools.lru_cache(maxsize=None)
def _raw_key_layout(impl: str) -> tuple[tuple[int, ...], np.dtype]:
    data = jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0, impl=impl)))
    return tuple(data.shape), np.dtype(data.dtype)


def raw_key(key) -> jax.Array:
    """Raw key data (``uint32[2]`` with JAX's default threefry keys) of ``key``.

    ``key`` is an int seed, a typed key (``jax.random.key``) or raw key data
    (``jax.random.PRNGKey``, or a state's ``key``), as a concrete value or
    traced inside ``jit``. Anything else raises :class:`ValueError` naming what
    was given.
    """
    if isinstance(key, (bool, np.bool_)):
        raise ValueError("key must be an int seed, a jax.random.key or raw key data, "
                         f"got the bool {key!r}")
    if isinstance(key, (int, np.integer)):
        key = jax.random.key(int(key))
    try:
        key = jnp.asarray(key)
    except (TypeError, ValueError) as exc:
        raise ValueError("key must be an int seed, a jax.random.key or raw key data, got "
                         f"{type(key).__name__} {key!r}") from exc
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    shape, dtype = _raw_key_layout(str(jax.config.jax_default_prng_impl))
    if key.shape != shape or key.dtype != dtype:
        raise ValueError("key must be an int seed, a jax.random.key or raw key data "
                         f"{dtype}{list(shape)}, got an array of {key.dtype}{list(key.shape)}")
    return key


# ------------------------------------------------------------------------ error bits

def host_bits(error) -> int:
    """The error mask ``error`` (a scalar, or a batch OR-ed together) as a host int."""
    bits = np.asarray(jax.device_get(error))
    if bits.ndim:
        bits = np.bitwise_or.reduce(bits.ravel()) if bits.size else np.zeros((), bits.dtype)
    return int(bits)


@dataclasses.dataclass(frozen=True)
class ErrorFlag:
    """One error bit: ``name``, its ``bit`` (a power of two) and ``message``."""

    name: str
    bit: int
    message: str


class ErrorFlags:
    """A kernel's error bits: ``name -> (bit, message)``.

    Parameters
    ----------
    flags : mapping ``name -> (bit, message)``; each bit a distinct power of two
        below ``2**31`` (the mask is int32). A message may hold ``{placeholders}``
        filled from the keyword context of :meth:`messages` / :meth:`check`.
    template : the raised message; ``{messages}`` (the set bits' messages joined
        by ``sep``), ``{bits}`` (the mask) and the context are filled in.
    sep : what joins the messages of several set bits.
    error : the exception class :meth:`check` raises.
    """

    def __init__(self, flags: Mapping[str, tuple[int, str]], *,
                 template: str = "{messages} (error bits {bits})", sep: str = "; ",
                 error: type[Exception] = SimulationError):
        table = {}
        seen = 0
        for name, (bit, message) in flags.items():
            bit = int(bit)
            if bit <= 0 or bit & (bit - 1) or bit >= 2 ** 31:
                raise ValueError(f"error bit {name!r} must be a power of two below 2**31, "
                                 f"got {bit}")
            if seen & bit:
                raise ValueError(f"error bit {bit} of {name!r} is used twice")
            seen |= bit
            table[name] = ErrorFlag(name, bit, str(message))
        self._flags = table
        self.mask = seen
        self.template = template
        self.sep = sep
        self.error = error

    def __getitem__(self, name: str) -> int:
        """The bit of ``name``."""
        try:
            return self._flags[name].bit
        except KeyError:
            raise KeyError(f"no error flag {name!r}; the flags are {list(self._flags)}") \
                from None

    def __iter__(self):
        return iter(self._flags.values())

    def __len__(self) -> int:
        return len(self._flags)

    def __repr__(self) -> str:
        inner = ", ".join(f"{f.name}={f.bit}" for f in self)
        return f"ErrorFlags({inner})"

    # -- device side
    def flag(self, name: str, condition) -> jax.Array:
        """int32 mask: the bit of ``name`` where ``condition`` holds, else 0 (traceable)."""
        return jnp.where(condition, self[name], 0).astype(jnp.int32)

    # -- host side
    def names(self, error) -> tuple[str, ...]:
        """Names of the bits set in ``error``, in table order."""
        bits = host_bits(error)
        return tuple(f.name for f in self if bits & f.bit)

    def messages(self, error, **context) -> list[str]:
        """Messages of the bits set in ``error`` (bits outside the table named too)."""
        bits = host_bits(error)
        out = [f.message.format(**context) for f in self if bits & f.bit]
        unknown = bits & ~self.mask
        if unknown:
            out.append(f"unknown error bits {unknown}")
        return out

    def check(self, error, **context) -> None:
        """Raise ``self.error`` with the messages of the set bits; nothing when none is set."""
        bits = host_bits(error)
        if not bits:
            return
        text = self.sep.join(self.messages(bits, **context))
        raise self.error(self.template.format(messages=text, bits=bits, **context))


def float_dtype(name):
    """The JAX float type a process's ``dtype`` config names ('float64' or 'float32')."""
    if name not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {name!r}")
    return jnp.float64 if name == "float64" else jnp.float32
