"""Metabolism of a population of E. coli cells in a shared, well-mixed batch medium.

:class:`PopulationMetabolism` is the *metabolism* process of the population cell: each live
cell solves its own flux balance LP (cobra; ``textbook_lactose`` or ``iJO1366``), with uptake
bounds set by the medium that all cells share and by the cell's own lac enzymes, and all the
cells' LPs are solved together by :func:`~.population_fba.solve_population` (exact per-cell
optima from a few LPs). It writes each cell's growth rate and takes what the cells consume
out of the medium, one interval behind (see "One interval ahead"), so that what the medium
loses is exactly what the cells the cell cycle grows are made of. Volume growth and
division belong to the cell-cycle process, lac expression to the lac process: they share
the per-cell stores.

Stores (cell axis first, ``capacity`` slots; the names every population process uses)
-----------------------------------------------------------------------------------
* ``alive`` [capacity], 0/1 (read).
* ``volume`` [capacity], fL, divides by ``split`` (read; the cell cycle grows it).
* ``lac`` [capacity, n_lac_species], molecule counts, ``binomial`` (read): the LacY and LacZ
  counts, found by name in the config's ``lac_species``.
* ``growth_rate`` [capacity], 1/min (natural log), ``copy`` (read and written: 0 in free
  slots and where the LP has no growth): the growth rate of the *next* interval.
* ``exchange_rates`` [capacity, 4], mmol/gDW/h, ``copy`` (read and written; columns
  :data:`RATE_COLUMNS`): the tracked exchange fluxes of the LP whose growth rate is in
  ``growth_rate`` (glucose, lactose; < 0 is uptake) and the carbon and nitrogen that LP
  sends out through the untracked exchanges (> 0 secreted). Per gDW, so intensive: a
  daughter copies its mother's, as it copies her growth rate. 0 in free slots.
* ``glucose``, ``lactose``: the shared medium, mM (float stores, read and written).
* ``ledger`` [2], mM (written): carbon and nitrogen (:data:`ELEMENTS`) that left the
  culture through the exchanges the composite does not track (CO2, NH4, acetate, O2, ...,
  every boundary reaction of the model but the two tracked ones), accumulated per litre of
  culture; > 0 is matter secreted to the world. The meaning of the single culture's
  ``cell.ledger`` (:class:`~greybox_processes.neural.regulated.RegulatedDynamicFBA`), so
  that medium + biomass + ledger is the culture's closed element budget (WCM-Hard tier 1).

Every write is a delta (new - old): the stores accumulate in both engines.

Uptake bounds of cell ``i`` (mmol/gDW/h)
----------------------------------------
* glucose: ``v_max G/(K_G + G)`` (:func:`~.uptake.uptake_bound` with the kinetics of
  :data:`~.uptake.DEFAULT_KINETICS`, Mahadevan et al. 2002), the same for every cell;
* lactose: ``kcat_LacY * LacY_i * L/(K_L + L) * K_G/(K_G + G)``, capped at
  ``kcat_LacZ * LacZ_i``. ``LacY_i`` and ``LacZ_i`` are the cell's counts per dry mass
  (mmol/gDW), ``L/(K_L + L)`` the permease's saturation by external lactose and
  ``K_G/(K_G + G)`` the free fraction of LacY under inducer exclusion (:mod:`.lac`: the
  inhibited fraction is the saturation of the glucose PTS). The turnover numbers are those
  of :data:`~.expression.DEFAULT_KCAT` (Yildirim & Mackey 2003: ``alpha_L`` = 2880 /min per
  permease, ``alpha_A`` = 17600 /min per beta-galactosidase), so a cell holding the
  deterministic model's fully induced permease takes up lactose at
  :data:`~.uptake.DEFAULT_KINETICS`'s lactose ``v_max``. The LacZ cap is the one
  :class:`~.expression.ExpressionLayer` puts on ``LACZ``, moved to the exchange: in
  ``textbook_lactose`` every lactose taken up is cleaved by LacZ. (iJO1366 can also cleave
  lactose in the periplasm, ``LACZpp``; bounding the exchange keeps LacY the only way in,
  as in the lac operon model.) A cell without LacY takes up no lactose: that is why such
  cells stop growing when glucose runs out while their neighbours with LacY go on.
* a bound below :data:`SOLVER_FLOOR` times the LP solver's feasibility tolerance
  (``model.tolerance``; 1e-6 mmol/gDW/h with GLPK) is 0: the solver cannot tell it from 0.

Dry mass and the culture
------------------------
A cell's dry mass is ``volume * dry_mass_density``. The default density is
``1 / CYTOPLASM_L_PER_GDW`` (Cayley et al. 1991: 2.3 uL cytoplasm per mg dry weight), the
factor :mod:`.lac` and :mod:`.expression` use to turn the lac model's intracellular mM into
mmol/gDW; taking the cell volume as the volume the lac counts live in keeps that conversion,
so a LacY concentration gives the same uptake as in :class:`~.dfba.DynamicFBA`. (Whole-cell
dry-mass densities are lower, about 0.3 g/mL: some 0.28 pg dry mass in a cell of about
1 fL, Neidhardt, Ingraham & Schaechter 1990, Table 1.)

Each simulated cell stands for many cells of the culture. The parameterisation is the
culture's biomass density at the start, ``initial_biomass`` (gDW/L, as in
:func:`~.composites.diauxie`), carried by ``initial_cells`` simulated cells of
``initial_volume`` fL (give the values the cell-cycle process and the Division step start
from). Every simulated cell then stands for ``cells_per_litre = initial_biomass /
(initial_cells * initial_volume * dry_mass_density)`` culture cells per litre (daughters
each stand for as many as their mother: division conserves the culture's biomass).

One interval ahead
------------------
The cell cycle grows each volume over an interval ``dt`` (minutes) as ``V e^(mu dt)``, with
``mu`` the ``growth_rate`` store as it stands at the start of the interval: the stores are
read at the start of each interval, so the growth rate a metabolism writes in an update is
the one the cycle grows with in the *next* interval. The metabolism therefore decides each
cell's LP one interval ahead and charges the medium for it in the interval the cycle grows
the cell with it. At each update (cell ``i`` of dry mass ``m_i``, ``mu_i`` its
``growth_rate``, ``r_i`` its ``exchange_rates``: the LP decided at the previous update):

1. **Charge** the pending LP over the growth the cycle makes in this interval: the medium
   changes by ``sum_i r_i * m_i * cells_per_litre * I(mu_i, dt) / 60`` (mM; fluxes are per
   hour, time in minutes) and the ledger by the same sum over the element columns, with
   ``I(mu, dt) = (e^(mu dt) - 1)/mu`` (``dt`` at ``mu = 0``; :func:`growth_integral`) the
   biomass-time of a cell growing exponentially from 1 gDW. ``60 mu I`` is ``e^(mu dt) - 1``,
   the biomass the cycle makes, so the LP's balance (tracked fluxes + untracked elements +
   growth x biomass composition = 0, for a network whose internal reactions are balanced)
   makes medium + ledger + biomass in the cells' volumes constant per element, interval by
   interval, divisions included (volume split, ``growth_rate`` and ``exchange_rates``
   copied: a daughter is charged her share of her mother's growth).
2. **Decide** the LP of the next interval, on the medium and the cells as they will be then:
   the medium after this charge and the dry mass ``m_i e^(mu_i dt)``; its growth rate goes
   to ``growth_rate`` and its fluxes to ``exchange_rates``. The lac enzymes enter as the
   counts per dry mass the cell has now: the lac process changes the counts in the same
   interval, by production the metabolism does not know, so the concentration (which
   balanced growth keeps) is the estimate, not today's counts over tomorrow's mass.

Before charging, every live cell's pending LP is checked against its ``growth_rate``: their
element balance must close (to :data:`BALANCE_RTOL` relative plus :data:`BALANCE_ATOL`,
mmol/gDW/h), or the growth the cycle makes would not be paid for. A
:class:`~greybox_processes.errors.SimulationError` then says so: something other than this
process wrote ``growth_rate`` (e.g. another process's initial state at ``t = 0``, see below).

At ``t = 0`` the first interval's LP is decided by :meth:`~PopulationMetabolism.initial_state`:
the ``initial_cells`` cells, with no lac enzymes (the lac operon's default start; a cell
without LacY takes up no lactose) on the initial medium, get its growth rate and fluxes.
The cell cycle's own initial state gives ``growth_rate`` too (its ``initial_growth_rate``):
under both engines the process listed *later* in the composite fills a store both give, so
a composite lists the metabolism after the cell cycle (the check above fails the first
update otherwise). The first interval has no availability cap (an initial state knows no
interval): an initial biomass that could empty the medium within one interval is clamped
at the medium, with a warning.

A cell whose LP is infeasible has no solution: it grows no biomass, so what it takes up
through the tracked exchanges leaves through the untracked ones (the model's internal
reactions are balanced; tier 1 checks it): its secreted elements are minus the element
content of its tracked fluxes (read out for feasible cells by
:func:`~.population_fba.solve_population`'s ``record``).

Uptake is never more than the medium holds: the LP decided at an update is charged over
the biomass-time of the growth it decides, so the cap depends on its own solution. The LPs
are solved with the kinetic bounds; if the cells' uptake charged over their new growth
would take more of a substrate than the medium will hold, every bound of every substrate
above a common cap ``c`` is lowered to ``c`` (:func:`availability_cap`, with the weights of
that first solution; the cells with small bounds keep theirs) and the LPs are solved again.
A lower bound cannot raise a cell's optimal growth, so the second solution's weights are no
larger and its uptake fits (leaving the little that the lower growth does not take, for
the next interval). Cells whose LP is infeasible (too little carbon for the
non-growth ATP maintenance, e.g. no LacY after glucose has run out) raise
:class:`~.errors.InfeasibleError` with ``on_infeasible: raise``; with ``status`` (the
default: such cells are expected in a population) they do not grow and take up their whole
uptake bounds, as :class:`~.dfba.DynamicFBA`'s maintenance-only LP does (maximising ATP
maintenance short of its requirement puts every carbon source at its bound).

``method: etfl`` makes the biomass reaction take its amino acids as charged tRNAs
(:func:`~.translation.couple_translation_to_trna`; a no-op on e_coli_core, which has no
tRNA chemistry) and caps growth by the ribosomes of cells pre-grown on the initial glucose
(the Scott et al. 2010 growth law of :class:`~.expression.RibosomeParameters`, as the
essentiality screen's ``'etfl'`` does).

:meth:`PopulationMetabolism.single_cell_dfba` gives one cell of the population at ``t = 0``
as a :class:`~.dfba.DynamicFBA` (the same LP: model, method, uptake bounds), for the
analyses written for a single culture (knockout screens, drug responses, WCM-Hard tiers 2,
5, 8).
"""
from __future__ import annotations

import dataclasses
import difflib
import logging
import math
from dataclasses import dataclass

import numpy as np

from ..errors import SimulationError
from ..framework.base import GreyboxProcess
from ..framework.division import check_slots
from ..framework.ports import array_port
from .composites import GLUCOSE_MW, LACTOSE_MW, percent_to_mM
from .errors import InvalidConcentrationError, UnknownExchangeError
from .expression import DEFAULT_KCAT, RibosomeParameters
from .lac import CYTOPLASM_L_PER_GDW
from .models import biomass_reaction, load_model
from .population_budget import (ELEMENTS, availability_cap, biomass_elements, element_counts,
                                growth_integral)
from .population_fba import PopulationFBA, solve_population
from .translation import couple_translation_to_trna
from .uptake import DEFAULT_KINETICS, UptakeKinetics, uptake_bound

__all__ = ["PopulationMetabolism", "population_cell_ports", "check_culture_config", "CellBounds",
           "availability_cap", "growth_integral", "LAC_SPECIES", "AVOGADRO",
           "DEFAULT_DRY_MASS_DENSITY", "METHODS", "ELEMENTS", "RATE_COLUMNS", "BALANCE_RTOL",
           "BALANCE_ATOL",
           "SOLVER_FLOOR",
           "element_counts", "biomass_elements"]

logger = logging.getLogger(__name__)

#: Default species order of the per-cell ``lac`` store (molecule counts).
LAC_SPECIES = ("mrna", "lacZ", "lacY", "allolactose", "lactose_in")
#: Avogadro constant, 1/mol (exact in the SI since 2019).
AVOGADRO = 6.02214076e23
#: Dry mass per cell volume, gDW/L (= fg/fL): the inverse of lac.py's cytoplasmic volume per
#: dry mass (Cayley et al. 1991), so that counts per volume convert to mmol/gDW as in lac.py.
DEFAULT_DRY_MASS_DENSITY = 1.0 / CYTOPLASM_L_PER_GDW
#: Flux balance methods: plain FBA, or with the ETFL-style translation and ribosome layer.
METHODS = ("fba", "etfl")
#: Columns of the per-cell ``exchange_rates`` store (mmol/gDW/h): the tracked exchange fluxes
#: (< 0 uptake), then the elements leaving through the untracked exchanges (> 0 secreted).
RATE_COLUMNS = ("glucose", "lactose") + ELEMENTS
#: Relative tolerance of the element balance of a cell's pending LP against its growth rate.
#: GLPK's tolerances act on the scaled problem, so iJO1366's balances close to ~1e-9 mostly
#: but to 1.3e-6 at times (seen mid-run in the lactose phase, which 1e-6 wrongly stopped); a
#: growth rate another process wrote is off by its relative difference, percents.
BALANCE_RTOL = 1e-5
#: Absolute tolerance of that balance, mmol (C or N)/gDW/h: near starvation iJO1366's staged
#: LPs close it to ~3e-5 (seen: a cell growing 0.007/h, whose relative residual was 1e-4), far
#: below what a growing cell's carbon flux (~30 mmol C/gDW/h) makes of a percent error.
BALANCE_ATOL = 1e-4
#: Multiple of the LP solver's primal feasibility tolerance (cobra's ``model.tolerance``,
#: GLPK 1e-7) below which an uptake bound is not resolved by the solver and is taken as 0,
#: and below which (in mmol/gDW/h) an element balance residual is round-off.
SOLVER_FLOOR = 10.0
#: L per fL, and minutes per hour (the interval is in minutes, fluxes per hour).
_L_PER_FL = 1e-15
_MIN_PER_H = 60.0
#: Names in ``lac_species`` of the permease and of beta-galactosidase.
_LACY, _LACZ = "lacY", "lacZ"
_TRACKED = 2


@dataclass(frozen=True)
class CellBounds:
    """The live cells of one update and the kinetic uptake bounds of the LP it decides.

    Attributes
    ----------
    live : (n,) slot index of each live cell.
    dry_mass : (n,) dry mass per cell at the start of the next interval, gDW (the cell's
        mass now grown at its current growth rate over this interval).
    bounds : (n, 2) uptake bounds [glucose, lactose], mmol/gDW/h, from the medium as it
        will be at the start of the next interval and the cell's lac enzymes per dry mass
        now, before the availability cap.
    """

    live: np.ndarray
    dry_mass: np.ndarray
    bounds: np.ndarray


@dataclass(frozen=True)
class _Cells:
    """What an update reads (checked): per slot, and the medium (mM, >= 0)."""

    alive: np.ndarray
    volume: np.ndarray
    lac: np.ndarray
    growth_rate: np.ndarray  # 1/min
    rates: np.ndarray  # exchange_rates, mmol/gDW/h
    medium: np.ndarray  # (2,) glucose, lactose

    @property
    def live(self):
        return np.flatnonzero(self.alive > 0.5)


def check_culture_config(cfg, positive: dict) -> None:
    """The culture's starting numbers: ``positive`` ({key: unit}) > 0, the medium (mM) >= 0."""
    for key, unit in positive.items():
        if not (math.isfinite(cfg[key]) and cfg[key] > 0):
            raise ValueError(f"{key} ({unit}) must be a positive number, got {cfg[key]!r}")
    for key in ("initial_glucose", "initial_lactose"):
        if not (math.isfinite(cfg[key]) and cfg[key] >= 0):
            raise InvalidConcentrationError(f"{key} (mM) must be finite and >= 0, got "
                                            f"{cfg[key]!r}")


def population_cell_ports(capacity: int, n_lac_species: int) -> dict:
    """The per-cell ports a population's metabolism reads (any process swapped in for it too)."""
    return {"alive": array_port((capacity,)),
            "volume": array_port((capacity,), "fL", divide="split"),
            "lac": array_port((capacity, n_lac_species), divide="binomial"),
            "growth_rate": array_port((capacity,), "1/min", divide="copy")}

class PopulationMetabolism(GreyboxProcess):
    """Flux balance of every live cell in a shared medium: per-cell growth rates, medium uptake.

    Ports:
      alive: 1 where a slot holds a live cell, else 0 (flag)
      lac: lac operon species per cell (molecule)
    """

    config_schema = {
        # metabolic model: 'textbook_lactose' (e_coli_core + lactose, fast) or 'iJO1366'
        "model": {"_type": "string", "_default": "textbook_lactose"},
        # 'fba', or 'etfl' (protein from charged tRNAs, growth capped by ribosomes)
        "method": {"_type": "string", "_default": "fba"},
        # slots of every per-cell store (the cell axis)
        "capacity": {"_type": "integer", "_default": 64},
        "glucose_exchange": {"_type": "string", "_default": "EX_glc__D_e"},
        "lactose_exchange": {"_type": "string", "_default": "EX_lcts_e"},
        # glucose uptake: v_max (mmol/gDW/h) and K_m (mM); 0: DEFAULT_KINETICS (uptake.py)
        "glucose_vmax": {"_type": "float", "_default": 0.0},
        "glucose_km": {"_type": "float", "_default": 0.0},
        # K_L of the permease for external lactose, mM; 0: DEFAULT_KINETICS (Y-M K_Le)
        "lactose_km": {"_type": "float", "_default": 0.0},
        # turnover numbers, 1/s; 0: DEFAULT_KCAT (expression.py, Yildirim & Mackey 2003)
        "kcat_lacy": {"_type": "float", "_default": 0.0},
        "kcat_lacz": {"_type": "float", "_default": 0.0},
        # species order of the lac store (molecule counts); must name lacY and lacZ
        "lac_species": {"_type": "list[string]", "_default": list(LAC_SPECIES)},
        # dry mass per cell volume, gDW/L (= fg/fL)
        "dry_mass_density": {"_type": "float", "_default": DEFAULT_DRY_MASS_DENSITY},
        # the culture at the start: biomass density (gDW/L) carried by `initial_cells`
        # simulated cells of `initial_volume` fL each
        "initial_biomass": {"_type": "float", "_default": 0.001},
        "initial_cells": {"_type": "integer", "_default": 1},
        "initial_volume": {"_type": "float", "_default": 1.0},
        # initial medium, mM (Julou et al. 2020: 0.005% glucose, 0.02% lactose)
        "initial_glucose": {"_type": "float",
                            "_default": percent_to_mM(0.005, GLUCOSE_MW)},
        "initial_lactose": {"_type": "float",
                            "_default": percent_to_mM(0.02, LACTOSE_MW)},
        # cells with no feasible LP: 'status' (no growth, maintenance uptake) or 'raise'
        "on_infeasible": {"_type": "string", "_default": "status"},
    }

    #: these fix the LP or the stores' shape, so an intervention may not change them
    fixed_config_keys = ("model", "method", "capacity", "glucose_exchange", "lactose_exchange",
                         "lac_species")

    def initialize(self, config):
        cfg = self.config
        self._check_choices(cfg)
        self.model = load_model(cfg["model"])  # our own copy; ModelLoadError names the model
        #: mmol/gDW/h: smaller uptake bounds are 0, smaller balance residuals round-off
        self.solver_floor = SOLVER_FLOOR * float(self.model.tolerance)
        #: the population LP's numerical fallbacks over this run ({kind: count}; each kind is
        #: logged once at WARNING, see population_lp._LexicographicLP.note_fallback)
        self.lp_fallbacks: dict = {}
        self.exchanges = (str(cfg["glucose_exchange"]), str(cfg["lactose_exchange"]))
        self._check_exchange_ids()
        species = [str(s) for s in cfg["lac_species"]]
        self._lacy_index, self._lacz_index = species.index(_LACY), species.index(_LACZ)
        self._derive_parameters()
        if cfg["method"] == "etfl":
            self._add_expression_layer()
        self._element_tables()
        self._start = self._initial_lp()

    # -- config --------------------------------------------------------------------------
    @staticmethod
    def _check_choices(cfg):
        """Config errors that need no model (ValueError; the validator makes a SpecError)."""
        # at least one initial cell: the initial cells carry initial_biomass
        check_slots(cfg["capacity"], cfg["initial_cells"], least_initial=1)
        if cfg["method"] not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)} ('etfl': protein from "
                             f"charged tRNAs, growth capped by ribosomes), got {cfg['method']!r}")
        if cfg["on_infeasible"] not in ("raise", "status"):
            raise ValueError(f"on_infeasible must be 'raise' or 'status', got "
                             f"{cfg['on_infeasible']!r}")
        species = [str(s) for s in cfg["lac_species"]]
        missing = [name for name in (_LACY, _LACZ) if name not in species]
        if missing or len(set(species)) != len(species):
            raise ValueError(f"lac_species must be distinct names including {_LACY!r} and "
                             f"{_LACZ!r} (the order of the lac store's species axis), got "
                             f"{species}")
        for key in ("glucose_vmax", "glucose_km", "lactose_km", "kcat_lacy", "kcat_lacz"):
            if not (math.isfinite(cfg[key]) and cfg[key] >= 0):
                raise ValueError(f"{key} must be a finite number >= 0 (0: the cited default), "
                                 f"got {cfg[key]!r}")
        check_culture_config(cfg, {"dry_mass_density": "gDW/L", "initial_biomass": "gDW/L",
                                   "initial_volume": "fL"})

    def _check_exchange_ids(self):
        """UnknownExchangeError naming the config key, the id, the model and close matches."""
        exchanges = sorted(r.id for r in self.model.exchanges)
        for key, rid in zip(("glucose_exchange", "lactose_exchange"), self.exchanges):
            if rid in exchanges:
                continue
            what = ("a reaction of the model but not an exchange" if rid in self.model.reactions
                    else "not a reaction of the model")
            close = difflib.get_close_matches(rid, exchanges, n=3, cutoff=0.5)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise UnknownExchangeError(
                f"PopulationMetabolism config {key}: {rid!r} is {what} "
                f"{self.model.id!r} (model {self.config['model']!r}){hint}. Fix: set "
                f"{key} to one of the model's exchange reactions ('A_e <=>'; "
                f"{len(exchanges)} in this model, e.g. {exchanges[:3]})")

    def _element_tables(self):
        """Element counts of the tracked and untracked exchanges (for the ledger)."""
        tracked = set(self.exchanges)
        #: every boundary reaction the composite does not track (exchanges, sinks, demands)
        self.untracked = [r.id for r in self.model.boundary if r.id not in tracked]
        self._untracked_elements = element_counts(self.model, self.untracked)
        self._tracked_elements = element_counts(self.model, self.exchanges)
        #: mmol of C and N per gDW of biomass (the model's, ETFL layer included)
        self._biomass_elements = biomass_elements(self.model)

    def _derive_parameters(self):
        """Kinetics, turnover numbers and the culture scale from the config (cited defaults)."""
        cfg = self.config
        glucose = DEFAULT_KINETICS["EX_glc__D_e"]
        self.glucose_kinetics = UptakeKinetics(
            cfg["glucose_vmax"] or glucose.vmax, cfg["glucose_km"] or glucose.km,
            glucose.source if not (cfg["glucose_vmax"] or cfg["glucose_km"]) else "config")
        #: K_L of the permease (mM); only K_m: each cell's v_max comes from its LacY
        self.lactose_km = float(cfg["lactose_km"] or DEFAULT_KINETICS["EX_lcts_e"].km)
        #: turnover numbers, 1/s
        self.kcat_lacy = float(cfg["kcat_lacy"] or DEFAULT_KCAT["LCTSt"])
        self.kcat_lacz = float(cfg["kcat_lacz"] or DEFAULT_KCAT["LACZ"])
        self.density = float(cfg["dry_mass_density"])
        initial_mass = cfg["initial_cells"] * self.dry_mass(cfg["initial_volume"])
        #: culture cells per litre that each simulated cell stands for, 1/L
        self.cells_per_litre = float(cfg["initial_biomass"]) / initial_mass

    def parameters_changed(self, keys):
        """Re-derive the kinetics and scale after an intervention (the model stays)."""
        self._check_choices(self.config)
        self._derive_parameters()
        self._start = self._initial_lp()

    def _add_expression_layer(self):
        """``method: etfl``: charged-tRNA translation and the pre-culture's ribosome cap."""
        couple_translation_to_trna(self.model)  # our own copy: permanent on purpose
        preculture = self._solve_initial_glucose_only()
        growth = float(preculture.growth[0])
        if preculture.status[0] != 1:
            raise ValueError(f"method 'etfl': model {self.model.id!r} does not grow on the "
                             f"initial glucose ({self.config['initial_glucose']} mM), so there "
                             "is no pre-culture to set the ribosome content; raise "
                             "initial_glucose or use method 'fba'")
        ribosomes = RibosomeParameters()
        # Scott et al. 2010: RNA/protein r = r0 + mu/kappa_t; active ribosomes allow
        # kappa_t (r - r0) growth
        r = ribosomes.r0 + growth / ribosomes.kappa_t_per_h
        cap = ribosomes.kappa_t_per_h * (r - ribosomes.r0)
        biomass = biomass_reaction(self.model)
        biomass.upper_bound = min(biomass.upper_bound, cap)
        self.ribosome_growth_cap = cap  # 1/h
        logger.info("PopulationMetabolism (%s, etfl): growth capped at %.4g 1/h by the "
                    "ribosomes of the pre-culture", self.model.id, cap)

    def _solve_initial_glucose_only(self) -> PopulationFBA:
        """The LP of one cell on the initial glucose with no lactose (a pre-culture)."""
        bound = uptake_bound(self.glucose_kinetics, self.config["initial_glucose"])
        return solve_population(self.model, self.exchanges, [[bound, 0.0]],
                                on_infeasible="status")

    def _initial_lp(self):
        """``(growth (1/h), exchange_rates row)`` of the first interval's LP (one cell with no
        lac enzymes on the initial medium); solved at initialisation, so that an exchange the
        LP cannot bound fails here, not mid-run."""
        bound = uptake_bound(self.glucose_kinetics, self.config["initial_glucose"])
        one = CellBounds(live=np.zeros(1, dtype=int), dry_mass=np.ones(1),
                         bounds=self._resolvable(np.array([[bound, 0.0]])))
        growth, fluxes, secreted = self._solve(one)
        return float(growth[0]), np.concatenate([fluxes[0], secreted[0]])

    # -- ports ---------------------------------------------------------------------------
    def _cell_ports(self):
        return population_cell_ports(self.config["capacity"], len(self.config["lac_species"]))

    def _rates_port(self):
        return array_port((self.config["capacity"], len(RATE_COLUMNS)), "mmol/gDW/h",
                          divide="copy")

    def inputs(self):
        # the ledger is only written (deltas); it is an input too so that a spec may wire it
        # both ways, as RegulatedDynamicFBA's
        return {**self._cell_ports(), "exchange_rates": self._rates_port(),
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                "ledger": array_port((len(ELEMENTS),), "mM")}

    def outputs(self):
        return {"growth_rate": self._cell_ports()["growth_rate"],
                "exchange_rates": self._rates_port(),
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                "ledger": array_port((len(ELEMENTS),), "mM")}

    def initial_state(self):
        """The medium, an empty ledger, and the first interval's LP in the initial cells'
        ``growth_rate`` and ``exchange_rates`` (see "One interval ahead")."""
        cfg = self.config
        n = int(cfg["initial_cells"])
        growth, row = self._start
        growth_rate = np.zeros(cfg["capacity"])
        rates = np.zeros((cfg["capacity"], len(RATE_COLUMNS)))
        growth_rate[:n] = growth / _MIN_PER_H
        rates[:n] = row
        return {"glucose": float(cfg["initial_glucose"]),
                "lactose": float(cfg["initial_lactose"]),
                "ledger": np.zeros(len(ELEMENTS)),
                "growth_rate": growth_rate, "exchange_rates": rates}

    def port_metadata(self):
        cells = {"dims": ("cell",), "coords": {"cell": np.arange(self.config["capacity"])}}
        species = [str(s) for s in self.config["lac_species"]]
        return {
            "alive": {**cells, "units": "", "long_name": "1 where a slot holds a live cell"},
            "volume": {**cells, "units": "fL", "long_name": "cell volume"},
            "lac": {"dims": ("cell", "lac_species"),
                    "coords": {"cell": cells["coords"]["cell"], "lac_species": species},
                    "units": "", "long_name": "lac operon molecules per cell"},
            "growth_rate": {**cells, "units": "1/min",
                            "long_name": "specific growth rate (natural log)"},
            "exchange_rates": {"dims": ("cell", "rate"),
                               "coords": {"cell": cells["coords"]["cell"],
                                          "rate": list(RATE_COLUMNS)},
                               "units": "mmol/gDW/h",
                               "long_name": "tracked exchange fluxes and untracked elements "
                                            "of the LP of the current interval"},
            "glucose": {"units": "mM", "long_name": "glucose in the shared medium"},
            "lactose": {"units": "mM", "long_name": "lactose in the shared medium"},
            "ledger": {"dims": ("element",), "coords": {"element": list(ELEMENTS)},
                       "units": "mM", "long_name": "elements moved via untracked exchanges"},
        }

    # -- bounds --------------------------------------------------------------------------
    def dry_mass(self, volume_fl):
        """Dry mass (gDW) of cells of ``volume_fl`` (fL)."""
        return np.asarray(volume_fl, dtype=float) * _L_PER_FL * self.density

    def lactose_bounds(self, lacy, lacz, dry_mass, glucose_mM: float, lactose_mM: float):
        """Per-cell lactose uptake bounds, mmol/gDW/h (see the module docstring).

        ``lacy``, ``lacz``: molecules per cell; ``dry_mass``: gDW; concentrations in mM.
        """
        per_gdw = 1e3 / AVOGADRO / np.asarray(dry_mass, dtype=float)  # molecules -> mmol/gDW
        saturation = uptake_bound(UptakeKinetics(1.0, self.lactose_km), lactose_mM)
        # lac.py: the inhibited fraction of LacY is the saturation of the glucose PTS
        free_permease = 1.0 - uptake_bound(UptakeKinetics(1.0, self.glucose_kinetics.km),
                                           glucose_mM)
        permease = self.kcat_lacy * 3600.0 * np.asarray(lacy, dtype=float) * per_gdw
        cleavage = self.kcat_lacz * 3600.0 * np.asarray(lacz, dtype=float) * per_gdw
        return np.minimum(permease * saturation * free_permease, cleavage)

    def cell_bounds(self, state, interval: float) -> CellBounds:
        """The live cells and the kinetic bounds of the LP decided by an update of ``interval``
        minutes from ``state`` (``growth_rate`` and ``exchange_rates`` may be left out: 0)."""
        cells = self._read(state)
        charge, _ = self._charge(cells, interval)
        return self._next_bounds(cells, cells.medium + charge, interval)

    def _next_bounds(self, cells: _Cells, medium, interval) -> CellBounds:
        """Bounds on the medium ``medium`` (mM, the next interval's) for the live cells."""
        live = cells.live
        mass = self.dry_mass(cells.volume[live])
        n = len(live)
        bounds = np.empty((n, _TRACKED))
        bounds[:, 0] = uptake_bound(self.glucose_kinetics, medium[0])
        bounds[:, 1] = self.lactose_bounds(cells.lac[live, self._lacy_index],
                                           cells.lac[live, self._lacz_index], mass, *medium)
        grown = mass * np.exp(cells.growth_rate[live] * float(interval))
        return CellBounds(live=live, dry_mass=grown, bounds=self._resolvable(bounds))

    def _resolvable(self, bounds):
        """``bounds`` with those below :attr:`solver_floor` set to 0 (see SOLVER_FLOOR): the
        solver cannot tell them from 0, and an LP with a bound at its tolerance can come back
        infeasible from a lexicographic stage (seen with glucose at 2-5e-7 mmol/gDW/h)."""
        return np.where(bounds < self.solver_floor, 0.0, bounds)

    def weights(self, dry_mass, growth_per_min, interval: float) -> np.ndarray:
        """Medium change per unit flux (gDW h/L) of cells of ``dry_mass`` (gDW, at the start
        of the interval) growing at ``growth_per_min`` (1/min) for ``interval`` minutes:
        ``dry_mass * cells_per_litre * growth_integral / 60`` (flux x weight is mM)."""
        return (np.asarray(dry_mass, dtype=float) * self.cells_per_litre
                * growth_integral(growth_per_min, interval) / _MIN_PER_H)

    # -- update --------------------------------------------------------------------------
    def _read(self, state) -> _Cells:
        """The checked state (``growth_rate``, ``exchange_rates``: 0 where not given)."""
        n, k = self.config["capacity"], len(self.config["lac_species"])
        alive = np.asarray(state["alive"], dtype=float)
        volume = np.asarray(state["volume"], dtype=float)
        lac = np.asarray(state["lac"], dtype=float)
        growth = np.asarray(state.get("growth_rate", np.zeros(n)), dtype=float)
        rates = np.asarray(state.get("exchange_rates", np.zeros((n, len(RATE_COLUMNS)))),
                           dtype=float)
        for name, value, shape in (("alive", alive, (n,)), ("volume", volume, (n,)),
                                   ("lac", lac, (n, k)), ("growth_rate", growth, (n,)),
                                   ("exchange_rates", rates, (n, len(RATE_COLUMNS)))):
            if value.shape != shape:
                raise ValueError(f"store {name!r} has shape {value.shape}; "
                                 f"PopulationMetabolism expects {shape} (capacity {n})")
        live = alive > 0.5
        if not np.all(np.isfinite(volume[live]) & (volume[live] > 0)):
            raise InvalidConcentrationError(f"live cells must have a positive finite volume "
                                            f"(fL); slots {np.flatnonzero(live & ~(volume > 0))}"
                                            " do not")
        if not (np.all(np.isfinite(lac[live])) and np.all(lac[live] >= 0)):
            raise InvalidConcentrationError("the lac store holds negative or non-finite "
                                            "molecule counts in live cells")
        if not (np.all(np.isfinite(growth[live])) and np.all(np.isfinite(rates[live]))):
            raise InvalidConcentrationError("growth_rate or exchange_rates hold non-finite "
                                            "values in live cells")
        medium = []
        for name in ("glucose", "lactose"):
            value = float(np.asarray(state[name], dtype=float).reshape(-1)[0])
            if not math.isfinite(value) or value < -1e-9:
                raise InvalidConcentrationError(f"medium {name} must be finite and >= 0 (mM), "
                                                f"got {value}")
            medium.append(max(value, 0.0))
        return _Cells(alive, volume, lac, growth, rates, np.array(medium))

    def _check_pending(self, cells: _Cells) -> None:
        """SimulationError unless each live cell's pending LP balances its growth rate."""
        live = cells.live
        rates, growth = cells.rates[live], cells.growth_rate[live] * _MIN_PER_H  # 1/h
        tracked = rates[:, :_TRACKED] @ self._tracked_elements
        made = growth[:, None] * self._biomass_elements[None, :]
        residual = np.abs(tracked + rates[:, _TRACKED:] + made)
        scale = np.abs(tracked) + np.abs(rates[:, _TRACKED:]) + np.abs(made)
        bad = np.flatnonzero(np.any(residual > BALANCE_RTOL * scale
                                    + max(self.solver_floor, BALANCE_ATOL), axis=1))
        if not len(bad):
            return
        slot = int(live[bad[0]])
        implied = -(tracked[bad[0], 0] + rates[bad[0], _TRACKED]) / self._biomass_elements[0]
        raise SimulationError(
            f"PopulationMetabolism: the growth_rate of {len(bad)} live cell(s) is not the growth "
            f"of the LP in their exchange_rates (slot {slot}: growth_rate "
            f"{cells.growth_rate[slot]:.6g}/min, its LP's carbon balance implies "
            f"{implied / _MIN_PER_H:.6g}/min), so the medium would not pay for the growth the "
            "cell cycle makes. Only this process may write growth_rate and exchange_rates; at "
            "t = 0 its initial state must fill them: list the metabolism after the process "
            "whose initial state also gives growth_rate (CellCycle's initial_growth_rate), "
            "the later one's wins")

    def _charge(self, cells: _Cells, interval):
        """``(medium change (2,), ledger change (e,))``, mM, of the pending LPs over this
        interval's growth (see "One interval ahead"); the medium change keeps it >= 0."""
        live = cells.live
        weights = self.weights(self.dry_mass(cells.volume[live]), cells.growth_rate[live],
                               interval)
        flows = weights @ cells.rates[live]  # mM; < 0 is uptake, > 0 secreted
        change, ledger = flows[:_TRACKED], flows[_TRACKED:]
        short = -(cells.medium + change)
        if np.any(short > 1e-12 + 1e-9 * np.abs(change)):
            # only the first interval (no cap in an initial state) or a store changed by
            # another process; otherwise round-off of the cap of the previous update
            logger.warning("PopulationMetabolism: the cells' uptake over this interval "
                           "exceeds the medium by %s mM (glucose, lactose): clamped at the "
                           "medium, which breaks the element budget by as much", short)
        change = np.maximum(change, -cells.medium) + 0.0  # no -0.0
        return change, ledger

    def _solve(self, cells: CellBounds):
        """Per live cell: growth (1/h), tracked exchange fluxes and the elements leaving
        through the untracked exchanges (both mmol/gDW/h), at ``cells.bounds``."""
        record = dict(zip(self.untracked, self._untracked_elements))
        result = solve_population(self.model, self.exchanges, cells.bounds,
                                  on_infeasible=self.config["on_infeasible"], record=record,
                                  fallbacks=self.lp_fallbacks)
        growing = result.status == 1
        growth = np.where(growing, result.growth, 0.0)
        # infeasible cells: maintenance only, which takes every carbon source to its bound
        infeasible = (result.status == -1)[:, None]
        fluxes = np.where(infeasible, -cells.bounds, result.fluxes)
        # ... and, making no biomass, passes what it takes up on through untracked exchanges
        secreted = np.where(infeasible, -(fluxes @ self._tracked_elements), result.recorded)
        infeasible = int(np.sum(result.status == -1))
        logger.debug("PopulationMetabolism: %d live cells, %d growing, %d infeasible; %d LPs "
                     "for %d distinct bound rows", len(growth), int(growing.sum()), infeasible,
                     result.lp_count, result.distinct_rows)
        return growth, fluxes, secreted

    def _decide(self, cells: CellBounds, medium, interval):
        """The next interval's LP per live cell, ``(growth (1/h), fluxes, secreted)``, with
        the availability cap on ``medium`` (mM) if the kinetic bounds overdraw it."""
        growth, fluxes, secreted = self._solve(cells)
        weights = self.weights(cells.dry_mass, growth / _MIN_PER_H, interval)
        if np.all(weights @ np.maximum(-fluxes, 0.0) <= medium):
            return growth, fluxes, secreted
        # growth cannot rise when bounds are lowered, so these weights bound the next ones
        capped = cells.bounds.copy()
        for column, amount in enumerate(medium):
            cap = availability_cap(capped[:, column], weights, amount)
            capped[:, column] = np.minimum(capped[:, column], cap)
        return self._solve(dataclasses.replace(cells, bounds=self._resolvable(capped)))

    def update(self, state, interval):
        cells = self._read(state)
        self._check_pending(cells)
        change, ledger = self._charge(cells, interval)
        medium = cells.medium + change
        growth_per_min = np.zeros(self.config["capacity"])
        rates = np.zeros_like(cells.rates)
        if len(cells.live):
            growth, fluxes, secreted = self._decide(self._next_bounds(cells, medium, interval),
                                                    medium, interval)
            growth_per_min[cells.live] = growth / _MIN_PER_H
            rates[cells.live] = np.concatenate([fluxes, secreted], axis=1)
        return {"growth_rate": growth_per_min - cells.growth_rate,
                "exchange_rates": rates - cells.rates,
                "glucose": float(change[0]), "lactose": float(change[1]), "ledger": ledger}

    # -- one cell as a DynamicFBA ------------------------------------------------------------
    def single_cell_dfba(self, lac=None, volume: float | None = None):
        """One cell of this population at ``t = 0`` as a :class:`~.dfba.DynamicFBA`: see
        :func:`~.population_single_cell.single_cell_dfba` (``lac``: the cell's counts in
        ``lac_species`` order, default none; ``volume``: fL, default ``initial_volume``)."""
        from .population_single_cell import single_cell_dfba

        return single_cell_dfba(self, lac, volume)
