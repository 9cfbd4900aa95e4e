"""The grey box's learned essentiality correction (tier 2), judged on genes it never saw.

A gradient-boosted tree classifier (scikit-learn ``HistGradientBoostingClassifier``) maps the
label-free knockout features of :mod:`greybox_processes.metabolism.essentiality_features`
to the essential / non-essential call and is trained on the Monk et al. 2017 labels. Every
figure is held out by nested cross-validation: stratified outer folds give the reported F1
(the genes of a test fold are never in its training set, asserted on indices by
:func:`check_disjoint`), and inner stratified folds of each outer training set choose the
hyper-parameters (tree size, class weighting). Seeds change both fold splits.

Beside the learned F1 the same outer test folds score:

* the glass box: the mechanism's own call, knockout growth < 1% of the wild type
  (``growth_method``), nothing learned;
* the features-only baseline: the same classifier without the mechanism's knockout-growth
  columns (:data:`~greybox_processes.metabolism.essentiality_features.GROWTH_COLUMNS`), to
  show what the mechanism contributes.

No weights are shipped: the tier refits on each run (about a minute per seed on 2 cores).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..metabolism.essentiality_features import GROWTH_COLUMNS
from ..metabolism.scoring import _metrics

__all__ = ["FoldLeakError", "check_features", "check_disjoint", "stratified_folds",
           "fit_classifier", "nested_cv", "NestedCVResult", "GLASS_BOX_THRESHOLD"]

log = logging.getLogger(__name__)

#: relative knockout growth below which the glass box calls a gene essential (the screen's)
GLASS_BOX_THRESHOLD = 0.01
_GRID = [{"max_leaf_nodes": leaves, "class_weight": weight}
         for leaves in (7, 15) for weight in (None, "balanced")]


class FoldLeakError(ValueError):
    """A training set contains a gene of the fold it is judged on."""


def check_features(features: pd.DataFrame, where: str = "features") -> None:
    """Raise ``ValueError`` naming the genes (rows) and columns with non-finite values."""
    values = features.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        genes = sorted({str(features.index[i]) for i in rows})
        columns = sorted({str(features.columns[j]) for j in cols})
        raise ValueError(f"{where}: non-finite feature values for gene(s) {genes[:10]} in "
                         f"column(s) {columns[:10]}; recompute the knockout features "
                         "(python -m greybox_processes.metabolism.essentiality_features)")


def check_disjoint(train_genes, test_genes) -> None:
    """Refuse a training set that contains a held-out gene (:class:`FoldLeakError`)."""
    leaked = sorted(set(map(str, train_genes)) & set(map(str, test_genes)))
    if leaked:
        raise FoldLeakError(f"the training set contains {len(leaked)} held-out gene(s) "
                            f"{leaked[:10]}: a held-out figure needs disjoint folds")


def stratified_folds(labels, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train_indices, test_indices)]`` of ``k`` stratified folds (seeded shuffle)."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels, dtype=bool)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(labels.size), labels)]


def _f1(predicted, truth) -> float:

    return _metrics(np.asarray(predicted, bool), np.asarray(truth, bool))["f1"]


def fit_classifier(features: pd.DataFrame, labels, *, seed: int, inner_folds: int = 3,
                   held_out=(), max_iter: int = 100):
    """Fit on ``features``/``labels`` with hyper-parameters chosen by inner stratified CV
    (F1 of the essential class). ``held_out``: genes this model will be judged on; refused
    if any is in ``features`` (:class:`FoldLeakError`). ``max_iter``: boosting rounds.
    Returns ``(model, chosen params)``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    check_disjoint(features.index, held_out)
    check_features(features, "training features")
    labels = np.asarray(labels, dtype=bool)
    base = HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=0.1,
                                          early_stopping=False, random_state=seed)
    search = GridSearchCV(base, [{k: [v] for k, v in p.items()} for p in _GRID],
                          scoring="f1", refit=True, n_jobs=1,
                          cv=StratifiedKFold(inner_folds, shuffle=True, random_state=seed))
    search.fit(features.to_numpy(dtype=float), labels)
    return search.best_estimator_, dict(search.best_params_)


@dataclass
class NestedCVResult:
    """Held-out F1 per (seed, outer fold) of the learned model, the glass box's call and
    the features-only baseline, on the same test genes."""

    folds: int
    inner_folds: int
    seeds: list
    learned: list = field(default_factory=list)
    glass_box: list = field(default_factory=list)
    features_only: list = field(default_factory=list)
    pooled_learned: list = field(default_factory=list)
    params: list = field(default_factory=list)
    test_genes: list = field(default_factory=list)

    def summary(self) -> dict:
        """The held-out figures as plain numbers: mean, std (ddof 1) and n of each F1 (unitless)."""
        def stats(values):
            values = np.asarray(values, dtype=float)
            return {"mean": float(values.mean()), "std": float(values.std(ddof=1))
                    if values.size > 1 else 0.0, "n": int(values.size)}

        out = {"figure": f"held-out (nested CV, {self.folds} folds, inner {self.inner_folds} "
                         f"folds, {len(self.seeds)} seeds)",
               "learned_f1": stats(self.learned), "glass_box_f1": stats(self.glass_box),
               "learned_pooled_f1_per_seed": [round(v, 4) for v in self.pooled_learned]}
        if self.features_only:
            out["features_only_f1"] = stats(self.features_only)
        return out


def nested_cv(features: pd.DataFrame, labels: pd.Series, *, folds: int = 5,
              inner_folds: int = 3, seeds=(0, 1, 2, 3, 4), baseline: bool = True,
              growth_columns=None, progress: bool = False,
              max_iter: int = 100) -> NestedCVResult:
    """Nested cross-validation of the learned call on the genes both tables share.

    ``labels``: boolean essential calls indexed by gene. ``growth_columns``: the mechanism's
    knockout-growth columns (first one is the glass box's call), dropped for the baseline.
    ``max_iter``: boosting rounds of each classifier.
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm


    growth_columns = [c for c in (growth_columns or GROWTH_COLUMNS) if c in features.columns]
    genes = features.index[features.index.isin(labels.index)]
    x = features.loc[genes]
    check_features(x)
    y = labels.loc[genes].to_numpy(dtype=bool)
    glass = x[growth_columns[0]].to_numpy() < GLASS_BOX_THRESHOLD
    reduced = x.drop(columns=growth_columns)
    result = NestedCVResult(folds=folds, inner_folds=inner_folds, seeds=list(seeds))
    with threadpool_limits(limits=1):  # the machine is shared; trees are small
        for seed in tqdm(list(seeds), desc="nested CV seeds", disable=not progress):
            pooled = np.zeros(y.size, dtype=bool)
            for train, test in stratified_folds(y, folds, seed):
                assert not set(train) & set(test)  # indices: a test gene never trains
                model, params = fit_classifier(x.iloc[train], y[train], seed=seed,
                                               inner_folds=inner_folds,
                                               held_out=x.index[test], max_iter=max_iter)
                pooled[test] = model.predict(x.iloc[test].to_numpy(dtype=float))
                result.learned.append(_f1(pooled[test], y[test]))
                result.glass_box.append(_f1(glass[test], y[test]))
                result.params.append(params)
                result.test_genes.append(list(x.index[test]))
                if baseline:
                    model, _ = fit_classifier(reduced.iloc[train], y[train], seed=seed,
                                              inner_folds=inner_folds,
                                              held_out=x.index[test], max_iter=max_iter)
                    result.features_only.append(_f1(
                        model.predict(reduced.iloc[test].to_numpy(dtype=float)), y[test]))
            result.pooled_learned.append(_f1(pooled, y))
            log.info("seed %d: pooled held-out F1 %.3f", seed, result.pooled_learned[-1])
    return result
