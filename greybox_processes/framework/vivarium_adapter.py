"""Run greybox's process-bigraph processes under vivarium-core.

:func:`to_vivarium` turns a process-bigraph ``Process`` class into a
vivarium-core ``Process`` class that holds an instance of the original and
forwards to it, so the physics lives in one place and both engines run the
same code. :func:`vivarium_engine` builds a vivarium-core ``Engine`` from the
same composite document that process-bigraph runs.

Update semantics are mapped from the store's type, not from the process:
process-bigraph adds an update to an ``array``/``float``/``integer`` store, so
those ports get vivarium's ``accumulate`` updater; ``overwrite[...]`` stores get
``set``. The arithmetic is then the same in both engines (``old + delta``), which
is what makes their trajectories identical.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..errors import SpecError
from .division import vivarium_divider
from .document import is_edge_node
from .ports import port_divide
from .registry import default_core, resolve_process_class

__all__ = ["to_vivarium", "vivarium_engine", "updater_for"]

_ACCUMULATING = {"array", "float", "integer", "number"}
#: vivarium updater for ``map[float]``-like stores (process-bigraph adds a map update key by key)
MAP_ACCUMULATE = "greybox_accumulate_map"


def _accumulate_map(current_value, new_value):
    """Key-by-key ``old + delta`` of a map store; a key the store lacks starts at zero."""
    merged = dict(current_value or {})
    for key, delta in (new_value or {}).items():
        merged[key] = merged.get(key, 0) + delta
    return merged


def _register_map_updater() -> str:
    from vivarium.core.registry import updater_registry
    if MAP_ACCUMULATE not in updater_registry.registry:
        updater_registry.register(MAP_ACCUMULATE, _accumulate_map)
    return MAP_ACCUMULATE


def updater_for(schema) -> str:
    """The vivarium updater equivalent to process-bigraph's apply for ``schema``."""
    type_name = schema.get("_type") if isinstance(schema, dict) else schema
    type_name = str(type_name or "")
    if type_name.startswith("overwrite"):
        return "set"
    base = type_name.split("[", 1)[0].split("{", 1)[0]
    if base in _ACCUMULATING:
        return "accumulate"
    if base == "map" and "[" in type_name:
        # map[float] and the like: process-bigraph applies the value type's add key by key,
        # so a process writing deltas to a map needs the same under vivarium-core
        value_type = type_name.split("[", 1)[1].rsplit("]", 1)[0].strip()
        if value_type.split("[", 1)[0] in _ACCUMULATING - {"array"}:
            return _register_map_updater()
    return "set"


@functools.lru_cache(maxsize=None)
def to_vivarium(process_class):
    """A vivarium-core Process class that runs ``process_class`` (process-bigraph).

    The returned class takes the process-bigraph config as its parameters,
    plus vivarium's ``time_step`` and an optional ``core``.
    """
    from process_bigraph import Step as PBGStep
    from vivarium.core.process import Process as VivariumProcess
    from vivarium.core.process import Step as VivariumStep

    is_step = issubclass(process_class, PBGStep)
    base = VivariumStep if is_step else VivariumProcess

    def __init__(self, parameters=None):
        parameters = dict(parameters or {})
        core = parameters.pop("core", None)
        time_step = parameters.pop("time_step", 1.0)
        if core is None:
            core = default_core()
        self.inner = process_class(parameters, core=core)
        base.__init__(self, {"time_step": time_step, "_original_parameters": dict(parameters)})

    def ports_schema(self):
        inputs = self.inner.inputs() or {}
        outputs = self.inner.outputs() or {}
        initial = self.inner.initial_state() or {}
        ports = {}
        for port in {**inputs, **outputs}:
            schema = outputs.get(port, inputs.get(port))
            entry = {"_updater": updater_for(schema), "_emit": True}
            divider = vivarium_divider(port_divide(schema))
            if divider:  # a per-cell store: vivarium-core learns its partition rule too
                entry["_divider"] = divider
            # only a process's own initial state is a default: a made-up default (zeros)
            # for a port it merely reads would overwrite another process's initial value
            if port in initial:
                entry["_default"] = initial[port]
            ports[port] = entry
        return ports

    if is_step:
        def next_update(self, timestep, states):
            return self.inner.update(states)
    else:
        def next_update(self, timestep, states):
            return self.inner.update(states, timestep)

    namespace = {
        "__init__": __init__,
        "ports_schema": ports_schema,
        "next_update": next_update,
        "defaults": {},
        "name": process_class.__name__,
        "__doc__": f"vivarium-core adapter of {process_class.__module__}.{process_class.__name__}.",
        "__module__": __name__,
        "pbg_class": process_class,
    }
    return type(f"Vivarium{process_class.__name__}", (base,), namespace)


def _copy_tree(value):
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _array_ram_emitter():
    """vivarium-core emitter that keeps arrays as arrays.

    vivarium-core's own RAM emitter serializes every emitted value (numpy arrays
    to nested lists), which at 2700 cells x 100 genes costs more per tick than
    the rest of the engine; this one stores copies of the arrays instead.
    """
    from vivarium.core.emitter import Emitter
    from vivarium.core.registry import emitter_registry

    class ArrayRAMEmitter(Emitter):
        def __init__(self, config):
            super().__init__(config)
            self.saved_data = {}

        def emit(self, data):
            if data["table"] != "history":
                return
            emit_data = dict(data["data"])
            time = emit_data.pop("time", None)
            self.saved_data[time] = _copy_tree(emit_data)

        def get_data(self, query=None):
            return self.saved_data

    if "greybox_arrays" not in emitter_registry.registry:
        emitter_registry.register("greybox_arrays", ArrayRAMEmitter)
    return "greybox_arrays"


def _edges_and_stores(state, path=()):
    """Split a document's state tree into edge nodes and plain stores."""
    edges, stores = {}, {}
    for key, value in (state or {}).items():
        here = path + (key,)
        if is_edge_node(value):
            edges[here] = value
        elif isinstance(value, dict) and not any(str(k).startswith("_") for k in value):
            sub_edges, sub_stores = _edges_and_stores(value, here)
            edges.update(sub_edges)
            if sub_stores or not value:
                stores[key] = sub_stores
        elif not str(key).startswith("_"):
            stores[key] = value
    return edges, stores


def _nest(tree: dict, path, value):
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def vivarium_engine(document, core, *, emitter: str | None = None, progress_bar: bool = False):
    """A vivarium-core ``Engine`` equivalent to the process-bigraph composite ``document``.

    Emitter steps of the document are dropped (vivarium-core emits by itself); by
    default the engine emits to an in-memory emitter that keeps arrays as arrays.
    """
    from vivarium.core.engine import Engine

    state = document["state"]
    edges, stores = _edges_and_stores(state)
    processes: dict[str, Any] = {}
    topology: dict[str, Any] = {}
    for path, node in edges.items():
        cls = resolve_process_class(node.get("address", ""), core, path=path)
        if getattr(cls, "__name__", "").endswith("Emitter"):
            continue
        config = dict(node.get("config") or {})
        config["time_step"] = float(node.get("interval", 1.0))
        config["core"] = core
        instance = to_vivarium(cls)(config)
        wires = {}
        for direction in ("inputs", "outputs"):
            for port, wire in (node.get(direction) or {}).items():
                target = tuple(wire) if isinstance(wire, (list, tuple)) else (wire,)
                if port in wires and wires[port] != target:
                    raise SpecError(
                        f"port {port!r} is wired to {list(wires[port])} as an input and to "
                        f"{list(target)} as an output; vivarium-core has one namespace per port",
                        path=path + (direction, port),
                        fix="wire the input and the output of a port to the same store")
                wires[port] = target
        _nest(processes, path, instance)
        _nest(topology, path, wires)
    return Engine(processes=processes, topology=topology, initial_state=stores,
                  emitter=emitter or _array_ram_emitter(), progress_bar=progress_bar,
                  display_info=False)
