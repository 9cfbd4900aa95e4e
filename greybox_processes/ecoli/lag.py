"""The diauxic lag of a population, and the lags of its single cells.

The population lag is Julou et al. 2020's (PLoS Biol 18:e3000952), as
:func:`greybox_processes.metabolism.lag.diauxic_lag` computes it for one mean-field cell: the
horizontal delay between the culture's growth curve and that of the same culture with
IPTG (lac pre-induced), taken just before glucose runs out and again once both grow on
lactose; the lag is the difference. The population's biomass is proportional to the
total volume of its live cells (each cell's dry mass is its volume times one density), so
the delays are read off that total.

A single cell's lag is read from its slot, which daughter 1 keeps at each division (so a
slot follows one lineage): the time from glucose exhaustion until the growth rate in the
slot first comes back to half the population's median growth rate before the shift.
Cells that never recover within the run are censored (``NaN``). Julou et al. find these
lags bimodal, the long ones in cells that had no lac permease when glucose ran out; the
table gives each cell's LacY count at the shift so that this can be checked.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..metabolism.lag import DiauxicLag, time_at

__all__ = ["population_lag", "single_cell_lags", "glucose_exhaustion_index"]


#: growth below this fraction of the pre-shift rate is arrest (``arrest_min``)
_ARREST = 0.1


def glucose_exhaustion_index(dataset, *, glucose: str = "medium.glucose") -> int:
    """Index of the first time point at which glucose is below 1% of its initial value."""
    values = np.asarray(dataset[glucose].values, dtype=float)
    gone = np.nonzero(values < 0.01 * values[0])[0]
    if gone.size == 0:
        raise ValueError("glucose never runs out in this run; run longer")
    return int(gone[0])


def _total_volume(dataset):
    alive = np.asarray(dataset["cells.alive"].values) > 0.5
    return np.where(alive, np.asarray(dataset["cells.volume"].values, dtype=float), 0.0).sum(1)


def _never_resumes(experiment, volume, rate, k, start, pre) -> bool:
    """True when the arrest from index ``start`` lasts to the end of the run while there was
    something to grow on: lactose left at the end (``medium.lactose``, above 10% of its level
    at the shift), or, without that variable, less than one doubling since the shift. A
    population that grew on the lactose and stopped when it ran out has recovered."""
    if np.any(rate[start:] >= _ARREST * pre):
        return False
    if "medium.lactose" in experiment:
        lactose = np.asarray(experiment["medium.lactose"].values, dtype=float)
        return bool(lactose[-1] > 0.1 * lactose[k])
    return bool(volume[start] < 2.0 * volume[k])


def population_lag(experiment, reference) -> DiauxicLag:
    """Lag (min) of a population ``experiment`` against its IPTG ``reference`` (``gb.run`` results).

    Both are runs of the E. coli population composite (time in minutes), the reference with
    ``iptg=True``. ``arrest_min`` is the time after glucose exhaustion during which the
    population's total growth rate stays below 10% of its rate before the shift. A population
    that never grows again after its arrest begins has no finite lag: ``ValueError``.
    """
    t_e = np.asarray(experiment.time.values, dtype=float)
    t_r = np.asarray(reference.time.values, dtype=float)
    x_e, x_r = _total_volume(experiment), _total_volume(reference)
    k = glucose_exhaustion_index(experiment)
    x_shift = x_e[k]
    x_start, x_plateau = 0.9 * x_shift, float(np.sqrt(x_shift * x_e[-1]))
    d_start = time_at(t_e, x_e, x_start) - time_at(t_r, x_r, x_start)
    d_plateau = time_at(t_e, x_e, x_plateau) - time_at(t_r, x_r, x_plateau)
    rate = np.gradient(np.log(x_e), t_e)
    pre = float(np.max(rate[: max(k, 1)]))
    arrested = np.flatnonzero(rate[k:] < _ARREST * pre)
    if len(arrested) and _never_resumes(experiment, x_e, rate, k, k + arrested[0], pre):
        # the plateau point sqrt(x_shift x_end) of a population that never grows again lies
        # just above x_shift and gives a few minutes of "lag": a number, but not a lag
        raise ValueError(f"the population never resumes growth after glucose runs out (from "
                         f"t = {t_e[k + arrested[0]]:g} min to the end of the run, {t_e[-1]:g} "
                         f"min, its growth rate stays below {_ARREST:g} of the pre-shift rate "
                         "with lactose left): the lag is unbounded; run longer if it may still "
                         "recover")
    arrest = float(np.sum(np.diff(t_e, append=t_e[-1])[k:][rate[k:] < _ARREST * pre]))
    return DiauxicLag(d_plateau - d_start, d_start, d_plateau, arrest)


def single_cell_lags(dataset, *, lacy_index: int, recovery: float = 0.5) -> pd.DataFrame:
    """One row per cell alive at glucose exhaustion: its LacY at the shift and its lag (min).

    ``lacy_index`` is the position of LacY on the ``lac_species`` axis of ``cells.lac``;
    ``recovery`` the fraction of the pre-shift median growth rate that ends a lag.
    """
    times = np.asarray(dataset.time.values, dtype=float)
    k = glucose_exhaustion_index(dataset)
    alive = np.asarray(dataset["cells.alive"].values) > 0.5
    mu = np.asarray(dataset["cells.growth_rate"].values, dtype=float)
    pre = float(np.median(mu[max(k - 1, 0)][alive[max(k - 1, 0)]]))
    lacy = np.asarray(dataset["cells.lac"].values[k, :, lacy_index], dtype=float)
    rows = []
    for slot in np.flatnonzero(alive[k]):
        # the growth rate lags the medium by an interval: find the arrest first, then its end
        arrested = np.flatnonzero(mu[k:, slot] < recovery * pre)
        if arrested.size == 0:
            lag = 0.0  # never slowed down: an induced cell switches at once
        else:
            start = k + int(arrested[0])
            recovered = np.flatnonzero(mu[start:, slot] >= recovery * pre)
            lag = times[start + recovered[0]] - times[k] if recovered.size else np.nan
        rows.append((int(slot), lacy[slot], lag))
    return pd.DataFrame(rows, columns=["slot", "lacy_at_shift", "lag_min"])
