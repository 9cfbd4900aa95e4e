"""The figure a biologist looks at first for an E. coli population run through the diauxic shift.

:func:`plot_population` draws three panels from ``gb.run`` results of an E. coli population
composite (time in minutes; stores ``cells.alive``, ``cells.volume``, ``cells.lac``,
``cells.growth_rate``, ``medium.glucose``, ``medium.lactose``):

1. the population's growth curve (total volume of its live cells, proportional to its dry
   mass) with the IPTG reference when one is given, the medium's glucose and lactose on a
   second axis, and the population lag when it can be measured;
2. the lac permease (LacY, molecules per cell) across the live cells over time: median and
   the 10-90% and 25-75% bands, with the share of cells that hold no LacY;
3. the single-cell lags after glucose runs out, split by whether the cell held LacY at the
   shift (Julou et al. 2020: the cells without permease make the long lags).

Panels that cannot be drawn (no reference, glucose never runs out) say why in the panel.
"""
from __future__ import annotations

import numpy as np

from .composites import LAC_SPECIES
from .lag import population_lag, single_cell_lags

__all__ = ["plot_population", "has_population_stores"]

_NEEDED = ("cells.alive", "cells.volume", "cells.lac", "cells.growth_rate", "medium.glucose")


def has_population_stores(dataset) -> bool:
    """True when ``dataset`` holds the stores :func:`plot_population` reads."""
    return all(name in dataset.data_vars for name in _NEEDED)


def _lac_index(dataset, species: str) -> int:
    var = dataset["cells.lac"]
    for dim in var.dims[2:]:
        if dim in dataset.coords and species in [str(v) for v in dataset.coords[dim].values]:
            return [str(v) for v in dataset.coords[dim].values].index(species)
    return list(LAC_SPECIES).index(species)


def _total_volume(dataset) -> np.ndarray:
    alive = np.asarray(dataset["cells.alive"].values) > 0.5
    return np.where(alive, np.asarray(dataset["cells.volume"].values, dtype=float), 0.0).sum(1)


def _growth_panel(ax, experiment, reference):
    times = np.asarray(experiment.time.values, dtype=float) / 60.0
    ax.semilogy(times, _total_volume(experiment), color="C0", label="glucose + lactose")
    title = "population growth"
    if reference is not None:
        ax.semilogy(np.asarray(reference.time.values, dtype=float) / 60.0,
                    _total_volume(reference), "--", color="C0", alpha=0.6,
                    label="+ IPTG (lac pre-induced)")
        try:
            title = f"population lag {population_lag(experiment, reference).lag_min:.0f} min"
        except ValueError as error:  # glucose never ran out, or no recovery within the run
            title = f"no lag measured ({error})"
    ax.set(xlabel="time (h)", ylabel="total live-cell volume (fL)", title=title)
    medium = ax.twinx()
    for name, colour in (("medium.glucose", "C2"), ("medium.lactose", "C3")):
        if name in experiment.data_vars:
            medium.plot(times, np.asarray(experiment[name].values, dtype=float), color=colour,
                        lw=1, alpha=0.8, label=name.split(".")[1])
    medium.set_ylabel("medium (mM)")
    lines = ax.get_legend_handles_labels()
    more = medium.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="lower right")


def _lacy_panel(ax, experiment):
    times = np.asarray(experiment.time.values, dtype=float) / 60.0
    alive = np.asarray(experiment["cells.alive"].values) > 0.5
    lacy = np.asarray(experiment["cells.lac"].values[..., _lac_index(experiment, "lacY")],
                      dtype=float)
    masked = np.where(alive, lacy, np.nan)
    with np.errstate(all="ignore"):
        q = np.nanpercentile(masked, [10, 25, 50, 75, 90], axis=1)
        none = np.nansum(np.where(alive, lacy == 0, np.nan), axis=1) / np.maximum(
            alive.sum(1), 1)
    shown = q + 1.0  # log axis: +1 molecule keeps the cells without LacY on it
    ax.fill_between(times, shown[0], shown[4], color="C1", alpha=0.2, label="10-90%")
    ax.fill_between(times, shown[1], shown[3], color="C1", alpha=0.4, label="25-75%")
    ax.plot(times, shown[2], color="C1", label="median")
    ax.set(yscale="log", xlabel="time (h)", ylabel="LacY per cell + 1 (molecules)",
           title="lac permease across cells")
    share = ax.twinx()
    share.plot(times, none, color="k", lw=1, label="share with no LacY")
    share.set(ylim=(0, 1), ylabel="share of cells with no LacY")
    lines = ax.get_legend_handles_labels()
    more = share.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper left")


def _lags_panel(ax, experiment):
    try:
        cells = single_cell_lags(experiment, lacy_index=_lac_index(experiment, "lacY"))
    except ValueError as error:
        ax.text(0.5, 0.5, f"no single-cell lags:\n{error}", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set_axis_off()
        return
    lags = cells.lag_min.to_numpy(dtype=float)
    none = cells.lacy_at_shift.to_numpy() == 0
    finite = np.isfinite(lags)
    top = float(np.max(lags[finite])) if finite.any() else 1.0
    bins = np.linspace(0.0, max(top, 1.0), 25)
    ax.hist([lags[finite & ~none], lags[finite & none]], bins=bins, stacked=True,
            color=["C0", "C3"], label=[f"LacY at shift ({int((~none).sum())})",
                                       f"no LacY at shift ({int(none.sum())})"])
    censored = int((~finite).sum())
    ax.set(xlabel="single-cell lag after glucose runs out (min)", ylabel="cells",
           title=f"single-cell lags ({censored} not recovered)")
    ax.legend(fontsize=7)


def plot_population(experiment, reference=None, path=None, *, title: str | None = None):
    """Three panels (growth with the IPTG reference, LacY across cells, single-cell lags).

    ``experiment`` and ``reference`` are ``gb.run`` results of an E. coli population composite
    (``reference`` the same composite with ``iptg`` true, or None). Returns the matplotlib
    Figure and writes it to ``path`` (PNG, SVG or PDF) when given.
    """
    if not has_population_stores(experiment):
        missing = [n for n in _NEEDED if n not in experiment.data_vars]
        raise ValueError(f"not an E. coli population run: missing {', '.join(missing)}")
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    _growth_panel(axes[0], experiment, reference)
    _lacy_panel(axes[1], experiment)
    _lags_panel(axes[2], experiment)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
