"""The GRN process: SERGIO's chemical Langevin GRN with protein, per cell, in shared stores.

A thin process-bigraph adapter of :mod:`greybox_processes.grn.kernel`. It holds
each cell's mRNA and protein in two array stores of shape ``(n_cells, n_genes)``
so that other processes (tissue, a neural controller) can read and change them;
each interval it starts from what the stores hold, advances ``interval / dt``
Euler-Maruyama steps in one jitted ``lax.scan`` and returns the change as a
delta (the stores add it).

The random key lives in the process instance and is advanced by each update,
so two instances with the same ``seed`` (one under process-bigraph, one under
vivarium-core) produce the same trajectory.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import jax
import numpy as np

from ..framework.base import GreyboxProcess, steps_per_interval
from ..framework.ports import array_port
from ..jax_common import float_dtype
from .datasets import available_datasets, dataset_path
from .kernel import DEFAULT_K_DEG, DEFAULT_K_TRANS, DEFAULT_Q, GRNParams, check_errors, grn_sde
from .network import read_sergio

__all__ = ["GRN", "load_network"]


def load_network(network: str = "DS1", interactions: str = "", regulators: str = "",
                 shared_coop_state: float = 0.0):
    """A GRNNetwork from a bundled data-set name or from SERGIO file paths."""
    coop = shared_coop_state if shared_coop_state and shared_coop_state > 0 else None
    if interactions or regulators:
        if not (interactions and regulators):
            raise ValueError("give both 'interactions' and 'regulators' file paths (SERGIO's "
                             "Interaction_cID_*.txt and Regs_cID_*.txt), or neither and a "
                             f"bundled 'network' ({', '.join(available_datasets())})")
        for path in (interactions, regulators):
            if not Path(path).is_file():
                raise ValueError(f"network file {path!r} not found")
        return read_sergio(interactions, regulators, shared_coop_state=coop)
    files = dataset_path(network)
    return read_sergio(files[0], files[1], shared_coop_state=coop)


def _memory_bytes() -> int:
    """Physical memory of this machine (1 TiB where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 2 ** 40


class GRN(GreyboxProcess):
    """Gene regulatory network SDE (SERGIO chemical Langevin) with protein translation, per cell.

    Ports:
      mrna: mRNA concentration per cell and gene, SERGIO's scale (arbitrary)
      protein: protein concentration, mRNA scale times k_trans/k_deg (arbitrary)
    """

    config_schema = {
        "network": {"_type": "string", "_default": "DS1"},
        "interactions": {"_type": "string", "_default": ""},
        "regulators": {"_type": "string", "_default": ""},
        "shared_coop_state": {"_type": "float", "_default": 0.0},
        "cells_per_type": {"_type": "integer", "_default": 10},
        "decay": {"_type": "float", "_default": 0.8},
        "noise": {"_type": "string", "_default": "dpd"},
        "q": {"_type": "float", "_default": DEFAULT_Q},
        "dt": {"_type": "float", "_default": 0.01},
        "k_trans": {"_type": "float", "_default": DEFAULT_K_TRANS},
        "k_deg": {"_type": "float", "_default": DEFAULT_K_DEG},
        "seed": {"_type": "integer", "_default": 0},
        "dtype": {"_type": "string", "_default": "float64"},
    }

    #: these change the number of cells or genes (or the store dtype), so not at run time
    fixed_config_keys = ("network", "interactions", "regulators", "cells_per_type", "dtype")

    def initialize(self, config):
        cfg = self.config
        float_dtype(cfg["dtype"])  # checks it (ValueError naming the choices)
        if cfg["cells_per_type"] < 1:
            raise ValueError(f"cells_per_type must be >= 1, got {cfg['cells_per_type']}")
        coop = cfg["shared_coop_state"]
        if not (isinstance(coop, (int, float)) and math.isfinite(coop) and coop >= 0):
            raise ValueError(f"shared_coop_state must be a finite number >= 0 (0: each gene's "
                             f"own Hill coefficient), got {coop!r}")
        self.network = load_network(cfg["network"], cfg["interactions"], cfg["regulators"],
                                    coop)
        net = self.network
        # check before allocating: several (cells x genes) float64 arrays live at once
        n_cells = net.n_cell_types * int(cfg["cells_per_type"])
        needed = 8 * 8 * n_cells * net.n_genes
        if needed > _memory_bytes():
            raise ValueError(f"cells_per_type={cfg['cells_per_type']} gives {n_cells} cells x "
                             f"{net.n_genes} genes, about {needed / 2 ** 30:.3g} GiB of memory, "
                             f"more than this machine has ({_memory_bytes() / 2 ** 30:.3g} GiB); "
                             "lower cells_per_type")
        self.cell_types = np.repeat(np.arange(net.n_cell_types), cfg["cells_per_type"])
        self.shape = (self.cell_types.size, net.n_genes)
        self._x64 = cfg["dtype"] == "float64"
        self._build()
        with jax.enable_x64(self._x64):
            start = self._init_fn(jax.random.key(cfg["seed"]))
        self._key = start.key
        self._initial = {"mrna": np.asarray(start.mrna, dtype=np.float64),
                         "protein": np.asarray(start.protein, dtype=np.float64)}

    def _build(self):
        """Kernel parameters and step functions from the current config."""
        cfg = self.config
        with jax.enable_x64(self._x64):
            import jax.numpy as jnp
            self.params = GRNParams.from_network(
                self.network, self.cell_types, decay=cfg["decay"], q=cfg["q"],
                k_trans=cfg["k_trans"], k_deg=cfg["k_deg"],
                dtype=jnp.float64 if self._x64 else jnp.float32)
            self._init_fn, self._step_fn = grn_sde(self.params, noise=cfg["noise"], dt=cfg["dt"])

    def parameters_changed(self, keys):
        """Rebuild the kernel from the new config; the stores and ``self._key`` carry on."""
        self._build()

    def inputs(self):
        return {"mrna": array_port(self.shape), "protein": array_port(self.shape)}

    def outputs(self):
        return {"mrna": array_port(self.shape), "protein": array_port(self.shape)}

    def initial_state(self):
        return {k: v.copy() for k, v in self._initial.items()}

    def port_metadata(self):
        coords = {"cell": np.arange(self.shape[0]), "gene": np.asarray(self.network.gene_ids),
                  "cell_type": ("cell", self.cell_types)}
        return {
            "mrna": {"dims": ("cell", "gene"), "coords": coords, "units": "",
                     "long_name": "mRNA concentration (SERGIO units)"},
            "protein": {"dims": ("cell", "gene"), "coords": coords, "units": "",
                        "long_name": "protein concentration (mRNA units x k_trans/k_deg)"},
        }

    def update(self, state, interval):
        mrna = np.asarray(state["mrna"], dtype=np.float64)
        protein = np.asarray(state["protein"], dtype=np.float64)
        for name, value in (("mrna", mrna), ("protein", protein)):
            if value.shape != self.shape:
                raise ValueError(f"store {name!r} has shape {value.shape}, the GRN process "
                                 f"expects {self.shape} (cells x genes)")
        with jax.enable_x64(self._x64):
            current = self._init_fn(self._key, mrna=mrna, protein=protein)
            advanced = self._step_fn(current, steps_per_interval(interval, self.config["dt"], "GRN"))
            check_errors(advanced)
            new_mrna = np.asarray(advanced.mrna, dtype=np.float64)
            new_protein = np.asarray(advanced.protein, dtype=np.float64)
        self._key = advanced.key
        return {"mrna": new_mrna - mrna, "protein": new_protein - protein}
