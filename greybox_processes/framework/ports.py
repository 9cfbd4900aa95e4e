"""Port schemas shared by greybox processes.

A port schema is a bigraph-schema type. Arrays carry their shape and units so
that a composite can be checked before it runs (see :mod:`.validate`), and so
that results carry units into the xarray Dataset.
"""
from __future__ import annotations

from typing import Sequence

__all__ = ["array_port", "port_shape", "port_units"]


def array_port(shape: Sequence[int], units: str = "", dtype: str = "float64") -> dict:
    """The schema of an array port of fixed ``shape`` and ``units``.

    ``units`` is a pint-parseable string (``'mM'``, ``'1/s'``) or ``''`` for a
    dimensionless or arbitrary-unit quantity.
    """
    schema = {"_type": "array", "_shape": tuple(int(s) for s in shape), "_data": dtype}
    if units:
        schema["_units"] = units
    return schema


def port_shape(schema) -> tuple | None:
    """The declared shape of an array port, or ``None`` for a scalar/other port."""
    if isinstance(schema, dict) and schema.get("_type") == "array":
        return tuple(schema.get("_shape", ()))
    return None


def port_units(schema) -> str:
    """The declared units of a port ('' when none)."""
    if isinstance(schema, dict):
        return str(schema.get("_units", ""))
    return ""
