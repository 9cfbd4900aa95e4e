"""The GRN of a cell population: the :class:`~.process.GRN` on per-cell stores with an alive mask.

A population lives in per-cell stores of a fixed capacity (cell axis first) with
an ``alive`` store telling which slots hold a live cell (see
:mod:`greybox_processes.framework.population`). :class:`PopulationGRN` is the
project's GRN process on such stores, so that it can share them with the
processes that move, grow, divide and kill the cells (the ``Tissue``):

* slots are laid out as the GRN process lays out its cells, one block of
  ``cells_per_type`` slots per cell type of the network (the ``Tissue`` layout with
  ``capacity_per_type = cells_per_type``); the first ``initial_per_type`` slots of
  each block start with a cell, the others hold zeros;
* each update advances the live cells only: free slots get production scale 0 and
  their rows are left as they are (whoever empties or fills a slot owns that);
* ``mrna`` and ``protein`` are concentrations (SERGIO units), so their ports
  declare ``divide='copy'``: both daughters of a dividing cell start from the
  mother's expression (the division step that partitions them reads this rule);
* optional sensing: ``signal`` is a ``[capacity, len(signals)]`` input (e.g. the
  ``Tissue``'s ``local_conc``, the field concentration each cell sits in) and each
  ``sense`` entry ``"A:g"`` scales the production of gene ``g`` by
  ``1 + sense_gain * C^n / (sense_k^n + C^n)`` with ``C`` the cell's signal ``A``
  (same units as the signal) and ``n = sense_hill``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..framework.base import steps_per_interval
from ..framework.ports import array_port
from .kernel import check_errors
from .process import GRN

__all__ = ["PopulationGRN", "parse_sense"]

#: The division rule of the expression stores: concentrations, so both daughters copy them.
EXPRESSION_DIVISION = "copy"


def parse_sense(entries, signals, n_genes) -> list[tuple[int, int]]:
    """``[(signal column, gene index)]`` from ``["A:17", ...]``; ValueError naming the fix."""
    out = []
    for entry in entries:
        name, sep, gene = str(entry).partition(":")
        name, gene = name.strip(), gene.strip()
        if not sep or not gene.lstrip("-").isdigit():
            raise ValueError(f"sense entry {entry!r} must read '<signal>:<gene index>', "
                             "e.g. 'A:17'")
        if name not in signals:
            raise ValueError(f"sense names unknown signal {name!r}; signals are {list(signals)} "
                             "(set 'signals' to the names of the signal store's columns, e.g. "
                             "the tissue's chemicals)")
        if not 0 <= int(gene) < n_genes:
            raise ValueError(f"sense gene index {gene} is outside [0, n_genes={n_genes}) of "
                             "the network")
        out.append((list(signals).index(name), int(gene)))
    return out


class PopulationGRN(GRN):
    """SERGIO GRN per cell of a population: per-cell stores, alive mask, optional sensing.

    Ports:
      mrna: mRNA concentration per cell and gene, SERGIO's scale (arbitrary)
      protein: protein concentration, mRNA scale times k_trans/k_deg (arbitrary)
      alive: 1 where a slot holds a live cell, else 0 (flag)
      signal: the signal each cell senses, in the units of the store it is wired to (arbitrary)
    """

    config_schema = {
        **GRN.config_schema,
        # live cells of each type at the start (-1: every slot)
        "initial_per_type": {"_type": "integer", "_default": -1},
        # names of the columns of the `signal` input (none: no signal port)
        "signals": {"_type": "list[string]", "_default": []},
        # "<signal>:<gene index>": the signal activates the gene's production
        "sense": {"_type": "list[string]", "_default": []},
        "sense_gain": {"_type": "float", "_default": 1.0},  # dimensionless
        "sense_k": {"_type": "float", "_default": 1.0},     # signal units
        "sense_hill": {"_type": "float", "_default": 2.0},  # dimensionless
    }

    fixed_config_keys = GRN.fixed_config_keys + ("initial_per_type", "signals", "sense")

    def initialize(self, config):
        super().initialize(config)
        cfg = self.config
        per_type = cfg["cells_per_type"]
        n0 = per_type if cfg["initial_per_type"] == -1 else cfg["initial_per_type"]
        if not 0 <= n0 <= per_type:
            raise ValueError(f"initial_per_type ({cfg['initial_per_type']}) must lie in "
                             f"[0, cells_per_type={per_type}] (or be -1: every slot); raise "
                             "cells_per_type")
        self.initial_alive = np.tile(np.arange(per_type) < n0, self.network.n_cell_types)
        self._initial = {name: np.where(self.initial_alive[:, None], rows, 0.0)
                         for name, rows in self._initial.items()}
        self._sense = parse_sense(cfg["sense"], cfg["signals"], self.network.n_genes)
        for name in ("sense_gain", "sense_k", "sense_hill"):
            if not (np.isfinite(cfg[name]) and cfg[name] >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {cfg[name]}")

    # ports -------------------------------------------------------------------------------
    def _expression_port(self):
        return array_port(self.shape, divide=EXPRESSION_DIVISION)

    def inputs(self):
        ports = {"mrna": self._expression_port(), "protein": self._expression_port(),
                 "alive": array_port(self.shape[:1])}
        if self.config["signals"]:
            ports["signal"] = array_port((self.shape[0], len(self.config["signals"])))
        return ports

    def outputs(self):
        return {"mrna": self._expression_port(), "protein": self._expression_port()}

    def port_metadata(self):
        meta = super().port_metadata()
        cells = {"cell": np.arange(self.shape[0])}
        meta["alive"] = {"dims": ("cell",), "coords": cells,
                         "long_name": "1 where a slot holds a live cell"}
        if self.config["signals"]:
            meta["signal"] = {"dims": ("cell", "signal"),
                              "coords": {**cells, "signal": np.asarray(self.config["signals"])},
                              "long_name": "signal each cell senses"}
        return meta

    # update ------------------------------------------------------------------------------
    def rate_scale(self, signal, alive) -> np.ndarray:
        """``[capacity, n_genes]`` production scale: sensed signals activate genes; 0 in free slots."""
        cfg = self.config
        scale = np.ones(self.shape)
        if self._sense:
            k, n = cfg["sense_k"], cfg["sense_hill"]
            for column, gene in self._sense:
                conc = np.maximum(np.asarray(signal, dtype=np.float64)[:, column], 0.0)
                scale[:, gene] *= 1.0 + cfg["sense_gain"] * conc ** n / (k ** n + conc ** n)
        return np.where(alive[:, None], scale, 0.0)

    def update(self, state, interval):
        values = {name: np.asarray(state[name], dtype=np.float64) for name in ("mrna", "protein")}
        for name, value in values.items():
            if value.shape != self.shape:
                raise ValueError(f"store {name!r} has shape {value.shape}, the PopulationGRN "
                                 f"expects {self.shape} (capacity x genes)")
        alive = np.asarray(state["alive"], dtype=np.float64) > 0.5
        scale = self.rate_scale(state.get("signal"), alive)
        # free slots start from zero and, with production scale 0, stay there
        start = {name: np.where(alive[:, None], value, 0.0) for name, value in values.items()}
        with jax.enable_x64(self._x64):
            current = self._init_fn(self._key, **start)
            advanced = self._step_fn(
                current, steps_per_interval(interval, self.config["dt"], "PopulationGRN"),
                rate_scale=jnp.asarray(scale, current.mrna.dtype))
            check_errors(advanced)
            new = {"mrna": np.asarray(advanced.mrna, dtype=np.float64),
                   "protein": np.asarray(advanced.protein, dtype=np.float64)}
        self._key = advanced.key
        # rows of free slots are not this process's to change
        return {name: np.where(alive[:, None], new[name] - values[name], 0.0)
                for name in values}
