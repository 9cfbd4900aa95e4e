"""One cell of a :class:`~.population_process.PopulationMetabolism` as a single-culture dynamic FBA.

The analyses written for a single culture (knockout screens, drug responses, WCM-Hard tiers
2, 5 and 8) take a :class:`~.dfba.DynamicFBA`; :func:`single_cell_dfba` gives them the LP that
the population solves for one of its cells at ``t = 0``.
"""
from __future__ import annotations

import numpy as np

from .dfba import DynamicFBA
from .translation import couple_translation_to_trna

__all__ = ["single_cell_dfba"]


def single_cell_dfba(population, lac=None, volume: float | None = None) -> DynamicFBA:
    """One cell of ``population`` (a PopulationMetabolism) at ``t = 0`` as a DynamicFBA.

    The same LP as the population solves for that cell at the start: the same model (and,
    ``method: etfl``, the same charged-tRNA coupling and ribosome growth cap, applied to
    the DynamicFBA's own model copy), glucose uptake by the same kinetics at the initial
    glucose, and lactose uptake at the initial lactose equal to this cell's bound from its
    LacY and LacZ (the DynamicFBA's ``v_max`` is set so that ``v_max L0 / (K_L + L0)``
    is that bound; with no LacY the lactose exchange is closed). Its ``initial_lp()``
    is therefore the population's LP for the cell at ``t = 0``; later in a run the two
    differ (the DynamicFBA has no inducer exclusion and no per-cell lac counts).

    ``lac``: the cell's lac counts in ``lac_species`` order (default: none, as the
    LacOperon's default initial state); ``volume``: its volume, fL (default
    ``initial_volume``).
    """
    cfg = population.config
    counts = np.zeros(len(cfg["lac_species"])) if lac is None else \
        np.asarray(lac, dtype=float).reshape(-1)
    if counts.shape != (len(cfg["lac_species"]),):
        raise ValueError(f"lac must hold one count per lac species {cfg['lac_species']}, "
                         f"got shape {counts.shape}")
    mass = population.dry_mass(cfg["initial_volume"] if volume is None else volume)
    glucose, lactose = float(cfg["initial_glucose"]), float(cfg["initial_lactose"])
    lactose_bound = float(population.lactose_bounds(counts[population._lacy_index],
                                              counts[population._lacz_index], mass, glucose,
                                              lactose))
    glc_ex, lac_ex = population.exchanges
    kinetics = population.glucose_kinetics
    config = {"model": cfg["model"], "exchanges": [glc_ex],
              "initial_concentrations": {glc_ex: glucose},
              "vmax": {glc_ex: kinetics.vmax}, "km": {glc_ex: kinetics.km},
              "initial_biomass": cfg["initial_biomass"],
              "on_infeasible": "status" if cfg["on_infeasible"] == "status" else "raise"}
    if lactose_bound > 0:  # then lactose > 0, so the saturation is > 0
        saturation = lactose / (population.lactose_km + lactose)
        config["exchanges"].append(lac_ex)
        config["initial_concentrations"][lac_ex] = lactose
        config["vmax"][lac_ex] = lactose_bound / saturation
        config["km"][lac_ex] = population.lactose_km
    process = DynamicFBA(config, population.core)
    if lactose_bound <= 0:  # no permease: no lactose in, whatever the model's own bound
        process.model.reactions.get_by_id(lac_ex).lower_bound = 0.0
    if cfg["method"] == "etfl":
        couple_translation_to_trna(process.model)  # the DynamicFBA's own copy
        biomass = process.biomass_rxn
        biomass.upper_bound = min(biomass.upper_bound, population.ribosome_growth_cap)
    return process
