"""Trajectories as labelled arrays: an :class:`xarray.Dataset` with a time axis.

Each recorded store becomes one data variable named by its store path joined
with dots (``cells.mrna``), with dimensions, coordinates and units taken from
the ports wired to it (see :meth:`GreyboxMixin.port_metadata`).
"""
from __future__ import annotations

import json
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = ["to_dataset", "variable_name", "write_zarr", "read_zarr"]


def variable_name(path: Sequence) -> str:
    """Data-variable name of a store path (``('cells', 'mrna')`` -> ``'cells.mrna'``)."""
    return ".".join(str(p) for p in path)


def _json_safe(value):
    """An attribute value every store accepts: scalars and strings as they are,
    anything else (dicts, lists) as a JSON string (netCDF rejects dicts)."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def to_dataset(times: Sequence[float], series: Mapping[tuple, Sequence], metadata: Mapping[tuple, dict],
               attrs: Mapping | None = None, time_units: str = "") -> xr.Dataset:
    """Stack per-time values of each store into a Dataset.

    Parameters
    ----------
    times : (n_times,) emission times.
    series : ``{store path: [value at each time]}``.
    metadata : ``{store path: {'dims': (...), 'coords': {...}, 'units': str}}``.
    """
    data_vars, coords = {}, {"time": ("time", np.asarray(times, dtype=float))}
    if time_units:
        coords["time"] = ("time", np.asarray(times, dtype=float), {"units": time_units})
    for path, values in series.items():
        stacked = np.stack([np.asarray(v) for v in values]) if len(values) else np.empty((0,))
        meta = metadata.get(path, {})
        name = variable_name(path)
        dims = tuple(meta.get("dims") or ())
        if len(dims) != stacked.ndim - 1:
            dims = tuple(f"{name}_dim{i}" for i in range(stacked.ndim - 1))
        var_attrs = {"units": meta.get("units", "")}
        if meta.get("long_name"):
            var_attrs["long_name"] = meta["long_name"]
        data_vars[name] = (("time",) + dims, stacked, var_attrs)
        for coord, values_of_coord in (meta.get("coords") or {}).items():
            # a coordinate is either a dimension's labels, or (dim, values) for an
            # auxiliary coordinate along a dimension (e.g. each cell's type)
            if isinstance(values_of_coord, tuple) and len(values_of_coord) == 2:
                dim, labels = values_of_coord
            else:
                dim, labels = coord, values_of_coord
            if dim in dims and coord not in coords:
                coords[coord] = (dim, np.asarray(labels))
    dataset = xr.Dataset(data_vars=data_vars, coords=coords)
    dataset.attrs.update({k: _json_safe(v) for k, v in (attrs or {}).items()})
    return dataset


def write_zarr(dataset: xr.Dataset, path) -> None:
    """Write a Dataset to a zarr store (overwriting)."""
    # fixed-width unicode has no zarr v3 specification (zarr warns that it may change):
    # store text as variable-length strings, which have one
    text = {name: var.astype(object) for name, var in dataset.variables.items()
            if var.dtype.kind == "U"}
    if text:
        dataset = dataset.assign_coords({k: v for k, v in text.items() if k in dataset.coords})
        dataset = dataset.assign({k: v for k, v in text.items() if k not in dataset.coords})
    # consolidated metadata is not part of the zarr v3 format; do without it
    dataset.to_zarr(str(path), mode="w", consolidated=False)


def read_zarr(path) -> xr.Dataset:
    """Read a Dataset written by :func:`write_zarr` (loaded into memory)."""
    return xr.open_zarr(str(path), consolidated=False).load()
