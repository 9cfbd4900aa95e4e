"""Builders of the glass-, grey-, mechanistic-only and black-box cells (same documents as the YAML).

All four are E. coli in batch culture on glucose + lactose (Julou et al. 2020 medium by
default), time in hours, one-minute steps:

* ``glass_box_cell``: :class:`~.regulated.RegulatedDynamicFBA` with ``regulation: model``
  (dFBA + ETFL-style expression layer + the hand-written Yildirim-Mackey lac regulation;
  identical trajectory to ``composites/diauxie.yaml``, plus the ``regulation`` and ``ledger``
  stores);
* ``grey_box_cell``: the same physics with ``regulation: store`` and a
  :class:`~.controller.NeuralLatentController` writing the regulation store (with
  ``controller_config={"outputs": ["lac_induction", "uptake_control"]}`` it also writes
  ``cell/uptake_control``, and the dFBA is built with ``uptake_control: true`` to read it;
  ``synthesis_allocation`` likewise);
* ``mechanistic_only_cell``: the grey box with the controller removed (the regulation store
  stays at its pre-culture value);
* ``black_box_cell``: :class:`~.blackbox.DataOnlyCell` alone.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..metabolism.composites import GLUCOSE_MW, LACTOSE_MW, percent_to_mM
from .controller import REGULATION_OUTPUTS
from .regulated import CONTROLS

__all__ = ["glass_box_cell", "grey_box_cell", "mechanistic_only_cell", "black_box_cell",
           "cell", "CONTROLLER_WEIGHTS", "BLACKBOX_WEIGHTS"]

CONTROLLER_WEIGHTS = "grey_box_controller.pt"
BLACKBOX_WEIGHTS = "black_box_cell.pt"
_ENV = ("concentrations", "biomass")
_CELL = ("lac", "fluxes", "growth_rate", "status", "proteome", "regulation", "ledger")


def _medium(glucose_percent, lactose_percent):
    return {"EX_glc__D_e": percent_to_mM(glucose_percent, GLUCOSE_MW),
            "EX_lcts_e": percent_to_mM(lactose_percent, LACTOSE_MW)}


def cell(*, regulation: str = "store", controller: bool = True,
         glucose_percent: float = 0.005, lactose_percent: float = 0.02,
         initial_biomass: float = 0.001, iptg: bool = False, interval: float = 1.0 / 60.0,
         weights: str = CONTROLLER_WEIGHTS, controller_config: Mapping[str, Any] | None = None,
         dfba_config: Mapping[str, Any] | None = None) -> dict:
    """The mechanistic cell, with or without the neural controller (see the module doc)."""
    ctrl = {"inputs": ["concentrations", "growth_rate", "lac"], "weights": weights,
            **(controller_config or {})}
    outputs = [str(o) for o in ctrl.get("outputs", ["lac_induction"])] if controller else []
    config = _dfba_config(glucose_percent, lactose_percent, initial_biomass, iptg, regulation,
                          controls=[o for o in outputs if o in CONTROLS], overrides=dfba_config)
    cell_ports = _CELL + tuple(c for c in CONTROLS if config.get(c))
    wires = {**{p: ["env", p] for p in _ENV}, **{p: ["cell", p] for p in cell_ports}}
    state = {"env": {}, "cell": {},
             "dfba": {"_type": "process", "address": "local:RegulatedDynamicFBA",
                      "config": config, "interval": interval,
                      "inputs": dict(wires), "outputs": dict(wires)}}
    if controller:
        ins = {s: (["env", s] if s in _ENV else ["cell", s]) for s in ctrl["inputs"]}
        own = {"latent": ["cell", "latent"], "history": ["cell", "history"]}
        own.update({REGULATION_OUTPUTS[o][0]: ["cell", REGULATION_OUTPUTS[o][0]]
                    for o in outputs if o in REGULATION_OUTPUTS})
        state["controller"] = {"_type": "process", "address": "local:NeuralLatentController",
                               "config": ctrl, "interval": interval,
                               "inputs": {**ins, **own}, "outputs": dict(own)}
        # the controller first: under vivarium-core the last process's defaults win, and the
        # controller's read-only ports carry no initial values (see the report on the adapter)
        state = {k: state[k] for k in ("env", "cell", "controller", "dfba")}
    return {"state": state}


def _dfba_config(glucose_percent, lactose_percent, initial_biomass, iptg, regulation, *,
                 controls, overrides):
    medium = _medium(glucose_percent, lactose_percent)
    config = {"model": "textbook_lactose", "exchanges": list(medium),
              "initial_concentrations": medium, "initial_biomass": initial_biomass,
              "expression": True, "iptg": iptg, "on_infeasible": "status",
              "regulation": regulation}
    config.update({c: True for c in controls})  # what the controller writes, the dFBA reads
    config.update(overrides or {})
    unread = [c for c in controls if not config[c]]
    if unread:
        raise ValueError(f"the controller's outputs include {unread} but dfba_config sets "
                         f"{', '.join(f'{c}: false' for c in unread)}, so nothing would read "
                         "them; drop one or the other")
    return config


def glass_box_cell(**kwargs) -> dict:
    """Mechanistic cell with its hand-written lac regulation (no network)."""
    return cell(regulation="model", controller=False, **kwargs)


def grey_box_cell(**kwargs) -> dict:
    """The glass box's physics, regulation from the NeuralLatentController."""
    return cell(regulation="store", controller=True, **kwargs)


def mechanistic_only_cell(**kwargs) -> dict:
    """The grey box with the controller removed (regulation held at its pre-culture value)."""
    return cell(regulation="store", controller=False, **kwargs)


def black_box_cell(*, glucose_percent: float = 0.005, lactose_percent: float = 0.02,
                   initial_biomass: float = 0.001, interval: float = 1.0 / 60.0,
                   weights: str = BLACKBOX_WEIGHTS,
                   config: Mapping[str, Any] | None = None) -> dict:
    """The data-only network alone, on the same stores (no physics)."""
    medium = _medium(glucose_percent, lactose_percent)
    cfg = {"initial_concentrations": list(medium.values()), "initial_biomass": initial_biomass,
           "weights": weights}
    cfg.update(config or {})
    stores = {"concentrations": ["env", "concentrations"], "biomass": ["env", "biomass"],
              "growth_rate": ["cell", "growth_rate"], "ledger": ["cell", "ledger"],
              "latent": ["cell", "latent"], "history": ["cell", "history"]}
    return {"state": {"env": {}, "cell": {},
                      "blackbox": {"_type": "process", "address": "local:DataOnlyCell",
                                   "config": cfg, "interval": interval,
                                   "inputs": dict(stores), "outputs": dict(stores)}}}
