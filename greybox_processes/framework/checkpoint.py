"""Save a running process-bigraph composite to a folder and resume it bit-identically.

A checkpoint holds what a fresh ``Composite`` built from the same document does not
already have: the store values, the simulated time, the scheduler's ``front`` and, for
each process instance, the attributes that change while it runs (random keys such as
``self._key``, ``Intervened``'s ``time``/``applied``, the inner process of a wrapper).
Attributes that cannot be pickled (jit-compiled functions, kernel caches) are left out:
the fresh instance re-creates them from its config, which is why a resume needs the
same spec, parameters and overrides as the run that wrote the checkpoint.
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


def save_checkpoint(folder, composite, *, meta: dict | None = None) -> Path:
    """Write the composite's full state to ``folder/checkpoint.pkl`` (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    values, processes = _split_state(composite.state)
    payload = {"format": FORMAT, "time": float(composite.state["global_time"]),
               "values": values, "processes": processes,
               "front": copy.deepcopy(composite.front), "meta": dict(meta or {})}
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


def load_checkpoint(folder, composite, *, meta: dict | None = None) -> float:
    """Put a checkpoint's state into a fresh composite built from the same document.

    Returns the simulated time of the checkpoint. Raises :class:`SpecError` when the
    folder holds no checkpoint or one of a different composite.
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
    for key in sorted(set(payload["meta"]) & set(meta or {})):
        if payload["meta"][key] != meta[key]:
            raise SpecError(f"checkpoint {target} was written with {key}={payload['meta'][key]!r}"
                            f", this run has {meta[key]!r}",
                            fix="resume with the same spec, engine, --set values and parameters")
    _, processes = _split_state(composite.state)
    missing = sorted(set(payload["processes"]) ^ set(processes))
    if missing:
        raise SpecError(f"checkpoint {target} does not match this composite (processes "
                        f"{['/'.join(map(str, p)) for p in missing]} differ)",
                        fix="resume with the same spec and --set values as the checkpointed run")
    for path, value in payload["values"].items():
        _set(composite.state, path, value)
    for path, saved in payload["processes"].items():
        node = composite.state
        for part in path:
            node = node[part]
        _restore_runtime_state(node["instance"], saved)
    composite.front = payload["front"]
    return payload["time"]
