"""Python builders of the tissue composites (the same documents as ``composites/tissue*.yaml``).

* :func:`tissue`: cells of SERGIO DS1's 9 types in a box, moving, cycling,
  dividing and dying (:class:`~greybox_processes.tissue.process.Tissue`), each with
  its GRN and proteins (a separate process,
  :class:`~greybox_processes.grn.population.PopulationGRN`, on the same per-cell
  stores ``cells/*``; the :class:`~greybox_processes.tissue.inheritance.Inheritance`
  step gives the Tissue's daughters their mother's expression), with two
  chemicals: ``A`` (protein of gene 0, secreted) which activates the master
  regulator gene 17 of the cells that sense it, and ``B`` (protein of gene 2,
  secreted) which decays in the fields. ``dim=3`` is ``tissue.yaml``, ``dim=2``
  is ``tissue_2d.yaml``.
* :func:`dephasing_population`: 100 synchronised cells of one type growing and
  dividing, without GRN, fields or mechanics, sized for the 7 generations of
  WCM-Hard tier 6 (``dephasing_population.yaml``).
* :func:`fields_pulse`: a chemical released in the middle of a grid of fields,
  diffusing and decaying (the NEXUS figure 4 scenario for interventions on D).
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["tissue", "tissue_2d", "dephasing_population", "fields_pulse", "CELL_STORES"]

#: the Tissue's per-cell stores (besides ``protein`` when it secretes one)
CELL_STORES = ("position", "force", "volume", "radius", "mass", "cell_type", "phase", "clock",
               "chem", "alive", "mother", "division_ratio", "local_conc")
#: the expression stores of the GRN, partitioned at the Tissue's divisions by Inheritance
EXPRESSION_STORES = ("mrna", "protein")


def _wires(ports, store):
    return {p: [store, p] for p in ports}


def tissue(*, dim: int = 3, cells_per_type: int = 8, initial_per_type: int = 2,
           interval: float = 1.0, seed: int = 0, noise: str = "dpd",
           tissue_config: Mapping[str, Any] | None = None,
           grn_config: Mapping[str, Any] | None = None) -> dict:
    """A DS1 tissue with two secreted chemicals (``dim`` 3: a 24^3 box, 2: a 24^2 square).

    Three nodes share the per-cell stores ``cells/*``: ``grn`` (PopulationGRN: the
    expression of every live cell, sensing ``A``), ``tissue`` (Tissue: forces, cycle,
    division, death, fields, exchange, secretion) and ``inheritance`` (a step giving
    each daughter her mother's expression and clearing dead cells' rows).

    Parameters
    ----------
    dim : 3 (``tissue.yaml``) or 2 (``tissue_2d.yaml``).
    cells_per_type : the capacity (slots) per cell type.
    initial_per_type : live cells of each type at the start.
    interval : how often the processes exchange with the stores (both the same).
    noise : SERGIO noise of the GRNs ('sp', 'spd', 'dpd').
    seed : the random seed (a run is reproducible bit for bit).
    tissue_config, grn_config : extra or replacing config values of the two processes.
    """
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim}")
    domain = [24.0] * dim
    config = {
        "domain": domain, "field_shape": [6] * dim,
        "chemicals": ["A", "B"], "reactions": ["B -> : 0.05"],
        "diffusion": [2.0, 1.0], "permeability": [0.2, 0.2], "boundary": "closed",
        "reaction_mode": "poisson", "dt": 0.05, "seed": seed,
        "n_types": 9, "capacity_per_type": cells_per_type, "initial_per_type": initial_per_type,
        "attraction": [0.5], "repulsion": [2.0], "drift": [0.5], "random_force": [0.05],
        "t_interphase": [12.0], "t_interphase_sd": [1.0], "t_mitosis": [1.0],
        "t_mitosis_sd": [0.1], "growth_rate": [0.0578], "birth_volume": [1.0],
        "apoptosis_rate": [0.002, 0.002], "necrosis_rate": [0.0005, 0.0005],
        "n_genes": 100, "secrete": ["0:A", "2:B"],
    }
    config.update(tissue_config or {})
    grn = {"network": "DS1", "cells_per_type": cells_per_type,
           "initial_per_type": initial_per_type, "noise": noise, "dt": 0.01, "seed": seed,
           "signals": ["A", "B"], "sense": ["A:17"]}
    grn.update(grn_config or {})
    tissue_ports = {**_wires(CELL_STORES + ("protein",), "cells"),
                    "amount": ["fields", "amount"]}
    grn_in = {**_wires(EXPRESSION_STORES + ("alive",), "cells"),
              "signal": ["cells", "local_conc"]}
    inherit_in = _wires(EXPRESSION_STORES + ("alive", "mother", "division_ratio"), "cells")
    inherit_out = {**_wires(EXPRESSION_STORES + ("mother",), "cells"),
                   "inherited": ["cells", "inherited"]}
    return {
        "state": {
            "cells": {},
            "fields": {},
            "grn": {
                "_type": "process", "address": "local:PopulationGRN", "config": grn,
                "interval": interval, "inputs": grn_in,
                "outputs": _wires(EXPRESSION_STORES, "cells"),
            },
            "tissue": {
                "_type": "process", "address": "local:Tissue", "config": config,
                "interval": interval, "inputs": dict(tissue_ports),
                "outputs": dict(tissue_ports),
            },
            "inheritance": {
                "_type": "step", "address": "local:Inheritance",
                "config": {"n_types": 9, "capacity_per_type": cells_per_type,
                           "stores": list(EXPRESSION_STORES),
                           "trailing_shape": {"mrna": [100], "protein": [100]}, "seed": seed},
                "inputs": inherit_in, "outputs": inherit_out,
            },
        }
    }


def tissue_2d(**kwargs) -> dict:
    """``tissue(dim=2, ...)``: the document of ``composites/tissue_2d.yaml``."""
    return tissue(dim=2, **kwargs)


def dephasing_population(*, initial_cells: int = 100, capacity: int = 16000,
                         size_rule: str = "timer", synchronized: bool = True,
                         interval: float = 1.0, seed: int = 0,
                         tissue_config: Mapping[str, Any] | None = None) -> dict:
    """A growing population from ``initial_cells`` synchronised cells (WCM-Hard tier 6).

    One cell type with the cell-cycle parameters of :func:`tissue` (timer rule, interphase
    12 +- 1, mitosis 1 +- 0.1, growth 0.0578) and no GRN, fields, mechanics or death.

    Parameters
    ----------
    initial_cells : live cells at the start.
    capacity : slots; 16000 holds 100 cells over 7 generations (100 x 2^7 x 1.25).
    size_rule : 'timer' (the tissue's), 'adder' or 'sizer'.
    synchronized : start every cell at birth (tier 6 sets it anyway).
    interval, seed : as in :func:`tissue`.
    tissue_config : extra or replacing config values.
    """
    config = {
        "domain": [100.0, 100.0], "field_shape": [1, 1], "chemicals": [], "dt": 0.05,
        "seed": seed, "n_types": 1, "capacity_per_type": capacity,
        "initial_per_type": initial_cells, "synchronized": synchronized, "mechanics": False,
        "size_rule": size_rule, "t_interphase": [12.0], "t_interphase_sd": [1.0],
        "t_mitosis": [1.0], "t_mitosis_sd": [0.1], "growth_rate": [0.0578],
        "birth_volume": [1.0],
    }
    config.update(tissue_config or {})
    ports = {**_wires(CELL_STORES, "cells"), "amount": ["fields", "amount"]}
    return {
        "state": {
            "cells": {},
            "fields": {},
            "tissue": {"_type": "process", "address": "local:Tissue", "config": config,
                       "interval": interval, "inputs": dict(ports), "outputs": dict(ports)},
        }
    }


def fields_pulse(*, diffusion: float = 1.0, decay: float = 0.05, n: int = 21,
                 spacing: float = 1.0, amount: float = 100.0, dt: float = 0.05,
                 interval: float = 0.5, interventions=None) -> dict:
    """Fields only: ``amount`` of ``A`` released in the centre of an ``n x n`` grid.

    ``A`` diffuses (``diffusion``) and decays (``decay``, deterministic); the
    centre concentration falls as the chemical spreads. ``interventions`` (a
    list of intervention mappings on the Fields config, e.g. on
    ``diffusion``) wraps the process in ``Intervened``.
    """
    config = {"domain": [n * spacing] * 2, "field_shape": [n, n], "chemicals": ["A"],
              "reactions": [f"A -> : {decay}"], "reaction_mode": "deterministic",
              "diffusion": [diffusion], "boundary": "closed", "initial_conc": [0.0],
              "initial_pulse": [amount], "dt": dt}
    node = {"_type": "process", "address": "local:Fields", "config": config,
            "interval": interval, "inputs": {"amount": ["fields", "amount"]},
            "outputs": {"amount": ["fields", "amount"]}}
    if interventions:
        node["address"] = "local:Intervened"
        node["config"] = {"process": "local:Fields", "config": config,
                          "interventions": list(interventions)}
    return {"state": {"fields": {}, "diffusion": node}}
