"""Composite specs: load, parametrise, override, validate.

A composite spec is YAML in process-bigraph's own ``CompositeSpec`` format
(``name``, ``parameters``, ``state``, ``emitters``, ``${param}`` substitution).
Loading never fails silently: every problem raises :class:`~greybox_processes.errors.SpecError`
naming the spec file, the path inside it and the fix. The checks run before
the engine sees the document, because the engines' own failures for these
mistakes are either silent (a wire to a misspelt store creates a new, empty
store) or far from the cause.

Two ways to make an ablation:

* a spec parameter: ``build_document(spec, params={'noise': 'sp'})``;
* any value in the state tree, by dotted path:
  ``build_document(spec, overrides={'grn.address': 'local:OtherGRN'})``.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path as FilePath
from typing import Any, Mapping

import numpy as np
import yaml

from ..errors import SpecError
from .ports import port_shape, port_units

__all__ = [
    "load_spec",
    "build_document",
    "validate_document",
    "apply_overrides",
    "is_edge_node",
    "resolve_process_class",
    "edge_nodes",
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


def _suggest(word: str, candidates) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=3, cutoff=0.6)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


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
        f"unknown process {name!r}.{_suggest(name, short)}",
        file=file, path=path + ("address",),
        fix="use a registered process name (list them with `greybox processes`); if it is yours, "
            "install its package so that allocate_core() discovers it")


def load_spec(path):
    """Read a YAML (or JSON) composite spec into a :class:`process_bigraph.CompositeSpec`."""
    from process_bigraph import CompositeSpec

    path = FilePath(path)
    if not path.is_file():
        raise SpecError("spec file not found", file=path,
                        fix="check the path; bundled specs live in composites/")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise SpecError(f"not valid YAML{where}: {getattr(error, 'problem', error)}",
                        file=path, fix="fix the YAML syntax at that line") from error
    if not isinstance(raw, dict):
        raise SpecError("a spec must be a mapping with 'name' and 'state'", file=path,
                        fix="start the file with `name: ...` and put the composite under `state:`")
    _check_document_shape(raw, file=path, expect_spec=True)
    if not raw.get("name"):
        raise SpecError("the spec has no 'name'", file=path, path=("name",),
                        fix="add `name: <a short name>` at the top level")
    for key, decl in (raw.get("parameters") or {}).items():
        if not isinstance(decl, dict) or "default" not in decl:
            raise SpecError(f"parameter {key!r} must be a mapping with a 'default'", file=path,
                            path=("parameters", key),
                            fix=f"write `{key}: {{type: float, default: ...}}`")
    interventions = raw.pop("interventions", None) or {}
    if not isinstance(interventions, dict):
        raise SpecError("'interventions' must map a process path to a list of interventions",
                        file=path, path=("interventions",),
                        fix="write `interventions: {fields: [{target: config.D, factor: 2, "
                            "profile: pulse, start: 1, end: 2}]}`")
    raw.setdefault("id", f"{path.stem}.{raw['name']}")
    try:
        spec = CompositeSpec.from_dict({k: v for k, v in raw.items()
                                        if k in CompositeSpec.__dataclass_fields__})
    except (TypeError, ValueError) as error:
        raise SpecError(str(error), file=path, fix="see composites/grn_cells.yaml for the format"
                        ) from error
    unknown = sorted(set(raw) - set(CompositeSpec.__dataclass_fields__))
    if unknown:
        raise SpecError(f"unknown top-level key(s) {unknown}", file=path, path=(unknown[0],),
                        fix="top-level keys are name, description, parameters, state, emitters, "
                            "interventions (and the other CompositeSpec fields)")
    spec.source_file = str(path)
    spec.interventions = interventions
    return spec


def _check_document_shape(doc, *, file=None, expect_spec=False):
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


def _split_dotted(key: str):
    return [int(p) if p.isdigit() else p for p in str(key).split(".") if p != ""]


def apply_overrides(state: dict, overrides: Mapping[str, Any] | None, *, file=None) -> dict:
    """A copy of ``state`` with dotted-path overrides applied (``'grn.config.q': 0.5``).

    The parent of each path must exist, so that a typo does not silently add a
    new key; the leaf may be new (a config key the spec left at its default).
    """
    state = copy.deepcopy(state)
    for dotted, value in (overrides or {}).items():
        parts = _split_dotted(dotted)
        if not parts:
            raise SpecError("empty override path", file=file, fix="use e.g. grn.config.q=0.5")
        node = state
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node:
                options = list(node) if isinstance(node, dict) else []
                raise SpecError(
                    f"override {dotted!r}: no key {part!r} here.{_suggest(part, options)}",
                    file=file, path=tuple(parts[:depth + 1]),
                    fix=f"existing keys here: {sorted(map(str, options))}")
            node = node[part]
        if not isinstance(node, dict):
            raise SpecError(f"override {dotted!r}: {'.'.join(map(str, parts[:-1]))} is a value, "
                            "not a mapping", file=file, path=tuple(parts[:-1]),
                            fix="override the value itself, not a key inside it")
        node[parts[-1]] = value
    return state


def build_document(spec, *, params: Mapping[str, Any] | None = None,
                   overrides: Mapping[str, Any] | None = None,
                   interventions: Mapping[str, Any] | None = None, core=None,
                   validate: bool = True) -> dict:
    """A validated composite document from a spec (a CompositeSpec, a path or a dict).

    Parameters
    ----------
    spec : CompositeSpec, path to a YAML/JSON spec, or a document ``{'state': ...}``.
    params : values for the spec's declared ``parameters`` (``${name}`` placeholders).
    overrides : dotted-path overrides of the state tree, applied after ``params``.
    interventions : ``{process path: [intervention, ...]}`` (scheduled, pulse or loop
        changes of a process parameter, see :mod:`.interventions`), added to those of
        the spec's top-level ``interventions:``.
    core : a process-bigraph core; default ``allocate_core(strict=True)``.
    """
    from process_bigraph import CompositeSpec

    core = core if core is not None else default_core()
    file = None
    if isinstance(spec, (str, FilePath)):
        spec = load_spec(spec)
    if isinstance(spec, CompositeSpec):
        file = getattr(spec, "source_file", None)
        params = dict(params or {})
        unknown = sorted(set(params) - set(spec.parameters))
        if unknown:
            raise SpecError(
                f"unknown parameter(s) {unknown}.{_suggest(unknown[0], spec.parameters)}",
                file=file, path=("parameters",),
                fix=f"declared parameters: {sorted(spec.parameters)}; to change any other value "
                    "use a dotted override such as grn.config.q=0.5")
        try:
            document = spec.to_document(params, core=core, emit=False)
        except (KeyError, TypeError, ValueError) as error:
            raise SpecError(str(error).strip("'\""), file=file, path=("parameters",),
                            fix="declare every ${name} under `parameters:` with a default, and "
                                "give values of the declared type") from error
    else:
        _check_document_shape(spec)
        document = {**spec}
    document["state"] = apply_overrides(document["state"], overrides, file=file)
    planned = {}
    for source in (getattr(spec, "interventions", None) or {}, interventions or {}):
        for target, entries in source.items():
            planned.setdefault(target, []).extend(entries)
    if planned:
        from .interventions import with_interventions

        try:
            document = with_interventions(document, planned)
        except (ValueError, TypeError, KeyError) as error:
            raise SpecError(str(error), file=file, path=("interventions",),
                            fix="name a process of the composite and give each intervention a "
                                "target, a value or factor, and its timing") from error
    if validate:
        validate_document(document, core=core, file=file)
    return document


def default_core():
    """A strict core (unknown config keys raise) with every installed process registered."""
    from process_bigraph import allocate_core

    return allocate_core(strict=True)


def _instantiate(cls, config, core, *, path, file):
    try:
        return cls(config, core=core)
    except SpecError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        message = str(error)
        if "unknown config key" in message:
            declared = sorted((getattr(cls, "config_schema", None) or {}).keys())
            bad = [k for k in config if k not in declared]
            hints = "".join(_suggest(k, declared) for k in bad)
            raise SpecError(f"unknown config key(s) {bad} for {cls.__name__}.{hints}", file=file,
                            path=path + ("config",),
                            fix=f"use only declared keys: {declared}") from error
        raise SpecError(f"{cls.__name__} rejected its config: {message}", file=file,
                        path=path + ("config",), fix="correct the config value named above") from error


def _store_value(state, path):
    node = state
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None, False
        node = node[part]
    return node, True


def _resolve_wire(edge_path, wire):
    """Absolute store path of a wire (relative to the edge's parent; '..' goes up)."""
    base = list(edge_path[:-1])
    for part in (wire if isinstance(wire, (list, tuple)) else [wire]):
        if part == "..":
            if base:
                base.pop()
        else:
            base.append(part)
    return tuple(base)


def validate_document(document, *, core=None, file=None) -> dict:
    """Check a composite document before it runs; return ``{edge_path: instance}``.

    Checks: known process addresses; declared config keys; config values the
    process accepts; wires name existing ports and every port is wired; every
    input reads a store that the spec defines or some process writes; all ports
    wired to one store agree on shape and units, and so does an initial value
    given in the spec.
    """
    core = core if core is not None else default_core()
    _check_document_shape(document, file=file)
    state = document["state"]
    edges = edge_nodes(state)
    instances = {}
    writers, readers = {}, {}
    # store path -> list of (edge path, port, schema)
    ports_on = {}
    for path, node in edges.items():
        cls = resolve_process_class(node.get("address", ""), core, path=path, file=file)
        if getattr(cls, "__name__", "").endswith("Emitter"):
            continue
        config = node.get("config") or {}
        if not isinstance(config, dict):
            raise SpecError("'config' must be a mapping", file=file, path=path + ("config",),
                            fix="write config keys as `key: value` under `config:`")
        instance = _instantiate(cls, config, core, path=path, file=file)
        instances[path] = instance
        declared = {"inputs": instance.inputs() or {}, "outputs": instance.outputs() or {}}
        for direction, ports in declared.items():
            wires = node.get(direction) or {}
            for port in wires:
                if port not in ports:
                    raise SpecError(
                        f"{cls.__name__} has no {direction[:-1]} port {port!r}."
                        f"{_suggest(port, ports)}", file=file, path=path + (direction, port),
                        fix=f"its {direction} are {sorted(ports)}")
            for port, schema in ports.items():
                if port not in wires:
                    raise SpecError(
                        f"{direction[:-1]} port {port!r} of {cls.__name__} is not wired",
                        file=file, path=path + (direction,),
                        fix=f"add `{port}: [<store path>]` under {direction}")
                target = _resolve_wire(path, wires[port])
                ports_on.setdefault(target, []).append((path, port, schema))
                (writers if direction == "outputs" else readers).setdefault(target, []).append(
                    (path, port))
    all_stores = _leaf_store_paths(state)
    for target, users in readers.items():
        _, present = _store_value(state, target)
        if present or target in writers:
            continue
        known = sorted({"/".join(map(str, p)) for p in list(writers) + all_stores})
        path, port = users[0]
        name = "/".join(map(str, target))
        raise SpecError(
            f"input {port!r} of {'/'.join(map(str, path))} reads store {name!r}, which the spec "
            f"does not define and no process writes.{_suggest(name, known)}",
            file=file, path=path + ("inputs", port),
            fix=f"wire it to an existing store ({', '.join(known) or 'none yet'}) or define "
                f"{name} in the state")
    for target, users in ports_on.items():
        _check_store_agreement(state, target, users, file)
    return instances


def _leaf_store_paths(state, path=()):
    out = []
    if isinstance(state, dict):
        for key, value in state.items():
            if str(key).startswith("_") or is_edge_node(value):
                continue
            if isinstance(value, dict) and value:
                out.extend(_leaf_store_paths(value, path + (key,)))
            else:
                out.append(path + (key,))
    return out


def _check_store_agreement(state, target, users, file):
    name = "/".join(map(str, target))
    first_path, first_port, first_schema = users[0]
    shape0, units0 = port_shape(first_schema), port_units(first_schema)
    who0 = f"{'/'.join(map(str, first_path))}.{first_port}"
    for path, port, schema in users[1:]:
        who = f"{'/'.join(map(str, path))}.{port}"
        shape, units = port_shape(schema), port_units(schema)
        if shape is not None and shape0 is not None and shape != shape0:
            raise SpecError(f"store {name!r}: {who0} has shape {shape0} but {who} has shape {shape}",
                            file=file, path=path, fix="configure both processes for the same "
                            "number of cells/genes, or wire them to different stores")
        if units and units0 and units != units0:
            raise SpecError(f"store {name!r}: {who0} is in {units0!r} but {who} is in {units!r}",
                            file=file, path=path, fix="make both ports use the same units "
                            "(process-bigraph and vivarium-core would otherwise disagree)")
    value, present = _store_value(state, target)
    if present and shape0 is not None and value is not None and not isinstance(value, dict):
        got = np.shape(value)
        if got != shape0:
            raise SpecError(f"initial value of store {name!r} has shape {got}, but {who0} expects "
                            f"{shape0}", file=file, path=target,
                            fix=f"give an array of shape {shape0}, or remove the value to start "
                                "from the process's own initial state")
