"""Pure JAX kernel of the stochastic lac operon: Yildirim-Mackey kinetics as molecule counts per cell.

Model
-----
The reactions are those of the Yildirim & Mackey (2003, Biophys J 84:2841) lac operon in
the delay-as-intermediate form of BioModels BIOMD0000000065 (:mod:`greybox_processes.metabolism.lac`
integrates the same model deterministically, in mM and minutes, and supplies every parameter
value here, read from the vendored SBML). Each cell holds molecule counts of the species
:data:`SPECIES` (the first five are the store contract; the last three are YM's delay
intermediates, molecules too: nascent transcripts and peptides). LacI is not a species in YM:
repression by LacI and its release by allolactose enter through YM's induction function of
the transcription rate (below), as in the SBML.

Unit conversion. A count ``n`` in a cell of volume ``V`` (fL) is the concentration
``c = n / Omega`` in mM with ``Omega = N_A V 1e-18`` (:func:`molecules_per_mM`, 602 214
molecules per mM in 1 fL). A YM rate ``r`` in mM/min becomes a propensity ``r Omega`` in
events/min: zero-order rates (``gamma_0``, ``alpha_M``) are multiplied by ``Omega``; rates
first order in a catalyst or reactant (``alpha_B M``, ``gamma_P P``, ``alpha_L P f``) become
the same constant times that molecule's count; the Hill and Michaelis-Menten factors are
evaluated on the concentrations ``n / Omega``. So, per cell (events/min; ``c_X = n_X/Omega``):

=========================  =====================  ================================================
reaction                   change                 propensity
=========================  =====================  ================================================
basal transcription        0 -> mrna              ``gamma_0 Omega``
regulated transcription    0 -> mrna_nascent      ``alpha_M Omega (1 + K_1 e^{-2 mu tau_M} c_A^n) / (K + K_1 e^{-2 mu tau_M} c_A^n)``
transcript completion      mrna_nascent -> mrna   ``n_I1 / tau_M``
mRNA decay                 mrna -> 0              ``gamma_M n_M``
LacZ translation           0 -> lacZ_nascent      ``alpha_B n_M``
LacZ maturation            lacZ_nascent -> lacZ   ``n_I2 / tau_B``
LacZ decay                 lacZ -> 0              ``gamma_B n_B``
LacY translation           0 -> lacY_nascent      ``alpha_P n_M``
LacY maturation            lacY_nascent -> lacY   ``n_I3 / (tau_B + tau_P)``
LacY decay                 lacY -> 0              ``gamma_P n_P``
lactose import (LacY)      0 -> lactose_in        ``alpha_L n_P L_e/(K_Le + L_e) K_G/(K_G + G)``
lactose efflux (LacY)      lactose_in -> 0        ``beta_L1 n_P c_L / (K_L1 + c_L)``
allolactose synthesis      lactose_in -> allo     ``alpha_A n_B c_L / (K_L + c_L)``
lactose decay              lactose_in -> 0        ``gamma_L n_L``
allolactose cleavage       allo -> 0              ``beta_A n_B c_A / (K_A + c_A)``
allolactose decay          allo -> 0              ``gamma_A n_A``
=========================  =====================  ================================================

``L_e`` and ``G`` are the medium's lactose and glucose (mM), ``K_G`` the K_m of glucose
uptake (inducer exclusion, as in lac.py); with ``iptg`` the induction factor is 1 (fully
induced reference).

**Regulation from outside.** The induction factor (YM's fraction of the maximal regulated
transcription, the share of time the operator is free of LacI) may instead be given per
cell (``regulation``, in ``[0, 1]``; :func:`advance`): the regulated transcription is then
``alpha_M regulation Omega`` and nothing else changes. ``regulation = 0`` leaves only the
model's leak, basal transcription ``gamma_0 Omega``; ``1`` is full induction, as with IPTG
(which overrides it). This is how a grey-box controller acts on the cell.

**Dilution is not a reaction.** YM's ``-mu X`` terms are the dilution of concentrations by
growth. Here counts stay as they are while another process grows the cell's volume, so
every concentration ``n / Omega`` falls as ``V`` grows, and at division the
:class:`~greybox_processes.framework.population.Division` step partitions every count
binomially (the ``lac`` port declares ``divide='binomial'``). The nascent species are
molecules and dilute the same way, so YM's ``exp(-mu tau)`` factors on the translation rates
(dilution during the delay, needed in the SBML because its intermediates are not diluted)
are not applied: an exponential delay of mean ``tau`` during which the intermediate dilutes
passes on ``1/(1 + mu tau)`` of it, which differs from ``exp(-mu tau)`` by < 0.2% at
``mu = 0.023/min``. The induction factor keeps YM's ``exp(-2 mu tau_M)`` on ``c_A^n`` (part
of their regulatory function), with ``mu`` the cell's growth rate. At ``mu = 0`` the mean
field of these reactions is exactly ``lac_rhs``.

Inputs held constant over a call. The medium (``G``, ``L_e``), the volume and the growth
rate are read once per process interval and held over it: the medium of a batch culture
changes on the scale of the culture's doubling (tens of minutes), the volume by
``mu dt`` (~2% per minute at ``mu = 0.023/min``), while an interval is ~1 minute.

Simulation: exact where it matters, leaped where it cannot be afforded
--------------------------------------------------------------------
Converted literally, YM's rates give an induced 1 fL cell ~1.4e3 mRNA, ~1e3 LacZ, ~2e4 LacY
and ~1e6 molecules each of lactose and allolactose, and ~1e7-1e8 reaction events per minute
(lactose import alone is ``alpha_L n_P`` = 2880/min per LacY). No exact SSA can follow that
for a population over hours. But in an *uninduced* cell, where the fate is decided, the gene
expression counts are ~1 mRNA, ~1 LacZ and ~17 LacY, with a visible fraction of cells at 0,
and their reactions fire a few times per minute. The kernel therefore steps in short steps
``h`` (``step``, minutes) and in each step, per cell and reaction:

* a reaction expected to fire at most ``leap_threshold`` times in the step (``a_j h <=
  threshold``, the *slow* set) is simulated **exactly**: Gillespie's direct method over the
  step with the slow reactions' propensities recomputed after every event (the same
  vectorised per-site SSA as the RDME kernel's reaction substep, :mod:`greybox_processes.rdme.ssa`,
  with its counter-based random words, :mod:`greybox_processes.rdme.rng`);
* the other (*fast*) reactions are **leaped** first (a Lie splitting, as the RDME kernel
  splits diffusion from reactions), with their per-molecule hazards frozen at the start of
  the step: for each species, the molecules present survive the fast consumers with
  probability ``exp(-kappa h)`` (binomial), molecules arriving during the step (Poisson for
  zero-order sources, or leaving an upstream species) survive with ``(1 - exp(-kappa h)) /
  (kappa h)`` (uniform arrival), and the losses are split multinomially between the
  consumers. This is the exact law of a linear immigration-death network with frozen rates,
  so counts stay whole and non-negative and the stationary means are right; its only error
  is the frozen Michaelis-Menten/Hill factors and catalyst counts over ``h``.

With ``leap_threshold = inf`` (``method='exact'`` in the process) nothing is leaped and the
kernel is the exact SSA of the continuous-time Markov chain over the whole interval (the
steps then only bound the work per loop; by the memorylessness of the exponential
waiting times, restarting the SSA at a step boundary is exact).

Why not the RDME kernel itself: its well-mixed limit (a 1-site lattice, no diffusion) is
the exact per-site SSA of :func:`greybox_processes.rdme.ssa.react_sites`, but its reactions
are mass action only, with rate constants compiled into a static (hashable) plan shared by
every replica. The lac operon needs Hill and Michaelis-Menten propensities and per-cell
constants (each cell's volume, growth rate and medium), and would need a leap for its fast
reactions. So this kernel reuses the RDME kernel's counter-based random stream and its
vectorised direct-method loop, with propensities computed per cell.

``make_lac_operon(kinetics) -> (init_fn, step_fn)``; the state is a frozen pytree
(:class:`LacState`) of per-cell counts, the raw random key and the error bits;
everything is jitted, vectorised over cells, and runs on any JAX device.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..jax_common import ErrorFlags, raw_key, register_pytree
from ..metabolism.lac import LacParameters
from ..metabolism.uptake import DEFAULT_KINETICS
from ..rdme.model import AVOGADRO
from ..rdme.rng import uniforms

__all__ = [
    "SPECIES", "REPORTED_SPECIES", "REACTIONS", "RATE_UNITS", "DEFAULT_K_GLUCOSE", "DEFAULT_STEP",
    "DEFAULT_LEAP_THRESHOLD", "DEFAULT_MAX_EVENTS", "ERRORS", "LacKinetics", "LacState",
    "molecules_per_mM", "check_rates", "model_induction", "propensities", "make_lac_operon",
    "advance", "check_errors", "concentrations_to_counts", "counts_to_concentrations",
]

#: Species of the ``cells/lac`` store, in order (molecule counts per cell). The first five are
#: the store contract read by other processes: lac mRNA (YM's M), beta-galactosidase LacZ
#: (B), permease LacY (P), allolactose (A) and intracellular lactose (L). The last three are
#: YM's delay intermediates (I1, I2, I3): transcripts and peptides still being made.
SPECIES = ("mrna", "lacZ", "lacY", "allolactose", "lactose_in",
           "mrna_nascent", "lacZ_nascent", "lacY_nascent")
#: The contract's species (the first five of :data:`SPECIES`).
REPORTED_SPECIES = SPECIES[:5]
_M, _B, _P, _A, _L, _I1, _I2, _I3 = range(len(SPECIES))

#: Reactions: ``(name, consumed species or None, produced species or None)``; every one
#: consumes at most one molecule and makes at most one (catalysts are in the propensity).
REACTIONS = (
    ("basal_transcription", None, "mrna"),
    ("transcription", None, "mrna_nascent"),
    ("mrna_completion", "mrna_nascent", "mrna"),
    ("mrna_decay", "mrna", None),
    ("lacZ_translation", None, "lacZ_nascent"),
    ("lacZ_maturation", "lacZ_nascent", "lacZ"),
    ("lacZ_decay", "lacZ", None),
    ("lacY_translation", None, "lacY_nascent"),
    ("lacY_maturation", "lacY_nascent", "lacY"),
    ("lacY_decay", "lacY", None),
    ("lactose_import", None, "lactose_in"),
    ("lactose_efflux", "lactose_in", None),
    ("allolactose_synthesis", "lactose_in", "allolactose"),
    ("lactose_decay", "lactose_in", None),
    ("allolactose_cleavage", "allolactose", None),
    ("allolactose_decay", "allolactose", None),
)
_CONSUMED = tuple(-1 if c is None else SPECIES.index(c) for _, c, _ in REACTIONS)
_PRODUCED = tuple(-1 if p is None else SPECIES.index(p) for _, _, p in REACTIONS)
#: (J, S) net change of each species when a reaction fires.
_CHANGE = np.zeros((len(REACTIONS), len(SPECIES)), np.int64)
for _j, (_c, _p) in enumerate(zip(_CONSUMED, _PRODUCED)):
    if _c >= 0:
        _CHANGE[_j, _c] -= 1
    if _p >= 0:
        _CHANGE[_j, _p] += 1
#: Species in an order where every species comes after those that feed it (for the leap).
_LEAP_ORDER = (_I1, _M, _I2, _I3, _B, _P, _L, _A)

#: Units of the YM parameters (the SBML's: mM and minutes). ``mu`` is not used: the growth
#: rate is each cell's own, read from the ``growth_rate`` store.
RATE_UNITS = {
    "gamma_M": "1/min", "gamma_B": "1/min", "gamma_A": "1/min", "gamma_L": "1/min",
    "gamma_P": "1/min", "gamma_0": "mM/min", "alpha_M": "mM/min", "K": "dimensionless",
    "K_1": "1/mM^2", "alpha_B": "1/min", "alpha_P": "1/min", "alpha_A": "1/min",
    "alpha_L": "1/min", "beta_A": "1/min", "beta_L1": "1/min", "K_A": "mM", "K_L": "mM",
    "K_L1": "mM", "K_Le": "mM", "tau_M": "min", "tau_B": "min", "tau_P": "min",
    "n": "dimensionless",
}
#: Parameters that must be strictly positive (they divide, or are saturation constants);
#: the others must be >= 0.
_POSITIVE = ("K", "K_A", "K_L", "K_L1", "K_Le", "tau_M", "tau_B", "tau_P", "n")

#: K_m of glucose uptake (mM) for inducer exclusion, the glucose uptake kinetics of uptake.py.
DEFAULT_K_GLUCOSE = DEFAULT_KINETICS["EX_glc__D_e"].km
#: Step of the split (minutes): short against the fastest frozen factor, the ~0.05 min
#: turnover of intracellular lactose in an induced cell.
DEFAULT_STEP = 0.02
#: Expected events per step above which a reaction is leaped, not simulated event by event.
DEFAULT_LEAP_THRESHOLD = 10.0
#: Exact events per cell and step beyond which the kernel stops and flags an error.
DEFAULT_MAX_EVENTS = 100_000

#: The error bits of :class:`LacState`.
ERRORS = ErrorFlags({
    "volume": (1, "a live cell with a volume that is not a positive finite number of fL "
                  "(check the process writing cells/volume)"),
    "inputs": (2, "a growth rate, glucose or lactose concentration that is negative or not "
                  "finite (growth_rate in 1/min, medium in mM)"),
    "propensity": (4, "a reaction propensity that is not finite (a lac rate is NaN or "
                      "infinite)"),
    "events": (8, "more than {max_events} exact reaction events in one cell and step: a lac "
                  "rate is probably in the wrong units (the YM model is in mM and minutes) or "
                  "too large; fix the rate, or use method='hybrid' or a shorter step"),
    "overflow": (16, "a molecule count beyond what the count type holds exactly (2**24 in "
                     "float32, 2**53 in float64); use float64 or smaller cells"),
    "negative": (32, "a count went negative (an internal error; please report it)"),
    "regulation": (64, "a regulation value (cells/regulation, the lac induction) that is not "
                       "finite; check the process writing it"),
}, template="LacOperon: {messages} (error bits {bits})")


def molecules_per_mM(volume_fL):
    """Molecules per mM in a volume of ``volume_fL`` fL: ``N_A * 1e-3 mol/L * V * 1e-15 L``."""
    return volume_fL * (AVOGADRO * 1e-18)


def counts_to_concentrations(counts, volume_fL) -> np.ndarray:
    """lac.py's state (order ``M, B, A, L, P, I1, I2, I3``, mM) from counts in :data:`SPECIES`
    order (``[..., len(SPECIES)]``) in cells of ``volume_fL`` fL (``[...]``); host side, numpy.

    The inverse of :func:`concentrations_to_counts` up to its rounding.
    """
    x = np.asarray(counts, dtype=np.float64)
    # SPECIES (M, B, P, A, L, I1, I2, I3) -> lac.py's order (M, B, A, L, P, I1, I2, I3)
    theirs = x[..., [_M, _B, _A, _L, _P, _I1, _I2, _I3]]
    omega = molecules_per_mM(np.asarray(volume_fL, dtype=np.float64))
    return theirs / np.expand_dims(omega, -1)


def concentrations_to_counts(concentrations_mM, volume_fL) -> np.ndarray:
    """Nearest whole counts of lac.py's state (order ``M, B, A, L, P, I1, I2, I3``, mM) in
    :data:`SPECIES` order, for cells of ``volume_fL`` fL (host side, numpy)."""
    y = np.asarray(concentrations_mM, dtype=np.float64)
    # lac.py's order (M, B, A, L, P, I1, I2, I3) -> SPECIES (M, B, P, A, L, I1, I2, I3)
    ours = y[..., [0, 1, 4, 2, 3, 5, 6, 7]]
    omega = molecules_per_mM(np.asarray(volume_fL, dtype=np.float64))
    return np.rint(np.maximum(ours, 0.0) * np.expand_dims(omega, -1))


# --------------------------------------------------------------------------- parameters


def check_rates(overrides: Mapping[str, float] | None = None,
                params: LacParameters | None = None) -> dict[str, float]:
    """The YM parameter values (SBML, with ``overrides``) used by the kernel, checked.

    Raises ``ValueError`` naming the parameter, its unit and the SBML value when an
    override names no parameter, or is not a finite number >= 0 (> 0 for saturation
    constants, delays and the Hill exponent).
    """
    params = LacParameters.from_sbml() if params is None else params
    values = {name: float(getattr(params, name)) for name in RATE_UNITS}
    for name, value in (overrides or {}).items():
        if name not in RATE_UNITS:
            close = difflib.get_close_matches(str(name), list(RATE_UNITS), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"lac rate {name!r} is not a Yildirim-Mackey parameter.{hint} "
                             f"The parameters are {sorted(RATE_UNITS)}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"lac rate {name!r} must be a number in {RATE_UNITS[name]}, got "
                             f"{value!r}") from None
        values[name] = value
    for name, value in values.items():
        positive = name in _POSITIVE
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            sbml = getattr(params, name)
            bound = "> 0" if positive else ">= 0"
            raise ValueError(
                f"lac rate {name} = {value!r} is invalid: it must be a finite number {bound} "
                f"in {RATE_UNITS[name]} (the Yildirim-Mackey model is in mM and minutes; the "
                f"SBML value is {sbml:g} {RATE_UNITS[name]}). Change `rates: {{{name}: ...}}`.")
    return values


@dataclasses.dataclass(frozen=True)
class LacKinetics:
    """The YM rate constants (SBML units: mM, min) as arrays, inducer exclusion and IPTG.

    Attributes: one scalar array per name in :data:`RATE_UNITS`, ``k_glucose`` (mM),
    and the static ``iptg`` (bool: the repressor fully released).
    """

    gamma_M: jax.Array
    gamma_B: jax.Array
    gamma_A: jax.Array
    gamma_L: jax.Array
    gamma_P: jax.Array
    gamma_0: jax.Array
    alpha_M: jax.Array
    K: jax.Array
    K_1: jax.Array
    alpha_B: jax.Array
    alpha_P: jax.Array
    alpha_A: jax.Array
    alpha_L: jax.Array
    beta_A: jax.Array
    beta_L1: jax.Array
    K_A: jax.Array
    K_L: jax.Array
    K_L1: jax.Array
    K_Le: jax.Array
    tau_M: jax.Array
    tau_B: jax.Array
    tau_P: jax.Array
    n: jax.Array
    k_glucose: jax.Array
    iptg: bool = False

    @classmethod
    def create(cls, rates: Mapping[str, float] | None = None, *,
               k_glucose: float = DEFAULT_K_GLUCOSE, iptg: bool = False,
               dtype=None) -> "LacKinetics":
        """From the vendored SBML (lac.py), with ``rates`` overriding some values (checked).

        ``dtype``: float64 (default when x64 is on) or float32.
        """
        values = check_rates(rates)
        if not (math.isfinite(k_glucose) and k_glucose > 0):
            raise ValueError(f"k_glucose (K_m of glucose uptake, mM) must be > 0, got "
                             f"{k_glucose!r}; the default is {DEFAULT_K_GLUCOSE} mM")
        dtype = jnp.zeros(()).dtype if dtype is None else jnp.dtype(dtype)
        arrays = {name: jnp.asarray(value, dtype) for name, value in values.items()}
        return cls(**arrays, k_glucose=jnp.asarray(k_glucose, dtype), iptg=bool(iptg))

    @property
    def dtype(self):
        return self.gamma_M.dtype


register_pytree(LacKinetics, static=("iptg",))


@dataclasses.dataclass(frozen=True)
class LacState:
    """Per-cell lac counts (a pytree).

    Attributes
    ----------
    counts : (n_cells, len(SPECIES)) molecule counts, int64 (float64 kernels) or int32
    key : raw PRNG key data (uint32[2]), advanced every call
    error : int32 bit mask (:data:`ERRORS`)
    """

    counts: jax.Array
    key: jax.Array
    error: jax.Array


register_pytree(LacState)


# --------------------------------------------------------------------------- propensities


def _induction(kin: LacKinetics, c_allo, mu):
    """YM's induction factor of transcription (dimensionless, in [1/K, 1]); 1 with IPTG."""
    if kin.iptg:
        return jnp.ones_like(c_allo)
    k1a = kin.K_1 * jnp.exp(-2.0 * mu * kin.tau_M) * c_allo ** kin.n
    return (1.0 + k1a) / (kin.K + k1a)


def model_induction(kin: LacKinetics, allolactose, volume_fL, growth_rate):
    """The model's lac induction per cell: YM's induction factor at ``allolactose`` molecules.

    The fraction of the maximal regulated transcription ``alpha_M`` (dimensionless, in
    ``[1/K, 1]``; 1 with IPTG) in cells of ``volume_fL`` fL growing at ``growth_rate``
    (1/min): the quantity a ``regulation`` input replaces (see :func:`propensities`).
    """
    return _induction(kin, allolactose / molecules_per_mM(volume_fL), growth_rate)


def propensities(kin: LacKinetics, x, omega, mu, uptake, induction=None):
    """(n_cells, J) propensities (events/min) of :data:`REACTIONS` at counts ``x`` (float).

    ``omega``: molecules per mM per cell (:func:`molecules_per_mM`); ``mu``: growth rate,
    1/min; ``uptake``: ``L_e/(K_Le + L_e) K_G/(K_G + G)`` per cell (dimensionless).
    ``induction``: ``None`` for the model's own regulation (YM's repression released by
    allolactose, :func:`model_induction`), or a per-cell fraction of ``alpha_M`` in
    ``[0, 1]`` read from outside (a regulation store) that replaces it. Basal transcription
    (``gamma_0``, the model's leak) is not regulated either way.
    """
    m, b, p, a, lac = x[:, _M], x[:, _B], x[:, _P], x[:, _A], x[:, _L]
    c_a, c_l = a / omega, lac / omega
    if induction is None:
        induction = _induction(kin, c_a, mu)
    columns = [
        kin.gamma_0 * omega,
        kin.alpha_M * induction * omega,
        x[:, _I1] / kin.tau_M,
        kin.gamma_M * m,
        kin.alpha_B * m,
        x[:, _I2] / kin.tau_B,
        kin.gamma_B * b,
        kin.alpha_P * m,
        x[:, _I3] / (kin.tau_B + kin.tau_P),
        kin.gamma_P * p,
        kin.alpha_L * p * uptake,
        kin.beta_L1 * p * c_l / (kin.K_L1 + c_l),
        kin.alpha_A * b * c_l / (kin.K_L + c_l),
        kin.gamma_L * lac,
        kin.beta_A * b * c_a / (kin.K_A + c_a),
        kin.gamma_A * a,
    ]
    return jnp.stack(columns, axis=1)


# --------------------------------------------------------------------------- the leap


#: Draws of the leap with a variance below this are exact (inversion, :data:`_INVERSION_TERMS`
#: CDF terms, > 8 standard deviations past a mean of at most 8); above it they are rounded
#: normals clipped to their range (the chemical Langevin level, for a leaped reaction).
_NORMAL_VARIANCE = 4.0
_INVERSION_TERMS = 24


def _invert(u, pmf0, ratio_at, limit):
    """Smallest ``k <= limit`` with ``CDF(k) >= u`` from ``pmf(k) = pmf(k-1) ratio_at(k)``.

    :data:`_INVERSION_TERMS` terms unrolled into straight-line code (fused by XLA).
    """
    k = jnp.zeros_like(u)
    pmf = cdf = pmf0
    for i in range(1, _INVERSION_TERMS + 1):
        go = (u > cdf) & (k < limit)
        k = k + go.astype(u.dtype)
        pmf = pmf * ratio_at(float(i))
        cdf = cdf + pmf
    return k


def _uniforms(rng, stream, shape, dtype):
    """Uniforms of ``shape`` (``[cells]`` or ``[cells, m]``) from ``rng = (seeds, cells)``.

    ``cells`` (uint32 ``[n]``) is each row's counter, the cell's slot in the population, so
    a cell draws the same words whichever other slots are advanced with it (a gathered
    batch of live cells draws what the full array would); element ``(i, k)`` of a 2-d
    shape uses counter ``cells[i] * m + k``, the row-major position in the full array.
    """
    seeds, cells = rng
    index = cells if len(shape) == 1 else \
        cells[:, None] * np.uint32(shape[1]) + lax.iota(jnp.uint32, shape[1])[None, :]
    return uniforms(shape, seeds, stream, dtype, index=index)


def _normal(rng, stream, shape, dtype):
    """Standard normals (Box-Muller) from the counter-based words of two streams."""
    u1 = _uniforms(rng, stream, shape, dtype)
    u2 = _uniforms(rng, stream + 1, shape, dtype)
    return jnp.sqrt(-2.0 * jnp.log(u1)) * jnp.cos((2.0 * math.pi) * u2)


def _binomial(rng, stream, n, p):
    """Bin(n, p) per element (float counts; p clipped to [0, 1]); see :data:`_NORMAL_VARIANCE`.

    Uses the streams ``stream .. stream + 2`` of the step's counter-based words.
    """
    p = jnp.clip(p, 0.0, 1.0)
    flip = p > 0.5
    q = jnp.where(flip, 1.0 - p, p)
    mean = n * q
    var = mean * (1.0 - q)
    normal = jnp.clip(jnp.round(mean + jnp.sqrt(var) * _normal(rng, stream, n.shape, n.dtype)),
                      0.0, n)
    small = var < _NORMAL_VARIANCE
    n_small = jnp.where(small, n, 0.0)
    ratio = q / (1.0 - q)                     # q <= 1/2
    pmf0 = jnp.exp(n_small * jnp.log1p(-q))
    exact = _invert(_uniforms(rng, stream + 2, n.shape, n.dtype), pmf0,
                    lambda i: ratio * (n_small - (i - 1.0)) / i, n_small)
    k = jnp.where(small, exact, normal)
    return jnp.where(flip, n - k, k)


def _poisson(rng, stream, lam):
    """Poisson(lam) per element (float); see :data:`_NORMAL_VARIANCE` (streams as _binomial)."""
    normal = jnp.maximum(jnp.round(lam + jnp.sqrt(lam) * _normal(rng, stream, lam.shape,
                                                                lam.dtype)), 0.0)
    small = lam < _NORMAL_VARIANCE
    lam_small = jnp.where(small, lam, 0.0)
    exact = _invert(_uniforms(rng, stream + 2, lam.shape, lam.dtype),
                    jnp.exp(-lam_small), lambda i: lam_small / i, jnp.full_like(lam, jnp.inf))
    return jnp.where(small, exact, normal)


def _survive_arrivals(z):
    """``(1 - exp(-z)) / z``: survival of a molecule arriving uniformly in a step (z = kappa h)."""
    safe = jnp.where(z > 1e-6, z, 1.0)
    return jnp.where(z > 1e-6, -jnp.expm1(-safe) / safe, 1.0 - 0.5 * z)


def _consumer_table(species):
    """(k, width) indices of the reactions consuming each of ``species`` (-1: padding)."""
    rows = [[j for j, c in enumerate(_CONSUMED) if c == s] for s in species]
    width = max(len(r) for r in rows)
    return np.array([r + [-1] * (width - len(r)) for r in rows], np.int64)


#: Species leaped together: each level is fed only by zero-order sources or by the level before.
_LEVELS = ((_I1, _I2, _I3, _L), (_M, _B, _P, _A))
_LEVEL_CONSUMERS = tuple(_consumer_table(level) for level in _LEVELS)
_SOURCES = tuple(j for j, c in enumerate(_CONSUMED) if c < 0)


def _leap(rng, x, a, fast, h):
    """Leap the ``fast`` reactions over ``h`` minutes with frozen per-molecule hazards.

    Per species (a level at a time, upstream first): molecules present survive the fast
    consumers with ``exp(-kappa h)``; arrivals (Poisson for zero-order sources, or
    molecules leaving the level before by a fast reaction) survive with ``(1 - exp(-kappa
    h))/(kappa h)``; losses are split among the consumers by their hazards. The draws of a
    level are batched into one call per kind. Returns the new counts (float).
    """
    streams = iter(range(0, 3 * (1 + 4 * len(_LEVELS)), 3))   # 3 streams per draw site
    a_fast = jnp.where(fast, a, 0.0)
    fired = jnp.zeros_like(a)          # events of each reaction in the step (n, J)
    sources = np.array(_SOURCES)
    fired = fired.at[:, sources].set(
        _poisson(rng, next(streams), a_fast[:, sources] * h))
    produced = jnp.asarray(_CHANGE.clip(min=0), x.dtype)     # (J, S) molecules made
    new = x
    for level, table in zip(_LEVELS, _LEVEL_CONSUMERS):
        level = np.array(level)
        count = x[:, level]                                   # (n, k)
        arrivals = (fired @ produced)[:, level]
        valid = jnp.asarray(table >= 0)
        hazard = jnp.where(valid, a_fast[:, np.maximum(table, 0)], 0.0) \
            / jnp.maximum(count, 1.0)[:, :, None]             # (n, k, width) per molecule
        kappa = jnp.sum(hazard, axis=2)
        z = kappa * h
        kept = _binomial(rng, next(streams), jnp.concatenate([count, arrivals], axis=1),
                         jnp.concatenate([jnp.exp(-z), _survive_arrivals(z)], axis=1))
        kept_old, kept_new = kept[:, :len(level)], kept[:, len(level):]
        left = (count - kept_old) + (arrivals - kept_new)
        hazard_left = kappa
        for rank in range(table.shape[1]):
            if rank == table.shape[1] - 1:
                drawn = left
            else:
                share = jnp.where(hazard_left > 0, hazard[:, :, rank]
                                  / jnp.where(hazard_left > 0, hazard_left, 1.0), 0.0)
                drawn = _binomial(rng, next(streams), left, share)
            drawn = jnp.where(valid[:, rank], drawn, 0.0)
            columns = np.maximum(table[:, rank], 0)
            rows = np.flatnonzero(table[:, rank] >= 0)
            fired = fired.at[:, columns[rows]].set(drawn[:, rows])
            left = left - drawn
            hazard_left = hazard_left - hazard[:, :, rank]
        new = new.at[:, level].set(kept_old + kept_new)
    return new


# --------------------------------------------------------------------------- the exact SSA


def _choose(a, target):
    """Index of the reaction whose cumulative-propensity bin holds ``target`` (per cell).

    Never a reaction of zero propensity, even when rounding puts ``target`` at the top.
    """
    n_j = a.shape[1]
    cumulative = jnp.cumsum(a, axis=1)
    hit = (cumulative > target[:, None]) & (a > 0)
    positive = a > 0
    last_positive = n_j - 1 - jnp.argmax(positive[:, ::-1], axis=1)
    return jnp.where(jnp.any(hit, axis=1), jnp.argmax(hit, axis=1), last_positive)


def _ssa(kin, x, slow, omega, mu, uptake, induction, alive, h, rng, max_events):
    """Gillespie's direct method for the ``slow`` reactions over ``h`` minutes, all cells at once.

    Each pass draws one waiting time and one choice per cell still active (the
    counter-based words of the RDME kernel, one counter per cell); a cell whose next
    event falls beyond the step is done (memoryless). Returns ``(x, hit_cap)``.
    """
    change = jnp.asarray(_CHANGE, x.dtype)
    fdt = omega.dtype
    n = x.shape[0]

    def body(carry):
        x, t, active, it = carry
        a = jnp.where(slow, propensities(kin, x, omega, mu, uptake, induction), 0.0)
        a0 = jnp.sum(a, axis=1)
        stream = (2 * it).astype(jnp.uint32)
        u1 = _uniforms(rng, stream, (n,), fdt)
        u2 = _uniforms(rng, stream + np.uint32(1), (n,), fdt)
        pos = a0 > 0
        wait = jnp.where(pos, -jnp.log(u1) / jnp.where(pos, a0, 1.0), jnp.inf)
        fire = active & pos & (t + wait < h)
        chosen = _choose(a, u2 * a0)
        x = x + jnp.where(fire[:, None], change[chosen], 0.0)
        return x, t + wait, fire, it + 1

    def going(carry):
        return jnp.any(carry[2]) & (carry[3] < max_events)

    init = (x, jnp.zeros((n,), fdt), alive, jnp.zeros((), jnp.int32))
    x, _, active, _ = lax.while_loop(going, body, init)
    return x, jnp.any(active)


# --------------------------------------------------------------------------- the step


@functools.partial(jax.jit, static_argnames=("max_events",))
def advance(kin: LacKinetics, state: LacState, volume, growth_rate, alive, glucose, lactose,
            dt, step, leap_threshold, regulation=None, cells=None, *,
            max_events: int = DEFAULT_MAX_EVENTS) -> LacState:
    """Advance every cell by ``dt`` minutes at constant inputs.

    ``volume`` (fL), ``growth_rate`` (1/min), ``alive`` (bool): ``[n_cells]``;
    ``glucose``, ``lactose`` (mM, the medium): scalars or ``[n_cells]``; ``regulation``:
    ``None`` (the model's own lac regulation) or ``[n_cells]``, the lac induction read from
    outside (fraction of ``alpha_M``, clipped to ``[0, 1]``; ignored with IPTG, which
    releases the repressor fully). ``dt`` is cut
    into ``ceil(dt/step)`` equal steps; in each, reactions expected to fire more than
    ``leap_threshold`` times are leaped, the others simulated exactly (``inf``: all exact).
    Free slots (``alive`` false) are returned unchanged. ``cells`` (uint32 ``[n_cells]``,
    default ``0 .. n_cells-1``): each row's counter in the random stream, its slot in the
    population when the rows are a gathered subset of the slots (rows of the same call need
    distinct counters), so that a cell's draws do not depend on which other rows come along.
    """
    fdt = kin.dtype
    x0 = state.counts.astype(fdt)
    n = x0.shape[0]
    cells = lax.iota(jnp.uint32, n) if cells is None else jnp.asarray(cells, jnp.uint32)
    sane_volume = jnp.isfinite(volume) & (volume > 0)
    omega = molecules_per_mM(jnp.where(alive & sane_volume, volume, 1.0))
    glucose = jnp.broadcast_to(glucose, (n,))
    lactose = jnp.broadcast_to(lactose, (n,))
    inputs_ok = (jnp.isfinite(growth_rate) & (growth_rate >= 0) & jnp.isfinite(glucose)
                 & (glucose >= 0) & jnp.isfinite(lactose) & (lactose >= 0))
    live = alive & sane_volume & inputs_ok
    mu = jnp.where(live, growth_rate, 0.0)
    glucose = jnp.where(live, glucose, 0.0)
    lactose = jnp.where(live, lactose, 0.0)
    uptake = lactose / (kin.K_Le + lactose) * kin.k_glucose / (kin.k_glucose + glucose)
    induction, regulation_ok = None, jnp.ones((n,), bool)
    if regulation is not None:
        regulation = jnp.broadcast_to(regulation, (n,))
        regulation_ok = jnp.isfinite(regulation)
        live = live & regulation_ok
        induction = jnp.ones((n,), fdt) if kin.iptg else \
            jnp.clip(jnp.where(regulation_ok, regulation, 0.0), 0.0, 1.0)
    n_steps = jnp.maximum(jnp.ceil(dt / step), 1.0)
    h = dt / n_steps

    def one_step(_, carry):
        x, key, error = carry
        key, k_seeds = jax.random.split(key)
        # four words: the leap's and the SSA's counter-based streams
        seeds = jax.random.bits(k_seeds, (4,), jnp.uint32)
        a = jnp.where(live[:, None], propensities(kin, x, omega, mu, uptake, induction), 0.0)
        error = error | ERRORS.flag("propensity", ~jnp.all(jnp.isfinite(a)))
        fast = a * h > leap_threshold
        x = lax.cond(jnp.any(fast), lambda x: _leap((seeds[:2], cells), x, a, fast, h),
                     lambda x: x, x)
        x, capped = _ssa(kin, x, ~fast & live[:, None], omega, mu, uptake, induction, live, h,
                         (seeds[2:], cells), max_events)
        error = error | ERRORS.flag("events", capped)
        return x, key, error

    key = jax.random.wrap_key_data(state.key)
    x, key, error = lax.fori_loop(0, n_steps.astype(jnp.int32), one_step, (x0, key, state.error))
    exact_limit = 2.0 ** (jnp.finfo(fdt).nmant + 1)
    error = (error
             | ERRORS.flag("volume", jnp.any(alive & ~sane_volume))
             | ERRORS.flag("inputs", jnp.any(alive & sane_volume & ~inputs_ok))
             | ERRORS.flag("regulation", jnp.any(alive & ~regulation_ok))
             | ERRORS.flag("overflow", jnp.any(x >= exact_limit))
             | ERRORS.flag("negative", jnp.any(x < 0)))
    x = jnp.where(live[:, None], x, x0)
    return LacState(counts=x.astype(state.counts.dtype), key=jax.random.key_data(key),
                    error=error)


def _count_dtype(fdt):
    return jnp.int64 if jnp.dtype(fdt) == jnp.float64 else jnp.int32


def make_lac_operon(kin: LacKinetics, *, step: float = DEFAULT_STEP,
                    leap_threshold: float = DEFAULT_LEAP_THRESHOLD,
                    max_events: int = DEFAULT_MAX_EVENTS):
    """Build ``(init_fn, step_fn)`` of the stochastic lac operon.

    Parameters
    ----------
    kin : LacKinetics (its dtype is the kernel's float type)
    step : split step, minutes (> 0)
    leap_threshold : expected events per step above which a reaction is leaped
        (``math.inf``: exact SSA throughout)
    max_events : exact events per cell and step before the kernel gives up (error bit)

    Returns
    -------
    init_fn(key, counts) -> LacState
        ``key``: int seed, ``jax.random.key`` or raw key data; ``counts``:
        ``[n_cells, len(SPECIES)]`` (or only the first five species; the rest start at 0)
        whole non-negative numbers.
    step_fn(state, volume, growth_rate, alive, glucose, lactose, dt, regulation=None, cells=None) -> LacState
        one call per process interval (``dt`` minutes, inputs held constant over it);
        ``regulation`` (``[n_cells]``, fraction of ``alpha_M``) replaces the model's
        induction of transcription when given; ``cells`` (``[n_cells]`` distinct whole
        numbers) are the rows' counters in the random stream, their slots when the rows
        are a gathered subset of a population (see :func:`advance`).
    """
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step (minutes) must be a positive number, got {step!r}")
    if not leap_threshold > 0:
        raise ValueError(f"leap_threshold (expected events per step) must be > 0, got "
                         f"{leap_threshold!r}; use math.inf for the exact SSA")
    if int(max_events) < 1:
        raise ValueError(f"max_events must be >= 1, got {max_events!r}")
    fdt = kin.dtype
    cdt = _count_dtype(fdt)

    def init_fn(key, counts) -> LacState:
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[1] not in (len(REPORTED_SPECIES), len(SPECIES)):
            raise ValueError(f"counts must be [n_cells, {len(SPECIES)}] (species {SPECIES}) "
                             f"or [n_cells, {len(REPORTED_SPECIES)}], got shape {counts.shape}")
        if not (np.all(np.isfinite(counts)) and np.all(counts >= 0)
                and np.all(counts == np.floor(counts))):
            raise ValueError("lac counts must be whole non-negative numbers of molecules")
        if counts.shape[1] < len(SPECIES):
            pad = np.zeros((counts.shape[0], len(SPECIES) - counts.shape[1]))
            counts = np.concatenate([counts, pad], axis=1)
        return LacState(counts=jnp.asarray(counts, cdt), key=raw_key(key),
                        error=jnp.zeros((), jnp.int32))

    def step_fn(state: LacState, volume, growth_rate, alive, glucose, lactose, dt,
                regulation=None, cells=None) -> LacState:
        # strong dtypes before jit: one compilation per (cells, dtype, regulation or not)
        alive = jnp.asarray(alive)
        if alive.dtype != jnp.bool_:
            alive = alive > jnp.zeros((), alive.dtype)
        if regulation is not None:
            regulation = jnp.asarray(regulation, fdt)
        return advance(kin, state, jnp.asarray(volume, fdt), jnp.asarray(growth_rate, fdt),
                       alive, jnp.asarray(glucose, fdt), jnp.asarray(lactose, fdt),
                       jnp.asarray(dt, fdt), jnp.asarray(step, fdt),
                       jnp.asarray(leap_threshold, fdt), regulation,
                       None if cells is None else jnp.asarray(cells, jnp.uint32),
                       max_events=int(max_events))

    return init_fn, step_fn


def check_errors(state: LacState, max_events: int = DEFAULT_MAX_EVENTS) -> None:
    """Raise :class:`~greybox_processes.errors.SimulationError` if error bits are set (host)."""
    ERRORS.check(state.error, max_events=max_events)
