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
to tune. (The drugs' targets and the class rules live in
:mod:`greybox_processes.metabolism.drug_features`, shared with the learned model; re-exported.)

Grey box (a composite with a neural controller node, e.g. ``ecoli_grey_box.yaml``,
:func:`~.t2_essentiality.is_grey_box`): the score is the held-out accuracy of the grey box's
learned interactions (:mod:`greybox_processes.neural.synergy_model`: a model over the same
cell's label-free responses to each drug, trained on the 105 INDIGO training pairs, nested
CV over stratified folds of pairs, ``learned_seeds`` seeds, ``learned_folds`` outer folds) on
the pairs on distinct processes, pooled per seed and averaged; its evidence says
``held-out (nested CV ...)`` and keeps the glass box's label-free figures (``glass_box``) and
the training folds' majority class beside it. Other composites keep the glass box's score.
"""
from __future__ import annotations

import numpy as np

from ...metabolism.drug_features import (DRUG_TARGETS, INDIGO_BAND, MECHANISTIC,
                                         classification_accuracy, classify_index,
                                         classify_indigo, distinct_target_pairs,
                                         pair_key)
from ...metabolism.drugs import DrugCell, pair_isobole
from .base import (FAIL, PASS, TierStep, initial_cell_lac, is_population_metabolism,
                   metabolism_instance, metabolism_node)
from .t2_essentiality import is_grey_box

__all__ = ["hill", "hill_inverse", "loewe_index", "classify_index", "classify_indigo",
           "target_level_ceiling",
           "classification_accuracy", "DRUG_TARGETS", "distinct_target_pairs", "SynergyTier",
           "THRESHOLD", "INDIGO_BAND", "MECHANISTIC", "learned_accuracy"]

THRESHOLD = 0.95


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


def target_level_ceiling(pairs, observed) -> float:
    """Best accuracy of any classifier that sees only the two targets of a pair."""
    frame = pairs.assign(observed=observed, key=[tuple(sorted(k)) for k in
                                                 zip(pairs["target_1"], pairs["target_2"])])
    best = frame.groupby("key")["observed"].agg(lambda c: c.value_counts().iloc[0]).sum()
    return float(best / len(frame))


def learned_accuracy(cell, glass: dict, *, seeds=(0, 1, 2, 3, 4), folds: int = 5) -> dict:
    """Held-out accuracy of the grey box's learned interactions over all INDIGO training pairs
    (nested CV over stratified folds of pairs, :func:`~greybox_processes.neural.synergy_model.
    nested_cv`). ``cell``: the :class:`DrugCell` whose responses are the features; ``glass``:
    the glass box's class per :func:`pair_key` (pairs it does not score count as wrong)."""
    from .. import refdata
    from ...neural.synergy_model import cached_pair_features, nested_cv, training_table

    features, source = cached_pair_features(cell)
    x, scores = training_table(refdata.drug_pairs(), features)
    result = nested_cv(x, scores, [glass.get(k, "not simulated") for k in x.index],
                       split="pairs", folds=folds, seeds=seeds)
    summary = result.summary()
    summary["features"] = source
    summary["models_chosen_per_fold"] = [f"{kind} {param}" for kind, param in result.chosen]
    return summary


class SynergyTier(TierStep):
    """WCM-Hard tier 5: Loewe classification of antibiotic pairs against INDIGO (95% correct)."""

    tier = 5
    title = "combinatorial synergy"
    criterion = (f">= {THRESHOLD:.0%} of INDIGO pairs on distinct processes classified "
                 "(synergy/additive/antagonism) as measured")
    config_schema = {**TierStep.config_schema,
                     "model": {"_type": "string", "_default": ""},
                     "band": {"_type": "float", "_default": 0.1},
                     "learned_seeds": {"_type": "integer", "_default": 5},
                     "learned_folds": {"_type": "integer", "_default": 5}}

    def _evaluate(self, client):
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
        if is_grey_box(spec):
            glass = dict(zip((pair_key(a, b) for a, b in zip(pairs["Drug_1"], pairs["Drug_2"])),
                             predicted))
            seeds = 1 if self.config["quick"] else self.config["learned_seeds"]
            learned = learned_accuracy(cell, glass, seeds=range(seeds),
                                       folds=self.config["learned_folds"])
            evidence = {"grey_box": learned, "glass_box": evidence,
                        "figure": learned["figure"]}
            score = learned["distinct"]["learned"]["mean"]
            notes.append(f"grey box: the learned interactions' accuracy is {learned['figure']}, "
                         f"on the {learned['distinct_pairs']} pairs on distinct processes; the "
                         "glass box's label-free accuracy on the same pairs is "
                         f"{learned['distinct']['glass_box']:.3f}, the training folds' "
                         f"majority class {learned['distinct']['majority']['mean']:.3f}")
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
