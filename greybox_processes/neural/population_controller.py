"""PopulationController: the grey box's latent controller acting on every cell of a population.

The same network as :class:`~.controller.NeuralLatentController` (seed 000, Eqs. 9-10:
``L_{t+1} = Transformer(L_t, Embed(M_t))``, ``g_decode(L_t)`` writes regulation), applied
to each live cell of a population at once (one batched torch call over the cell axis, no
per-cell Python loop). Each cell has its own latent state and history, in per-cell stores
that division copies to both daughters (a daughter inherits its mother's regulatory
state), and the decoded lac induction goes into the per-cell ``regulation`` store that
:class:`~greybox_processes.lac.process.LacOperon` reads with ``regulation: store``.

Weights. The shipped ``grey_box_controller.pt`` is the pre-training: it was fitted to
glass-box trajectories of the *single-culture* cell (``composites/glass_box_cell.yaml``:
deterministic dFBA of e_coli_core with the Yildirim-Mackey ODE, one-minute steps, fourteen
glucose/lactose media with 0.015-0.4% lactose, Julou's medium at 0.02% and 0.2% held out;
see ``neural/weights/README.md``), so each cell is presented to it in
that cell's units:

* ``concentrations``: the shared medium's glucose and lactose, mM (the same for every cell);
* ``growth_rate``: the cell's growth rate in 1/h (the population's store is in 1/min: x 60);
* ``lac``: the cell's lac state in mM in lac.py's order (``M, B, A, L, P, I1, I2, I3``):
  its molecule counts divided by ``N_A V`` for its volume ``V``
  (:func:`~greybox_processes.lac.kernel.counts_to_concentrations`), the conversion the
  stochastic kernel makes from the same Yildirim-Mackey rates.

Learned from measurements: ``induction_offset`` (``b``, logit units, default 0) is added to
the network's lac output before the sigmoid, ``regulation = sigmoid(y + b)``: the decoder's lac
bias, which :mod:`~.lac_lag_learning` learns from Julou et al. 2020's measured population lags
(``composites/ecoli_grey_box.yaml`` carries the learned value as ``lac_bias``). It scales every
cell's odds of induction by ``e^b`` and changes nothing else.

One network step is one update, and the weights learned one-minute steps: the process
refuses another interval (a clear error) rather than run the latent dynamics at a time step
they never saw.

Conservation, for any weights: the process writes only ``regulation`` (a fraction of the
maximal lac transcription, a rate, in (0, 1)) and its own ``latent`` and ``history``; it
never writes a molecule count, a volume, a growth rate or the medium.

Ports (``capacity`` slots on the cell axis): inputs ``alive``, ``volume`` (fL), ``lac``
(molecules, :data:`~greybox_processes.lac.kernel.SPECIES` order), ``growth_rate`` (1/min),
the medium's ``glucose`` and ``lactose`` (mM); inputs and outputs ``latent``
``[capacity, width]``, ``history`` ``[capacity, history, n_features]``, ``regulation``
``[capacity]``. Free slots are left unchanged. Its initial state holds ``latent`` and
``history`` (zeros) but not ``regulation``, whose initial value is the lac process's. A cell
whose history is all zeros (not seen yet; no real cell embeds to exactly zero) starts it with
its present state repeated, as the single-cell controller's first step does; a daughter
inherits its mother's.
"""
from __future__ import annotations

import logging

import numpy as np
import torch

from ..framework.base import GreyboxProcess
from ..framework.division import check_slots
from ..framework.ports import array_port
from ..lac.kernel import SPECIES, counts_to_concentrations
from .controller import NETWORK_CONFIG, build_controller_network, configured_network
from .embedding import embed, feature_names
from .networks import finite_or_raise, torch_threads

__all__ = ["PopulationController", "CONTROLLER_INPUTS", "TRAINED_STEP_MIN", "cell_features",
           "check_trained_step"]

logger = logging.getLogger(__name__)

#: The single-culture stores the network reads, in the order it was trained on.
CONTROLLER_INPUTS = ("concentrations", "growth_rate", "lac")
#: Minutes of one network step: the single-culture cells' interval (1/60 h) the shipped
#: weights were trained on.
TRAINED_STEP_MIN = 1.0


def check_trained_step(process: str, node: str, interval) -> None:
    """Refuse an interval other than the one-minute step the shipped weights learned."""
    if abs(float(interval) - TRAINED_STEP_MIN) > 1e-9:
        raise ValueError(f"{process} steps its network once per update and the weights learned "
                         f"{TRAINED_STEP_MIN:g}-minute steps, but it runs every {interval} min; "
                         f"set the {node}'s interval to {TRAINED_STEP_MIN:g}")
_MIN_PER_H = 60.0
#: largest |induction_offset| (logit): beyond it the sigmoid saturates and the offset is
#: no longer a learned bias but a switch
_MAX_OFFSET = 20.0


def cell_features(glucose, lactose, growth_rate_per_min, lac_counts, volume_fL,
                  inputs=CONTROLLER_INPUTS) -> np.ndarray:
    """``(n_cells, n_features)`` network features of cells, in the single culture's units.

    ``glucose``, ``lactose``: the medium, mM; ``growth_rate_per_min``: ``[n]`` 1/min;
    ``lac_counts``: ``[n, len(SPECIES)]`` molecules; ``volume_fL``: ``[n]`` fL. Any subset
    of :data:`CONTROLLER_INPUTS` in ``inputs`` (also ``biomass``/``ledger`` are not per cell
    and are not made here).
    """
    n = len(volume_fL)
    values = {"concentrations": np.tile([float(glucose), float(lactose)], (n, 1)),
              # (n, 1): embed() reads a trailing axis of 1 as the feature axis
              "growth_rate": np.asarray(growth_rate_per_min, dtype=float)[:, None] * _MIN_PER_H,
              "lac": counts_to_concentrations(lac_counts, volume_fL)}
    return embed({name: values[name] for name in inputs}, list(inputs))


class PopulationController(GreyboxProcess):
    """Grey-box controller per cell: the latent Transformer, batched over the cell axis, writes each cell's lac regulation.

    Ports:
      alive: 1 where a slot holds a live cell, else 0 (flag)
      lac: lac operon species per cell (molecule)
      latent: the Transformer's latent state (arbitrary)
      history: embedded (log-scaled) cell state of the last steps (arbitrary)
      regulation: lac transcription as a fraction of its maximum (dimensionless)
    """

    config_schema = {
        # slots of every per-cell store (the cell axis)
        "capacity": {"_type": "integer", "_default": 64},
        # g_decode's lac bias learned from measured lags (neural/lac_lag_learning.py): added
        # to the network's lac output before the sigmoid (logit units); 0 = the weights alone
        "induction_offset": {"_type": "float", "_default": 0.0},
        **NETWORK_CONFIG,
    }

    def initialize(self, config):
        cfg = self.config
        check_slots(cfg["capacity"], 0)
        self.inputs_ = list(CONTROLLER_INPUTS)
        self.net, self.device, shape = configured_network(
            cfg, self.inputs_,
            lambda **shape: build_controller_network(self.inputs_, ["lac_induction"], **shape),
            outputs=["lac_induction"])
        self.n_features = len(feature_names(self.inputs_))
        self.history = shape["history"]
        self.width = shape["width"]
        self.offset = float(cfg["induction_offset"])
        if not np.isfinite(self.offset) or abs(self.offset) > _MAX_OFFSET:
            raise ValueError(f"PopulationController's induction_offset {cfg['induction_offset']!r} "
                             f"must be a finite logit within +/-{_MAX_OFFSET:g} (a factor "
                             f"e^{_MAX_OFFSET:g} on the odds of lac induction); 0 uses the "
                             "network's output as it is")

    # -- ports ---------------------------------------------------------------------------
    def _own_ports(self):
        n = self.config["capacity"]
        return {"latent": array_port((n, self.width), divide="copy"),
                "history": array_port((n, self.history, self.n_features), divide="copy"),
                "regulation": array_port((n,), divide="copy")}

    def inputs(self):
        n = self.config["capacity"]
        return {"alive": array_port((n,)),
                "volume": array_port((n,), "fL", divide="split"),
                "lac": array_port((n, len(SPECIES)), divide="binomial"),
                "growth_rate": array_port((n,), "1/min", divide="copy"),
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                **self._own_ports()}

    def outputs(self):
        return self._own_ports()

    def initial_state(self):
        n = self.config["capacity"]
        return {"latent": np.zeros((n, self.width)),
                "history": np.zeros((n, self.history, self.n_features))}

    def port_metadata(self):
        cells = np.arange(self.config["capacity"])
        return {"latent": {"dims": ("cell", "latent_dim"), "coords": {"cell": cells},
                           "units": "", "long_name": "latent state L_t per cell (Eq. 10)"},
                "history": {"dims": ("cell", "lag", "feature"),
                            "coords": {"cell": cells,
                                       "feature": feature_names(self.inputs_)},
                            "units": "", "long_name": "embedded cell state, last steps"},
                "regulation": {"dims": ("cell",), "coords": {"cell": cells}, "units": "",
                               "long_name": "lac induction (fraction of max transcription)"}}

    # -- update --------------------------------------------------------------------------
    def _read(self, state, name, shape):
        value = np.asarray(state[name], dtype=float)
        if value.shape != shape:
            raise ValueError(f"store {name!r} has shape {value.shape}; PopulationController "
                             f"expects {shape} (capacity {self.config['capacity']})")
        return value

    def step_network(self, latent, history):
        """One Eq. 10 step for a batch of cells: ``(L_{t+1}, lac induction)``, float64."""
        with torch.no_grad(), torch_threads(self.config["threads"]):
            lat = torch.as_tensor(latent, dtype=torch.float32, device=self.device)
            hist = torch.as_tensor(history, dtype=torch.float64, device=self.device)
            new_latent, y = self.net(lat, hist)
            induction = torch.sigmoid(y[:, 0] + self.offset)
        return new_latent.double().cpu().numpy(), induction.cpu().numpy()

    def update(self, state, interval):
        check_trained_step("PopulationController", "controller", interval)
        n = self.config["capacity"]
        alive = self._read(state, "alive", (n,))
        volume = self._read(state, "volume", (n,))
        growth = self._read(state, "growth_rate", (n,))
        lac = self._read(state, "lac", (n, len(SPECIES)))
        latent = self._read(state, "latent", (n, self.width))
        history = self._read(state, "history", (n, self.history, self.n_features))
        regulation = self._read(state, "regulation", (n,))
        live = np.flatnonzero(alive > 0.5)
        update = {"latent": np.zeros_like(latent), "history": np.zeros_like(history),
                  "regulation": np.zeros(n)}
        if len(live):
            features = cell_features(state["glucose"], state["lactose"], growth[live],
                                     lac[live], volume[live], self.inputs_)
            finite_or_raise(features, "PopulationController's inputs (medium, growth_rate, "
                            "lac counts per volume; a live cell with no volume?)")
            # a cell not seen yet (history all zeros: no real cell embeds to exactly 0) starts
            # with its present state repeated, as NeuralLatentController's first step
            fresh = ~np.any(history[live] != 0.0, axis=(1, 2))
            shifted = np.concatenate([history[live, 1:], features[:, None, :]], axis=1)
            repeated = np.repeat(features[:, None, :], self.history, axis=1)
            new_history = np.where(fresh[:, None, None], repeated, shifted)
            new_latent, induction = self.step_network(latent[live], new_history)
            finite_or_raise(np.concatenate([new_latent.ravel(), induction]),
                            f"PopulationController (weights {self.config['weights'] or 'random'})")
            update["latent"][live] = new_latent - latent[live]
            update["history"][live] = new_history - history[live]
            update["regulation"][live] = induction - regulation[live]
            logger.debug("PopulationController: %d cells, induction %.3g..%.3g", len(live),
                         float(induction.min()), float(induction.max()))
        return update
