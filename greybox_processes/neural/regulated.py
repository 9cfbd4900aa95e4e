"""DynamicFBA with a regulation input: the lac transcription rate comes from a store.

The grey box needs the mechanistic cell to *read* its regulation rather than compute it, so
that a neural controller can write it (seed 000, Eq. 9: ``g_decode`` acts on regulatory
quantities, never on conserved amounts). :class:`RegulatedDynamicFBA` is
:class:`~greybox_processes.metabolism.dfba.DynamicFBA` with two additions:

* a ``regulation`` port (shape ``(1,)``): the lac operon *induction*, the fraction of the
  maximal lac mRNA synthesis rate ``alpha_M`` (Yildirim & Mackey 2003's
  ``(1 + K_1 e^{-2 mu tau_M} A^n) / (K + K_1 e^{-2 mu tau_M} A^n)``, in ``[1/K, 1]``).
  With ``regulation: model`` (the glass box) the hand-written law sets the induction, exactly
  as DynamicFBA does, and the process writes its value into the store after each step (so the
  store holds the regulation to learn from). With ``regulation: store`` (grey box and
  mechanistic-only) the induction is read from the store and held constant over the interval;
  everything else (mRNA, enzymes, dilution, ribosome cap, FBA, mass balance) is unchanged.
* a ``ledger`` port (shape ``(2,)``, mmol/L): carbon and nitrogen moved through the exchanges
  the process does not track (CO2, NH4, acetate, ...), so that medium + biomass + ledger is a
  closed elemental balance (:mod:`.conservation`).

Opt-in controls (:data:`CONTROLS`; each a config flag, and a port and store of the same
name, initially 1, read and clipped to ``[0, 1]``, never written). Without them (the default,
and the glass box) they are 1: the hand-written kinetics and expression alone.

* ``uptake_control`` (shape ``(n_exchanges,)``): multiplies the Michaelis-Menten uptake bound
  of each tracked exchange, so it can only tighten a bound of the LP, never move matter.
* ``synthesis_allocation`` (shape ``(1,)``): the fraction of the LacZ/LacY translation that
  regulation asks for which the cell makes (``synthesis_scale`` of the lac model); the
  ribosomes it frees raise the growth cap. It sets rates and an LP bound, never an amount.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import SimulationError
from ..framework.ports import array_port
from ..metabolism.dfba import DynamicFBA
from ..metabolism.expression import ExpressionLayer
from ..metabolism.lac import LAC_VARIABLES, integrate_lac, lac_rhs

__all__ = ["RegulatedDynamicFBA", "RegulatedExpressionLayer", "lac_induction", "ELEMENTS",
           "REGULATION_MODES", "CONTROLS"]

#: Elements tracked by the ledger (and the conservation check).
ELEMENTS = ("C", "N")
REGULATION_MODES = ("model", "store")
#: Opt-in control inputs (config flag = port = store name) -> what they scale.
CONTROLS = {"uptake_control": "one per tracked exchange, multiplier of its uptake bound",
            "synthesis_allocation": "one number, fraction of the lac enzymes' translation"}


def lac_induction(lac, growth_rate_per_h: float, params) -> float:
    """Yildirim-Mackey induction (fraction of maximal lac transcription) at a lac state."""
    a = max(float(lac[LAC_VARIABLES.index("A")]), 0.0)
    mu = max(float(growth_rate_per_h), 0.0) / 60.0
    k1a = params.K_1 * math.exp(-2.0 * mu * params.tau_M) * a ** params.n
    return (1.0 + k1a) / (params.K + k1a)


def _regulated_rhs(y, mu_per_min, lactose_mM, glucose_mM, p, *, induction, **kwargs):
    # lac_rhs with the repressor released has mRNA initiation alpha_M; scale it to `induction`
    rhs = lac_rhs(y, mu_per_min, lactose_mM, glucose_mM, p, iptg=True, **kwargs)
    rhs[LAC_VARIABLES.index("I1")] -= p.alpha_M * (1.0 - induction)
    return rhs


class RegulatedExpressionLayer(ExpressionLayer):
    """ExpressionLayer whose lac transcription and translation are set from outside.

    ``induction``: lac transcription (fraction of ``alpha_M``); ``allocation``: the fraction
    of the LacZ/LacY translation that regulation asks for which the cell makes (it scales
    ``synthesis_aa``, so the ribosome growth cap and the proteome see the same demand).
    ``None`` for either: ExpressionLayer's own behaviour.
    """

    induction = None
    allocation = None

    def synthesis_aa(self, y, mu_per_h: float) -> float:
        wanted = super().synthesis_aa(y, mu_per_h)
        return wanted if self.allocation is None else wanted * float(self.allocation)

    def advance(self, y, hours, mu_per_h, lactose_mM, glucose_mM):
        if self.induction is None and self.allocation is None:
            return super().advance(y, hours, mu_per_h, lactose_mM, glucose_mM)
        used = mu_per_h * self.ribo.protein_aa_mmol_per_gdw
        wanted = self.synthesis_aa(y, mu_per_h)
        free = max(self.capacity_aa - used, 0.0)
        scale = 1.0 if wanted <= free or wanted == 0 else free / wanted
        if self.allocation is not None:
            scale *= float(self.allocation)  # translation of what regulation asks, then ribosomes
        if self.induction is None:
            return integrate_lac(y, hours * 60.0, mu_per_h / 60.0, lactose_mM, glucose_mM,
                                 self.params, iptg=self.iptg, k_glucose=self.k_glucose,
                                 synthesis_scale=scale)
        return self._integrate_induced(y, hours * 60.0, mu_per_h, lactose_mM, glucose_mM, scale)

    def _integrate_induced(self, y, minutes, mu_per_h, lactose_mM, glucose_mM, scale):
        from scipy.integrate import solve_ivp

        if minutes <= 0:
            return np.asarray(y, dtype=float).copy()
        induction = float(self.induction)
        sol = solve_ivp(lambda t, v: _regulated_rhs(v, mu_per_h / 60.0, lactose_mM, glucose_mM,
                                                     self.params, induction=induction,
                                                     k_glucose=self.k_glucose,
                                                     synthesis_scale=scale),
                        (0.0, minutes), np.asarray(y, dtype=float), method="LSODA", rtol=1e-8,
                        atol=1e-13)
        if not sol.success:
            raise SimulationError(f"lac operon ODE (regulated) failed: {sol.message}")
        return np.maximum(sol.y[:, -1], 0.0)


class RegulatedDynamicFBA(DynamicFBA):
    """Dynamic FBA whose lac transcription is read from a regulation store (grey-box physics).

    Ports:
      proteome: lac-enzyme and ribosomal proteome fractions, ribosome utilisation (dimensionless)
      regulation: lac transcription as a fraction of its maximum (dimensionless)
      uptake_control: multiplier of each tracked uptake bound, in (0, 1) (dimensionless)
      synthesis_allocation: fraction of the asked-for lac enzyme translation made (dimensionless)
    """

    config_schema = {
        **DynamicFBA.config_schema,
        "expression": {"_type": "boolean", "_default": True},
        "regulation": {"_type": "string", "_default": "model"},
        "uptake_control": {"_type": "boolean", "_default": False},
        "synthesis_allocation": {"_type": "boolean", "_default": False},
    }

    def initialize(self, config):
        mode = self.config["regulation"]
        if mode not in REGULATION_MODES:
            raise ValueError(f"regulation must be one of {REGULATION_MODES} ('model': the "
                             f"hand-written lac law; 'store': read it from the regulation "
                             f"store), got {mode!r}")
        if not self.config["expression"]:
            raise ValueError("RegulatedDynamicFBA regulates the expression layer: set "
                             "expression: true (or use DynamicFBA for plain dFBA)")
        super().initialize(config)
        self._check_uptake_control()
        self._uptake_scale = np.ones(self.n)
        self._element_table()

    def _check_uptake_control(self):
        unscaled = [ex for ex in self.exchanges if ex not in self.kinetics]
        if self.config["uptake_control"] and unscaled:
            raise ValueError(f"uptake_control scales the Michaelis-Menten uptake bound, but "
                             f"tracked exchange(s) {unscaled} have no kinetics; give 'vmax' "
                             "and 'km' for them, or set uptake_control: false")

    def _preculture(self, glc, lcts):
        layer, lac0 = super()._preculture(glc, lcts)
        regulated = RegulatedExpressionLayer(layer.mu0, kcat=self.config["kcat"],
                                             iptg=self.config["iptg"],
                                             k_glucose=layer.k_glucose)
        self._induction0 = 1.0 if self.config["iptg"] else \
            lac_induction(lac0, layer.mu0, layer.params)
        return regulated, lac0

    # -- elements ------------------------------------------------------------------------
    def _element_table(self):
        """Element counts of every boundary reaction's metabolite and of 1 gDW of biomass."""
        model = self.model
        self._boundary = [r.id for r in model.boundary]
        self._untracked = [r for r in self._boundary if r not in self.exchanges]
        self._elem = {}
        for rid in self._boundary:
            met = next(iter(model.reactions.get_by_id(rid).metabolites))
            self._elem[rid] = np.array([float(met.elements.get(e, 0) or 0) for e in ELEMENTS])
        composition = np.zeros(len(ELEMENTS))
        for met, coef in self.biomass_rxn.metabolites.items():
            composition -= coef * np.array([float(met.elements.get(e, 0) or 0)
                                            for e in ELEMENTS])
        self.biomass_elements = composition  # mol element per... mmol/gDW of each element

    def _kinetic_bound(self, index, exchange, concentration):
        # the control only scales the hand-written bound down: a tighter LP, never new matter
        bound = super()._kinetic_bound(index, exchange, concentration)
        return None if bound is None else bound * self._uptake_scale[index]

    def _solve(self, bounds, growth_cap, enzyme_caps, sector_rows=None):
        # an infeasible re-solve sets no fluxes: the ledger must not keep the previous LP's
        self._untracked_fluxes = np.zeros(len(self._untracked))
        return super()._solve(bounds, growth_cap, enzyme_caps, sector_rows)

    def _exchange_fluxes(self):
        # called inside DynamicFBA._solve while the solution is current: keep the untracked ones
        self._untracked_fluxes = np.array([self.model.reactions.get_by_id(r).flux
                                           for r in self._untracked])
        return super()._exchange_fluxes()

    # -- ports ---------------------------------------------------------------------------
    def _controls(self) -> dict:
        """The opt-in controls this process reads, with their sizes."""
        sizes = {"uptake_control": self.n, "synthesis_allocation": 1}
        return {name: size for name, size in sizes.items() if self.config[name]}

    def _ports(self):
        ports = {**super()._ports(), "regulation": array_port((1,), ""),
                 "ledger": array_port((len(ELEMENTS),), "mM")}
        ports.update({name: array_port((size,), "") for name, size in self._controls().items()})
        return ports

    def initial_state(self):
        state = {**super().initial_state(), "regulation": np.array([self._induction0]),
                 "ledger": np.zeros(len(ELEMENTS))}
        state.update({name: np.ones(size) for name, size in self._controls().items()})
        return state

    def port_metadata(self):
        return {**super().port_metadata(),
                "regulation": {"dims": ("regulator",), "coords": {"regulator": ["lac_induction"]},
                               "units": "", "long_name": "lac transcription (fraction of max)"},
                "ledger": {"dims": ("element",), "coords": {"element": list(ELEMENTS)},
                           "units": "mM", "long_name": "elements moved via untracked exchanges"},
                "uptake_control": {"dims": ("metabolite",),
                                   "coords": {"metabolite": [ex[3:] if ex.startswith("EX_")
                                                             else ex for ex in self.exchanges]},
                                   "units": "", "long_name": "uptake bound multiplier"},
                "synthesis_allocation": {"dims": ("enzymes",), "coords": {"enzymes": ["lac"]},
                                         "units": "",
                                         "long_name": "lac enzyme translation (fraction)"}}

    # -- update --------------------------------------------------------------------------
    def _read_control(self, state, name):
        """Control ``name`` clipped to [0, 1]; None when it is not configured."""
        size = self._controls().get(name)
        if size is None:
            return None
        control = np.asarray(state[name], dtype=float)
        if control.shape != (size,) or not np.all(np.isfinite(control)):
            raise ValueError(f"store {name!r} must hold {size} finite number(s) ({CONTROLS[name]}"
                             f"; tracked exchanges {self.exchanges}), got {control}")
        return np.clip(control, 0.0, 1.0)

    def update(self, state, interval):
        regulation = np.asarray(state["regulation"], dtype=float)
        if regulation.shape != (1,) or not np.all(np.isfinite(regulation)):
            raise ValueError(f"store 'regulation' must hold one finite number, got {regulation}")
        from_store = self.config["regulation"] == "store" and not self.config["iptg"]
        self.expression.induction = float(np.clip(regulation[0], 0.0, 1.0)) if from_store \
            else None
        uptake = self._read_control(state, "uptake_control")
        self._uptake_scale = np.ones(self.n) if uptake is None else uptake
        allocation = self._read_control(state, "synthesis_allocation")
        self.expression.allocation = None if allocation is None else float(allocation[0])
        self._untracked_fluxes = np.zeros(len(self._untracked))
        biomass = float(state["biomass"])
        out = super().update(state, interval)
        mu = float(state["growth_rate"]) + out["growth_rate"]
        dt = float(interval)
        factor = dt if mu * dt < 1e-9 else math.expm1(mu * dt) / mu
        moved = self._untracked_fluxes * biomass * factor  # mmol/L, >0 secreted to the world
        ledger = np.zeros(len(ELEMENTS))
        for rid, amount in zip(self._untracked, moved):
            ledger += amount * self._elem[rid]
        out["ledger"] = ledger
        if from_store:
            out["regulation"] = np.zeros(1)
        else:
            new_lac = np.asarray(state["lac"], dtype=float) + out["lac"]
            target = 1.0 if self.config["iptg"] else \
                lac_induction(new_lac, mu, self.expression.params)
            out["regulation"] = np.array([target]) - regulation
        for name, size in self._controls().items():
            out[name] = np.zeros(size)  # read only: the controller writes them
        return out
