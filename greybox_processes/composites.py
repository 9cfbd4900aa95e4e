"""Python builders of the bundled composites.

Each builder returns the same document as the YAML spec of the same name in
``composites/`` (a test checks this), so a composite can be made in Python or
YAML alike. An ablation is one keyword: swap a process with ``*_address`` or
change any of its config values with ``*_config``.
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["grn_cells", "diauxie", "glass_box_cell", "grey_box_cell", "mechanistic_only_cell",
           "black_box_cell", "rdme_bimolecular", "tissue", "tissue_2d", "dephasing_population",
           "cell_cycle_population", "ecoli_population", "ecoli_glass_box", "ecoli_grey_box",
           "ecoli_mechanistic_only", "ecoli_black_box", "DEFAULT", "DEFAULT_NAME", "DEFAULT_TIME"]

# Builders of other mechanisms live with their mechanism and are re-exported
# here lazily, so that importing greybox does not import cobra, etc.
_ELSEWHERE = {
    "diauxie": "greybox_processes.metabolism.composites",
    "glass_box_cell": "greybox_processes.neural.composites",
    "grey_box_cell": "greybox_processes.neural.composites",
    "mechanistic_only_cell": "greybox_processes.neural.composites",
    "black_box_cell": "greybox_processes.neural.composites",
    "rdme_bimolecular": "greybox_processes.rdme.composites",
    "tissue": "greybox_processes.tissue.composites",
    "tissue_2d": "greybox_processes.tissue.composites",
    "dephasing_population": "greybox_processes.tissue.composites",
    "cell_cycle_population": "greybox_processes.cellcycle.composites",
    "ecoli_population": "greybox_processes.ecoli.composites",
    "ecoli_glass_box": "greybox_processes.ecoli.cells",
    "ecoli_grey_box": "greybox_processes.ecoli.cells",
    "ecoli_mechanistic_only": "greybox_processes.ecoli.cells",
    "ecoli_black_box": "greybox_processes.ecoli.cells",
}


def __getattr__(name):
    if name == "DEFAULT":
        return __getattr__(DEFAULT_NAME)
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(_ELSEWHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _wire(*ports: str, store: str) -> dict:
    return {port: [store, port] for port in ports}


def grn_cells(*, network: str = "DS1", cells_per_type: int = 30, noise: str = "dpd",
              q: float = 1.0, dt: float = 0.01, interval: float = 1.0, seed: int = 0,
              grn_address: str = "local:GRN",
              grn_config: Mapping[str, Any] | None = None) -> dict:
    """Cells of every type of a SERGIO network, each with its own GRN/protein SDE.

    Stores: ``cells/mrna`` and ``cells/protein``, arrays of shape
    ``(n_cell_types * cells_per_type, n_genes)``.

    Parameters
    ----------
    network : a bundled SERGIO data set ('DS1', 'DS2', 'DS3', 'DS6').
    cells_per_type : cells of each type (SERGIO's DS1 uses 300).
    noise, q, dt : SERGIO's noise type ('sp', 'spd', 'dpd'), noise amplitude and time step.
    interval : how often the process exchanges with the stores (a multiple of dt).
    seed : random seed; the same seed gives the same trajectory in both engines.
    grn_address : the process to run (an ablation swaps this).
    grn_config : extra or replacing config values for the process.
    """
    config = {"network": network, "cells_per_type": cells_per_type, "noise": noise,
              "q": q, "dt": dt, "seed": seed}
    config.update(grn_config or {})
    return {
        "state": {
            "cells": {},
            "grn": {
                "_type": "process",
                "address": grn_address,
                "config": config,
                "interval": interval,
                "inputs": _wire("mrna", "protein", store="cells"),
                "outputs": _wire("mrna", "protein", store="cells"),
            },
        }
    }


#: The composite that ``greybox run`` runs when no spec is given (the main job: the grey-box
#: E. coli population through the diauxic shift, with its IPTG reference), ``DEFAULT`` its
#: builder, and the simulated time it runs for (in the composite's unit: minutes, 9 h).
DEFAULT_NAME = "ecoli_grey_box"
DEFAULT_TIME = 540.0
