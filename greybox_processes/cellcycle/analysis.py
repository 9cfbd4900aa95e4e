"""Single-cell cycles read back out of a population trajectory.

A population lives in per-cell slots (see :mod:`greybox_processes.framework.population`):
at a division daughter 1 stays in the mother's slot and daughter 2 takes a free one, and
each emitted time point shows the stores *after* that interval's division. So in a slot

* a birth is a slot that turns alive (daughter 2) or whose volume drops while it stays
  alive (daughter 1: its volume was split);
* the mother's volume at division is her volume one time point earlier grown for one
  interval at her growth rate, ``V(t - dt) * exp(mu * dt)``. That is exact for the
  ``CellCycle`` process, which grows each cell exponentially at the rate in
  ``cells/growth_rate`` and lets a flagged cell grow until the ``Division`` step runs at
  the end of the interval.

Cycles whose birth or division lies outside the trajectory are left out (their added
volume is unknown), so the table holds complete cycles only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cell_cycles"]

_COLUMNS = ["slot", "birth_time", "division_time", "birth_volume", "division_volume",
            "added_volume", "generation_time"]


def _births(volume, alive):
    """``(time index, slot)`` boolean mask of births, shape ``(n_times, n_slots)``."""
    born = np.zeros_like(alive, dtype=bool)
    became_alive = alive[1:] & ~alive[:-1]
    shrank = alive[1:] & alive[:-1] & (volume[1:] < volume[:-1])
    born[1:] = became_alive | shrank
    return born


def cell_cycles(dataset, *, volume: str = "cells.volume", alive: str = "cells.alive",
                growth_rate: str = "cells.growth_rate") -> pd.DataFrame:
    """One row per complete cell cycle in ``dataset`` (an xarray result of ``gb.run``).

    Columns: ``slot``, ``birth_time`` and ``division_time`` (the run's time unit, min),
    ``birth_volume``, ``division_volume`` and ``added_volume`` (the volume store's unit,
    fL), ``generation_time`` (min). Needs the volume, alive and growth-rate stores of a
    population (names as emitted; pass others for other composites) and a uniform time
    step.
    """
    missing = [name for name in (volume, alive, growth_rate) if name not in dataset]
    if missing:
        raise KeyError(f"the dataset has no {missing}; pass the names of the population's "
                       f"volume, alive and growth-rate stores (it has {list(dataset.data_vars)})")
    times = np.asarray(dataset["time"].values, dtype=float)
    steps = np.diff(times)
    if len(times) < 3 or not np.allclose(steps, steps[0]):
        raise ValueError("cell_cycles needs at least three time points at a uniform step")
    v = np.asarray(dataset[volume].values, dtype=float)
    live = np.asarray(dataset[alive].values) > 0.5
    mu = np.asarray(dataset[growth_rate].values, dtype=float)
    born = _births(v, live)
    rows = []
    for slot in range(v.shape[1]):
        events = np.flatnonzero(born[:, slot])
        for start, end in zip(events[:-1], events[1:]):
            # a slot that died and turned alive again is a new cell, not a division
            if not live[start:end, slot].all() or v[end, slot] >= v[end - 1, slot]:
                continue
            division_volume = v[end - 1, slot] * np.exp(mu[end - 1, slot] * steps[0])
            rows.append((slot, times[start], times[end], v[start, slot], division_volume,
                         division_volume - v[start, slot], times[end] - times[start]))
    return pd.DataFrame(rows, columns=_COLUMNS)
