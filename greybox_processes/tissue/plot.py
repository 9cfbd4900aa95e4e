"""Snapshots and animations of a tissue run: cells coloured by phase over field heat maps.

Works on the Dataset of ``gb.run`` of a tissue composite (variables
``cells.position``, ``cells.radius``, ``cells.phase`` and ``fields.amount``).
3D runs are shown as a projection on the x-y plane (fields summed over z).
"""
from __future__ import annotations

import numpy as np

__all__ = ["PHASE_COLOURS", "snapshot", "snapshots", "animate"]

#: face colour of each phase: live cells yellow (mitosis orange), apoptotic blue,
#: necrotic red (as NEXUS's figure 2); empty slots are not drawn
PHASE_COLOURS = {1: "#f2d16b", 2: "#f28e2b", 3: "#4e79a7", 4: "#e15759"}


def _field_image(ds, t, chemical):
    amount = ds["fields.amount"].isel(time=t).sel(chemical=chemical).values
    while amount.ndim > 2:
        amount = amount.sum(axis=-1)
    return amount


def snapshot(ds, t: int = -1, *, chemical=None, ax=None, cmap="viridis"):
    """Draw time index ``t``: the field of ``chemical`` (default the first) and the cells."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    ax = ax if ax is not None else plt.gca()
    chemical = chemical if chemical is not None else str(ds["chemical"].values[0])
    pos = ds["cells.position"].isel(time=t).values
    rad = ds["cells.radius"].isel(time=t).values
    phase = np.rint(ds["cells.phase"].isel(time=t).values).astype(int)
    xs = ds["field_x"].values
    ys = ds["field_y"].values
    hx, hy = (xs[1] - xs[0]) if xs.size > 1 else 2 * xs[0], (ys[1] - ys[0]) if ys.size > 1 \
        else 2 * ys[0]
    extent = (xs[0] - hx / 2, xs[-1] + hx / 2, ys[0] - hy / 2, ys[-1] + hy / 2)
    image = ax.imshow(_field_image(ds, t, chemical).T, origin="lower", extent=extent,
                      cmap=cmap, alpha=0.8)
    shown = phase > 0
    circles = [Circle((x, y), r) for (x, y), r in zip(pos[shown, :2], rad[shown])]
    colours = [PHASE_COLOURS.get(p, "grey") for p in phase[shown]]
    ax.add_collection(PatchCollection(circles, facecolor=colours, edgecolor="k", linewidth=0.3))
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    live = int(np.isin(phase, (1, 2)).sum())
    ax.set_title(f"t = {float(ds['time'].values[t]):g}: {live} live cells, field {chemical}")
    return image


def snapshots(ds, times=(0, -1), *, chemical=None, size=4.0):
    """A row of snapshots at the given time indices; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(times), figsize=(size * len(times), size), squeeze=False)
    for ax, t in zip(axes[0], times):
        image = snapshot(ds, t, chemical=chemical, ax=ax)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="amount per field")
    return fig


def animate(ds, path, *, chemical=None, fps: int = 5, size: float = 5.0):
    """Write an animation of the run to ``path`` (``.gif`` with pillow, ``.mp4`` with ffmpeg)."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(size, size))

    def draw(t):
        ax.clear()
        snapshot(ds, t, chemical=chemical, ax=ax)

    anim = FuncAnimation(fig, draw, frames=ds.sizes["time"], interval=1000 / fps)
    writer = "pillow" if str(path).endswith(".gif") else None
    anim.save(str(path), writer=writer, fps=fps)
    plt.close(fig)
    return path
