"""Pure JAX kernel of the mechanistic adder: growth, a division protein made with growth, a threshold.

Mechanism (Si, Le Treut, Sauls, Vadia, Levin & Jun 2019, *Mechanistic origin of
cell-size control and homeostasis in bacteria*, Curr Biol 29:1760): a division
protein (FtsZ in E. coli) is made in balanced growth, that is in proportion to
the volume the cell adds, and accumulates from birth; the cell divides when
the accumulated number reaches a threshold. Because the number made depends
only on the volume *added*, not on the volume at birth, the volume added from
birth to division does not depend on the birth volume: the adder. The
stochastic version (Ghusinga, Vargas-Garcia & Singh 2016, Sci Rep 6:30229)
makes the protein in geometric bursts; the first passage of the count to the
threshold sets the noise of the added volume.

Per cell (the cell axis is axis 0 of every array; dead slots are left as they are):

* volume grows exponentially, ``V(t + dt) = V(t) exp(mu dt)``, at the cell's
  growth rate ``mu`` (1/min, natural-log units) read from the stores;
* the division protein is made in bursts of translation at a rate proportional
  to the volume added: burst sizes are geometric on {0, 1, ...} with mean ``b``
  (``mean_burst_size``; the burst law of one mRNA translated until it decays,
  Friedman, Cai & Xie 2006 PRL 97:168302), bursts come at ``production / b`` per
  fL added, so ``production`` (``production_per_volume``) molecules are made per
  fL on average and the number made in a step is compound Poisson with mean
  ``production * dV``. The kernel draws the equivalent non-empty bursts:
  ``production / (1 + b)`` per fL, each of ``1 + Geometric{0, 1, ...}(mean b)``
  molecules. ``b = 0`` is plain Poisson production, one molecule at a time,
  ``Poisson(production * dV)`` molecules per step;
* a cell whose count reaches ``threshold`` raises its ``divide`` flag (and
  keeps it up while the count stays there); the volume at the moment it did,
  ``trigger_volume``, is recorded exactly.

The bursts of a step are drawn event by event in *volume time*: the volume to the
next burst is exponential, so a step resolves the added volume at which the
count crosses the threshold without a time-step error, and redrawing it at each
step is exact (the exponential is memoryless), so no hidden per-cell clock has to
survive a division. The expected added volume from a count of 0 to the threshold
``N`` is :func:`expected_added_volume` ``(N + b) / production`` (``N /
production`` for Poisson production), and its coefficient of variation is
:func:`added_volume_cv`.

What happens at division is not done here: the :class:`~greybox_processes.framework.population.Division`
step partitions the stores. The accumulated protein is used up in building the
division ring and septum (Si et al. 2019), so the daughters start from zero
(its port declares ``divide='zero'``); volume is split, growth rate copied. A cell
that triggered keeps growing (and making protein, which the division then
discards) until the division step runs at the end of the process interval, so
the volume at division exceeds the trigger volume by at most one interval of
growth.

``make_cell_cycle(params) -> (init_fn, step_fn)``; the state is a frozen
pytree (:class:`CellCycleState`) holding the per-cell arrays, the random key and
the error bits. Everything is ``jit``-compiled, vectorised over cells and runs on
any JAX device.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from greybox_processes.jax_common import ErrorFlags, raw_key, register_pytree

__all__ = [
    "TYPICAL_ADDED_VOLUME_FL", "DEFAULT_THRESHOLD", "DEFAULT_MEAN_BURST_SIZE",
    "DEFAULT_PRODUCTION_PER_VOLUME", "CellCycleParams", "CellCycleState", "ERRORS",
    "check_parameters", "expected_added_volume", "added_volume_cv", "make_cell_cycle",
    "advance", "check_errors",
]

# --- literature defaults (none is fitted to a WCM-Hard reference table) ------------------------

#: Typical volume an E. coli cell adds per cycle, fL (= um^3). Under the adder with symmetric
#: division the mean added volume equals the mean birth volume, and E. coli's rule-of-thumb volume
#: is ~1 um^3 (Milo & Phillips, Cell Biology by the Numbers, "How big is an E. coli cell and what
#: is its mass?", BNID 101788; the spherocylinder estimate there is ~1.3 um^3, close to the mean
#: volume 1/ln 2 ~ 1.44 um^3 of a cell born at 1 um^3 that adds 1 um^3 by exponential growth).
TYPICAL_ADDED_VOLUME_FL = 1.0
#: Threshold number of division-protein molecules and mean burst size (molecules per burst) of the
#: threshold model of Ghusinga, Vargas-Garcia & Singh 2016 (Sci Rep 6:30229, Fig. 2: X = 65
#: molecules, geometric bursts of mean b = 5), whose parameters were estimated there for E. coli
#: MG1655. The threshold is an effective number (the molecules whose count noise sets the timing
#: noise), not FtsZ's total copy number (~10^3-10^4 per cell), whose Poisson noise would be far
#: below the measured noise of the added size.
DEFAULT_THRESHOLD = 65.0
DEFAULT_MEAN_BURST_SIZE = 5.0
#: Mean molecules made per fL added, chosen so that the expected added volume
#: (threshold + b) / production equals TYPICAL_ADDED_VOLUME_FL (derived, not fitted).
DEFAULT_PRODUCTION_PER_VOLUME = (DEFAULT_THRESHOLD + DEFAULT_MEAN_BURST_SIZE) / \
    TYPICAL_ADDED_VOLUME_FL

#: The error bits of :class:`CellCycleState`.
ERRORS = ErrorFlags(
    {"nonfinite": (1, "a growth rate or volume that is NaN or infinite in a live cell"),
     "nonpositive_volume": (2, "a live cell with volume <= 0")},
    sep=" and ",
    template="CellCycle met {messages} (error bits {bits}). Check the process writing the "
             "growth_rate store (1/min, natural-log units) and that live cells start with a "
             "positive volume (fL).")


@dataclasses.dataclass(frozen=True)
class CellCycleParams:
    """Parameters of the division protein (a pytree of scalars).

    Attributes
    ----------
    threshold : molecules at which a cell raises its divide flag (a whole number >= 1).
    production_per_volume : mean molecules made per fL of volume added (> 0), 1/fL.
    mean_burst_size : mean molecules per burst ``b`` (>= 0; 0: one molecule at a time).
    """

    threshold: jax.Array
    production_per_volume: jax.Array
    mean_burst_size: jax.Array

    @classmethod
    def create(cls, threshold=DEFAULT_THRESHOLD,
               production_per_volume=DEFAULT_PRODUCTION_PER_VOLUME,
               mean_burst_size=DEFAULT_MEAN_BURST_SIZE, dtype=jnp.float64) -> "CellCycleParams":
        """Checked parameters as ``dtype`` scalars (ValueError with the fix otherwise)."""
        check_parameters(threshold, production_per_volume, mean_burst_size)
        return cls(*(jnp.asarray(v, dtype=dtype)
                     for v in (threshold, production_per_volume, mean_burst_size)))

    @property
    def dtype(self):
        """The floating-point dtype of the parameters (the kernel computes in it)."""
        return self.threshold.dtype


register_pytree(CellCycleParams)


@dataclasses.dataclass(frozen=True)
class CellCycleState:
    """State of the cells of a population (a pytree); arrays are ``[n_cells]``.

    Attributes
    ----------
    volume : fL.
    protein : division-protein molecules accumulated since birth (whole numbers as floats).
    divide : 1.0 where the count reached the threshold, else 0.0.
    trigger_volume : fL, the volume at which the count reached the threshold in this
        state's history (0.0 where it has not; it is not reset by the kernel).
    key : raw PRNG key data.
    error : int32 bitmask (:data:`ERRORS`).
    """

    volume: jax.Array
    protein: jax.Array
    divide: jax.Array
    trigger_volume: jax.Array
    key: jax.Array
    error: jax.Array


register_pytree(CellCycleState)


# --- parameters and their consequences ---------------------------------------------------------

def check_parameters(threshold, production_per_volume, mean_burst_size) -> None:
    """ValueError, saying what to do, for parameters the mechanism cannot use."""
    values = {"threshold": threshold, "production_per_volume": production_per_volume,
              "mean_burst_size": mean_burst_size}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                             np.floating)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if threshold < 1 or float(threshold) != math.floor(threshold):
        raise ValueError(f"threshold is a number of division-protein molecules and must be a "
                         f"whole number >= 1, got {threshold!r}; e.g. {DEFAULT_THRESHOLD:g} "
                         "(Ghusinga et al. 2016)")
    if production_per_volume <= 0:
        raise ValueError(f"production_per_volume (molecules per fL added) must be > 0, got "
                         f"{production_per_volume!r}; a cell that makes no division protein "
                         "never divides. Set it to (threshold + mean_burst_size) / the mean "
                         "added volume you want (fL)")
    if mean_burst_size < 0:
        raise ValueError(f"mean_burst_size (molecules per burst) must be >= 0, got "
                         f"{mean_burst_size!r}; use 0 for one molecule at a time (Poisson)")


def expected_added_volume(threshold, production_per_volume, mean_burst_size=0.0) -> float:
    """Mean volume (fL) added from a count of 0 until the count reaches ``threshold``.

    Bursts (mean size ``b``, geometric on {0, 1, ...}) give ``(threshold + b) /
    production_per_volume``: the burst that crosses the threshold is ``1 +
    Binomial(threshold - 1, 1/(1+b))`` non-empty bursts in, each after an
    exponential volume of mean ``(1 + b) / production_per_volume``. ``b = 0``
    (Poisson) gives ``threshold / production_per_volume``, the mean of a gamma law.
    """
    return (float(threshold) + float(mean_burst_size)) / float(production_per_volume)


def added_volume_cv(threshold, mean_burst_size=0.0) -> float:
    """Coefficient of variation of the volume added from a count of 0 to ``threshold``.

    With ``K`` non-empty bursts to the crossing (mean ``1 + (N-1)/(1+b)``, variance
    ``(N-1) b/(1+b)^2``) each after an exponential volume, the variance is
    ``((1+b)^2 + (N-1)(1+2b)) / production^2``; so the CV is
    ``sqrt((1+b)^2 + (N-1)(1+2b)) / (N+b)``, and ``1/sqrt(N)`` for Poisson (b = 0).
    It does not depend on the production rate.
    """
    n, b = float(threshold), float(mean_burst_size)
    return math.sqrt((1.0 + b) ** 2 + (n - 1.0) * (1.0 + 2.0 * b)) / (n + b)


# --- the step -----------------------------------------------------------------------------------

def _bursts(params: CellCycleParams, key, start_volume, added, protein, trigger):
    """Make the protein of a volume ``added`` per cell, burst by burst; return the new arrays.

    ``(key, protein, trigger_volume)``. Each pass draws, for every cell that still has
    volume left in the step, the volume to its next non-empty burst; cells whose
    next burst falls beyond the step are done (memoryless, so the next step draws
    afresh). The loop ends when no cell has a burst left.
    """
    dtype = start_volume.dtype
    burst_rate = params.production_per_volume / (1.0 + params.mean_burst_size)
    # a burst continues with this probability after each molecule: sizes 1 + Geometric{0,...}
    continue_p = params.mean_burst_size / (1.0 + params.mean_burst_size)
    log_continue = jnp.log(continue_p)
    threshold = params.threshold

    def has_bursts(carry):
        return jnp.any(carry[4])

    def one_burst(carry):
        key, protein, trigger, used, active = carry
        key, k_gap, k_size = jax.random.split(key, 3)
        gap = jax.random.exponential(k_gap, used.shape, dtype=dtype) / burst_rate
        burst = active & (used + gap <= added)
        # 1 - U lies in (0, 1], so its log is finite; log(0) of a Poisson run gives size 1
        u = 1.0 - jax.random.uniform(k_size, used.shape, dtype=dtype)
        extra = jnp.where(continue_p > 0, jnp.floor(jnp.log(u) / log_continue), 0.0)
        size = jnp.where(burst, 1.0 + extra, 0.0)
        used = jnp.where(burst, used + gap, used)
        new_protein = protein + size
        crossed = burst & (protein < threshold) & (new_protein >= threshold)
        trigger = jnp.where(crossed, start_volume + used, trigger)
        return key, new_protein, trigger, used, burst

    active = added > 0
    carry = (key, protein, trigger, jnp.zeros_like(added), active)
    key, protein, trigger, _, _ = jax.lax.while_loop(has_bursts, one_burst, carry)
    return key, protein, trigger


def _one_step(params: CellCycleParams, growth_rate, alive, dt, state: CellCycleState):
    volume = state.volume
    live_growth = jnp.where(alive, growth_rate, 0.0)
    grown = volume * jnp.exp(live_growth * dt)
    sane = jnp.isfinite(grown) & jnp.isfinite(live_growth)
    # production follows added volume only; a shrinking or broken cell makes none
    added = jnp.where(alive & sane, jnp.maximum(grown - volume, 0.0), 0.0)
    key, protein, trigger = _bursts(params, state.key, volume, added, state.protein,
                                    state.trigger_volume)
    new_volume = jnp.where(alive, grown, volume)
    reached = alive & (protein >= params.threshold)
    divide = jnp.where(reached, jnp.ones_like(state.divide), state.divide)
    error = (state.error
             | ERRORS.flag("nonfinite", jnp.any(alive & ~sane))
             | ERRORS.flag("nonpositive_volume", jnp.any(alive & (volume <= 0))))
    return CellCycleState(volume=new_volume, protein=protein, divide=divide,
                          trigger_volume=trigger, key=key, error=error)


@functools.partial(jax.jit, static_argnames=("n_steps",))
def advance(params: CellCycleParams, state: CellCycleState, growth_rate, alive, dt, *,
            n_steps: int = 1) -> CellCycleState:
    """``n_steps`` steps of ``dt`` minutes at a constant per-cell ``growth_rate`` (1/min).

    ``alive`` is a boolean (or 0/1) ``[n_cells]`` mask: the slots where it is false
    are returned unchanged. Growth over a step is exact, so one step of the whole
    process interval is as good as many (the growth rate is constant over it).
    """
    dtype = state.volume.dtype
    growth_rate = jnp.asarray(growth_rate, dtype=dtype)
    alive = jnp.asarray(alive)
    if alive.dtype != jnp.bool_:
        alive = alive > jnp.zeros((), alive.dtype)
    dt = jnp.asarray(dt, dtype=dtype)

    def body(current, _):
        return _one_step(params, growth_rate, alive, dt, current), None

    state, _ = jax.lax.scan(body, state, None, length=n_steps)
    return state


def make_cell_cycle(params: CellCycleParams):
    """Build ``(init_fn, step_fn)`` of the mechanistic adder.

    Returns
    -------
    init_fn(key, volume, protein=None, divide=None) -> CellCycleState
        ``key``: an int seed, a ``jax.random.key`` or raw key data; ``volume`` (fL),
        ``protein`` (molecules, default 0) and ``divide`` (0/1, default 0) are
        ``[n_cells]`` arrays.
    step_fn(state, growth_rate, alive, dt, n_steps=1) -> CellCycleState
        Advances ``n_steps`` (static: one compilation per value) of ``dt`` minutes.
    """
    dtype = params.dtype

    def init_fn(key, volume, protein=None, divide=None) -> CellCycleState:
        volume = jnp.asarray(volume, dtype=dtype)
        if volume.ndim != 1:
            raise ValueError(f"volume must be a [n_cells] array, got shape {volume.shape}")
        protein = jnp.zeros_like(volume) if protein is None else jnp.asarray(protein, dtype)
        divide = jnp.zeros_like(volume) if divide is None else jnp.asarray(divide, dtype)
        for name, value in (("protein", protein), ("divide", divide)):
            if value.shape != volume.shape:
                raise ValueError(f"{name} must have the shape of volume {volume.shape}, got "
                                 f"{value.shape}")
        return CellCycleState(volume=volume, protein=protein, divide=divide,
                              trigger_volume=jnp.zeros_like(volume), key=raw_key(key),
                              error=jnp.zeros((), jnp.int32))

    def step_fn(state: CellCycleState, growth_rate, alive, dt, n_steps: int = 1):
        # strong dtypes before jit: numpy, weakly typed and python inputs then share one
        # compilation per (cells, n_steps)
        growth_rate = jnp.asarray(growth_rate, dtype=dtype)
        alive = jnp.asarray(alive)
        if alive.dtype != jnp.bool_:
            alive = alive > jnp.zeros((), alive.dtype)
        return advance(params, state, growth_rate, alive, jnp.asarray(dt, dtype=dtype),
                       n_steps=int(n_steps))

    return init_fn, step_fn


def check_errors(state: CellCycleState) -> None:
    """Raise :class:`~greybox_processes.errors.SimulationError` if error bits are set (host)."""
    ERRORS.check(state.error)
