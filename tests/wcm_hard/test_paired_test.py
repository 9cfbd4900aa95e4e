"""The paired signed-rank test behind tier 7's "significantly outperform": exact where it
should be, valid under the null, and honest about infinite scores and identical replicates."""
import math

import numpy as np
import pytest
from scipy import stats

from greybox_processes.wcm_hard.tiers.paired_test import (
    EXACT_PAIRS, paired_comparison, signed_rank_p_less)


@pytest.mark.parametrize("n", [1, 3, 5, 8, 12, EXACT_PAIRS])
def test_exact_p_equals_the_reference_implementation(n):
    rng = np.random.default_rng(n)
    cell = rng.normal(size=n)
    baseline = cell + rng.normal(0.4, 1.0, size=n)
    expected = stats.wilcoxon(cell, baseline, alternative="less", method="exact").pvalue
    assert signed_rank_p_less(cell, baseline) == pytest.approx(expected, rel=1e-12)


def test_many_pairs_use_the_normal_approximation_with_continuity_correction():
    rng = np.random.default_rng(7)
    cell = rng.normal(size=40)
    baseline = cell + rng.normal(0.3, 1.0, size=40)
    expected = stats.wilcoxon(cell, baseline, alternative="less", method="approx",
                              correction=True).pvalue
    assert signed_rank_p_less(cell, baseline) == pytest.approx(expected, rel=1e-9)


def test_the_test_holds_its_level_under_the_null():
    """Symmetric differences: P(p < alpha) <= alpha (the exact test is conservative with
    discrete p-values), and it is not degenerate either (it does reject sometimes)."""
    rng = np.random.default_rng(0)
    n, trials, alpha = 8, 4000, 0.05
    rejections = sum(signed_rank_p_less(rng.normal(size=n), rng.normal(size=n)) < alpha
                     for _ in range(trials))
    rate = rejections / trials
    assert rate <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)
    assert rate > 0.01


def test_the_sign_matters():
    better = paired_comparison([0.1, 0.2, 0.15, 0.12, 0.18], [1.0, 1.1, 0.9, 1.2, 1.05])
    worse = paired_comparison([1.0, 1.1, 0.9, 1.2, 1.05], [0.1, 0.2, 0.15, 0.12, 0.18])
    assert better["p"] == pytest.approx(1 / 32) and better["significant"]
    assert better["wins"] == 5
    assert worse["p"] == pytest.approx(1.0) and not worse["significant"]


def test_an_unbounded_baseline_score_is_the_largest_difference():
    """A mechanistic-only population that never recovers has an infinite lag error."""
    result = paired_comparison([0.16, 0.2, 0.1, 0.15, 0.2], [math.inf] * 5)
    assert result["p"] == pytest.approx(1 / 32) and result["significant"]
    assert result["baseline_mean"] == math.inf and result["baseline_sd"] is None
    assert result["cell_mean"] == pytest.approx(0.162)
    # an unbounded cell against a finite baseline: the largest difference, against the cell
    assert signed_rank_p_less([math.inf, 0.1, 0.1], [1.0, 0.2, 0.2]) > 0.5


def test_two_unbounded_scores_are_a_tie():
    assert signed_rank_p_less([math.inf] * 4, [math.inf] * 4) == 1.0
    result = paired_comparison([math.inf, 0.1], [math.inf, 0.3])
    assert result["ties"] == 1 and result["wins"] == 1


def test_identical_replicates_count_as_one_pair():
    """Deterministic runs that ignore what the replicates set must not look significant."""
    result = paired_comparison([0.16] * 5, [1.0] * 5)
    assert result["identical_replicates"] and result["p"] == pytest.approx(0.5)
    assert not result["significant"]


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="NaN"):
        paired_comparison([0.1, math.nan], [0.2, 0.3])
    with pytest.raises(ValueError, match="same length"):
        signed_rank_p_less([0.1, 0.2], [0.3])
    with pytest.raises(ValueError, match="at least one"):
        paired_comparison([], [])
    with pytest.raises(ValueError, match="alpha"):
        paired_comparison([0.1], [0.2], alpha=1.5)
