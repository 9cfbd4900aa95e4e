"""Trajectories as labelled arrays: an :class:`xarray.Dataset` with a time axis.

Each recorded store becomes one data variable named by its store path joined
with dots (``cells.mrna``), with dimensions, coordinates and units taken from
the ports wired to it (see :meth:`GreyboxMixin.port_metadata`). A store that holds a
map of arrays (spatio-flux's ``fields``: ``{species: (ny, nx) array}``) becomes one
variable per key (``fields.glucose``), since zarr stores arrays, not dicts.
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


def _as_map(value):
    """``value`` as a Mapping if it is one (emitters wrap a dict in a 0-d object array)."""
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        value = value.item()
    return value if isinstance(value, Mapping) else None


def _split_one(path, values):
    """``{path + (key, ...): numeric series}`` for a map store, or None to keep it whole.

    None when a value is not a map at some time, or a leaf is not numeric: such a store
    stays one (object) variable as before.
    """
    maps = [_as_map(v) for v in values]
    if not maps or any(m is None for m in maps):
        return None
    out = {}
    for key in sorted({k for m in maps for k in m}, key=str):
        column = [m.get(key) for m in maps]
        inner = _split_one(path + (key,), [c for c in column if c is not None])
        if inner is not None and all(c is not None for c in column):
            out.update(inner)
            continue
        leaves = [None if c is None else np.asarray(c) for c in column]
        present = [leaf for leaf in leaves if leaf is not None]
        if any(leaf.dtype.kind not in "biuf" or leaf.shape != present[0].shape
               for leaf in present):
            return None
        # a key missing at some times (a map that gained a species) is NaN there
        gap = np.full(present[0].shape, np.nan)
        out[path + (key,)] = [gap if leaf is None else leaf for leaf in leaves]
    return out


def _split_maps(series, metadata):
    """``series`` with every map-of-arrays store replaced by one series per key.

    A key's path is ``store path + (key,)``; its metadata is its own if recorded, else
    the map's units (a map port's units are its values' units).
    """
    flat, meta = {}, dict(metadata)
    for path, values in series.items():
        parts = _split_one(tuple(path), list(values)) if len(values) else None
        if parts is None:
            flat[path] = values
            continue
        flat.update(parts)
        units = metadata.get(path, {}).get("units")
        for sub in parts:
            if sub not in meta and units:
                meta[sub] = {"units": units}
    return flat, meta


def to_dataset(times: Sequence[float], series: Mapping[tuple, Sequence], metadata: Mapping[tuple, dict],
               attrs: Mapping | None = None, time_units: str = "") -> xr.Dataset:
    """Stack per-time values of each store into a Dataset.

    Parameters
    ----------
    times : (n_times,) emission times.
    series : ``{store path: [value at each time]}``.
    metadata : ``{store path: {'dims': (...), 'coords': {...}, 'units': str}}``.
    """
    series, metadata = _split_maps(series, metadata)
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
