"""Plots of run results (matplotlib, no display needed)."""
from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["plot_run"]


def _panel_mean(ax, var: xr.DataArray, max_lines: int = 12):
    """Mean over every non-time dimension, one line per cell type when cells are typed."""
    other = [d for d in var.dims if d != "time"]
    if "cell_type" in var.coords and "cell" in var.dims:
        grouped = var.groupby("cell_type").mean(dim=[d for d in other])
        for label in grouped["cell_type"].values[:max_lines]:
            ax.plot(var["time"], grouped.sel(cell_type=label), label=f"type {label}")
        ax.legend(fontsize=6, ncol=2)
    else:
        ax.plot(var["time"], var.mean(dim=other) if other else var)
    ax.set_xlabel("time")
    units = var.attrs.get("units")
    ax.set_ylabel(f"mean {var.name}" + (f" [{units}]" if units else ""))
    ax.set_title(var.attrs.get("long_name", var.name), fontsize=9)


def _panel_final(ax, var: xr.DataArray):
    """Final snapshot of a (cell, gene)-like variable as a heat map, cells sorted by type."""
    final = var.isel(time=-1)
    if "cell_type" in final.coords:
        final = final.sortby("cell_type")
    image = ax.imshow(np.log1p(np.clip(final.values, 0, None)), aspect="auto",
                      interpolation="nearest", cmap="viridis")
    ax.set_xlabel(final.dims[1])
    ax.set_ylabel(final.dims[0] + (" (sorted by type)" if "cell_type" in final.coords else ""))
    ax.set_title(f"{var.name} at t={float(var['time'][-1]):g} (log1p)", fontsize=9)
    ax.figure.colorbar(image, ax=ax, fraction=0.04)


def plot_run(dataset: xr.Dataset, path=None, *, variables=None, title: str | None = None):
    """Plot each variable's mean trajectory (and its final snapshot when 2-D).

    Returns the matplotlib Figure; writes it to ``path`` (PNG, SVG, PDF) if given.
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = list(variables or dataset.data_vars)[:4]
    if not names:
        raise ValueError("the dataset has no data variables to plot")
    has_2d = [n for n in names if dataset[n].ndim == 3]
    ncols = 2 if has_2d else 1
    fig, axes = plt.subplots(len(names), ncols, figsize=(5.5 * ncols, 3.0 * len(names)),
                             squeeze=False)
    for row, name in enumerate(names):
        _panel_mean(axes[row, 0], dataset[name])
        if ncols == 2:
            if name in has_2d:
                _panel_final(axes[row, 1], dataset[name])
            else:
                axes[row, 1].axis("off")
    fig.suptitle(title or dataset.attrs.get("spec", ""), fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
