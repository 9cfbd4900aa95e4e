"""Python builder of ``composites/cell_cycle_population.yaml`` (the same document).

:func:`cell_cycle_population`: a population growing at a constant growth rate
(the ``cells/growth_rate`` store, which a metabolism process would write) and
dividing by the mechanistic adder: the :class:`~greybox_processes.cellcycle.process.CellCycle`
process raises a cell's ``divide`` flag and the framework's
:class:`~greybox_processes.framework.population.Division` step divides it into a
free slot, each per-cell store by the rule its port declares.
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["cell_cycle_population", "CELL_STORES"]

#: The per-cell stores the Division partitions (volume: split, division_protein: zero,
#: growth_rate: copy, as the CellCycle ports declare).
CELL_STORES = ("volume", "division_protein", "growth_rate")


def _wires(ports, store="cells"):
    return {port: [store, port] for port in ports}


def cell_cycle_population(*, capacity: int = 256, initial_cells: int = 1,
                          growth_rate: float = 0.0231, interval: float = 1.0, seed: int = 0,
                          cycle_address: str = "local:CellCycle",
                          cycle_config: Mapping[str, Any] | None = None,
                          division_config: Mapping[str, Any] | None = None) -> dict:
    """Cells growing at a constant ``growth_rate`` and dividing by the mechanistic adder.

    Parameters
    ----------
    capacity : slots of every per-cell store (the most cells the population may hold).
    initial_cells : live cells at the start, each at birth (1 fL, no division protein).
    growth_rate : the constant growth rate of every cell, 1/min (natural log; 0.0231 is a
        30 min doubling time).
    interval : minutes between updates of the CellCycle (the Division runs after each).
    seed : the random seed of both (a run is reproducible bit for bit, in either engine).
    cycle_address : the cell-cycle process (an ablation swaps it).
    cycle_config, division_config : extra or replacing config values.
    """
    cycle = {"capacity": capacity, "initial_cells": initial_cells,
             "initial_growth_rate": growth_rate, "seed": seed}
    cycle.update(cycle_config or {})
    division = {"capacity": capacity, "initial_cells": initial_cells,
                "stores": list(CELL_STORES), "seed": seed}
    division.update(division_config or {})
    flags = ("alive", "divide")
    return {
        "state": {
            "cells": {},
            "cycle": {
                "_type": "process", "address": cycle_address, "config": cycle,
                "interval": interval,
                "inputs": _wires(CELL_STORES + flags),
                "outputs": _wires(("volume", "division_protein", "divide")),
            },
            "division": {
                "_type": "step", "address": "local:Division", "config": division,
                "inputs": _wires(CELL_STORES + flags),
                "outputs": _wires(CELL_STORES + flags + ("divisions",)),
            },
        }
    }
