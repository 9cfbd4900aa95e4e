"""The RDME kernel in particle form: the same Markov chain, cost per particle, not per site.

A dilute lattice (B1: 2000 particles in 32 768 sites) is mostly empty, and the
dense kernel (:mod:`.lattice_form`) pays for every site and species in every axis
sweep. This kernel stores the *particles* instead: for each slot a global site
index ``replica * n_sites + site`` and a species (``-1``: a free slot), and runs
the same split step of the same RDME:

* **Diffusion**: in an axis sweep every particle hops to its lower neighbour
  with probability ``p_lo``, to its upper one with ``p_hi``, or stays (the
  probabilities of its species, its site's region and the neighbour's region:
  the table of the dense kernel). The dense kernel splits a count ``n`` as
  ``Multinomial(n; p_lo, p_hi, 1 - p_lo - p_hi)``; that *is* the law of ``n``
  independent particles making this choice, so the two kernels sample the same
  transition. One uniform per particle per axis sweep, exact, no fallback path.
* **Reactions**: the slots are sorted by ``(site, species)``; the first
  particle of every occupied site gathers its site's counts and runs the dense
  kernel's exact per-site SSA (:func:`.ssa.react_sites`, the very same code) for
  ``tau``; the count changes are then applied by freeing the first particles of a
  consumed species at the site and placing products in free slots. Empty sites
  have zero propensity in a model without zero-order reactions, so skipping them
  changes nothing; models with ``0 -> X`` reactions (events in empty sites)
  need the dense kernel, and :func:`rdme_particles` says so.

Cost per step: a sort of the slots plus ``O(slots)`` work, independent of the
lattice size. Particle counts are conserved exactly by diffusion (no particle is
created or lost by a hop). There is no per-site storage limit; the slot
*capacity* is the limit instead: a step that needs more slots than there are
sets ``ERROR_CAPACITY`` and :func:`.core.check_errors` raises on the host.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..jax_common import register_pytree
from .core import (ERROR_CAPACITY, ERRORS, RDMEKernel, StepPlan, check_stability,
                   check_tau_and_splitting, count_regions, hop_probabilities, raw_key,
                   record_plan, replica_counts)
from .geometry import Lattice
from .model import CompiledModel, RDMEModel
from .rng import step_seeds, uniforms
from .ssa import react_sites

__all__ = ["ParticleState", "rdme_particles", "ERROR_CAPACITY",
           "supports_particles"]

_FREE = -1


@dataclasses.dataclass(frozen=True)
class ParticleState:
    """Particles of ``n_replicas`` lattices (a pytree).

    Attributes
    ----------
    site : (capacity,) int32, ``replica * n_sites + flat site index`` (any value for a free slot)
    species : (capacity,) int32, species index, ``-1`` for a free slot
    key : raw PRNG key data (uint32[2])
    error : int32 bit mask (``ERROR_CAPACITY``)
    steps : int32, steps taken so far
    layout : static ``(n_replicas, n_species, lattice shape)``
    """

    site: jax.Array
    species: jax.Array
    key: jax.Array
    error: jax.Array
    steps: jax.Array
    layout: tuple = ()

    @property
    def counts(self) -> jax.Array:
        """The lattice ``(n_replicas, n_species, *shape)`` int32 (what the dense kernel stores)."""
        return _to_counts(self.site, self.species, self.layout)


register_pytree(ParticleState, static=("layout",))


@functools.partial(jax.jit, static_argnames=("layout",))
def _to_counts(site, species, layout):
    n_rep, n_s, shape = layout
    n_sites = math.prod(shape)
    live = species >= 0
    replica = site // n_sites
    index = jnp.where(live, (replica * n_s + species) * n_sites + site % n_sites,
                      n_rep * n_s * n_sites)
    flat = jnp.zeros(n_rep * n_s * n_sites, jnp.int32).at[index].add(1, mode="drop")
    return flat.reshape((n_rep, n_s) + tuple(shape))


def supports_particles(compiled: CompiledModel) -> str | None:
    """``None`` if the particle kernel runs this model, else why not."""
    zero = [compiled.labels[j] for j in range(len(compiled.labels))
            if compiled.reactants[j, 0] < 0 and np.any(compiled.rate[j] > 0)]
    if zero:
        return (f"zero-order reaction(s) {zero} create particles in empty sites, which the "
                "particle kernel does not visit; use method='lattice'")
    return None


def rdme_particles(model: RDMEModel | CompiledModel, lattice: Lattice, *, tau: float,
                   splitting: str = "strang", capacity: int | None = None,
                   float_dtype=None, gather: str = "auto") -> RDMEKernel:
    """Build the particle-form RDME kernel (same arguments and meaning as :func:`.kernel.rdme`).

    ``capacity``: particle slots per replica (default: twice the largest initial
    number of particles of a replica, at least 1024). ``gather``: how a step finds the
    particles that share a site: 'dense' (a per-site array of leader slots), 'sorted'
    (sort the slots; for lattices where that array would dwarf the slots) or 'auto'.
    Use :func:`.kernel.rdme` with ``method='particles'`` rather than calling this directly.
    """
    if gather not in ("auto", "dense", "sorted"):
        raise ValueError(f"gather must be 'auto', 'dense' or 'sorted', got {gather!r}")
    check_tau_and_splitting(tau, splitting)
    compiled = model.compile(lattice) if isinstance(model, RDMEModel) else model
    why = supports_particles(compiled)
    if why:
        raise ValueError(f"method='particles': {why}")
    check_stability(compiled, lattice, float(tau), splitting)
    if capacity is not None and int(capacity) < 1:
        raise ValueError(f"capacity must be a positive number of particle slots, got {capacity!r}")
    if float_dtype is None:
        float_dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    fdt = np.dtype(float_dtype)
    h = tau / 2 if splitting == "strang" else tau
    hop = np.asarray(hop_probabilities(compiled, lattice, h), np.float64)
    n_g = len(lattice.regions)
    plan = StepPlan(shape=lattice.shape, periodic=lattice.periodic, n_species=compiled.n_species,
                 n_regions=n_g,
                 stages=(("D", 0, False), ("R",)) + ((("D", 0, True),) if splitting == "strang"
                                                     else ()),
                 hop=(tuple(map(tuple, hop.reshape(hop.shape[0], -1).tolist())),),
                 rate=tuple(map(tuple, np.asarray(compiled.rate, np.float64)
                                .reshape(-1, n_g).tolist())),
                 reactants=tuple(map(tuple, np.asarray(compiled.reactants, np.int64)
                                     .reshape(-1, 2).tolist())),
                 change=tuple(map(tuple, np.asarray(compiled.change, np.int64)
                                  .reshape(-1, compiled.n_species).tolist())),
                 tau=float(tau), count_max=int(np.iinfo(np.int32).max), count_dtype="int32",
                 float_dtype=fdt.name, unroll=0)
    types = jnp.asarray(lattice.site_types.ravel(), jnp.int32)

    def from_counts(counts, n_slots):
        counts = np.asarray(counts, np.int64)
        n_rep = counts.shape[0]
        flat = counts.reshape(n_rep, compiled.n_species, -1)
        r, s, i = np.nonzero(flat)
        reps = flat[r, s, i]
        site = np.repeat(r * lattice.n_sites + i, reps).astype(np.int32)
        species = np.repeat(s, reps).astype(np.int32)
        if site.size > n_slots:
            raise ValueError(f"{site.size} particles do not fit capacity={n_slots // n_rep} "
                             "slots per replica; build the kernel with a larger capacity")
        pad = n_slots - site.size
        return (np.concatenate([site, np.zeros(pad, np.int32)]),
                np.concatenate([species, np.full(pad, _FREE, np.int32)]))

    def check_counts(counts):
        counts = replica_counts(counts, compiled.n_species, lattice.shape)
        if counts.size and counts.min() < 0:
            raise ValueError(f"counts must be >= 0, got a minimum of {counts.min()}")
        return counts

    def slots_for(counts):
        per_replica = counts.reshape(counts.shape[0], -1).sum(axis=1)
        if capacity is not None:
            return int(capacity)
        return max(1024, 2 * int(per_replica.max(initial=0)))

    def init(key, counts=None, *, n_replicas: int = 1, seed: int = 0) -> ParticleState:
        if counts is None:
            if not isinstance(model, RDMEModel):
                raise ValueError("give counts, or build the kernel from an RDMEModel")
            counts = model.initial_counts(lattice, n_replicas, seed=seed)
        counts = check_counts(counts)
        n_rep = counts.shape[0]
        if n_rep * lattice.n_sites * compiled.n_species >= 2 ** 31:
            raise ValueError("replicas x sites x species must stay below 2^31 for the particle "
                             "kernel's int32 keys; use fewer replicas per kernel")
        site, species = from_counts(counts, n_rep * slots_for(counts))
        return ParticleState(site=jnp.asarray(site), species=jnp.asarray(species),
                             key=raw_key(key),
                             error=jnp.zeros((), jnp.int32), steps=jnp.zeros((), jnp.int32),
                             layout=(n_rep, compiled.n_species, lattice.shape))

    def with_counts(state: ParticleState, counts) -> ParticleState:
        """``state`` with its lattice replaced by ``counts`` (key, error and steps kept)."""
        counts = check_counts(counts)
        if counts.shape[0] != state.layout[0]:
            raise ValueError(f"counts have {counts.shape[0]} replicas, the state "
                             f"{state.layout[0]}")
        site, species = from_counts(counts, int(state.site.shape[0]))
        return dataclasses.replace(state, site=jnp.asarray(site), species=jnp.asarray(species))

    def step(state: ParticleState, n_steps: int, record_every: int = 0, snapshots: bool = False):
        n_records, n_inner = record_plan(n_steps, record_every)
        n_sites = state.layout[0] * lattice.n_sites
        how = gather if gather != "auto" else \
            ("dense" if n_sites <= _DENSE_SITES_PER_SLOT * state.site.shape[0] else "sorted")
        out, records, snaps = _advance(plan, types, state, jnp.asarray(n_inner, jnp.int32),
                                       n_records=n_records, snapshots=bool(snapshots),
                                       gather=how)
        return (out, records, snaps) if record_every else out

    def observe(state: ParticleState):
        """``(R, G, S)`` counts per replica, region and species."""
        return _observe(plan, types, state.site, state.species, state.layout[0])

    def region_counts(counts):
        return count_regions(plan, jnp.asarray(lattice.site_types, jnp.uint8),
                              jnp.asarray(counts))

    return RDMEKernel(init=init, step=step, region_counts=region_counts, observe=observe,
                      with_counts=with_counts, compiled=compiled, lattice=lattice,
                      tau=float(tau), count_dtype=np.dtype(np.int32), method="particles")


# --------------------------------------------------------------------------------------
# the step


def _strides(shape):
    return tuple(int(np.prod(shape[a + 1:])) for a in range(len(shape)))


def _diffuse(plan, hop, types, site, species, seeds, stream, reverse, fdt):
    """One diffusion substep: every particle makes its per-axis hop choice, axis by axis."""
    n_sites = math.prod(plan.shape)
    table = jnp.asarray(np.asarray(hop, np.float64).reshape(-1), fdt)   # (S * G * G,)
    g = plan.n_regions
    live = species >= 0
    sp = jnp.where(live, species, 0)
    axes = tuple(range(len(plan.shape)))
    for axis in (axes[::-1] if reverse else axes):
        n_axis, stride = plan.shape[axis], _strides(plan.shape)[axis]
        if n_axis == 1 and plan.periodic[axis]:
            continue
        c = (site // stride) % n_axis
        lo = jnp.where(c > 0, site - stride, site + (n_axis - 1) * stride)
        hi = jnp.where(c < n_axis - 1, site + stride, site - (n_axis - 1) * stride)
        here = types[site % n_sites] if g > 1 else 0
        base = (sp * g + here) * g
        p_lo = table[base + (types[lo % n_sites] if g > 1 else 0)]
        p_hi = table[base + (types[hi % n_sites] if g > 1 else 0)]
        if not plan.periodic[axis]:
            zero = jnp.asarray(0.0, fdt)
            p_lo = jnp.where(c > 0, p_lo, zero)
            p_hi = jnp.where(c < n_axis - 1, p_hi, zero)
        u = uniforms(site.shape, seeds, stream, fdt)
        stream += 1
        site = jnp.where(live & (u < p_lo), lo,
                         jnp.where(live & (u >= p_lo) & (u < p_lo + p_hi), hi, site))
    return site, stream


def _gather_dense(plan, site, species, n_rep):
    """Leaders and per-site counts through a per-site array of leader slots: cheapest
    while the lattice is not much larger than the slots. Returns ``x`` (slots, S),
    nonzero on leader rows, and each slot's leader; ``rank`` is None (consumed particles
    are then freed one pass at a time)."""
    n_s, n = plan.n_species, site.shape[0]
    n_total = n_rep * math.prod(plan.shape)
    idx = lax.iota(jnp.int32, n)
    live = species >= 0
    first = jnp.full(n_total, n, jnp.int32).at[jnp.where(live, site, n_total)].min(
        idx, mode="drop")
    lead = jnp.where(live, first[site], n)
    x = jnp.zeros((n, n_s), jnp.int32).at[lead, jnp.maximum(species, 0)].add(1, mode="drop")
    return site, species, x, live & (lead == idx), lead, None


def _gather_sorted(plan, site, species, n_rep):
    """Leaders and per-site counts by sorting the slots by (site, species): for lattices
    whose per-site array would dwarf the slots. Returns the slots sorted, and
    each particle's rank among the particles of its (site, species)."""
    n_s, n = plan.n_species, site.shape[0]
    big = n_rep * math.prod(plan.shape) * n_s
    idx = lax.iota(jnp.int32, n)
    key = jnp.sort(jnp.where(species >= 0, site * n_s + species, big))
    live = key < big
    site = jnp.where(live, key // n_s, 0)
    species = jnp.where(live, key % n_s, _FREE)
    prev = jnp.concatenate([jnp.full((1,), -1, jnp.int32), key[:-1]])
    new_site = live & ((idx == 0) | (site != prev // n_s))
    start_site = lax.cummax(jnp.where(new_site, idx, 0))
    rank = idx - lax.cummax(jnp.where(live & (key != prev), idx, 0))
    lead = jnp.where(live, start_site, n)
    x = jnp.zeros((n, n_s), jnp.int32).at[lead, jnp.where(live, species, 0)].add(
        1, mode="drop")
    return site, species, x, new_site, lead, rank


#: 'auto' gathers through a per-site array while the sites are at most this many times
#: the slots (filling it costs less than sorting the slots), else by sorting
_DENSE_SITES_PER_SLOT = 256


def _react_particles(plan, types, site, species, seeds, stream, fdt, n_rep, gather):
    """The per-site exact SSA of the dense kernel, on the occupied sites only.

    Each occupied site is handled by its *leader* (one of its slots), which holds the
    site's counts; the site's random words are keyed by its global site number, so
    they do not depend on which slot leads or how the slots are ordered. Most steps of
    a dilute lattice have no event; the count changes are applied only when there is
    one (a ``lax.cond``). Returns ``(site, species, overflow)``.
    """
    n_s = plan.n_species
    n_sites = math.prod(plan.shape)
    n = site.shape[0]
    gather = _gather_dense if gather == "dense" else _gather_sorted
    site, species, x, leader, lead, rank = gather(plan, site, species, n_rep)
    slot_types = types[site % n_sites] if plan.n_regions > 1 else jnp.zeros(n, jnp.int32)
    x_new = react_sites(plan, slot_types, x.T[None], seeds, stream, fdt, index=site)[0].T
    delta = x_new - x                                          # nonzero on leader rows only
    idx = lax.iota(jnp.int32, n)

    def consume_sorted(site, species):
        sp = jnp.maximum(species, 0)
        return jnp.where((species >= 0) & (rank < -delta[jnp.minimum(lead, n - 1), sp]),
                         _FREE, species)

    def consume_dense(site, species):
        # free the lowest slot of each (site, species) that must lose one, pass by pass;
        # (site, species) is addressed by (leader slot, species): arrays of slots x S
        def free_one(c):
            species, need = c
            sp = jnp.maximum(species, 0)
            row = jnp.where(species >= 0, lead, n)
            lowest = jnp.full((n, n_s), n, jnp.int32).at[row, sp].min(idx, mode="drop")
            safe = jnp.minimum(row, n - 1)
            hit = (species >= 0) & (lowest[safe, sp] == idx) & (need[safe, sp] > 0)
            need = need.at[jnp.where(hit, row, n), sp].add(-1, mode="drop")
            return jnp.where(hit, _FREE, species), need

        return lax.while_loop(lambda c: jnp.any(c[1] > 0), free_one,
                              (species, jnp.maximum(-delta, 0)))[0]

    def apply(args):
        site, species = args
        species = (consume_dense if rank is None else consume_sorted)(site, species)
        # produced: the j-th new particle goes to the j-th free slot; j -> its leader row
        # by a prefix sum over rows, then -> its species within the row (S is small)
        made = jnp.maximum(delta, 0)                           # (n, S), row = leader slot
        per_row = jnp.sum(made, axis=1, dtype=jnp.int32)
        ends = jnp.cumsum(per_row, dtype=jnp.int32)
        free = species < 0
        free_rank = jnp.cumsum(free, dtype=jnp.int32) - 1
        row = jnp.minimum(jnp.searchsorted(ends, free_rank, side="right").astype(jnp.int32),
                          n - 1)
        offset = free_rank - (ends[row] - per_row[row])
        new_species = jnp.zeros(n, jnp.int32)
        upto = jnp.zeros(n, jnp.int32)
        for sp in range(n_s - 1):
            upto = upto + made[row, sp]
            new_species = new_species + (offset >= upto).astype(jnp.int32)
        place = free & (free_rank < ends[-1])
        new_site = jnp.where(place, site[row], site)
        species = jnp.where(place, new_species, species)
        return new_site, species, ends[-1] > jnp.sum(free, dtype=jnp.int32)

    return lax.cond(jnp.any(delta != 0), apply,
                    lambda args: (args[0], args[1], jnp.zeros((), bool)), (site, species))


def _one_step(plan, types, site, species, key, fdt, n_rep, gather):
    key, seeds = step_seeds(key)
    stream = 0
    overflow = jnp.zeros((), bool)
    for stage in plan.stages:
        if stage[0] == "D":
            site, stream = _diffuse(plan, plan.hop[stage[1]], types, site, species, seeds,
                                    stream, stage[2], fdt)
        elif any(any(r) for r in plan.rate):
            site, species, overflow = _react_particles(plan, types, site, species, seeds,
                                                       stream + (1 << 20), fdt, n_rep, gather)
    return site, species, key, ERRORS.flag("capacity", overflow)


def _observe(plan, types, site, species, n_rep):
    """(R, G, S) counts per replica, region and species (int64 with x64, else int32)."""
    acc = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    n_sites = math.prod(plan.shape)
    g, n_s = plan.n_regions, plan.n_species
    live = species >= 0
    region = types[site % n_sites] if g > 1 else jnp.zeros_like(site)
    index = jnp.where(live, ((site // n_sites) * g + region) * n_s + species, n_rep * g * n_s)
    flat = jnp.zeros(n_rep * g * n_s, acc).at[index].add(jnp.ones((), acc), mode="drop")
    return flat.reshape(n_rep, g, n_s)


@functools.partial(jax.jit, static_argnames=("plan", "n_records", "snapshots", "gather"))
def _advance(plan, types, state, n_inner, *, n_records, snapshots, gather):
    fdt = jnp.dtype(plan.float_dtype)
    n_rep = state.layout[0]

    def steps(carry):
        def body(_, carry):
            site, species, key, err = carry
            site, species, key, e = _one_step(plan, types, site, species, key, fdt, n_rep,
                                              gather)
            return site, species, key, err | e
        return lax.fori_loop(0, n_inner, body, carry)

    carry = (state.site, state.species, state.key, state.error)
    if n_records == 0:
        site, species, key, err = steps(carry)
        return dataclasses.replace(state, site=site, species=species, key=key, error=err,
                                   steps=state.steps + n_inner), None, None

    def block(carry, _):
        carry = steps(carry)
        lattice = _to_counts(carry[0], carry[1], state.layout) if snapshots else None
        return carry, (_observe(plan, types, carry[0], carry[1], n_rep), lattice)

    (site, species, key, err), (records, snaps) = lax.scan(block, carry, None, length=n_records)
    out = dataclasses.replace(state, site=site, species=species, key=key, error=err,
                              steps=state.steps + n_inner * n_records)
    return out, records, snaps
