"""JAX kernel of the lattice reaction-diffusion master equation (RDME), jax-md style.

State: integer counts ``(n_replicas, n_species, nx, ny[, nz])`` in the narrowest
unsigned type that holds them, a JAX key and an error bit mask. One step of
length ``tau`` is an operator splitting of the RDME generator ``L = D + R``:

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

**Reactions** ``R(tau)`` are *exact*: every site runs Gillespie's direct method
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
:func:`check_errors` raises on the host (the stored value is then invalid;
nothing is clipped silently).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..errors import SimulationError
from .geometry import Lattice
from .model import CompiledModel, RDMEModel
from .rng import step_seeds, uniforms, words

__all__ = ["RDMEState", "RDMEKernel", "rdme", "check_errors", "hop_probabilities",
           "max_stable_tau", "choose_count_dtype", "ERROR_OVERFLOW", "ERROR_NEGATIVE",
           "SPLITTINGS", "COUNT_DTYPES", "METHODS", "ERROR_CAPACITY",
           # shared with the particle form (.particles)
           "StepPlan", "check_stability", "react_sites", "count_regions", "raw_key",
           "record_plan", "replica_counts"]

ERROR_OVERFLOW = 1   # a site count exceeded the storage dtype
ERROR_NEGATIVE = 2   # a count went negative (a bug guard: cannot happen by construction)
ERROR_CAPACITY = 4   # particle form: more particles than slots (see .particles)
SPLITTINGS = ("lie", "strang")
COUNT_DTYPES = ("auto", "uint8", "uint16", "int32")
_UNROLL = 3          # CDF terms of the binomial inversion unrolled into the fused step
_MEAN_MAX = 10.0     # above this mean a draw leaves the fast path


@dataclasses.dataclass(frozen=True)
class RDMEState:
    """State of ``n_replicas`` independent lattices (a pytree).

    Attributes
    ----------
    counts : (n_replicas, n_species, *lattice.shape), uint8/uint16/int32
    key : raw PRNG key data (uint32[2]), advanced every step
    error : int32 bit mask (``ERROR_OVERFLOW``, ``ERROR_NEGATIVE``)
    steps : int32, steps taken so far
    """

    counts: jax.Array
    key: jax.Array
    error: jax.Array
    steps: jax.Array


jax.tree_util.register_dataclass(RDMEState, data_fields=["counts", "key", "error", "steps"],
                                 meta_fields=[])


def hop_probabilities(compiled: CompiledModel, lattice: Lattice, h: float) -> np.ndarray:
    """``(S, G, G)`` hop probability per direction for a diffusion substep of length ``h``."""
    return compiled.diffusion * h / lattice.spacing ** 2


def max_stable_tau(compiled: CompiledModel, lattice: Lattice, splitting: str = "strang",
                   p_max: float = 0.5) -> float:
    """Largest step with every hop probability per direction <= ``p_max``."""
    d = float(compiled.diffusion.max()) if compiled.diffusion.size else 0.0
    if d == 0:
        return math.inf
    h = p_max * lattice.spacing ** 2 / d
    return 2 * h if splitting == "strang" else h


def check_stability(compiled, lattice, tau, splitting):
    h = tau / 2 if splitting == "strang" else tau
    p = hop_probabilities(compiled, lattice, h)
    if p.size and p.max() > 0.5:
        s, a, b = np.unravel_index(int(np.argmax(p)), p.shape)
        where = (f"in region {compiled.regions[a]!r}" if a == b else
                 f"from region {compiled.regions[a]!r} to {compiled.regions[b]!r}")
        limit = max_stable_tau(compiled, lattice, splitting)
        raise ValueError(
            f"time step tau={tau:.6g} s is unstable: species {compiled.species[s]!r} "
            f"{where} (D={compiled.diffusion[s, a, b]:.4g} m^2/s, lambda="
            f"{lattice.spacing:.4g} m) hops with probability {p.max():.4g} per direction "
            f"per {'half-' if splitting == 'strang' else ''}step, which must be <= 1/2. "
            f"Use tau <= {limit:.6g} s (hop probability 1/4, tau <= {limit / 2:.6g} s, "
            f"is a good default).")


def choose_count_dtype(count_dtype: str, initial_max: int) -> np.dtype:
    """The storage dtype: 'auto' picks uint8 up to 15 per site, uint16 up to 4095, else int32."""
    if count_dtype not in COUNT_DTYPES:
        raise ValueError(f"count_dtype must be one of {COUNT_DTYPES}, got {count_dtype!r}")
    if count_dtype == "auto":
        if initial_max <= 15:
            return np.dtype(np.uint8)
        return np.dtype(np.uint16) if initial_max <= 4095 else np.dtype(np.int32)
    dtype = np.dtype(count_dtype)
    if initial_max > np.iinfo(dtype).max:
        raise ValueError(f"an initial site count of {initial_max} does not fit count_dtype "
                         f"{count_dtype!r}; use a wider type or 'auto'")
    return dtype


@dataclasses.dataclass(frozen=True)
class StepPlan:
    """Static description of one step (hashable: a jit static argument)."""

    shape: tuple
    periodic: tuple
    n_species: int
    n_regions: int
    stages: tuple            # ('D', half_index, reverse) or ('R',)
    hop: tuple               # per diffusion stage kind: nested tuples (S, G, G)
    rate: tuple              # (J, G)
    reactants: tuple         # (J, 2)
    change: tuple            # (J, S)
    tau: float
    count_max: int
    count_dtype: str
    float_dtype: str
    unroll: int


class RDMEKernel(NamedTuple):
    """What :func:`rdme` builds: ``init``, ``step``, observables and the layout."""

    init: callable
    step: callable
    region_counts: callable
    observe: callable
    with_counts: callable
    compiled: CompiledModel
    lattice: Lattice
    tau: float
    count_dtype: np.dtype
    method: str = "lattice"

    def bytes_per_voxel_step(self, n_species: int | None = None) -> int:
        """Minimum memory traffic of one step per site: read and write every count
        once (fully fused), plus the site type when there is more than one region."""
        s = self.compiled.n_species if n_species is None else n_species
        return 2 * s * self.count_dtype.itemsize + (1 if len(self.lattice.regions) > 1 else 0)


METHODS = ("auto", "lattice", "particles")
_DILUTE = 0.125   # 'auto' takes the particle form below this many particles per site-species


def rdme(model: RDMEModel | CompiledModel, lattice: Lattice, *, tau: float,
         splitting: str = "strang", count_dtype: str = "auto", initial_max: int | None = None,
         float_dtype=None, diffusion_substeps: int = 1, method: str = "auto",
         initial_particles: int | None = None, capacity: int | None = None):
    """Build the RDME kernel for ``model`` on ``lattice``.

    Two forms of the same Markov chain (same splitting, same per-site SSA, same
    hop law; their trajectories differ only through the random draws):
    ``method='lattice'`` stores counts per site (this module; cost per site and
    species, the GPU layout for crowded lattices), ``method='particles'`` stores the
    particles (:mod:`.particles`; cost per particle, for dilute lattices; no
    zero-order reactions). ``'auto'`` (default) takes the particle form when the
    model allows it, ``count_dtype`` and ``diffusion_substeps`` are left at their
    defaults, and the initial state has fewer than one particle per 8 site-species
    (``initial_particles`` per replica; counted from an ``RDMEModel``'s initial counts).

    Parameters
    ----------
    model : RDMEModel (validated and compiled here) or an already compiled model
    lattice : Lattice
    tau : time step in seconds; checked against stability (raises ``ValueError``)
    splitting : 'strang' (default) or 'lie'
    count_dtype : 'auto', 'uint8', 'uint16' or 'int32' (storage of the counts)
    initial_max : largest initial site count, for 'auto' (default: from the model's
        initial counts spread uniformly, i.e. a few per site)
    float_dtype : dtype of probabilities and propensities (default float64 when
        ``jax_enable_x64`` is on, else float32)
    diffusion_substeps : each diffusion substep is made of this many lattice sweeps of
        ``1/diffusion_substeps`` its length (reactions keep the step ``tau``); the
        sweep's own time-discretisation error shrinks with it

    initial_particles : particles per replica, for 'auto' with a compiled model
    capacity : particle slots per replica ('particles' only; default twice the initial
        number, at least 1024)

    Returns
    -------
    RDMEKernel (``method`` says which form; ``bytes_per_voxel_step`` is the lattice form's) with
        ``init(key, counts=None, n_replicas=1, seed=0) -> RDMEState``;
        ``step(state, n_steps, record_every=0, snapshots=False)`` -> RDMEState, or with
        ``record_every`` ``(state, region_counts (T, R, G, S), lattice (T, R, S, *shape) or
        None)`` recorded after every ``record_every`` steps (one compilation per plan and
        number of records; the step count itself is traced);
        ``region_counts(counts) -> (R, G, S)`` int64.
    """
    if splitting not in SPLITTINGS:
        raise ValueError(f"splitting must be one of {SPLITTINGS}, got {splitting!r}")
    if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive number of seconds, got {tau!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    compiled = model.compile(lattice) if isinstance(model, RDMEModel) else model
    if method == "auto":
        method = _auto_method(model, compiled, lattice, count_dtype, diffusion_substeps,
                              initial_particles)
    if method == "particles":
        if count_dtype != "auto" or int(diffusion_substeps) != 1:
            raise ValueError("method='particles' has no count_dtype (no per-site storage) and "
                             "no diffusion_substeps; leave them at their defaults or use "
                             "method='lattice'")
        from .particles import rdme_particles
        return rdme_particles(model if isinstance(model, RDMEModel) else compiled, lattice,
                              tau=tau, splitting=splitting, capacity=capacity,
                              float_dtype=float_dtype)
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

    def tup(a):
        return tuple(map(tup, a)) if isinstance(a, np.ndarray) and a.ndim else \
            (a.item() if isinstance(a, np.generic) or isinstance(a, np.ndarray) else a)

    plan = StepPlan(shape=lattice.shape, periodic=lattice.periodic,
                 n_species=compiled.n_species, n_regions=len(lattice.regions), stages=stages,
                 hop=tuple(tup(np.asarray(h, np.float64)) for h in hops),
                 rate=tup(np.asarray(compiled.rate, np.float64).reshape(-1, len(lattice.regions))),
                 reactants=tup(np.asarray(compiled.reactants, np.int64).reshape(-1, 2)),
                 change=tup(np.asarray(compiled.change, np.int64).reshape(-1, compiled.n_species)),
                 tau=float(tau), count_max=int(np.iinfo(store).max), count_dtype=store.name,
                 float_dtype=float_dtype.name,
                 unroll=int(min(12, max(_UNROLL, initial_max))))
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


def replica_counts(counts, n_species: int, shape) -> np.ndarray:
    """``counts`` as ``(n_replicas, n_species, *shape)`` (one replica may omit its axis)."""
    counts = np.asarray(counts)
    want = (int(n_species),) + tuple(shape)
    if counts.ndim == len(want):
        counts = counts[None]
    if counts.shape[1:] != want:
        raise ValueError(f"counts must have shape (n_replicas, {', '.join(map(str, want))}),"
                         f" got {counts.shape}")
    return counts


def raw_key(key) -> jax.Array:
    """An int seed, a ``jax.random.key`` or raw key data as raw ``uint32[2]`` key data."""
    if isinstance(key, (int, np.integer)):
        key = jax.random.key(int(key))
    key = jnp.asarray(key)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    if key.shape != (2,) or key.dtype != jnp.uint32:
        raise ValueError("key must be an int seed, a jax.random.key or raw key data "
                         f"uint32[2], got {key.dtype}{key.shape}")
    return key


def record_plan(n_steps: int, record_every: int) -> tuple[int, int]:
    """``(n_records, n_inner)`` for ``step(n_steps, record_every)`` (0 records: one block)."""
    n_steps = int(n_steps)
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    if not record_every:
        return 0, n_steps
    if record_every < 0 or n_steps % record_every:
        raise ValueError(f"record_every={record_every} must divide n_steps={n_steps}")
    return n_steps // record_every, record_every


def _auto_method(model, compiled, lattice, count_dtype, diffusion_substeps, initial_particles):
    from .particles import supports_particles
    if supports_particles(compiled) or count_dtype != "auto" or int(diffusion_substeps) != 1:
        return "lattice"
    if initial_particles is None:
        if not isinstance(model, RDMEModel):
            return "lattice"
        probe = model.initial_counts(lattice, 1, seed=0)
        initial_particles = int(probe.sum())
    dilute = initial_particles < _DILUTE * lattice.n_sites * max(compiled.n_species, 1)
    return "particles" if dilute else "lattice"


# --------------------------------------------------------------------------------------
# the step


def _split_word(w, fdt):
    """A uniform in (0, 1) from the top 24 bits of ``w`` and 8 fair coin bits from the rest."""
    u = ((w >> np.uint32(8)).astype(fdt) + jnp.asarray(0.5, fdt)) * jnp.asarray(2.0 ** -24, fdt)
    return u, w & np.uint32(0xFF)


def _inversion(n, qq, u, fdt, unroll):
    """``Bin(n, qq)`` (``qq <= 1/2``) by inversion of one uniform ``u``, ``unroll`` terms.

    The CDF terms are straight-line code: in term ``i`` every element still
    going has ``k == i``, so the recurrence ``pmf_i = pmf_{i-1} qq/(1-qq) (n-i+1)/i``
    needs no division. Returns ``(k, bad)``: the mask ``bad`` marks elements whose
    draw needs more than ``unroll`` terms or whose mean exceeds ``_MEAN_MAX``.
    """
    one = jnp.asarray(1.0, fdt)
    big = n.astype(fdt) * qq > _MEAN_MAX
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


def _geometric_binomial(n, qq, seeds, stream, fdt):
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


def _binomial(n, q, u, seeds, stream, fdt, general, unroll, flip=None):
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
        k = _geometric_binomial(n, jnp.broadcast_to(qq, n.shape), seeds, stream, fdt)
        bad = None
    else:
        k, bad = _inversion(n, qq, u, fdt, unroll)
    if flip is True:
        k = n - k
    elif flip is not False:
        k = jnp.where(flip, n - k, k)
    return k, bad


def _fair_split(m, coins, n_coins, seeds, stream, general):
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
        u, coins = _split_word(words(x.shape, seeds, stream), fdt)
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
        moved, b1 = _binomial(x, q, u, seeds, stream, fdt, general, plan.unroll, flip=flip)
        if symmetric:
            down, b2 = _fair_split(moved, coins, n_coins, seeds, stream + 1, general)
            if not plan.periodic[axis]:
                idx = lax.broadcasted_iota(jnp.int32, x.shape, 2 + axis)
                down = jnp.where(idx == 0, 0, jnp.where(idx == plan.shape[axis] - 1, moved, down))
        else:
            zero = jnp.asarray(0.0, fdt)
            frac = jnp.where(q > zero, p_lo / jnp.where(q > zero, q, jnp.asarray(1.0, fdt)), zero)
            u2 = uniforms(x.shape, seeds, stream + 1, fdt)
            down, b2 = _binomial(moved, frac, u2, seeds, stream + 1, fdt, general, plan.unroll)
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


def _propensities(plan, types, x, fdt):
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

    a = _propensities(plan, types, x, fdt)
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
            a = _propensities(plan, types, x, fdt)
            u1, u2 = draw(s0 + np.uint32(2) * it.astype(jnp.uint32))
            x, t_left, fire = fire_and_apply(x, a, functools.reduce(jnp.add, a), u1, u2,
                                             t_left, fire)
            return x, t_left, fire, it + 1

        return lax.while_loop(lambda c: jnp.any(c[2]), body,
                              (x, t_left, fire, jnp.ones((), jnp.int32)))[0]

    return lax.cond(jnp.any(any_event), events, lambda x: x, x)


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
    err = (jnp.where(jnp.any(x > plan.count_max), ERROR_OVERFLOW, 0)
           | jnp.where(jnp.any(x < 0), ERROR_NEGATIVE, 0)).astype(jnp.int32)
    return x.astype(plan.count_dtype), key, err


def count_regions(plan, types, counts):
    """(R, G, S) int64 (int32 without x64) counts per region and species."""
    acc = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32
    x = counts.astype(acc)
    lattice_axes = tuple(range(2, 2 + len(plan.shape)))
    if plan.n_regions == 1:
        return jnp.sum(x, axis=lattice_axes)[:, None, :]
    per = []
    for g in range(plan.n_regions):
        mask = (types == g)[None, None]
        per.append(jnp.sum(jnp.where(mask, x, jnp.zeros((), acc)), axis=lattice_axes))
    return jnp.stack(per, axis=1)


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


def check_errors(state: RDMEState) -> None:
    """Raise :class:`SimulationError` if the state's error bits are set (host side)."""
    bits = int(jax.device_get(state.error))
    if bits == 0:
        return
    messages = []
    if bits & ERROR_OVERFLOW:
        messages.append(f"a site count exceeded its storage type ({state.counts.dtype}); "
                        "rebuild the kernel with a wider count_dtype ('uint16' or 'int32')")
    if bits & ERROR_NEGATIVE:
        messages.append("a count went negative (an internal error; please report it)")
    if bits & ERROR_CAPACITY:
        messages.append("the particles outgrew their slots (reactions made more particles "
                        "than the kernel's capacity); rebuild it with a larger capacity= "
                        "(per replica) or use method='lattice'")
    raise SimulationError("RDME: " + "; ".join(messages))
