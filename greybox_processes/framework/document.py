"""Walking a composite document: process nodes, wires and dotted paths.

Pure functions on the plain ``{'state': ...}`` tree, with no dependency on the
rest of the framework, so that every other module (interventions, loading,
validation, the engines) can import them at module level without a cycle.
"""
from __future__ import annotations

import re
from typing import Mapping

from ..errors import SpecError

__all__ = [
    "EDGE_TYPES",
    "is_edge_node",
    "edge_nodes",
    "resolve_wire",
    "split_path",
    "get_path",
    "set_path",
    "lookup_path",
    "leaf_store_paths",
    "check_document_shape",
]

EDGE_TYPES = ("process", "step", "composite")


def is_edge_node(node) -> bool:
    """True for a process or step node of a state tree."""
    if not isinstance(node, dict):
        return False
    if node.get("_type") in EDGE_TYPES:
        return True
    return "address" in node and any(k in node for k in ("config", "inputs", "outputs"))


def edge_nodes(state, path=()) -> dict:
    """``{path: node}`` for every process/step node in a state tree."""
    found = {}
    if not isinstance(state, dict):
        return found
    for key, value in state.items():
        here = path + (key,)
        if is_edge_node(value):
            found[here] = value
        elif isinstance(value, dict):
            found.update(edge_nodes(value, here))
    return found


def resolve_wire(edge_path, wire) -> tuple:
    """Absolute store path of a wire (relative to the edge's parent; '..' goes up)."""
    base = list(edge_path[:-1])
    for part in (wire if isinstance(wire, (list, tuple)) else [wire]):
        if part == "..":
            if base:
                base.pop()
        else:
            base.append(part)
    return tuple(base)


_INDEX = re.compile(r"-?[0-9]+")


def split_path(dotted) -> list:
    """``'grn.config.diffusion.0'`` -> ``['grn', 'config', 'diffusion', 0]``.

    Whole-number parts (also negative ones, ``'-1'``) become list indices. A list
    or tuple is taken as already split. An empty part (``'grn..q'``) is a
    ValueError rather than being skipped, because it is almost always a typo.
    """
    if isinstance(dotted, (list, tuple)):
        return list(dotted)
    text = str(dotted)
    if text == "":
        return []
    parts = text.split(".")
    if "" in parts:
        raise ValueError(f"path {text!r} has an empty part; write keys separated by single "
                         "dots, e.g. grn.config.q")
    return [int(p) if _INDEX.fullmatch(p) else p for p in parts]


def get_path(tree, parts):
    """The value at ``parts`` (see :func:`split_path`); KeyError/IndexError/TypeError if absent."""
    for part in split_path(parts):
        tree = tree[part]
    return tree


def set_path(tree, parts, value) -> None:
    """Set the value at ``parts``; every parent must exist (no new branches are made)."""
    parts = split_path(parts)
    if not parts:
        raise ValueError("cannot set the value at an empty path")
    get_path(tree, parts[:-1])[parts[-1]] = value


def lookup_path(tree, parts):
    """``(value, True)`` at ``parts`` of nested mappings, or ``(None, False)`` if absent."""
    node = tree
    for part in split_path(parts):
        if not isinstance(node, dict) or part not in node:
            return None, False
        node = node[part]
    return node, True


def leaf_store_paths(state, path=()) -> list:
    """Paths of the stores of a state tree that hold values (not processes, not ``_`` keys)."""
    out = []
    if isinstance(state, dict):
        for key, value in state.items():
            if str(key).startswith("_") or is_edge_node(value):
                continue
            if isinstance(value, dict) and value:
                out.extend(leaf_store_paths(value, path + (key,)))
            else:
                out.append(path + (key,))
    return out


def check_document_shape(doc, *, file=None, expect_spec=False) -> None:
    """Catch the engine trap ``Composite(tree)`` where ``Composite({'state': tree})`` is meant."""
    if not isinstance(doc, Mapping):
        raise SpecError(f"expected a composite document (a mapping), got {type(doc).__name__}",
                        file=file, fix="pass {'state': {...}}")
    if "state" in doc:
        if not isinstance(doc["state"], Mapping):
            raise SpecError("'state' must be a mapping of stores and processes", file=file,
                            path=("state",), fix="put stores and process nodes under `state:`")
        return
    if "builder" in doc and expect_spec:
        return
    bare = [k for k, v in doc.items() if is_edge_node(v)]
    if bare:
        raise SpecError(
            f"this is a bare state tree (process nodes {bare} at the top level), "
            "but a composite document is expected",
            file=file, path=(bare[0],),
            fix="wrap the tree: {'state': tree} in Python (Composite({'state': tree}), not "
                "Composite(tree)), or move it under a top-level `state:` key in YAML")
    raise SpecError("the document has no 'state'", file=file,
                    fix="put the stores and processes under a top-level `state:` key")
