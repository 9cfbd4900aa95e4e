"""Tier 7, ablation: the grey box beats its mechanistic-only baseline on tier 3 and its
data-only baseline on tier 1 (the double dissociation).

Pure score: :func:`double_dissociation` - given the tier-3 lag errors of the cell and of the
mechanistic-only baseline, and the tier-1 violations of the cell and of the data-only baseline,
the cell passes when it is strictly better on both (lower error, lower violation).

Runs: tiers 3 and 1 on the cell and on the baselines (``tier1_steps`` / ``tier3_time`` set the
length of those runs; 0 keeps each tier's own default, 1e5 steps in full mode for tier 1). The baselines are spec paths
(``mechanistic_baseline``, ``data_baseline``); by default the specs next to the certified
one named by :func:`baseline_names` (``grey_box_cell.yaml`` -> ``mechanistic_only_cell.yaml``,
``black_box_cell.yaml``; ``ecoli_grey_box.yaml`` -> ``ecoli_mechanistic_only.yaml``,
``ecoli_black_box.yaml``). Without both baselines the tier is not
applicable (the half that can be computed is reported as evidence). Tiers 1 and 3 run in this
tier's ``engine``; the certified spec's results of an earlier tier are reused only when they
ran in that engine.
"""
from __future__ import annotations

import math
from pathlib import Path

from ...framework.registry import default_core
from .base import FAIL, NOT_APPLICABLE, PASS, TierStep

__all__ = ["double_dissociation", "baseline_names", "AblationTier"]


def double_dissociation(lag_error_cell, lag_error_mechanistic, violation_cell,
                        violation_data) -> dict:
    """``{'dynamic': bool, 'conservation': bool, 'passed': bool}`` (None where a value is None)."""
    def better(a, b):
        if a is None or b is None:
            return None
        return bool(a < b) if not (math.isnan(a) or math.isnan(b)) else False

    dynamic = better(lag_error_cell, lag_error_mechanistic)
    conservation = better(violation_cell, violation_data)
    passed = None if None in (dynamic, conservation) else bool(dynamic and conservation)
    return {"dynamic": dynamic, "conservation": conservation, "passed": passed}


def baseline_names(spec_name: str) -> tuple[str, str]:
    """``(mechanistic-only, data-only)`` baseline file names for a spec file name.

    The naming convention of the cells: ``<prefix>grey_box<suffix>.yaml`` (or ``glass_box``)
    has the baselines ``<prefix>mechanistic_only<suffix>.yaml`` and
    ``<prefix>black_box<suffix>.yaml``; any other name gets the single-culture baselines
    ``mechanistic_only_cell.yaml`` and ``black_box_cell.yaml``.
    """
    stem, dot, ext = str(spec_name).rpartition(".")
    stem, ext = (stem, dot + ext) if dot else (ext, ".yaml")
    for kind in ("grey_box", "glass_box"):
        prefix, found, suffix = stem.partition(kind)
        if found:
            return (f"{prefix}mechanistic_only{suffix}{ext}", f"{prefix}black_box{suffix}{ext}")
    return "mechanistic_only_cell.yaml", "black_box_cell.yaml"


class AblationTier(TierStep):
    """WCM-Hard tier 7: grey box beats mechanistic-only on tier 3 and data-only on tier 1."""

    tier = 7
    title = "ablation"
    criterion = ("tier-3 lag error below the mechanistic-only baseline's and tier-1 violation "
                 "below the data-only baseline's")
    config_schema = {**TierStep.config_schema,
                     "mechanistic_baseline": {"_type": "string", "_default": ""},
                     "data_baseline": {"_type": "string", "_default": ""},
                     "tier1_steps": {"_type": "integer", "_default": 0},
                     "tier3_time": {"_type": "float", "_default": 0.0}}

    def initialize(self, config):
        super().initialize(config)
        self.prior = {}  # {tier: TierResult} of the certified spec, reused when given

    def _baseline(self, key, default_name):
        if self.config[key]:
            return self.config[key]
        candidate = Path(self.config["spec"]).parent / default_name
        return str(candidate) if candidate.is_file() else None

    def _tier(self, cls, spec, client):
        engine = self.config["engine"]
        earlier = self.prior.get(cls.tier) if spec == self.config["spec"] else None
        if earlier is not None and earlier.engine in (engine, None):
            self.engine_used = self.engine_used or earlier.engine
            return earlier
        config = {"spec": spec, "quick": self.config["quick"], "engine": engine}
        if cls.tier == 1 and self.config["tier1_steps"] > 0:  # the same count for all cells
            config.update(steps=self.config["tier1_steps"], quick_steps=self.config["tier1_steps"])
        if cls.tier == 3 and self.config["tier3_time"] > 0:
            config["time"] = self.config["tier3_time"]
            # a population's clock is in minutes
            config["population_minutes"] = config["quick_population_minutes"] = \
                60.0 * self.config["tier3_time"]
        result = cls(config, default_core()).evaluate(client)
        self.engine_used = self.engine_used or result.engine
        return result

    def _evaluate(self, client):
        from .t1_conservation import ConservationTier
        from .t3_diauxie import DiauxieTier

        mech_name, data_name = baseline_names(Path(self.config["spec"]).name)
        mech = self._baseline("mechanistic_baseline", mech_name)
        data = self._baseline("data_baseline", data_name)
        evidence = {"mechanistic_baseline": mech, "data_baseline": data}
        values = {}
        if mech:
            cell3 = self._tier(DiauxieTier, self.config["spec"], client)
            base3 = self._tier(DiauxieTier, mech, client)
            values["lag_error_cell"], values["lag_error_mechanistic"] = cell3.score, base3.score
            evidence.update({"tier3_cell": cell3.status, "tier3_mechanistic": base3.status})
        if data:
            cell1 = self._tier(ConservationTier, self.config["spec"], client)
            base1 = self._tier(ConservationTier, data, client)
            values["violation_cell"], values["violation_data"] = cell1.score, base1.score
            evidence.update({"tier1_cell": cell1.status, "tier1_data": base1.status})
        evidence.update(values)
        verdict = double_dissociation(values.get("lag_error_cell"),
                                      values.get("lag_error_mechanistic"),
                                      values.get("violation_cell"), values.get("violation_data"))
        evidence.update(verdict)
        missing = [name for name, spec in (("mechanistic-only", mech), ("data-only", data))
                   if not spec]
        if missing:
            return self.not_applicable(f"no {' and no '.join(missing)} baseline spec (give "
                                       "mechanistic_baseline / data_baseline, or put "
                                       f"{mech_name} / {data_name} next to the spec)",
                                       evidence=evidence)
        if verdict["passed"] is None:
            return self.make(NOT_APPLICABLE, evidence=evidence,
                             notes=["a baseline produced no score for its tier"])
        score = float(verdict["dynamic"]) + float(verdict["conservation"])
        notes = ["score = number of the two comparisons won (2 to pass)",
                 "'beats' is a strict inequality on one deterministic run of each cell; no "
                 "significance test (the seed says 'significantly')"]
        for half, (cell, base) in {"tier 3": ("lag_error_cell", "lag_error_mechanistic"),
                                   "tier 1": ("violation_cell", "violation_data")}.items():
            c, b = values[cell], values[base]
            if c is not None and b is not None and c < b and b > 0 and (b - c) / b < 0.1:
                notes.append(f"{half}: the cell wins by less than 10% ({c:.3g} vs {b:.3g})")
        return self.make(PASS if verdict["passed"] else FAIL, score, evidence=evidence,
                         notes=notes)
