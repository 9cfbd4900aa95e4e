"""Checks of a composite document before it runs (:func:`validate_document`).

The engines' own failures for these mistakes are either silent (a wire to a
misspelt store creates a new, empty store) or far from the cause, so every
check raises :class:`~greybox_processes.errors.SpecError` naming the file, the
path inside the document and the fix.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import SpecError
from .document import check_document_shape, edge_nodes, leaf_store_paths, lookup_path, resolve_wire
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
            hints = "".join(suggest(k, declared) for k in bad)
            raise SpecError(f"unknown config key(s) {bad} for {cls.__name__}.{hints}", file=file,
                            path=path + ("config",),
                            fix=f"use only declared keys: {declared}") from error
        raise SpecError(f"{cls.__name__} rejected its config: {message}", file=file,
                        path=path + ("config",), fix="correct the config value named above") from error


def validate_document(document, *, core=None, file=None) -> dict:
    """Check a composite document before it runs; return ``{edge_path: instance}``.

    Checks: process intervals are positive and finite; known process addresses;
    declared config keys; config values the process accepts; wires name existing
    ports and every port is wired; every input reads a store that the spec
    defines or some process writes; all ports wired to one store agree on shape
    and units, and so does an initial value given in the spec.
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
                        f"{suggest(port, ports)}", file=file, path=path + (direction, port),
                        fix=f"its {direction} are {sorted(ports)}")
            for port, schema in ports.items():
                if port not in wires:
                    raise SpecError(
                        f"{direction[:-1]} port {port!r} of {cls.__name__} is not wired",
                        file=file, path=path + (direction,),
                        fix=f"add `{port}: [<store path>]` under {direction}")
                target = resolve_wire(path, wires[port])
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
