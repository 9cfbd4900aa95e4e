"""DataOnlyCell: the seed's "Data-Only" baseline, a network that predicts the next state directly.

The same kind of network as the grey box's controller (:class:`~.networks.LatentTransformer`),
but its decoded output is the change of the embedded mechanistic state itself,
``Embed(M_{t+1}) - Embed(M_t)``, written straight into the stores: no stoichiometry, no
flux balance, no conservation law. It is what the grey box is compared with on Tier 1
(conservation, seed 000 section 6.1).
"""
from __future__ import annotations

import numpy as np
import torch

from ..framework.base import GreyboxProcess
from ..framework.ports import array_port
from .embedding import FEATURES, check_stores, embed, feature_names, store_schema
from .controller import NETWORK_CONFIG, configured_network
from .networks import LatentTransformer, finite_or_raise, torch_threads

__all__ = ["DataOnlyCell", "decode_features"]


def decode_features(features: np.ndarray, stores) -> dict:
    """Invert :func:`~.embedding.embed`: feature vector -> ``{store: value}``."""
    out, start = {}, 0
    for s in stores:
        size, _, inverse = FEATURES[s][:3]
        value = inverse(features[..., start:start + size])
        out[s] = float(value[0]) if s in ("biomass", "growth_rate") else np.asarray(value)
        start += size
    return out


class DataOnlyCell(GreyboxProcess):
    """Black-box cell: a torch Transformer that predicts the next mechanistic state (no physics).

    Ports:
      latent: the Transformer's latent state (arbitrary)
      history: embedded (log-scaled) cell state of the last steps (arbitrary)
    """

    config_schema = {
        "inputs": {"_type": "list[string]",
                   "_default": ["concentrations", "biomass", "growth_rate", "ledger"]},
        "initial_concentrations": {"_type": "list[float]", "_default": [0.2775, 0.5843]},
        "initial_biomass": {"_type": "float", "_default": 0.001},
        **NETWORK_CONFIG,
    }

    def initialize(self, config):
        cfg = self.config
        self.stores = check_stores(cfg["inputs"], "DataOnlyCell")
        if "concentrations" in self.stores and len(cfg["initial_concentrations"]) != 2:
            raise ValueError("initial_concentrations must give [glucose, lactose] in mM")
        self.n_features = len(feature_names(self.stores))
        self.net, self.device, shape = configured_network(
            cfg, self.stores,
            lambda **shape: LatentTransformer(self.n_features, self.n_features, **shape))
        self.history = shape["history"]
        self.width = shape["width"]
        self._steps = 0

    def _ports(self):
        ports = {s: store_schema(s) for s in self.stores}
        ports["latent"] = array_port((self.width,), "")
        ports["history"] = array_port((self.history, self.n_features), "")
        return ports

    def inputs(self):
        return self._ports()

    def outputs(self):
        return self._ports()

    def initial_state(self):
        values = {"concentrations": np.asarray(self.config["initial_concentrations"], dtype=float),
                  "biomass": float(self.config["initial_biomass"]), "growth_rate": 0.0,
                  "lac": np.zeros(FEATURES["lac"][0]), "ledger": np.zeros(2)}
        state = {s: values[s] for s in self.stores}
        state["latent"] = np.zeros(self.width)
        state["history"] = np.zeros((self.history, self.n_features))
        return state

    def port_metadata(self):
        meta = {"history": {"dims": ("lag", "feature"),
                            "coords": {"feature": feature_names(self.stores)}, "units": ""},
                "latent": {"dims": ("latent_dim",), "units": ""}}
        if "concentrations" in self.stores:
            meta["concentrations"] = {"dims": ("metabolite",),
                                      "coords": {"metabolite": ["glc__D_e", "lcts_e"]},
                                      "units": "mM"}
        if "ledger" in self.stores:
            meta["ledger"] = {"dims": ("element",), "coords": {"element": ["C", "N"]},
                              "units": "mM"}
        return meta

    def update(self, state, interval):
        features = embed({s: state[s] for s in self.stores}, self.stores)
        finite_or_raise(features, f"DataOnlyCell's input stores {self.stores}")
        old_history = np.asarray(state["history"], dtype=float)
        history = np.tile(features, (self.history, 1)) if self._steps == 0 else \
            np.concatenate([old_history[1:], features[None]], axis=0)
        latent = np.asarray(state["latent"], dtype=float)
        with torch.no_grad(), torch_threads(self.config["threads"]):
            lat = torch.as_tensor(latent, dtype=torch.float32, device=self.device)[None]
            hist = torch.as_tensor(history, dtype=torch.float64, device=self.device)[None]
            new_latent, change = self.net(lat, hist)
        new_latent = new_latent[0].double().cpu().numpy()
        change = change[0].cpu().numpy()
        finite_or_raise(np.concatenate([new_latent, change]),
                        f"DataOnlyCell (weights {self.config['weights'] or 'random'})")
        new = decode_features(features + change, self.stores)
        self._steps += 1
        update = {"latent": new_latent - latent, "history": history - old_history}
        for s in self.stores:
            update[s] = new[s] - (float(state[s]) if s in ("biomass", "growth_rate")
                                  else np.asarray(state[s], dtype=float))
        return update
