"""Save a running composite to a folder and resume it bit-identically, under either engine.

A checkpoint holds what a fresh simulation built from the same document does not
already have: the store values, the simulated time, the scheduler's front and, for each
process instance, the attributes that change while it runs (random keys such as
``self._key``, ``Intervened``'s ``time``/``applied``, the inner process of a wrapper).
Attributes that cannot be pickled (jit-compiled functions, kernel caches) are left out:
the fresh instance re-creates them from its config, which is why a resume needs the
same spec, parameters and overrides as the run that wrote the checkpoint.

Under process-bigraph the simulation is a ``Composite`` (its ``state`` tree and
``front``); under vivarium-core it is the ``Engine`` of
:func:`~.vivarium_adapter.vivarium_engine`: the leaf values of its store tree, its
``global_time``, the time of each process in its ``front`` (no update is pending
between the intervals the run loop advances), and the runtime state of the
process-bigraph instance each adapter wraps. A checkpoint names the engine that wrote
it and only resumes under the same one.
"""
from __future__ import annotations

import copy
import logging
import pickle
from pathlib import Path

from ..errors import SpecError

__all__ = ["CHECKPOINT_FILE", "load_checkpoint", "save_checkpoint"]

logger = logging.getLogger(__name__)
CHECKPOINT_FILE = "checkpoint.pkl"
FORMAT = 1
# attributes every instance gets again from its constructor (and that may not pickle)
_SKIP = {"core"}


def _is_process(value) -> bool:
    from bigraph_schema.edge import Edge

    return isinstance(value, Edge)


def _runtime_state(instance) -> dict:
    """``{attribute: value}`` of an instance; nested processes (a wrapper's inner) recurse."""
    saved = {}
    for name, value in vars(instance).items():
        if name in _SKIP or callable(value) and not _is_process(value):
            continue
        if _is_process(value):
            saved[name] = ("process", _runtime_state(value))
            continue
        try:
            saved[name] = ("value", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError, ValueError) as error:
            # a cache of compiled kernels and the like: rebuilt from the config on resume
            logger.debug("checkpoint leaves out %s.%s (%s)", type(instance).__name__, name, error)
    return saved


def _restore_runtime_state(instance, saved: dict):
    for name, (kind, value) in saved.items():
        if kind == "process":
            _restore_runtime_state(getattr(instance, name), value)
        else:
            setattr(instance, name, pickle.loads(value))


def _split_state(state, path=()):
    """(store values, process runtime states) of a composite's state tree, by path."""
    values, processes = {}, {}
    for key, node in state.items():
        here = path + (key,)
        if isinstance(node, dict) and "instance" in node and _is_process(node["instance"]):
            if key != "emitter":  # the emitter's history is the new run's own
                processes[here] = _runtime_state(node["instance"])
        elif isinstance(node, dict):
            sub_values, sub_processes = _split_state(node, here)
            values.update(sub_values)
            processes.update(sub_processes)
        else:
            values[here] = copy.deepcopy(node)
    return values, processes


def _engine_of(simulation) -> str:
    """``'vivarium'`` for a vivarium-core ``Engine``, ``'pbg'`` for a process-bigraph ``Composite``."""
    # a Composite keeps its state as a dict tree, an Engine as a vivarium-core Store
    return "pbg" if isinstance(simulation.state, dict) else "vivarium"


def _split_store(store, path=()):
    """(leaf values, process runtime states) of a vivarium-core store tree, by path.

    A process node holds the vivarium adapter (:func:`~.vivarium_adapter.to_vivarium`):
    what changes while it runs is the process-bigraph instance it wraps (``.inner``).
    """
    values, processes = {}, {}
    for key, child in store.inner.items():
        here = path + (key,)
        if child.inner:
            sub_values, sub_processes = _split_store(child, here)
            values.update(sub_values)
            processes.update(sub_processes)
        elif child.topology or hasattr(child.value, "next_update"):  # a vivarium-core process
            inner = getattr(child.value, "inner", None)
            processes[here] = ({"inner": ("process", _runtime_state(inner))} if _is_process(inner)
                               else _runtime_state(child.value))
        else:
            values[here] = copy.deepcopy(child.value)
    return values, processes


def _snapshot(simulation):
    """(time, store values, process states, front) of either engine's simulation."""
    if _engine_of(simulation) == "vivarium":
        values, processes = _split_store(simulation.state)
        pending = [path for path, advance in simulation.front.items() if advance["update"]]
        if pending:  # the run loop checkpoints between whole intervals, where none is pending
            raise RuntimeError(f"cannot checkpoint with updates pending for {pending}")
        front = {path: advance["time"] for path, advance in simulation.front.items()}
        return float(simulation.global_time), values, processes, front
    values, processes = _split_state(simulation.state)
    return (float(simulation.state["global_time"]), values, processes,
            copy.deepcopy(simulation.front))


def save_checkpoint(folder, composite, *, meta: dict | None = None) -> Path:
    """Write the simulation's full state to ``folder/checkpoint.pkl`` (atomically).

    ``composite`` is a process-bigraph ``Composite`` or a vivarium-core ``Engine``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    time, values, processes, front = _snapshot(composite)
    payload = {"format": FORMAT, "engine": _engine_of(composite), "time": time,
               "values": values, "processes": processes, "front": front,
               "meta": dict(meta or {})}
    target = folder / CHECKPOINT_FILE
    partial = target.with_suffix(".tmp")
    with open(partial, "wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(target)  # a crash while writing keeps the previous checkpoint
    logger.info("checkpoint at t=%s in %s", payload["time"], target)
    return target


def _set(tree, path, value):
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


def _mismatch(target, what, paths):
    return SpecError(f"checkpoint {target} does not match this composite ({what} "
                     f"{['/'.join(map(str, p)) for p in paths]} differ)",
                     fix="resume with the same spec and --set values as the checkpointed run")


def _restore_pbg(target, payload, composite):
    _, processes = _split_state(composite.state)
    missing = sorted(set(payload["processes"]) ^ set(processes), key=str)
    if missing:
        raise _mismatch(target, "processes", missing)
    for path, value in payload["values"].items():
        _set(composite.state, path, value)
    for path, saved in payload["processes"].items():
        node = composite.state
        for part in path:
            node = node[part]
        _restore_runtime_state(node["instance"], saved)
    composite.front = payload["front"]


def _restore_vivarium(target, payload, engine):
    values, processes = _split_store(engine.state)
    for what, saved, fresh in (("processes", payload["processes"], processes),
                               ("stores", payload["values"], values)):
        missing = sorted(set(saved) ^ set(fresh), key=str)
        if missing:
            raise _mismatch(target, what, missing)
    for path, value in payload["values"].items():
        engine.state.get_path(path).value = value
    for path, saved in payload["processes"].items():
        _restore_runtime_state(engine.state.get_path(path).value, saved)
    engine.global_time = payload["time"]
    engine.front = {path: {"time": time, "update": {}} for path, time in payload["front"].items()}


def load_checkpoint(folder, composite, *, meta: dict | None = None) -> float:
    """Put a checkpoint's state into a fresh simulation built from the same document.

    ``composite`` is a process-bigraph ``Composite`` or a vivarium-core ``Engine``, of
    the engine that wrote the checkpoint. Returns the simulated time of the checkpoint.
    Raises :class:`SpecError` when the folder holds no checkpoint, one of another engine
    or one of a different composite.
    """
    target = Path(folder) / CHECKPOINT_FILE
    if not target.is_file():
        raise SpecError(f"no checkpoint in {folder} (expected {target})",
                        fix="give the folder passed to --checkpoint of an earlier run")
    with open(target, "rb") as handle:
        payload = pickle.load(handle)  # our own file: a checkpoint is trusted like a spec
    if payload.get("format") != FORMAT:
        raise SpecError(f"checkpoint {target} has format {payload.get('format')}, expected "
                        f"{FORMAT}", fix="resume with the greybox version that wrote it")
    written_by, engine = payload.get("engine", "pbg"), _engine_of(composite)
    if written_by != engine:
        raise SpecError(f"checkpoint {target} was written by the {written_by!r} engine, this run "
                        f"uses {engine!r}: the engines keep different state",
                        fix=f"resume with --engine {written_by} (engine={written_by!r}), or start "
                            f"a new {engine!r} run without --resume")
    for key in sorted(set(payload["meta"]) & set(meta or {})):
        if payload["meta"][key] != meta[key]:
            raise SpecError(f"checkpoint {target} was written with {key}={payload['meta'][key]!r}"
                            f", this run has {meta[key]!r}",
                            fix="resume with the same spec, engine, --set values and parameters")
    if engine == "vivarium":
        _restore_vivarium(target, payload, composite)
    else:
        _restore_pbg(target, payload, composite)
    return payload["time"]
