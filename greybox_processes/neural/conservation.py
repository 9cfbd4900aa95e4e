"""Elemental balance (C, N) of a batch culture: medium + biomass + the untracked exchanges.

The composition of biomass is read from the biomass reaction's stoichiometry (what it consumes
minus what it makes, per gDW), the composition of each medium species from its metabolite's
formula in the cobra model; the ``ledger`` store of
:class:`~.regulated.RegulatedDynamicFBA` holds what went through the exchanges that are not
tracked (CO2, NH4, acetate, O2, ...). In a model whose internal reactions are elementally
balanced (e_coli_core and its lactose pathway are), the sum is conserved exactly by dFBA, up
to the LP tolerance and round-off: only exchange fluxes move matter.
"""
from __future__ import annotations

import functools

import numpy as np

from .regulated import ELEMENTS

__all__ = ["ElementTable", "element_table", "element_totals", "mass_drift"]


class ElementTable:
    """Element counts (``ELEMENTS`` order) per mmol of each tracked exchange's species and per gDW."""

    def __init__(self, model, exchanges):
        from ..metabolism.models import biomass_reaction

        self.exchanges = list(exchanges)
        self.medium = np.zeros((len(self.exchanges), len(ELEMENTS)))
        for i, ex in enumerate(self.exchanges):
            met = next(iter(model.reactions.get_by_id(ex).metabolites))
            self.medium[i] = [float(met.elements.get(e, 0) or 0) for e in ELEMENTS]
        self.biomass = np.zeros(len(ELEMENTS))
        for met, coef in biomass_reaction(model).metabolites.items():
            self.biomass -= coef * np.array([float(met.elements.get(e, 0) or 0)
                                             for e in ELEMENTS])


@functools.lru_cache(maxsize=4)
def element_table(model: str = "textbook_lactose",
                  exchanges: tuple = ("EX_glc__D_e", "EX_lcts_e")) -> ElementTable:
    """The :class:`ElementTable` of a bundled model (cached)."""
    from ..metabolism.models import load_model

    return ElementTable(load_model(model), exchanges)


def element_totals(concentrations, biomass, ledger, table: ElementTable | None = None):
    """Total C and N (mmol/L) over time: medium + biomass + ledger; shape ``(time, 2)``."""
    table = table or element_table()
    conc = np.asarray(concentrations, dtype=float)
    biomass = np.asarray(biomass, dtype=float)
    ledger = np.asarray(ledger, dtype=float)
    return conc @ table.medium + biomass[:, None] * table.biomass[None, :] + ledger


def mass_drift(dataset, table: ElementTable | None = None) -> dict:
    """Largest change of total C and N over a run, relative to the carbon/nitrogen in cells.

    Returns ``{'C': ..., 'N': ...}``: ``max_t |total(t) - total(0)|`` divided by the element
    content of the largest biomass of the run (so 1e-12 means round-off, 0.1 means 10% of
    the cells' own carbon appeared or vanished).
    """
    table = table or element_table()
    totals = element_totals(dataset["env.concentrations"].values, dataset["env.biomass"].values,
                            dataset["cell.ledger"].values, table)
    cells = float(np.max(dataset["env.biomass"].values)) * table.biomass
    drift = np.max(np.abs(totals - totals[0]), axis=0) / np.maximum(np.abs(cells), 1e-300)
    return {e: float(d) for e, d in zip(ELEMENTS, drift)}
