"""Simulate single-cell expression data from a SERGIO network (returns AnnData)."""
from __future__ import annotations

import logging
import math

import anndata
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from greybox_processes.grn.kernel import (DEFAULT_K_DEG, DEFAULT_K_TRANS, DEFAULT_Q, NOISE_TYPES,
                                          GRNParams, advance, check_errors, grn_sde)
from greybox_processes.grn.network import GRNNetwork
from greybox_processes.grn.steady_state import as_decay_vector
from greybox_processes.grn.technical_noise import TechnicalNoise, apply_technical_noise

__all__ = ["simulate", "cells_per_type_array", "default_steps", "SAMPLING_MODES"]

logger = logging.getLogger(__name__)

SAMPLING_MODES = ("independent", "sergio")
_RECORD_BUDGET = 1 << 23  # values per recorded chunk in 'sergio' mode (64 MiB float64)


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


def simulate(net: GRNNetwork, cells_per_type, *, decay=0.8, noise: str = "dpd", q=DEFAULT_Q,
             dt: float = 0.01, steps: int | None = None, sampling: str = "independent",
             seed: int = 0, protein: bool = True, technical_noise=None,
             k_trans=DEFAULT_K_TRANS, k_deg=DEFAULT_K_DEG, safety_iter: int = 50,
             scale_iter: int = 10, method: str = "auto", dtype=None) -> anndata.AnnData:
    """Simulate cells of every type of ``net`` with the SERGIO SDE.

    Parameters
    ----------
    net : GRNNetwork
    cells_per_type : int or (n_cell_types,) ints
    decay : float or (n_genes,), mRNA decay ``lambda``
    noise : 'sp', 'spd' or 'dpd' (see :mod:`greybox_processes.grn.kernel`)
    q : float or (n_genes,), noise amplitude (>= 0)
    dt : Euler-Maruyama step
    steps : 'independent' mode only: steps per cell (default :func:`default_steps`)
    sampling : 'independent'
        every cell is its own trajectory started at its type's steady state and
        run ``steps`` steps; cells are independent samples.
    sampling : 'sergio'
        SERGIO v2's scheme: one trajectory per cell type, started at the steady
        state and run ``safety_iter + max(cells_per_type) * scale_iter`` steps
        (exactly what sergio-scSim runs); the ``n`` cells of a type are the
        states after ``safety_iter + r`` steps, ``r`` drawn uniformly with
        replacement from ``[0, n * scale_iter)``.
    seed : int; the same seed gives a bit-identical result.
    protein : bool, add ``layers['protein']``
    technical_noise : None, TechnicalNoise or dict; adds ``layers['counts']``
    k_trans, k_deg : protein translation and degradation rates
    method : 'auto', 'dense' or 'sparse' regulator sum
    dtype : float dtype (default float64 when jax x64 is enabled, else float32)

    Returns
    -------
    AnnData, cells x genes: ``X`` clean mRNA, ``obs['cell_type']``,
    ``layers['protein']``, optionally ``layers['counts']``, parameters in
    ``uns['grn']``.
    """
    _validate(noise, q, dt, sampling, steps, safety_iter, scale_iter)
    counts = cells_per_type_array(net, cells_per_type)
    lam = as_decay_vector(decay, net.n_genes)
    tech = TechnicalNoise.coerce(technical_noise)
    if dtype is None:
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    key_sim, key_sample = jax.random.split(jax.random.PRNGKey(int(seed)))
    types = np.repeat(np.arange(net.n_cell_types), counts)

    if sampling == "independent":
        if steps is None:
            steps = default_steps(lam, dt, np.asarray(k_deg) if protein else None)
        params = GRNParams.from_network(net, types, decay=lam, q=q, k_trans=k_trans,
                                        k_deg=k_deg, dtype=dtype, method=method)
        init_fn, step_fn = grn_sde(params, noise=noise, dt=dt)
        state = step_fn(init_fn(key_sim), int(steps))
        check_errors(state)
        mrna, prot = np.asarray(state.mrna), np.asarray(state.protein)
        n_steps_run = int(steps)
    else:
        if steps is not None:
            raise ValueError("steps is set by SERGIO's scheme in sampling='sergio'; "
                             "use safety_iter/scale_iter instead")
        mrna, prot, state, n_steps_run = _sergio_sampling(
            net, counts, key_sim, key_sample, lam=lam, q=q, noise=noise, dt=dt,
            k_trans=k_trans, k_deg=k_deg, dtype=dtype, method=method,
            safety_iter=int(safety_iter), scale_iter=int(scale_iter))

    adata = _to_anndata(net, types, mrna, prot if protein else None)
    adata.uns["grn"] = {
        "noise": noise, "q": np.asarray(q, dtype=np.float64), "dt": float(dt),
        "steps": n_steps_run, "sampling": sampling, "seed": int(seed), "decay": lam,
        "k_trans": np.asarray(k_trans, dtype=np.float64),
        "k_deg": np.asarray(k_deg, dtype=np.float64),
        "n_clipped": int(state.n_clipped), "method": params_method(net, method),
        "safety_iter": int(safety_iter), "scale_iter": int(scale_iter),
        "interactions_file": str(net.interactions_file), "regs_file": str(net.regs_file),
        "cells_per_type": counts,
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


def params_method(net: GRNNetwork, method: str) -> str:
    """The regulator-sum method 'auto' resolves to (for the record in uns)."""
    if method != "auto":
        return method
    return "dense" if net.n_genes <= 512 else "sparse"


def _sergio_sampling(net, counts, key_sim, key_sample, *, lam, q, noise, dt, k_trans, k_deg,
                     dtype, method, safety_iter, scale_iter):
    """One trajectory per type; cells are time samples (see :func:`simulate`)."""
    n_types = net.n_cell_types
    params = GRNParams.from_network(net, np.arange(n_types), decay=lam, q=q, k_trans=k_trans,
                                    k_deg=k_deg, dtype=dtype, method=method)
    init_fn, step_fn = grn_sde(params, noise=noise, dt=dt)
    state = init_fn(key_sim)
    # r_c ~ U{0, n_c*scale - 1}: the cell is the state after safety + r steps.
    r = [np.asarray(jax.random.randint(k, (int(n),), 0, max(int(n) * scale_iter, 1)))
         for k, n in zip(jax.random.split(key_sample, n_types), counts)]
    cell_type = np.repeat(np.arange(n_types), counts)
    cell_r = np.concatenate(r).astype(np.int64)
    # SERGIO runs safety + n_max*scale steps; the last one is never sampled.
    n_record = int(counts.max()) * scale_iter + 1
    state = step_fn(state, safety_iter - 1)
    # Record the states after safety .. safety + n_record - 1 steps, in chunks.
    mrna = np.zeros((cell_r.size, net.n_genes))
    prot = np.zeros((cell_r.size, net.n_genes))
    chunk = max(1, min(n_record, _RECORD_BUDGET // max(1, n_types * net.n_genes)))
    start = 0
    while start < n_record:
        length = min(chunk, n_record - start)
        state, xs, ps = advance(params, state, None, n_steps=length, noise=noise,
                                dt=float(dt), record=True)
        sel = np.flatnonzero((cell_r >= start) & (cell_r < start + length))
        if sel.size:
            xs, ps = np.asarray(xs), np.asarray(ps)
            mrna[sel] = xs[cell_r[sel] - start, cell_type[sel]]
            prot[sel] = ps[cell_r[sel] - start, cell_type[sel]]
        start += length
    check_errors(state)
    return mrna, prot, state, safety_iter - 1 + n_record


def _to_anndata(net, types, mrna, prot):
    counter = {}
    names = []
    for t in types:
        i = counter.get(int(t), 0)
        counter[int(t)] = i + 1
        names.append(f"type_{int(t)}_cell_{i}")
    obs = pd.DataFrame({"cell_type": pd.Categorical(types.astype(np.int64),
                                                    categories=range(net.n_cell_types))},
                       index=names)
    var = pd.DataFrame({"gene_id": net.gene_ids,
                        "master_regulator": net.is_master_regulator,
                        "level": net.level}, index=[str(int(g)) for g in net.gene_ids])
    adata = anndata.AnnData(X=np.asarray(mrna, dtype=np.float64), obs=obs, var=var)
    if prot is not None:
        adata.layers["protein"] = np.asarray(prot, dtype=np.float64)
    return adata
