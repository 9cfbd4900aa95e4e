"""Tier 3 on a population cell: Julou et al. 2020's lag of the cell's own population.

The definition is tier 3's (:mod:`.t3_diauxie`): the extra delay of the population against the
same population with the lac operon pre-induced (``<lac process>.config.iptg: true``), here
read off the total volume of the live cells (:func:`greybox_processes.ecoli.lag.population_lag`).
It is measured at 0.02% lactose (the score: relative error against the reference lag) and at
0.2% (``initial_lactose`` 5.842 mM), and the report gives both and their direction (Julou et
al. measure a *shorter* lag at 0.2%). Evidence: the single-cell lags
(:func:`greybox_processes.ecoli.lag.single_cell_lags`), their distribution and the share of
long-lag candidates, cells with no LacY when glucose runs out.

Cost: four population runs (two lactose levels, each with its IPTG reference). Full mode
starts ``population_cells`` (8) cells, quick mode ``quick_population_cells`` (1) over
``population_minutes`` / ``quick_population_minutes``; the slots of the per-cell stores grow
by doubling when a run outgrows them (:func:`.population.run_population`).
"""
from __future__ import annotations

import math

import numpy as np

from ...framework.document import resolve_wire
from ...metabolism.composites import LACTOSE_MW, percent_to_mM
from .base import FAIL, PASS, process_nodes
from .population import run_population

__all__ = ["LEVELS", "lac_switch_key", "lag_direction", "learned_lac_bias", "lag_summary", "population_diauxie"]

#: lactose levels of the tier, % w/v (Julou et al. 2020: 0.02% and 0.2%)
LEVELS = (0.02, 0.2)
#: single-cell lag histogram bins, min
_BINS = np.arange(0.0, 241.0, 10.0)
#: ecoli/lag.py reads these dataset names
_LAG_NAMES = {"alive": "cells.alive", "volume": "cells.volume", "lac": "cells.lac",
              "growth_rate": "cells.growth_rate", "glucose": "medium.glucose"}


def lac_switch_key(spec, cell, parameters=None) -> str | None:
    """Dotted override key of the ``iptg`` switch of the process writing the cell's lac
    store (the IPTG reference population), or None when it has none."""
    target = tuple(resolve_wire(cell.path, (cell.node.get("inputs") or {}).get("lac", [])))
    for path, node in process_nodes(spec, parameters).items():
        wires = (node.get("outputs") or {}).values()
        writes = any(tuple(resolve_wire(path, w)) == target for w in wires)
        if writes and path != cell.path and "iptg" in (node.get("config") or {}):
            return ".".join(map(str, path)) + ".config.iptg"
    return None


def learned_lac_bias(spec, parameters=None) -> float:
    """The decoder lac bias (``induction_offset``) a controller node learned from measured
    lags, or 0.0 when the spec has none (with spec ``parameters`` applied)."""
    for node in process_nodes(spec, parameters).values():
        value = (node.get("config") or {}).get("induction_offset")
        if isinstance(value, (int, float)) and value:
            return float(value)
    return 0.0


def lag_direction(lag_low: float, lag_high: float) -> str:
    """``'shorter'`` / ``'longer'`` / ``'equal'`` lag at the higher lactose level."""
    if not (math.isfinite(lag_low) and math.isfinite(lag_high)):
        return "undetermined"
    return "shorter" if lag_high < lag_low else ("longer" if lag_high > lag_low else "equal")


def lag_summary(cells) -> dict:
    """Distribution of single-cell lags (a ``single_cell_lags`` table) for the evidence."""
    lags = cells["lag_min"].to_numpy(dtype=float)
    none = cells["lacy_at_shift"].to_numpy(dtype=float) == 0
    recovered = np.isfinite(lags)

    def median(mask):
        values = lags[mask & recovered]
        return float(np.median(values)) if values.size else float("nan")

    counts, _ = np.histogram(lags[recovered], bins=_BINS)
    return {"cells_at_shift": int(len(lags)),
            "share_no_lacy_at_shift": float(np.mean(none)) if len(lags) else float("nan"),
            "median_lag_no_lacy_min": median(none), "median_lag_with_lacy_min": median(~none),
            "quartiles_lag_min": ([float(q) for q in np.percentile(lags[recovered],
                                                                    [25, 50, 75])]
                                  if recovered.any() else []),
            "not_recovered": int(np.sum(~recovered)),
            "histogram_bins_min": _BINS.tolist(), "histogram_counts": counts.tolist()}


def _renamed(dataset, cell):
    names = {cell.variables[port]: name for port, name in _LAG_NAMES.items()
             if cell.variables.get(port) not in (None, name)}
    return dataset.rename(names) if names else dataset


def population_diauxie(step, cell, observed: float, observed_err: float):
    """Tier 3 of ``step`` (a DiauxieTier) on the population ``cell``; a TierResult."""
    from ...ecoli.lag import population_lag, single_cell_lags

    spec = step.config["spec"]
    key = lac_switch_key(spec, cell, step.spec_parameters())
    if key is None:
        return step.not_applicable("the population's lac store is written by no process with "
                                   "an iptg switch: the pre-induced reference cannot be run")
    quick = step.config["quick"]
    minutes = step.config["quick_population_minutes" if quick else "population_minutes"]
    cells = int(step.config["quick_population_cells" if quick else "population_cells"])
    where = ".".join(map(str, cell.path)) + ".config.initial_lactose"
    lacy = list(cell.config().get("lac_species") or cell.instance().config["lac_species"])
    lacy = lacy.index("lacY")
    evidence = {"observed_lag_min": observed, "observed_err_min": observed_err,
                "initial_cells": cells, "minutes": minutes}
    runs, lags = {}, {}
    for percent in LEVELS:
        lactose = percent_to_mM(percent, LACTOSE_MW)
        changes = {"initial_lactose": lactose}
        experiment, slots = run_population(spec, minutes, cell, initial_cells=cells,
                                           overrides={where: lactose},
                                           metabolism_changes=changes,
                                           runner=step.run_composite)
        reference, _ = run_population(spec, minutes, cell, initial_cells=cells,
                                      overrides={where: lactose, key: True},
                                      metabolism_changes=changes, least_slots=slots,
                                      runner=step.run_composite)
        experiment, reference = _renamed(experiment, cell), _renamed(reference, cell)
        runs[percent] = (experiment, reference)
        label = f"{percent:g}pct"
        try:
            lag = population_lag(experiment, reference)
            table = single_cell_lags(experiment, lacy_index=lacy)
        except ValueError as error:  # e.g. glucose never runs out within the run
            evidence[label] = {"error": str(error)}
            lags[percent] = (math.inf, None)
            continue
        lags[percent] = (lag.lag_min, table)
        evidence[label] = {"lactose_mM": lactose, "slots": slots,
                           "population_lag_min": lag.lag_min,
                           "delay_start_min": lag.delay_start_min,
                           "delay_plateau_min": lag.delay_plateau_min,
                           "growth_arrest_min": lag.arrest_min, **lag_summary(table)}
    low, high = lags[LEVELS[0]][0], lags[LEVELS[1]][0]
    evidence["direction_at_higher_lactose"] = lag_direction(low, high)
    evidence["observed_direction"] = "shorter (Julou et al. 2020)"
    error = step.lag_error(low, observed)
    evidence["relative_error"] = error
    notes = ["score = relative error of the lag at 0.02% lactose (lower is better); the 0.2% lag "
             "and the direction are evidence",
             f"{cells} initial cells, {minutes:g} min per run"
             + (" (quick mode: fewer initial cells than full mode's "
                f"{step.config['population_cells']}, and the run length of "
                "quick_population_minutes)" if quick else "")]
    bias = learned_lac_bias(spec, step.spec_parameters())
    if bias:
        evidence["learned_lac_bias"] = bias
        notes.append("the grey box's lac bias was learned from Julou et al.'s measured lags at "
                     "0.02% lactose (greybox train-grey-box-lags): the 0.02% lag is in-sample, "
                     "the 0.2% lag and its direction come from a condition it never saw")
    figures = _plot(step, runs, lags)
    status = PASS if error <= step.tolerance else FAIL
    return step.make(status, error, evidence=evidence, notes=notes, figures=figures)


def _plot(step, runs, lags) -> list:
    path = step.figure_path("population_lag")
    if path is None:
        return []
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (growth_ax, lag_ax) = plt.subplots(1, 2, figsize=(9, 3.4))
    try:
        for (percent, (experiment, reference)), colour in zip(runs.items(), ("C0", "C1")):
            for dataset, style, label in ((experiment, "-", f"{percent:g}% lactose"),
                                          (reference, "--", f"{percent:g}% + IPTG")):
                alive = dataset["cells.alive"].values > 0.5
                total = np.where(alive, dataset["cells.volume"].values, 0.0).sum(1)
                growth_ax.semilogy(dataset.time, total, style, color=colour, label=label)
            lag, table = lags[percent]
            if table is not None:
                values = table["lag_min"].to_numpy(dtype=float)
                lag_ax.hist(values[np.isfinite(values)], bins=_BINS, alpha=0.5, color=colour,
                            label=f"{percent:g}%: population lag {lag:.0f} min")
        growth_ax.set(xlabel="time (min)", ylabel="total cell volume (fL)",
                      title="Tier 3: population growth")
        growth_ax.legend(fontsize=7)
        lag_ax.set(xlabel="single-cell lag (min)", ylabel="cells",
                   title="single-cell lags at the shift")
        lag_ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return [str(path)]
