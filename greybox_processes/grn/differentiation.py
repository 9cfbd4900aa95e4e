"""SERGIO's differentiation ("dynamics") mode: unspliced and spliced RNA along a lineage tree.

Follows SERGIO v1 (Dibaeinia & Sinha 2020, Cell Systems 11:252; ``sergio.py``
``simulate_dynamics`` in github.com/PayamDiba/SERGIO; sergio-scSim 1.9.3 on PyPI
has no differentiation mode).

Differentiation graph
---------------------
``bmat`` is ``(n_types, n_types)``; ``bmat[i, j] > 0`` means cell type ``j``
differentiates from type ``i``. The graph must be acyclic and every type has at
most one parent (SERGIO's assumptions). A child type ``j`` of ``i`` is simulated
as ``max(1, round(bmat[i, j] * n_j))`` trajectories (``n_j`` cells of type
``j`` are requested); a root type as ``root_trajectories`` trajectories (SERGIO
draws ``max(1, int(N(20, 5)))``; we use a fixed 20).

Equations (per trajectory, gene ``g``; SERGIO v1 ``dynamics_CLE_simulator_``)
-----------------------------------------------------------------------------
``u`` unspliced (pre-mRNA), ``s`` spliced mRNA, Euler-Maruyama with step ``dt``::

    P   = b_j + sum_r p_gr(u_r)                production, regulators' *unspliced* level
    du  = (P - beta u) dt     + q   sqrt(dt) xi(P, beta u)
    ds  = (beta u - gamma s) dt + q_s sqrt(dt) xi(beta u, gamma s)
    u, s clipped at 0 after every step (as SERGIO)

* ``b_j`` are the basal rates of the trajectory's *own* type ``j`` (the
  regulators file has one column per type) and ``p_gr`` is SERGIO's Hill term
  with the half responses of the steady-state mode (mean over types of the
  regulator's steady state): :func:`greybox_processes.grn.kernel.production`.
* ``beta = decay`` (default 0.8): in SERGIO v1 the first-order removal of ``u``
  *is* splicing (``decay_U = prod_rate_S = decays * U``), so the unspliced layer
  is exactly the steady-state mode's mRNA and its steady state is
  :func:`steady_state` ``(net, decay)``.
* ``gamma = decay / splice_ratio`` (default ``splice_ratio = 4``, SERGIO's
  default, gamma = 0.2): SERGIO's ``decay_S = decays / splice_ratio * S``, so at
  steady state ``s = beta u / gamma = splice_ratio * u``.
* ``xi(a, d)`` is SERGIO's noise term (:mod:`greybox_processes.grn.kernel`):
  'dpd' ``sqrt(a) z1 + sqrt(d) z2``, 'sp' ``sqrt(a) z1``, 'spd'
  ``(sqrt(a) + sqrt(d)) z1``; the four (dpd) normals of u and s are independent,
  as in SERGIO (the splicing flux gets one stream in ``du`` and another in
  ``ds``; the exact chemical Langevin equation would use one). ``q_s`` and the
  spliced noise type default to ``q`` and ``noise`` (SERGIO's
  ``noise_params_splice=None``, ``noise_type_splice=None``).

Start and sampling
------------------
A trajectory of a child type starts at its parent's deterministic steady state
``(u, s)``, a root trajectory at its own, each value times ``1 + init_noise z``
(``z ~ N(0, 1)`` independent for u and s; SERGIO: ``ss + N(0, ss/20)``, i.e.
``init_noise = 0.05``). Because the start is a deterministic steady state and not
the parent's simulated cells, the types are independent given the network and
all trajectories of all types run in one vectorised ``lax.scan``; the
topological order (validated, recorded in ``uns``) does not change the result.
Each trajectory runs ``steps`` steps; the ``n_j`` cells of type ``j`` are drawn
without replacement from the ``n_traj_j * (steps + 1)`` recorded states of its
trajectories (step 0 included), as SERGIO's ``getExpressions_dynamics`` does.

Differences from SERGIO v1
--------------------------
* every trajectory runs a fixed ``steps`` (SERGIO: per type, until a loose
  convergence test passes, then ``sampling_state`` times longer, counted oddly);
* all genes are updated together from the previous state (SERGIO updates genes
  one after another within a step, so a regulator already updated in this step
  drives its targets: an O(dt) difference of scheme);
* roots get a fixed number of trajectories (SERGIO: random ``N(20, 5)``);
* random numbers are JAX's (and numpy's for the sampling), not numpy's global
  state; SERGIO's unused ``dt_splice`` has no counterpart.
"""
from __future__ import annotations

import functools
import math
import os

import anndata
import jax
import jax.numpy as jnp
import numpy as np

from greybox_processes.errors import SimulationError
from greybox_processes.grn.datasets import read_bifurcation_matrix
from greybox_processes.grn.kernel import (DEFAULT_Q, NOISE_TYPES, GRNParams, _n_streams, _noise,
                                         per_gene, production)
from greybox_processes.grn.network import GRNNetwork
from greybox_processes.grn.simulate import _to_anndata, cells_per_type_array
from greybox_processes.grn.steady_state import as_decay_vector, steady_state

__all__ = ["simulate_differentiation", "differentiation_graph", "default_differentiation_steps",
           "DEFAULT_SPLICE_RATIO", "DEFAULT_ROOT_TRAJECTORIES", "DEFAULT_INIT_NOISE"]

#: SERGIO v1's default ``splice_ratio``: expected spliced / unspliced at steady state.
DEFAULT_SPLICE_RATIO = 4.0
#: Trajectories of a root type; SERGIO draws ``max(1, int(N(20, 5)))``, we use its mean.
DEFAULT_ROOT_TRAJECTORIES = 20
#: Relative std of the start around the (parent's) steady state; SERGIO: ``N(0, ss/20)``.
DEFAULT_INIT_NOISE = 0.05


def differentiation_graph(bmat, n_types: int):
    """Validate a bifurcation matrix; return ``(bmat, parent, order)``.

    Parameters
    ----------
    bmat : (n_types, n_types) array, a ``bMat`` file path, or a data set name ('DS6')
    n_types : number of cell types of the network

    Returns
    -------
    bmat : (n_types, n_types) float64
    parent : (n_types,) int64, the parent type of each type, ``-1`` for roots
    order : (n_types,) int64, a topological order (roots first, ties by index)

    Raises
    ------
    ValueError
        Wrong shape, non-finite or negative entries, a type with two parents, or a
        differentiation cycle; the message says what to change.
    """
    if isinstance(bmat, (str, os.PathLike)):
        bmat = read_bifurcation_matrix(bmat)
    try:
        b = np.array(bmat, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("bmat must be a numeric (n_types, n_types) array, a bMat file or a "
                         "data set name like 'DS6'") from None
    n = int(n_types)
    if b.shape != (n, n):
        raise ValueError(f"bmat must have shape ({n}, {n}) (one row and one column per cell type "
                         f"of the network), got {b.shape}; use the bifurcation matrix that "
                         f"belongs to the network's regulators file")
    if not np.all(np.isfinite(b)):
        raise ValueError("bmat has non-finite entries; use finite values >= 0 "
                         "(0: no differentiation)")
    neg = np.argwhere(b < 0)
    if neg.size:
        i, j = (int(v) for v in neg[0])
        raise ValueError(f"bmat entries must be >= 0 (bmat[i, j] > 0: type j differentiates "
                         f"from type i; 0: no edge), got bmat[{i}, {j}] = {b[i, j]}; set it to "
                         f"0 or to a positive rate")
    self_loops = np.flatnonzero(np.diag(b) > 0)
    if self_loops.size:
        i = int(self_loops[0])
        raise ValueError(f"bmat has a cycle: cell type {i} differentiates from itself "
                         f"(bmat[{i}, {i}] = {b[i, i]}); set the diagonal to 0")
    parents_of = [np.flatnonzero(b[:, j] > 0) for j in range(n)]
    for j, ps in enumerate(parents_of):
        if ps.size > 1:
            raise ValueError(f"cell type {j} differentiates from types {ps.tolist()}, but SERGIO "
                             f"allows at most one parent per type; keep one nonzero entry in "
                             f"column {j} of bmat")
    parent = np.array([int(ps[0]) if ps.size else -1 for ps in parents_of], dtype=np.int64)
    # Kahn's algorithm, ties by index: with <= 1 parent per type this is a forest walk.
    order, frontier = [], [j for j in range(n) if parent[j] < 0]
    while frontier:
        i = frontier.pop(0)
        order.append(i)
        frontier.extend(int(j) for j in np.flatnonzero(parent == i))
        frontier.sort()
    if len(order) != n:
        # Every type has <= 1 parent: walking up from an unordered type enters the cycle.
        j, seen = min(set(range(n)) - set(order)), []
        while j not in seen:
            seen.append(j)
            j = int(parent[j])
        on_cycle = sorted(seen[seen.index(j):])
        raise ValueError(f"bmat has a differentiation cycle among cell types {on_cycle}; the "
                         f"differentiation graph must be acyclic: set one bmat[i, j] along the "
                         f"cycle to 0")
    return b, parent, np.array(order, dtype=np.int64)



def default_differentiation_steps(beta, gamma, dt, cells_per_type) -> int:
    """Default number of steps of every trajectory.

    Five relaxation times of the slower of splicing and spliced decay
    (``5 / min(beta, gamma)``; the remaining transient is ~1% of the
    parent-to-child gap), and at least ``max(cells_per_type)`` steps as SERGIO
    (it never stops a type before ``number_sc`` steps).
    """
    slow = float(min(np.min(beta), np.min(gamma)))
    return max(int(math.ceil(5.0 / slow / dt)), int(np.max(cells_per_type)), 1)


def _check_args(noise, noise_splice, dt, steps, init_noise, root_trajectories):
    for name, val in (("noise", noise), ("noise_splice", noise_splice)):
        if val not in NOISE_TYPES:
            raise ValueError(f"{name} must be one of {NOISE_TYPES} (SERGIO's noise types), "
                             f"got {val!r}")
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number, got {dt!r}")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1):
        raise ValueError(f"steps must be a positive int or None, got {steps!r}")
    if not (np.isfinite(init_noise) and init_noise >= 0):
        raise ValueError(f"init_noise must be >= 0 (relative std of the start), got {init_noise}")
    if not isinstance(root_trajectories, (int, np.integer)) or root_trajectories < 1:
        raise ValueError(f"root_trajectories must be a positive int, got {root_trajectories!r}")


def simulate_differentiation(net: GRNNetwork, bmat, cells_per_type, *, decay=0.8,
                             splice_ratio=DEFAULT_SPLICE_RATIO, noise: str = "dpd", q=DEFAULT_Q,
                             noise_splice: str | None = None, q_splice=None, dt: float = 0.01,
                             steps: int | None = None, seed: int = 0,
                             init_noise: float = DEFAULT_INIT_NOISE,
                             root_trajectories: int = DEFAULT_ROOT_TRAJECTORIES,
                             endpoints: bool = False, method: str = "auto",
                             dtype=None) -> anndata.AnnData:
    """Simulate SERGIO's differentiation data: unspliced and spliced RNA along ``bmat``.

    See the module docstring for the equations, the start and the sampling.

    Parameters
    ----------
    net : GRNNetwork, one basal-rate column per cell type
    bmat : (n_types, n_types) bifurcation matrix, a ``bMat`` path, or 'DS6'
    cells_per_type : int or (n_types,) ints, cells sampled per type
    decay : float or (n_genes,), ``beta``: removal of unspliced RNA by splicing
        (SERGIO's ``decays``; default 0.8)
    splice_ratio : float or (n_genes,), steady-state spliced / unspliced; sets
        ``gamma = decay / splice_ratio`` (SERGIO's default 4)
    noise, q : noise type and amplitude (>= 0) of the unspliced equation
    noise_splice, q_splice : the same for the spliced equation (default: ``noise``, ``q``)
    dt : Euler-Maruyama step
    steps : steps of every trajectory (default :func:`default_differentiation_steps`)
    seed : int; the same seed gives a bit-identical result
    init_noise : relative std of the start around the (parent's) steady state
        (SERGIO: 0.05); 0 starts exactly there
    root_trajectories : trajectories of each root type (SERGIO: ~N(20, 5))
    endpoints : if True, ``uns['differentiation']`` also holds the first and last
        state of every trajectory (``initial_unspliced``, ``initial_spliced``,
        ``final_unspliced``, ``final_spliced``, ``trajectory_type``)
    method : 'auto', 'dense' or 'sparse' regulator sum (see the kernel)
    dtype : float dtype (default float64 when jax x64 is enabled, else float32)

    Returns
    -------
    AnnData, cells x genes, cells grouped by type and ordered by pseudotime:
    ``X`` spliced RNA, ``layers['unspliced']``, ``layers['spliced']``;
    ``obs``: ``cell_type``, ``parent_type`` (-1 for roots), ``pseudotime``
    (``step / steps`` in [0, 1] along the type's trajectory), ``time``
    (``step * dt``), ``trajectory`` (index of the simulated trajectory);
    ``uns['differentiation']``: parameters, the graph, the steady states and
    ``n_clipped`` (values clipped at 0).

    Raises
    ------
    ValueError : invalid ``bmat`` or arguments (the message says what to change)
    SimulationError : NaN or infinite values (dt too large for the rates)
    """
    if noise_splice is None:
        noise_splice = noise
    _check_args(noise, noise_splice, dt, steps, init_noise, root_trajectories)
    init_noise = float(init_noise)
    g = net.n_genes
    b, parent, order = differentiation_graph(bmat, net.n_cell_types)
    counts = cells_per_type_array(net, cells_per_type)
    beta = as_decay_vector(decay, g)
    ratio = per_gene(splice_ratio, g, "splice_ratio", allow_zero=False)
    gamma = beta / ratio
    qv = per_gene(q, g, "q", allow_zero=True)
    qs = qv if q_splice is None else per_gene(q_splice, g, "q_splice", allow_zero=True)
    if steps is None:
        steps = default_differentiation_steps(beta, gamma, dt, counts)
    steps = int(steps)

    # Trajectories per type (SERGIO's populate_with_parentCells_).
    n_traj = np.zeros(net.n_cell_types, dtype=np.int64)
    for j in range(net.n_cell_types):
        if counts[j] == 0:
            continue
        n_traj[j] = root_trajectories if parent[j] < 0 else \
            max(1, int(np.round(b[parent[j], j] * counts[j])))
        if counts[j] > n_traj[j] * (steps + 1):
            raise ValueError(f"cell type {j}: {counts[j]} cells requested but its {n_traj[j]} "
                             f"trajectories have only {n_traj[j] * (steps + 1)} states; raise "
                             f"steps (or bmat / root_trajectories)")
    traj_type = np.repeat(np.arange(net.n_cell_types), n_traj)
    start_type = np.where(parent[traj_type] < 0, traj_type, parent[traj_type])

    if dtype is None:
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    ss_u = steady_state(net, beta)                      # (n_types, g), exact SERGIO v1 ss_U
    ss_s = ss_u * (beta / gamma)                        # = splice_ratio * ss_U
    grn = GRNParams.from_network(net, traj_type, decay=beta, q=qv, dtype=dtype, method=method)

    k_init, k_sim = jax.random.split(jax.random.PRNGKey(int(seed)))
    # Host-side sampler for the cells (numpy: no compilation per population size).
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xD1FF]))
    z0 = jax.random.normal(k_init, (2, traj_type.size, g), dtype=dtype)
    u0 = jnp.maximum(jnp.asarray(ss_u[start_type], dtype) * (1.0 + init_noise * z0[0]), 0.0)
    s0 = jnp.maximum(jnp.asarray(ss_s[start_type], dtype) * (1.0 + init_noise * z0[1]), 0.0)

    # Sample (trajectory, step) without replacement per type, before simulating.
    rows_traj, rows_step, rows_type = [], [], []
    first = np.concatenate([[0], np.cumsum(n_traj)[:-1]])
    for j in range(net.n_cell_types):
        if counts[j] == 0:
            continue
        n_states = int(n_traj[j]) * (steps + 1)
        flat = rng.choice(n_states, size=int(counts[j]), replace=False)
        tr, st = np.divmod(flat.astype(np.int64), steps + 1)  # SERGIO: cell-major
        idx = np.lexsort((tr, st))                            # by step, then trajectory
        rows_traj.append(first[j] + tr[idx])
        rows_step.append(st[idx])
        rows_type.append(np.full(int(counts[j]), j, dtype=np.int64))
    cell_traj = np.concatenate(rows_traj)
    cell_step = np.concatenate(rows_step)
    cell_type = np.concatenate(rows_type)
    n_out = cell_traj.size
    # Per step, which trajectories to record into which output rows (padded with a
    # row index n_out, which the scatter drops).
    per_step = np.bincount(cell_step, minlength=steps + 1)
    # Power of two: the compiled shape rarely depends on the seed.
    width = 1 << max(0, int(per_step.max()) - 1).bit_length()
    rec_traj = np.zeros((steps + 1, width), dtype=np.int32)
    rec_row = np.full((steps + 1, width), n_out, dtype=np.int32)
    order_rows = np.argsort(cell_step, kind="stable")
    slot = np.arange(n_out) - np.concatenate([[0], np.cumsum(per_step)[:-1]])[cell_step[order_rows]]
    rec_traj[cell_step[order_rows], slot] = cell_traj[order_rows]
    rec_row[cell_step[order_rows], slot] = order_rows

    out = _run(grn, jnp.asarray(gamma, dtype), jnp.asarray(qs, dtype), u0, s0,
               k_sim, jnp.asarray(rec_traj), jnp.asarray(rec_row),
               jnp.zeros((n_out, g), dtype), n_steps=steps, noise=noise,
               noise_splice=noise_splice, dt=float(dt))
    u_end, s_end, n_clip, out_u, out_s, bad = out
    if bool(bad):
        raise SimulationError("differentiation simulation produced NaN or infinite values; "
                              "dt is too large for the rates (keep decay*dt and gamma*dt well "
                              "below 1) or a parameter is not finite")

    spliced = np.asarray(out_s, dtype=np.float64)
    adata = _to_anndata(net, cell_type, spliced, None)
    adata.layers["unspliced"] = np.asarray(out_u, dtype=np.float64)
    adata.layers["spliced"] = spliced.copy()
    adata.obs["parent_type"] = parent[cell_type]
    adata.obs["pseudotime"] = cell_step / float(steps)
    adata.obs["time"] = cell_step * float(dt)
    adata.obs["trajectory"] = cell_traj
    info = {
        "bmat": b, "parent": parent, "order": order, "n_trajectories": n_traj,
        "cells_per_type": counts, "steps": steps, "dt": float(dt), "seed": int(seed),
        "noise": noise, "noise_splice": noise_splice, "q": qv, "q_splice": qs,
        "decay": beta, "gamma": gamma, "splice_ratio": ratio, "init_noise": float(init_noise),
        "root_trajectories": int(root_trajectories), "n_clipped": int(n_clip),
        "method": grn.method, "steady_unspliced": ss_u, "steady_spliced": ss_s,
        "interactions_file": str(net.interactions_file), "regs_file": str(net.regs_file),
    }
    if endpoints:
        info.update(initial_unspliced=np.asarray(u0, np.float64),
                    initial_spliced=np.asarray(s0, np.float64),
                    final_unspliced=np.asarray(u_end, np.float64),
                    final_spliced=np.asarray(s_end, np.float64), trajectory_type=traj_type)
    adata.uns["differentiation"] = info
    return adata


@functools.partial(jax.jit, static_argnames=("n_steps", "noise", "noise_splice", "dt"))
def _run(grn: GRNParams, gamma, q_s, u, s, key, rec_traj, rec_row, zeros, *, n_steps, noise,
         noise_splice, dt):
    """All trajectories, ``n_steps`` steps; record the sampled states (see the caller)."""
    nu, ns = _n_streams(noise), _n_streams(noise_splice)
    sq = math.sqrt(dt)

    def record(out_u, out_s, u, s, tr, row):
        return (out_u.at[row].set(u[tr], mode="drop"), out_s.at[row].set(s[tr], mode="drop"))

    def step(carry, inp):
        u, s, n_clip, out_u, out_s = carry
        t, tr, row = inp
        z = jax.random.normal(jax.random.fold_in(key, t), (nu + ns,) + u.shape, dtype=u.dtype)
        p = jnp.maximum(production(grn, u), 0.0)
        spl = grn.decay * u
        deg = gamma * s
        u_new = u + (p - spl) * dt + (grn.q * sq) * _noise(z[:nu], p, spl, noise)
        s_new = s + (spl - deg) * dt + (q_s * sq) * _noise(z[nu:], spl, deg, noise_splice)
        neg_u, neg_s = u_new < 0, s_new < 0
        n_clip = n_clip + jnp.sum(neg_u, dtype=jnp.int32) + jnp.sum(neg_s, dtype=jnp.int32)
        u_new = jnp.where(neg_u, 0.0, u_new)
        s_new = jnp.where(neg_s, 0.0, s_new)
        out_u, out_s = record(out_u, out_s, u_new, s_new, tr, row)
        return (u_new, s_new, n_clip, out_u, out_s), None

    out_u, out_s = record(zeros, zeros, u, s, rec_traj[0], rec_row[0])
    carry = (u, s, jnp.zeros((), jnp.int32), out_u, out_s)
    ts = jnp.arange(1, n_steps + 1, dtype=jnp.int32)
    (u, s, n_clip, out_u, out_s), _ = jax.lax.scan(step, carry, (ts, rec_traj[1:], rec_row[1:]))
    bad = ~(jnp.isfinite(u).all() & jnp.isfinite(s).all())
    return u, s, n_clip, out_u, out_s, bad
