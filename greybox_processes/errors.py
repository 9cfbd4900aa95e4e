"""Typed errors of greybox.

Every error says what is wrong, where (a file and line, a spec path, a store),
and how to fix it. Catch :class:`GreyboxError` for all of them.
"""
from __future__ import annotations

__all__ = [
    "GreyboxError",
    "SpecError",
    "NetworkFormatError",
    "SimulationError",
]


class GreyboxError(Exception):
    """Base class of every error raised by greybox."""


def _compose(message: str, where: str | None, fix: str | None) -> str:
    parts = []
    if where:
        parts.append(f"{where}: {message}")
    else:
        parts.append(message)
    if fix:
        parts.append(f"Fix: {fix}")
    return "\n".join(parts)


class SpecError(GreyboxError, ValueError):
    """A composite spec (YAML or Python) that cannot be built.

    Attributes
    ----------
    file : path of the spec file, or ``None`` for a spec built in Python.
    path : the location inside the document, as a tuple of keys.
    fix : what the user should change.
    """

    def __init__(self, message: str, *, file=None, path=(), fix: str | None = None):
        self.file = None if file is None else str(file)
        self.path = tuple(path)
        self.fix = fix
        self.reason = message
        where = self.file or "<python spec>"
        if self.path:
            where += " at " + "/".join(str(p) for p in self.path)
        super().__init__(_compose(message, where, fix))


class NetworkFormatError(GreyboxError, ValueError):
    """A network file (e.g. SERGIO's interaction or regulator file) that is malformed."""

    def __init__(self, message: str, *, file=None, line: int | None = None,
                 fix: str | None = None):
        self.file = None if file is None else str(file)
        self.line = line
        self.fix = fix
        where = self.file
        if where and line is not None:
            where += f", line {line}"
        super().__init__(_compose(message, where, fix))


class SimulationError(GreyboxError, RuntimeError):
    """A simulation produced an invalid state (NaN, negative amount, overflow).

    Raised on the host from error flags that the jitted kernels carry in their
    state, so that nothing invalid passes silently into a store.
    """
