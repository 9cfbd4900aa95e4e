"""Tier 2, grey box: held-out F1 of the learned essentiality correction (nested CV).

Scores, on the same outer test folds of the 1354 Monk et al. 2017 genes: the learned call
over the E. coli grey box cell's knockout features (cached; see
greybox_processes/metabolism/essentiality_features.py), the glass box's label-free call
(knockout growth < 1%), and the features-only baseline without the knockout-growth columns.

    PYTHONPATH=. python benchmarks/essentiality_learned.py --seeds 5   # minutes, 2 cores
    PYTHONPATH=. python benchmarks/essentiality_learned.py --seeds 5 --drop expression expression_missing
"""
from __future__ import annotations

import argparse
import json
import logging
import time

from greybox_processes.metabolism import reference_essentiality
from greybox_processes.metabolism.essentiality_features import DEFAULT_CACHE, _cache_paths
from greybox_processes.neural.essentiality_model import nested_cv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--inner-folds", type=int, default=3)
    parser.add_argument("--drop", nargs="*", default=[], help="feature columns to leave out")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    features = __import__("pandas").read_csv(_cache_paths(DEFAULT_CACHE)[0], index_col="gene")
    features = features.drop(columns=args.drop)
    labels = reference_essentiality()["essential"]
    started = time.perf_counter()
    result = nested_cv(features, labels, folds=args.folds, inner_folds=args.inner_folds,
                       seeds=range(args.seeds), baseline=not args.no_baseline, progress=True)
    summary = result.summary()
    summary["dropped"] = args.drop
    summary["genes"] = int(features.index.isin(labels.index).sum())
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    summary["params_chosen"] = {str(k): sum(p == dict(k) for p in result.params)
                                for k in {tuple(sorted(p.items())) for p in result.params}}
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
