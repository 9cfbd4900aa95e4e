"""Python builder of ``composites/ecoli_population.yaml`` (the same document).

:func:`ecoli_population`: a population of E. coli cells in a shared batch medium of
glucose and lactose, made of four separate processes that share each cell's stores:

* ``metabolism`` (:class:`~greybox_processes.metabolism.population_process.PopulationMetabolism`):
  each cell's growth rate from its own LacY and LacZ counts and the shared medium, which
  all cells consume. It decides each cell's LP one interval ahead (``growth_rate`` and the
  per-cell ``exchange_rates``) and charges the medium for it in the interval the cycle
  grows the cell with it, so medium + ledger + the cells' biomass is conserved exactly.
  It is listed after ``cycle``: both give ``growth_rate`` an initial value and the later
  process's fills the store (the metabolism's: the first interval's LP);
* ``lac`` (:class:`~greybox_processes.lac.process.LacOperon`): the stochastic
  Yildirim-Mackey lac operon of each cell, in molecule counts;
* ``cycle`` (:class:`~greybox_processes.cellcycle.process.CellCycle`): growth of each
  cell's volume at its growth rate and division by the mechanistic adder;
* ``division`` (:class:`~greybox_processes.framework.population.Division`): daughters
  into free slots, every per-cell store partitioned by the rule its ports declare
  (lac molecules binomially, volume split, growth rate and LP fluxes copied, division
  protein used up).

It is the glass box: every parameter is each process's literature default; nothing is
fitted to a tier's reference. Each process can be swapped by its ``*_address``.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..lac.kernel import SPECIES as LAC_SPECIES
from ..metabolism.population_process import RATE_COLUMNS

__all__ = ["ecoli_population", "CELL_STORES", "LAC_SPECIES"]

#: The per-cell stores the Division partitions.
CELL_STORES = ("volume", "division_protein", "growth_rate", "exchange_rates", "lac")
_FLAGS = ("alive", "divide")
_MEDIUM = ("glucose", "lactose")


def _cells(*ports):
    return {port: ["cells", port] for port in ports}


def _medium(*ports):
    return {port: ["medium", port] for port in ports}


def ecoli_population(*, capacity: int = 256, initial_cells: int = 16, model: str =
                     "textbook_lactose", initial_glucose: float = 0.2775,
                     initial_lactose: float = 0.5842, initial_biomass: float = 0.001,
                     iptg: bool = False, interval: float = 1.0, seed: int = 0,
                     metabolism_address: str = "local:PopulationMetabolism",
                     lac_address: str = "local:LacOperon",
                     cycle_address: str = "local:CellCycle",
                     metabolism_config: Mapping[str, Any] | None = None,
                     lac_config: Mapping[str, Any] | None = None,
                     cycle_config: Mapping[str, Any] | None = None,
                     division_config: Mapping[str, Any] | None = None) -> dict:
    """A population of E. coli cells of separate processes in a shared glucose/lactose medium.

    Parameters
    ----------
    capacity : slots of every per-cell store (the most cells the population may hold).
    initial_cells : live cells at the start, each at birth (1 fL).
    model : the metabolic model ('textbook_lactose': e_coli_core with lactose; 'iJO1366').
    initial_glucose, initial_lactose : the medium at the start, mM (defaults: Julou et al.
        2020's 0.005% glucose and 0.02% lactose).
    initial_biomass : the culture's dry mass density at the start, gDW/L; each simulated
        cell stands for the culture cells that make it up.
    iptg : the lac operon fully induced (the reference culture of the lag definition).
    interval : minutes between updates of the processes (the Division runs after each).
    seed : the random seed of every process.
    *_address : the process to run (an ablation swaps one).
    *_config : extra or replacing config values of that process.
    """
    species = list(LAC_SPECIES)
    metabolism = {"capacity": capacity, "model": model, "initial_cells": initial_cells,
                  "initial_glucose": initial_glucose, "initial_lactose": initial_lactose,
                  "initial_biomass": initial_biomass, "lac_species": species}
    metabolism.update(metabolism_config or {})
    lac = {"capacity": capacity, "initial_cells": initial_cells, "iptg": iptg, "seed": seed}
    lac.update(lac_config or {})
    cycle = {"capacity": capacity, "initial_cells": initial_cells, "seed": seed}
    cycle.update(cycle_config or {})
    division = {"capacity": capacity, "initial_cells": initial_cells, "stores": list(CELL_STORES),
                "trailing_shape": {"exchange_rates": [len(RATE_COLUMNS)], "lac": [len(species)]},
                "seed": seed}
    division.update(division_config or {})
    return {
        "state": {
            "cells": {},
            "medium": {},
            # the cycle before the metabolism, whose initial growth_rate must fill the store
            "cycle": {
                "_type": "process", "address": cycle_address, "config": cycle,
                "interval": interval,
                "inputs": _cells("volume", "division_protein", "growth_rate", *_FLAGS),
                "outputs": _cells("volume", "division_protein", "divide"),
            },
            "metabolism": {
                "_type": "process", "address": metabolism_address, "config": metabolism,
                "interval": interval,
                "inputs": {**_cells("alive", "volume", "lac", "growth_rate", "exchange_rates"),
                           **_medium(*_MEDIUM), "ledger": ["medium", "ledger"]},
                "outputs": {**_cells("growth_rate", "exchange_rates"), **_medium(*_MEDIUM),
                            "ledger": ["medium", "ledger"]},
            },
            "lac": {
                "_type": "process", "address": lac_address, "config": lac, "interval": interval,
                "inputs": {**_cells("lac", "volume", "growth_rate", "alive"),
                           **_medium(*_MEDIUM)},
                "outputs": _cells("lac"),
            },
            "division": {
                "_type": "step", "address": "local:Division", "config": division,
                "inputs": _cells(*CELL_STORES, *_FLAGS),
                "outputs": _cells(*CELL_STORES, *_FLAGS, "divisions"),
            },
        }
    }


#: The four cells of WCM-Hard (:mod:`.cells`), built on :func:`ecoli_population`.
CELL_BUILDERS = ("ecoli_glass_box", "ecoli_grey_box", "ecoli_mechanistic_only", "ecoli_black_box")

