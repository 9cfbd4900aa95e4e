"""Many runs of one composite (sweeps, ensembles, screens) on Dask distributed.

Runs are submitted with ``Client.map`` to a ``LocalCluster`` (started for the
call and closed after) or to any ``distributed.Client`` you pass. Each run is a
plain :func:`~greybox_processes.framework.run.run` in a worker; results come back
as one Dataset with a ``run`` dimension, labelled by the varied values.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Mapping, Sequence

import xarray as xr
from tqdm.auto import tqdm

from .loading import load_spec
from .run import run

__all__ = ["run_many"]

logger = logging.getLogger(__name__)


def _one_run(spec, time, engine, params, overrides):
    # run() allocates its core in the worker, so nothing unpicklable is shipped
    return run(spec, time, engine=engine, params=params, overrides=overrides, progress=False)


@contextlib.contextmanager
def _client(client, n_workers):
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as local:
        yield local


def run_many(spec, time: float, variants: Sequence[Mapping[str, Any]], *, engine: str = "pbg",
             client=None, n_workers: int = 2, progress: bool = True) -> xr.Dataset:
    """Run ``spec`` once per variant and stack the results along a ``run`` dimension.

    Parameters
    ----------
    spec : a spec path or a document (it is shipped to the workers).
    time : simulated time of each run.
    variants : one mapping per run; a key that is a declared spec parameter is a
        parameter, any other key a dotted-path override (``'grn.config.seed': 3``).
    client : a ``distributed.Client``; default a LocalCluster of ``n_workers`` processes.
    progress : show a progress bar while runs complete.

    Returns
    -------
    xarray.Dataset with dimensions ``(run, time, ...)`` and one coordinate per
    varied key along ``run``.
    """
    # distributed is imported only here: it is heavy and needed only for many runs
    from distributed import as_completed

    variants = [dict(v) for v in variants]
    if not variants:
        raise ValueError("variants is empty: give one mapping of parameters/overrides per run")
    declared = set()
    if not isinstance(spec, Mapping):
        declared = set(load_spec(spec).parameters)
    split = [({k: v for k, v in var.items() if k in declared},
              {k: v for k, v in var.items() if k not in declared}) for var in variants]
    with _client(client, n_workers) as active:
        futures = active.map(_one_run, [spec] * len(split), [time] * len(split),
                             [engine] * len(split), [p for p, _ in split], [o for _, o in split],
                             pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results = [None] * len(futures)
        for future in tqdm(as_completed(futures), total=len(futures), disable=not progress,
                           desc="greybox runs"):
            results[index[future.key]] = future.result()
    stacked = xr.concat(results, dim="run", coords="minimal", compat="override",
                        combine_attrs="drop_conflicts")
    keys = sorted({k for var in variants for k in var})
    for key in keys:
        stacked = stacked.assign_coords({key: ("run", [var.get(key) for var in variants])})
    return stacked
