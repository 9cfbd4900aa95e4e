"""Exact binomial draws from counter-based random words (the lattice form's diffusion).

Every count of a site splits into movers and stayers by a binomial draw, so these
samplers sit on the hot path of the lattice form. Two modes:

* **fast**: one 32-bit word per element; its top 24 bits are the uniform of an
  inversion draw with a few CDF terms unrolled into the fused step, its low 8 bits
  fair coins whose popcount is the exact ``Bin(m, 1/2)`` split of ``m <= 8`` movers.
  Each sampler also returns a ``bad`` mask for the elements the fast mode cannot
  draw exactly (more CDF terms or coins needed, or a large mean);
* **general**: exact for any count (geometric skipping, fresh words per pass),
  slower; the lattice form redoes a whole step in this mode when any draw was bad.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from .rng import uniforms, words

__all__ = ["UNROLL", "MEAN_MAX", "split_word", "binomial_inversion", "binomial_geometric",
           "binomial", "fair_split"]

UNROLL = 3          # CDF terms of the binomial inversion unrolled into the fused step (default)
MEAN_MAX = 10.0     # above this mean a draw leaves the fast path


def split_word(w, fdt):
    """A uniform in (0, 1) from the top 24 bits of ``w`` and 8 fair coin bits from the rest."""
    u = ((w >> np.uint32(8)).astype(fdt) + jnp.asarray(0.5, fdt)) * jnp.asarray(2.0 ** -24, fdt)
    return u, w & np.uint32(0xFF)


def binomial_inversion(n, qq, u, fdt, unroll):
    """``Bin(n, qq)`` (``qq <= 1/2``) by inversion of one uniform ``u``, ``unroll`` terms.

    The CDF terms are straight-line code: in term ``i`` every element still
    going has ``k == i``, so the recurrence ``pmf_i = pmf_{i-1} qq/(1-qq) (n-i+1)/i``
    needs no division. Returns ``(k, bad)``: the mask ``bad`` marks elements whose
    draw needs more than ``unroll`` terms or whose mean exceeds ``MEAN_MAX``.
    """
    one = jnp.asarray(1.0, fdt)
    big = n.astype(fdt) * qq > MEAN_MAX
    n_small = jnp.where(big, 0, n)
    nf = n_small.astype(fdt)
    ratio = qq / (one - qq)
    pmf = jnp.exp(nf * jnp.log1p(-qq))
    cdf = pmf
    k = jnp.zeros(n.shape, jnp.int32)
    go = (u > cdf) & (n_small > 0)
    for i in range(1, unroll + 1):
        k = k + go.astype(jnp.int32)
        pmf = pmf * ratio * (nf - jnp.asarray(i - 1, fdt)) * jnp.asarray(1.0 / i, fdt)
        cdf = cdf + pmf
        go = go & (u > cdf) & (k < n_small)
    return k, go | big


def binomial_geometric(n, qq, seeds, stream, fdt):
    """``Bin(n, qq)`` for any ``n`` by geometric skipping (the general path).

    The gaps between successes of ``n`` Bernoulli(qq) trials are geometric:
    ``1 + floor(log u / log(1 - qq))``; count the successes until the trials run
    out. A ``while_loop`` of ``max(k) + 1`` passes, a fresh word per pass.
    """
    one = jnp.asarray(1.0, fdt)
    log1mq = jnp.log1p(-qq)
    active = (n > 0) & (qq > 0)

    def body(c):
        k, used, active, it = c
        u = uniforms(n.shape, seeds, stream + np.uint32(7919) * it.astype(jnp.uint32), fdt)
        gap = jnp.floor(jnp.log(u) / jnp.where(active, log1mq, -one)) + one
        used = used + jnp.where(active, jnp.minimum(gap, n.astype(fdt) + one), 0.0)
        hit = active & (used <= n.astype(fdt))
        return k + hit.astype(jnp.int32), used, hit, it + 1

    init = (jnp.zeros(n.shape, jnp.int32), jnp.zeros(n.shape, fdt), active,
            jnp.zeros((), jnp.int32))
    return lax.while_loop(lambda c: jnp.any(c[2]), body, init)[0]


def binomial(n, q, u, seeds, stream, fdt, general, unroll, flip=None):
    """``Bin(n, q)`` per element (int32). Fast mode: inversion of ``u`` (returns the
    ``bad`` mask too); general mode: geometric skipping with fresh words from
    ``stream``. ``flip``: static True/False when it is known whether ``q > 1/2``."""
    one = jnp.asarray(1.0, fdt)
    if flip is None:
        flip = q > jnp.asarray(0.5, fdt)
        qq = jnp.where(flip, one - q, q)
    else:
        qq = one - q if flip else q
    if general:
        k = binomial_geometric(n, jnp.broadcast_to(qq, n.shape), seeds, stream, fdt)
        bad = None
    else:
        k, bad = binomial_inversion(n, qq, u, fdt, unroll)
    if flip is True:
        k = n - k
    elif flip is not False:
        k = jnp.where(flip, n - k, k)
    return k, bad


def fair_split(m, coins, n_coins, seeds, stream, general):
    """``Bin(m, 1/2)``: a popcount of ``m`` fair coin bits (exact).

    Fast mode uses the ``n_coins`` (8 or 32) bits of ``coins`` and flags ``m > n_coins``;
    general mode pops 32 fresh bits per pass until every ``m`` is covered.
    """
    if not general:
        mask = (jnp.left_shift(jnp.uint32(1), jnp.minimum(m, 31).astype(jnp.uint32))
                - np.uint32(1))
        mask = jnp.where(m >= 32, np.uint32(0xFFFFFFFF), mask)
        return lax.population_count(coins & mask).astype(jnp.int32), m > n_coins

    def body(c):
        k, left, it = c
        w = words(m.shape, seeds, stream + np.uint32(7919) * it.astype(jnp.uint32))
        take = jnp.minimum(left, 32)
        mask = jnp.where(take >= 32, np.uint32(0xFFFFFFFF),
                         jnp.left_shift(jnp.uint32(1), jnp.minimum(take, 31).astype(jnp.uint32))
                         - np.uint32(1))
        return k + lax.population_count(w & mask).astype(jnp.int32), left - take, it + 1

    init = (jnp.zeros(m.shape, jnp.int32), m, jnp.zeros((), jnp.int32))
    return lax.while_loop(lambda c: jnp.any(c[1] > 0), body, init)[0], None
