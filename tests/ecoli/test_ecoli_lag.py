"""Population and single-cell diauxic lags on curves whose lag is known by construction."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from greybox_processes.ecoli.lag import population_lag, single_cell_lags

MU = np.log(2) / 40.0  # 1/min


def _population(pause, *, t_shift=100.0, n_cells=3, lacy=(0.0, 5.0, 50.0), mu_cells=None):
    """One cell-sized culture growing at MU except for ``pause`` minutes after ``t_shift``."""
    t = np.arange(0.0, 301.0)
    rate = np.where((t > t_shift) & (t <= t_shift + pause), 0.0, MU)
    log_volume = np.concatenate([[0.0], np.cumsum(rate[1:])])
    volume = np.repeat(np.exp(log_volume)[:, None], n_cells, axis=1) / n_cells
    glucose = np.where(t < t_shift, 1.0, 0.0)
    lac = np.zeros((t.size, n_cells, 3))
    lac[:, :, 2] = np.asarray(lacy)[None, :]
    mu = np.repeat(rate[:, None], n_cells, axis=1) if mu_cells is None else mu_cells
    return xr.Dataset({"cells.volume": (("time", "cell"), volume),
                       "cells.alive": (("time", "cell"), np.ones_like(volume)),
                       "cells.growth_rate": (("time", "cell"), mu),
                       "cells.lac": (("time", "cell", "lac_species"), lac),
                       "medium.glucose": ("time", glucose)}, coords={"time": t})


@pytest.mark.parametrize("pause", [0.0, 25.0, 60.0])
def test_population_lag_is_the_growth_pause(pause):
    lag = population_lag(_population(pause), _population(0.0))
    assert lag.lag_min == pytest.approx(pause, abs=1.0)
    assert lag.arrest_min == pytest.approx(pause, abs=1.0)


def test_single_cell_lags_and_censoring():
    t = np.arange(0.0, 301.0)
    mu = np.full((t.size, 3), MU)
    mu[(t > 100) & (t <= 130), 1] = 0.0      # a 30 min lag
    mu[t > 100, 2] = 0.0                     # never recovers in the run
    table = single_cell_lags(_population(0.0, mu_cells=mu), lacy_index=2)
    assert list(table.lacy_at_shift) == [0.0, 5.0, 50.0]
    assert table.lag_min[0] == 0.0 and table.lag_min[1] == pytest.approx(30.0, abs=1.0)
    assert np.isnan(table.lag_min[2])


def test_glucose_that_never_runs_out_is_a_clear_error():
    ds = _population(0.0)
    ds["medium.glucose"] = ("time", np.ones(ds.sizes["time"]))
    with pytest.raises(ValueError, match="glucose never runs out"):
        population_lag(ds, ds)


def test_a_population_that_never_recovers_has_no_finite_lag():
    """Growth stops at the shift and never resumes (the mechanistic-only cell, whose lac
    operon stays repressed): no lag, not the few minutes the plateau formula would give."""
    with pytest.raises(ValueError, match="never resumes growth.*unbounded"):
        population_lag(_population(1000.0), _population(0.0))
    # a pause that ends before the run does is a lag
    assert population_lag(_population(150.0), _population(0.0)).lag_min == \
        pytest.approx(150.0, abs=1.0)


def test_a_population_that_grows_on_lactose_then_runs_out_has_recovered():
    """No arrest at the shift, growth on the lactose, then none left: a lag of ~0, not an
    unbounded one (the grey box with a large lac bias on e_coli_core does this)."""
    t = np.arange(0.0, 301.0)
    ds = _population(0.0)
    stop = t > 250.0                                    # lactose gone at 250 min
    rate = np.where(stop, 0.0, MU)
    volume = np.exp(np.concatenate([[0.0], np.cumsum(rate[1:])]))
    ds["cells.volume"] = (("time", "cell"), np.repeat(volume[:, None], 3, axis=1) / 3)
    ds["medium.lactose"] = ("time", np.where(stop, 0.0, 1.0))
    assert population_lag(ds, _population(0.0)).lag_min == pytest.approx(0.0, abs=1.0)
    # the same arrest with lactose left is no recovery
    ds["medium.lactose"] = ("time", np.ones(t.size))
    ds["cells.volume"] = _population(1000.0)["cells.volume"]
    with pytest.raises(ValueError, match="lactose left"):
        population_lag(ds, _population(0.0))
