"""cell_cycles reads complete single-cell cycles out of a population run, exactly."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import greybox_processes as gb
from greybox_processes.cellcycle.analysis import cell_cycles
from greybox_processes.cellcycle.kernel import (DEFAULT_MEAN_BURST_SIZE,
                                                DEFAULT_PRODUCTION_PER_VOLUME, DEFAULT_THRESHOLD,
                                                expected_added_volume)


@pytest.fixture(scope="module")
def population_run():
    document = gb.composites.cell_cycle_population(capacity=512, initial_cells=2, seed=3)
    return gb.run(document, 210.0, progress=False)


def test_cycles_are_complete_and_daughters_halve_their_mother(population_run):
    table = cell_cycles(population_run)
    assert len(table) > 100
    assert (table["generation_time"] > 0).all() and (table["added_volume"] > 0).all()
    # daughter 1 stays in the slot: her birth volume is half her mother's division volume
    for _, cycles in table.groupby("slot"):
        cycles = cycles.sort_values("birth_time")
        following = cycles["birth_time"].values[1:] == cycles["division_time"].values[:-1]
        np.testing.assert_allclose(cycles["birth_volume"].values[1:][following],
                                   0.5 * cycles["division_volume"].values[:-1][following],
                                   rtol=1e-12)


def test_the_population_is_an_adder(population_run):
    """Added volume does not depend on birth volume (slope ~0), and its mean is the mechanism's."""
    table = cell_cycles(population_run)
    x, y = table["birth_volume"].values, table["added_volume"].values
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    se = np.sqrt(residual.var(ddof=2) / ((x - x.mean()) ** 2).sum())
    assert abs(slope) < 4 * se + 0.1, (slope, se)  # sizer -1, timer about +1
    expected = expected_added_volume(DEFAULT_THRESHOLD, DEFAULT_PRODUCTION_PER_VOLUME,
                                     DEFAULT_MEAN_BURST_SIZE)
    # a flagged cell grows until the end of its interval (+ about mu * dt / 2 of its volume)
    assert abs(y.mean() / expected - 1) < 4 * y.std() / np.sqrt(len(y)) / expected + 0.03


def test_missing_stores_and_short_runs_are_clear_errors():
    ds = xr.Dataset({"cells.volume": (("time", "cell"), np.ones((2, 3)))},
                    coords={"time": [0.0, 1.0]})
    with pytest.raises(KeyError, match="cells.alive"):
        cell_cycles(ds)
    ds["cells.alive"] = ds["cells.volume"]
    ds["cells.growth_rate"] = ds["cells.volume"]
    with pytest.raises(ValueError, match="three time points"):
        cell_cycles(ds)
