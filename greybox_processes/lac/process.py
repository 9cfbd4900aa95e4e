"""The LacOperon process: stochastic lac operon counts in the per-cell stores of a population.

A thin process-bigraph adapter of :mod:`greybox_processes.lac.kernel`. Each interval it
reads every live cell's ``volume`` (fL), ``growth_rate`` (1/min) and the shared medium
(``glucose``, ``lactose``, mM, scalar stores as in the dFBA composites' ``mM`` units),
holds them constant over the interval (the medium changes on the culture's time scale,
tens of minutes; the volume by ~2% per minute), and advances the ``lac`` counts
(``[capacity, len(SPECIES)]`` molecules, species order :data:`~.kernel.SPECIES`).

Dilution is not a reaction: counts stay while the cell grows (another process writes the
volume, so concentrations ``n/(N_A V)`` fall), and the ``lac`` port declares
``divide='binomial'``, so the :class:`~greybox_processes.framework.population.Division`
step partitions each molecule between the daughters.

Example (YAML)::

    lac:
      _type: process
      address: local:LacOperon
      config: {capacity: 64, initial_cells: 1, seed: 1}
      interval: 1.0
      inputs:  {lac: [cells, lac], volume: [cells, volume], growth_rate: [cells, growth_rate],
                alive: [cells, alive], glucose: [medium, glucose], lactose: [medium, lactose]}
      outputs: {lac: [cells, lac]}

The random key lives in the instance and advances with each update, so two instances
with the same ``seed`` (one per engine) give the same trajectory.
"""
from __future__ import annotations

import logging
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..framework.base import GreyboxProcess
from ..framework.division import check_slots
from ..framework.ports import array_port
from ..jax_common import float_dtype
from .kernel import (DEFAULT_K_GLUCOSE, DEFAULT_LEAP_THRESHOLD, DEFAULT_MAX_EVENTS, DEFAULT_STEP,
                     SPECIES, LacKinetics, check_errors, make_lac_operon)

__all__ = ["LacOperon", "METHODS"]

logger = logging.getLogger(__name__)

#: ``hybrid``: exact SSA for reactions firing at most ``leap_threshold`` times per step,
#: leaps for the others (see the kernel); ``exact``: the exact SSA for every reaction.
METHODS = ("hybrid", "exact")


class LacOperon(GreyboxProcess):
    """Stochastic lac operon per cell (Yildirim-Mackey kinetics as molecule counts, exact SSA where counts are low)."""

    config_schema = {
        # slots of every per-cell store (the cell axis)
        "capacity": {"_type": "integer", "_default": 64},
        # live cells at the start (slots 0 .. initial_cells-1)
        "initial_cells": {"_type": "integer", "_default": 1},
        # initial counts of every live cell, in SPECIES order (the first five, or all);
        # default: none (an uninduced cell fresh from glucose)
        "initial_counts": {"_type": "list[float]", "_default": []},
        # overrides of Yildirim-Mackey parameters {name: value} in the SBML's units (mM, min)
        "rates": {"_type": "map[float]", "_default": {}},
        # K_m of glucose uptake (mM) for inducer exclusion
        "k_glucose": {"_type": "float", "_default": DEFAULT_K_GLUCOSE},
        # gratuitous induction: the repressor fully released (fully induced reference)
        "iptg": {"_type": "boolean", "_default": False},
        "method": {"_type": "string", "_default": "hybrid"},
        # split step (minutes) and the expected events per step above which a reaction is leaped
        "step": {"_type": "float", "_default": DEFAULT_STEP},
        "leap_threshold": {"_type": "float", "_default": DEFAULT_LEAP_THRESHOLD},
        "max_events": {"_type": "integer", "_default": DEFAULT_MAX_EVENTS},
        "seed": {"_type": "integer", "_default": 0},
        "dtype": {"_type": "string", "_default": "float64"},
    }

    #: these fix the shape or dtype of the stores, so an intervention may not change them
    fixed_config_keys = ("capacity", "dtype")

    def initialize(self, config):
        cfg = self.config
        float_dtype(cfg["dtype"])  # checks it (ValueError naming the choices)
        check_slots(cfg["capacity"], cfg["initial_cells"])
        counts = list(cfg["initial_counts"])
        if counts and len(counts) not in (5, len(SPECIES)):
            raise ValueError(f"initial_counts must list 5 or {len(SPECIES)} counts in the order "
                             f"{list(SPECIES)}, got {len(counts)}")
        if any(not (math.isfinite(c) and c >= 0 and c == math.floor(c)) for c in counts):
            raise ValueError(f"initial_counts must be whole non-negative molecule counts, got "
                             f"{counts}")
        self._x64 = cfg["dtype"] == "float64"
        self._build()
        self._key = jax.random.key_data(jax.random.key(cfg["seed"]))

    def _build(self):
        """Kernel parameters and functions from the current config (checks them)."""
        cfg = self.config
        if cfg["method"] not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {cfg['method']!r}")
        threshold = math.inf if cfg["method"] == "exact" else cfg["leap_threshold"]
        with jax.enable_x64(self._x64):
            self.kinetics = LacKinetics.create(
                dict(cfg["rates"]), k_glucose=cfg["k_glucose"], iptg=cfg["iptg"],
                dtype=jnp.float64 if self._x64 else jnp.float32)
            self._init_fn, self._step_fn = make_lac_operon(
                self.kinetics, step=cfg["step"], leap_threshold=threshold,
                max_events=cfg["max_events"])

    def parameters_changed(self, keys):
        """Rebuild the kernel from the new config; the stores and ``self._key`` carry on."""
        self._build()

    # ports -----------------------------------------------------------------------------
    def _ports(self):
        n = self.config["capacity"]
        return {"lac": array_port((n, len(SPECIES)), divide="binomial"),
                "volume": array_port((n,), "fL", divide="split"),
                "growth_rate": array_port((n,), "1/min", divide="copy"),
                "alive": array_port((n,)),
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"}}

    def inputs(self):
        return self._ports()

    def outputs(self):
        return {"lac": self._ports()["lac"]}

    def initial_state(self):
        cfg = self.config
        lac = np.zeros((cfg["capacity"], len(SPECIES)))
        counts = list(cfg["initial_counts"])
        if counts:
            lac[:cfg["initial_cells"], :len(counts)] = counts
        return {"lac": lac}

    def port_metadata(self):
        cells = np.arange(self.config["capacity"])
        return {"lac": {"dims": ("cell", "species"),
                        "coords": {"cell": cells, "species": list(SPECIES)},
                        "units": "molecules", "long_name": "lac operon molecules per cell"}}

    # update ----------------------------------------------------------------------------
    def _read(self, state, name, shape):
        value = np.asarray(state[name], dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"store {name!r} has shape {value.shape}; LacOperon expects "
                             f"{shape} (capacity {self.config['capacity']})")
        return value

    def update(self, state, interval):
        n = self.config["capacity"]
        lac = self._read(state, "lac", (n, len(SPECIES)))
        volume, growth_rate, alive = (self._read(state, name, (n,))
                                      for name in ("volume", "growth_rate", "alive"))
        glucose, lactose = float(state["glucose"]), float(state["lactose"])
        live = alive > 0.5
        with jax.enable_x64(self._x64):
            current = self._init_fn(self._key, lac)
            advanced = self._step_fn(current, volume, growth_rate, live, glucose, lactose,
                                     float(interval))
            check_errors(advanced, self.config["max_events"])
            new = np.asarray(advanced.counts, dtype=np.float64)
        self._key = advanced.key
        logger.debug("LacOperon: %d live cells, %d without LacY", int(live.sum()),
                     int(np.sum(live & (new[:, SPECIES.index("lacY")] == 0))))
        return {"lac": new - lac}
