"""Builders of the metabolism composites (the same documents as the YAML specs in composites/).

``diauxie``: a batch culture of E. coli in low glucose plus 0.02% lactose (Julou et al. 2020,
PLoS Biol 18:e3000952), dynamic FBA on ``textbook_lactose`` with the ETFL-style expression layer
and lac operon regulation. The ablation is one override: ``dfba.config.expression: false``
(plain dFBA); the pre-induced reference is ``dfba.config.iptg: true``.
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["diauxie", "GLUCOSE_MW", "LACTOSE_MW", "percent_to_mM"]

GLUCOSE_MW = 180.156  # g/mol, D-glucose
LACTOSE_MW = 342.297  # g/mol, lactose


def percent_to_mM(percent_w_v: float, molar_mass: float) -> float:
    """% (w/v, g per 100 mL) to mM."""
    return percent_w_v * 10.0 / molar_mass * 1000.0


def diauxie(*, glucose_percent: float = 0.005, lactose_percent: float = 0.02,
            initial_biomass: float = 0.001, expression: bool = True, iptg: bool = False,
            model: str = "textbook_lactose", interval: float = 1.0 / 60.0,
            enzymes: str = "lac", dfba_address: str = "local:DynamicFBA",
            dfba_config: Mapping[str, Any] | None = None) -> dict:
    """Glucose-lactose diauxie in batch (time in hours).

    Parameters
    ----------
    glucose_percent : glucose, % w/v. Julou et al. 2020's analysis code annotates their low
        glucose as 0.005 (their text says 0.05%); 0.005% is the default.
    lactose_percent : lactose, % w/v (0.02% in Julou et al. 2020).
    initial_biomass : inoculum, gDW/L.
    expression : ETFL-style enzyme/ribosome layer with lac regulation (False: plain dFBA).
    iptg : lac operon pre-induced with IPTG (the reference culture of the lag measurement).
    interval : time step, hours (1 minute).
    enzymes : ``'lac'`` (only the lac enzymes are state) or ``'all'`` (every gene-catalysed
        reaction's enzyme is state, :mod:`.enzymes`; adds the ``cell/enzymes`` store).

    Stores: ``env/concentrations`` (mM, [glucose, lactose]), ``env/biomass`` (gDW/L) and the
    cell's ``lac`` state, ``fluxes``, ``growth_rate``, ``status`` and ``proteome``.
    """
    config = {
        "model": model,
        "exchanges": ["EX_glc__D_e", "EX_lcts_e"],
        "initial_concentrations": {
            "EX_glc__D_e": percent_to_mM(glucose_percent, GLUCOSE_MW),
            "EX_lcts_e": percent_to_mM(lactose_percent, LACTOSE_MW),
        },
        "initial_biomass": initial_biomass,
        "expression": expression,
        "iptg": iptg,
        "on_infeasible": "status",
    }
    if enzymes != "lac":
        config["enzymes"] = enzymes
    config.update(dfba_config or {})
    env_ports = ("concentrations", "biomass")
    cell_ports = ("lac", "fluxes", "growth_rate", "status", "proteome") + \
        (("enzymes",) if config.get("enzymes", "lac") == "all" else ())
    wires = {**{p: ["env", p] for p in env_ports}, **{p: ["cell", p] for p in cell_ports}}
    return {
        "state": {
            "env": {},
            "cell": {},
            "dfba": {
                "_type": "process",
                "address": dfba_address,
                "config": config,
                "interval": interval,
                "inputs": dict(wires),
                "outputs": dict(wires),
            },
        }
    }
