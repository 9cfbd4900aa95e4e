"""A counter-based random stream for lattice kernels.

Each step draws two 32-bit seeds from the JAX key held in the state
(``jax.random.bits``, threefry); every random word of that step is then a hash
of ``(seed0, seed1, stream, element index)`` -- a counter-based generator in
the sense of Salmon et al. (2011, doi:10.1145/2063384.2063405), as Philox is.
The hash is two rounds of Wellons' ``triple32`` integer mixer (a bijection on
32-bit words with near-ideal avalanche, https://github.com/skeeto/hash-prospector),
about ten times cheaper per word than threefry on CPU, with no state beyond the
key, so that the same seed gives the same trajectory on any device.

Uniforms are ``(word + 1/2) 2^-32`` in float64 and ``(top 24 bits + 1/2) 2^-24``
in float32: strictly inside ``(0, 1)``, with a resolution of 2^-32 or 2^-24.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["step_seeds", "words", "uniforms"]

_GOLDEN = np.uint32(0x9E3779B9)
_STREAM = np.uint32(0x85EBCA77)


def _triple32(x):
    x = x ^ (x >> np.uint32(17))
    x = x * np.uint32(0xED5AD4BB)
    x = x ^ (x >> np.uint32(11))
    x = x * np.uint32(0xAC4C1B51)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x31848BAB)
    x = x ^ (x >> np.uint32(14))
    return x


def step_seeds(key):
    """Advance a raw key; return ``(new_key_data, seeds)`` with seeds uint32[2]."""
    key = jax.random.wrap_key_data(key)
    key, sub = jax.random.split(key)
    return jax.random.key_data(key), jax.random.bits(sub, (2,), jnp.uint32)


def words(shape, seeds, stream, index=None):
    """uint32 words of ``shape`` for ``stream`` (a Python or traced uint32).

    ``index``: the counter of each word (broadcastable to ``shape``; default the
    position), e.g. a site number, so that two layouts of the same sites draw the
    same word for the same site."""
    if index is None:
        size = int(np.prod(shape)) if len(shape) else 1
        idx = lax.iota(jnp.uint32, size).reshape(shape)
    else:
        idx = jnp.broadcast_to(jnp.asarray(index).astype(jnp.uint32), shape)
    salt = seeds[0] ^ (jnp.asarray(stream, jnp.uint32) * _STREAM)
    x = _triple32(idx * _GOLDEN + salt)
    return _triple32(x ^ seeds[1])


def uniforms(shape, seeds, stream, dtype, index=None):
    """Uniforms in (0, 1) of ``dtype`` (``index``: as for :func:`words`)."""
    w = words(shape, seeds, stream, index)
    bits = 32 if jnp.finfo(dtype).nmant >= 32 else 24
    if bits < 32:
        w = w >> np.uint32(32 - bits)   # exactly representable, so u < 1 strictly
    return (w.astype(dtype) + jnp.asarray(0.5, dtype)) * jnp.asarray(2.0 ** -bits, dtype)
