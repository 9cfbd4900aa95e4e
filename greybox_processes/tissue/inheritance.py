"""The :class:`Inheritance` step: the Tissue's daughters get their share of other per-cell stores.

The ``Tissue`` divides cells inside its jitted kernel, many kernel steps per
interval, and places each daughter next to her mother in a free slot of her
mother's cell-type block. The framework's
:class:`~greybox_processes.framework.population.Division` cannot take that over: it
divides only at interval boundaries and puts daughters in the lowest free slot of the
whole array (another type's block). So the Tissue keeps its placement and reports,
per slot, what happened in its last interval: ``alive`` (0/1), ``mother`` (the
mother's slot of a cell born in the interval, else -1) and ``division_ratio`` (at
a mother's slot: her share of the volume at the division).

The stores of *other* processes sharing the cells (a GRN's ``mrna`` and
``protein``) cannot be partitioned inside the Tissue's update: those processes
advance the same rows over the same interval and their deltas are added after
the Tissue's, so the Tissue does not know the mother's row at the end of the
interval, nor what to subtract to empty a dead cell's row. This step runs after
all of them: each daughter's row is partitioned from her mother's by the rule
declared on the ports of the processes that share the store
(:func:`greybox_processes.framework.division.partition_store`; ``copy`` for
concentrations, ``binomial`` for counts, ``split`` for amounts, ``zero``), and the
rows of slots without a live cell are cleared. It then resets ``mother`` to -1, so
that a second call after the same update changes nothing.
"""
from __future__ import annotations

import logging

import numpy as np

from ..errors import SpecError
from ..framework.base import GreyboxStep
from ..framework.division import DIVISION_RULES, check_division_rule, partition_store
from ..framework.ports import array_port

__all__ = ["Inheritance", "birth_rounds"]

logger = logging.getLogger(__name__)

#: ports that are not partitioned stores
CONTROL_PORTS = ("alive", "mother", "division_ratio", "inherited")


def birth_rounds(mother) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(mothers, daughters)]`` in an order that gives every daughter her mother's final row.

    ``mother`` is ``[capacity]`` int: the mother's slot of a cell born in the last
    interval, else -1. A daughter who divided again in the same interval is a mother
    too, and must get her row before she passes it on; a mother who divided twice
    appears once per round. Each round holds distinct mothers none of whom is still
    waiting for her own row.
    """
    mother = np.asarray(mother, dtype=np.int64)
    pending = {int(d): int(mother[d]) for d in np.flatnonzero(mother >= 0)}
    rounds = []
    while pending:
        waiting = set(pending)
        chosen, used = [], set()
        for daughter, mom in sorted(pending.items()):
            if mom in used or (mom in waiting and mom != daughter):
                continue
            chosen.append((daughter, mom))
            used.add(mom)
        if not chosen:  # a cycle of reused slots within one interval: take them as they are
            chosen = sorted(pending.items())[:1]
        for daughter, _ in chosen:
            del pending[daughter]
        rounds.append((np.array([m for _, m in chosen], dtype=np.int64),
                       np.array([d for d, _ in chosen], dtype=np.int64)))
    return rounds


class Inheritance(GreyboxStep):
    """Gives the Tissue's daughters their share of other processes' per-cell stores; clears dead rows.

    Ports: one per name in ``stores`` (``[capacity, *trailing_shape[name]]``, read and
    written), ``alive`` (read), ``mother`` (read; reset to -1), ``division_ratio``
    (read at mothers' slots) and ``inherited`` (written, not read: how many daughters
    got rows at the last call; it orders the emitter after this step). The rule of each
    store comes from the ports of the processes sharing it (as for ``Division``).

    Port units:
      alive: 1 where a slot holds a live cell, else 0 (flag)
      mother: the mother's slot of a cell born at the last step, else -1 (index)
      division_ratio: at a mother's slot, her share of the volume at the division (dimensionless)
    """

    config_schema = {
        # the Tissue's layout: n_types blocks of capacity_per_type slots
        "n_types": {"_type": "integer", "_default": 1},
        "capacity_per_type": {"_type": "integer", "_default": 64},
        # names of the ports of the per-cell stores to partition (one port per store)
        "stores": {"_type": "list[string]", "_default": []},
        "trailing_shape": {"_type": "map[list[integer]]", "_default": {}},
        "rules": {"_type": "map[string]", "_default": {}},
        # random draws of 'binomial' stores
        "seed": {"_type": "integer", "_default": 0},
    }

    def initialize(self, config):
        cfg = self.config
        if cfg["n_types"] < 1 or cfg["capacity_per_type"] < 1:
            raise ValueError("n_types and capacity_per_type must be >= 1 (the Tissue's)")
        self.capacity = cfg["n_types"] * cfg["capacity_per_type"]
        stores = list(cfg["stores"])
        if len(set(stores)) != len(stores) or not all(stores):
            raise ValueError(f"stores must be distinct non-empty names, got {stores}")
        clash = sorted(set(stores) & set(CONTROL_PORTS))
        if clash:
            raise ValueError(f"stores {clash} clash with the Inheritance's own ports "
                             f"{list(CONTROL_PORTS)}; wire the store under another port name")
        for key in ("trailing_shape", "rules"):
            unknown = sorted(set(cfg[key]) - set(stores))
            if unknown:
                raise ValueError(f"{key} names {unknown}, which are not in stores {stores}")
        for rule in cfg["rules"].values():
            check_division_rule(rule)
        # advances only when a 'binomial' store is partitioned
        self._rng = np.random.default_rng(cfg["seed"])

    # ports -----------------------------------------------------------------------------
    def per_cell_ports(self) -> list:
        """Ports of the per-cell stores this step partitions (see ``resolve_division_rules``)."""
        return list(self.config["stores"])

    def _store_port(self, name):
        shape = (self.capacity,) + tuple(
            int(d) for d in self.config["trailing_shape"].get(name, ()))
        return array_port(shape, divide=self.config["rules"].get(name))

    def _mask_port(self):
        return array_port((self.capacity,))

    def inputs(self):
        ports = {name: self._store_port(name) for name in self.config["stores"]}
        ports.update(alive=self._mask_port(), mother=self._mask_port(),
                     division_ratio=self._mask_port())
        return ports

    def outputs(self):
        ports = {name: self._store_port(name) for name in self.config["stores"]}
        ports.update(mother=self._mask_port(), inherited="overwrite[float]")
        return ports

    def initial_state(self):
        return {"inherited": 0.0}

    def port_metadata(self):
        cells = {"dims": ("cell",), "coords": {"cell": np.arange(self.capacity)}}
        return {"mother": {**cells, "long_name": "slot of the mother of a cell born in the last "
                                                 "interval, else -1"},
                "inherited": {"dims": (), "long_name": "daughters given rows at the last step"}}

    def rules(self) -> dict:
        """``{store port: rule}``; a SpecError if a store has none (the document was not validated)."""
        rules = dict(self.config["rules"])
        missing = [name for name in self.config["stores"] if name not in rules]
        if missing:
            raise SpecError(
                f"Inheritance has no division rule for store(s) {missing}",
                path=("config", "rules"),
                fix="run the composite through greybox_processes.run or validate_document, "
                    "which take each rule from the ports of the processes sharing the store, "
                    f"or give `rules: {{{missing[0]}: <{' | '.join(DIVISION_RULES)}>}}`")
        return rules

    # update ------------------------------------------------------------------------------
    def update(self, state):
        rules = self.rules()
        mother = np.rint(np.asarray(state["mother"], dtype=np.float64)).astype(np.int64)
        alive = np.asarray(state["alive"], dtype=np.float64) > 0.5
        ratio = np.asarray(state["division_ratio"], dtype=np.float64)
        stores = {name: np.asarray(state[name]) for name in rules}
        new = {name: value.copy() for name, value in stores.items()}
        rounds = birth_rounds(mother)
        for mothers, daughters in rounds:
            share = np.clip(ratio[mothers], 1e-12, 1.0 - 1e-12)
            for name in sorted(new):  # sorted: the binomial draws do not depend on dict order
                new[name] = partition_store(new[name], rules[name], mothers, daughters, share,
                                            self._rng, name=name)
        n_born = int(np.sum(mother >= 0))
        update = {"inherited": float(n_born)}
        if n_born:
            update["mother"] = -1.0 - mother.astype(np.float64)
            logger.debug("Inheritance: %d daughters got their rows", n_born)
        for name, value in new.items():
            value[~alive] = 0
            update[name] = value - stores[name]
        return update
