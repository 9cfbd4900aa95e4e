"""Tier 5, combinatorial synergy: Loewe additivity of antibiotic pairs against INDIGO.

Pure scores:

* :func:`hill` and :func:`hill_inverse` - single-drug dose-response ``E(d) = d^h / (d^h + C^h)``.
* :func:`loewe_index` - for a combination ``(a, b)`` with effect ``E``, the Loewe index
  ``a / A(E) + b / B(E)``, with ``A(E)``, ``B(E)`` the doses of each drug alone giving ``E``.
  Additive (Loewe) surfaces give 1 everywhere; < 1 is synergy, > 1 antagonism.
* :func:`classify_index`, :func:`classify_indigo` - three classes, with an additivity band.
* :func:`classification_accuracy` - share of pairs classified as measured.

Runs: the composite's own dynamic-FBA cell (or its population's cell at ``t = 0``, as
``single_cell_dfba``) at its initial conditions, dosed through
:mod:`greybox_processes.metabolism.drugs` (a drug occupies d/(1+d) of its target; ribosomes
through the expression layer, RNA polymerase and gyrase through the fixed-composition biomass
reaction, cell wall through the penicillin-binding-protein reactions, folate through DHFR).
Each drug pair gets the Loewe index at its 50% isobole (``2 t*`` along the ray of equal
fractions of the single IC50s) and a class with a +/-0.1 band; the score is the share of the
INDIGO pairs on distinct processes classified as measured. Pairs whose target the model lacks
count as misclassified (listed). Since the mechanism knows a drug only by its target, the
response depends on the target pair alone: ~10 target pairs, ~1000 LPs, run in-process (no
Dask: 20 s on iJO1366); the evidence gives the ceiling any target-level mechanism can reach
on these pairs (each target pair's majority class). Nothing is fitted: no parameter exists
to tune.
"""
from __future__ import annotations

import numpy as np

from .base import (FAIL, PASS, TierStep, initial_cell_lac, is_population_metabolism,
                   metabolism_instance, metabolism_node)

__all__ = ["hill", "hill_inverse", "loewe_index", "classify_index", "classify_indigo",
           "target_level_ceiling",
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


def target_level_ceiling(pairs, observed) -> float:
    """Best accuracy of any classifier that sees only the two targets of a pair."""
    frame = pairs.assign(observed=observed, key=[tuple(sorted(k)) for k in
                                                 zip(pairs["target_1"], pairs["target_2"])])
    best = frame.groupby("key")["observed"].agg(lambda c: c.value_counts().iloc[0]).sum()
    return float(best / len(frame))


class SynergyTier(TierStep):
    """WCM-Hard tier 5: Loewe classification of antibiotic pairs against INDIGO (95% correct)."""

    tier = 5
    title = "combinatorial synergy"
    criterion = (f">= {THRESHOLD:.0%} of INDIGO pairs on distinct processes classified "
                 "(synergy/additive/antagonism) as measured")
    config_schema = {**TierStep.config_schema,
                     "model": {"_type": "string", "_default": ""},
                     "band": {"_type": "float", "_default": 0.1}}

    def _evaluate(self, client):
        from ...metabolism.drugs import DrugCell, pair_isobole
        from .. import refdata

        pairs = distinct_target_pairs(refdata.drug_pairs()).reset_index(drop=True)
        observed = classify_indigo(pairs["Score"])
        classes, counts = np.unique(observed, return_counts=True)
        majority = classes[np.argmax(counts)]
        evidence = {"pairs_scored": int(len(pairs)),
                    "observed_classes": dict(zip(classes.tolist(), counts.tolist())),
                    "majority_class_accuracy": classification_accuracy(
                        np.full(observed.shape, majority), observed),
                    "majority_class": str(majority),
                    "target_level_ceiling": target_level_ceiling(pairs, observed)}
        spec = self.config["spec"]
        path, node = metabolism_node(spec)
        if node is None:
            return self.not_applicable("no drug-action mechanism: the composite has no "
                                       "dynamic-FBA cell whose ribosomes, polymerases, cell "
                                       "wall or folate synthesis a drug could act on",
                                       evidence=evidence)
        notes = []
        changes = {"model": self.config["model"]} if self.config["model"] else {}
        if changes:
            notes.append(f"model replaced by {self.config['model']!r} for this tier")
        lac = initial_cell_lac(spec, path, node) if is_population_metabolism(node) else None
        cell = DrugCell.from_process(metabolism_instance(node, lac=lac, **changes))
        evidence["model"] = cell.process.model.id
        evidence["targets"] = cell.representation
        isoboles = {}
        for key in sorted({tuple(sorted(k)) for k in zip(pairs["target_1"], pairs["target_2"])}):
            if all(cell.representation[t] is not None for t in key):
                isoboles[key] = pair_isobole(cell, *key)
        predicted, indices = [], []
        for t1, t2 in zip(pairs["target_1"], pairs["target_2"]):
            index = (isoboles.get(tuple(sorted((t1, t2)))) or {}).get("loewe_index")
            indices.append(index)
            predicted.append("not simulated" if index is None else
                             str(classify_index(index, self.config["band"])))
        predicted = np.asarray(predicted)
        unsimulated = int(np.sum(predicted == "not simulated"))
        if unsimulated == len(pairs):
            return self.not_applicable(f"the model {evidence['model']!r} has none of the "
                                       "target pairs of the scored drug pairs; run it with "
                                       "a genome-scale model (option model=iJO1366)",
                                       evidence=evidence)
        score = classification_accuracy(predicted, observed)
        simulated = predicted != "not simulated"
        evidence.update(
            lps_solved=cell.solves,
            target_pairs={f"{a} + {b}": v for (a, b), v in isoboles.items()},
            accuracy_on_simulated=classification_accuracy(predicted[simulated],
                                                          observed[simulated]),
            pairs=[{"drugs": f"{d1}+{d2}", "indigo_score": float(sc), "observed": str(o),
                    "predicted": str(p), "loewe_index": i}
                   for d1, d2, sc, o, p, i in zip(pairs["Drug_1"], pairs["Drug_2"],
                                                  pairs["Score"], observed, predicted,
                                                  indices)])
        if unsimulated:
            notes.append(f"{unsimulated} of {len(pairs)} pairs act on a target the model lacks; "
                         "they count as misclassified")
        return self.make(PASS if score >= THRESHOLD else FAIL, score, evidence=evidence,
                         notes=notes, figures=self._plot(pairs, observed, indices))

    def _plot(self, pairs, observed, indices):
        def draw(ax):
            colours = {"synergy": "tab:blue", "additive": "0.5", "antagonism": "tab:red"}
            band = self.config["band"]
            x = [np.nan if i is None else np.log2(i) for i in indices]
            for label, colour in colours.items():
                keep = observed == label
                ax.scatter(np.asarray(x)[keep], pairs["Score"][keep], s=14, color=colour,
                           label=f"measured {label}")
            ax.axhspan(-INDIGO_BAND, INDIGO_BAND, color="0.93")
            ax.axvspan(np.log2(1 - band), np.log2(1 + band), color="0.93")
            ax.set_xlabel("model: log2 Loewe index at the 50% isobole")
            ax.set_ylabel("INDIGO score (measured)")
            ax.legend(fontsize=7)

        return self.plot("loewe", draw, figsize=(5, 3.4))
