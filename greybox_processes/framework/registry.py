"""Process addresses: the core that knows every installed process, and name lookup.

Kept apart from loading and validation because :mod:`.interventions` (which
:mod:`.loading` uses) must resolve the address of the process it wraps.
"""
from __future__ import annotations

import difflib

from process_bigraph import allocate_core

from ..errors import SpecError

__all__ = ["default_core", "resolve_process_class", "suggest"]


def suggest(word, candidates) -> str:
    """``" Did you mean 'x', 'y'?"`` for the close matches of ``word``, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=3, cutoff=0.6)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def default_core():
    """A strict core (unknown config keys raise) with every installed process registered."""
    return allocate_core(strict=True)


def resolve_process_class(address: str, core, *, path=(), file=None):
    """The class registered at a ``local:Name`` address, or a SpecError with suggestions."""
    if not isinstance(address, str) or not address:
        raise SpecError("a process node has no 'address'", file=file, path=path,
                        fix="give it an address such as 'local:GRN' (see `greybox processes`)")
    protocol, _, name = address.partition(":")
    if not name:
        protocol, name = "local", protocol
    if protocol != "local":
        raise SpecError(f"address {address!r} uses protocol {protocol!r}; greybox specs run "
                        "processes in this interpreter", file=file, path=path + ("address",),
                        fix=f"use 'local:{name}'")
    registry = core.link_registry
    if name in registry:
        return registry[name]
    known = [k for k in registry.keys() if isinstance(k, str)]
    short = sorted({k for k in known if "." not in k})
    raise SpecError(
        f"unknown process {name!r}.{suggest(name, short)}",
        file=file, path=path + ("address",),
        fix="use a registered process name (list them with `greybox processes`); if it is yours, "
            "install its package so that allocate_core() discovers it")
