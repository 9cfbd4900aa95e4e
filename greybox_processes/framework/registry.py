"""Process addresses: the core that knows every installed process, and name lookup.

Kept apart from loading and validation because :mod:`.interventions` (which
:mod:`.loading` uses) must resolve the address of the process it wraps.
"""
from __future__ import annotations

import difflib
import logging

from process_bigraph import allocate_core

from ..errors import SpecError

__all__ = ["claim_short_names", "default_core", "resolve_process_class", "suggest"]

logger = logging.getLogger(__name__)

#: The package whose short names (``local:Division``) must mean its own classes.
_OWN_PACKAGE = "greybox_processes."


def suggest(word, candidates) -> str:
    """``" Did you mean 'x', 'y'?"`` for the close matches of ``word``, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=3, cutoff=0.6)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _module_behind(registry, key):
    """The module that defines the class registered at ``key``, without importing it.

    bigraph-schema's lazy registry keeps not-yet-imported names as ``name -> module``
    placeholders (its ``_index``); reading the placeholder keeps ``allocate_core()``
    from importing every installed package just to compare two names.
    """
    pending = getattr(registry, "_index", None)
    if isinstance(pending, dict) and key in pending:
        return pending[key]
    return getattr(registry.get(key), "__module__", None)


def claim_short_names(core):
    """Point every greybox class's short name (``Division``) at greybox's class.

    Discovery registers each process twice, by module path and by class name, and the
    first package discovered keeps a class name that two packages share (spatio-flux
    also has a ``DynamicFBA`` and a ``Division``). Greybox's composites address their
    processes by class name, so they must get greybox's; another package's class stays
    reachable by its full address (``local:spatio_flux.processes.dfba.DynamicFBA``).
    Returns ``{short name: module of the foreign class it shadowed}``; the core is
    changed in place.
    """
    registry = core.link_registry
    shadowed = {}
    for key in list(registry.keys()):
        if not (isinstance(key, str) and key.startswith(_OWN_PACKAGE)):
            continue
        module, _, short = key.rpartition(".")
        current = _module_behind(registry, short) if short in registry else None
        if current == module:
            continue
        if current is not None:
            shadowed[short] = current
        pending = getattr(registry, "_index", None)
        if isinstance(pending, dict) and key in pending:
            # still a placeholder: point the short name at the same module, so the
            # lazy registry imports greybox's module (not the other one) on first use
            registry.pop(short, None)
            pending[short] = module
        else:
            core.register_link(short, registry[key])
    if shadowed:
        logger.debug("greybox short names now shadow other packages' classes: %s", shadowed)
    return shadowed


def default_core():
    """A strict core (unknown config keys raise) with every installed process registered.

    Class names that greybox shares with another installed package resolve to greybox's
    classes (see :func:`claim_short_names`).
    """
    core = allocate_core(strict=True)
    claim_short_names(core)
    return core


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
