"""Tier 6, population de-phasing: the CV of cell volume rises monotonically to its plateau.

Pure scores:

* :func:`volume_cv` - coefficient of variation of the live cells' volumes at each time.
* :func:`dephasing_score` - plateau (mean CV over the last generation), the time the CV first
  reaches 90% of it (in generations), and whether the rise is monotone: no drop below the
  running maximum exceeds ``tolerance`` x plateau (an overshoot that falls back is a drop).
* :func:`reference_plateau` - the CV of cell length of a steady, asynchronous population built
  from Taheri-Araghi et al. 2015's cell cycles: each cycle contributes lengths
  ``s_b (s_d / s_b)^a`` over its age fraction ``a`` with the steady-state age density
  ``2^(1 - a) ln 2`` of an exponentially growing population.

Pass: monotone rise, plateau reached within ``generations`` (5), and the plateau within
``plateau_tolerance`` (20%) of the reference (our tolerance; the seed says "about 0.2").

Runs: the composite with its cells started synchronised (``<process>.config.synchronized:
true``) for ``run_generations`` (7) generations of :func:`generation_time`; it needs ``volume``
and ``phase`` stores (the tissue mechanism: ``composites/dephasing_population.yaml``), or a
``CellCycle`` (a population cell such as ``composites/ecoli_population.yaml``:
:mod:`.t6_population`, 100 cells, "monotone" read at generation resolution). Before
running, :func:`check_capacity` makes sure the population's slots can hold the cells of that many
generations, and otherwise says what to set. Quick mode runs the same (one run of ~10^4 cells).
"""
from __future__ import annotations

import math

import numpy as np

from ...framework.document import resolve_wire
from ...framework.registry import resolve_process_class
from .base import FAIL, PASS, TierStep, process_nodes
from .dephasing_scores import (CAPACITY_MARGIN, check_capacity, cv_at_generations,  # noqa: F401
                               cv_per_generation, dephasing_score, generation_monotone,
                               generation_time, reference_plateau, required_capacity,
                               volume_cv)
from .t6_population import cell_cycle_node, population_dephasing

__all__ = ["volume_cv", "dephasing_score", "reference_plateau", "generation_time",
           "required_capacity", "check_capacity", "cv_per_generation", "cv_at_generations",
           "generation_monotone", "DephasingTier"]

class DephasingTier(TierStep):
    """WCM-Hard tier 6: CV of cell volume of synchronised cells rises to Taheri-Araghi's plateau."""

    tier = 6
    title = "population de-phasing"
    criterion = ("CV of volume rises monotonically, reaches its plateau within 5 generations, "
                 "plateau within 20% of Taheri-Araghi 2015")
    config_schema = {**TierStep.config_schema,
                     "generations": {"_type": "float", "_default": 5.0},
                     "run_generations": {"_type": "float", "_default": 7.0},
                     "plateau_tolerance": {"_type": "float", "_default": 0.2},
                     # population cells (a CellCycle): synchronised cells at the start, and
                     # a model for the tier's run ('' : the spec's)
                     "initial_cells": {"_type": "integer", "_default": 100},
                     # quick mode on a population: generations run (the rise limit becomes
                     # at most this - 1); the lac operon of ~10^4 cells costs ~1 ms per cell
                     # and minute, so 7 generations of 100 cells take ~20 min on 2 cores
                     "quick_run_generations": {"_type": "float", "_default": 4.0},
                     "model": {"_type": "string", "_default": ""}}

    def initialize(self, config):
        super().initialize(config)
        generations, run_for = self.config["generations"], self.config["run_generations"]
        if not generations > 0:
            raise ValueError(f"generations must be > 0, got {generations}")
        if not run_for >= generations + 1:
            raise ValueError(f"run_generations ({run_for:g}) must be >= generations + 1 "
                             f"({generations + 1:g}): the plateau is the mean CV over the last "
                             "generation, after the rise")
        if not self.config["plateau_tolerance"] > 0:
            raise ValueError("plateau_tolerance must be > 0 (a relative error), got "
                             f"{self.config['plateau_tolerance']}")

    def _population(self, spec):
        """``(path, node, config with the process defaults)`` of the cell population, or None."""
        for path, node in process_nodes(spec).items():
            outputs = node.get("outputs") or {}
            if "volume" in outputs and "phase" in outputs:
                return path, node, {**self._defaults(node), **(node.get("config") or {})}
        return None

    def _defaults(self, node) -> dict:
        try:
            cls = resolve_process_class(node.get("address", ""), self.core)
        except Exception:  # noqa: BLE001 - an unknown process is reported by the run itself
            return {}
        schema = getattr(cls, "config_schema", {}) or {}
        return {k: v["_default"] for k, v in schema.items()
                if isinstance(v, dict) and "_default" in v}

    def _evaluate(self, client):
        spec = self.config["spec"]
        cycle = cell_cycle_node(spec)
        if cycle is not None:
            return population_dephasing(self, *cycle)
        found = self._population(spec)
        if found is None:
            return self.not_applicable("the composite has no cell population with volume and "
                                       "cell-cycle phase stores (no tissue mechanism)")
        path, node, config = found
        if not {"t_mitosis", "initial_per_type", "capacity_per_type"} <= set(config):
            return self.not_applicable("the cell population's process has no cell cycle "
                                       "(t_mitosis) or no initial_per_type/capacity_per_type")
        t_gen = generation_time(config)
        if not t_gen > 0:
            return self.not_applicable("the cell cycle has no positive duration; cannot count "
                                       "generations")
        where = ".".join(map(str, path))
        check_capacity(config, self.config["run_generations"], where)
        # whole process intervals, so that the last generation is sampled to its end
        interval = float(node.get("interval", 1.0))
        duration = math.ceil(self.config["run_generations"] * t_gen / interval - 1e-9) * interval
        dataset = self.run_composite(spec, duration,
                                     overrides={f"{where}.config.synchronized": True})
        phase, volume = (dataset[".".join(map(str, resolve_wire(path, node["outputs"][k])))]
                         for k in ("phase", "volume"))
        alive = (phase.values == 1) | (phase.values == 2)
        times = dataset.time.values
        cv = volume_cv(volume.values, alive)
        capacity = int(config["capacity_per_type"]) * int(config.get("n_types", 1))
        return self._verdict(times, cv, alive, t_gen, capacity=capacity,
                             size_rule=config.get("size_rule", "timer"))

    def _verdict(self, times, cv, alive, t_gen, *, capacity, size_rule,
                 by_generation=False, notes=None, evidence=None):
        """The verdict; ``by_generation``: "monotone" read at generation resolution
        (:func:`generation_monotone`; the synchronised population's division bursts), else
        sample by sample. Both readings are in the evidence either way."""
        score = dephasing_score(times, cv, t_gen)
        generations = generation_monotone(times, cv, t_gen)
        reference = reference_plateau()
        rel = abs(score["plateau"] - reference) / reference
        evidence = {**(evidence or {}), **score, **generations, "reference_plateau": reference,
                    "plateau_relative_error": rel, "generation_time": t_gen,
                    "size_rule": size_rule,
                    "cv_per_generation": cv_per_generation(times, cv, t_gen),
                    "cells_start": int(alive[0].sum()), "cells_end": int(alive[-1].sum()),
                    "capacity": int(capacity), "monotone_per_sample": score["monotone"],
                    "monotone_read_at": "generation" if by_generation else "sample"}
        monotone = generations["generation_monotone"] if by_generation else score["monotone"]
        rise_limit = min(self.config["generations"], score["span_generations"] - 1.0) \
            if by_generation else self.config["generations"]
        evidence["rise_limit_generations"] = rise_limit
        checks = {"monotone": monotone,
                  "rise": score["rise_generations"] <= rise_limit,
                  "plateau": rel <= self.config["plateau_tolerance"]}
        evidence["checks"] = checks
        notes = list(notes or []) + [f"failed: {name}" for name, ok in checks.items() if not ok]
        notes.append(f"monotone rise: per sample {score['monotone']} (largest drop "
                     f"{score['max_drop']:.3g}), per generation mean "
                     f"{generations['generation_monotone']} (largest drop "
                     f"{generations['generation_max_drop']:.3g}); the verdict reads it per "
                     f"{'generation' if by_generation else 'sample'}")
        if evidence["cells_start"] != 100:
            notes.append(f"started with {evidence['cells_start']} cells (the seed asks for 100)")
        status = PASS if all(checks.values()) else FAIL
        return self.make(status, score["plateau"], evidence=evidence, notes=notes,
                         figures=self._plot(times, cv, reference, t_gen))

    def _plot(self, t, cv, reference, t_gen):
        def draw(ax):
            gens = (np.asarray(t) - t[0]) / t_gen
            tol = self.config["plateau_tolerance"]
            ax.axhspan(reference * (1 - tol), reference * (1 + tol), color="0.9",
                       label=f"reference +-{tol:.0%}")
            ax.plot(gens, cv, label="model")
            ax.axhline(reference, ls="--", color="k", label="Taheri-Araghi 2015")
            ax.axvline(self.config["generations"], ls=":", color="0.5", label="rise limit")
            ax.set_xlabel("generations")
            ax.set_ylabel("CV of cell volume")
            ax.legend(fontsize=7)

        return self.plot("volume_cv", draw)
