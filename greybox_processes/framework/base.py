"""Base classes of greybox processes.

Every greybox mechanism is a process-bigraph :class:`~process_bigraph.Process`
(or :class:`~process_bigraph.Step`). The mixin here adds what the rest of the
framework needs to treat processes uniformly, without touching the engine:

* ``describe()``: the one-line description that ``greybox processes`` prints;
* ``port_metadata()``: dimension names, coordinates and units of each port, so
  that results come back as a labelled :class:`xarray.Dataset`.
"""
from __future__ import annotations

import inspect
import math

from process_bigraph import Process, Step

__all__ = ["GreyboxMixin", "GreyboxProcess", "GreyboxStep", "describe", "steps_per_interval"]


def describe(cls) -> str:
    """First line of a class docstring (its one-line description)."""
    doc = inspect.getdoc(cls) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def steps_per_interval(interval: float, dt: float, process: str = "process") -> int:
    """Number of kernel steps of size ``dt`` in a process ``interval`` (it must be a multiple)."""
    n = interval / dt
    if n < 0.5 or not math.isclose(n, round(n), rel_tol=1e-9, abs_tol=1e-9):
        raise ValueError(f"the {process} interval {interval} is not a whole number of steps of "
                         f"dt={dt}; set the process interval to a multiple of dt")
    return int(round(n))


class GreyboxMixin:
    """Metadata hooks shared by greybox processes and steps."""

    @classmethod
    def describe(cls) -> str:
        """The first docstring line, as `greybox processes` prints it."""
        return describe(cls)

    def port_metadata(self) -> dict:
        """``{port: {'dims': (...), 'coords': {dim: values}, 'units': str}}``.

        Override to label array ports; ports left out get generic dimension
        names in results.
        """
        return {}

    #: Config keys that fix the shape of the stores; an intervention may not change them.
    fixed_config_keys: tuple = ()

    def config_changed(self, keys) -> None:
        """What :class:`~greybox_processes.framework.interventions.Intervened` calls after it
        rewrote ``self.config`` at ``keys``: refuses a key of ``fixed_config_keys``, then
        :meth:`parameters_changed`."""
        fixed = sorted({str(k).split(".")[0] for k in keys} & set(self.fixed_config_keys))
        if fixed:
            raise ValueError(f"{type(self).__name__} config {fixed} sets the shape of its stores "
                             "(or what it is built from), so it cannot change during a run; set "
                             "it in the spec instead")
        self.parameters_changed(keys)

    def parameters_changed(self, keys) -> None:
        """Called by :class:`~greybox_processes.framework.interventions.Intervened` after it
        rewrote ``self.config`` at ``keys`` (dotted targets).

        A process that reads its parameters from ``self.config`` in ``update`` needs
        nothing here; one that caches derived parameters (compiled kernels) must
        override this to rebuild them, keeping its state and random key.
        """


class GreyboxProcess(GreyboxMixin, Process):
    """Base class of greybox processes (time-driven, return deltas)."""


class GreyboxStep(GreyboxMixin, Step):
    """Base class of greybox steps (event-driven observers and transforms)."""
