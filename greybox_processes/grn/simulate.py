"""Simulate single-cell expression data from a GRN (returns AnnData), with interventions.

Interventions
-------------
``perturbations={label: {gene: factor}}`` multiplies the production rate
(basal + regulation) of each named gene by ``factor`` in ``[0, 1)`` in the
cells of that label: ``0`` is a knockout, ``0 < factor < 1`` a knockdown, and
several genes under one label a combinatorial perturbation. A factor is one
number for all cells of the label (a batch) or one per cell (e.g. a
knockdown efficiency drawn by the caller for each cell). Every call also
simulates an unperturbed control group, labelled ``control_label``.

SERGIO's half response ``h_ij`` (the wild type's mean level of the regulator)
is a kinetic constant of the promoter, so it stays at the unperturbed
network's value; a perturbation changes only production. Each cell starts at
the deterministic steady state of its type under its perturbation
(:func:`perturbed_steady_state`), so the knocked-out gene starts at 0 and
stays there (production and both noise terms vanish at 0) and the effect has
already propagated down the network.

Cyclic networks
---------------
SERGIO's steady state is computed level by level, which needs a DAG. For a
network with cycles (E. coli's TRN, :mod:`.ecoli_trn`) the same equations,
``x = s (b + sum_j p_ij(x_j; h_ij)) / lambda`` with ``h_ij = mean over types of
x_j``, are solved by damped fixed-point iteration (:func:`network_steady_state`).
"""
from __future__ import annotations

import dataclasses
import logging
import math

import anndata
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from greybox_processes.grn.kernel import (DEFAULT_K_DEG, DEFAULT_K_TRANS, DEFAULT_Q, NOISE_TYPES,
                                          GRNParams, advance, check_errors, grn_sde)
from greybox_processes.grn.network import GRNNetwork
from greybox_processes.grn.steady_state import (as_decay_vector)
from greybox_processes.grn.perturbation import (_design, _steady_rows, cells_per_type_array, gene_index,
                                               network_steady_state, perturbed_steady_state)
from greybox_processes.grn.technical_noise import TechnicalNoise, apply_technical_noise

__all__ = ["simulate", "cells_per_type_array", "default_steps", "SAMPLING_MODES",
           "network_steady_state", "perturbed_steady_state", "gene_index"]

logger = logging.getLogger(__name__)

SAMPLING_MODES = ("independent", "sergio")
_RECORD_BUDGET = 1 << 23  # values per recorded chunk in 'sergio' mode (64 MiB float64)


def default_steps(decay, dt, k_deg=None) -> int:
    """Steps for 'independent' sampling: 10 mRNA lifetimes (and 5 protein lifetimes).

    A cell started at the deterministic steady state forgets its start after a
    few relaxation times ``1/lambda`` (``1/k_deg`` for protein).
    """
    t = 10.0 / float(np.min(decay))
    if k_deg is not None:
        t = max(t, 5.0 / float(np.min(k_deg)))
    return int(math.ceil(t / dt))


def _validate(noise, q, dt, sampling, steps, safety_iter, scale_iter):
    if noise not in NOISE_TYPES:
        raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}")
    if np.any(np.asarray(q, dtype=np.float64) < 0):
        raise ValueError("q (noise amplitude) must be >= 0; use q=0 for a deterministic run")
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number, got {dt!r}")
    if sampling not in SAMPLING_MODES:
        raise ValueError(f"sampling must be one of {SAMPLING_MODES}, got {sampling!r}")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1):
        raise ValueError(f"steps must be a positive int or None, got {steps!r}")
    if int(safety_iter) < 1 or int(scale_iter) < 1:
        raise ValueError("safety_iter and scale_iter must be >= 1")


# --------------------------------------------------------------------------- steady states

def _kernel_params(net, cell_types, steady, h, **kw) -> GRNParams:
    """GRNParams for cells of the given types, starting at ``steady`` (n_cells, n_genes)."""
    cyclic = not net.is_acyclic
    # from_network computes SERGIO's level-order steady state; a cyclic network has no
    # level order, so it gets one flat level here and its steady state and half responses
    # (the fixed point of network_steady_state) are put in below.
    base = dataclasses.replace(net, level=np.zeros_like(net.level)) if cyclic else net
    params = GRNParams.from_network(base, cell_types, **kw)

    def f(a):
        return jnp.asarray(a, dtype=params.dtype)

    changes = {"steady_mrna": f(steady)}
    if cyclic:
        reg_half = np.zeros(net.n_genes)
        reg_half[net.edge_regulator] = h
        changes.update(half_response=f(h), reg_half=f(reg_half))
    return dataclasses.replace(params, **changes)


def simulate(net: GRNNetwork, cells_per_type, *, perturbations=None,
             cells_per_perturbation=None, control_label: str = "control", decay=0.8,
             noise: str = "dpd", q=DEFAULT_Q, dt: float = 0.01, steps: int | None = None,
             sampling: str = "independent", seed: int = 0, protein: bool = True,
             technical_noise=None, k_trans=DEFAULT_K_TRANS, k_deg=DEFAULT_K_DEG,
             safety_iter: int = 50, scale_iter: int = 10, method: str = "auto",
             dtype=None) -> anndata.AnnData:
    """Simulate cells of every type of ``net`` with the SERGIO SDE, optionally perturbed.

    Parameters
    ----------
    net : GRNNetwork (a DAG, or with cycles: see the module docstring)
    cells_per_type : int or (n_cell_types,) ints; cells of each type in the control
        group (and in every perturbation group unless ``cells_per_perturbation`` says).
    perturbations : {label: {gene: factor}} or None
        Production of ``gene`` times ``factor`` in [0, 1) (0: knockout) in the cells of
        ``label``; a factor is a number (the whole group) or an array of one per cell
        of the group (cells ordered by type). Genes as in :func:`gene_index`.
    cells_per_perturbation : None, int, (n_cell_types,) ints or {label: either}
        Cells of each type per perturbation (default ``cells_per_type``).
    control_label : label of the unperturbed cells.
    decay : float or (n_genes,), mRNA decay ``lambda``
    noise : 'sp', 'spd' or 'dpd' (see :mod:`greybox_processes.grn.kernel`)
    q : float or (n_genes,), noise amplitude (>= 0)
    dt : Euler-Maruyama step
    steps : 'independent' mode only: steps per cell (default :func:`default_steps`)
    sampling : 'independent'
        every cell is its own trajectory started at its steady state (its type
        and perturbation) and run ``steps`` steps; cells are independent samples.
    sampling : 'sergio'
        SERGIO v2's scheme: one trajectory per cell type (and perturbation), started at
        the steady state and run ``safety_iter + max(cells) * scale_iter`` steps
        (exactly what sergio-scSim runs); the ``n`` cells of a type are the
        states after ``safety_iter + r`` steps, ``r`` drawn uniformly with
        replacement from ``[0, n * scale_iter)``. Per-cell factors need 'independent'.
    seed : int; the same seed gives a bit-identical result.
    protein : bool, add ``layers['protein']``
    technical_noise : None, TechnicalNoise or dict; adds ``layers['counts']``
    k_trans, k_deg : protein translation and degradation rates
    method : 'auto', 'dense' or 'sparse' regulator sum
    dtype : float dtype (default float64 when jax x64 is enabled, else float32)

    Returns
    -------
    AnnData, cells x genes (control cells first, then each label in order; types in
    order within a group): ``X`` clean mRNA, ``obs['cell_type']``,
    ``obs['perturbation']`` (categorical, the control label first),
    ``obs['perturbed_genes']`` ('+'-joined names, '' for control),
    ``obs['n_perturbed']``, ``layers['protein']``, optionally ``layers['counts']``;
    the ground-truth graph in ``uns['grn_edges']`` (regulator, target, sign, k, hill,
    half_response, and the network's edge annotations) and ``varp['grn_k']``
    (sparse signed K, row regulator, column target); ``uns['perturbations']``
    (label -> {gene: factor}); parameters in ``uns['grn']``.
    """
    _validate(noise, q, dt, sampling, steps, safety_iter, scale_iter)
    design = _design(net, cells_per_type, perturbations, cells_per_perturbation, control_label)
    if design.per_cell and sampling == "sergio":
        raise ValueError("per-cell factors need sampling='independent' ('sergio' runs one "
                         "trajectory per cell type and perturbation)")
    lam = as_decay_vector(decay, net.n_genes)
    tech = TechnicalNoise.coerce(technical_noise)
    if dtype is None:
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    key_sim, key_sample = jax.random.split(jax.random.PRNGKey(int(seed)))
    wild_type, h = network_steady_state(net, lam)
    perturbed = bool(np.any(design.row_scale != 1.0))
    row_ss = (_steady_rows(net, lam, h, design.row_type, design.row_scale, wild_type)
              if perturbed else wild_type[design.row_type])
    row_scale = design.row_scale if perturbed else None
    kw = dict(decay=lam, q=q, k_trans=k_trans, k_deg=k_deg, dtype=dtype, method=method)
    types = design.row_type[design.row]

    if sampling == "independent":
        if steps is None:
            steps = default_steps(lam, dt, np.asarray(k_deg) if protein else None)
        params = _kernel_params(net, types, row_ss[design.row], h, **kw)
        init_fn, step_fn = grn_sde(params, noise=noise, dt=dt)
        scale = None if row_scale is None else jnp.asarray(row_scale[design.row], dtype)
        state = step_fn(init_fn(key_sim), int(steps), scale)
        check_errors(state)
        mrna, prot = np.asarray(state.mrna), np.asarray(state.protein)
        n_steps_run = int(steps)
    else:
        if steps is not None:
            raise ValueError("steps is set by SERGIO's scheme in sampling='sergio'; "
                             "use safety_iter/scale_iter instead")
        params = _kernel_params(net, design.row_type, row_ss, h, **kw)
        mrna, prot, state, n_steps_run = _sergio_sampling(
            params, design.row_counts, row_scale, key_sim, key_sample, noise=noise, dt=dt,
            safety_iter=int(safety_iter), scale_iter=int(scale_iter))

    adata = _to_anndata(net, types, mrna, prot if protein else None,
                        labels=design.label if perturbations else None, half_response=h)
    order = [control_label] + [lb for lb in design.genes if lb != control_label]
    adata.obs["perturbation"] = pd.Categorical(design.label, categories=order)
    adata.obs["perturbed_genes"] = ["+".join(design.genes[lb]) for lb in design.label]
    adata.obs["n_perturbed"] = np.array([len(design.genes[lb]) for lb in design.label])
    adata.uns["perturbations"] = {lb: rec for lb, rec in design.record.items() if rec}
    adata.uns["grn"] = {
        "noise": noise, "q": np.asarray(q, dtype=np.float64), "dt": float(dt),
        "steps": n_steps_run, "sampling": sampling, "seed": int(seed), "decay": lam,
        "k_trans": np.asarray(k_trans, dtype=np.float64),
        "k_deg": np.asarray(k_deg, dtype=np.float64),
        "n_clipped": int(state.n_clipped), "method": params.method,
        "safety_iter": int(safety_iter), "scale_iter": int(scale_iter),
        "interactions_file": str(net.interactions_file), "regs_file": str(net.regs_file),
        "cells_per_type": cells_per_type_array(net, cells_per_type),
        "control_label": control_label, "acyclic": net.is_acyclic,
    }
    if tech is not None:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5E_6710]))
        res = apply_technical_noise(mrna, tech, rng)
        if res["counts"] is not None:
            adata.layers["counts"] = res["counts"]
        adata.layers["technical"] = res["expr"]
        adata.var["outlier_factor"] = res["outlier_factor"]
        if res["library_size"] is not None:
            adata.obs["library_size"] = res["library_size"]
        adata.uns["technical_noise"] = {k: ("None" if v is None else v) for k, v in
                                        vars(tech).items()}
    return adata


def _sergio_sampling(params, counts, scale, key_sim, key_sample, *, noise, dt, safety_iter,
                     scale_iter):
    """One trajectory per row (cell type x perturbation); cells are time samples.

    ``params`` has one cell per trajectory; ``counts`` cells are sampled from each;
    ``scale`` is None or the (n_rows, n_genes) production factors.
    """
    n_rows, n_genes = params.n_cells, params.n_genes
    init_fn, step_fn = grn_sde(params, noise=noise, dt=dt)
    state = init_fn(key_sim)
    # r_c ~ U{0, n_c*scale - 1}: the cell is the state after safety + r steps.
    r = [np.asarray(jax.random.randint(k, (int(n),), 0, max(int(n) * scale_iter, 1)))
         for k, n in zip(jax.random.split(key_sample, n_rows), counts)]
    cell_row = np.repeat(np.arange(n_rows), counts)
    cell_r = np.concatenate(r).astype(np.int64)
    scale = None if scale is None else jnp.asarray(scale, params.dtype)
    # SERGIO runs safety + n_max*scale steps; the last one is never sampled.
    n_record = int(counts.max()) * scale_iter + 1
    state = step_fn(state, safety_iter - 1, scale)
    # Record the states after safety .. safety + n_record - 1 steps, in chunks.
    mrna = np.zeros((cell_r.size, n_genes))
    prot = np.zeros((cell_r.size, n_genes))
    chunk = max(1, min(n_record, _RECORD_BUDGET // max(1, n_rows * n_genes)))
    start = 0
    while start < n_record:
        length = min(chunk, n_record - start)
        state, xs, ps = advance(params, state, scale, n_steps=length, noise=noise,
                                dt=float(dt), record=True)
        sel = np.flatnonzero((cell_r >= start) & (cell_r < start + length))
        if sel.size:
            xs, ps = np.asarray(xs), np.asarray(ps)
            mrna[sel] = xs[cell_r[sel] - start, cell_row[sel]]
            prot[sel] = ps[cell_r[sel] - start, cell_row[sel]]
        start += length
    check_errors(state)
    return mrna, prot, state, safety_iter - 1 + n_record


def edge_table(net: GRNNetwork, half_response=None) -> pd.DataFrame:
    """The ground-truth graph: one row per edge, regulator -> target, with sign and K."""
    names = np.asarray(net.names, dtype=object)
    table = pd.DataFrame({
        "regulator": names[net.edge_regulator], "target": names[net.edge_target],
        "sign": np.sign(net.edge_k).astype(np.int64), "k": net.edge_k, "hill": net.edge_hill})
    if half_response is not None:
        table["half_response"] = np.asarray(half_response, dtype=np.float64)
    for key, values in (net.edge_annotations or {}).items():
        table[key] = np.asarray(values).astype(str)
    return table


def _to_anndata(net, types, mrna, prot, labels=None, half_response=None):
    counter = {}
    names = []
    for i_cell, t in enumerate(types):
        key = (int(t), None if labels is None else labels[i_cell])
        i = counter.get(key, 0)
        counter[key] = i + 1
        prefix = "" if labels is None else f"{labels[i_cell]}_"
        names.append(f"{prefix}type_{int(t)}_cell_{i}")
    obs = pd.DataFrame({"cell_type": pd.Categorical(types.astype(np.int64),
                                                    categories=range(net.n_cell_types))},
                       index=names)
    var = pd.DataFrame({"gene_id": net.gene_ids,
                        "master_regulator": net.is_master_regulator,
                        "level": net.level}, index=net.names)
    for key, values in (net.var_annotations or {}).items():
        var[key] = np.asarray(values)
    adata = anndata.AnnData(X=np.asarray(mrna, dtype=np.float64), obs=obs, var=var)
    if prot is not None:
        adata.layers["protein"] = np.asarray(prot, dtype=np.float64)
    adata.uns["grn_edges"] = edge_table(net, half_response)
    adata.varp["grn_k"] = sp.csr_matrix((net.edge_k, (net.edge_regulator, net.edge_target)),
                                        shape=(net.n_genes, net.n_genes))
    return adata
