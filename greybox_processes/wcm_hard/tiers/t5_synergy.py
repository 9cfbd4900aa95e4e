"""Tier 5, combinatorial synergy: Loewe additivity of antibiotic pairs against INDIGO.

Pure scores:

* :func:`hill` and :func:`hill_inverse` - single-drug dose-response ``E(d) = d^h / (d^h + C^h)``.
* :func:`loewe_index` - for a combination ``(a, b)`` with effect ``E``, the Loewe index
  ``a / A(E) + b / B(E)``, with ``A(E)``, ``B(E)`` the doses of each drug alone giving ``E``.
  Additive (Loewe) surfaces give 1 everywhere; < 1 is synergy, > 1 antagonism.
* :func:`classify_index`, :func:`classify_indigo` - three classes, with an additivity band.
* :func:`classification_accuracy` - share of pairs classified as measured.

Runs: the tier needs a drug-action mechanism (drugs acting on the mechanistic targets:
ribosome, cell wall, DNA gyrase, RNA polymerase, folate). Without one it says so. The scored
pairs are the INDIGO pairs whose drugs act on distinct processes (:data:`DRUG_TARGETS`); nothing
may be tuned on them.
"""
from __future__ import annotations

import numpy as np

from .base import TierStep, process_nodes

__all__ = ["hill", "hill_inverse", "loewe_index", "classify_index", "classify_indigo",
           "classification_accuracy", "DRUG_TARGETS", "distinct_target_pairs", "SynergyTier",
           "THRESHOLD", "INDIGO_BAND"]

THRESHOLD = 0.95
#: INDIGO scores within +/- this are additive (refdata README: the usual band)
INDIGO_BAND = 0.1

#: primary cellular process each INDIGO drug acts on (mechanism of action, textbook pharmacology)
DRUG_TARGETS = {
    "AMK": "ribosome", "GEN": "ribosome", "TOB": "ribosome", "SPE": "ribosome",
    "CHL": "ribosome", "CLA": "ribosome", "ERY": "ribosome", "TET": "ribosome",
    "FUS": "ribosome",  # elongation factor G
    "CEF": "cell wall", "OXA": "cell wall", "VAN": "cell wall",
    "CIP": "DNA gyrase", "LEV": "DNA gyrase", "NAL": "DNA gyrase",
    "RIF": "RNA polymerase", "TMP": "folate",
    "NIT": "multiple (nitroreductase products)", "H22": "oxidative damage (H2O2)",
}
MECHANISTIC = ("ribosome", "cell wall", "DNA gyrase", "RNA polymerase", "folate")


def hill(dose, ec50: float, n: float = 1.0):
    """Fractional effect of a single drug (0 to 1)."""
    dose = np.asarray(dose, dtype=float)
    return dose ** n / (dose ** n + ec50 ** n)


def hill_inverse(effect, ec50: float, n: float = 1.0):
    """Dose of a single drug giving ``effect`` (0 < effect < 1)."""
    effect = np.asarray(effect, dtype=float)
    if np.any((effect <= 0) | (effect >= 1)):
        raise ValueError("effects must lie strictly between 0 and 1 to invert a Hill curve")
    return ec50 * (effect / (1.0 - effect)) ** (1.0 / n)


def loewe_index(a, b, effect, ec50_a: float, ec50_b: float, n_a: float = 1.0,
                n_b: float = 1.0):
    """Loewe combination index ``a/A(E) + b/B(E)`` of doses ``(a, b)`` with effect ``E``."""
    return (np.asarray(a, dtype=float) / hill_inverse(effect, ec50_a, n_a)
            + np.asarray(b, dtype=float) / hill_inverse(effect, ec50_b, n_b))


def classify_index(index, band: float = 0.1):
    """``'synergy'`` (< 1 - band), ``'antagonism'`` (> 1 + band) or ``'additive'``."""
    index = np.asarray(index, dtype=float)
    return np.where(index < 1 - band, "synergy", np.where(index > 1 + band, "antagonism",
                                                          "additive"))


def classify_indigo(score, band: float = INDIGO_BAND):
    """INDIGO scores: < -band synergy, > band antagonism, else additive."""
    score = np.asarray(score, dtype=float)
    return np.where(score < -band, "synergy", np.where(score > band, "antagonism", "additive"))


def classification_accuracy(predicted, observed) -> float:
    """Share of pairs whose predicted class equals the observed class."""
    predicted, observed = np.asarray(predicted), np.asarray(observed)
    if predicted.shape != observed.shape or predicted.size == 0:
        raise ValueError("predicted and observed classes must be equal, non-empty arrays")
    return float(np.mean(predicted == observed))


def distinct_target_pairs(pairs):
    """Rows of the INDIGO table whose two drugs act on distinct mechanistic processes."""
    t1 = pairs["Drug_1"].map(DRUG_TARGETS)
    t2 = pairs["Drug_2"].map(DRUG_TARGETS)
    keep = t1.isin(MECHANISTIC) & t2.isin(MECHANISTIC) & (t1 != t2)
    return pairs[keep].assign(target_1=t1[keep], target_2=t2[keep])


class SynergyTier(TierStep):
    """WCM-Hard tier 5: Loewe classification of antibiotic pairs against INDIGO (95% correct)."""

    tier = 5
    title = "combinatorial synergy"
    criterion = (f">= {THRESHOLD:.0%} of INDIGO pairs on distinct processes classified "
                 "(synergy/additive/antagonism) as measured")

    def _evaluate(self, client):
        from .. import refdata

        pairs = distinct_target_pairs(refdata.drug_pairs())
        observed = classify_indigo(pairs["Score"])
        classes, counts = np.unique(observed, return_counts=True)
        majority = classes[np.argmax(counts)]
        evidence = {"pairs_scored": int(len(pairs)),
                    "observed_classes": dict(zip(classes.tolist(), counts.tolist())),
                    "majority_class_accuracy": classification_accuracy(
                        np.full(observed.shape, majority), observed),
                    "majority_class": str(majority)}
        drug_inputs = [p for p, node in process_nodes(self.config["spec"]).items()
                       if any("drug" in str(k).lower() for k in (node.get("config") or {}))]
        if not drug_inputs:
            return self.not_applicable("no drug-action mechanism: no process of the composite "
                                       "takes drug doses acting on ribosome, cell wall, gyrase, "
                                       "RNA polymerase or folate synthesis", evidence=evidence)
        return self.not_applicable("drug inputs found but no dose-response protocol is "
                                   "implemented for them yet", evidence=evidence)
