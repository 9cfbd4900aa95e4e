"""NeuralLatentController: the latent state L_t of the grey box and its regulation outputs.

Seed 000, section 6: ``L_{t+1} = Transformer(L_t, Embed(M_t))`` (Eq. 10) and
``Delta M = f_phys(M_t) Delta t + g_decode(L_t)`` (Eq. 9). Here ``g_decode`` writes only
*regulatory* quantities, into the stores that the mechanistic processes read as regulation
inputs; it never touches a conserved amount, so mass and elements are moved by ``f_phys``
alone whatever the weights.

Regulation outputs it knows (:data:`REGULATION_OUTPUTS`):

* ``lac_induction``: lac operon transcription as a fraction of its maximum, in (0, 1)
  (sigmoid of the decoded value), written to the ``regulation`` store that
  :class:`~.regulated.RegulatedDynamicFBA` reads with ``regulation: store``.
* ``uptake_control``: one multiplier per tracked exchange (glucose, lactose), in (0, 1)
  (sigmoid), written to the ``uptake_control`` store that RegulatedDynamicFBA reads with
  ``uptake_control: true`` and multiplies each Michaelis-Menten uptake bound by. It only
  tightens a bound of the LP, so conservation holds for any weights.
* ``synthesis_allocation``: the fraction of the LacZ/LacY translation that regulation asks
  for which the cell makes, in (0, 1), written to the ``synthesis_allocation`` store that
  RegulatedDynamicFBA reads with ``synthesis_allocation: true`` (a rate, not an amount).

``outputs`` chooses them (default ``[lac_induction]``, what the shipped weights decode); the
decoder's values follow the order of ``outputs``. Weights record the outputs they were
trained for, and a file that does not match says so.

Stores: the chosen input stores (``inputs``, see :mod:`.embedding`), ``latent`` (``L_t``,
shape ``(width,)``), ``history`` (the last ``history`` feature vectors) and one store per
output (``regulation``, ``uptake_control``, ``synthesis_allocation``).
Inference runs under ``torch.no_grad()`` on ``device`` ('cpu' by default).
"""
from __future__ import annotations

import numpy as np
import torch

from ..framework.base import GreyboxProcess
from ..framework.ports import array_port
from .embedding import FEATURES, check_stores, embed, feature_names, store_schema
from .networks import (LatentTransformer, finite_or_raise, load_into, load_weights,
                       pick_device, seeded, torch_threads)

__all__ = ["NeuralLatentController", "REGULATION_OUTPUTS", "build_controller_network",
           "check_outputs", "output_layout"]

#: regulation output -> (store, size); uptake_control: one per exchange of 'concentrations'
REGULATION_OUTPUTS = {"lac_induction": ("regulation", 1),
                      "uptake_control": ("uptake_control", FEATURES["concentrations"][0]),
                      "synthesis_allocation": ("synthesis_allocation", 1)}


def check_outputs(names, what: str = "NeuralLatentController") -> list:
    """The output names, or ValueError naming the unknown/repeated ones and the known ones."""
    names = [str(n) for n in names]
    unknown = [n for n in names if n not in REGULATION_OUTPUTS]
    if unknown or not names:
        raise ValueError(f"{what} does not know regulation output(s) {unknown or names}; it "
                         f"can write {sorted(REGULATION_OUTPUTS)} (set 'outputs' to a "
                         "non-empty subset of these)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what}: regulation output(s) {repeated} given more than once in "
                         f"'outputs' {names}; list each once")
    return names


def output_layout(outputs) -> str:
    """The decoder's rows per output: ``'lac_induction (1) + uptake_control (2) = 3 ...'``."""
    sizes = [REGULATION_OUTPUTS[o][1] for o in outputs]
    parts = " + ".join(f"{o} ({n})" for o, n in zip(outputs, sizes))
    return f"{parts} = {sum(sizes)} decoded values"


def build_controller_network(inputs, outputs, *, width, heads, layers, history):
    """The latent Transformer for the given input features and regulation outputs (untrained)."""
    n_features = len(feature_names(inputs))
    n_out = sum(REGULATION_OUTPUTS[o][1] for o in outputs)
    return LatentTransformer(n_features, n_out, width=width, heads=heads, layers=layers,
                             history=history)


def check_shape(width, heads, layers, history):
    for name, value in (("width", width), ("heads", heads), ("layers", layers),
                        ("history", history)):
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if width % heads:
        raise ValueError(f"width ({width}) must be a multiple of heads ({heads}); change one")


#: Config keys of a network-backed process (controller and black box alike).
NETWORK_CONFIG = {
    "width": {"_type": "integer", "_default": 32},
    "heads": {"_type": "integer", "_default": 2},
    "layers": {"_type": "integer", "_default": 1},
    "history": {"_type": "integer", "_default": 4},
    "weights": {"_type": "string", "_default": ""},
    "seed": {"_type": "integer", "_default": 0},
    "device": {"_type": "string", "_default": "cpu"},
    "threads": {"_type": "integer", "_default": 1},
}


def _check_trained_outputs(header, outputs, source):
    trained = header.get("outputs")
    if outputs is None or trained is None or list(trained) == list(outputs):
        return
    known = [o for o in trained if o in REGULATION_OUTPUTS]
    layout = output_layout(known) if len(known) == len(trained) else str(list(trained))
    raise ValueError(f"weights {source!r} were trained for outputs {list(trained)} "
                     f"({layout}), configured {list(outputs)} ({output_layout(outputs)}); "
                     f"set 'outputs' to {list(trained)}, or give weights trained for "
                     f"{list(outputs)} ('' for random ones)")


def configured_network(cfg, stores, build, outputs=None):
    """``(net, device, shape)`` for a process config with :data:`NETWORK_CONFIG` keys.

    ``build(**shape)`` makes the untrained network (seeded by ``cfg['seed']``); weights
    from ``cfg['weights']`` replace its parameters and must have been trained on ``stores``
    (and, for the controller, for the regulation ``outputs``).
    """
    check_shape(cfg["width"], cfg["heads"], cfg["layers"], cfg["history"])
    device = pick_device(cfg["device"])
    shape = dict(width=int(cfg["width"]), heads=int(cfg["heads"]),
                 layers=int(cfg["layers"]), history=int(cfg["history"]))
    with seeded(cfg["seed"]):
        net = build(**shape)
    if cfg["weights"]:
        header, state = load_weights(cfg["weights"])
        trained = header.get("inputs")
        if trained is not None and list(trained) != list(stores):
            raise ValueError(f"weights {cfg['weights']!r} were trained on stores {trained}, "
                             f"configured {list(stores)}; set 'inputs' to {trained} or retrain")
        _check_trained_outputs(header, outputs, cfg["weights"])
        names = {**shape, "inputs": list(stores)}
        if outputs is not None:
            names["outputs"] = output_layout(outputs)
        load_into(net, state, cfg["weights"], names)
    return net.to(device).eval(), device, shape


class NeuralLatentController(GreyboxProcess):
    """Grey-box controller: a torch Transformer latent state that writes regulation (Eqs. 9-10).

    Ports:
      latent: the Transformer's latent state (arbitrary)
      history: embedded (log-scaled) cell state of the last steps (arbitrary)
      regulation: lac transcription as a fraction of its maximum (dimensionless)
      uptake_control: multiplier of each tracked uptake bound, in (0, 1) (dimensionless)
      synthesis_allocation: fraction of the asked-for lac enzyme translation made (dimensionless)
    """

    config_schema = {
        "inputs": {"_type": "list[string]", "_default": ["concentrations", "growth_rate", "lac"]},
        "outputs": {"_type": "list[string]", "_default": ["lac_induction"]},
        **NETWORK_CONFIG,
    }

    def initialize(self, config):
        cfg = self.config
        self.inputs_ = check_stores(cfg["inputs"], "NeuralLatentController")
        self.outputs_ = check_outputs(cfg["outputs"])
        self.net, self.device, shape = configured_network(
            cfg, self.inputs_,
            lambda **shape: build_controller_network(self.inputs_, self.outputs_, **shape),
            outputs=self.outputs_)
        self.n_features = len(feature_names(self.inputs_))
        self.history = shape["history"]
        self.width = shape["width"]
        self._steps = 0

    def inputs(self):
        ports = {name: store_schema(name) for name in self.inputs_}
        ports.update(self._own_ports())
        return ports

    def outputs(self):
        return self._own_ports()

    def _own_ports(self):
        ports = {"latent": array_port((self.width,), ""),
                 "history": array_port((self.history, self.n_features), "")}
        for out in self.outputs_:
            store, size = REGULATION_OUTPUTS[out]
            ports[store] = array_port((size,), "")
        return ports

    def initial_state(self):
        return {"latent": np.zeros(self.width),
                "history": np.zeros((self.history, self.n_features))}

    def port_metadata(self):
        return {"latent": {"dims": ("latent_dim",), "units": "",
                           "long_name": "latent state L_t (Eq. 10)"},
                "history": {"dims": ("lag", "feature"),
                            "coords": {"feature": feature_names(self.inputs_)}, "units": "",
                            "long_name": "embedded mechanistic state, last steps"}}

    def step_network(self, latent, history):
        """One Eq. 10 step: ``(L_{t+1}, decoded regulation)`` as float64 arrays."""
        with torch.no_grad(), torch_threads(self.config["threads"]):
            lat = torch.as_tensor(latent, dtype=torch.float32, device=self.device)[None]
            hist = torch.as_tensor(history, dtype=torch.float64, device=self.device)[None]
            new_latent, y = self.net(lat, hist)
            regulation = torch.sigmoid(y[0])
        return (new_latent[0].double().cpu().numpy(), regulation.cpu().numpy())

    def update(self, state, interval):
        features = embed({k: state[k] for k in self.inputs_}, self.inputs_)
        finite_or_raise(features, "NeuralLatentController's input stores "
                        f"{self.inputs_}")
        old_history = np.asarray(state["history"], dtype=float)
        if self._steps == 0:
            history = np.tile(features, (self.history, 1))
        else:
            history = np.concatenate([old_history[1:], features[None]], axis=0)
        latent = np.asarray(state["latent"], dtype=float)
        new_latent, regulation = self.step_network(latent, history)
        finite_or_raise(np.concatenate([new_latent, regulation]),
                        f"NeuralLatentController (weights {self.config['weights'] or 'random'})")
        self._steps += 1
        update = {"latent": new_latent - latent, "history": history - old_history}
        start = 0
        for out in self.outputs_:
            store, size = REGULATION_OUTPUTS[out]
            update[store] = regulation[start:start + size] - np.asarray(state[store], dtype=float)
            start += size
        return update
