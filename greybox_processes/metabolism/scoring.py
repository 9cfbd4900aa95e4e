"""Score essentiality calls against Monk et al. 2017 (M9 glucose): precision, recall, F1.

The reference table (vendored from ``../shared/refdata/essentiality/``; see SOURCES.md) lists
1354 E. coli K-12 genes, all in iJO1366, each experimentally essential or not
(``ess.experimental``). Positives are essential genes.
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["reference_essentiality", "score_essentiality", "cross_validated_f1"]


def reference_essentiality(path=None) -> pd.DataFrame:
    """The Monk et al. 2017 table, indexed by gene (b-number), with a boolean ``essential``."""
    if path is None:
        path = resources.files("greybox_processes") / "data" / "refdata" / \
            "monk2017_iML1515_essentiality_M9_glucose.csv"
    table = pd.read_csv(str(path))
    table["essential"] = table["ess.experimental"].astype(str).str.lower().eq("yes")
    return table.set_index("gene")


def _metrics(predicted: np.ndarray, truth: np.ndarray) -> dict:
    tp = int(np.sum(predicted & truth))
    fp = int(np.sum(predicted & ~truth))
    fn = int(np.sum(~predicted & truth))
    tn = int(np.sum(~predicted & ~truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn,
            "tn": tn, "n": tp + fp + fn + tn}


def score_essentiality(screen: pd.DataFrame, reference: pd.DataFrame | None = None) -> dict:
    """Precision, recall and F1 of ``screen['essential']`` on the reference genes.

    Reference genes absent from the screen count as predicted non-essential (reported as
    ``missing``).
    """
    reference = reference_essentiality() if reference is None else reference
    calls = screen.set_index("gene")["essential"].astype(bool)
    missing = int((~reference.index.isin(calls.index)).sum())
    predicted = reference.index.map(lambda g: bool(calls.get(g, False))).to_numpy(dtype=bool)
    result = _metrics(predicted, reference["essential"].to_numpy(dtype=bool))
    result["missing"] = missing
    return result


def cross_validated_f1(features: pd.DataFrame, reference: pd.DataFrame | None = None, *,
                       folds: int = 5, seed: int = 0, fit=None) -> dict:
    """Held-out F1 of a rule learned from the labels (k-fold, stratified, pooled predictions).

    ``fit(train_features, train_labels) -> predict`` returns a function mapping features to
    boolean calls. Anything tuned on the essentiality labels must be reported this way.
    """
    reference = reference_essentiality() if reference is None else reference
    genes = reference.index[reference.index.isin(features.index)]
    x = features.loc[genes]
    y = reference.loc[genes, "essential"].to_numpy(dtype=bool)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(genes), dtype=int)
    for label in (True, False):
        idx = np.nonzero(y == label)[0]
        rng.shuffle(idx)
        fold_of[idx] = np.arange(idx.size) % folds
    predicted = np.zeros(len(genes), dtype=bool)
    for k in range(folds):
        train, test = fold_of != k, fold_of == k
        predict = fit(x.iloc[train], y[train])
        predicted[test] = np.asarray(predict(x.iloc[test]), dtype=bool)
    return _metrics(predicted, y)
