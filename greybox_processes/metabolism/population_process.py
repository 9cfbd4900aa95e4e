"""Metabolism of a population of E. coli cells in a shared, well-mixed batch medium.

:class:`PopulationMetabolism` is the *metabolism* process of the population cell: each live
cell solves its own flux balance LP (cobra; ``textbook_lactose`` or ``iJO1366``), with uptake
bounds set by the medium that all cells share and by the cell's own lac enzymes, and all the
cells' LPs are solved together by :func:`~.population_fba.solve_population` (exact per-cell
optima from a few LPs). It writes each cell's growth rate and takes what the cells consume
out of the medium. Volume growth and division belong to the cell-cycle process, lac
expression to the lac process: they share the per-cell stores.

Stores (cell axis first, ``capacity`` slots; the names every population process uses)
-----------------------------------------------------------------------------------
* ``alive`` [capacity], 0/1 (read).
* ``volume`` [capacity], fL, divides by ``split`` (read; the cell cycle grows it).
* ``lac`` [capacity, n_lac_species], molecule counts, ``binomial`` (read): the LacY and LacZ
  counts, found by name in the config's ``lac_species``.
* ``growth_rate`` [capacity], 1/min (natural log), ``copy`` (written: 0 in free slots and
  where the LP has no growth).
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
each stand for as many as their mother: division conserves the culture's biomass), and over
an interval ``dt`` the medium changes by ``sum over live cells of flux_i * dry_mass_i *
cells_per_litre * dt`` (mM; flux < 0 is uptake).

The ledger moves with the same weights as the medium: over an interval it changes by ``sum
over live cells of u_i * dry_mass_i * cells_per_litre * dt``, ``u_i`` the element content
of the untracked exchange fluxes of cell ``i``'s optimal solution (read out by
:func:`~.population_fba.solve_population`'s ``record``). A cell whose LP is infeasible has
no solution: it grows no biomass, so what it takes up through the tracked exchanges leaves
through the untracked ones (the model's internal reactions are balanced; tier 1 checks it),
and its ``u_i`` is minus the element content of its tracked fluxes.

The interval is in minutes (the population cell's time unit); fluxes are per hour. Within an
interval a cell's dry mass is the one it has at the start (the cell cycle grows the volume
in its own update): an operator split, first order in ``dt`` like the coupling of any two
processes. Because the store is read at the start of each interval, the growth rate the
cell cycle uses in an interval is the one written at the end of the previous one.

Uptake is never more than the medium holds: if the live cells, each at its bound for the
whole interval, would take up more of a substrate than is there, every bound above a common
cap ``c`` is lowered to ``c``, where ``c`` makes the total exactly what is there (the cells
with small bounds keep them), before the LPs are solved. Cells whose LP is infeasible (too
little carbon for the non-growth ATP maintenance, e.g. no LacY after glucose has run out)
raise :class:`~.errors.InfeasibleError` with ``on_infeasible: raise``; with ``status`` (the
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

import difflib
import logging
import math
from dataclasses import dataclass

import numpy as np

from ..framework.base import GreyboxProcess
from ..framework.division import check_slots
from ..framework.ports import array_port
from .composites import GLUCOSE_MW, LACTOSE_MW, percent_to_mM
from .errors import InvalidConcentrationError, UnknownExchangeError
from .expression import DEFAULT_KCAT, RibosomeParameters
from .lac import CYTOPLASM_L_PER_GDW
from .models import biomass_reaction, load_model
from .population_fba import PopulationFBA, solve_population
from .translation import couple_translation_to_trna
from .uptake import DEFAULT_KINETICS, UptakeKinetics, uptake_bound

__all__ = ["PopulationMetabolism", "population_cell_ports", "check_culture_config", "CellBounds", "availability_cap", "LAC_SPECIES",
           "AVOGADRO", "DEFAULT_DRY_MASS_DENSITY", "METHODS", "ELEMENTS", "element_counts",
           "biomass_elements"]

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
#: L per fL, and minutes per hour (the interval is in minutes, fluxes per hour).
_L_PER_FL = 1e-15
_MIN_PER_H = 60.0
#: Names in ``lac_species`` of the permease and of beta-galactosidase.
_LACY, _LACZ = "lacY", "lacZ"
#: Elements of the ``ledger`` store, in its order (as RegulatedDynamicFBA's ledger).
ELEMENTS = ("C", "N")


def element_counts(model, reaction_ids, elements=ELEMENTS) -> np.ndarray:
    """``(n, e)`` atoms of each element in the one metabolite of each boundary reaction.

    From the cobra formulas; a metabolite without a formula counts 0 (its matter cannot be
    audited). ``reaction_ids``: exchange, sink or demand reactions (``'A <=>'``).
    """
    out = np.zeros((len(reaction_ids), len(elements)))
    for i, rid in enumerate(reaction_ids):
        metabolite = next(iter(model.reactions.get_by_id(rid).metabolites))
        out[i] = [float(metabolite.elements.get(e, 0) or 0) for e in elements]
    return out


def biomass_elements(model, elements=ELEMENTS) -> np.ndarray:
    """``(e,)`` mmol of each element per gDW of biomass: what the biomass reaction consumes
    minus what it makes (per unit flux, i.e. per gDW)."""
    out = np.zeros(len(elements))
    for metabolite, coefficient in biomass_reaction(model).metabolites.items():
        out -= coefficient * np.array([float(metabolite.elements.get(e, 0) or 0)
                                       for e in elements])
    return out


@dataclass(frozen=True)
class CellBounds:
    """The live cells of one update and the uptake bounds their LPs are solved with.

    Attributes
    ----------
    live : (n,) slot index of each live cell.
    dry_mass : (n,) dry mass per cell, gDW.
    bounds : (n, 2) uptake bounds [glucose, lactose], mmol/gDW/h, after the availability cap.
    weights : (n,) medium change per unit flux, ``dry_mass * cells_per_litre * dt``,
        gDW h/L (flux in mmol/gDW/h times a weight is mM).
    """

    live: np.ndarray
    dry_mass: np.ndarray
    bounds: np.ndarray
    weights: np.ndarray


def availability_cap(bounds, weights, amount: float) -> float:
    """The common cap ``c`` on ``bounds`` so that ``sum(weights * min(bounds, c)) <= amount``.

    ``inf`` when the uncapped total fits. Otherwise the largest ``c`` with total ``amount``:
    cells whose bound is below ``c`` keep it, the others get ``c`` (the medium is shared, so
    no cell is favoured). ``bounds`` in mmol/gDW/h, ``weights`` in gDW h/L, ``amount`` in mM.
    """
    bounds = np.asarray(bounds, dtype=float)
    weights = np.asarray(weights, dtype=float)
    amount = max(float(amount), 0.0)
    if float(np.dot(weights, bounds)) <= amount:
        return math.inf
    order = np.argsort(bounds, kind="stable")
    sorted_bounds, sorted_weights = bounds[order], weights[order]
    # total taken by the cells below the k-th bound, and the weight of those at or above it
    below = np.concatenate([[0.0], np.cumsum(sorted_weights * sorted_bounds)])
    above = np.concatenate([np.cumsum(sorted_weights[::-1])[::-1], [0.0]])
    for k in range(len(sorted_bounds)):
        if above[k] <= 0.0:
            continue
        cap = (amount - below[k]) / above[k]
        if cap <= sorted_bounds[k]:
            return max(cap, 0.0)
    return math.inf  # not reached: the uncapped total exceeds amount



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
    """Flux balance of every live cell in a shared medium: per-cell growth rates, medium uptake."""

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
        self.exchanges = (str(cfg["glucose_exchange"]), str(cfg["lactose_exchange"]))
        self._check_exchange_ids()
        species = [str(s) for s in cfg["lac_species"]]
        self._lacy_index, self._lacz_index = species.index(_LACY), species.index(_LACZ)
        self._derive_parameters()
        if cfg["method"] == "etfl":
            self._add_expression_layer()
        self._element_tables()
        self._check_initial_medium_lp()

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

    def _check_initial_medium_lp(self):
        """Solve once now, so an exchange the LP cannot bound fails here, not mid-run."""
        self._solve_initial_glucose_only()

    # -- ports ---------------------------------------------------------------------------
    def _cell_ports(self):
        return population_cell_ports(self.config["capacity"], len(self.config["lac_species"]))

    def inputs(self):
        # the ledger is only written (deltas); it is an input too so that a spec may wire it
        # both ways, as RegulatedDynamicFBA's
        return {**self._cell_ports(), "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                "ledger": array_port((len(ELEMENTS),), "mM")}

    def outputs(self):
        return {"growth_rate": self._cell_ports()["growth_rate"],
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                "ledger": array_port((len(ELEMENTS),), "mM")}

    def initial_state(self):
        return {"glucose": float(self.config["initial_glucose"]),
                "lactose": float(self.config["initial_lactose"]),
                "ledger": np.zeros(len(ELEMENTS))}

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
        """The live cells and their uptake bounds for an update of ``interval`` minutes."""
        return self._bounds(*self._read(state), interval)

    def _bounds(self, alive, volume, lac, glucose, lactose, interval) -> CellBounds:
        live = np.flatnonzero(alive > 0.5)
        mass = self.dry_mass(volume[live])
        n = len(live)
        bounds = np.empty((n, 2))
        bounds[:, 0] = uptake_bound(self.glucose_kinetics, glucose)
        bounds[:, 1] = self.lactose_bounds(lac[live, self._lacy_index],
                                           lac[live, self._lacz_index], mass, glucose, lactose)
        weights = mass * self.cells_per_litre * (float(interval) / _MIN_PER_H)
        for column, amount in enumerate((glucose, lactose)):
            cap = availability_cap(bounds[:, column], weights, amount)
            bounds[:, column] = np.minimum(bounds[:, column], cap)
        return CellBounds(live=live, dry_mass=mass, bounds=bounds, weights=weights)

    # -- update --------------------------------------------------------------------------
    def _read(self, state):
        """(alive, volume, lac, glucose, lactose) from the state, checked."""
        n, k = self.config["capacity"], len(self.config["lac_species"])
        alive = np.asarray(state["alive"], dtype=float)
        volume = np.asarray(state["volume"], dtype=float)
        lac = np.asarray(state["lac"], dtype=float)
        for name, value, shape in (("alive", alive, (n,)), ("volume", volume, (n,)),
                                   ("lac", lac, (n, k))):
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
        medium = []
        for name in ("glucose", "lactose"):
            value = float(np.asarray(state[name], dtype=float).reshape(-1)[0])
            if not math.isfinite(value) or value < -1e-9:
                raise InvalidConcentrationError(f"medium {name} must be finite and >= 0 (mM), "
                                                f"got {value}")
            medium.append(max(value, 0.0))
        return alive, volume, lac, medium[0], medium[1]

    def _solve(self, cells: CellBounds):
        """Per live cell: growth (1/h), tracked exchange fluxes and the elements leaving
        through the untracked exchanges (both mmol/gDW/h)."""
        record = dict(zip(self.untracked, self._untracked_elements))
        result = solve_population(self.model, self.exchanges, cells.bounds,
                                  on_infeasible=self.config["on_infeasible"], record=record)
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

    def update(self, state, interval):
        capacity = self.config["capacity"]
        alive, volume, lac, glucose, lactose = self._read(state)
        cells = self._bounds(alive, volume, lac, glucose, lactose, interval)
        growth_per_min = np.zeros(capacity)
        change = np.zeros(2)
        ledger = np.zeros(len(ELEMENTS))
        if len(cells.live):
            growth, fluxes, secreted = self._solve(cells)
            growth_per_min[cells.live] = growth / _MIN_PER_H
            change = cells.weights @ fluxes  # mM; < 0 is uptake
            ledger = cells.weights @ secreted  # mM of each element, > 0 secreted
            # round-off only (the availability cap keeps uptake within the medium)
            change = np.maximum(change, -np.array([glucose, lactose])) + 0.0  # no -0.0
        old = np.asarray(state["growth_rate"], dtype=float)
        return {"growth_rate": growth_per_min - old,
                "glucose": float(change[0]), "lactose": float(change[1]), "ledger": ledger}

    # -- one cell as a DynamicFBA ------------------------------------------------------------
    def single_cell_dfba(self, lac=None, volume: float | None = None):
        """One cell of this population at ``t = 0`` as a :class:`~.dfba.DynamicFBA`.

        The same LP as this process solves for that cell at the start: the same model (and,
        ``method: etfl``, the same charged-tRNA coupling and ribosome growth cap, applied to
        the DynamicFBA's own model copy), glucose uptake by the same kinetics at the initial
        glucose, and lactose uptake at the initial lactose equal to this cell's bound from its
        LacY and LacZ (the DynamicFBA's ``v_max`` is set so that ``v_max L0 / (K_L + L0)``
        is that bound; with no LacY the lactose exchange is closed). Its ``initial_lp()``
        is therefore this population's LP for the cell at ``t = 0``; later in a run the two
        differ (the DynamicFBA has no inducer exclusion and no per-cell lac counts).

        ``lac``: the cell's lac counts in ``lac_species`` order (default: none, as the
        LacOperon's default initial state); ``volume``: its volume, fL (default
        ``initial_volume``).
        """
        from .dfba import DynamicFBA

        cfg = self.config
        counts = np.zeros(len(cfg["lac_species"])) if lac is None else \
            np.asarray(lac, dtype=float).reshape(-1)
        if counts.shape != (len(cfg["lac_species"]),):
            raise ValueError(f"lac must hold one count per lac species {cfg['lac_species']}, "
                             f"got shape {counts.shape}")
        mass = self.dry_mass(cfg["initial_volume"] if volume is None else volume)
        glucose, lactose = float(cfg["initial_glucose"]), float(cfg["initial_lactose"])
        lactose_bound = float(self.lactose_bounds(counts[self._lacy_index],
                                                  counts[self._lacz_index], mass, glucose,
                                                  lactose))
        glc_ex, lac_ex = self.exchanges
        kinetics = self.glucose_kinetics
        config = {"model": cfg["model"], "exchanges": [glc_ex],
                  "initial_concentrations": {glc_ex: glucose},
                  "vmax": {glc_ex: kinetics.vmax}, "km": {glc_ex: kinetics.km},
                  "initial_biomass": cfg["initial_biomass"],
                  "on_infeasible": "status" if cfg["on_infeasible"] == "status" else "raise"}
        if lactose_bound > 0:  # then lactose > 0, so the saturation is > 0
            saturation = lactose / (self.lactose_km + lactose)
            config["exchanges"].append(lac_ex)
            config["initial_concentrations"][lac_ex] = lactose
            config["vmax"][lac_ex] = lactose_bound / saturation
            config["km"][lac_ex] = self.lactose_km
        process = DynamicFBA(config, self.core)
        if lactose_bound <= 0:  # no permease: no lactose in, whatever the model's own bound
            process.model.reactions.get_by_id(lac_ex).lower_bound = 0.0
        if cfg["method"] == "etfl":
            couple_translation_to_trna(process.model)  # the DynamicFBA's own copy
            biomass = process.biomass_rxn
            biomass.upper_bound = min(biomass.upper_bound, self.ribosome_growth_cap)
        return process
