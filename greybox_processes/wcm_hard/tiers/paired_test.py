"""Paired comparisons over replicates: does a cell score lower than its baseline, significantly?

Tier 7 compares the grey box with its baselines on replicate runs (training seeds, population
seeds), paired by replicate. "Significantly outperform" (seed 000) is read as a one-sided
Wilcoxon signed-rank test on the paired differences ``cell - baseline`` (lower is better for both
of tier 7's scores): no normality assumed, and it is exact for the handful of replicates a tier
can afford.

Infinite scores are allowed (a population that never recovers has an unbounded lag error): an
infinite difference takes the largest rank, and two infinite scores are a tie. Zero differences
are dropped (Wilcoxon's convention), so identical runs never count as evidence either way.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["signed_rank_p_less", "paired_comparison"]

#: up to this many non-zero pairs the null distribution is enumerated (2^n sign patterns)
EXACT_PAIRS = 20


def _differences(cell, baseline) -> np.ndarray:
    cell = np.asarray(cell, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    if cell.shape != baseline.shape or cell.ndim != 1:
        raise ValueError(f"paired scores need two 1-D arrays of the same length, got shapes "
                         f"{cell.shape} and {baseline.shape}")
    if np.isnan(cell).any() or np.isnan(baseline).any():
        raise ValueError("a score is NaN: a replicate produced no score; drop it or rerun it "
                         "(a NaN cannot be ranked)")
    same = cell == baseline  # also inf == inf: a tie
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, cell - baseline)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of ``values``; ties share their mean rank; inf ranks last."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_values[stop + 1] == sorted_values[start]:
            stop += 1
        ranks[order[start:stop + 1]] = 0.5 * (start + stop) + 1.0
        start = stop + 1
    return ranks


def signed_rank_p_less(cell, baseline) -> float:
    """One-sided p-value of the Wilcoxon signed-rank test that ``cell`` scores below ``baseline``.

    ``cell`` and ``baseline`` are paired scores (same length). The statistic is the sum of the
    ranks of ``|cell - baseline|`` over the pairs where the cell is worse; p is the chance of a
    sum that small when each difference's sign is a fair coin. Exact (all sign patterns, ties
    keeping their mean ranks) up to :data:`EXACT_PAIRS` non-zero pairs, the normal approximation
    with the tie correction beyond. No non-zero pair: p = 1.
    """
    d = _differences(cell, baseline)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return 1.0
    ranks = _ranks(np.abs(d))
    observed = float(ranks[d > 0].sum())
    if n <= EXACT_PAIRS:
        # 2^n sums of ranks over the subsets of pairs with a positive sign
        totals = np.zeros(1)
        for r in ranks:
            totals = np.concatenate([totals, totals + r])
        return float(np.mean(totals <= observed + 1e-9))
    mean = ranks.sum() / 2.0
    variance = float((ranks ** 2).sum() / 4.0)
    z = (observed - mean + 0.5) / math.sqrt(variance)  # continuity correction
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _spread(values: np.ndarray) -> tuple:
    if not np.isfinite(values).all():
        return (math.inf if np.isinf(values).any() else math.nan), None
    sd = float(values.std(ddof=1)) if len(values) > 1 else None
    return float(values.mean()), sd


def paired_comparison(cell, baseline, *, alpha: float = 0.05) -> dict:
    """Mean, spread, wins and the one-sided signed-rank test of paired replicate scores.

    Returns ``{'n', 'cell', 'baseline', 'cell_mean', 'cell_sd', 'baseline_mean',
    'baseline_sd', 'wins', 'ties', 'p', 'alpha', 'significant', 'identical_replicates'}``.
    ``significant`` is ``p < alpha``. When every replicate gave the same pair of scores (the runs
    did not depend on what the replicates changed), the replicates are one observation: p is
    that of a single pair (0.5 if the cell won) and ``identical_replicates`` is True.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    cell = np.asarray(cell, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    d = _differences(cell, baseline)
    if len(d) == 0:
        raise ValueError("no replicates to compare: give at least one paired score")
    identical = len(d) > 1 and bool(np.all(cell == cell[0]) and np.all(baseline == baseline[0]))
    p = signed_rank_p_less(cell[:1], baseline[:1]) if identical else \
        signed_rank_p_less(cell, baseline)
    cell_mean, cell_sd = _spread(cell)
    base_mean, base_sd = _spread(baseline)
    return {"n": int(len(d)), "cell": cell.tolist(), "baseline": baseline.tolist(),
            "cell_mean": cell_mean, "cell_sd": cell_sd,
            "baseline_mean": base_mean, "baseline_sd": base_sd,
            "wins": int((d < 0).sum()), "ties": int((d == 0).sum()), "p": p, "alpha": alpha,
            "significant": bool(p < alpha), "identical_replicates": bool(identical)}

