"""Run a composite under process-bigraph or vivarium-core and get an xarray Dataset back.

Both engines run the same document: process-bigraph builds a ``Composite`` from
``{'state': ...}``; vivarium-core runs the same process classes through the
adapter in :mod:`.vivarium_adapter`. Progress is shown with tqdm. If a run
fails part-way, the error carries (and ``out`` receives) what was emitted so far.
"""
from __future__ import annotations

import logging
import math
import time as wallclock
from typing import Any, Mapping

import numpy as np
from tqdm.auto import tqdm

from ..errors import GreyboxError, SimulationError
from .results import to_dataset, write_zarr
from .spec import _resolve_wire, build_document, default_core, edge_nodes, validate_document

__all__ = ["run", "ENGINES"]

logger = logging.getLogger(__name__)
ENGINES = ("pbg", "vivarium")


def _recorded_stores(document, instances):
    """Store paths wired to any process port, with the metadata of the first port seen."""
    stores = {}
    edges = edge_nodes(document["state"])
    for path, instance in instances.items():
        node = edges[path]
        meta = instance.port_metadata() if hasattr(instance, "port_metadata") else {}
        schemas = {**(instance.inputs() or {}), **(instance.outputs() or {})}
        for direction in ("outputs", "inputs"):
            for port, wire in (node.get(direction) or {}).items():
                target = _resolve_wire(path, wire)
                entry = dict(meta.get(port, {}))
                schema = schemas.get(port, {})
                if isinstance(schema, dict) and schema.get("_units") and not entry.get("units"):
                    entry["units"] = schema["_units"]
                stores.setdefault(target, entry)
    return stores


def _chunks(total: float, step: float):
    n = max(1, int(math.ceil(total / step - 1e-9)))
    done = 0.0
    for i in range(n):
        size = min(step, total - done)
        done += size
        yield size


def _tick(document) -> float:
    intervals = [float(n.get("interval", 1.0)) for n in edge_nodes(document["state"]).values()
                 if n.get("_type", "process") == "process" and "interval" in n]
    return min(intervals) if intervals else 1.0


def _get(tree, path):
    for part in path:
        tree = tree[part]
    return tree


def _run_pbg(document, core, time, stores, progress):
    from process_bigraph import Composite
    from process_bigraph.emitter import install_emitters

    # the declared-emitter helper names each column by its path joined with '_'
    names = {"_".join(map(str, p)): p for p in stores}
    state = install_emitters(
        document["state"],
        [{"address": "local:RAMEmitter", "paths": ["/".join(map(str, p)) for p in stores]}],
        core=core)
    composite = Composite({**document, "state": state}, core=core)
    emitter = composite.state["emitter"]["instance"]

    def collect():
        times, series = [], {p: [] for p in stores}
        for row in emitter.history:
            now = float(row["global_time"])
            if times and now == times[-1]:
                # each Composite.run() call re-emits its starting state: keep one row per time
                times.pop()
                for values in series.values():
                    if values:
                        values.pop()
            times.append(now)
            for key, value in row.items():
                path = names.get(key)
                if path is not None:
                    series[path].append(np.array(value, copy=True))
        return times, series

    return composite, collect, lambda dt: composite.run(dt)


def _run_vivarium(document, core, time, stores, progress):
    from .vivarium_adapter import vivarium_engine

    engine = vivarium_engine(document, core)

    def collect():
        timeseries = engine.emitter.get_timeseries()
        times = [float(t) for t in timeseries.get("time", [])]
        series = {}
        for path in stores:
            try:
                values = _get(timeseries, path)
            except (KeyError, TypeError):
                continue
            series[path] = [np.asarray(v) for v in values]
        return times, series

    return engine, collect, lambda dt: engine.update(dt)


def run(spec, time: float, *, engine: str = "pbg", params: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        interventions: Mapping[str, Any] | None = None, out=None, progress: bool = True,
        core=None):
    """Run a composite for ``time`` and return its trajectories as an xarray Dataset.

    Parameters
    ----------
    spec : path to a YAML spec, a ``CompositeSpec`` or a document ``{'state': ...}``.
    time : simulated time to run (in the processes' time units).
    engine : ``'pbg'`` (process-bigraph) or ``'vivarium'`` (vivarium-core).
    params, overrides, interventions : see
        :func:`~greybox_processes.framework.spec.build_document`.
    out : optional path of a zarr store to write the Dataset to.
    progress : show a tqdm progress bar.

    Raises
    ------
    SpecError
        The spec cannot be built (before anything runs).
    SimulationError
        The run failed; ``error.partial`` holds the Dataset emitted so far (also
        written to ``out`` when given).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not (isinstance(time, (int, float)) and time > 0 and math.isfinite(time)):
        raise ValueError(f"time must be a positive number, got {time!r}")
    core = core if core is not None else default_core()
    document = build_document(spec, params=params, overrides=overrides,
                              interventions=interventions, core=core, validate=False)
    source = getattr(spec, "source_file", None) or (str(spec) if not isinstance(spec, Mapping)
                                                     and not hasattr(spec, "to_document") else None)
    instances = validate_document(document, core=core, file=source)
    stores = _recorded_stores(document, instances)
    runner = _run_pbg if engine == "pbg" else _run_vivarium
    _, collect, advance = runner(document, core, time, stores, progress)
    attrs = {"engine": engine, "spec": source or "<python>", "params": dict(params or {}),
             "overrides": {k: v for k, v in (overrides or {}).items()}}
    tick = _tick(document)
    started = wallclock.perf_counter()
    bar = tqdm(total=time, disable=not progress, desc=f"greybox [{engine}]", unit="t")
    try:
        for size in _chunks(time, tick):
            advance(size)
            bar.update(size)
    except GreyboxError as error:
        partial = _finish(collect, stores, attrs, out)
        error.partial = partial
        raise
    except Exception as error:  # any engine or process failure: keep what was emitted
        partial = _finish(collect, stores, attrs, out)
        wrapped = SimulationError(f"run failed after {len(partial.time)} emitted time points: "
                                  f"{type(error).__name__}: {error}")
        wrapped.partial = partial
        raise wrapped from error
    finally:
        bar.close()
    attrs["wall_time_s"] = wallclock.perf_counter() - started
    return _finish(collect, stores, attrs, out)


def _finish(collect, stores, attrs, out):
    times, series = collect()
    dataset = to_dataset(times, {p: v for p, v in series.items() if len(v) == len(times)},
                         stores, attrs=attrs)
    if out is not None:
        write_zarr(dataset, out)
        logger.info("wrote %s", out)
    return dataset
