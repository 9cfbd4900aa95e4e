"""Dynamic flux balance analysis as a process: a culture's biomass and its medium, in shared stores.

Each interval (hours) the process

1. sets the uptake bound of every tracked exchange to the Michaelis-Menten rate at the current
   external concentration (uptake.py), and never above what is there;
2. optionally (``expression: true``) adds the ETFL-style enzyme and ribosome constraints of
   :class:`~.expression.ExpressionLayer` (flux <= kcat x enzyme, growth capped by ribosomes);
   with ``enzymes: all`` every gene-catalysed reaction has an enzyme level in the ``enzymes``
   store, and the LP also chooses their synthesis under the ribosome budget
   (:class:`~.enzymes.EnzymeSector`; ``enzyme_degradation`` in 1/h, default 0: dilution only);
3. maximises growth with all of that inside ``with model:``, so the model is never left modified,
   then (``min_uptake: true``, the default) takes, at that growth rate, the least carbon
   uptake from the tracked exchanges, so that no substrate is taken up that growth does not
   need (growth alone leaves uptake undetermined when ribosomes or enzymes cap it);
4. integrates exactly over the interval at constant fluxes: biomass ``X(t+dt) = X e^{mu dt}``,
   and each external metabolite changes by ``v X (e^{mu dt} - 1)/mu``; if that would take more
   than is left, the bound is tightened and the LP solved again (up to four times, then
   :class:`~.errors.UptakeLimitError`: uptake is never clipped silently);
5. advances the enzyme levels (lac operon regulation, dilution by growth, degradation);
6. returns every change as a delta.

When no growth is possible (the LP is infeasible, e.g. no carbon left for non-growth
maintenance), ``on_infeasible: raise`` raises :class:`~.errors.InfeasibleError`;
``on_infeasible: status`` records it in the ``status`` store (1 growing, 0 not growing:
maintenance only, -1 nothing feasible) and solves for maintenance alone (growth fixed at 0,
ATP maintenance as high as the uptake bounds allow up to its requirement), so substrates are
still used for maintenance. Fluxes and growth rate are stored either way: nothing is a silent 0.

Thermodynamics: with ``loopless: true`` the internal fluxes are made free of thermodynamically
infeasible cycles by CycleFreeFlux (Desouki et al. 2015, Bioinformatics 31:2159, cobra's
``loopless_solution``), which keeps exchange fluxes and growth unchanged. Reaction Gibbs
energies (component contribution, vendored offline: :mod:`.thermo`) enter with
``thermodynamics: directions`` (reversible reactions whose Gibbs energy has one sign over the
physiological concentration range become irreversible; an LP as before) or
``thermodynamics: tfa`` (thermodynamics-based FBA, :mod:`.tfa`: one set of metabolite
concentrations for all covered reactions, each flux down its Gibbs energy; a MILP, practical on
e_coli_core). Coverage and limits are in :mod:`.thermo`.

Units: time in hours; concentrations in mM; biomass in gDW/L; fluxes in mmol/gDW/h.
"""
from __future__ import annotations

import contextlib
import logging
import math

import numpy as np

from ..framework.base import GreyboxProcess
from ..framework.ports import array_port
from .errors import (InfeasibleError, InvalidConcentrationError, UnknownGeneError,
                     UptakeLimitError)
from .expression import PROTEOME_FIELDS, ExpressionLayer
from .lac import LAC_VARIABLES
from .media import apply_medium, check_exchanges
from .models import biomass_reaction, load_model
from .uptake import DEFAULT_KINETICS, UptakeKinetics, uptake_bound

__all__ = ["DynamicFBA", "apply_knockouts", "STATUS"]

logger = logging.getLogger(__name__)

#: Meaning of the ``status`` store.
STATUS = {1.0: "growing", 0.0: "not growing (optimum at zero growth, or maintenance only)",
          -1.0: "infeasible"}

_TINY = 1e-12


def apply_knockouts(model, genes) -> list:
    """Knock ``genes`` out of ``model`` through its gene-protein-reaction rules.

    Returns the ids of the reactions that lose all their enzymes (bounds set to 0). Raises
    :class:`UnknownGeneError` for an id the model does not have. Call inside ``with model:``
    for a temporary knockout.
    """
    genes = [str(g) for g in genes]
    missing = [g for g in genes if g not in model.genes]
    if missing:
        import difflib
        hints = {g: difflib.get_close_matches(g, [x.id for x in model.genes], n=2) for g in missing}
        detail = "; ".join(f"{g!r}" + (f" (did you mean {', '.join(h)}?)" if h else "")
                           for g, h in hints.items())
        raise UnknownGeneError(f"unknown gene id(s) for model {model.id!r}: {detail}. Gene ids "
                               "are b-numbers for the E. coli models (e.g. b0344 for lacZ)")
    knocked = set(genes)
    affected = {r for g in genes for r in model.genes.get_by_id(g).reactions}
    dead = sorted(r.id for r in affected if not r.gpr.eval(knockouts=knocked))
    for rid in dead:
        model.reactions.get_by_id(rid).bounds = (0.0, 0.0)
    return dead


class DynamicFBA(GreyboxProcess):
    """Dynamic FBA of a batch culture (cobra), optionally with ETFL-style enzyme/ribosome limits.

    Ports:
      proteome: lac-enzyme and ribosomal proteome fractions, ribosome utilisation (dimensionless)
    """

    config_schema = {
        "model": {"_type": "string", "_default": "textbook"},
        "exchanges": {"_type": "list[string]", "_default": ["EX_glc__D_e"]},
        "initial_concentrations": {"_type": "map[float]", "_default": {}},
        "initial_biomass": {"_type": "float", "_default": 0.01},
        "vmax": {"_type": "map[float]", "_default": {}},
        "km": {"_type": "map[float]", "_default": {}},
        "medium": {"_type": "string", "_default": ""},
        "knockout": {"_type": "list[string]", "_default": []},
        "loopless": {"_type": "boolean", "_default": False},
        "thermodynamics": {"_type": "string", "_default": ""},
        "min_uptake": {"_type": "boolean", "_default": True},
        "expression": {"_type": "boolean", "_default": False},
        "iptg": {"_type": "boolean", "_default": False},
        "kcat": {"_type": "map[float]", "_default": {}},
        "enzymes": {"_type": "string", "_default": "lac"},
        "enzyme_degradation": {"_type": "float", "_default": 0.0},
        "on_infeasible": {"_type": "string", "_default": "raise"},
        "maintenance_reaction": {"_type": "string", "_default": "ATPM"},
    }

    def initialize(self, config):
        cfg = self.config
        if cfg["on_infeasible"] not in ("raise", "status"):
            raise ValueError(f"on_infeasible must be 'raise' or 'status', got "
                             f"{cfg['on_infeasible']!r}")
        self.model = load_model(cfg["model"])  # our own copy: the caller's model is never touched
        self.biomass_rxn = biomass_reaction(self.model)
        self.exchanges = [str(e) for e in cfg["exchanges"]]
        if not self.exchanges:
            raise ValueError("give at least one exchange reaction to track under 'exchanges'")
        check_exchanges(self.model, self.exchanges, "tracked exchange")
        for key in ("vmax", "km", "initial_concentrations"):
            unknown = [k for k in cfg[key] if k not in self.exchanges]
            if unknown:
                raise ValueError(f"{key} names {unknown}, which are not tracked; add them to "
                                 f"'exchanges' ({self.exchanges}) or remove them")
        for key in ("vmax", "km"):
            bad = {k: v for k, v in cfg[key].items() if not (math.isfinite(v) and v > 0)}
            if bad:
                raise ValueError(f"{key} values must be positive and finite, got {bad}")
        self.kinetics = {}
        for ex in self.exchanges:
            base = DEFAULT_KINETICS.get(ex)
            vmax = cfg["vmax"].get(ex, base.vmax if base else None)
            km = cfg["km"].get(ex, base.km if base else None)
            if vmax is not None and km is not None:
                self.kinetics[ex] = UptakeKinetics(float(vmax), float(km),
                                                   base.source if base else "config")
        self._check_concentrations(cfg["initial_concentrations"], "initial_concentrations")
        if not (math.isfinite(cfg["initial_biomass"]) and cfg["initial_biomass"] > 0):
            raise InvalidConcentrationError(f"initial_biomass must be a positive number (gDW/L), "
                                            f"got {cfg['initial_biomass']!r}")
        if cfg["medium"]:
            apply_medium(self.model, cfg["medium"])
        self.knocked_out = apply_knockouts(self.model, cfg["knockout"])
        self.thermodynamics = self._thermodynamics(cfg["thermodynamics"])
        if cfg["maintenance_reaction"] and cfg["maintenance_reaction"] not in self.model.reactions:
            raise ValueError(f"maintenance_reaction {cfg['maintenance_reaction']!r} is not in the "
                             "model; give its id or '' for none")
        self.n = len(self.exchanges)
        self._conc0 = np.array([float(cfg["initial_concentrations"].get(ex, 0.0))
                                for ex in self.exchanges])
        self.expression = None
        self._last_internal = None  # loopless internal fluxes of the last LP (loopless: true)
        self._lac0 = np.zeros(len(LAC_VARIABLES))
        self.sector, self._enzymes0 = None, np.zeros(0)
        if cfg["enzymes"] not in ("lac", "all"):
            raise ValueError(f"enzymes must be 'lac' (only the lac enzymes are state) or 'all' "
                             f"(every gene-catalysed reaction), got {cfg['enzymes']!r}")
        if cfg["enzymes"] == "all" and not cfg["expression"]:
            raise ValueError("enzymes: all needs the expression layer; set expression: true")
        if cfg["expression"]:
            missing = [r for r in ExpressionLayer.enzyme_reactions if r not in self.model.reactions]
            if missing:
                raise ValueError(f"expression: true needs the lac reactions {missing}; use model "
                                 "'textbook_lactose' or a model that has them")
            glc, lcts = self._named_conc(self._conc0)
            self.expression, self._lac0 = self._preculture(glc, lcts)
            if cfg["enzymes"] == "all":
                self.sector, self._enzymes0 = self._enzyme_preculture(glc, lcts)

    # -- helpers -------------------------------------------------------------------------
    def _thermodynamics(self, mode):
        """Gibbs-energy constraints on our own model copy (thermo.py, tfa.py); their summary."""
        if mode == "":
            return None
        if mode == "directions":
            from .thermo import apply_gibbs_directions

            return {"mode": mode, "table": apply_gibbs_directions(self.model)}
        if mode == "tfa":
            from .tfa import add_tfa_constraints

            return {"mode": mode, **add_tfa_constraints(self.model)}
        raise ValueError(f"thermodynamics must be '' (off), 'directions' (reversible reactions "
                         f"made irreversible where their Gibbs energy has one sign) or 'tfa' "
                         f"(thermodynamics-based FBA, a MILP), got {mode!r}")

    @staticmethod
    def _check_concentrations(values, name):
        bad = {k: v for k, v in dict(values).items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            raise InvalidConcentrationError(f"{name}: concentrations must be finite and >= 0 "
                                            f"(mM), got {bad}")

    def _named_conc(self, conc):
        lookup = dict(zip(self.exchanges, conc))
        return float(lookup.get("EX_glc__D_e", 0.0)), float(lookup.get("EX_lcts_e", 0.0))

    @contextlib.contextmanager
    def _preculture_bounds(self, caps=None):
        """The model with the initial medium's uptake bounds and reaction upper bounds ``caps``."""
        with self.model:
            for ex, s in zip(self.exchanges, self._conc0):
                kin = self.kinetics.get(ex)
                if kin is not None:
                    self.model.reactions.get_by_id(ex).lower_bound = -uptake_bound(kin, s)
            for rid, cap in (caps or {}).items():
                self.model.reactions.get_by_id(rid).upper_bound = cap
            yield self.model

    def _preculture_growth(self, caps=None) -> float:
        """Growth rate (1/h) in the initial medium under reaction upper bounds ``caps``."""
        with self._preculture_bounds(caps) as model:
            value = model.slim_optimize(error_value=float("nan"))
        return value if math.isfinite(value) and value > 0 else 0.0

    def _enzyme_preculture(self, glc, lcts):
        """Enzyme sector (enzymes: all) and its levels in cells pre-grown in the initial medium."""
        from .enzymes import EnzymeSector

        cfg = self.config
        sector = EnzymeSector.from_model(self.model, exclude=tuple(ExpressionLayer.enzyme_reactions),
                                         kcat=cfg["kcat"],
                                         degradation_per_h=cfg["enzyme_degradation"])
        caps = self.expression.flux_capacity(self._lac0, lcts, glc)
        with self._preculture_bounds(caps) as model:
            levels = sector.initial_levels(model, self.biomass_rxn, self.expression.mu0)
        share = sector.protein_aa(levels) / self.expression.ribo.protein_aa_mmol_per_gdw
        if share >= 1.0:
            raise ValueError(f"the enzymes of the pre-culture would take {share:.0%} of the "
                             "proteome; check the kcat overrides (1/s)")
        return sector, levels

    def _preculture(self, glc, lcts):
        """Expression layer and lac state of cells pre-grown in the initial medium.

        Growth without the lac enzymes sets a first lac steady state; growth with the
        capacities of those enzymes then sets the ribosome content (``mu0``) and the final
        pre-culture lac state.
        """
        cfg = self.config
        k_glc = self.kinetics.get("EX_glc__D_e", DEFAULT_KINETICS["EX_glc__D_e"]).km
        no_lac = {r: 0.0 for r in ExpressionLayer.enzyme_reactions}
        mu = self._preculture_growth(no_lac)
        for _ in range(2):
            layer = ExpressionLayer(mu, kcat=cfg["kcat"], iptg=cfg["iptg"], k_glucose=k_glc)
            lac0 = layer.initial_state(lcts, glc)
            mu = self._preculture_growth(layer.flux_capacity(lac0, lcts, glc))
        layer = ExpressionLayer(mu, kcat=cfg["kcat"], iptg=cfg["iptg"], k_glucose=k_glc)
        return layer, layer.initial_state(lcts, glc)

    # -- ports ---------------------------------------------------------------------------
    def _ports(self):
        sector = {} if self.sector is None else {
            "enzymes": array_port((self.sector.size,), "mmol/gDW")}
        return {**sector,
            "concentrations": array_port((self.n,), "mM"),
            "biomass": {"_type": "float", "_units": "gDW/L"},
            "lac": array_port((len(LAC_VARIABLES),), "mM"),
            "fluxes": array_port((self.n,), "mmol/gDW/h"),
            "growth_rate": {"_type": "float", "_units": "1/h"},
            "status": {"_type": "float"},
            "proteome": array_port((len(PROTEOME_FIELDS),), ""),
        }

    def inputs(self):
        return self._ports()

    def outputs(self):
        return self._ports()

    def initial_state(self):
        return {"concentrations": self._conc0.copy(),
                "biomass": float(self.config["initial_biomass"]),
                "lac": self._lac0.copy(), "fluxes": np.zeros(self.n), "growth_rate": 0.0,
                "status": 1.0, "proteome": np.zeros(len(PROTEOME_FIELDS)),
                **({} if self.sector is None else {"enzymes": self._enzymes0.copy()})}

    def port_metadata(self):
        species = [ex[3:] if ex.startswith("EX_") else ex for ex in self.exchanges]
        sector = {} if self.sector is None else {"enzymes": {
            "dims": ("enzyme",), "coords": {"enzyme": list(self.sector.reactions)},
            "units": "mmol/gDW", "long_name": "enzyme level per reaction (polypeptide chains)"}}
        return {**sector,
            "concentrations": {"dims": ("metabolite",), "coords": {"metabolite": species},
                               "units": "mM", "long_name": "external concentration"},
            "fluxes": {"dims": ("metabolite",), "coords": {"metabolite": species},
                       "units": "mmol/gDW/h", "long_name": "exchange flux (<0 uptake)"},
            "biomass": {"units": "gDW/L", "long_name": "biomass (time in h)"},
            "growth_rate": {"units": "1/h", "long_name": "specific growth rate"},
            "status": {"units": "", "long_name": "1 growing, 0 maintenance only, -1 infeasible"},
            "lac": {"dims": ("lac_species",), "coords": {"lac_species": list(LAC_VARIABLES)},
                    "units": "mM", "long_name": "lac operon state (Yildirim & Mackey 2003)"},
            "proteome": {"dims": ("proteome_sector",),
                         "coords": {"proteome_sector": list(PROTEOME_FIELDS)}, "units": "",
                         "long_name": "proteome allocation (fractions)"},
        }

    # -- the LP --------------------------------------------------------------------------
    def _solve(self, bounds, growth_cap, enzyme_caps, sector_rows=None):
        """Max growth under the given uptake bounds; returns (mu, fluxes, status).

        ``sector_rows(model)`` (enzymes: all) adds the enzyme rows and returns the synthesis
        variables; the chosen synthesis is left in ``self._synthesis``.
        """
        model = self.model
        self._synthesis = None
        with model:
            synthesis = sector_rows(model) if sector_rows is not None else None
            for ex, uptake in bounds.items():
                if uptake is not None:  # tracked exchange: kinetics and availability decide
                    model.reactions.get_by_id(ex).lower_bound = -uptake
            for rid, cap in enzyme_caps.items():
                rxn = model.reactions.get_by_id(rid)
                rxn.upper_bound = min(rxn.upper_bound, cap)
            if growth_cap is not None:
                self.biomass_rxn.upper_bound = min(self.biomass_rxn.upper_bound, growth_cap)
            model.slim_optimize()
            status = model.solver.status
            if status == "optimal":
                mu = model.solver.objective.value
                if self.config["min_uptake"] and mu > _TINY:
                    self._min_uptake(mu)
                if synthesis is not None:
                    self.sector.minimise_synthesis(model, synthesis)
                    self._synthesis = np.array([float(v.primal) for v in synthesis])
                fluxes = self._exchange_fluxes()
                if self.config["loopless"]:
                    self._last_internal = self._loopless()
                mu = max(mu, 0.0)
                return mu, fluxes, (1.0 if mu > _TINY else 0.0), status
            if self.config["on_infeasible"] != "raise" and not getattr(
                    self, "_warned_infeasible", False):
                # once per process: a long run would otherwise repeat it every interval
                self._warned_infeasible = True
                logger.warning(
                    "%s (%s): growth LP infeasible (solver status %r); recording status -1/0 "
                    "and solving for maintenance only (growth 0). Fix: add a carbon source to "
                    "the medium, or set on_infeasible: raise to stop here",
                    self.__class__.__name__, model.id, status)
            if self.config["on_infeasible"] == "raise":
                raise InfeasibleError(
                    f"dynamic FBA ({model.id}): no feasible growth (solver status {status!r}) at "
                    f"uptake bounds "
                    f"{({k: round(v, 6) for k, v in bounds.items() if v is not None})}"
                    "; the medium cannot cover the non-growth maintenance. Fix: add a carbon "
                    "source, or set on_infeasible: status to record non-growth instead",
                    status=status)
            # maintenance only: growth 0, maximise ATP maintenance up to its requirement
            maint = self.config["maintenance_reaction"]
            self.biomass_rxn.bounds = (0.0, 0.0)
            if maint:
                atpm = model.reactions.get_by_id(maint)
                requirement = atpm.lower_bound
                atpm.bounds = (0.0, max(requirement, 0.0))
                model.objective = atpm
            model.slim_optimize()
            status2 = model.solver.status
            if status2 == "optimal":
                return 0.0, self._exchange_fluxes(), 0.0, status
            return 0.0, np.zeros(self.n), -1.0, status2

    def _carbon_weight(self, exchange_id):
        """Carbon atoms of an exchange's metabolite (1 if it has no carbon or no formula)."""
        metabolite = next(iter(self.model.reactions.get_by_id(exchange_id).metabolites))
        return float(metabolite.elements.get("C", 0) or 1)

    def _min_uptake(self, mu):
        """At the optimal growth rate, the least carbon uptake from the tracked exchanges.

        Growth alone leaves uptake undetermined whenever it is capped by something other than
        the substrate (ribosomes, enzymes): the LP may then take up more than growth needs
        and spill it (e.g. as acetate). Cells growing below their uptake capacity do not
        (that is the point of the cap), so the second objective takes only what growth needs.
        """
        model = self.model
        self.biomass_rxn.lower_bound = mu * (1.0 - 1e-9)
        terms = [self._carbon_weight(ex) * model.reactions.get_by_id(ex).reverse_variable
                 for ex in self.exchanges]
        model.objective = model.problem.Objective(sum(terms), direction="min")
        model.slim_optimize()
        if model.solver.status != "optimal":
            raise InfeasibleError("minimising uptake at the optimal growth rate failed (solver "
                                  f"status {model.solver.status!r}); set min_uptake: false",
                                  status=model.solver.status)

    @contextlib.contextmanager
    def initial_lp(self, *, translation_activity: float | None = None):
        """The model as this cell's first LP sees it, inside ``with model:`` (analyses use it).

        Uptake bounds of the tracked exchanges from their kinetics at the initial
        concentrations; with the expression layer, the lac enzymes capped at kcat x level and,
        when ``translation_activity`` (the active share of the ribosomes, 0 to 1) is given,
        growth capped by the ribosomes that are left. Everything is undone on exit.
        """
        model = self.model
        with model:
            for i, (ex, s) in enumerate(zip(self.exchanges, self._conc0)):
                cap = self._kinetic_bound(i, ex, float(s))
                if cap is not None:
                    model.reactions.get_by_id(ex).lower_bound = -cap
            if self.expression is not None:
                glc, lcts = self._named_conc(self._conc0)
                for rid, cap in self.expression.flux_capacity(self._lac0, lcts, glc).items():
                    reaction = model.reactions.get_by_id(rid)
                    reaction.upper_bound = min(reaction.upper_bound, cap)
                if translation_activity is not None:
                    cap = self.expression.growth_cap(self._lac0, float(translation_activity))
                    self.biomass_rxn.upper_bound = min(self.biomass_rxn.upper_bound, cap)
            yield model

    def _kinetic_bound(self, index, exchange, concentration):
        """Michaelis-Menten uptake bound of tracked exchange ``index`` (None: no kinetics).

        A hook for subclasses that regulate uptake (neural.regulated scales it by a store).
        """
        kin = self.kinetics.get(exchange)
        return uptake_bound(kin, concentration) if kin is not None else None

    def _exchange_fluxes(self):
        return np.array([self.model.reactions.get_by_id(ex).flux for ex in self.exchanges])

    def _loopless(self):
        from cobra.flux_analysis.loopless import loopless_solution

        return loopless_solution(self.model).fluxes

    # -- update --------------------------------------------------------------------------
    def update(self, state, interval):
        conc = np.asarray(state["concentrations"], dtype=float)
        biomass = float(state["biomass"])
        if conc.shape != (self.n,):
            raise ValueError(f"store 'concentrations' has shape {conc.shape}, expected ({self.n},)")
        if not np.all(np.isfinite(conc)) or np.any(conc < -1e-9):
            raise InvalidConcentrationError(f"negative or non-finite external concentration(s) "
                                            f"{dict(zip(self.exchanges, conc))} (mM)")
        if not (math.isfinite(biomass) and biomass >= 0):
            raise InvalidConcentrationError(f"biomass must be finite and >= 0, got {biomass}")
        conc = np.maximum(conc, 0.0)
        dt = float(interval)
        lac = np.asarray(state["lac"], dtype=float)
        glc, lcts = self._named_conc(conc)
        enzyme_caps, growth_cap, sector_rows, levels = {}, None, None, None
        if self.expression is not None:
            enzyme_caps = self.expression.flux_capacity(lac, lcts, glc)
            growth_cap = self.expression.growth_cap(lac)
        if self.sector is not None:
            levels = self._sector_levels(state)
            sector_rows, growth_cap = self._sector_rows(levels, state, lac, dt), None
        # uptake bounds: kinetics, and no more than is there over the interval
        bounds = {}
        for i, (ex, s) in enumerate(zip(self.exchanges, conc)):
            cap = self._kinetic_bound(i, ex, s)
            if biomass > 0:
                available = s / (biomass * dt)
                cap = available if cap is None else min(cap, available)
            bounds[ex] = cap
        mu, fluxes, status = 0.0, np.zeros(self.n), 1.0
        if biomass > 0:
            for _ in range(4):
                mu, fluxes, status, _solver = self._solve(bounds, growth_cap, enzyme_caps,
                                                          sector_rows)
                factor = dt if mu * dt < 1e-9 else math.expm1(mu * dt) / mu
                change = fluxes * biomass * factor
                over = [(i, ex) for i, ex in enumerate(self.exchanges)
                        if change[i] < 0 and -change[i] > conc[i] * (1 + 1e-9)]
                if not over:
                    break
                for i, ex in over:
                    bounds[ex] = conc[i] / (biomass * factor)
            else:
                # The docstring promises uptake never exceeds what is there by re-solving;
                # clipping here would break the mass balance silently, so it is an error.
                worst = {ex: float(-change[i] - conc[i]) for i, ex in over}
                raise UptakeLimitError(
                    f"{self.__class__.__name__} ({self.model.id}): uptake still exceeds the "
                    f"available amount after 4 LP re-solves (excess in mM: {worst}). Fix: "
                    "shorten the interval (dt) so uptake bounds converge, or check a subclass's "
                    "_solve/_kinetic_bound that may ignore the uptake bounds")
        else:
            factor, change = dt, np.zeros(self.n)
        new_biomass_delta = biomass * math.expm1(mu * dt)
        change = np.maximum(change, -conc)  # round-off only: never below zero
        update = {
            "concentrations": change,
            "biomass": new_biomass_delta,
            "fluxes": fluxes - np.asarray(state["fluxes"], dtype=float),
            "growth_rate": mu - float(state["growth_rate"]),
            "status": status - float(state["status"]),
            "lac": np.zeros_like(lac),
            "proteome": np.zeros(len(PROTEOME_FIELDS)) - np.asarray(state["proteome"], dtype=float),
        }
        if self.expression is not None:
            new_lac = self.expression.advance(lac, dt, mu, lcts, glc)
            update["lac"] = new_lac - lac
            proteome = self.expression.proteome(new_lac, mu)
            if self.sector is not None:
                update["enzymes"], proteome[2] = self._advance_sector(levels, state, lac, mu,
                                                                      dt)
            update["proteome"] = proteome - np.asarray(state["proteome"], dtype=float)
        return update

    # -- enzyme sector (enzymes: all) ----------------------------------------------------
    def _sector_levels(self, state):
        levels = np.asarray(state["enzymes"], dtype=float)
        if levels.shape != (self.sector.size,) or not np.all(np.isfinite(levels)) or \
                np.any(levels < -1e-12):
            raise InvalidConcentrationError(
                f"store 'enzymes' must hold {self.sector.size} finite levels >= 0 (mmol/gDW), "
                f"got shape {levels.shape} with min {np.min(levels) if levels.size else None}")
        return np.maximum(levels, 0.0)

    def _sector_rows(self, levels, state, lac, dt):
        """The callable that adds this interval's enzyme rows to the LP."""
        layer = self.expression
        translation = layer.capacity_aa - layer.synthesis_aa(lac, 0.0)
        other = layer.ribo.protein_aa_mmol_per_gdw - self.sector.protein_aa(levels)
        if other <= 0:
            raise InvalidConcentrationError(
                f"the enzymes in state hold {self.sector.protein_aa(levels):.3g} mmol aa/gDW, "
                f"more than all protein ({layer.ribo.protein_aa_mmol_per_gdw:.3g}); the "
                "'enzymes' store was set outside the model's range")
        growth_prev = float(state["growth_rate"])
        return lambda model: self.sector.add_rows(model, self.biomass_rxn, levels, dt,
                                                  growth_prev, translation, other)

    def _advance_sector(self, levels, state, lac, mu, dt):
        """(enzyme delta, ribosome utilisation) after the interval."""
        synthesis = self._synthesis if self._synthesis is not None else \
            np.zeros(self.sector.size)
        new = self.sector.advance(levels, synthesis, dt, float(state["growth_rate"]))
        layer = self.expression
        used = (float(np.dot(self.sector.length_aa, synthesis)) + max(mu, 0.0) *
                (layer.ribo.protein_aa_mmol_per_gdw - self.sector.protein_aa(levels)) +
                layer.synthesis_aa(lac, mu))
        return new - levels, used / layer.capacity_aa if layer.capacity_aa > 0 else 0.0
