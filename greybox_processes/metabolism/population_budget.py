"""The arithmetic of a population's shared medium: element contents, growth integrals, the cap.

Stateless helpers of :class:`~.population_process.PopulationMetabolism` (re-exported there),
also used by the WCM-Hard tier 1 observer to audit the same budget:

* :func:`element_counts`, :func:`biomass_elements`: atoms of C and N (:data:`ELEMENTS`) in the
  boundary metabolites and in a gDW of biomass, from the model's formulas;
* :func:`growth_integral`: the biomass-time a cell growing exponentially accumulates over an
  interval, per unit of its starting biomass, which is what an exchange flux per gDW is
  multiplied by to give the matter exchanged;
* :func:`availability_cap`: the common cap on the cells' uptake bounds that keeps their total
  uptake within what the medium holds.
"""
from __future__ import annotations

import math

import numpy as np

from .models import biomass_reaction

__all__ = ["ELEMENTS", "element_counts", "biomass_elements", "growth_integral",
           "availability_cap"]

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


def growth_integral(growth_per_min, interval: float) -> np.ndarray:
    """``int_0^dt e^(mu s) ds = (e^(mu dt) - 1) / mu`` minutes (``dt`` at ``mu = 0``).

    The biomass-time (gDW min per gDW at the start) of a cell growing at the constant rate
    ``mu`` (1/min, natural log) for ``dt = interval`` minutes, as the cell cycle grows it
    (``V(t + dt) = V(t) e^(mu dt)``). ``mu`` times it is the biomass made, ``e^(mu dt) - 1``
    per gDW at the start, so an LP's growth and exchange fluxes charged over it balance
    exactly the biomass the cycle makes.
    """
    mu = np.asarray(growth_per_min, dtype=float)
    dt = float(interval)
    growing = mu != 0.0
    return np.where(growing, np.expm1(mu * dt) / np.where(growing, mu, 1.0), dt)


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
