"""PopulationDataOnly: the data-only (black-box) metabolism of a population of cells.

A swap for :class:`~greybox_processes.metabolism.population_process.PopulationMetabolism`
with the same ports (and the per-cell ``latent`` and ``history`` of its network): it
predicts each cell's growth rate and the medium's consumption with no stoichiometry, no
flux balance and no conservation law, so WCM-Hard tier 1 can show what that costs.

What it is trained on. It runs the shipped ``black_box_cell.pt``, the network of
:class:`~.blackbox.DataOnlyCell`, trained on glass-box trajectories of the *single-culture*
cell (``composites/glass_box_cell.yaml``: deterministic dFBA of e_coli_core with the
Yildirim-Mackey ODE, one culture, one-minute steps, fourteen glucose/lactose media; see
``neural/weights/README.md``). It has never seen a population, a stochastic cell or
iJO1366. That network predicts the next state of a *culture* from the culture's state
(``concentrations`` of glucose and lactose, mM; ``biomass``, gDW/L; ``growth_rate``, 1/h;
``ledger``, C and N through untracked exchanges, mM). Here it is applied per cell, as if
each cell were a culture of cells like it:

* each live cell is presented as the culture with the shared medium, the population's
  biomass density (the live cells' volume in units of the initial cells', times
  ``initial_biomass``, the scale :class:`PopulationMetabolism` uses), the medium's ledger
  and *its own* growth rate (the store's 1/min times 60);
* the cell's new growth rate is the network's predicted culture growth rate (1/h / 60);
  a negative prediction is written as 0, because the cell cycle grows volumes and cannot
  shrink them;
* the medium (and the ledger) change by the mean of the cells' predicted changes, each
  weighted by the cell's share of the population's volume (dry mass): the culture is the
  mixture of the cultures each cell stands for. A concentration is kept >= 0.

The predicted biomass is not used: the population's biomass is its cells' volumes, which
the cell cycle grows at the predicted rates. So nothing ties what the medium loses to what
the cells make, which is the point of this baseline. The ``lac`` port is wired (the swap
keeps PopulationMetabolism's ports) but not read: the network was trained without it.

One network step is one update and the weights learned one-minute steps; another interval
is refused with a clear error.
"""
from __future__ import annotations


import numpy as np
import torch

from ..framework.base import GreyboxProcess
from ..framework.division import check_slots
from ..framework.ports import array_port
from ..metabolism.population_process import check_culture_config, population_cell_ports
from ..metabolism.composites import GLUCOSE_MW, LACTOSE_MW, percent_to_mM
from .controller import NETWORK_CONFIG, configured_network
from .embedding import FEATURES, embed, feature_names
from .networks import LatentTransformer, finite_or_raise, torch_threads
from .population_controller import check_trained_step

__all__ = ["PopulationDataOnly", "BLACKBOX_INPUTS"]

#: The single-culture stores the network reads and predicts, in its order.
BLACKBOX_INPUTS = ("concentrations", "biomass", "growth_rate", "ledger")
_ELEMENTS = ("C", "N")
_MIN_PER_H = 60.0


class PopulationDataOnly(GreyboxProcess):
    """Black-box metabolism per cell: a torch Transformer predicts growth and medium uptake (no stoichiometry).

    Ports:
      alive: 1 where a slot holds a live cell, else 0 (flag)
      lac: lac operon species per cell (molecule)
      latent: the Transformer's latent state (arbitrary)
      history: embedded (log-scaled) cell state of the last steps (arbitrary)
    """

    #: a one-node swap for PopulationMetabolism (the same ports): WCM-Hard tier 1 audits its
    #: medium, ledger and cells as a population culture's
    swaps_for = "PopulationMetabolism"

    config_schema = {
        "capacity": {"_type": "integer", "_default": 64},
        # the culture at the start: biomass density (gDW/L) carried by `initial_cells`
        # cells of `initial_volume` fL (as PopulationMetabolism)
        "initial_biomass": {"_type": "float", "_default": 0.001},
        "initial_cells": {"_type": "integer", "_default": 1},
        "initial_volume": {"_type": "float", "_default": 1.0},
        # initial medium, mM (Julou et al. 2020: 0.005% glucose, 0.02% lactose)
        "initial_glucose": {"_type": "float", "_default": percent_to_mM(0.005, GLUCOSE_MW)},
        "initial_lactose": {"_type": "float", "_default": percent_to_mM(0.02, LACTOSE_MW)},
        # species of the lac store (only its shape is checked: the network does not read it)
        "lac_species": {"_type": "list[string]", "_default": ["mrna", "lacZ", "lacY",
                                                              "allolactose", "lactose_in"]},
        **NETWORK_CONFIG,
    }

    def initialize(self, config):
        cfg = self.config
        check_slots(cfg["capacity"], cfg["initial_cells"], least_initial=1)
        check_culture_config(cfg, {"initial_biomass": "gDW/L", "initial_volume": "fL"})
        self.stores = list(BLACKBOX_INPUTS)
        self.n_features = len(feature_names(self.stores))
        self.net, self.device, shape = configured_network(
            cfg, self.stores,
            lambda **shape: LatentTransformer(self.n_features, self.n_features, **shape))
        self.history = shape["history"]
        self.width = shape["width"]

    # -- ports ---------------------------------------------------------------------------
    def _cell_ports(self):
        # PopulationMetabolism's own ports: the black box is a one-node swap for it
        return population_cell_ports(self.config["capacity"], len(self.config["lac_species"]))

    def _written(self):
        n = self.config["capacity"]
        return {"growth_rate": self._cell_ports()["growth_rate"],
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                "ledger": array_port((len(_ELEMENTS),), "mM"),
                "latent": array_port((n, self.width), divide="copy"),
                "history": array_port((n, self.history, self.n_features), divide="copy")}

    def inputs(self):
        return {**self._cell_ports(), **self._written()}

    def outputs(self):
        return self._written()

    def initial_state(self):
        n = self.config["capacity"]
        return {"glucose": float(self.config["initial_glucose"]),
                "lactose": float(self.config["initial_lactose"]),
                "ledger": np.zeros(len(_ELEMENTS)),
                "latent": np.zeros((n, self.width)),
                "history": np.zeros((n, self.history, self.n_features))}

    def port_metadata(self):
        cells = np.arange(self.config["capacity"])
        return {"growth_rate": {"dims": ("cell",), "coords": {"cell": cells}, "units": "1/min",
                                "long_name": "specific growth rate (predicted)"},
                "ledger": {"dims": ("element",), "coords": {"element": list(_ELEMENTS)},
                           "units": "mM", "long_name": "elements moved via untracked exchanges"},
                "latent": {"dims": ("cell", "latent_dim"), "coords": {"cell": cells},
                           "units": ""},
                "history": {"dims": ("cell", "lag", "feature"),
                            "coords": {"cell": cells, "feature": feature_names(self.stores)},
                            "units": ""}}

    # -- update --------------------------------------------------------------------------
    def _read(self, state, name, shape):
        value = np.asarray(state[name], dtype=float)
        if value.shape != shape:
            raise ValueError(f"store {name!r} has shape {value.shape}; PopulationDataOnly "
                             f"expects {shape} (capacity {self.config['capacity']})")
        return value

    def _features(self, state, live, volume, growth):
        """Per live cell, the single culture's features (see the module docstring)."""
        cfg = self.config
        biomass = cfg["initial_biomass"] * volume[live].sum() / (cfg["initial_cells"]
                                                                  * cfg["initial_volume"])
        n = len(live)
        medium = [max(float(state[name]), 0.0) for name in ("glucose", "lactose")]
        values = {"concentrations": np.tile(medium, (n, 1)),
                  # (n, 1): embed() reads a trailing axis of 1 as the feature axis
                  "biomass": np.full((n, 1), biomass),
                  "growth_rate": growth[live, None] * _MIN_PER_H,
                  "ledger": np.tile(self._read(state, "ledger", (len(_ELEMENTS),)), (n, 1))}
        return embed(values, self.stores), np.array(medium)

    def _decode(self, features):
        """Invert :func:`~.embedding.embed` per cell: ``{store: (n_cells, size)}``."""
        out, start = {}, 0
        for name in self.stores:
            size, _, inverse = FEATURES[name][:3]
            out[name] = inverse(features[:, start:start + size])
            start += size
        return out

    def update(self, state, interval):
        check_trained_step("PopulationDataOnly", "metabolism", interval)
        n = self.config["capacity"]
        alive = self._read(state, "alive", (n,))
        volume = self._read(state, "volume", (n,))
        growth = self._read(state, "growth_rate", (n,))
        self._read(state, "lac", (n, len(self.config["lac_species"])))
        latent = self._read(state, "latent", (n, self.width))
        history = self._read(state, "history", (n, self.history, self.n_features))
        live = np.flatnonzero(alive > 0.5)
        update = {"growth_rate": -growth, "glucose": 0.0, "lactose": 0.0,
                  "ledger": np.zeros(len(_ELEMENTS)), "latent": np.zeros_like(latent),
                  "history": np.zeros_like(history)}
        if not len(live):
            return update
        features, medium = self._features(state, live, volume, growth)
        finite_or_raise(features, "PopulationDataOnly's inputs (medium, volumes, growth rates, "
                        "ledger)")
        fresh = ~np.any(history[live] != 0.0, axis=(1, 2))   # see PopulationController
        shifted = np.concatenate([history[live, 1:], features[:, None, :]], axis=1)
        repeated = np.repeat(features[:, None, :], self.history, axis=1)
        new_history = np.where(fresh[:, None, None], repeated, shifted)
        with torch.no_grad(), torch_threads(self.config["threads"]):
            lat = torch.as_tensor(latent[live], dtype=torch.float32, device=self.device)
            hist = torch.as_tensor(new_history, dtype=torch.float64, device=self.device)
            new_latent, change = self.net(lat, hist)
        new_latent = new_latent.double().cpu().numpy()
        change = change.cpu().numpy()
        finite_or_raise(np.concatenate([new_latent.ravel(), change.ravel()]),
                        f"PopulationDataOnly (weights {self.config['weights'] or 'random'})")
        predicted = self._decode(features + change)
        share = volume[live] / volume[live].sum()    # each cell's share of the dry mass
        medium_change = share @ (predicted["concentrations"] - medium)
        ledger_change = share @ (predicted["ledger"] - np.asarray(state["ledger"], dtype=float))
        new_growth = np.zeros(n)
        new_growth[live] = np.maximum(predicted["growth_rate"][:, 0] / _MIN_PER_H, 0.0)
        new_medium = np.maximum(medium + medium_change, 0.0)
        update.update({
            "growth_rate": new_growth - growth,
            "glucose": float(new_medium[0] - float(state["glucose"])),
            "lactose": float(new_medium[1] - float(state["lactose"])),
            "ledger": ledger_change})
        update["latent"][live] = new_latent - latent[live]
        update["history"][live] = new_history - history[live]
        return update
