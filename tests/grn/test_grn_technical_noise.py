"""SERGIO's technical noise stage."""
import numpy as np
import pytest

from greybox_processes.grn import TechnicalNoise, read_sergio, simulate
from greybox_processes.grn.technical_noise import apply_technical_noise, dropout_mask


def _expr(seed=0):
    return np.random.default_rng(seed).lognormal(1.0, 1.0, size=(500, 80))


def _dropout_fraction(shape, percentile):
    keep = dropout_mask(_expr(), np.random.default_rng(1), shape, percentile)
    return 1 - keep.mean()


def test_dropout_increases_with_percentile_and_shape():
    fr = [_dropout_fraction(2.0, p) for p in (20, 50, 65, 82, 95)]
    assert np.all(np.diff(fr) > 0)
    # above the 50th percentile, a steeper logistic drops more of the mass below the mid point
    fs = [_dropout_fraction(s, 82) for s in (0.5, 1.0, 3.0, 8.0)]
    assert np.all(np.diff(fs) > 0)


def test_umi_counts_are_nonnegative_integers():
    res = apply_technical_noise(_expr(), TechnicalNoise.sergio_example(),
                                np.random.default_rng(0))
    c = res["counts"]
    assert np.issubdtype(c.dtype, np.integer) and np.all(c >= 0)


def test_library_size_sets_cell_totals():
    tn = TechnicalNoise(library_mean=3.0, library_scale=0.5, umi=False)
    res = apply_technical_noise(_expr(), tn, np.random.default_rng(0))
    np.testing.assert_allclose(res["expr"].sum(axis=1), res["library_size"])
    assert res["counts"] is None


def test_outlier_genes_scaled_by_one_factor():
    x = _expr()
    res = apply_technical_noise(x, TechnicalNoise(outlier_prob=0.5, outlier_mean=1.0,
                                                  outlier_scale=0.5, umi=False),
                                np.random.default_rng(0))
    f = res["outlier_factor"]
    assert 0 < np.sum(f != 1.0) < x.shape[1]
    np.testing.assert_allclose(res["expr"], x * f)


def test_simulate_with_technical_noise():
    a = simulate(read_sergio("DS1"), 10, steps=20,
                 technical_noise=TechnicalNoise.sergio_example())
    assert a.layers["counts"].shape == a.shape and np.all(a.layers["counts"] >= 0)
    with pytest.raises(ValueError, match="unknown technical noise"):
        simulate(read_sergio("DS1"), 1, technical_noise={"dropout": 1})
