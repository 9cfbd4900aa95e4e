"""The RDME kernel in lattice form: integer counts per site, the layout for crowded lattices.

State (:class:`.core.RDMEState`): integer counts ``(n_replicas, n_species, nx, ny[, nz])``
in the narrowest unsigned type that holds them, a JAX key and an error bit mask. One
step of length ``tau`` is an operator splitting of the RDME generator ``L = D + R``:

* ``'lie'``:    ``D(tau) R(tau)``
* ``'strang'``: ``D(tau/2) R(tau) D'(tau/2)`` (``D'`` sweeps the axes in reverse
  order, so the step is symmetric)

**Diffusion** ``D(h)`` sweeps the axes one after the other, as Lattice
Microbes' MPD-RDME does. In an axis sweep every particle independently hops
to its lower neighbour with probability ``p_lo``, to its upper neighbour with
``p_hi``, or stays, where ``p = D_ab h / lambda^2`` (``D_ab``: the transition
diffusion constant from its region ``a`` to the neighbour's region ``b``; 0
across a reflecting wall). The count of a site is split exactly: the movers
``m ~ Bin(n, p_lo + p_hi)``, of which ``Bin(m, p_lo / (p_lo + p_hi))`` go down.
A sweep is a probability law only if ``p_lo + p_hi <= 1``, hence the stability
condition *hop probability per direction <= 1/2* (per axis, not ``1/(2d)``:
the axes are sampled one after the other). Per axis the displacement per step
is ``-1, 0, +1`` with variance ``2 p = 2 D h / lambda^2``, so the mean squared
displacement is ``2 d D t`` exactly on an unbounded lattice and particle counts
are conserved exactly (integer moves). The sweep is the one-step transition
matrix of the lattice walk, so it matches the continuous-time lattice walk
``exp(h L_D)`` to ``O(h^2)`` per step (``O(tau)`` globally, as in MPD-RDME).

**Reactions** ``R(tau)`` are *exact* (:mod:`.ssa`): every site runs Gillespie's direct method
on its own counts for time ``tau`` (sites are independent while diffusion is
frozen), vectorised over sites: each pass draws one waiting time and one
reaction choice per site still active; passes repeat until no site has an
event left in the step. So ``R(tau) = exp(tau R)`` exactly; the only errors
are the splitting (``O(tau)`` Lie, ``O(tau^2)`` Strang for exact substeps) and
the discrete-time diffusion sweep above. A consequence used in the tests: a
stationary law of the RDME that is invariant under both the reaction chain
and the lattice walk (e.g. detailed-balanced ``A + B <-> C`` with uniform
diffusion) is stationary for the scheme at *any* ``tau``.

``diffusion_substeps=n`` makes every diffusion substep ``n`` sweeps of ``1/n``
its length (reactions still every ``tau``).

**Random numbers**: one 32-bit counter-based hash word (:mod:`.rng`) per count
and axis sweep: its top 24 bits are the uniform of an inversion draw of the
movers ``Bin(n, q)`` (a few CDF terms unrolled into the fused step), its low 8
bits fair coins whose popcount is the exact ``Bin(m, 1/2)`` split of ``m <= 8``
movers between the two directions (unequal hop probabilities across a region
boundary draw a second binomial). If any draw of a step needs more CDF terms,
more coins or has a large mean (``n q > 10``), the whole step is redone on a
general path (behind one ``lax.cond``) that draws every binomial by geometric
skipping with fresh words -- exact for any count, slower for crowded sites.
Uniforms have a resolution of 2^-24.

**Overflow**: arithmetic is in int32; after every step a site count above the
storage type's maximum sets ``ERROR_OVERFLOW`` in ``state.error`` and
:func:`.core.check_errors` raises on the host (the stored value is then invalid;
nothing is clipped silently).
"""
from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .binomial import UNROLL, binomial, fair_split, split_word
from .core import (ERRORS, RDMEKernel, RDMEState, StepPlan, check_stability,
                   check_tau_and_splitting, choose_count_dtype, count_regions, hop_probabilities,
                   nested_tuple, raw_key, record_plan, replica_counts)
from .geometry import Lattice
from .model import CompiledModel, RDMEModel
from .rng import step_seeds, uniforms, words
from .ssa import react_sites

__all__ = ["rdme_lattice"]


def rdme_lattice(model: RDMEModel | CompiledModel, lattice: Lattice, *, tau: float,
                 splitting: str = "strang", count_dtype: str = "auto",
                 initial_max: int | None = None, float_dtype=None,
                 diffusion_substeps: int = 1) -> RDMEKernel:
    """Build the lattice-form RDME kernel (same arguments and meaning as :func:`.kernel.rdme`).

    Use :func:`.kernel.rdme` with ``method='lattice'`` rather than calling this directly.
    """
    check_tau_and_splitting(tau, splitting)
    compiled = model.compile(lattice) if isinstance(model, RDMEModel) else model
    if compiled.regions != lattice.regions:
        raise ValueError(f"the model was compiled for regions {compiled.regions}, the lattice "
                         f"has {lattice.regions}")
    if int(diffusion_substeps) < 1:
        raise ValueError(f"diffusion_substeps must be >= 1, got {diffusion_substeps!r}")
    n_sub = int(diffusion_substeps)
    check_stability(compiled, lattice, float(tau) / n_sub, splitting)
    if float_dtype is None:
        float_dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    float_dtype = np.dtype(float_dtype)
    if initial_max is None:
        initial_max = 0
        if isinstance(model, RDMEModel):
            probe = model.initial_counts(lattice, 1, seed=0)
            initial_max = int(probe.max()) if probe.size else 0
    store = choose_count_dtype(count_dtype, int(initial_max))
    if splitting == "lie":
        stages = (("D", 0, False),) * n_sub + (("R",),)
        hops = (hop_probabilities(compiled, lattice, tau / n_sub),)
    else:
        stages = (("D", 0, False),) * n_sub + (("R",),) + (("D", 0, True),) * n_sub
        hops = (hop_probabilities(compiled, lattice, tau / 2 / n_sub),)

    n_regions = len(lattice.regions)
    plan = StepPlan(shape=lattice.shape, periodic=lattice.periodic,
                    n_species=compiled.n_species, n_regions=n_regions, stages=stages,
                    hop=tuple(nested_tuple(np.asarray(h, np.float64)) for h in hops),
                    rate=nested_tuple(np.asarray(compiled.rate, np.float64)
                                      .reshape(-1, n_regions)),
                    reactants=nested_tuple(np.asarray(compiled.reactants, np.int64)
                                           .reshape(-1, 2)),
                    change=nested_tuple(np.asarray(compiled.change, np.int64)
                                        .reshape(-1, compiled.n_species)),
                    tau=float(tau), count_max=int(np.iinfo(store).max), count_dtype=store.name,
                    float_dtype=float_dtype.name,
                    # enough unrolled CDF terms for the initial counts, so that a crowded
                    # lattice does not fall back to the general path every step
                    unroll=int(min(12, max(UNROLL, initial_max))))
    types = jnp.asarray(lattice.site_types, jnp.uint8)

    def init(key, counts=None, *, n_replicas: int = 1, seed: int = 0) -> RDMEState:
        if counts is None:
            if not isinstance(model, RDMEModel):
                raise ValueError("give counts, or build the kernel from an RDMEModel")
            counts = model.initial_counts(lattice, n_replicas, seed=seed)
        counts = replica_counts(counts, compiled.n_species, lattice.shape)
        if counts.size and (counts.min() < 0 or counts.max() > plan.count_max):
            raise ValueError(f"counts must lie in [0, {plan.count_max}] for count dtype "
                             f"{store.name}, got [{counts.min()}, {counts.max()}]; build the "
                             "kernel with a wider count_dtype")
        return RDMEState(counts=jnp.asarray(counts.astype(store)), key=raw_key(key),
                         error=jnp.zeros((), jnp.int32), steps=jnp.zeros((), jnp.int32))

    def step(state: RDMEState, n_steps: int, record_every: int = 0, snapshots: bool = False):
        n_records, n_inner = record_plan(n_steps, record_every)
        out, records, snaps = _advance(plan, types, state, jnp.asarray(n_inner, jnp.int32),
                                       n_records=n_records, snapshots=bool(snapshots))
        if not record_every:
            return out
        return out, records, snaps

    def region_counts(counts):
        return count_regions(plan, types, jnp.asarray(counts))

    def observe(state: RDMEState):
        """``(R, G, S)`` counts per replica, region and species."""
        return region_counts(state.counts)

    def with_counts(state: RDMEState, counts) -> RDMEState:
        """``state`` with its lattice replaced by ``counts`` (key, error and steps kept)."""
        fresh = init(state.key, counts)
        return dataclasses.replace(state, counts=fresh.counts)

    return RDMEKernel(init=init, step=step, region_counts=region_counts, observe=observe,
                      with_counts=with_counts, compiled=compiled, lattice=lattice,
                      tau=float(tau), count_dtype=store)


# --------------------------------------------------------------------------------------
# the step


def _neighbour_types(types, axis, shift):
    return jnp.roll(types, shift, axis=axis)


def _hop_arrays(plan, hop, types, axis, fdt):
    """Per-site ``(p_lo, p_hi)`` of shape broadcastable to (R, S, *shape)."""
    nd = len(plan.shape)
    table = np.asarray(hop, np.float64)          # (S, G, G)
    n_axis = plan.shape[axis]
    if plan.n_regions == 1:
        p = jnp.asarray(table[:, 0, 0], fdt).reshape((1, -1) + (1,) * nd)
        p_lo = p_hi = p
    else:
        g = plan.n_regions
        flat = jnp.asarray(table.reshape(table.shape[0], g * g), fdt)      # (S, G*G)
        own = types.astype(jnp.int32) * g
        lo = own + _neighbour_types(types, axis, 1).astype(jnp.int32)      # neighbour at i-1
        hi = own + _neighbour_types(types, axis, -1).astype(jnp.int32)     # neighbour at i+1
        p_lo = jnp.take(flat, lo, axis=1)[None]                            # (1, S, *shape)
        p_hi = jnp.take(flat, hi, axis=1)[None]
    if not plan.periodic[axis]:
        idx = lax.broadcasted_iota(jnp.int32, (1, 1) + plan.shape, 2 + axis)
        zero = jnp.asarray(0.0, fdt)
        p_lo = jnp.where(idx > 0, p_lo, zero)
        p_hi = jnp.where(idx < n_axis - 1, p_hi, zero)
    return p_lo, p_hi


def _diffuse(plan, hop, types, x, seeds, stream, reverse, fdt, general):
    """One diffusion substep: an exact multinomial split of every count, axis by axis.

    Returns ``(x, stream, bad)``; ``bad`` (fast mode) says the step must be redone
    in general mode.
    """
    nd = len(plan.shape)
    axes = tuple(range(nd))[::-1] if reverse else tuple(range(nd))
    symmetric = plan.n_regions == 1
    table = np.asarray(hop, np.float64)
    bad = jnp.zeros((), bool)
    for axis in axes:
        if table.max() == 0 or (plan.shape[axis] == 1 and plan.periodic[axis]):
            continue   # nothing diffuses, or a one-site periodic axis (a hop is a no-op)
        p_lo, p_hi = _hop_arrays(plan, hop, types, axis, fdt)
        q = p_lo + p_hi
        u, coins = split_word(words(x.shape, seeds, stream), fdt)
        n_coins = 8
        if plan.unroll > 8 and symmetric:
            coins, n_coins = words(x.shape, seeds, stream + 2), 32
        flip = None
        if symmetric and plan.periodic[axis]:
            q2 = 2 * table[:, 0, 0]
            if np.all(q2 <= 0.5):
                flip = False
            elif np.all(q2 > 0.5):
                flip = True
        moved, b1 = binomial(x, q, u, seeds, stream, fdt, general, plan.unroll, flip=flip)
        if symmetric:
            down, b2 = fair_split(moved, coins, n_coins, seeds, stream + 1, general)
            if not plan.periodic[axis]:
                idx = lax.broadcasted_iota(jnp.int32, x.shape, 2 + axis)
                down = jnp.where(idx == 0, 0, jnp.where(idx == plan.shape[axis] - 1, moved, down))
        else:
            zero = jnp.asarray(0.0, fdt)
            frac = jnp.where(q > zero, p_lo / jnp.where(q > zero, q, jnp.asarray(1.0, fdt)), zero)
            u2 = uniforms(x.shape, seeds, stream + 1, fdt)
            down, b2 = binomial(moved, frac, u2, seeds, stream + 1, fdt, general, plan.unroll)
        if not general:
            # materialise the draws and reduce the masks once: otherwise XLA fuses the
            # hash + inversion chain into each consumer (the rolls, the update, the check)
            moved, down, b1, b2 = lax.optimization_barrier((moved, down, b1, b2))
            bad = bad | jnp.any(b1 | b2)
        stream += 3
        up = moved - down
        a = 2 + axis
        x = x - moved + jnp.roll(down, -1, axis=a) + jnp.roll(up, 1, axis=a)
    return x, stream, bad


def _one_step(plan, types, counts, key, fdt):
    """One split step.

    Runs the fast path (every binomial by inversion with a few unrolled CDF
    terms). If any site needed more terms, the whole step is redone on the
    general path with *fresh* random words (its draws are then independent of
    the event that triggered it, so both paths give exact samples).
    """
    key, seeds = step_seeds(key)
    x0 = counts.astype(jnp.int32)

    def run(general):
        x = x0
        stream = (1 << 24) if general else 0
        bad = jnp.zeros((), bool)
        for stage in plan.stages:
            if stage[0] == "D":
                x, stream, b = _diffuse(plan, plan.hop[stage[1]], types, x, seeds, stream,
                                        stage[2], fdt, general)
                bad = bad | b
            else:
                x = react_sites(plan, types, x, seeds, stream + (1 << 20), fdt)
        return x, bad

    x, bad = run(False)
    x = lax.cond(bad, lambda x: run(True)[0], lambda x: x, x)
    err = (ERRORS.flag("overflow", jnp.any(x > plan.count_max))
           | ERRORS.flag("negative", jnp.any(x < 0)))
    return x.astype(plan.count_dtype), key, err


@functools.partial(jax.jit, static_argnames=("plan", "n_records", "snapshots"))
def _advance(plan, types, state, n_inner, *, n_records, snapshots):
    """``n_records`` blocks (or one block when 0) of ``n_inner`` steps (a traced count,
    so a new step count does not recompile); the region counts (and the lattice)
    after each block are recorded."""
    fdt = jnp.dtype(plan.float_dtype)

    def steps(carry):
        def body(_, carry):
            counts, key, err = carry
            counts, key, e = _one_step(plan, types, counts, key, fdt)
            return counts, key, err | e
        return lax.fori_loop(0, n_inner, body, carry)

    carry = (state.counts, state.key, state.error)
    if n_records == 0:
        counts, key, err = steps(carry)
        return RDMEState(counts=counts, key=key, error=err, steps=state.steps + n_inner), None, None

    def block(carry, _):
        carry = steps(carry)
        return carry, (count_regions(plan, types, carry[0]), carry[0] if snapshots else None)

    (counts, key, err), (records, snaps) = lax.scan(block, carry, None, length=n_records)
    out = RDMEState(counts=counts, key=key, error=err,
                    steps=state.steps + n_inner * n_records)
    return out, records, snaps
