"""The exact reaction substep of the RDME: Gillespie's direct method in every site at once.

Between two diffusion substeps the sites are independent, so the reaction
operator ``R(tau) = exp(tau R)`` is sampled *exactly* by running the SSA on each
site's own counts for time ``tau``, vectorised over sites: each pass draws one
waiting time and one reaction choice per site still active; passes repeat until
no site has an event left in the step. The only errors of the split step are
then the splitting itself and the discrete-time diffusion sweep.

Both forms of the kernel call :func:`react_sites`: the lattice form on every
site, the particle form on the occupied sites only (gathered into rows). The
random words are keyed by site number (``index``), so the two layouts draw the
same numbers for the same site.
"""
from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
from jax import lax

from .rng import uniforms

__all__ = ["propensities", "react_sites"]


def propensities(plan, types, x, fdt):
    """Per reaction, the (R, *shape) propensity at every site (a list)."""
    rates = np.asarray(plan.rate, np.float64)
    out = []
    for j, (r1, r2) in enumerate(plan.reactants):
        if plan.n_regions == 1 or np.all(rates[j] == rates[j, 0]):
            c = jnp.asarray(rates[j, 0], fdt)
        else:
            c = jnp.take(jnp.asarray(rates[j], fdt), types.astype(jnp.int32))[None]
        if r1 < 0:
            f = jnp.ones(x.shape[:1] + x.shape[2:], fdt)
        elif r2 < 0:
            f = x[:, r1].astype(fdt)
        elif r1 == r2:
            n = x[:, r1].astype(fdt)
            f = n * (n - jnp.asarray(1.0, fdt))
        else:
            f = x[:, r1].astype(fdt) * x[:, r2].astype(fdt)
        out.append(c * f)
    return out


def react_sites(plan, types, x, seeds, stream, fdt, index=None):
    """Exact per-site SSA (Gillespie's direct method) over one reaction step of length tau.

    ``index`` (default: the position) is the counter of each site's random words,
    so that a caller holding sites in another layout draws the same numbers.

    The first pass only decides, per site, whether any event happens in the
    step (``u < 1 - exp(-a0 tau)``); the event times, choices and later events
    are computed only when some site has one (a ``lax.cond``).
    """
    n_j = len(plan.reactants)
    if n_j == 0 or not np.any(np.asarray(plan.rate)):
        return x
    change = np.asarray(plan.change, np.int64)
    site_shape = x.shape[:1] + x.shape[2:]
    zero = jnp.asarray(0.0, fdt)

    def draw(s):
        return (uniforms(site_shape, seeds, s, fdt, index=index),
                uniforms(site_shape, seeds, s + np.uint32(1), fdt, index=index))

    def fire_and_apply(x, a, a0, u1, u2, t_left, active):
        pos = a0 > zero
        wait = jnp.where(pos, -jnp.log1p(-u1) / jnp.where(pos, a0, jnp.asarray(1.0, fdt)),
                         jnp.asarray(jnp.inf, fdt))
        fire = active & pos & (wait < t_left)
        target = u2 * a0
        chosen = jnp.zeros(site_shape, jnp.int32)
        running = a[0]
        for j in range(1, n_j):
            chosen = chosen + (running <= target).astype(jnp.int32)
            running = running + a[j]
        deltas = []
        for sp in range(plan.n_species):
            d = jnp.zeros(site_shape, jnp.int32)
            for j in range(n_j):
                if change[j, sp]:
                    d = d + (fire & (chosen == j)).astype(jnp.int32) * int(change[j, sp])
            deltas.append(d)
        return x + jnp.stack(deltas, axis=1), t_left - wait, fire

    a = propensities(plan, types, x, fdt)
    a0 = functools.reduce(jnp.add, a)
    s0 = jnp.asarray(stream, jnp.uint32)
    u1, u2 = draw(s0)
    tau = jnp.asarray(plan.tau, fdt)
    any_event = u1 < -jnp.expm1(-a0 * tau)

    def events(x):
        t0 = jnp.full(site_shape, plan.tau, fdt)
        x, t_left, fire = fire_and_apply(x, a, a0, u1, u2, t0, jnp.ones(site_shape, bool))

        def body(c):
            x, t_left, fire, it = c
            a = propensities(plan, types, x, fdt)
            u1, u2 = draw(s0 + np.uint32(2) * it.astype(jnp.uint32))
            x, t_left, fire = fire_and_apply(x, a, functools.reduce(jnp.add, a), u1, u2,
                                             t_left, fire)
            return x, t_left, fire, it + 1

        return lax.while_loop(lambda c: jnp.any(c[2]), body,
                              (x, t_left, fire, jnp.ones((), jnp.int32)))[0]

    return lax.cond(jnp.any(any_event), events, lambda x: x, x)
