"""Learning the grey box's lac bias from measured lags: the population runs.

The pure parts (reading the lags, the fit, leave-one-strain-out, the shipped bias) are in
:mod:`greybox_processes.neural.lac_lag_learning`, which explains what is learned and what is
held out; this module runs ``ecoli_grey_box`` at a grid of biases (:func:`lag_curve`) and
writes the training report (:func:`train_lac_lags`, ``greybox train-grey-box-lags``).
"""
from __future__ import annotations

import json
import logging
import time as wallclock
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..framework.run import run
from ..metabolism.population_process import LACTOSE_MW, percent_to_mM
from ..neural.lac_lag_learning import (DEFAULT_OFFSETS, LAG_FILE, REPORT_NAME, TRAINING_PERCENT,
                                       fit_offset, leave_one_strain_out, read_training_lags,
                                       target_lag)
from ..neural.composites import CONTROLLER_WEIGHTS
from ..neural.networks import WEIGHTS_DIR, load_weights, weights_fingerprint
from .cells import ecoli_grey_box
from .composites import LAC_SPECIES
from .lag import population_lag, single_cell_lags

__all__ = ["lag_curve", "train_lac_lags", "LacLagReport", "controller_record"]

log = logging.getLogger(__name__)


def _population(offset, *, iptg=False, percent, initial_cells, capacity, seed, model, weights):
    return ecoli_grey_box(iptg=iptg, capacity=capacity, initial_cells=initial_cells, seed=seed,
                          model=model, initial_lactose=percent_to_mM(percent, LACTOSE_MW),
                          lac_bias=float(offset), weights=weights)


def controller_record(weights: str = CONTROLLER_WEIGHTS) -> dict:
    """What the bias is learned on: the controller weights' name, fingerprint (checked by
    :func:`~greybox_processes.neural.lac_lag_learning.learned_offset`) and pre-training."""
    header, _ = load_weights(weights)
    return {"weights": str(weights), "fingerprint": weights_fingerprint(weights),
            "pre_training": {k: header.get(k) for k in ("training", "trained_on", "held_out",
                                                        "command")}}


def lag_curve(offsets=DEFAULT_OFFSETS, *, percent: float = TRAINING_PERCENT,
              initial_cells: int = 4, capacity: int = 1024, minutes: float = 420.0,
              seed: int = 0, model: str = "iJO1366", weights: str = CONTROLLER_WEIGHTS,
              progress: bool = True) -> pd.DataFrame:
    """Population lag of ``ecoli_grey_box`` at each decoder bias (one IPTG reference, one seed).

    Columns: ``offset``, ``lag_min`` (inf where the population never recovers within the run),
    ``no_lacy_share`` (cells without LacY at the shift), ``cells_at_shift``, ``wall_s``.
    """
    kwargs = dict(percent=percent, initial_cells=initial_cells, capacity=capacity, seed=seed,
                  model=model, weights=weights)
    reference = run(_population(0.0, iptg=True, **kwargs), minutes, progress=False)
    lacy = list(LAC_SPECIES).index("lacY")
    rows = []
    for offset in tqdm(list(offsets), desc="lag vs lac bias", disable=not progress):
        started = wallclock.perf_counter()
        experiment = run(_population(offset, **kwargs), minutes, progress=False)
        try:
            lag = population_lag(experiment, reference).lag_min
            cells = single_cell_lags(experiment, lacy_index=lacy)
            share, at_shift = float((cells.lacy_at_shift == 0).mean()), len(cells)
        except ValueError as error:  # no recovery (or no shift) within the run
            log.info("offset %g: %s", offset, error)
            lag, share, at_shift = np.inf, np.nan, 0
        rows.append({"offset": float(offset), "lag_min": float(lag), "no_lacy_share": share,
                     "cells_at_shift": at_shift,
                     "wall_s": wallclock.perf_counter() - started})
        log.info("offset %g: population lag %.1f min", offset, lag)
    return pd.DataFrame(rows)


@dataclass
class LacLagReport:
    """What :func:`train_lac_lags` learned and how it was judged."""

    offset: float
    target_min: float
    curve: pd.DataFrame
    held_out: pd.DataFrame
    file: Path | None
    wall_s: float


def train_lac_lags(out=None, shared=None, *, offsets=DEFAULT_OFFSETS, initial_cells: int = 4,
                   capacity: int = 1024, minutes: float = 420.0, seed: int = 0,
                   model: str = "iJO1366", weights: str = CONTROLLER_WEIGHTS,
                   command: str = "", progress: bool = True) -> LacLagReport:
    """Learn the decoder's lac bias from the measured lags (Julou et al.'s table under
    ``shared``, default ``../shared``) and write the report into ``out``: a folder, default
    the package's ``neural/weights`` (which ``ecoli_grey_box`` reads); ``False`` writes nothing."""
    started = wallclock.perf_counter()
    shared = Path(shared) if shared is not None else Path("..") / "shared"
    data = shared / LAG_FILE
    lags = read_training_lags(data)
    target = target_lag(lags)
    curve = lag_curve(offsets, initial_cells=initial_cells, capacity=capacity, minutes=minutes,
                      seed=seed, model=model, weights=weights, progress=progress)
    offset = fit_offset(curve, target)
    zero = curve.offset == 0.0
    untrained = float(curve.loc[zero, "lag_min"].iloc[0]) if zero.any() else None
    held_out = leave_one_strain_out(curve, lags, untrained_lag=untrained)
    wall = wallclock.perf_counter() - started
    file = None
    if out is not False:
        folder = WEIGHTS_DIR if out is None else Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / REPORT_NAME
        report = {
            "what": "PopulationController.induction_offset: the decoder's lac bias (logit), "
                    "learned from measured population lags",
            "induction_offset": offset,
            "data": {"file": str(LAG_FILE), "lactose_pct": TRAINING_PERCENT,
                     "strains": list(lags.strain), "lags_min": list(lags.lag_min),
                     "target": "inverse-variance weighted mean", "target_min": target},
            "held_out": {"conditions": "every lactose level but 0.02% (the benchmark's; not "
                                       "in refdata, never read)",
                         "leave_one_strain_out": held_out.to_dict(orient="list")},
            "in_sample": "the 0.02% lag of the shipped grey box (the training condition)",
            "pre_training": "the controller's weights were trained on glass-box trajectories; "
                            "only the bias is learned from data",
            "controller": controller_record(weights),
            "simulation": {"composite": "ecoli_grey_box", "model": model, "seed": seed,
                           "initial_cells": initial_cells, "capacity": capacity,
                           "minutes": minutes},
            "curve": curve.to_dict(orient="list"),
            "command": command or "greybox train-grey-box-lags",
            "wall_s": wall,
        }
        file.write_text(json.dumps(report, indent=1, default=float) + "\n", encoding="utf-8")
    return LacLagReport(offset, target, curve, held_out, file, wall)
