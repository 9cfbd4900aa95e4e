"""The grey box's learned drug-pair interactions (tier 5), judged on pairs it never saw.

A small scikit-learn model maps the label-free pair features of
:mod:`greybox_processes.metabolism.drug_features` (the cell's own responses to each drug) to
the INDIGO interaction class (synergy / additive / antagonism, band +/-0.1), trained on the 105
INDIGO training pairs. The model family is chosen by inner stratified CV among
:data:`CANDIDATES`: multinomial logistic regression, ridge regression of the INDIGO score then
classified with the band, and shallow gradient boosting. Every figure is held out:

* ``pairs``: stratified outer folds of pairs (a test pair is never in its training set,
  refused by :func:`check_disjoint`); seeds change outer and inner splits;
* ``drug``: leave one drug out (all pairs containing it are the test fold), the harder split:
  the drug's own pairs teach nothing about it.

Beside the learned accuracy the same test pairs score the glass box (its Loewe class where it
simulates the pair, else counted wrong, as tier 5 counts it) and the majority class of the
training fold. Accuracies are pooled per seed (every pair predicted once) over all pairs and
over the pairs on distinct mechanistic processes (the set tier 5 scores).

The pair-feature table of the E. coli grey box's cell is cached in ``data/synergy/`` with the
fingerprint of the cell's initial LP; :func:`cached_pair_features` recomputes when it differs.
Regenerate: ``python -m greybox_processes.neural.synergy_model --spec
composites/ecoli_grey_box.yaml`` (about a minute on 2 cores, most of it loading iJO1366).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..metabolism.drug_features import (DRUG_TARGETS, FEATURE_VERSION, MECHANISTIC,
                                        classification_accuracy, classify_index,
                                        classify_indigo,
                                        pair_features, pair_key)
from ..metabolism.drugs import DrugCell
from ..metabolism.essentiality_features import model_fingerprint
from ..wcm_hard.tiers.base import (initial_cell_lac, is_population_metabolism,
                                  metabolism_instance, metabolism_node)
from .essentiality_model import FoldLeakError

__all__ = ["CANDIDATES", "FoldLeakError", "check_disjoint", "training_table", "fit_model",
           "cell_fingerprint", "write_cache",
           "nested_cv", "SynergyCVResult", "distinct_pair_mask", "glass_box_classes", "cached_pair_features", "spec_drug_cell",
           "DEFAULT_CACHE"]

log = logging.getLogger(__name__)

DEFAULT_CACHE = "ecoli_grey_box_pair_features.csv"
#: (kind, hyper-parameter): logistic C, ridge alpha, boosting tree depth
CANDIDATES = (("logistic", 0.1), ("logistic", 1.0), ("ridge", 1.0), ("ridge", 10.0),
              ("boosting", 1), ("boosting", 2))


def check_disjoint(train_pairs, test_pairs) -> None:
    """Refuse a training set that contains a held-out pair (:class:`FoldLeakError`)."""
    leaked = sorted(set(map(str, train_pairs)) & set(map(str, test_pairs)))
    if leaked:
        raise FoldLeakError(f"the training set contains {len(leaked)} held-out drug pair(s) "
                            f"{leaked[:10]}: a held-out figure needs disjoint folds")


def training_table(pairs: pd.DataFrame, features: pd.DataFrame):
    """``(x, scores)`` for INDIGO rows ``pairs`` (Drug_1, Drug_2, Score), index :func:`pair_key`.

    Raises ``ValueError`` naming the pair for a NaN score, a pair listed twice (in either
    order) or a pair without features, and naming pairs and columns of non-finite features.
    """
    keys = [pair_key(a, b) for a, b in zip(pairs["Drug_1"], pairs["Drug_2"])]
    scores = pd.Series(pairs["Score"].to_numpy(dtype=float), index=keys, name="score")
    bad = scores.index[~np.isfinite(scores.to_numpy())]
    if len(bad):
        raise ValueError(f"non-finite INDIGO score (training target) for pair(s) {list(bad)}")
    twice = sorted(scores.index[scores.index.duplicated()])
    if twice:
        raise ValueError(f"pair(s) {twice} listed more than once: their copies would fall "
                         "into different folds")
    missing = [k for k in keys if k not in features.index]
    if missing:
        raise ValueError(f"no features for pair(s) {missing[:10]}: a drug lacks a target in "
                         "DRUG_TARGETS (greybox_processes.metabolism.drug_features)")
    x = features.loc[keys]
    values = x.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        rows, cols = np.nonzero(~np.isfinite(values))
        raise ValueError(f"non-finite features for pair(s) {sorted({keys[i] for i in rows})} "
                         f"in column(s) {sorted({str(x.columns[j]) for j in cols})}")
    return x, scores


class _Model:
    """One candidate: ``fit(x, scores)`` and ``predict(x)`` -> class labels."""

    def __init__(self, kind: str, param, seed: int):
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.kind = kind
        if kind == "logistic":
            self.estimator = make_pipeline(StandardScaler(),
                                           LogisticRegression(C=param, max_iter=2000))
        elif kind == "ridge":
            self.estimator = make_pipeline(StandardScaler(), Ridge(alpha=param))
        elif kind == "boosting":
            self.estimator = GradientBoostingClassifier(n_estimators=50, max_depth=param,
                                                        learning_rate=0.1, random_state=seed)
        else:
            raise ValueError(f"unknown model kind {kind!r}; known: logistic, ridge, boosting")

    def fit(self, x, scores):
        target = scores if self.kind == "ridge" else classify_indigo(scores)
        self.estimator.fit(x, target)
        return self

    def predict(self, x):
        predicted = self.estimator.predict(x)
        return classify_indigo(predicted) if self.kind == "ridge" else np.asarray(predicted)


def _folds(classes, k: int, seed: int):
    from sklearn.model_selection import StratifiedKFold

    k = max(2, min(k, int(pd.Series(classes).value_counts().max())))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(classes)), classes))


def fit_model(x: pd.DataFrame, scores: pd.Series, *, seed: int, inner_folds: int = 3,
              held_out=()):
    """Fit the candidate with the best inner-CV accuracy on ``x``/``scores`` (index: pairs).

    ``held_out``: pairs this model will be judged on; refused if any is in ``x``
    (:class:`FoldLeakError`). Returns ``(model, (kind, param))``.
    """
    import warnings

    check_disjoint(x.index, held_out)
    if not np.isfinite(scores.to_numpy(dtype=float)).all():
        bad = list(scores.index[~np.isfinite(scores.to_numpy(dtype=float))])
        raise ValueError(f"non-finite INDIGO score (training target) for pair(s) {bad}")
    values, target = x.to_numpy(dtype=float), scores.to_numpy(dtype=float)
    classes = classify_indigo(target)
    best, best_accuracy = None, -1.0
    with warnings.catch_warnings():  # a rare class may have fewer members than inner folds
        warnings.simplefilter("ignore", UserWarning)
        folds = _folds(classes, inner_folds, seed)
        for kind, param in CANDIDATES:
            correct = 0
            for train, test in folds:
                model = _Model(kind, param, seed).fit(values[train], target[train])
                correct += int(np.sum(model.predict(values[test]) == classes[test]))
            if correct / len(classes) > best_accuracy:
                best, best_accuracy = (kind, param), correct / len(classes)
    return _Model(*best, seed).fit(values, target), best


@dataclass
class SynergyCVResult:
    """Held-out predictions per seed of one split (``'pairs'`` or ``'drug'``)."""

    split: str
    folds: int
    inner_folds: int
    seeds: list
    observed: np.ndarray
    distinct: np.ndarray
    glass: np.ndarray
    learned: list = field(default_factory=list)
    majority: list = field(default_factory=list)
    chosen: list = field(default_factory=list)

    def summary(self) -> dict:
        """Accuracies (share of pairs, unitless) pooled per seed: mean, std (ddof 1), n; over
        ``all`` pairs and the ``distinct`` ones (None when there are none)."""
        def stats(values):
            values = np.asarray(values, dtype=float)
            return {"mean": float(values.mean()), "n": int(values.size),
                    "std": float(values.std(ddof=1)) if values.size > 1 else 0.0}

        def accuracy(predictions, keep):
            return [classification_accuracy(p[keep], self.observed[keep]) for p in predictions]

        every = np.ones(self.observed.size, dtype=bool)
        how = ("outer folds of pairs" if self.split == "pairs" else "leave one drug out")
        out = {"figure": f"held-out (nested CV, {self.folds} {how}, inner {self.inner_folds} "
                         f"folds, {len(self.seeds)} seeds)",
               "pairs": int(self.observed.size), "distinct_pairs": int(self.distinct.sum())}
        for name, keep in (("all", every), ("distinct", self.distinct)):
            if not keep.any():  # no pair the glass box scores (e.g. synthetic drugs)
                out[name] = None
                continue
            out[name] = {"learned": stats(accuracy(self.learned, keep)),
                         "majority": stats(accuracy(self.majority, keep)),
                         "glass_box": classification_accuracy(self.glass[keep],
                                                              self.observed[keep])}
        kinds = pd.Series([kind for kind, _ in self.chosen]).value_counts()
        out["models_chosen"] = {str(k): int(v) for k, v in kinds.items()}
        return out


def distinct_pair_mask(keys) -> np.ndarray:
    """True for each :func:`pair_key` whose drugs act on two distinct mechanistic processes
    (the pairs tier 5's glass box scores)."""
    targets = [[DRUG_TARGETS.get(d) for d in str(key).split("+")] for key in keys]
    return np.array([len(set(t)) == 2 and all(x in MECHANISTIC for x in t) for t in targets],
                    dtype=bool)


def glass_box_classes(x: pd.DataFrame, band: float = 0.1) -> np.ndarray:
    """The glass box's class per pair of ``x`` from its Loewe index (``log2_loewe``) on the
    pairs it scores, ``'not simulated'`` elsewhere (as tier 5 counts them)."""
    scored = distinct_pair_mask(x.index) & (x["loewe_known"].to_numpy() == 1)
    return np.where(scored, classify_index(2.0 ** x["log2_loewe"].to_numpy(), band),
                    "not simulated")


def _outer_folds(split, x, classes, folds, seed):
    if split == "pairs":
        return _folds(classes, folds, seed)
    drugs = sorted({d for key in x.index for d in key.split("+")})
    return [(np.flatnonzero([drug not in key.split("+") for key in x.index]),
             np.flatnonzero([drug in key.split("+") for key in x.index])) for drug in drugs]


def nested_cv(x: pd.DataFrame, scores: pd.Series, glass, *, split: str = "pairs",
              folds: int = 5, inner_folds: int = 3, seeds=(0, 1, 2, 3, 4)) -> SynergyCVResult:
    """Nested CV of the learned class on the pairs of ``x``/``scores`` (:func:`training_table`).

    ``glass``: the glass box's class per pair (``'not simulated'`` where it has none);
    ``split``: ``'pairs'`` (stratified folds) or ``'drug'`` (leave one drug out).
    """
    from threadpoolctl import threadpool_limits

    if split not in ("pairs", "drug"):
        raise ValueError(f"split must be 'pairs' or 'drug', got {split!r}")
    observed = classify_indigo(scores.to_numpy(dtype=float))
    distinct = distinct_pair_mask(x.index)
    result = SynergyCVResult(split, 0, inner_folds, list(seeds), observed, distinct,
                             np.asarray(glass, dtype=object).astype(str))
    with threadpool_limits(limits=1):  # the machine is shared; the models are small
        for seed in seeds:
            learned = np.empty(observed.size, dtype=object)
            majority = np.empty(observed.size, dtype=object)
            outer = _outer_folds(split, x, observed, folds, seed)
            result.folds = len(outer)
            for train, test in outer:
                assert not set(train) & set(test)  # indices: a test pair never trains
                model, chosen = fit_model(x.iloc[train], scores.iloc[train], seed=seed,
                                          inner_folds=inner_folds, held_out=x.index[test])
                learned[test] = model.predict(x.iloc[test].to_numpy(dtype=float))
                classes, counts = np.unique(observed[train], return_counts=True)
                majority[test] = classes[np.argmax(counts)]
                result.chosen.append(chosen)
            result.learned.append(learned.astype(str))
            result.majority.append(majority.astype(str))
            log.info("%s split, seed %d: held-out accuracy %.3f", split, seed,
                     classification_accuracy(result.learned[-1], observed))
    return result


def _cache_paths(cache) -> tuple[Path, Path]:
    folder = Path(str(resources.files("greybox_processes") / "data" / "synergy"))
    path = Path(cache) if Path(cache).is_absolute() else folder / str(cache)
    return path, path.with_name(path.name.split(".")[0] + ".json")


def cell_fingerprint(cell: DrugCell) -> str:
    """SHA-1 of the cell's initial LP (reactions, bounds, rules, objective), the drugs'
    targets and the feature version: equal fingerprints -> equal features."""
    with cell.process.initial_lp() as model:
        return model_fingerprint(model, f"{FEATURE_VERSION}|{sorted(DRUG_TARGETS.items())}")


def cached_pair_features(cell: DrugCell, *, cache=DEFAULT_CACHE) -> tuple[pd.DataFrame, str]:
    """``(pair features, source)``: the cached table when its fingerprint matches the cell
    (source ``'cache <file>'``), else a fresh :func:`pair_features` (``'computed'``)."""
    path, meta_path = _cache_paths(cache)
    if path.exists() and meta_path.exists():
        if json.loads(meta_path.read_text()).get("fingerprint") == cell_fingerprint(cell):
            return pd.read_csv(path, index_col="pair").astype(float), f"cache {path.name}"
        log.info("cached pair features %s are for another cell (fingerprint differs); "
                 "computing them", path)
    return pair_features(cell), "computed"


def write_cache(cell: DrugCell, *, spec: str, cache=DEFAULT_CACHE) -> Path:
    """Compute the pair features of ``cell`` and write the cache and its metadata."""
    path, meta_path = _cache_paths(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pair_features(cell)
    table.to_csv(path, float_format="%.10g")
    meta_path.write_text(json.dumps({
        "fingerprint": cell_fingerprint(cell), "version": FEATURE_VERSION,
        "model": cell.process.model.id, "spec": spec, "pairs": len(table),
        "derived_from": "the cell's LP and the drugs' targets only (no interaction scores)",
        "command": f"python -m greybox_processes.neural.synergy_model --spec {spec}"},
        indent=1))
    return path


def spec_drug_cell(spec: str) -> DrugCell:
    """The :class:`DrugCell` of a composite spec's cell at ``t = 0``, as tier 5 builds it."""
    path, node = metabolism_node(spec)
    if node is None:
        raise ValueError(f"{spec}: no DynamicFBA or PopulationMetabolism node to dose; use "
                         "a composite with a metabolism (e.g. composites/ecoli_grey_box.yaml)")
    lac = initial_cell_lac(spec, path, node) if is_population_metabolism(node) else None
    return DrugCell.from_process(metabolism_instance(node, lac=lac))


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="write the pair-feature cache of a spec's "
                                                 "cell (data/synergy/)")
    parser.add_argument("--spec", default="composites/ecoli_grey_box.yaml")
    parser.add_argument("--cache", default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    log.info("wrote %s", write_cache(spec_drug_cell(args.spec), spec=args.spec,
                                     cache=args.cache))


if __name__ == "__main__":
    main()
