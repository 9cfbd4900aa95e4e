"""Run a composite under process-bigraph or vivarium-core and get an xarray Dataset back.

Both engines run the same document: process-bigraph builds a ``Composite`` from
``{'state': ...}``; vivarium-core runs the same process classes through the
adapter in :mod:`.vivarium_adapter`. Progress is shown with tqdm. If a run
fails part-way, the error carries (and ``out`` receives) what was emitted so far.
"""
from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time as wallclock
from typing import Any, Mapping

import numpy as np
from tqdm.auto import tqdm

from ..errors import GreyboxError, SimulationError, SpecError
from .checkpoint import load_checkpoint, save_checkpoint
from .document import edge_nodes
from .document import resolve_wire as _resolve_wire
from .loading import build_document
from .registry import default_core
from .results import to_dataset, write_zarr
from .validation import check_intervals, validate_document
from .vivarium_adapter import vivarium_engine

__all__ = ["ENGINES", "MAX_STEPS_WARN", "RunInterrupted", "run", "sigterm_as_interrupt"]

logger = logging.getLogger(__name__)
ENGINES = ("pbg", "vivarium")
#: kernel steps per interval above which a process is reported before the run starts: a
#: signal is only seen between intervals, so one huge interval cannot be interrupted
MAX_STEPS_WARN = 1_000_000


class RunInterrupted(SimulationError):
    """The run was interrupted (Ctrl-C or SIGTERM); ``.partial`` holds what was emitted.

    ``.time`` is the simulated time reached. It is a :class:`SimulationError` so that
    callers that keep a failed run's partial results keep these too.
    """

    def __init__(self, message: str, *, time: float = 0.0, signal_name: str = "SIGINT"):
        super().__init__(message)
        self.time = time
        self.signal_name = signal_name


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
    """Whole ticks up to ``total`` (a remainder shorter than a tick would advance nothing)."""
    n = max(1, math.floor(total / step + 1e-9))
    for _ in range(n):
        yield step


def _check_time(time: float, tick: float) -> float:
    """The simulated time the run will reach: whole ticks; error if not even one tick fits."""
    whole = math.floor(time / tick + 1e-9)
    if whole < 1:
        raise ValueError(f"time {time} is shorter than the smallest process interval {tick}: "
                         f"nothing would run; give --time (time=) of at least {tick}")
    reached = whole * tick
    if not math.isclose(reached, time, rel_tol=1e-9, abs_tol=1e-12):
        # processes only fire at whole intervals, so the remainder would be silently dropped
        logger.warning("time %s is not a multiple of the smallest process interval %s: the run "
                       "stops at t=%s (%s short); give a multiple of %s to avoid this",
                       time, tick, reached, time - reached, tick)
    return reached


def _planned_steps(instance, interval: float):
    """Kernel steps ``instance`` plans per ``interval``, or ``None`` if it does not say."""
    steps = getattr(instance, "_steps", None)  # RDME: (n_steps, dt), dt chosen automatically
    try:
        if callable(steps):
            return int(steps(interval)[0])
        config = getattr(instance, "config", None) or {}
        dt = config.get("dt") if isinstance(config, Mapping) else None
        if isinstance(dt, (int, float)) and dt > 0:
            return round(interval / dt)
    except (ValueError, ArithmeticError, GreyboxError):
        return None  # the process itself reports a bad dt when it runs
    return None


def _warn_long_intervals(document, instances, max_steps_warn: float):
    edges = edge_nodes(document["state"])
    for path, instance in instances.items():
        interval = float(edges[path].get("interval", 1.0))
        steps = _planned_steps(instance, interval)
        if steps is not None and steps > max_steps_warn:
            logger.warning("process %s plans %d kernel steps per interval %s (more than %d): "
                           "a long run: check the time step (RDME advances in chunks, so Ctrl-C "
                           "still stops it within about a second); shorten the interval or set a "
                           "larger dt", "/".join(map(str, path)), steps,
                           interval, int(max_steps_warn))


def _tick(document) -> float:
    intervals = [float(n.get("interval", 1.0)) for n in edge_nodes(document["state"]).values()
                 if n.get("_type", "process") == "process" and "interval" in n]
    return min(intervals) if intervals else 1.0


def _get(tree, path):
    for part in path:
        tree = tree[part]
    return tree


def _restart_emission(simulation, engine):
    """Drop what a fresh simulation emitted at t=0 once a checkpoint put it at a later time."""
    if engine == "pbg":
        # the fresh t=0 row; Composite.run() emits the resumed starting state by itself
        simulation.state["emitter"]["instance"].history.clear()
    else:
        # vivarium-core emits only at construction and after updates: emit the resumed state
        simulation.emitter.saved_data.clear()
        simulation._emit_store_data()


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


def _maps_per_time(columns: Mapping, n_times: int) -> list:
    """``{key: [v0, v1, ...]}`` (nested) as ``[{key: v0}, {key: v1}, ...]``."""
    rows = [{} for _ in range(n_times)]
    for key, column in columns.items():
        if isinstance(column, Mapping):
            column = _maps_per_time(column, n_times)
        for row, value in zip(rows, column):
            row[key] = value if isinstance(value, Mapping) else np.asarray(value)
    return rows


def _run_vivarium(document, core, time, stores, progress):
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
            if isinstance(values, Mapping):
                # vivarium-core's timeseries turns a map store into {key: [value at each time]};
                # back to one map per time, as process-bigraph records it (to_dataset splits it)
                values = _maps_per_time(values, len(times))
            series[path] = [v if isinstance(v, Mapping) else np.asarray(v) for v in values]
        return times, series

    return engine, collect, lambda dt: engine.update(dt)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run loop can keep what was emitted (see sigterm_as_interrupt)."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While active, SIGTERM interrupts a run like Ctrl-C does (partial results are kept).

    Only the main thread can install signal handlers; elsewhere this does nothing. The
    previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_params_apply(spec, params):
    """``params`` fill a spec's declared parameters; a plain document has none to fill."""
    from process_bigraph import CompositeSpec

    if params and isinstance(spec, Mapping) and not isinstance(spec, CompositeSpec):
        raise SpecError(f"params {sorted(params)} given with a document dict, which has no "
                        "declared parameters: they would be ignored",
                        path=("parameters",),
                        fix="pass a CompositeSpec or a YAML spec path to use params, or change "
                            "the values with overrides={'dotted.path': value}")


def run(spec, time: float, *, engine: str = "pbg", params: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        interventions: Mapping[str, Any] | None = None, out=None, progress: bool = True,
        core=None, max_steps_warn: float = MAX_STEPS_WARN, checkpoint=None,
        checkpoint_every: int = 1, resume=None):
    """Run a composite for ``time`` and return its trajectories as an xarray Dataset.

    Parameters
    ----------
    spec : path to a YAML spec, a ``CompositeSpec`` or a document ``{'state': ...}``.
    time : simulated time to run (in the processes' time units). Processes fire at whole
        intervals, so the run stops at the last whole multiple of the smallest interval
        (a warning says so when ``time`` is not a multiple); a ``time`` shorter than the
        smallest interval is an error.
    engine : ``'pbg'`` (process-bigraph) or ``'vivarium'`` (vivarium-core).
    params, overrides, interventions : see
        :func:`~greybox_processes.framework.spec.build_document`. ``params`` need a spec
        with declared parameters (a YAML path or a ``CompositeSpec``).
    out : optional path of a zarr store to write the Dataset to.
    progress : show a tqdm progress bar.
    max_steps_warn : log a warning before the run for a process that plans more kernel
        steps than this per interval (such an interval cannot be interrupted).
    checkpoint, checkpoint_every : a folder to save the full state to every
        ``checkpoint_every`` smallest intervals (either engine), see :mod:`.checkpoint`.
    resume : a checkpoint folder to continue from; ``time`` is then the end time (the run
        goes from the checkpoint's time to ``time``) and the result starts at the
        checkpoint's time. Give the same spec, params, overrides and engine as the
        checkpointed run; the continuation is bit-identical to an uninterrupted run.

    Raises
    ------
    SpecError
        The spec cannot be built (before anything runs).
    SimulationError
        The run failed; ``error.partial`` holds the Dataset emitted so far (also
        written to ``out`` when given).
    RunInterrupted
        Ctrl-C (or SIGTERM under :func:`sigterm_as_interrupt`) stopped the run;
        ``.partial`` and ``out`` as for a failure, ``.time`` the time reached.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not (isinstance(time, (int, float)) and time > 0 and math.isfinite(time)):
        raise ValueError(f"time must be a positive number, got {time!r}")
    _check_params_apply(spec, params)
    if not (isinstance(checkpoint_every, int) and checkpoint_every >= 1):
        raise ValueError(f"checkpoint_every must be a whole number >= 1, got {checkpoint_every!r}")
    try:  # a signal while building or compiling: nothing was emitted yet
        core = core if core is not None else default_core()
        document = build_document(spec, params=params, overrides=overrides,
                                  interventions=interventions, core=core, validate=False)
        source = getattr(spec, "source_file", None) or (
            str(spec) if not isinstance(spec, Mapping) and not hasattr(spec, "to_document")
            else None)
        check_intervals(document, file=source)
        tick = _tick(document)
        reached = _check_time(time, tick)
        instances = validate_document(document, core=core, file=source)
        _warn_long_intervals(document, instances, max_steps_warn)
        stores = _recorded_stores(document, instances)
        runner = _run_pbg if engine == "pbg" else _run_vivarium
        simulation, collect, advance = runner(document, core, time, stores, progress)
        attrs = {"engine": engine, "spec": source or "<python>", "params": dict(params or {}),
                 "overrides": {k: v for k, v in (overrides or {}).items()}}
        meta = {"engine": engine, "spec": attrs["spec"],
                "params": repr(sorted(attrs["params"].items())),
                "overrides": repr(sorted(attrs["overrides"].items()))}
        start = 0.0
        if resume is not None:
            start = load_checkpoint(resume, simulation, meta=meta)
            _restart_emission(simulation, engine)
            if time - start < tick * (1 - 1e-9):
                raise ValueError(f"time {time} is the end time of a resumed run and must exceed the "
                                 f"checkpoint's time {start} by at least one interval {tick}")
            reached = start + _check_time(time - start, tick)
    except KeyboardInterrupt as error:
        name = "SIGTERM" if isinstance(error, _Terminated) else "SIGINT"
        interrupted = RunInterrupted(f"interrupted ({name}) before the first interval, while "
                                     "building the composite; nothing was emitted",
                                     time=0.0, signal_name=name)
        interrupted.partial = None
        raise interrupted from error
    started = wallclock.perf_counter()
    bar = tqdm(total=reached - start, disable=not progress, desc=f"greybox [{engine}]", unit="t")
    try:
        for number, size in enumerate(_chunks(time - start, tick), start=1):
            advance(size)
            bar.update(size)
            if checkpoint is not None and number % checkpoint_every == 0:
                save_checkpoint(checkpoint, simulation, meta=meta)
    except KeyboardInterrupt as error:
        # Ctrl-C/SIGTERM between (or inside) intervals: keep what was emitted, like a failure
        partial = _finish(collect, stores, attrs, out)
        now = float(partial.time.values[-1]) if partial.sizes.get("time") else 0.0
        name = "SIGTERM" if isinstance(error, _Terminated) else "SIGINT"
        interrupted = RunInterrupted(f"interrupted ({name}) at t={now:g}, "
                                     f"{partial.sizes.get('time', 0)} time points emitted",
                                     time=now, signal_name=name)
        interrupted.partial = partial
        raise interrupted from error
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
