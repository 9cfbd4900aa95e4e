"""Tier 1, conservation: integrated violation of elemental mass (C, N, P), cell plus environment.

Pure score: :func:`integrated_violation` - for an element amount ``M(t)`` of a system and the
amount ``B_k`` entering it through declared boundaries in each step, the violation is
``sum_k |M_k - M_{k-1} - B_k|`` (the discrete ``int |dM/dt - inflow| dt``), divided by a
reference mass (the cell's content of that element). An exactly conserving trajectory scores 0,
one leaking ``r`` per step over ``n`` steps scores ``n r / reference``.

Observer, closed budget (:func:`ledger_element_budget`), used when the run has a
``cell.ledger`` store (the element moved through the exchanges the composite does not track:
CO2, NH4, acetate, ...): ``medium + biomass + ledger`` per element, with the medium's atoms from
cobra's formulas and the biomass composition from the biomass reaction. This is the cell plus
its environment, for every element the ledger holds (C, N; P is not in the ledger and is
reported as not audited).

Observer, fallback (:func:`dfba_element_budget`), for dFBA runs without a ledger: the element in
the tracked medium pools (``env.concentrations`` x atoms of each metabolite, from cobra's
formulas) plus
the element the cell has taken up from them (``cell.fluxes`` x biomass, integrated exactly as
the process does). The cell's own balance rests on its network: every internal reaction must be
balanced in C, N and P (cobra's ``check_mass_balance``); unbalanced ones are listed and fail the
tier. Exchanges that are not tracked in stores (CO2, O2, NH4, Pi, acetate) are the open boundary
to an infinite reservoir and are not recorded, so they cannot be audited from a run.

Population cells (a ``PopulationMetabolism``, e.g. ``composites/ecoli_population.yaml``, or
a data-only swap for it such as ``composites/ecoli_black_box.yaml``'s, whose elements are
counted with iJO1366's formulas; :mod:`.population`): the closed budget ``medium (glucose, lactose) + biomass + ledger`` per
element of the ``ledger`` store, the biomass being the sum over live cells of dry mass x
cells per litre. The evidence splits the violation in two: the metabolism's own budget, with
the biomass its LPs made (exact for a balanced network), and the budget with the biomass in
the cells' volumes, which the cell-cycle process grows from the growth-rate store (the
score). The run lasts ``population_minutes`` (quick: ``quick_population_minutes``) with
every per-cell store given enough slots (:func:`.population.population_slots`).

A run that breaks down before its last step (a state that goes non-finite raises, e.g. the
data-only cell's) fails the tier with score ``inf``; the violation of what it emitted up to
there and the step it stopped at are in the evidence.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import SimulationError
from .base import FAIL, PASS, TierStep, dfba_instance, dfba_node, process_class
from .population import (ACCOUNTING_MODEL, live_biomass, lp_biomass, population_cell,
                         population_element_budget, run_population)

__all__ = ["integrated_violation", "relative_violation", "element_contents",
           "dfba_element_budget", "ConservationTier", "ELEMENTS", "EPSILON"]

ELEMENTS = ("C", "N", "P")
#: pass threshold of the relative violation (negligible against the cell's own content)
EPSILON = 1e-6


def integrated_violation(amounts, inflow=None) -> float:
    """``sum_k |M_k - M_{k-1} - inflow_k|`` of a ``(T,)`` amount; ``inflow``: ``(T-1,)`` or None."""
    amounts = np.asarray(amounts, dtype=float)
    if amounts.ndim != 1 or amounts.size < 2:
        raise ValueError(f"amounts must be a (T,) series with T >= 2, got shape {amounts.shape}")
    change = np.diff(amounts)
    if inflow is not None:
        inflow = np.asarray(inflow, dtype=float)
        if inflow.shape != change.shape:
            raise ValueError(f"inflow must have shape {change.shape} (one value per step), got "
                             f"{inflow.shape}")
        change = change - inflow
    return float(np.sum(np.abs(change)))


def relative_violation(amounts, reference_mass: float, inflow=None) -> float:
    """:func:`integrated_violation` divided by ``reference_mass`` (> 0)."""
    if not (np.isfinite(reference_mass) and reference_mass > 0):
        raise ValueError(f"reference_mass must be positive, got {reference_mass!r}")
    return integrated_violation(amounts, inflow) / float(reference_mass)


def element_contents(model, exchanges) -> tuple[dict, dict]:
    """``({exchange: {element: atoms}}, {element: mmol per gDW of biomass})`` from formulas."""
    from ...metabolism.models import biomass_reaction

    per_exchange = {}
    for ex in exchanges:
        metabolite = next(iter(model.reactions.get_by_id(ex).metabolites))
        per_exchange[ex] = {e: float(metabolite.elements.get(e, 0)) for e in ELEMENTS}
    biomass = {e: 0.0 for e in ELEMENTS}
    for metabolite, coeff in biomass_reaction(model).metabolites.items():
        for e in ELEMENTS:
            biomass[e] -= coeff * float(metabolite.elements.get(e, 0))
    return per_exchange, biomass


def dfba_element_budget(dataset, atoms: dict, exchanges) -> dict:
    """``{element: (medium + taken up (T,), taken up (T,))}`` in mmol/L from a dFBA run."""
    conc = dataset["env.concentrations"].values
    flux = dataset["cell.fluxes"].values
    x = dataset["env.biomass"].values
    mu = dataset["cell.growth_rate"].values
    t = dataset.time.values
    dt = np.diff(t)
    # exchange over each step at the step's constant fluxes: v X_{k-1} (e^{mu dt} - 1) / mu
    factor = np.where(mu[1:] * dt > 1e-12, np.expm1(mu[1:] * dt) / np.where(mu[1:] > 0, mu[1:], 1),
                      dt)
    exchanged = flux[1:] * (x[:-1] * factor)[:, None]  # (T-1, n): < 0 uptake
    taken = np.vstack([np.zeros((1, conc.shape[1])), -np.cumsum(exchanged, axis=0)])
    budget = {}
    for e in ELEMENTS:
        w = np.array([atoms[ex][e] for ex in exchanges])
        budget[e] = ((conc + taken) @ w, taken @ w)
    return budget


def ledger_element_budget(dataset, atoms: dict, exchanges, biomass_content: dict) -> dict:
    """``{element: (T,) medium + biomass + ledger}`` (mmol/L), elements of ``cell.ledger``."""
    ledger = dataset["cell.ledger"]
    dim = ledger.dims[-1]
    labels = [str(v) for v in ledger[dim].values] if dim in ledger.coords else []
    conc = dataset["env.concentrations"].values
    x = dataset["env.biomass"].values
    budget = {}
    for i, e in enumerate(labels):
        if e not in ELEMENTS:
            continue
        w = np.array([atoms[ex][e] for ex in exchanges])
        budget[e] = conc @ w + x * biomass_content[e] + ledger.values[:, i]
    return budget


def unbalanced_reactions(model) -> dict:
    """``{reaction: {element: imbalance}}`` of internal reactions unbalanced in C, N or P."""
    from ...metabolism.models import biomass_reaction

    skip = set(model.boundary) | {biomass_reaction(model)}
    found = {}
    for reaction in model.reactions:
        # every biomass pseudo-reaction (iJO1366 has a core and a wild-type one) lumps
        # metabolites into biomass and is not a chemical reaction to balance
        if reaction in skip or reaction.id.upper().startswith("BIOMASS"):
            continue
        imbalance = {e: v for e, v in reaction.check_mass_balance().items()
                     if e in ELEMENTS and abs(v) > 1e-9}
        if imbalance:
            found[reaction.id] = imbalance
    return found


class ConservationTier(TierStep):
    """WCM-Hard tier 1: integrated C/N/P mass violation of cell + environment over a long run."""

    tier = 1
    title = "conservation"
    criterion = (f"relative integrated C/N/P violation < {EPSILON:g} of the cell's content, and "
                 "every internal reaction balanced in C, N, P")
    config_schema = {**TierStep.config_schema,
                     "steps": {"_type": "integer", "_default": 100000},
                     "quick_steps": {"_type": "integer", "_default": 600},
                     "population_minutes": {"_type": "float", "_default": 360.0},
                     "quick_population_minutes": {"_type": "float", "_default": 120.0}}

    def initialize(self, config):
        super().initialize(config)
        for key in ("steps", "quick_steps"):
            if self.config[key] < 2:
                raise ValueError(f"{key} must be >= 2 time steps, got {self.config[key]}")

    def _cell_node(self, spec):
        """``(path, node)`` of the process writing the culture (concentrations and biomass)."""
        from .base import process_nodes

        for path, node in process_nodes(spec, self.spec_parameters()).items():
            outputs = node.get("outputs") or {}
            if "concentrations" in outputs and "biomass" in outputs:
                return path, node
        return None, None

    def _evaluate(self, client):
        from ...metabolism.models import load_model

        spec = self.config["spec"]
        population = population_cell(spec, self.spec_parameters(), data_only=True)
        if population is not None:
            return self._evaluate_population(population)
        path, node = self._cell_node(spec)
        if node is None:
            return self.not_applicable("the composite has no culture stores (a process writing "
                                       "concentrations and biomass) to audit for elements")
        config = node.get("config") or {}
        dfba_path, dfba = dfba_node(spec, self.spec_parameters())
        model_name = config.get("model", "textbook_lactose")
        exchanges = list(config.get("exchanges", ["EX_glc__D_e", "EX_lcts_e"]))
        model = dfba_instance(dfba).model if dfba is not None else load_model(model_name)
        steps = self.config["quick_steps"] if self.config["quick"] else self.config["steps"]
        interval = float(node.get("interval", 1.0))
        notes = []
        try:
            dataset = self.run_composite(spec, steps * interval)
            stopped = None
        except SimulationError as error:
            # a run that breaks down (e.g. a data-only model whose state overflows) fails the
            # tier; what it emitted before is still audited as evidence
            dataset = getattr(error, "partial", None)
            if dataset is None or dataset.sizes.get("time", 0) < 2:
                raise
            stopped = str(error)
            notes.append(f"the run stopped after {dataset.sizes['time'] - 1} of {steps} steps: "
                         f"{stopped}; the violation below is up to that point")
        atoms, biomass_content = element_contents(model, exchanges)
        if "cell.ledger" in dataset:
            budget = {e: (total, None) for e, total in
                      ledger_element_budget(dataset, atoms, exchanges, biomass_content).items()}
            notes.append("closed budget: medium + biomass + ledger (the exchanges not tracked "
                         "as stores); elements " + ", ".join(budget))
        elif dfba is not None:
            budget = dfba_element_budget(dataset, atoms, exchanges)
            notes.append(f"no ledger store: tracked pools only ({', '.join(exchanges)}); "
                         "untracked exchanges (CO2, O2, NH4, Pi, secreted acids) are an "
                         "unrecorded open boundary, audited only through the balance of the "
                         "network's internal reactions")
        else:
            return self.not_applicable("the composite records neither a ledger of untracked "
                                       "exchanges nor exchange fluxes: its element budget "
                                       "cannot be closed")
        if dfba is None:
            notes.append(f"element contents from the formulas of model {model_name!r} (the "
                         "composite has no network of its own)")
        x_max = float(np.max(dataset["env.biomass"].values))
        evidence = {"steps": int(dataset.sizes["time"] - 1), "interval": interval,
                    "biomass_max_gDW_per_L": x_max}
        scores = []
        for e, (total, _) in budget.items():
            reference = x_max * biomass_content[e]
            value = relative_violation(total, reference)
            evidence[f"{e}_relative_violation"] = value
            evidence[f"{e}_cell_content_mmol_per_L"] = reference
            scores.append(value)
        missing = [e for e in ELEMENTS if e not in budget]
        if missing:
            notes.append(f"not audited: {', '.join(missing)} (no store holds it)")
        idle = [e for e in budget if not any(atoms[ex][e] for ex in exchanges)
                and "cell.ledger" not in dataset]
        if idle:
            notes.append(f"no tracked pool holds {', '.join(idle)}: their violation is 0 by "
                         "construction, not a test")
        bad = unbalanced_reactions(model) if dfba is not None else {}
        evidence["unbalanced_internal_reactions"] = bad
        score = max(scores) if scores else float("nan")
        if self.config["quick"]:
            notes.append(f"quick mode: {steps} steps instead of {self.config['steps']}")
        figures = self._plot(dataset, budget)
        if stopped is not None:
            # a run that breaks down has no bounded violation: it scores inf (and so loses any
            # comparison, e.g. tier 7's), whatever the part it ran conserved (in evidence)
            evidence["stopped_at_step"] = int(dataset.sizes["time"] - 1)
            score = math.inf
        ok = bool(scores) and score < EPSILON and not bad and stopped is None
        return self.make(PASS if ok else FAIL, score, evidence=evidence, notes=notes,
                         figures=figures)

    def _evaluate_population(self, cell):
        spec = self.config["spec"]
        minutes = self.config["quick_population_minutes" if self.config["quick"]
                              else "population_minutes"]
        initial = int(cell.config().get("initial_cells", 1))
        interval = cell.interval()
        duration = math.ceil(minutes / interval - 1e-9) * interval
        notes, stopped = [], None
        try:
            dataset, slots = run_population(spec, duration, cell, initial_cells=initial,
                                            least_slots=int(cell.config().get("capacity", 0)),
                                            runner=self.run_composite)
        except SimulationError as error:
            dataset, slots = getattr(error, "partial", None), None
            if dataset is None or dataset.sizes.get("time", 0) < 2:
                raise
            stopped = str(error)
            notes.append(f"the run stopped after {dataset.sizes['time'] - 1} steps: {stopped}")
        slots = slots or int(dataset[cell.variables["alive"]].shape[1])
        notes.append(f"population run of {minutes:g} min, {slots} slots")
        metabolism = cell.instance(capacity=slots)
        x = live_biomass(dataset, cell, metabolism)
        budget, composition = population_element_budget(dataset, cell, metabolism, x)
        own, _ = population_element_budget(dataset, cell, metabolism,
                                           lp_biomass(dataset, cell, metabolism))
        x_max = float(np.max(x))
        evidence = {"steps": int(dataset.sizes["time"] - 1), "interval_min": interval,
                    "slots": slots, "biomass_max_gDW_per_L": x_max,
                    "cells_end": int(np.sum(dataset[cell.variables["alive"]].values[-1] > 0.5))}
        scores = []
        for i, e in enumerate(budget):
            reference = x_max * composition[i]
            scores.append(relative_violation(budget[e], reference))
            evidence[f"{e}_relative_violation"] = scores[-1]
            evidence[f"{e}_metabolism_own_relative_violation"] = relative_violation(own[e],
                                                                                    reference)
            evidence[f"{e}_net_drift_relative"] = float((budget[e][-1] - budget[e][0])
                                                        / reference)
        notes.append("closed budget: medium + biomass (live cells' dry mass) + ledger, "
                     f"elements {', '.join(budget)}; P not audited (no store holds it). "
                     "'metabolism_own': the same with the biomass the LPs made, so the "
                     "difference is the coupling of the metabolism to the process that grows "
                     "the cells (both use the growth rate decided one update ahead)")
        if cell.data_only:
            # no reactions to check; the atoms and the cells' composition are iJO1366's
            bad = {}
            evidence["data_only"] = True
            notes.append(f"data-only metabolism ({process_class(cell.node).__name__}): no "
                         "stoichiometry of its own; the medium's atoms, the cells' dry mass and "
                         f"composition are counted with {ACCOUNTING_MODEL}'s formulas (the cell "
                         "it stands for). 'metabolism_own' uses the biomass its predicted "
                         "growth rates make")
        else:
            bad = unbalanced_reactions(metabolism.model)
        evidence["unbalanced_internal_reactions"] = bad
        score = math.inf if stopped is not None else max(scores)
        ok = score < EPSILON and not bad
        return self.make(PASS if ok else FAIL, score, evidence=evidence, notes=notes,
                         figures=self._plot(dataset, {e: (v, None) for e, v in budget.items()}))

    def _plot(self, dataset, budget):
        def draw(ax):
            t = dataset.time.values
            for e, (total, _) in budget.items():
                if np.any(total):
                    ax.plot(t, total - total[0], label=f"{e}: total, change from t = 0")
            ax.set_xlabel("time")
            ax.set_ylabel("mmol/L")
            ax.legend(fontsize=7)
            ax.set_title("Tier 1: element budget, cell + environment")

        return self.plot("element_budget", draw)
