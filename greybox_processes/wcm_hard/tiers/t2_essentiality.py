"""Tier 2, essentiality: single-gene knockouts over the genome, F1 against Monk et al. 2017.

Pure score: :func:`f1_score` of boolean calls against boolean truth (positives = essential).
A perfect predictor scores 1; one that calls every gene essential scores
``2 p / (1 + p)`` with ``p`` the share of essential genes.

Runs: the composite's own cell (a dynamic-FBA culture, or one cell of a population's
``PopulationMetabolism`` at ``t = 0``: its ``single_cell_dfba``, the same LP with the first
cell's lac counts), knocked out one gene at a time at its initial conditions
(:func:`greybox_processes.metabolism.essentiality_screen` on Dask: the composite's model with
its medium, uptake kinetics at the initial concentrations and, with the expression layer, the
lac enzyme caps, the ribosome cap and protein made from charged tRNAs where the model has tRNA
chemistry, ``method='etfl'``). Reference genes the model lacks count
as predicted non-essential (reported as ``missing``). Quick mode screens a stratified sample
of the reference genes and says so.

Grey box (a composite with a neural controller node, e.g. ``ecoli_grey_box.yaml``): the score
is the held-out F1 of the grey box's learned correction
(:mod:`greybox_processes.neural.essentiality_model`: a classifier over label-free knockout
features of the same cell, trained on the labels, nested cross-validation over the same
genes), its evidence says ``held-out (nested CV, k folds ...)`` and keeps the glass box's
label-free screen figures beside it (``glass_box``). Other composites keep the screen's
label-free F1.
"""
from __future__ import annotations

import numpy as np

from .base import (FAIL, PASS, TierStep, initial_cell_lac, is_population_metabolism,
                   metabolism_instance, metabolism_node, process_class, process_nodes)

__all__ = ["f1_score", "EssentialityTier", "screen_calls", "is_grey_box", "learned_f1",
           "THRESHOLD"]

THRESHOLD = 0.90


def f1_score(predicted, truth) -> dict:
    """Precision, recall, F1 (and counts) of boolean ``predicted`` against ``truth``."""
    from ...metabolism.scoring import _metrics

    predicted = np.asarray(predicted, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted {predicted.shape} and truth {truth.shape} differ in shape")
    return _metrics(predicted, truth)


def screen_calls(node, genes=None, *, client=None, progress=False, lac=None, **config_changes):
    """Essentiality calls (``gene``, ``essential``, ...) of the cell a metabolism node builds
    (a DynamicFBA, or a PopulationMetabolism's cell at ``t = 0`` with ``lac`` counts).

    The knockout LPs see the cell at its initial conditions: uptake bounds of the tracked
    exchanges from their kinetics at the initial concentrations, and (expression layer) the lac
    enzymes capped at kcat x level and growth capped by the ribosomes.
    """
    from ...metabolism.screen import essentiality_screen

    process = metabolism_instance(node, lac=lac, **config_changes)
    with process.initial_lp() as model:
        method = "fba" if process.expression is None else "etfl"
        present = None if genes is None else [g for g in genes if g in model.genes]
        return essentiality_screen(model, method=method, genes=present, client=client,
                                   progress=progress)


def is_grey_box(spec) -> bool:
    """True when the composite has a neural controller (the grey box's learned part):
    a :class:`NeuralLatentController` or :class:`PopulationController` node (or subclass)."""
    from ...neural.controller import NeuralLatentController
    from ...neural.population_controller import PopulationController

    for node in process_nodes(spec).values():
        cls = process_class(node)
        if isinstance(cls, type) and issubclass(cls, (NeuralLatentController,
                                                      PopulationController)):
            return True
    return False


def learned_f1(node, reference, *, client=None, lac=None, seeds=(0, 1, 2, 3, 4), folds=5,
               **config_changes) -> dict:
    """Held-out F1 of the grey box's learned call on ``reference``'s genes (nested CV over
    the cell's knockout features; genes the model lacks are left out and counted)."""
    from ...metabolism.essentiality_features import cached_knockout_features
    from ...neural.essentiality_model import nested_cv

    process = metabolism_instance(node, lac=lac, **config_changes)
    method = "fba" if process.expression is None else "etfl"
    with process.initial_lp() as model:
        features, source = cached_knockout_features(model, method=method, client=client)
    result = nested_cv(features, reference["essential"], folds=folds, seeds=seeds,
                       baseline=False)  # the baseline: benchmarks/essentiality_learned.py
    summary = result.summary()
    summary["features"] = source
    summary["genes"] = int(features.index.isin(reference.index).sum())
    summary["genes_not_in_model"] = int((~reference.index.isin(features.index)).sum())
    summary["params_chosen"] = result.params
    return summary


class EssentialityTier(TierStep):
    """WCM-Hard tier 2: genome-wide single-gene knockouts, F1 against Monk et al. 2017."""

    tier = 2
    title = "essentiality"
    criterion = f"F1 > {THRESHOLD} against Monk et al. 2017 (M9 glucose; plain iJO1366 FBA: 0.723)"
    config_schema = {**TierStep.config_schema,
                     "model": {"_type": "string", "_default": ""},
                     "quick_genes": {"_type": "integer", "_default": 200},
                     "seed": {"_type": "integer", "_default": 0},
                     "learned_seeds": {"_type": "integer", "_default": 5},
                     "learned_folds": {"_type": "integer", "_default": 5}}

    def _evaluate(self, client):
        from .. import refdata

        spec = self.config["spec"]
        path, node = metabolism_node(spec)
        if node is None:
            return self.not_applicable("the composite has no genome-scale network (no "
                                       "DynamicFBA or PopulationMetabolism process) to knock "
                                       "genes out of")
        lac = initial_cell_lac(spec, path, node) if is_population_metabolism(node) else None
        reference = refdata.essentiality()
        notes = []
        genes = list(reference.index)
        if self.config["quick"]:
            rng = np.random.default_rng(self.config["seed"])
            share = min(1.0, self.config["quick_genes"] / len(genes))
            picked = []
            for label in (True, False):  # stratified: keep the share of essential genes
                pool = reference.index[reference["essential"] == label].to_numpy()
                k = max(1, int(round(share * pool.size)))
                picked.extend(rng.choice(pool, size=min(k, pool.size), replace=False))
            reference = reference.loc[sorted(picked)]
            genes = list(reference.index)
            notes.append(f"quick mode: {len(genes)} of the 1354 reference genes (stratified "
                         f"random sample, seed {self.config['seed']})")
        changes = {"model": self.config["model"]} if self.config["model"] else {}
        if changes:
            notes.append(f"model replaced by {self.config['model']!r} for this tier")
        if is_population_metabolism(node):
            notes.append("the population's cell at t = 0 (first cell's lac counts, initial "
                         "medium), as one DynamicFBA LP")
        screen = screen_calls(node, None, client=client, lac=lac, **changes)
        calls = screen.set_index("gene")["essential"]
        predicted = [bool(calls.get(g, False)) for g in genes]
        metrics = f1_score(predicted, reference["essential"].to_numpy(dtype=bool))
        metrics["missing"] = int(sum(g not in calls.index for g in genes))
        metrics["model"] = screen.attrs.get("model")
        metrics["method"] = screen.attrs.get("method")
        metrics["genes_in_model"] = int(len(screen))
        metrics["lps_solved"] = screen.attrs.get("lps_solved")
        if metrics["missing"]:
            notes.append(f"{metrics['missing']} reference genes are not in the model "
                         f"{metrics['model']!r}; they count as predicted non-essential")
        score = metrics["f1"]
        if is_grey_box(spec):
            seeds = 1 if self.config["quick"] else self.config["learned_seeds"]
            learned = learned_f1(node, reference, client=client, lac=lac,
                                 seeds=range(seeds), folds=self.config["learned_folds"],
                                 **changes)
            metrics = {"grey_box": learned, "glass_box": metrics,
                       "figure": learned["figure"]}
            score = learned["learned_f1"]["mean"]
            notes.append(f"grey box: the learned correction's F1 is {learned['figure']}, "
                         "mean over outer folds; the glass box's label-free screen F1 is "
                         f"{metrics['glass_box']['f1']:.3f} on the same genes")
        return self.make(PASS if score > THRESHOLD else FAIL, score, evidence=metrics,
                         notes=notes)
