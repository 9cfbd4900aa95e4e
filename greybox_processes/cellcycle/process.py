"""The CellCycle process: growth and a mechanistic adder in the per-cell stores of a population.

A thin process-bigraph adapter of :mod:`greybox_processes.cellcycle.kernel`. It
reads each cell's growth rate (``growth_rate``, 1/min, natural-log units, written
by a metabolism process or held constant) and the ``alive`` mask, grows the
``volume`` of the live cells exponentially over the interval, makes the division
protein in proportion to the volume added (stochastic bursts) and raises a cell's
``divide`` flag when its count reaches the threshold. The
:class:`~greybox_processes.framework.population.Division` step, wired to the same
stores, then divides the flagged cells.

Division rules declared by the ports (see :mod:`greybox_processes.framework.division`):
``volume`` is split between the daughters; ``division_protein`` is ``zero``, because
the accumulated protein is used up in the division ring and septum (Si et al.
2019 Curr Biol 29:1760), so each daughter accumulates afresh from birth; and
``growth_rate`` is copied (an intensive property of the mother's physiology).

Example (YAML; see ``composites/cell_cycle_population.yaml``)::

    cycle:
      _type: process
      address: local:CellCycle
      config: {capacity: 256, initial_cells: 1, initial_growth_rate: 0.0231, seed: 1}
      interval: 1.0
      inputs:  {volume: [cells, volume], division_protein: [cells, division_protein],
                growth_rate: [cells, growth_rate], alive: [cells, alive],
                divide: [cells, divide]}
      outputs: {volume: [cells, volume], division_protein: [cells, division_protein],
                divide: [cells, divide]}

Initial cells (``initial_cells``, in slots ``0 .. initial_cells-1``):

* ``synchronized: true`` (the default): every initial cell is born at the same moment, all
  with the same birth volume ``initial_volume`` and no division protein (count 0), and the
  same ``initial_growth_rate``; they then dephase only through the noise of the division
  protein (and, in a composite, of the growth rates written to the store). This is the
  synchronised start of WCM-Hard tier 6.
* ``synchronized: false``: the initial cells are spread over the cell cycle as in a steady,
  exponentially growing population: cell ``i`` has the age fraction ``a_i`` at quantile
  ``(i + 1/2) / n`` of the steady age density ``2^(1 - a) ln 2`` (so no random number is
  drawn), the volume ``initial_volume * 2^a_i`` (born at ``initial_volume``, exponential
  growth) and the division protein made on average over the volume added since birth,
  ``production_per_volume * initial_volume * (2^a_i - 1)``, rounded down and kept below the
  threshold.

The random key lives in the instance and advances with each update, so two
instances with the same ``seed`` (one per engine) give the same trajectory.
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
from .kernel import (DEFAULT_MEAN_BURST_SIZE, DEFAULT_PRODUCTION_PER_VOLUME, DEFAULT_THRESHOLD,
                     TYPICAL_ADDED_VOLUME_FL, CellCycleParams, check_errors, make_cell_cycle)

__all__ = ["CellCycle", "DEFAULT_GROWTH_RATE", "steady_age_quantiles"]

logger = logging.getLogger(__name__)

#: Growth rate used when nothing writes the growth_rate store, 1/min (natural-log units):
#: ln 2 / 30 min, E. coli's doubling time in glucose minimal medium at 37 C is ~30-60 min
#: (Schaechter, Maaloe & Kjeldgaard 1958 J Gen Microbiol 19:592; the fastest ~20 min in LB).
DEFAULT_GROWTH_RATE = math.log(2.0) / 30.0


def steady_age_quantiles(n: int) -> np.ndarray:
    """Age fractions (0 at birth, 1 at division) at the quantiles ``(i + 1/2) / n`` of the
    steady age density ``2^(1 - a) ln 2`` of an exponentially growing population (cumulative
    ``2 (1 - 2^-a)``, inverted)."""
    u = (np.arange(n) + 0.5) / max(n, 1)
    return -np.log2(1.0 - u / 2.0)


class CellCycle(GreyboxProcess):
    """Exponential growth and division by a mechanistic adder (division protein to a threshold), per cell.

    Ports:
      division_protein: division-protein molecules made since birth (molecule)
      alive: 1 where a slot holds a live cell, else 0 (flag)
      divide: 1 where a cell divides at this step (flag)
    """

    config_schema = {
        # slots of every per-cell store (the cell axis)
        "capacity": {"_type": "integer", "_default": 64},
        # molecules of division protein that trigger division (whole number >= 1)
        "threshold": {"_type": "float", "_default": DEFAULT_THRESHOLD},
        # mean molecules made per fL of volume added (1/fL)
        "production_per_volume": {"_type": "float", "_default": DEFAULT_PRODUCTION_PER_VOLUME},
        # mean molecules per burst (0: one molecule at a time, Poisson)
        "mean_burst_size": {"_type": "float", "_default": DEFAULT_MEAN_BURST_SIZE},
        # live cells at the start (slots 0 .. initial_cells-1; give the Division the same)
        "initial_cells": {"_type": "integer", "_default": 1},
        # volume of the initial cells, fL (born with no division protein)
        "initial_volume": {"_type": "float", "_default": TYPICAL_ADDED_VOLUME_FL},
        # initial value of the growth_rate store, 1/min (natural-log units)
        "initial_growth_rate": {"_type": "float", "_default": DEFAULT_GROWTH_RATE},
        # initial cells all at birth together (true) or spread over the cycle (see above)
        "synchronized": {"_type": "boolean", "_default": True},
        "seed": {"_type": "integer", "_default": 0},
        "dtype": {"_type": "string", "_default": "float64"},
    }

    #: these fix the shape or dtype of the stores, so an intervention may not change them
    fixed_config_keys = ("capacity", "dtype")

    def initialize(self, config):
        cfg = self.config
        float_dtype(cfg["dtype"])  # checks it (ValueError naming the choices)
        check_slots(cfg["capacity"], cfg["initial_cells"])
        if not (math.isfinite(cfg["initial_volume"]) and cfg["initial_volume"] > 0):
            raise ValueError(f"initial_volume (fL) must be a positive number, got "
                             f"{cfg['initial_volume']!r}; E. coli is ~1 fL at birth")
        rate = cfg["initial_growth_rate"]
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"initial_growth_rate (1/min, natural log) must be >= 0, got "
                             f"{rate!r}; a doubling time T gives ln(2)/T")
        self._x64 = cfg["dtype"] == "float64"
        self._build()
        self._key = jax.random.key_data(jax.random.key(cfg["seed"]))

    def _build(self):
        """Kernel parameters and functions from the current config (checks them)."""
        cfg = self.config
        with jax.enable_x64(self._x64):
            self.params = CellCycleParams.create(
                cfg["threshold"], cfg["production_per_volume"], cfg["mean_burst_size"],
                dtype=jnp.float64 if self._x64 else jnp.float32)
            self._init_fn, self._step_fn = make_cell_cycle(self.params)

    def parameters_changed(self, keys):
        """Rebuild the kernel from the new config; the stores and ``self._key`` carry on."""
        self._build()

    # ports -----------------------------------------------------------------------------
    def _ports(self):
        n = (self.config["capacity"],)
        return {"volume": array_port(n, "fL", divide="split"),
                "division_protein": array_port(n, divide="zero"),
                "growth_rate": array_port(n, "1/min", divide="copy"),
                "alive": array_port(n),
                "divide": array_port(n)}

    def inputs(self):
        return self._ports()

    def outputs(self):
        ports = self._ports()
        return {name: ports[name] for name in ("volume", "division_protein", "divide")}

    def initial_state(self):
        cfg = self.config
        n = int(cfg["initial_cells"])
        volume = np.zeros(cfg["capacity"])
        protein = np.zeros(cfg["capacity"])
        volume[:n] = cfg["initial_volume"]
        if not cfg["synchronized"]:
            age = steady_age_quantiles(n)
            volume[:n] = cfg["initial_volume"] * 2.0 ** age
            made = np.floor(cfg["production_per_volume"] * (volume[:n] - cfg["initial_volume"]))
            protein[:n] = np.minimum(made, np.ceil(cfg["threshold"]) - 1.0)
        return {"volume": volume,
                "division_protein": protein,
                "growth_rate": np.full(cfg["capacity"], float(cfg["initial_growth_rate"])),
                "divide": np.zeros(cfg["capacity"])}

    def port_metadata(self):
        cells = {"dims": ("cell",), "coords": {"cell": np.arange(self.config["capacity"])}}
        return {
            "volume": {**cells, "units": "fL", "long_name": "cell volume"},
            "division_protein": {**cells, "units": "",
                                 "long_name": "division-protein molecules made since birth"},
            "growth_rate": {**cells, "units": "1/min",
                            "long_name": "specific growth rate (natural log)"},
            "alive": {**cells, "units": "", "long_name": "1 where a slot holds a live cell"},
            "divide": {**cells, "units": "", "long_name": "1 where a cell divides at this step"},
        }

    # update ----------------------------------------------------------------------------
    def _read(self, state, name):
        value = np.asarray(state[name], dtype=np.float64)
        capacity = self.config["capacity"]
        if value.shape != (capacity,):
            raise ValueError(f"store {name!r} has shape {value.shape}; CellCycle expects "
                             f"({capacity},), one value per cell slot")
        return value

    def update(self, state, interval):
        volume, protein, divide, growth_rate, alive = (
            self._read(state, name)
            for name in ("volume", "division_protein", "divide", "growth_rate", "alive"))
        with jax.enable_x64(self._x64):
            current = self._init_fn(self._key, volume, protein, divide)
            # growth is exact over a step, and the growth rate is constant over the interval
            advanced = self._step_fn(current, growth_rate, alive > 0.5, float(interval))
            check_errors(advanced)
            new = {"volume": np.asarray(advanced.volume, dtype=np.float64),
                   "division_protein": np.asarray(advanced.protein, dtype=np.float64),
                   "divide": np.asarray(advanced.divide, dtype=np.float64)}
        self._key = advanced.key
        logger.debug("CellCycle: %d of %d live cells flagged to divide",
                     int(new["divide"][alive > 0.5].sum()), int((alive > 0.5).sum()))
        old = {"volume": volume, "division_protein": protein, "divide": divide}
        return {name: new[name] - old[name] for name in new}
