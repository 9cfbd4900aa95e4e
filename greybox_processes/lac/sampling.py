"""Random variates of the lac kernel and the leap of its fast reactions (pure JAX).

Every random word is a counter-based hash (:mod:`greybox_processes.rdme.rng`) of the step's
two seeds, a stream number and the cell's slot, so that a cell draws the same words whichever
other slots are advanced with it. Each binomial or Poisson draw uses **one** uniform per
element: the exact inversion of the CDF where the variance is small, and the same uniform
through the normal quantile function (``sqrt(2) erfinv(2u - 1)``) where it is large. An
element uses one branch only, so one uniform serves both, and the quantile function needs no
second uniform and no cosine (Box-Muller's), which dominate the cost on a CPU.
"""
from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from ..rdme.rng import uniforms
from .network import CONSUMED, LEAP_LEVELS, LEAP_ROUTES, PRODUCED, SOURCES, SPECIES

__all__ = ["NORMAL_VARIANCE", "INVERSION_TERMS", "cell_uniforms", "binomial", "poisson",
           "leap"]

#: Draws with a variance below this are exact (inversion, :data:`INVERSION_TERMS` CDF
#: terms, > 8 standard deviations past a mean of at most 8); above it they are rounded
#: normals clipped to their range (the chemical Langevin level, for a leaped reaction).
NORMAL_VARIANCE = 4.0
INVERSION_TERMS = 24


def _invert(u, pmf0, ratio_at, limit, finish):
    """``finish(k)``, ``k`` the smallest ``k <= limit`` with ``CDF(k) >= u`` from ``pmf(k) =
    pmf(k-1) ratio_at(k)`` (at most :data:`INVERSION_TERMS` terms, stopping once every
    element is placed).

    ``finish`` turns ``k`` into the draw (the normal approximation where the variance is
    large). It runs inside the loop, so that the draw leaves it as one buffer: as
    straight-line code, XLA fuses a draw's few hundred operations into each of its consumers
    (an elementwise producer looks cheap to it) and computes them several times over in the
    leap. The first term always runs, so the carried draw is never the placeholder.
    """
    def going(carry):
        i, k, _, cdf, _ = carry
        return (i == 1) | ((i <= INVERSION_TERMS) & jnp.any((u > cdf) & (k < limit)))

    def term(carry):
        i, k, pmf, cdf, _ = carry
        k = k + ((u > cdf) & (k < limit)).astype(u.dtype)
        pmf = pmf * ratio_at(i.astype(u.dtype))
        return i + 1, k, pmf, cdf + pmf, finish(k)

    start = (jnp.ones((), jnp.int32), jnp.zeros_like(u), pmf0, pmf0, jnp.zeros_like(u))
    return lax.while_loop(going, term, start)[4]


def cell_uniforms(rng, stream, shape, dtype):
    """Uniforms in (0, 1) of ``shape`` (``[cells]`` or ``[cells, m]``), ``rng = (seeds, cells)``.

    ``cells`` (uint32 ``[n]``) is each row's counter, the cell's slot in the population, so
    a cell draws the same words whichever other slots are advanced with it (a gathered
    batch of live cells draws what the full array would); element ``(i, k)`` of a 2-d
    shape uses counter ``cells[i] * m + k``, the row-major position in the full array.
    """
    seeds, cells = rng
    index = cells if len(shape) == 1 else \
        cells[:, None] * np.uint32(shape[1]) + lax.iota(jnp.uint32, shape[1])[None, :]
    return uniforms(shape, seeds, stream, dtype, index=index)


def _standard_normal(u):
    """The standard normal quantile of ``u`` in (0, 1): ``sqrt(2) erfinv(2u - 1)``."""
    return math.sqrt(2.0) * lax.erf_inv(2.0 * u - 1.0)


def binomial(rng, stream, n, p):
    """Bin(n, p) per element (float counts; p clipped to [0, 1]); see :data:`NORMAL_VARIANCE`.

    Uses one stream of the step's counter-based words.
    """
    p = jnp.clip(p, 0.0, 1.0)
    flip = p > 0.5
    q = jnp.where(flip, 1.0 - p, p)
    mean = n * q
    var = mean * (1.0 - q)
    u = cell_uniforms(rng, stream, n.shape, n.dtype)
    normal = jnp.clip(jnp.round(mean + jnp.sqrt(var) * _standard_normal(u)), 0.0, n)
    small = var < NORMAL_VARIANCE
    n_small = jnp.where(small, n, 0.0)
    ratio = q / (1.0 - q)                     # q <= 1/2
    pmf0 = jnp.exp(n_small * jnp.log1p(-q))

    def finish(exact):
        k = jnp.where(small, exact, normal)
        return jnp.where(flip, n - k, k)

    return _invert(u, pmf0, lambda i: ratio * (n_small - (i - 1.0)) / i, n_small, finish)


def poisson(rng, stream, lam):
    """Poisson(lam) per element (float); see :data:`NORMAL_VARIANCE` (one stream)."""
    u = cell_uniforms(rng, stream, lam.shape, lam.dtype)
    normal = jnp.maximum(jnp.round(lam + jnp.sqrt(lam) * _standard_normal(u)), 0.0)
    small = lam < NORMAL_VARIANCE
    lam_small = jnp.where(small, lam, 0.0)
    return _invert(u, jnp.exp(-lam_small), lambda i: lam_small / i, jnp.full_like(lam, jnp.inf),
                   lambda exact: jnp.where(small, exact, normal))


def _survive_arrivals(z):
    """``(1 - exp(-z)) / z``: survival of a molecule arriving uniformly in a step (z = kappa h)."""
    safe = jnp.where(z > 1e-6, z, 1.0)
    return jnp.where(z > 1e-6, -jnp.expm1(-safe) / safe, 1.0 - 0.5 * z)


def _consumer_table(species):
    """(k, width) indices of the reactions consuming each of ``species`` (-1: padding)."""
    rows = [[j for j, c in enumerate(CONSUMED) if c == s] for s in species]
    width = max(len(r) for r in rows)
    return np.array([r + [-1] * (width - len(r)) for r in rows], np.int64)


_LEVEL_CONSUMERS = tuple(_consumer_table(level) for level in LEAP_LEVELS)
#: (n_sources, S) the species each zero-order source makes.
_SOURCE_MAKES = np.zeros((len(SOURCES), len(SPECIES)))
for _i, _j in enumerate(SOURCES):
    _SOURCE_MAKES[_i, PRODUCED[_j]] = 1.0


def leap(rng, x, a, fast, h):
    """Leap the ``fast`` reactions over ``h`` minutes with frozen per-molecule hazards.

    Per species (a level at a time, upstream first): molecules present survive the fast
    consumers with ``exp(-kappa h)``; arrivals (Poisson for zero-order sources, or molecules
    leaving the level before by a fast reaction that makes this species) survive with
    ``(1 - exp(-kappa h))/(kappa h)``. Of the molecules that leave a species, those taken by a
    consumer that makes another species are drawn binomially by the consumers' hazards
    (conditionally, one producing consumer after the other); what the others take only
    leaves, so it needs no draw. Returns the new counts (float).
    """
    streams = itertools.count()
    a_fast = jnp.where(fast, a, 0.0)
    sources = np.array(SOURCES)
    made = poisson(rng, next(streams), a_fast[:, sources] * h)       # (n, sources)
    arrivals = made @ jnp.asarray(_SOURCE_MAKES, x.dtype)              # (n, S)
    new = x
    for level, table, routes in zip(LEAP_LEVELS, _LEVEL_CONSUMERS, LEAP_ROUTES):
        level = np.array(level)
        count = x[:, level]                                            # (n, k)
        arriving = arrivals[:, level]
        valid = jnp.asarray(table >= 0)
        rates = jnp.where(valid, a_fast[:, np.maximum(table, 0)], 0.0)  # (n, k, width)
        total = jnp.sum(rates, axis=2)                                 # events/min per species
        z = total / jnp.maximum(count, 1.0) * h                        # kappa h
        kept = binomial(rng, next(streams), jnp.concatenate([count, arriving], axis=1),
                        jnp.concatenate([jnp.exp(-z), _survive_arrivals(z)], axis=1))
        kept_old, kept_new = kept[:, :len(level)], kept[:, len(level):]
        left = (count - kept_old) + (arriving - kept_new)
        new = new.at[:, level].set(kept_old + kept_new)
        remaining_left = {position: left[:, position] for position, _, _ in routes}
        remaining_rate = {position: total[:, position] for position, _, _ in routes}
        for position, j, sole in routes:
            if sole:
                moved = remaining_left[position]
            else:
                rate = remaining_rate[position]
                share = jnp.where(rate > 0, a_fast[:, j] / jnp.where(rate > 0, rate, 1.0), 0.0)
                moved = binomial(rng, next(streams), remaining_left[position], share)
                remaining_rate[position] = rate - a_fast[:, j]
            remaining_left[position] = remaining_left[position] - moved
            arrivals = arrivals.at[:, PRODUCED[j]].add(moved)
    return new
