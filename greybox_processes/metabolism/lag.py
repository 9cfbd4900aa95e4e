"""The diauxic lag as Julou et al. 2020 measure it: extra delay against a pre-induced culture.

Julou et al. 2020 (PLoS Biol 18:e3000952) compare the growth curve in glucose + lactose with
the curve of the same medium plus IPTG (lac operon pre-induced). The horizontal delay between
the two curves (time to reach the same biomass) is measured just before the glucose runs out
(``delay_start``) and again once both cultures grow on lactose (``delay_plateau``); the lag is
``delay_plateau - delay_start``. :func:`diauxic_lag` does the same on two simulated curves.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["DiauxicLag", "diauxic_lag", "growth_arrest", "reference_lags", "run_diauxie_lag",
           "time_at"]


@dataclass(frozen=True)
class DiauxicLag:
    """Lag figures, in minutes."""

    lag_min: float  #: delay_plateau - delay_start
    delay_start_min: float
    delay_plateau_min: float
    arrest_min: float  #: time after glucose exhaustion with growth below 10% of its pre-shift value


def time_at(times, biomass, level):
    """First time the (interpolated) biomass reaches ``level``."""
    biomass = np.asarray(biomass, dtype=float)
    above = np.nonzero(biomass >= level)[0]
    if above.size == 0:
        raise ValueError(f"the culture never reaches biomass {level:.4g} gDW/L; run longer")
    k = int(above[0])
    if k == 0:
        return float(times[0])
    x0, x1 = np.log(biomass[k - 1]), np.log(biomass[k])
    t0, t1 = times[k - 1], times[k]
    return float(t0 + (np.log(level) - x0) / (x1 - x0) * (t1 - t0)) if x1 > x0 else float(t1)


def growth_arrest(times, glucose, lactose, mu) -> float:
    """Minutes of growth below 10% of the pre-shift rate, after glucose runs out, while lactose is left.

    Glucose counts as exhausted below 1% of its initial value; lactose counts as left above
    10% of its initial value. Plain dFBA, which uses both sugars at once, gives 0.
    """
    times, glucose, lactose, mu = (np.asarray(a, dtype=float)
                                   for a in (times, glucose, lactose, mu))
    gone = np.nonzero(glucose < 0.01 * glucose[0])[0]
    if gone.size == 0:
        raise ValueError("glucose never runs out; run longer")
    k = int(gone[0])
    pre = float(np.max(mu[: max(k, 1)]))
    steps = np.diff(times, append=times[-1])
    window = (np.arange(mu.size) >= k) & (lactose > 0.1 * lactose[0])
    return float(np.sum(steps[window & (mu < 0.1 * pre)]) * 60.0)


def diauxic_lag(experiment, reference) -> DiauxicLag:
    """Lag of ``experiment`` against the pre-induced ``reference`` (diauxie composite Datasets).

    ``delay_start`` is taken at 90% of the experiment's biomass at glucose exhaustion,
    ``delay_plateau`` at the geometric mean of that biomass and the experiment's final biomass.
    """
    t_e = experiment.time.values
    t_r = reference.time.values
    x_e = experiment["env.biomass"].values
    x_r = reference["env.biomass"].values
    glc = experiment["env.concentrations"].values[:, 0]
    gone = np.nonzero(glc < 0.01 * glc[0])[0]
    if gone.size == 0:
        raise ValueError("glucose never runs out in the experiment; run longer")
    x_shift = x_e[int(gone[0])]
    x_start = 0.9 * x_shift
    x_plateau = float(np.sqrt(x_shift * x_e[-1]))
    d_start = time_at(t_e, x_e, x_start) - time_at(t_r, x_r, x_start)
    d_plateau = time_at(t_e, x_e, x_plateau) - time_at(t_r, x_r, x_plateau)
    arrest = growth_arrest(t_e, glc, experiment["env.concentrations"].values[:, 1],
                           experiment["cell.growth_rate"].values)
    return DiauxicLag((d_plateau - d_start) * 60.0, d_start * 60.0, d_plateau * 60.0, arrest)


def reference_lags():
    """Julou et al. 2020 lags (vendored CSV) as a DataFrame indexed by strain."""
    import pandas as pd

    path = resources.files("greybox_processes") / "data" / "refdata" / \
        "julou2020_glucose_lactose_lag.csv"
    return pd.read_csv(str(path)).set_index("strain")


def run_diauxie_lag(time: float = 9.0, *, expression: bool = True, engine: str = "pbg",
                    overrides=None, core=None, **builder_kwargs):
    """Run the diauxie composite with and without IPTG; return ``(lag, experiment, reference)``."""
    from ..framework.run import run
    from .composites import diauxie

    experiment = run(diauxie(expression=expression, iptg=False, **builder_kwargs), time,
                     engine=engine, overrides=overrides, progress=False, core=core)
    reference = run(diauxie(expression=expression, iptg=True, **builder_kwargs), time,
                    engine=engine, overrides=overrides, progress=False, core=core)
    return diauxic_lag(experiment, reference), experiment, reference
