"""The :class:`Division` step: cells of a population divide into free slots of per-cell stores.

A population is held in per-cell stores shared by several processes (cell axis
first, a fixed ``capacity``, an ``alive`` store of 0/1 per slot). A cell-cycle
process raises a cell's ``divide`` flag (0/1 per slot); after every update the
``Division`` step divides the flagged live cells: daughter 1 stays in the
mother's slot, daughter 2 takes the lowest free slot, and every store named in
``stores`` is partitioned by its rule (:mod:`.division`). The ``divisions``
output (a count) is what orders other steps after this one under
process-bigraph (see :class:`Division`). The rule of each store
is declared in the port schemas of the processes that share it
(``array_port(..., divide='binomial')``); :func:`~.validation.validate_document`
finds it per store, rejects a missing or conflicting rule, and writes it into
this step's ``rules`` config, which may also give it directly.

Example (YAML)::

    division:
      _type: step
      address: local:Division
      config: {capacity: 64, stores: [counts, volume, conc], trailing_shape: {conc: [3]},
               seed: 1}
      inputs:  {counts: [cells, counts], volume: [cells, volume], conc: [cells, conc],
                alive: [cells, alive], divide: [cells, divide]}
      outputs: {counts: [cells, counts], volume: [cells, volume], conc: [cells, conc],
                alive: [cells, alive], divide: [cells, divide], divisions: [cells, divisions]}

The step returns deltas (new - old), so that the array stores' accumulate
semantics give the same arithmetic under process-bigraph and vivarium-core.
"""
from __future__ import annotations

import logging

import numpy as np

from ..errors import SpecError
from .base import GreyboxStep
from .division import DIVISION_RULES, check_slots, divide_cells
from .ports import array_port, check_division_rule

__all__ = ["Division", "CONTROL_PORTS"]

logger = logging.getLogger(__name__)

#: Ports of the Division that are not partitioned stores: the alive mask, the division
#: flags, (with ``ratio_input``) daughter 1's share per cell, and the count of divisions.
CONTROL_PORTS = ("alive", "divide", "division_ratio", "divisions")

#: Bounds of a noisy division ratio: a ratio of 0 or 1 would make an empty daughter.
_RATIO_BOUNDS = (0.05, 0.95)


class Division(GreyboxStep):
    """Cell division: daughters into free slots, each per-cell store partitioned by its rule.

    Ports: one per name in ``stores`` (``[capacity, *trailing_shape[name]]``, read and
    written), ``alive`` and ``divide`` (``[capacity]``, 0/1, read and written: a daughter's
    slot becomes alive, every flag is cleared once read), optionally ``division_ratio``
    (``[capacity]``, read) and ``divisions`` (written: how many cells divided at the last
    call, dimensionless). ``divisions`` is the one output this step does not also read:
    process-bigraph orders a step after another only through such a store (a store a step
    both reads and writes is an accumulator, not an ordering edge), so wiring it is what
    makes the emitter, and any step reading the per-cell stores, see them after division.

    Port units:
      alive: 1 where a slot holds a live cell, else 0 (flag)
      divide: 1 where a cell divides (flag)
    """

    config_schema = {
        # slots of every per-cell store (the cell axis, axis 0)
        "capacity": {"_type": "integer", "_default": 64},
        # names of the ports of the per-cell stores to partition (one port per store)
        "stores": {"_type": "list[string]", "_default": []},
        # extra axes after the cell axis, e.g. {protein: [n_genes]}; others are [capacity]
        "trailing_shape": {"_type": "map[list[integer]]", "_default": {}},
        # {store port: binomial | split | copy | zero}; filled by validation from the ports
        # of the other processes wired to the same stores
        "rules": {"_type": "map[string]", "_default": {}},
        # daughter 1's share of the mother (dimensionless), and the SD of its normal noise
        "ratio": {"_type": "float", "_default": 0.5},
        "ratio_noise": {"_type": "float", "_default": 0.0},
        # read daughter 1's share per cell from a `division_ratio` input instead
        "ratio_input": {"_type": "boolean", "_default": False},
        # live cells at the start (slots 0 .. initial_cells-1 of the alive store)
        "initial_cells": {"_type": "integer", "_default": 1},
        "seed": {"_type": "integer", "_default": 0},
    }

    def initialize(self, config):
        cfg = self.config
        check_slots(cfg["capacity"], cfg["initial_cells"])
        stores = list(cfg["stores"])
        if len(set(stores)) != len(stores) or not all(stores):
            raise ValueError(f"stores must be distinct non-empty names, got {stores}")
        clash = sorted(set(stores) & set(CONTROL_PORTS))
        if clash:
            raise ValueError(f"stores {clash} clash with the Division's own ports "
                             f"{list(CONTROL_PORTS)}; wire the store under another port name")
        for key in ("trailing_shape", "rules"):
            unknown = sorted(set(cfg[key]) - set(stores))
            if unknown:
                raise ValueError(f"{key} names {unknown}, which are not in stores {stores}")
        for name, dims in cfg["trailing_shape"].items():
            if any(int(d) < 0 for d in dims):
                raise ValueError(f"trailing_shape of {name!r} must be sizes >= 0, got {dims}")
        for rule in cfg["rules"].values():
            check_division_rule(rule)
        if not 0.0 < cfg["ratio"] < 1.0:
            raise ValueError(f"ratio (daughter 1's share) must lie strictly between 0 and 1, "
                             f"got {cfg['ratio']}")
        if cfg["ratio_noise"] < 0:
            raise ValueError(f"ratio_noise must be >= 0, got {cfg['ratio_noise']}")
        # one generator for the life of the step; it only advances when cells divide, so
        # extra calls of the step (engines schedule steps differently) do not change it
        self._rng = np.random.default_rng(cfg["seed"])

    # ports -----------------------------------------------------------------------------
    def per_cell_ports(self) -> list:
        """Ports of the per-cell stores this step partitions (see ``resolve_division_rules``)."""
        return list(self.config["stores"])

    def _store_port(self, name):
        shape = (self.config["capacity"],) + tuple(
            int(d) for d in self.config["trailing_shape"].get(name, ()))
        return array_port(shape, divide=self.config["rules"].get(name))

    def _mask_port(self):
        return array_port((self.config["capacity"],))

    def inputs(self):
        ports = {name: self._store_port(name) for name in self.config["stores"]}
        ports.update(alive=self._mask_port(), divide=self._mask_port())
        if self.config["ratio_input"]:
            ports["division_ratio"] = self._mask_port()
        return ports

    def outputs(self):
        ports = {name: self._store_port(name) for name in self.config["stores"]}
        ports.update(alive=self._mask_port(), divide=self._mask_port(),
                     divisions="overwrite[float]")
        return ports

    def initial_state(self):
        capacity, n0 = self.config["capacity"], self.config["initial_cells"]
        return {"alive": (np.arange(capacity) < n0).astype(np.float64),
                "divide": np.zeros(capacity), "divisions": 0.0}

    def port_metadata(self):
        cells = {"dims": ("cell",), "coords": {"cell": np.arange(self.config["capacity"])}}
        return {"alive": {**cells, "long_name": "1 where a slot holds a live cell"},
                "divide": {**cells, "long_name": "1 where a cell divides at this step"},
                "divisions": {"dims": (), "long_name": "cells divided at the last step"}}

    # update ----------------------------------------------------------------------------
    def rules(self) -> dict:
        """``{store port: rule}``; a SpecError if a store has none (the document was not validated)."""
        rules = dict(self.config["rules"])
        missing = [name for name in self.config["stores"] if name not in rules]
        if missing:
            raise SpecError(
                f"Division has no division rule for store(s) {missing}",
                path=("config", "rules"),
                fix="run the composite through greybox_processes.run or validate_document, "
                    "which take each rule from the ports of the processes sharing the store, "
                    f"or give `rules: {{{missing[0]}: <{' | '.join(DIVISION_RULES)}>}}`")
        return rules

    def _ratios(self, state, dividing):
        """Daughter 1's share per slot (read at the dividing slots only)."""
        capacity = self.config["capacity"]
        if self.config["ratio_input"]:
            ratio = np.asarray(state["division_ratio"], dtype=np.float64).copy()
        else:
            ratio = np.full(capacity, float(self.config["ratio"]))
        noise = self.config["ratio_noise"]
        if noise > 0:
            # one draw per dividing cell, in slot order
            drawn = ratio[dividing] + noise * self._rng.standard_normal(int(dividing.sum()))
            ratio[dividing] = np.clip(drawn, *_RATIO_BOUNDS)
        return ratio

    def update(self, state):
        rules = self.rules()
        alive_values = np.asarray(state["alive"], dtype=np.float64)
        flags = np.asarray(state["divide"], dtype=np.float64)
        alive = alive_values > 0.5
        dividing = (flags > 0.5) & alive
        update = {"divisions": float(np.sum(dividing))}
        if np.any(flags != 0.0):
            # a flag is read once: the cell-cycle process raises it again when it must
            update["divide"] = -flags
        if not np.any(dividing):
            return update
        ratio = self._ratios(state, dividing)
        stores = {name: np.asarray(state[name]) for name in rules}
        new_stores, new_alive = divide_cells(stores, rules, alive, dividing, ratio, self._rng)
        logger.debug("Division: %d cells divided, %d alive", int(dividing.sum()),
                     int(new_alive.sum()))
        for name, new in new_stores.items():
            update[name] = new - stores[name]
        update["alive"] = new_alive.astype(np.float64) - alive_values
        return update
