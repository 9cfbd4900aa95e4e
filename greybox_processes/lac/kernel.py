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
(which overrides it). This is how a grey-box controller acts on the cell. (With the
single-molecule leak below, ``regulation`` takes the place of ``f`` there.)

**The repressed operator's leak** (``leak``). ``'ym'`` (default): YM's mean field, basal
transcription ``gamma_0 Omega`` plus the regulated transcription at the repressed induction
``1/K``: together ~0.52 transcripts/min per fL, so a cell without LacY makes some within
minutes. ``'single_molecule'``: the leak measured one molecule at a time. Yu, Xiao, Ren, Lao
& Xie 2006 (Science 311:1600) watched the repressed chromosomal lac promoter make protein
in bursts, **about 1.2 bursts per cell cycle of 55 min, each from typically one mRNA**
(:data:`LEAK_BURSTS_PER_CYCLE`, :data:`LEAK_CELL_CYCLE_MIN`; numbers as presented in MIT
OCW 8.591J, Fall 2014, lecture on that paper; the primary text could not be consulted), and
Choi, Cai, Frieda & Xie 2008 (Science 322:442, Fig. 4) explain them: partial dissociation of
the looped LacI tetramer is followed by fast rebinding, so such an event makes no more than
one transcript. So here the repressed operator makes single transcripts at
``leak_rate`` = 1.2/55 = 0.022 per minute **per cell** (a property of the operator, not of
the volume; :data:`DEFAULT_LEAK_RATE`), replacing ``gamma_0 Omega``, and the regulated
transcription counts only what allolactose releases beyond the repressed state:
``alpha_M Omega (f - 1/K)/(1 - 1/K)`` with ``f`` YM's induction factor (or the
``regulation`` input, or 1 with IPTG). What changes: the repressed cell makes ~0.022 instead
of ~0.52 transcripts/min per fL (a 1.5 fL cell: ~36x fewer); at full induction the
transcription is ``alpha_M Omega + leak_rate`` instead of ``(alpha_M + gamma_0) Omega``
(-0.07% in 1 fL), so the induced mean field is YM's; in between, the transcription is lower
by ``alpha_M Omega (1 - f)/(K - 1)``, at most 1/K of ``alpha_M Omega``. No state is added,
so division is unchanged (the counts divide binomially). A cross-check, not used: Cai,
Friedman & Xie 2006 (Nature 440:358, Fig. 3b) fit the beta-galactosidase of repressed cells
with 0.16 bursts per cell cycle of 7.8 molecules (``leak_rate`` may be set to another value).

**LacY turnover** (``lacy_turnover``). ``'ym'`` (default): YM's decay ``gamma_P`` = 0.65/min.
``'dilution'``: LacY is not degraded (``gamma_P`` = 0; its count falls only by division) and
each mRNA makes LacY at ``alpha_P mu_YM/(gamma_P + mu_YM)``, ``mu_YM`` = 0.0226/min the
SBML's growth rate, so that YM's induced LacY steady state ``alpha_P M/(gamma_P + mu)`` at
``mu_YM`` is unchanged (it scales as ``mu_YM/mu`` at other growth rates). That LacY is a
stable membrane protein diluted by growth is the reading of Choi et al. 2008; no measured
in-vivo LacY half-life was found to confirm it (an assumption, stated as such).

**Count scales** (``counts``, :mod:`.scales`). ``'ym'`` (default): one molecule is one YM
molecule, ``n = c Omega``, as above. ``'single_molecule'``: mRNA, LacZ and LacY (and their
nascent forms) each have their own molecules-per-YM-unit ``s_X`` from measured copy numbers
(LacZ per induced cell, LacZ and LacY per transcript), ``n_X = s_X c_X Omega``; every rate
reads ``c_X = n_X/(s_X Omega)`` and a reaction making X fires in X's units (transcription
``x s_M``, translation ``x s_B/s_M`` or ``s_P/s_M``, import, efflux, allolactose synthesis
and cleavage per enzyme ``/ s_P`` or ``/ s_B``), so the mean field in concentrations is
YM's and only the noise changes. The single-molecule leak stays in transcripts per cell.

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
  (kappa h)`` (uniform arrival), and of the losses, those taken by a consumer that makes
  another species are drawn binomially by the consumers' hazards (the multinomial split's
  marginals; what only leaves needs no draw). This is the exact law of a linear immigration-death network with frozen rates,
  so counts stay whole and non-negative and the stationary means are right; its only error
  is the frozen Michaelis-Menten/Hill factors and catalyst counts over ``h``.

While no reaction of a cell would be leaped at a step boundary (every ``a_j h <= threshold``,
as in a repressed cell), the steps change nothing: the SSA runs on over the boundary (inputs
are constant over the call, so the propensities are, and by the memorylessness of the
waiting times this is the same law), and the cell joins the stepped scheme only from the
first boundary at which a reaction would be leaped. So repressed cells cost their events,
not ``dt/h`` steps.

With ``leap_threshold = inf`` (``method='exact'`` in the process) nothing is leaped and the
kernel is the exact SSA of the continuous-time Markov chain over the whole interval, in one
loop. The loops carry on with the busiest cells gathered into fewer rows once most cells
are done (:mod:`.ssa`), and each binomial or Poisson draw of the leap uses one uniform
(:mod:`.sampling`); neither changes a law.

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
from .network import I1, I2, I3, REACTIONS, REPORTED_SPECIES, SPECIES, A, B, L, M, P
from .sampling import leap
from .scales import COUNTS, check_scales, single_molecule_scales, species_scale_vector
from .ssa import ssa_step, ssa_while_all_slow

__all__ = [
    "SPECIES", "REPORTED_SPECIES", "REACTIONS", "RATE_UNITS", "DEFAULT_K_GLUCOSE", "DEFAULT_STEP",
    "DEFAULT_LEAP_THRESHOLD", "DEFAULT_MAX_EVENTS", "LEAKS", "LACY_TURNOVERS",
    "LEAK_BURSTS_PER_CYCLE", "LEAK_CELL_CYCLE_MIN", "DEFAULT_LEAK_RATE", "ERRORS", "COUNTS",
    "LacKinetics", "LacState", "molecules_per_mM", "check_rates", "model_induction",
    "propensities", "make_lac_operon", "advance", "check_errors", "concentrations_to_counts",
    "counts_to_concentrations",
]

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

#: The repressed operator's leak: YM's mean field, or single transcripts as measured.
LEAKS = ("ym", "single_molecule")
#: LacY removal: YM's decay, or none (diluted by growth and division only).
LACY_TURNOVERS = ("ym", "dilution")
#: Bursts of expression per cell cycle from the repressed chromosomal lac promoter, each from
#: typically one mRNA (Yu, Xiao, Ren, Lao & Xie 2006, Science 311:1600; as presented in MIT
#: OCW 8.591J, Fall 2014).
LEAK_BURSTS_PER_CYCLE = 1.2
#: The cell cycle of those measurements, minutes (same source).
LEAK_CELL_CYCLE_MIN = 55.0
#: Transcripts per minute per cell from the repressed operator in the ``single_molecule`` leak.
DEFAULT_LEAK_RATE = LEAK_BURSTS_PER_CYCLE / LEAK_CELL_CYCLE_MIN

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


def counts_to_concentrations(counts, volume_fL, scales=None) -> np.ndarray:
    """lac.py's state (order ``M, B, A, L, P, I1, I2, I3``, mM) from counts in :data:`SPECIES`
    order (``[..., len(SPECIES)]``) in cells of ``volume_fL`` fL (``[...]``); host side, numpy.

    ``scales``: molecules per YM molecule of each species in :data:`SPECIES` order
    (:meth:`LacKinetics.species_scales`; default all 1, ``counts: ym``). The inverse of
    :func:`concentrations_to_counts` up to its rounding.
    """
    x = np.asarray(counts, dtype=np.float64)
    if scales is not None:
        x = x / np.asarray(scales, dtype=np.float64)
    # SPECIES (M, B, P, A, L, I1, I2, I3) -> lac.py's order (M, B, A, L, P, I1, I2, I3)
    theirs = x[..., [M, B, A, L, P, I1, I2, I3]]
    omega = molecules_per_mM(np.asarray(volume_fL, dtype=np.float64))
    return theirs / np.expand_dims(omega, -1)


def concentrations_to_counts(concentrations_mM, volume_fL, scales=None) -> np.ndarray:
    """Nearest whole counts of lac.py's state (order ``M, B, A, L, P, I1, I2, I3``, mM) in
    :data:`SPECIES` order, for cells of ``volume_fL`` fL (host side, numpy); ``scales`` as in
    :func:`counts_to_concentrations`."""
    y = np.asarray(concentrations_mM, dtype=np.float64)
    # lac.py's order (M, B, A, L, P, I1, I2, I3) -> SPECIES (M, B, P, A, L, I1, I2, I3)
    ours = y[..., [0, 1, 4, 2, 3, 5, 6, 7]]
    if scales is not None:
        ours = ours * np.asarray(scales, dtype=np.float64)
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


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class LacKinetics:
    """The YM rate constants (SBML units: mM, min) as arrays, inducer exclusion, IPTG, the leak.

    Attributes: one scalar array per name in :data:`RATE_UNITS` (in ``lacy_turnover =
    'dilution'``, ``gamma_P`` is 0 and ``alpha_P`` the rescaled value), ``k_glucose`` (mM),
    ``leak_rate`` (transcripts/min per cell, used with ``leak = 'single_molecule'``), and the
    static ``iptg`` (bool: the repressor fully released), ``leak`` (:data:`LEAKS`),
    ``lacy_turnover`` (:data:`LACY_TURNOVERS`) and ``counts`` (:data:`COUNTS`);
    ``scale_mrna``, ``scale_lacZ``, ``scale_lacY``: molecules per YM molecule (:mod:`.scales`).
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
    leak_rate: jax.Array
    scale_mrna: jax.Array
    scale_lacZ: jax.Array
    scale_lacY: jax.Array
    iptg: bool = False
    leak: str = "ym"
    lacy_turnover: str = "ym"
    counts: str = "ym"

    @classmethod
    def create(cls, rates: Mapping[str, float] | None = None, *,
               k_glucose: float = DEFAULT_K_GLUCOSE, iptg: bool = False, leak: str = "ym",
               leak_rate: float = DEFAULT_LEAK_RATE, lacy_turnover: str = "ym",
               counts: str = "ym", scales: Mapping[str, float] | None = None,
               dtype=None) -> "LacKinetics":
        """From the vendored SBML (lac.py), with ``rates`` overriding some values (checked).

        ``leak`` and ``lacy_turnover``: see the module docstring (``'ym'``: the model as
        published). ``leak_rate``: transcripts/min per cell of the repressed operator in the
        ``single_molecule`` leak. ``counts``: the molecules per YM molecule of mRNA, LacZ and
        LacY (:mod:`.scales`: ``'ym'`` all 1, ``'single_molecule'`` from measured copy
        numbers); ``scales`` (``{mrna, lacZ, lacY}: number``) overrides some of them.
        ``dtype``: float64 (default when x64 is on) or float32.
        """
        values = check_rates(rates)
        _choice("leak", leak, LEAKS)
        _choice("lacy_turnover", lacy_turnover, LACY_TURNOVERS)
        _choice("counts", counts, COUNTS)
        explicit = check_scales(scales)
        if not (math.isfinite(k_glucose) and k_glucose > 0):
            raise ValueError(f"k_glucose (K_m of glucose uptake, mM) must be > 0, got "
                             f"{k_glucose!r}; the default is {DEFAULT_K_GLUCOSE} mM")
        if not (isinstance(leak_rate, (int, float)) and math.isfinite(leak_rate)
                and leak_rate >= 0):
            raise ValueError(f"leak_rate (transcripts per minute per cell) must be a number "
                             f">= 0, got {leak_rate!r}; the default is {DEFAULT_LEAK_RATE:.4g} "
                             f"(Yu et al. 2006: 1.2 bursts per 55 min cell cycle)")
        if lacy_turnover == "dilution":
            # keep YM's induced LacY steady state alpha_P M/(gamma_P + mu) at YM's own mu
            mu_ym = LacParameters.from_sbml().mu
            values["alpha_P"] *= mu_ym / (values["gamma_P"] + mu_ym)
            values["gamma_P"] = 0.0
        species_scales = {"mrna": 1.0, "lacZ": 1.0, "lacY": 1.0}
        if counts == "single_molecule":
            species_scales = single_molecule_scales(values)
        species_scales.update(explicit)
        dtype = jnp.zeros(()).dtype if dtype is None else jnp.dtype(dtype)
        arrays = {name: jnp.asarray(value, dtype) for name, value in values.items()}
        return cls(**arrays, k_glucose=jnp.asarray(k_glucose, dtype),
                   leak_rate=jnp.asarray(leak_rate, dtype),
                   scale_mrna=jnp.asarray(species_scales["mrna"], dtype),
                   scale_lacZ=jnp.asarray(species_scales["lacZ"], dtype),
                   scale_lacY=jnp.asarray(species_scales["lacY"], dtype),
                   iptg=bool(iptg), leak=leak, lacy_turnover=lacy_turnover, counts=counts)

    def species_scales(self) -> np.ndarray:
        """Molecules per YM molecule of every species, in :data:`SPECIES` order (host)."""
        return np.array(species_scale_vector(float(self.scale_mrna), float(self.scale_lacZ),
                                             float(self.scale_lacY)), dtype=np.float64)

    @property
    def dtype(self):
        """The floating-point dtype of the rate constants (the kernel computes in it)."""
        return self.gamma_M.dtype


register_pytree(LacKinetics, static=("iptg", "leak", "lacy_turnover", "counts"))


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


def _allolactose_binding(kin: LacKinetics, mu):
    """YM's ``K_1 exp(-2 mu tau_M)`` per cell (1/mM^n), constant over a call."""
    return kin.K_1 * jnp.exp(-2.0 * mu * kin.tau_M)


def _hill_power(c, n):
    # c**n is exp(n log c): the square of YM's n = 2 is much cheaper, in the SSA's inner loop
    return lax.cond(n == 2.0, lambda c: c * c, lambda c: c ** n, c)


def _induction(kin: LacKinetics, c_allo, binding):
    """YM's induction factor of transcription (dimensionless, in [1/K, 1]); 1 with IPTG."""
    if kin.iptg:
        return jnp.ones_like(c_allo)
    k1a = binding * _hill_power(c_allo, kin.n)
    return (1.0 + k1a) / (kin.K + k1a)


def model_induction(kin: LacKinetics, allolactose, volume_fL, growth_rate):
    """The model's lac induction per cell: YM's induction factor at ``allolactose`` molecules.

    The fraction of the maximal regulated transcription ``alpha_M`` (dimensionless, in
    ``[1/K, 1]``; 1 with IPTG) in cells of ``volume_fL`` fL growing at ``growth_rate``
    (1/min): the quantity a ``regulation`` input replaces (see :func:`propensities`).
    """
    return _induction(kin, allolactose / molecules_per_mM(volume_fL),
                      _allolactose_binding(kin, growth_rate))


def _transcription(kin: LacKinetics, induction, omega):
    """(basal, regulated) transcription, events/min per cell, at ``induction`` (YM's factor)."""
    if kin.leak == "single_molecule":
        # the repressed operator (induction 1/K) makes only the measured leak; allolactose
        # (or IPTG) releases the rest of YM's regulated transcription
        repressed = 1.0 / kin.K
        released = jnp.where(kin.K > 1.0, (induction - repressed)
                             / jnp.where(kin.K > 1.0, 1.0 - repressed, 1.0), induction)
        # the leak is in transcripts (real molecules); YM's transcription in mRNA units
        return (jnp.broadcast_to(kin.leak_rate, omega.shape),
                kin.alpha_M * jnp.clip(released, 0.0, 1.0) * omega * kin.scale_mrna)
    return (kin.gamma_0 * omega * kin.scale_mrna,
            kin.alpha_M * induction * omega * kin.scale_mrna)


def _rates(kin: LacKinetics, x, omega, binding, uptake, induction):
    """:func:`propensities` with YM's allolactose binding per cell precomputed."""
    m, b, p, a, lac = x[:, M], x[:, B], x[:, P], x[:, A], x[:, L]
    c_a, c_l = a / omega, lac / omega      # small molecules: counted literally (scale 1)
    # per-species scales (.scales): a rate read from X uses c_X = n_X/(s_X Omega), and a
    # reaction making X fires in X's units, so the mean field in concentrations stays YM's
    b_units, p_units = b / kin.scale_lacZ, p / kin.scale_lacY      # LacZ, LacY in YM molecules
    if induction is None:
        induction = _induction(kin, c_a, binding)
    basal, regulated = _transcription(kin, induction, omega)
    columns = [
        basal,
        regulated,
        x[:, I1] / kin.tau_M,
        kin.gamma_M * m,
        kin.alpha_B * (kin.scale_lacZ / kin.scale_mrna) * m,
        x[:, I2] / kin.tau_B,
        kin.gamma_B * b,
        kin.alpha_P * (kin.scale_lacY / kin.scale_mrna) * m,
        x[:, I3] / (kin.tau_B + kin.tau_P),
        kin.gamma_P * p,
        kin.alpha_L * p_units * uptake,
        kin.beta_L1 * p_units * c_l / (kin.K_L1 + c_l),
        kin.alpha_A * b_units * c_l / (kin.K_L + c_l),
        kin.gamma_L * lac,
        kin.beta_A * b_units * c_a / (kin.K_A + c_a),
        kin.gamma_A * a,
    ]
    return jnp.stack(columns, axis=1)


def propensities(kin: LacKinetics, x, omega, mu, uptake, induction=None):
    """(n_cells, J) propensities (events/min) of :data:`REACTIONS` at counts ``x`` (float).

    ``omega``: molecules per mM per cell (:func:`molecules_per_mM`); ``mu``: growth rate,
    1/min; ``uptake``: ``L_e/(K_Le + L_e) K_G/(K_G + G)`` per cell (dimensionless).
    ``induction``: ``None`` for the model's own regulation (YM's repression released by
    allolactose, :func:`model_induction`), or a per-cell fraction of ``alpha_M`` in
    ``[0, 1]`` read from outside (a regulation store) that replaces it. The leak (basal
    transcription) is not regulated either way; with ``leak = 'single_molecule'`` it is
    ``leak_rate`` per cell and the regulated part counts only the release beyond ``1/K``.
    """
    return _rates(kin, x, omega, _allolactose_binding(kin, mu), uptake, induction)


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
    ``leap_threshold`` times are leaped, the others simulated exactly (``inf``: all exact);
    a cell none of whose reactions would be leaped runs its exact SSA across the steps.
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
    binding = _allolactose_binding(kin, mu)
    induction, regulation_ok = None, jnp.ones((n,), bool)
    if regulation is not None:
        regulation = jnp.broadcast_to(regulation, (n,))
        regulation_ok = jnp.isfinite(regulation)
        live = live & regulation_ok
        induction = jnp.ones((n,), fdt) if kin.iptg else \
            jnp.clip(jnp.where(regulation_ok, regulation, 0.0), 0.0, 1.0)
    steps = jnp.maximum(jnp.ceil(dt / step), 1.0)
    n_steps, h = steps.astype(jnp.int32), dt / steps
    rows = {"omega": omega, "binding": binding, "uptake": uptake, "induction": induction,
            "cells": cells}

    def rates(rows):
        return _rates(kin, rows["x"], rows["omega"], rows["binding"], rows["uptake"],
                      rows["induction"])

    key, k_first, k_steps = jax.random.split(jax.random.wrap_key_data(state.key), 3)
    x, first, bad, capped = ssa_while_all_slow(
        rates, {**rows, "x": x0}, live, dt, h, n_steps, leap_threshold,
        jax.random.bits(k_first, (2,), jnp.uint32), steps * max_events)
    error = ERRORS.flag("propensity", bad) | ERRORS.flag("events", capped)

    def stepped_scheme(rows, x, first, live, error):
        """The steps from each cell's ``first``: leap the fast reactions, SSA the slow ones."""
        def one_step(k, carry):
            x, error = carry
            # four words per step (the leap's and the SSA's counter-based streams), by the
            # step's number: a cell's draws do not depend on when the other cells start
            seeds = jax.random.bits(jax.random.fold_in(k_steps, k), (4,), jnp.uint32)
            stepped = live & (first <= k)          # cells past their run of exact steps
            a = jnp.where(stepped[:, None], rates({**rows, "x": x}), 0.0)
            error = error | ERRORS.flag("propensity", ~jnp.all(jnp.isfinite(a)))
            fast = a * h > leap_threshold
            x = lax.cond(jnp.any(fast), lambda x: leap((seeds[:2], rows["cells"]), x, a, fast, h),
                         lambda x: x, x)
            x, capped = ssa_step(rates, {**rows, "x": x, "slow": ~fast & stepped[:, None]},
                                 stepped, h, seeds[2:], max_events)
            return x, error | ERRORS.flag("events", capped)

        start = jnp.min(jnp.where(live, first, n_steps))
        return lax.fori_loop(start, n_steps, one_step, (x, error))

    # the cells that reach the stepped scheme, gathered into 1/8 of the rows when they fit
    # (each cell draws by its own counter, so its trajectory is the same either way)
    stepping = live & (first < n_steps)
    width = n // 8

    def all_rows(x, error):
        return stepped_scheme(rows, x, first, live, error)

    def few_rows(x, error):
        index = jnp.nonzero(stepping, size=width, fill_value=n)[0]   # n: a padding row

        def gather(values):
            return jnp.take(values, index, axis=0, mode="fill", fill_value=0)

        part, error = stepped_scheme(jax.tree.map(gather, rows), gather(x),
                                     jnp.take(first, index, mode="fill", fill_value=0),
                                     gather(stepping), error)
        return x.at[index].set(part, mode="drop"), error

    error = state.error | error
    if width >= 8:
        x, error = lax.cond(jnp.sum(stepping) <= width, few_rows, all_rows, x, error)
    else:
        x, error = all_rows(x, error)
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
