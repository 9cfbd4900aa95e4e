"""Composite specs: the public names, re-exported for backward compatibility.

The code lives in three modules, imported in this (acyclic) order:

* :mod:`.document`: walking a document (process nodes, wires, dotted paths);
* :mod:`.registry`: the default core and process addresses;
* :mod:`.validation`: :func:`validate_document`, the checks before a run;
* :mod:`.loading`: :func:`load_spec`, :func:`build_document`, :func:`apply_overrides`.

``from greybox_processes.framework.spec import X`` keeps working for each of them.
"""
from __future__ import annotations

from .document import EDGE_TYPES, edge_nodes, is_edge_node, resolve_wire
from .loading import apply_overrides, build_document, load_spec
from .registry import default_core, resolve_process_class
from .validation import validate_document

# the old private name, still imported by code outside this package
_resolve_wire = resolve_wire

__all__ = [
    "load_spec",
    "build_document",
    "validate_document",
    "apply_overrides",
    "is_edge_node",
    "resolve_process_class",
    "edge_nodes",
    "resolve_wire",
    "default_core",
    "EDGE_TYPES",
]
