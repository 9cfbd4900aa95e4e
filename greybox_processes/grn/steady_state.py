"""Deterministic steady state of a SERGIO network, level by level.

Follows sergio-scSim 1.9.3 (``GRN._estimate_params``): master regulators sit
at ``E[x_i] = b_i / lambda_i``; then, from the highest level down, each edge
``j -> i`` gets the half response ``h_ij = mean over cell types of E[x_j]``
and the target gets ``E[x_i] = sum_j p_ij(E[x_j]) / lambda_i`` with

* activation (``K > 0``):  ``p_ij(x) = K x^n / (h^n + x^n)``
* repression (``K < 0``):  ``p_ij(x) = |K| (1 - x^n / (h^n + x^n))``

(SERGIO treats ``K == 0`` as an activation of strength 0.)
"""
from __future__ import annotations

import numpy as np

from greybox_processes.grn.network import GRNNetwork

__all__ = ["steady_state", "half_responses", "steady_state_and_half_responses",
           "hill_response", "as_decay_vector"]


def as_decay_vector(decay, n_genes: int) -> np.ndarray:
    """Broadcast a scalar or per-gene decay rate to ``(n_genes,)`` and check it."""
    d = np.asarray(decay, dtype=np.float64)
    if d.ndim == 0:
        d = np.full(n_genes, float(d))
    if d.shape != (n_genes,):
        raise ValueError(f"decay must be a scalar or have shape ({n_genes},), got {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("decay rates must be finite and > 0")
    return d


def hill_response(x, h, n):
    """``x^n / (h^n + x^n)`` with SERGIO v1's convention ``0`` at ``x == 0``.

    Parameters
    ----------
    x, h, n : broadcastable numpy arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    xn = np.power(x, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = xn / (np.power(h, n) + xn)
    return np.where(x > 0, r, 0.0)


def edge_production(x_reg, k, h, n):
    """Production contributed by edges given their regulators' levels.

    Parameters
    ----------
    x_reg : (..., n_edges) regulator concentrations
    k, h, n : (n_edges,) signed strength, half response, hill coefficient

    Returns
    -------
    (..., n_edges) ``K H`` for activators, ``|K| (1 - H)`` for repressors.
    """
    r = hill_response(x_reg, h, n)
    return np.where(k < 0, np.abs(k) * (1.0 - r), k * r)


def steady_state_and_half_responses(net: GRNNetwork, decay=0.8):
    """Steady state and half responses, computed together level by level.

    Parameters
    ----------
    net : GRNNetwork
    decay : float or (n_genes,) array

    Returns
    -------
    ss : (n_cell_types, n_genes) float64
    h : (n_edges,) float64, half response of each edge of ``net``
    """
    lam = as_decay_vector(decay, net.n_genes)
    ss = np.zeros((net.n_cell_types, net.n_genes))
    h = np.zeros(net.n_edges)
    in_level = np.zeros(net.n_genes, dtype=bool)
    for genes in net.levels:  # highest level (regulators) first
        in_level[:] = False
        in_level[genes] = True
        e = np.flatnonzero(in_level[net.edge_target])
        # Every regulator of this level sits in an earlier level, so its ss is final.
        h[e] = ss[:, net.edge_regulator[e]].mean(axis=0)
        prod = np.zeros((net.n_cell_types, net.n_genes))
        prod[:, genes] = net.basal[:, genes]
        contrib = edge_production(ss[:, net.edge_regulator[e]], net.edge_k[e], h[e],
                                  net.edge_hill[e])
        np.add.at(prod, (slice(None), net.edge_target[e]), contrib)
        ss[:, genes] = prod[:, genes] / lam[genes]
    return ss, h


def steady_state(net: GRNNetwork, decay=0.8) -> np.ndarray:
    """Deterministic steady state, as SERGIO v2 computes it.

    Parameters
    ----------
    net : GRNNetwork
    decay : float or (n_genes,) array, the mRNA decay rates ``lambda``.

    Returns
    -------
    (n_cell_types, n_genes) float64
    """
    return steady_state_and_half_responses(net, decay)[0]


def half_responses(net: GRNNetwork, decay=0.8) -> np.ndarray:
    """Half response ``h`` of each edge: mean over cell types of the regulator's steady state.

    Returns
    -------
    (n_edges,) float64, aligned with ``net.edge_target``.
    """
    return steady_state_and_half_responses(net, decay)[1]
