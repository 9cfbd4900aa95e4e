"""Tier 5, grey box: held-out accuracy of the learned drug-pair interactions (nested CV).

Scores, on the same held-out pairs of the 105 INDIGO training pairs (3 classes, band 0.1):
the learned model over the E. coli grey box cell's label-free pair features (cached; see
greybox_processes/neural/synergy_model.py), the glass box's Loewe class (pairs it does not
simulate count as wrong, as in tier 5) and the training folds' majority class. Two splits:
stratified outer folds of pairs, and leave one drug out. Rows 'distinct' keep only the pairs
on distinct mechanistic processes (the set tier 5 scores). The target-level ceiling is
in-sample: the best any classifier that sees only the two drugs' targets can do.

    PYTHONPATH=. python benchmarks/synergy_learned.py --seeds 5   # about 2 min on 2 cores
"""
from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
import pandas as pd

from greybox_processes.metabolism.drug_features import DRUG_TARGETS, classify_indigo
from greybox_processes.neural.synergy_model import (DEFAULT_CACHE, _cache_paths,
                                                    distinct_pair_mask, glass_box_classes,
                                                    nested_cv, training_table)
from greybox_processes.wcm_hard import refdata
from greybox_processes.wcm_hard.tiers.t5_synergy import target_level_ceiling


def _ceiling(keys, observed) -> float:
    drugs = [k.split("+") for k in keys]
    frame = pd.DataFrame({"target_1": [DRUG_TARGETS[a] for a, _ in drugs],
                          "target_2": [DRUG_TARGETS[b] for _, b in drugs]})
    return target_level_ceiling(frame, observed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--inner-folds", type=int, default=3)
    parser.add_argument("--drop", nargs="*", default=[], help="feature columns to leave out")
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    features = pd.read_csv(_cache_paths(DEFAULT_CACHE)[0], index_col="pair")
    x, scores = training_table(refdata.drug_pairs(), features)
    glass = glass_box_classes(x)  # before dropping: the glass box always has its index
    x = x.drop(columns=args.drop)
    observed = classify_indigo(scores)
    distinct = distinct_pair_mask(x.index)
    summaries = {}
    for split in ("pairs", "drug"):
        started = time.perf_counter()
        result = nested_cv(x, scores, glass, split=split, folds=args.folds,
                           inner_folds=args.inner_folds, seeds=range(args.seeds))
        summaries[split] = result.summary() | {"wall_s": round(time.perf_counter() - started,
                                                                 1)}
    if args.json:
        print(json.dumps(summaries, indent=1))
    print(f"features: {x.shape[1]} columns; dropped {args.drop or 'none'}")
    print("| split | pairs | learned (held-out, mean ± sd over seeds) | glass box | "
          "majority of training folds | target-level ceiling (in-sample) |")
    print("|---|---|---|---|---|---|")
    for split, summary in summaries.items():
        for subset, keep in (("all", np.ones(len(x), bool)), ("distinct", distinct)):
            row = summary[subset]
            learned, majority = row["learned"], row["majority"]
            print(f"| {summary['figure']} | {subset} ({int(keep.sum())}) | "
                  f"{learned['mean']:.3f} ± {learned['std']:.3f} | {row['glass_box']:.3f} | "
                  f"{majority['mean']:.3f} | {_ceiling(x.index[keep], observed[keep]):.3f} |")
        print(f"<!-- {split}: models chosen {summary['models_chosen']}, "
              f"{summary['wall_s']} s -->")


if __name__ == "__main__":
    main()
