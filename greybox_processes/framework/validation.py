"""Checks of a composite document before it runs (:func:`validate_document`).

The engines' own failures for these mistakes are either silent (a wire to a
misspelt store creates a new, empty store) or far from the cause, so every
check raises :class:`~greybox_processes.errors.SpecError` naming the file, the
path inside the document and the fix.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import GreyboxError, SpecError
from .division import resolve_division_rules
from .document import (EDGE_TYPES, check_document_shape, edge_nodes, leaf_store_paths,
                       lookup_path, resolve_wire)
from .ports import port_shape, port_units
from .registry import default_core, resolve_process_class, suggest

__all__ = ["validate_document", "check_intervals"]


def check_intervals(document, *, file=None) -> None:
    """Every ``interval`` of a process node is a positive finite number.

    An interval of 0 or a negative one never advances the process's time, and
    ``nan``/``inf`` make the engine's scheduling undefined; neither engine says so.
    """
    for path, node in edge_nodes(document["state"]).items():
        if "interval" not in node:
            continue
        value = node["interval"]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan  # not a number at all: reported below like a bad one
        if not (math.isfinite(number) and number > 0):
            raise SpecError(f"interval {value!r} of the process is not a positive finite "
                            "number; the process would never advance (or advance undefined) "
                            "time", file=file, path=tuple(path) + ("interval",),
                            fix="give a positive interval, e.g. `interval: 1.0`, or remove it "
                                "for the default 1.0")


#: the keys of a process node that the engines read (besides ``_``-prefixed schema keys)
NODE_KEYS = ("_type", "address", "config", "interval", "inputs", "outputs", "instance")

_SIMPLE_TYPES = {"string": (str,), "integer": (int,), "float": (int, float),
                 "boolean": (bool,)}


def _type_mismatches(cls, config) -> list:
    """``["key (float 1.5, declared string)", ...]`` for config values of the wrong simple type."""
    schema = getattr(cls, "config_schema", None) or {}
    found = []
    for key, value in config.items():
        declared = schema.get(key)
        kind = declared.get("_type") if isinstance(declared, dict) else declared
        expected = _SIMPLE_TYPES.get(kind) if isinstance(kind, str) else None
        if expected is None:
            continue
        wrong_bool = isinstance(value, bool) and kind != "boolean"
        if wrong_bool or not isinstance(value, expected):
            found.append(f"{key} ({type(value).__name__} {value!r}, declared {kind})")
    return found


def _instantiate(cls, config, core, *, path, file):
    try:
        return cls(config, core=core)
    except SpecError:
        raise
    except Exception as error:  # any failure here is caused by the config
        message = str(error) or type(error).__name__
        if not isinstance(error, (ValueError, TypeError, KeyError, GreyboxError)):
            # an AttributeError, OverflowError or MemoryError deep inside the process: say
            # which kind, and which values do not have their declared type
            message = f"{type(error).__name__}: {message}"
        mismatches = _type_mismatches(cls, config)
        if mismatches:
            message += f" (values of the wrong type: {'; '.join(mismatches)})"
        if "unknown config key" in message:
            declared = sorted((getattr(cls, "config_schema", None) or {}).keys())
            bad = [k for k in config if k not in declared]
            hints = "".join(suggest(k, declared) for k in bad)
            raise SpecError(f"unknown config key(s) {bad} for {cls.__name__}.{hints}", file=file,
                            path=path + ("config",),
                            fix=f"use only declared keys: {declared}") from error
        raise SpecError(f"{cls.__name__} rejected its config: {message}", file=file,
                        path=path + ("config",), fix="correct the config value named above") from error


def _check_wire(wire, *, file, path) -> None:
    """A wire is a store name or a list of store names (``'..'`` goes up one level)."""
    parts = wire if isinstance(wire, (list, tuple)) else [wire]
    bad = [p for p in parts if isinstance(p, bool) or not isinstance(p, (str, int))]
    if bad or not parts:
        what = f"contains {bad[0]!r}" if bad else "is empty"
        raise SpecError(f"the wire {wire!r} {what}; a wire is a store path", file=file,
                        path=path, fix="write a list of store names, e.g. [cells, mrna] (use "
                                       "'..' to go up a level)")


def _check_wire_target(state, target, *, file, path) -> None:
    """Every store above the wire's target that the spec defines is a mapping (a store that
    holds a value cannot hold the port's store inside it)."""
    node = state
    for depth, part in enumerate(target[:-1]):
        if not isinstance(node, dict) or part not in node:
            return
        node = node[part]
        if not isinstance(node, dict):
            above = "/".join(map(str, target[:depth + 1]))
            raise SpecError(f"the wire to {'/'.join(map(str, target))} passes through store "
                            f"{above!r}, which holds the value {node!r}, not a mapping of stores",
                            file=file, path=path,
                            fix=f"make {above} a mapping (e.g. `{target[depth]}: {{}}`) or wire "
                                "the port to another store")


def validate_document(document, *, core=None, file=None) -> dict:
    """Check a composite document before it runs; return ``{edge_path: instance}``.

    Checks: process intervals are positive and finite; known process addresses;
    declared config keys; config values the process accepts; wires name existing
    ports and every port is wired; every input reads a store that the spec
    defines or some process writes; all ports wired to one store agree on shape
    and units, and so does an initial value given in the spec.
    Every per-cell store a division step partitions has exactly one division rule among
    the ports wired to it; the rules found are written into that step's ``rules``
    config (the one change made to ``document``, see
    :func:`~.division.resolve_division_rules`).
    """
    core = core if core is not None else default_core()
    check_document_shape(document, file=file)
    check_intervals(document, file=file)
    state = document["state"]
    edges = edge_nodes(state)
    instances = {}
    writers, readers = {}, {}
    # store path -> list of (edge path, port, schema)
    ports_on = {}
    for path, node in edges.items():
        if "_type" not in node:
            # without it both engines take the node for a plain store: nothing would run
            raise SpecError("a process node has no '_type', so the engine would keep it as a "
                            "plain value and never run it", file=file, path=path,
                            fix="add `_type: process` (or step) next to its address")
        if node["_type"] not in EDGE_TYPES:
            raise SpecError(f"a process node has _type {node['_type']!r}", file=file,
                            path=path + ("_type",),
                            fix=f"write `_type: process` (or one of {', '.join(EDGE_TYPES)})")
        unknown = [k for k in node if k not in NODE_KEYS and not str(k).startswith("_")]
        if unknown:
            # the engines ignore them: `intervall: 2` would run at the default interval
            raise SpecError(f"unknown key(s) {unknown} in a process node."
                            f"{suggest(unknown[0], NODE_KEYS)}", file=file,
                            path=path + (unknown[0],),
                            fix=f"a process node has only {', '.join(NODE_KEYS)}; put process "
                                "parameters under config:")
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
            if not isinstance(wires, dict):
                raise SpecError(f"'{direction}' must map each port to a store path, got "
                                f"{type(wires).__name__} {wires!r}", file=file,
                                path=path + (direction,),
                                fix=f"write `{direction}: {{port: [store, path]}}`; the ports of "
                                    f"{cls.__name__} are {sorted(ports)}")
            for port in wires:
                if port not in ports:
                    raise SpecError(
                        f"{cls.__name__} has no {direction[:-1]} port {port!r}."
                        f"{suggest(port, ports)}", file=file, path=path + (direction, port),
                        fix=f"its {direction} are {sorted(ports)}")
            for port, schema in ports.items():
                if port not in wires:
                    raise SpecError(
                        f"{direction[:-1]} port {port!r} of {cls.__name__} is not wired",
                        file=file, path=path + (direction,),
                        fix=f"add `{port}: [<store path>]` under {direction}")
                _check_wire(wires[port], file=file, path=path + (direction, port))
                target = resolve_wire(path, wires[port])
                _check_wire_target(state, target, file=file, path=path + (direction, port))
                ports_on.setdefault(target, []).append((path, port, schema))
                (writers if direction == "outputs" else readers).setdefault(target, []).append(
                    (path, port))
    all_stores = leaf_store_paths(state)
    for target, users in readers.items():
        _, present = lookup_path(state, target)
        if present or target in writers:
            continue
        known = sorted({"/".join(map(str, p)) for p in list(writers) + all_stores})
        path, port = users[0]
        name = "/".join(map(str, target))
        raise SpecError(
            f"input {port!r} of {'/'.join(map(str, path))} reads store {name!r}, which the spec "
            f"does not define and no process writes.{suggest(name, known)}",
            file=file, path=path + ("inputs", port),
            fix=f"wire it to an existing store ({', '.join(known) or 'none yet'}) or define "
                f"{name} in the state")
    for target, users in ports_on.items():
        _check_store_agreement(state, target, users, file)
    resolve_division_rules(edges, instances, ports_on, file=file)
    return instances


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
    value, present = lookup_path(state, target)
    if present and shape0 is not None and value is not None and not isinstance(value, dict):
        got = np.shape(value)
        if got != shape0:
            raise SpecError(f"initial value of store {name!r} has shape {got}, but {who0} expects "
                            f"{shape0}", file=file, path=target,
                            fix=f"give an array of shape {shape0}, or remove the value to start "
                                "from the process's own initial state")
