"""SERGIO's technical-noise stage (Splat-like), reimplemented with numpy.

Same math as SERGIO's ``outlier_effect``, ``lib_size_effect``,
``dropout_indicator`` and ``convert_to_UMIcounts`` (v1 and v2 agree), but on a
``(n_cells, n_genes)`` matrix and with an explicit ``numpy.random.Generator``:

1. outlier genes: each gene is an outlier with probability ``outlier_prob``;
   an outlier gene's expression is multiplied in every cell by one factor
   ``~ LogNormal(outlier_mean, outlier_scale)``;
2. library size: each cell is rescaled so that its total becomes a factor
   ``~ LogNormal(library_mean, library_scale)``;
3. dropout: with ``m`` the ``dropout_percentile``-th percentile of
   ``log(1 + x)`` over the whole matrix, entry ``x`` is kept with probability
   ``1 / (1 + exp(-dropout_shape * (log(1 + x) - m)))``, else set to 0;
4. UMI counts: ``Poisson(x)``.

A stage runs when all of its parameters are given (not ``None``). SERGIO
skips a stage when a parameter is falsy, so e.g. ``outlier_mean=0`` disables
outliers there but not here.
"""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["TechnicalNoise", "apply_technical_noise", "outlier_effect", "library_size_effect",
           "dropout_mask", "umi_counts"]


@dataclasses.dataclass(frozen=True)
class TechnicalNoise:
    """Parameters of the technical-noise stage (``None`` disables a stage)."""

    outlier_prob: float | None = None
    outlier_mean: float | None = None
    outlier_scale: float | None = None
    library_mean: float | None = None
    library_scale: float | None = None
    dropout_shape: float | None = None
    dropout_percentile: float | None = None
    umi: bool = True

    @classmethod
    def sergio_example(cls) -> "TechnicalNoise":
        """The values used for DS6-like data in SERGIO's README/demo notebook."""
        return cls(outlier_prob=0.01, outlier_mean=0.8, outlier_scale=1.0, library_mean=4.6,
                   library_scale=0.4, dropout_shape=6.5, dropout_percentile=82.0, umi=True)

    def validate(self) -> None:
        """Raise ValueError for a probability outside [0, 1], a negative sigma or a percentile
        outside [0, 100].
        """
        if self.outlier_prob is not None and not 0 <= self.outlier_prob <= 1:
            raise ValueError("outlier_prob must lie in [0, 1]")
        for name in ("outlier_scale", "library_scale"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"{name} (a log-normal sigma) must be >= 0")
        if self.dropout_percentile is not None and not 0 <= self.dropout_percentile <= 100:
            raise ValueError("dropout_percentile must lie in [0, 100]")

    @classmethod
    def coerce(cls, value) -> "TechnicalNoise | None":
        """Accept ``None``, a TechnicalNoise or a dict of its fields."""
        if value is None or isinstance(value, cls):
            out = value
        elif isinstance(value, dict):
            unknown = set(value) - {f.name for f in dataclasses.fields(cls)}
            if unknown:
                raise ValueError(f"unknown technical noise parameters {sorted(unknown)}")
            out = cls(**value)
        else:
            raise ValueError("technical_noise must be None, a TechnicalNoise or a dict")
        if out is not None:
            out.validate()
        return out


def outlier_effect(expr, rng, prob, mean, scale):
    """Scale outlier genes. expr: (n_cells, n_genes). Returns (new expr, (n_genes,) factors)."""
    n_genes = expr.shape[1]
    is_outlier = rng.binomial(1, prob, size=n_genes).astype(bool)
    factors = np.ones(n_genes)
    factors[is_outlier] = rng.lognormal(mean, scale, size=int(is_outlier.sum()))
    return expr * factors[None, :], factors


def library_size_effect(expr, rng, mean, scale):
    """Rescale each cell's total to a log-normal library size.

    Returns (new expr, (n_cells,) library sizes). Cells with total 0 stay 0.
    """
    lib = rng.lognormal(mean, scale, size=expr.shape[0])
    total = expr.sum(axis=1)
    factor = np.divide(lib, total, out=np.zeros_like(lib), where=total > 0)
    return expr * factor[:, None], lib


def dropout_mask(expr, rng, shape, percentile):
    """Boolean (n_cells, n_genes) mask, True where the entry is KEPT."""
    logx = np.log1p(expr)
    mid = np.percentile(logx, percentile)
    p_keep = 1.0 / (1.0 + np.exp(-shape * (logx - mid)))
    return rng.random(expr.shape) < p_keep


def umi_counts(expr, rng):
    """Poisson UMI counts (int64)."""
    return rng.poisson(expr).astype(np.int64)


def apply_technical_noise(expr, noise: TechnicalNoise, rng: np.random.Generator) -> dict:
    """Run the enabled stages in SERGIO's order.

    Parameters
    ----------
    expr : (n_cells, n_genes) clean mRNA levels (>= 0)
    noise : TechnicalNoise
    rng : numpy Generator

    Returns
    -------
    dict with ``'expr'`` (float, before counting), ``'counts'`` (int64, or None
    if ``umi`` is False), ``'outlier_factor'`` (n_genes,), ``'library_size'``
    (n_cells,) or None, ``'kept'`` (bool mask) or None.
    """
    out = np.array(expr, dtype=np.float64, copy=True)
    res = {"outlier_factor": np.ones(out.shape[1]), "library_size": None, "kept": None}
    if None not in (noise.outlier_prob, noise.outlier_mean, noise.outlier_scale):
        out, res["outlier_factor"] = outlier_effect(out, rng, noise.outlier_prob,
                                                    noise.outlier_mean, noise.outlier_scale)
    if None not in (noise.library_mean, noise.library_scale):
        out, res["library_size"] = library_size_effect(out, rng, noise.library_mean,
                                                       noise.library_scale)
    if None not in (noise.dropout_shape, noise.dropout_percentile):
        res["kept"] = dropout_mask(out, rng, noise.dropout_shape, noise.dropout_percentile)
        out = np.where(res["kept"], out, 0.0)
    res["expr"] = out
    res["counts"] = umi_counts(out, rng) if noise.umi else None
    return res
