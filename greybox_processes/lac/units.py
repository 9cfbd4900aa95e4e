"""Lac rates with units: ``"16.6 1/s"`` or ``"997 nM/min"`` into the kernel's units (mM, min).

The kernel (:class:`~.kernel.LacKinetics`) holds the Yildirim-Mackey parameters in the
units of the vendored SBML (:data:`~.kernel.RATE_UNITS`: mM and minutes). A user override
(the process's ``rates`` config) is either

* a bare number, taken as is in that documented unit (``gamma_M: 0.411`` is 0.411/min), or
* a string ``"<number> <unit>"`` parsed by pint (a dependency of process-bigraph) and
  converted: ``"0.00685 1/s"`` is 0.411/min, ``"997 nM/min"`` is 9.97e-4 mM/min,
  ``"600 molecule/fL/min"`` is 9.96e-4 mM/min, ``"6 s"`` is 0.1 min.

A unit of the wrong dimension (``"5 mM"`` for a rate in 1/min), a unit pint does not know,
an unknown parameter name (with close matches), a value that is not finite or is negative
(zero for the saturation constants, delays and Hill exponent) raise ``ValueError`` naming
the parameter, the unit expected and the fix; the composite loader turns it into a
:class:`~greybox_processes.errors.SpecError` naming the spec file and the node path.

What cannot be caught: a *bare* number in the wrong unit (a per-second value where the
kernel expects per minute) is indistinguishable from a legitimate value, and no physical
bound separates them for these rates: YM's own maximal transcription ``alpha_M`` = 997
nM/min is ~600 transcripts per minute per fL, already about the RNA polymerase packing
limit of a few gene copies (elongation ~50-90 nt/s over a ~35 nt footprint, ~1.5-2.5
initiations/s per copy), and the gene copy number is not a parameter of the model, so a
bound would have to invent it. Give a unit when in doubt.
"""
from __future__ import annotations

import difflib
import functools
import math
import tokenize
from collections.abc import Mapping

import pint

from ..metabolism.lac import LacParameters
from .kernel import _POSITIVE, RATE_UNITS

__all__ = ["rates_in_kernel_units", "rate_in_kernel_unit"]

#: Errors pint's parser raises on text that is not a quantity (its tokenizer and evaluator).
_PARSE_ERRORS = (pint.errors.PintError, ValueError, TypeError, SyntaxError, AttributeError,
                 tokenize.TokenError)


@functools.cache
def _registry() -> pint.UnitRegistry:
    # own registry (not pint's application registry, which other code may replace)
    return pint.UnitRegistry()


@functools.cache
def _sbml_value(name: str) -> float:
    return float(getattr(LacParameters.from_sbml(), name))


def _fix(name: str) -> str:
    unit, value = RATE_UNITS[name], _sbml_value(name)
    if unit == "dimensionless":
        return f"write a bare number, e.g. `rates: {{{name}: {value:g}}}` (the SBML value)"
    return (f"write `rates: {{{name}: '{value:g} {unit}'}}` (the SBML value; a string may use "
            f"any unit of the same dimension) or a bare number, which is taken in {unit}")


def _hint(name: str, given) -> str:
    """Why a unit of the wrong dimension is wrong, when a common confusion explains it."""
    registry = _registry()
    expected = registry.Quantity(1.0, RATE_UNITS[name]).dimensionality
    substance = registry.Quantity(1.0, "molecule").dimensionality
    concentration = registry.Quantity(1.0, "mM").dimensionality
    if given.dimensionality == expected * substance / concentration:
        return (" A number of molecules is not a concentration: the kernel scales this rate "
                "with each cell's volume, so give it per volume (e.g. 'molecule/fL/min').")
    if given.dimensionality == expected / substance:
        return (" A rate first order in a molecule (a decay, a translation per mRNA) is "
                "already per molecule: drop the 'molecule' from the unit.")
    return ""


def rate_in_kernel_unit(name: str, value) -> float:
    """``value`` (a number in ``RATE_UNITS[name]`` or a ``"<number> <unit>"`` string) in
    the kernel's unit ``RATE_UNITS[name]``; ``ValueError`` naming the parameter, the unit
    expected and the fix when it is not a valid value of that parameter."""
    if name not in RATE_UNITS:
        close = difflib.get_close_matches(str(name), list(RATE_UNITS), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"lac rate {name!r} is not a Yildirim-Mackey parameter.{hint} The "
                         f"parameters (and their units) are {RATE_UNITS}")
    unit = RATE_UNITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"lac rate {name} = {value!r} is not a number or a '<number> <unit>' "
                         f"string; its unit is {unit}. Fix: {_fix(name)}")
    converted = ""
    try:
        number = float(value)              # also a number written as text: the documented unit
    except ValueError:
        number = _convert(name, value)
        converted = f" (= {number:g} {unit})"
    positive = name in _POSITIVE
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"lac rate {name} = {value!r}{converted} is invalid: it must be a "
                         f"finite number {bound} in {unit}. Fix: {_fix(name)}")
    return number


def _convert(name: str, text: str) -> float:
    unit = RATE_UNITS[name]
    registry = _registry()
    try:
        quantity = registry.Quantity(text)
    except _PARSE_ERRORS as error:
        raise ValueError(f"lac rate {name} = {text!r} is not '<number> <unit>' with a unit "
                         f"pint knows ({error}); its unit is {unit}. Fix: {_fix(name)}") from None
    if not isinstance(quantity, registry.Quantity) or not isinstance(
            quantity.magnitude, (int, float)):
        raise ValueError(f"lac rate {name} = {text!r} is not one number with a unit; its unit "
                         f"is {unit}. Fix: {_fix(name)}")
    try:
        return float(quantity.to(unit).magnitude)
    except pint.errors.DimensionalityError:
        given = f"{quantity.units:~}" or "dimensionless"
        raise ValueError(
            f"lac rate {name} = {text!r} has a unit ({given}, dimension "
            f"{quantity.dimensionality}) that cannot be converted to {unit} (dimension "
            f"{registry.Quantity(1.0, unit).dimensionality}).{_hint(name, quantity)} "
            f"Fix: {_fix(name)}") from None


def rates_in_kernel_units(overrides: Mapping | None) -> dict[str, float]:
    """Every override of ``overrides`` (``{name: number or '<number> <unit>'}``) in the
    kernel's units (:data:`~.kernel.RATE_UNITS`), checked (see :func:`rate_in_kernel_unit`)."""
    return {name: rate_in_kernel_unit(name, value) for name, value in (overrides or {}).items()}
