"""Tier 7, ablation: the grey box beats its mechanistic-only baseline on tier 3 and its
data-only baseline on tier 1 (the double dissociation).

Pure score: :func:`double_dissociation` - given the tier-3 lag errors of the cell and of the
mechanistic-only baseline, and the tier-1 violations of the cell and of the data-only baseline,
the cell passes when it is strictly better on both (lower error, lower violation).

Replicates (``replicates``: a list of spec-parameter mappings, e.g. one per training seed,
``{seed: 100, lac_bias: 2.038}``): tiers 3 and 1 run once per replicate on every cell, each
replicate's parameters applied to each spec that declares them (a population seed to all, a
learned bias to the grey box), and each half is judged by a one-sided Wilcoxon signed-rank test
paired by replicate (:func:`.paired_test.paired_comparison`): the cell wins a half when
p < ``alpha``. That is "significantly outperform" of the seed; with five replicates all five must
win (p = 1/32), and fewer than five can never reach p < 0.05. Without replicates the tier
compares one run of each cell (strict inequality, said in the notes).

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

import logging
import math
from pathlib import Path

from ...framework.loading import load_spec
from ...framework.registry import default_core
from .base import FAIL, NOT_APPLICABLE, PASS, TierStep
from .paired_test import paired_comparison

logger = logging.getLogger(__name__)

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
                     "tier3_time": {"_type": "float", "_default": 0.0},
                     # spec parameters of each replicate ([{seed: 100, lac_bias: 2.04}, ...])
                     "replicates": {"_type": "list[node]", "_default": []},
                     # significance level of the paired test over replicates
                     "alpha": {"_type": "float", "_default": 0.05}}

    def initialize(self, config):
        super().initialize(config)
        self.prior = {}  # {tier: TierResult} of the certified spec, reused when given
        replicates = self.config["replicates"]
        if not isinstance(replicates, list) or not all(isinstance(r, dict) and r
                                                       for r in replicates):
            raise ValueError("tier 7: 'replicates' is a list of spec-parameter mappings, one "
                             "per replicate (e.g. [{seed: 100, lac_bias: 2.04}, {seed: 101, "
                             f"lac_bias: 2.1}}]), got {replicates!r}")
        if not 0.0 < self.config["alpha"] < 1.0:
            raise ValueError(f"tier 7: alpha must lie in (0, 1), got {self.config['alpha']}")

    def _baseline(self, key, default_name):
        if self.config[key]:
            return self.config[key]
        candidate = Path(self.config["spec"]).parent / default_name
        return str(candidate) if candidate.is_file() else None

    def _tier(self, cls, spec, client, parameters=None):
        engine = self.config["engine"]
        earlier = self.prior.get(cls.tier) if spec == self.config["spec"] else None
        if earlier is not None and earlier.engine in (engine, None) and not parameters:
            self.engine_used = self.engine_used or earlier.engine
            return earlier
        config = {"spec": spec, "quick": self.config["quick"], "engine": engine,
                  "parameters": dict(parameters or {})}
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
        if self.config["replicates"] and mech and data:
            return self._evaluate_replicates(client, mech, data, evidence)
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

    def _replicate_parameters(self, specs: dict) -> list:
        """``[{role: parameters}]``: each replicate's parameters restricted to those each spec
        declares; a name no spec declares is an error (a misspelt seed would silently give
        identical replicates)."""
        declared = {role: set(load_spec(spec).parameters or {}) for role, spec in specs.items()}
        everywhere = set().union(*declared.values())
        out = []
        for i, replicate in enumerate(self.config["replicates"]):
            unknown = sorted(set(replicate) - everywhere)
            if unknown:
                raise ValueError(f"tier 7: replicate {i} sets {unknown}, which none of "
                                 f"{sorted(specs.values())} declares as a parameter")
            out.append({role: {k: v for k, v in replicate.items() if k in names}
                        for role, names in declared.items()})
        return out

    def _evaluate_replicates(self, client, mech, data, evidence):
        from tqdm.auto import tqdm

        from .t1_conservation import ConservationTier
        from .t3_diauxie import DiauxieTier

        specs = {"cell": self.config["spec"], "mechanistic": mech, "data": data}
        replicates = self._replicate_parameters(specs)
        scores = {"tier3_cell": [], "tier3_mechanistic": [], "tier1_cell": [], "tier1_data": []}
        statuses = []
        runs = (("tier3_cell", DiauxieTier, "cell"), ("tier3_mechanistic", DiauxieTier,
                                                        "mechanistic"),
                ("tier1_cell", ConservationTier, "cell"), ("tier1_data", ConservationTier, "data"))
        # a replicate is four tier runs (minutes each on a genome-scale population): a bar in a
        # terminal (disable=None: off when stderr is not a TTY), a log line each otherwise
        bar = tqdm(total=len(replicates) * len(runs), desc="tier 7 replicates", unit="run",
                   leave=False, disable=None)
        try:
            for i, parameters in enumerate(replicates):
                row = {}
                for key, cls, role in runs:
                    logger.info("tier 7: replicate %d/%d, %s (%s)", i + 1, len(replicates),
                                key, parameters[role])
                    bar.set_postfix_str(f"replicate {i + 1}/{len(replicates)}: {key}")
                    result = self._tier(cls, specs[role], client, parameters[role])
                    scores[key].append(result.score)
                    row[key] = result.status
                    bar.update()
                statuses.append(row)
        finally:
            bar.close()
        evidence.update({"replicates": list(self.config["replicates"]),
                         "replicate_statuses": statuses, "alpha": self.config["alpha"]})
        halves = {"tier3": ("tier3_cell", "tier3_mechanistic"),
                  "tier1": ("tier1_cell", "tier1_data")}
        missing = []
        for half, (cell, base) in halves.items():
            if any(v is None for v in scores[cell] + scores[base]):
                evidence[half] = {"cell": scores[cell], "baseline": scores[base]}
                missing.append(half)
            else:
                evidence[half] = paired_comparison(scores[cell], scores[base],
                                                   alpha=self.config["alpha"])
        n = len(replicates)
        notes = ["score = number of the two comparisons won (2 to pass)",
                 f"each comparison: one-sided Wilcoxon signed-rank test over {n} replicates "
                 f"paired by replicate, won when p < {self.config['alpha']:g}"]
        if n < 5:
            notes.append(f"{n} replicates: the smallest p the test can give is {0.5 ** n:g}, "
                         "so fewer than 5 replicates cannot win at alpha 0.05")
        notes += [f"{half}: a replicate produced no score (statuses in replicate_statuses)"
                  for half in missing]
        for half in halves:
            if half in missing:
                continue
            comparison = evidence[half]
            notes.append(f"{half}: cell {_summary(comparison['cell_mean'], comparison['cell_sd'])}"
                         f" vs baseline {_summary(comparison['baseline_mean'], comparison['baseline_sd'])}"
                         f", {comparison['wins']}/{n} won, p = {comparison['p']:.3g}")
            if comparison["identical_replicates"]:
                notes.append(f"{half}: every replicate gave the same scores (the runs do not "
                             "depend on what the replicates set): counted as one pair")
        if missing:
            return self.make(NOT_APPLICABLE, evidence=evidence, notes=notes)
        evidence.update({"dynamic": evidence["tier3"]["significant"],
                         "conservation": evidence["tier1"]["significant"]})
        evidence["passed"] = evidence["dynamic"] and evidence["conservation"]
        score = float(evidence["dynamic"]) + float(evidence["conservation"])
        return self.make(PASS if evidence["passed"] else FAIL, score, evidence=evidence,
                         notes=notes)


def _summary(mean, sd) -> str:
    if sd is None:
        return f"{mean:.3g}"
    return f"{mean:.3g} +/- {sd:.2g}"
