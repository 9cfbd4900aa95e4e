"""Port schemas shared by greybox processes.

A port schema is a bigraph-schema type. Arrays carry their shape and units so
that a composite can be checked before it runs (see :mod:`.validate`), and so
that results carry units into the xarray Dataset.

A port of a *per-cell* store (cell axis first, fixed capacity, see
:mod:`.population`) may also say how the store is partitioned when a cell
divides (``divide=``), the way vivarium-core's ``_divider`` is declared in a
port schema. The rule belongs to the store: every port that declares one for a
store must declare the same (checked by :func:`~.validation.validate_document`).
"""
from __future__ import annotations

from typing import Sequence

__all__ = ["DIVISION_RULES", "array_port", "check_division_rule", "port_divide", "port_shape",
           "port_units"]

#: How a per-cell store is partitioned between the two daughters of a dividing cell:
#:
#: * ``'binomial'``: molecule counts; each molecule goes to daughter 1 with probability
#:   equal to the division ratio (the daughters' counts sum to the mother's);
#: * ``'split'``: extensive continuous quantities (volume, mass): daughter 1 gets the
#:   division ratio of the mother's value, daughter 2 the rest;
#: * ``'copy'``: intensive quantities (concentrations, cell type): both get the mother's value;
#: * ``'zero'``: quantities that restart at birth (a cell-cycle clock, an accumulated signal).
DIVISION_RULES = ("binomial", "split", "copy", "zero")


def check_division_rule(rule) -> str:
    """``rule`` if it is one of :data:`DIVISION_RULES`, else a ValueError naming them."""
    if rule not in DIVISION_RULES:
        raise ValueError(f"unknown division rule {rule!r}; use one of {list(DIVISION_RULES)} "
                         "(binomial: molecule counts, split: volume and mass, copy: "
                         "concentrations and types, zero: clocks restarting at birth)")
    return rule


def array_port(shape: Sequence[int], units: str = "", dtype: str = "float64", *,
               divide: str | None = None) -> dict:
    """The schema of an array port of fixed ``shape`` and ``units``.

    ``units`` is a pint-parseable string (``'mM'``, ``'1/s'``) or ``''`` for a
    dimensionless or arbitrary-unit quantity. ``divide`` (one of
    :data:`DIVISION_RULES`) declares how a per-cell store (cell axis 0) is
    partitioned at division; leave it ``None`` for a store that is not per cell,
    or when another port of the same store declares it.
    """
    schema = {"_type": "array", "_shape": tuple(int(s) for s in shape), "_data": dtype}
    if units:
        schema["_units"] = units
    if divide is not None:
        schema["_divide"] = check_division_rule(divide)
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


def port_divide(schema) -> str | None:
    """The division rule a port declares for its store, or ``None`` when it declares none."""
    if isinstance(schema, dict):
        return schema.get("_divide")
    return None
