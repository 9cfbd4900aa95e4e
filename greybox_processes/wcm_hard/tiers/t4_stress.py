"""Tier 4, out-of-distribution stress: predicted vs observed expression changes under heat and acid.

Pure score: :func:`cosine_similarity` of predicted and observed log fold-change vectors over
the genes both cover (each against its own control). A perfect predictor scores 1; a constant
prediction ``c`` scores ``sign(c) * sum(obs) / (sqrt(n) * ||obs||)``; pass when > 0.8 for every
stress (heat 42 C, pH 5.5; PRECISE, see :func:`..refdata.stress_log_fold_changes`).

Protocol (:func:`stress_protocol`): the composite needs a
:class:`~greybox_processes.ecoli.stress.RegulatorActivity` node (the stress inputs, its config)
and a process reading the ``regulators`` store it writes and writing an ``expression`` store
(e.g. :class:`~greybox_processes.grn.transcriptome_process.EcoliTranscriptome`: log2(TPM+1), a
``gene`` dimension of b-numbers). The tier runs it unstressed and under each stress of its
``stresses`` config (``{name: {input: value}}``, any stress input; default
:data:`DEFAULT_STRESSES`, the two with PRECISE data) for ``time`` minutes (the expression relaxes
in minutes), and takes each stress's predicted log2 fold change at the end of the run against
the unstressed run. Stresses with observed data are scored (:func:`score_stresses`); the others
are reported with their predicted change only. The evidence holds, from the same run, the
constant predictor's cosine and the growth-law reference (:mod:`.t4_baselines`). A composite
without these nodes is not applicable.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...ecoli.stress import STRESS_INPUTS, RegulatorActivity
from ...framework.document import resolve_wire
from ...framework.registry import default_core
from ...grn.ecoli_trn import read_name_tables
from .base import PASS, FAIL, TierStep, process_class, process_nodes
# the cosine lives with the growth-law reference, which needs it; re-exported here
from .t4_baselines import cosine_similarity, growth_law_cosines

__all__ = ["cosine_similarity", "constant_prediction_cosine", "score_stresses", "StressTier",
           "THRESHOLD", "DEFAULT_STRESSES", "stress_nodes", "stress_protocol",
           "regulator_coverage"]

THRESHOLD = 0.8
#: stress name -> RegulatorActivity inputs (the stresses PRECISE has data for)
DEFAULT_STRESSES = {"heat_42C": {"temperature": 42.0}, "acid_pH5.5": {"pH": 5.5}}
#: minutes each composite runs (5 mRNA half-lives: the expression is within 3 % of its
#: steady state) and in quick mode
RUN_TIME, QUICK_RUN_TIME = 25.0, 10.0
#: the glass box's calibration samples (grn/ecoli_expression.py): nothing else is trained on
TRAINING_SAMPLES = ["control__wt_glc__1", "control__wt_glc__2"]


def constant_prediction_cosine(observed, constant: float = 1.0) -> float:
    """What a prediction of the same change for every gene scores (closed form)."""
    o = np.asarray(observed, dtype=float)
    return float(np.sign(constant) * o.sum() / (np.sqrt(o.size) * np.linalg.norm(o)))


def score_stresses(predicted: dict, observed) -> dict:
    """``{stress: cosine}`` over the genes both cover; ``observed`` is genes x stresses."""
    scores = {}
    for stress, values in predicted.items():
        values = values.reindex(observed.index).dropna()
        scores[stress] = cosine_similarity(values.to_numpy(), observed.loc[values.index, stress])
    return scores



def stress_nodes(spec, overrides=None, core=None):
    """``(stress_path, expression_store)`` of a composite: the path of its RegulatorActivity
    node and the store (a path tuple) written to by the ``expression`` port of a process that
    reads the ``regulators`` store it writes; ``(None, None)`` when either is missing.
    ``core`` resolves the node classes (default: every installed process)."""
    nodes = process_nodes(spec, overrides)
    stress_path = regulators = None
    for path, node in nodes.items():
        cls = _node_class(node, core)
        if isinstance(cls, type) and issubclass(cls, RegulatorActivity):
            wire = (node.get("outputs") or {}).get("regulators")
            if wire is not None:
                stress_path, regulators = path, tuple(resolve_wire(path, wire))
                break
    if stress_path is None:
        return None, None
    for path, node in nodes.items():
        reads = (node.get("inputs") or {}).get("regulators")
        writes = (node.get("outputs") or {}).get("expression")
        if path != stress_path and reads is not None and writes is not None \
                and tuple(resolve_wire(path, reads)) == regulators:
            return stress_path, tuple(resolve_wire(path, writes))
    return stress_path, None


def regulator_coverage(node) -> dict:
    """Which of E. coli's TRN regulators (``trn.csv``) the RegulatorActivity ``node`` sets
    (``set``) and which no mechanism sets (``not_set``: they stay at the reference, 1)."""
    process = RegulatorActivity(dict(node.get("config") or {}), default_core())
    written = sorted(process.activities())
    regulators, _ = read_name_tables()
    not_set = sorted(set(regulators.index) - set(written))
    return {"set": written, "not_set_count": len(not_set), "not_set": not_set}


def _node_class(node, core):
    if core is None:
        return process_class(node)
    name = str(node.get("address", "")).split(":")[-1]
    return core.link_registry.get(name) if name in core.link_registry else None


def stress_protocol(spec, stresses: dict, time: float, run, stress_path, expression_store,
                    overrides=None) -> dict:
    """Predicted log2 fold changes ``{stress: pd.Series over genes}`` of a composite.

    ``run(spec, time, overrides=...)`` runs the composite (a tier's ``run_composite``); each
    stress ``{input: value}`` sets ``<stress_path>.config.<input>`` on top of ``overrides``.
    The change is the expression store at the end of the stressed run minus the unstressed
    run's (log2(TPM+1), so a log2 fold change of TPM+1). A stress input RegulatorActivity does
    not know is its error (naming the accepted inputs), raised before anything runs long.
    """
    for name, inputs in stresses.items():
        unknown = sorted(set(inputs) - set(STRESS_INPUTS))
        if not inputs or unknown:
            raise ValueError(f"stress {name!r}: inputs {sorted(inputs)} must be a non-empty "
                             f"map of {list(STRESS_INPUTS)} to values ({unknown} unknown)")
    base = dict(overrides or {})
    variable = ".".join(map(str, expression_store))
    prefix = ".".join(map(str, stress_path))

    def final_expression(extra):
        ds = run(spec, time, overrides={**base, **extra})
        data = ds[variable]
        genes = data.coords[data.dims[-1]].values
        return pd.Series(np.asarray(data.isel(time=-1).values, dtype=float),
                         index=pd.Index(genes.astype(str), name="gene"))

    control = final_expression({})
    return {name: final_expression({f"{prefix}.config.{k}": float(v)
                                    for k, v in inputs.items()}) - control
            for name, inputs in stresses.items()}


class StressTier(TierStep):
    """WCM-Hard tier 4: cosine of predicted vs observed log fold changes under unseen stresses."""

    tier = 4
    title = "out-of-distribution stress"
    criterion = (f"cosine(predicted, observed log2 FC) > {THRESHOLD} for every stress with data "
                 "(heat 42 C, pH 5.5)")

    config_schema = {
        **TierStep.config_schema,
        # stress name -> {RegulatorActivity input: value}; empty: DEFAULT_STRESSES
        "stresses": {"_type": "map[map[float]]", "_default": {}},
        # minutes per run (0: RUN_TIME, QUICK_RUN_TIME in quick mode)
        "time": {"_type": "float", "_default": 0.0},
        # the project's shared folder, for the growth-law reference ('' : the usual places)
        "shared": {"_type": "string", "_default": ""},
    }

    def _evaluate(self, client):
        from .. import refdata

        observed = refdata.stress_log_fold_changes()
        stresses = dict(self.config["stresses"]) or DEFAULT_STRESSES
        evidence = {"observed_genes": int(observed.shape[0]),
                    "stresses": {k: dict(v) for k, v in stresses.items()},
                    "constant_predictor_cosine": {
                        s: constant_prediction_cosine(observed[s]) for s in observed.columns},
                    "growth_law_reference": growth_law_cosines(self.config["shared"] or None)}
        stress_path, expression = stress_nodes(self.config["spec"])
        if stress_path is None or expression is None:
            why = ("the composite has no RegulatorActivity node (stress inputs)"
                   if stress_path is None else
                   f"no process reads the regulators RegulatorActivity writes at "
                   f"{'.'.join(map(str, stress_path))} and writes an expression store")
            return self.not_applicable(why + "; a genome-wide expression store driven by "
                                       "stress inputs is needed to predict log fold changes",
                                       evidence=evidence)
        evidence["regulators"] = regulator_coverage(process_nodes(self.config["spec"])[stress_path])
        time = self.config["time"] or (QUICK_RUN_TIME if self.config["quick"] else RUN_TIME)
        predicted = stress_protocol(self.config["spec"], stresses, time, self.run_composite,
                                    stress_path, expression)
        scored = {k: v for k, v in predicted.items() if k in observed.columns}
        scores = score_stresses(scored, observed) if scored else {}
        evidence.update({
            "training_samples": {"composite": TRAINING_SAMPLES,
                                 "note": "the glass box's expression model is calibrated on "
                                         "these two M9-glucose wild-type samples only"},
            "run_minutes": time,
            "composite_cosine": scores,
            "predicted_lfc_norm": {k: float(np.linalg.norm(v)) for k, v in predicted.items()},
            "unscored_stresses": sorted(set(predicted) - set(scores)),
        })
        notes = [f"stress {k!r} has no observed data: its prediction is reported, not scored"
                 for k in evidence["unscored_stresses"]]
        if not scores:
            result = self.not_applicable("none of the stresses has observed data "
                                         f"({list(observed.columns)})", evidence=evidence)
            result.notes.extend(notes)
            return result
        score = min(scores.values())
        return self.make(PASS if score > THRESHOLD else FAIL, score=score, evidence=evidence,
                         notes=notes)
