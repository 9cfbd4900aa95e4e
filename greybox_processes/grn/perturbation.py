"""Interventions on a GRN: the cells of a perturbation design and their deterministic steady states.

:func:`perturbed_steady_state` is SERGIO's deterministic steady state under knockouts and
knockdowns (production of a gene times a factor in ``[0, 1)``; half responses kept at the wild
type's, they are promoter constants), solved level by level on a DAG and by damped fixed-point
iteration on a network with cycles (:func:`network_steady_state`). ``_design`` turns
``simulate``'s ``perturbations`` into rows of cells (type, production factors) with a control
group. Used by :mod:`.simulate`.
"""
from __future__ import annotations

import dataclasses
import difflib
import logging

import numpy as np
import scipy.sparse as sp

from greybox_processes.errors import SimulationError
from greybox_processes.grn.network import GRNNetwork
from greybox_processes.grn.steady_state import (as_decay_vector, edge_production,
                                                steady_state_and_half_responses)

__all__ = ["cells_per_type_array", "network_steady_state", "perturbed_steady_state",
           "gene_index"]

logger = logging.getLogger(__name__)

_ITER_TOL = 1e-10         # fixed point: max |F(x) - x| relative to max(1, max x)
_ITER_MAX = 50_000

def cells_per_type_array(net: GRNNetwork, cells_per_type) -> np.ndarray:
    """Validate ``cells_per_type`` (int or sequence) -> (n_cell_types,) int64."""
    if isinstance(cells_per_type, (int, np.integer)):
        arr = np.full(net.n_cell_types, int(cells_per_type), dtype=np.int64)
    else:
        arr = np.asarray(cells_per_type)
        if arr.ndim != 1 or arr.shape[0] != net.n_cell_types:
            raise ValueError(f"cells_per_type must be an int or have one entry per cell type "
                             f"({net.n_cell_types}), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            if not np.all(arr == np.round(arr)):
                raise ValueError("cells_per_type must hold integers")
        arr = arr.astype(np.int64)
    if np.any(arr < 0) or arr.sum() == 0:
        raise ValueError("cells_per_type must be >= 0 with at least one cell in total")
    return arr


def _edge_sum(net: GRNNetwork) -> sp.csr_matrix:
    """(n_edges, n_genes) 0/1 matrix: ``contrib @ M`` sums edge terms onto their targets."""
    return sp.csr_matrix((np.ones(net.n_edges), (np.arange(net.n_edges), net.edge_target)),
                         shape=(net.n_edges, net.n_genes))


def _iterate(net, lam, basal, scale, h, x0):
    """Damped iteration of ``x = s (b + sum p(x; h)) / lambda``; ``h=None``: ``h = mean x``.

    basal, scale, x0 : (n_rows, n_genes). Returns (x, h).
    """
    to_targets = _edge_sum(net)
    joint = h is None
    x = np.array(x0, dtype=np.float64)
    for it in range(_ITER_MAX):
        hh = x[:, net.edge_regulator].mean(axis=0) if joint else h
        contrib = edge_production(x[:, net.edge_regulator], net.edge_k, hh, net.edge_hill)
        fx = scale * (basal + np.asarray(contrib @ to_targets)) / lam
        residual = np.abs(fx - x).max(initial=0.0)
        if residual <= _ITER_TOL * max(1.0, float(x.max(initial=0.0))):
            logger.debug("fixed point after %d iterations (residual %.3g)", it, residual)
            return fx, (fx[:, net.edge_regulator].mean(axis=0) if joint else h)
        x += 0.5 * (fx - x)  # damping: feedback loops with gain near 1 would oscillate
    worst = np.argsort(np.abs(fx - x).max(axis=0))[::-1][:5]
    raise SimulationError(
        f"no steady state of the cyclic network after {_ITER_MAX} iterations (residual "
        f"{residual:.3g}; genes {', '.join(net.names[i] for i in worst)} move most). A positive "
        "feedback loop with this perturbation may be bistable; weaken its K, raise the basal "
        "rates, or remove an edge of the loop")


def network_steady_state(net: GRNNetwork, decay=0.8):
    """SERGIO's deterministic steady state and half responses, for any network.

    A DAG is solved level by level (:func:`~.steady_state.steady_state_and_half_responses`);
    a network with cycles by fixed-point iteration of the same equations.

    Returns
    -------
    ss : (n_cell_types, n_genes); h : (n_edges,) half responses.
    """
    lam = as_decay_vector(decay, net.n_genes)
    if net.is_acyclic:
        return steady_state_and_half_responses(net, lam)
    # with h = x every Hill term is 1/2 at the fixed point: exact for one cell type
    start = (net.basal + np.asarray(
        0.5 * np.abs(net.edge_k)[None, :] @ _edge_sum(net))) / lam
    return _iterate(net, lam, net.basal, np.ones_like(net.basal), None, start)


def _steady_rows(net, lam, h, row_type, scale, wild_type):
    """Steady state of rows (cell type, production scale) with half responses ``h`` fixed."""
    basal = net.basal[row_type]
    if not net.is_acyclic:
        return _iterate(net, lam, basal, scale, h, wild_type[row_type])[0]
    x = np.zeros_like(basal)
    in_level = np.zeros(net.n_genes, dtype=bool)
    for genes in net.levels:  # regulators before their targets
        in_level[:] = False
        in_level[genes] = True
        e = np.flatnonzero(in_level[net.edge_target])
        prod = np.zeros_like(basal)
        prod[:, genes] = basal[:, genes]
        np.add.at(prod, (slice(None), net.edge_target[e]),
                  edge_production(x[:, net.edge_regulator[e]], net.edge_k[e], h[e],
                                  net.edge_hill[e]))
        x[:, genes] = scale[:, genes] * prod[:, genes] / lam[genes]
    return x


def perturbed_steady_state(net: GRNNetwork, factors=None, decay=0.8) -> np.ndarray:
    """Deterministic steady state of every cell type with some genes' production scaled.

    Parameters
    ----------
    net : GRNNetwork (acyclic or not)
    factors : {gene: factor in [0, 1)} or None; gene as in :func:`gene_index`.
    decay : float or (n_genes,), mRNA decay ``lambda``.

    Returns
    -------
    (n_cell_types, n_genes); with no factors, SERGIO's steady state. The half
    responses stay at the unperturbed network's values.
    """
    lam = as_decay_vector(decay, net.n_genes)
    wild_type, h = network_steady_state(net, lam)
    scale = np.ones((net.n_cell_types, net.n_genes))
    for gene, factor in (factors or {}).items():
        f = _check_factor(factor, "factors", gene)
        if f.ndim:
            raise ValueError(f"factors: gene {gene!r} needs one factor here, got {f.shape[0]}")
        scale[:, gene_index(net, gene)] = f
    if not factors:
        return wild_type
    return _steady_rows(net, lam, h, np.arange(net.n_cell_types), scale, wild_type)


# --------------------------------------------------------------------------- design

def gene_index(net: GRNNetwork, gene, where: str = "perturbation") -> int:
    """Index of ``gene``: a name of ``net.names`` (an int id for SERGIO networks) or a
    unique ``var_annotations['gene_name']`` (e.g. ``'lacI'`` for ``'b0345'``)."""
    names = net.names
    key = str(int(gene)) if isinstance(gene, (int, np.integer)) else str(gene)
    if key in names:
        return names.index(key)
    alt = [str(a) for a in (net.var_annotations or {}).get("gene_name", ())]
    if alt.count(key) == 1:
        return alt.index(key)
    close = difflib.get_close_matches(key, sorted(set(names) | set(alt)), n=5, cutoff=0.6)
    raise ValueError(f"unknown gene {gene!r} in {where}; "
                     + (f"close matches: {', '.join(close)}" if close
                        else f"the network's genes are e.g. {', '.join(names[:5])}"))


def _check_factor(factor, where, gene):
    f = np.asarray(factor, dtype=np.float64)
    if f.ndim > 1 or not np.all(np.isfinite(f)) or np.any(f < 0) or np.any(f >= 1):
        raise ValueError(f"{where}: the factor of gene {gene!r} must lie in [0, 1) "
                         f"(0 knockout, <1 knockdown), one value or one per cell; got {factor!r}")
    return f


@dataclasses.dataclass
class _Design:
    """Cells of a simulation: each cell is a row (type, production scale) of a group."""

    label: np.ndarray       # (n_cells,) perturbation label
    row: np.ndarray         # (n_cells,) row of each cell
    row_type: np.ndarray    # (n_rows,) cell type of each row
    row_scale: np.ndarray   # (n_rows, n_genes) production factor
    row_counts: np.ndarray  # (n_rows,) cells per row
    genes: dict             # label -> names of the perturbed genes
    record: dict            # label -> {gene: factor(s)}, for uns
    per_cell: bool


def _design(net, cells_per_type, perturbations, cells_per_perturbation, control_label):
    control = cells_per_type_array(net, cells_per_type)
    groups = [(control_label, {}, control)]
    if isinstance(cells_per_perturbation, dict):
        stray = sorted(set(cells_per_perturbation) - set(perturbations or {}))
        if stray:
            raise ValueError(f"cells_per_perturbation names labels {stray} that are not in "
                             f"perturbations ({sorted(perturbations or {})})")
    for label, spec in (perturbations or {}).items():
        if not isinstance(label, str) or label == control_label:
            raise ValueError(f"perturbation label {label!r} must be a string other than the "
                             f"control label {control_label!r}")
        if not isinstance(spec, dict) or not spec:
            raise ValueError(f"perturbation {label!r} must be a non-empty {{gene: factor}} "
                             "dict (the control group is added by itself)")
        n = cells_per_perturbation.get(label, control) if isinstance(
            cells_per_perturbation, dict) else (control if cells_per_perturbation is None
                                                else cells_per_perturbation)
        groups.append((label, spec, cells_per_type_array(net, n)))
    g = net.n_genes
    labels, rows, row_type, row_scale, row_counts = [], [], [], [], []
    genes, record, per_cell, n_rows = {}, {}, False, 0
    for label, spec, counts in groups:
        n_cells = int(counts.sum())
        idx = {}
        for gene, factor in spec.items():
            i = gene_index(net, gene, f"perturbation {label!r}")
            f = _check_factor(factor, f"perturbation {label!r}", gene)
            if i in idx:
                raise ValueError(f"perturbation {label!r} names gene {net.names[i]!r} twice")
            if f.ndim == 1 and f.shape[0] != n_cells:
                raise ValueError(f"perturbation {label!r}: gene {gene!r} has {f.shape[0]} "
                                 f"per-cell factors for {n_cells} cells")
            idx[i] = f
        genes[label] = [net.names[i] for i in idx]
        record[label] = {net.names[i]: (float(f) if f.ndim == 0 else f) for i, f in idx.items()}
        types = np.repeat(np.arange(net.n_cell_types), counts)
        labels.extend([label] * n_cells)
        cell_rows = any(f.ndim == 1 for f in idx.values())  # per-cell factors: a row per cell
        per_cell |= cell_rows
        scale = np.ones((n_cells if cell_rows else net.n_cell_types, g))
        for i, f in idx.items():
            scale[:, i] = f
        rows.append(n_rows + (np.arange(n_cells) if cell_rows else types))
        row_type.append(types if cell_rows else np.arange(net.n_cell_types))
        row_scale.append(scale)
        row_counts.append(np.ones(n_cells, dtype=np.int64) if cell_rows else counts)
        n_rows += scale.shape[0]
    return _Design(label=np.asarray(labels, dtype=object), row=np.concatenate(rows),
                   row_type=np.concatenate(row_type), row_scale=np.concatenate(row_scale),
                   row_counts=np.concatenate(row_counts), genes=genes, record=record,
                   per_cell=per_cell)
