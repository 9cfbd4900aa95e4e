"""Typed errors of the metabolism package (subclasses of greybox's GreyboxError).

Each says what is wrong and what to change. Errors about user input also
subclass :class:`ValueError`, so that the composite loader turns a bad process
config into a :class:`~greybox_processes.errors.SpecError` naming the spec path.
"""
from __future__ import annotations

from ..errors import GreyboxError

__all__ = ["MetabolismError", "ModelLoadError", "UnknownGeneError", "UnknownExchangeError",
           "InfeasibleError", "InvalidConcentrationError", "UptakeLimitError"]


class MetabolismError(GreyboxError):
    """Base class of metabolism errors."""


class ModelLoadError(MetabolismError, ValueError):
    """A metabolic model that cannot be found or parsed (SBML, JSON, YAML or a bundled name)."""


class UnknownGeneError(MetabolismError, ValueError):
    """A gene id (e.g. in a knockout list) that the model does not contain."""


class UnknownExchangeError(MetabolismError, ValueError):
    """An exchange reaction id (tracked metabolite, uptake kinetics, medium) not in the model."""


class InvalidConcentrationError(MetabolismError, ValueError):
    """A negative or non-finite concentration or biomass."""


class InfeasibleError(MetabolismError, RuntimeError):
    """The flux balance LP has no solution (e.g. a medium that cannot sustain maintenance).

    Attributes
    ----------
    status : the solver status string ('infeasible', 'unbounded', ...).
    """

    def __init__(self, message: str, *, status: str = "infeasible"):
        self.status = status
        super().__init__(message)


class UptakeLimitError(MetabolismError, RuntimeError):
    """Dynamic FBA could not keep uptake within what the medium holds over an interval."""
