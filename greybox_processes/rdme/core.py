"""What both forms of the RDME kernel share: state, step plan, kernel record, checks, errors.

The lattice form (:mod:`.lattice_form`, counts per site) and the particle form
(:mod:`.particles`, one slot per particle) run the same split step of the same
Markov chain; this module holds the parts that do not depend on how the
particles are stored, so that both forms import them from here and neither
imports the other (:mod:`.kernel` is the front door that picks a form).

**Overflow and other faults** are reported through an int32 bit mask carried in
the state (a jitted step cannot raise): ``ERROR_OVERFLOW`` when a site count
exceeds its storage type, ``ERROR_CAPACITY`` when the particles outgrow their
slots, ``ERROR_NEGATIVE`` as a bug guard. :func:`check_errors` raises on the host.
"""
from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..jax_common import ErrorFlags, host_bits, raw_key, register_pytree
from .geometry import Lattice
from .model import CompiledModel

__all__ = ["RDMEState", "StepPlan", "RDMEKernel", "ERROR_OVERFLOW", "ERROR_NEGATIVE",
           "ERROR_CAPACITY", "ERRORS", "SPLITTINGS", "COUNT_DTYPES", "check_errors", "hop_probabilities",
           "max_stable_tau", "check_stability", "check_tau_and_splitting", "choose_count_dtype",
           "count_regions", "replica_counts", "raw_key", "record_plan", "nested_tuple"]

#: The error bits of both forms and their messages (``{dtype}``: the count storage type).
ERRORS = ErrorFlags({
    # a site count exceeded the storage dtype
    "overflow": (1, "a site count exceeded its storage type ({dtype}); rebuild the kernel with "
                    "a wider count_dtype ('uint16' or 'int32')"),
    # a bug guard: cannot happen by construction
    "negative": (2, "a count went negative (an internal error; please report it)"),
    # particle form: more particles than slots (see .particles)
    "capacity": (4, "the particles outgrew their slots (reactions made more particles than the "
                    "kernel's capacity); rebuild it with a larger capacity= (per replica) or use "
                    "method='lattice'"),
}, template="RDME: {messages}")
ERROR_OVERFLOW = ERRORS["overflow"]
ERROR_NEGATIVE = ERRORS["negative"]
ERROR_CAPACITY = ERRORS["capacity"]
SPLITTINGS = ("lie", "strang")
COUNT_DTYPES = ("auto", "uint8", "uint16", "int32")


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


register_pytree(RDMEState)


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
    """What :func:`.kernel.rdme` builds: ``init``, ``step``, observables and the layout."""

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


# --------------------------------------------------------------------------------------
# time step and storage


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


def check_tau_and_splitting(tau, splitting: str) -> None:
    """The arguments every form checks first (clear messages before any compilation)."""
    if splitting not in SPLITTINGS:
        raise ValueError(f"splitting must be one of {SPLITTINGS}, got {splitting!r}")
    if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive number of seconds, got {tau!r}")


def check_stability(compiled, lattice, tau, splitting):
    """Raise ``ValueError`` if a diffusion substep would hop with probability > 1/2.

    An axis sweep is a probability law only while ``p_lo + p_hi <= 1``, so this is a
    correctness bound, not an accuracy one: the message names the offending species
    and regions and the largest stable step.
    """
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


def nested_tuple(a):
    """A numpy array as nested tuples of Python scalars (a hashable ``StepPlan`` field)."""
    if isinstance(a, np.ndarray) and a.ndim:
        return tuple(map(nested_tuple, a))
    return a.item() if isinstance(a, (np.generic, np.ndarray)) else a


# --------------------------------------------------------------------------------------
# host-side helpers of init/step


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


# --------------------------------------------------------------------------------------
# observables and errors


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


def check_errors(state) -> None:
    """Raise :class:`SimulationError` if the state's error bits are set (host side)."""
    bits = host_bits(state.error)
    if bits:  # only then: a particle state's ``counts`` is a jitted computation
        ERRORS.check(bits, dtype=state.counts.dtype)
