"""Tier 4, out-of-distribution stress: predicted vs observed expression changes under heat and acid.

Pure score: :func:`cosine_similarity` of predicted and observed log fold-change vectors over
the genes both cover (each against its own control). A perfect predictor scores 1; a constant
prediction ``c`` scores ``sign(c) * sum(obs) / (sqrt(n) * ||obs||)``; pass when > 0.8 for every
stress (heat 42 C, pH 5.5; PRECISE, see :func:`..refdata.stress_log_fold_changes`).

Runs: the tier needs a composite trained only on nutrient conditions that exposes a
genome-wide expression store (a ``gene`` dimension labelled with b-numbers) and a stress input
(temperature, pH). No composite of this project has both yet; the tier then says so instead of
scoring.
"""
from __future__ import annotations

import numpy as np

from .base import TierStep, process_nodes

__all__ = ["cosine_similarity", "constant_prediction_cosine", "StressTier", "THRESHOLD"]

THRESHOLD = 0.8


def cosine_similarity(predicted, observed) -> float:
    """Cosine of the angle between two ``(n_genes,)`` log fold-change vectors."""
    p = np.asarray(predicted, dtype=float)
    o = np.asarray(observed, dtype=float)
    if p.shape != o.shape or p.ndim != 1:
        raise ValueError(f"predicted {p.shape} and observed {o.shape} must be equal (n,) vectors")
    norm = np.linalg.norm(p) * np.linalg.norm(o)
    if norm == 0:
        raise ValueError("a zero log fold-change vector has no direction; cosine undefined")
    return float(p @ o / norm)


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


class StressTier(TierStep):
    """WCM-Hard tier 4: cosine of predicted vs observed log fold changes under unseen stresses."""

    tier = 4
    title = "out-of-distribution stress"
    criterion = f"cosine(predicted, observed log2 FC) > {THRESHOLD} for heat 42 C and pH 5.5"

    def _evaluate(self, client):
        from .. import refdata

        observed = refdata.stress_log_fold_changes()
        nodes = process_nodes(self.config["spec"])
        stress_inputs = [path for path, node in nodes.items()
                         if any(k in (node.get("config") or {}) for k in ("temperature", "pH"))]
        evidence = {"observed_genes": int(observed.shape[0]),
                    "stresses": list(observed.columns),
                    "constant_predictor_cosine": {
                        s: constant_prediction_cosine(observed[s]) for s in observed.columns}}
        if not stress_inputs:
            return self.not_applicable("the composite has no stress input (temperature or pH "
                                       "in any process config) and no genome-wide expression "
                                       "store to predict log fold changes from",
                                       evidence=evidence)
        return self.not_applicable("stress inputs found at "
                                   f"{['.'.join(map(str, p)) for p in stress_inputs]}, but no "
                                   "prediction protocol for them is implemented yet",
                                   evidence=evidence)
