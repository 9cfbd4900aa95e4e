"""JAX kernel of the SERGIO chemical Langevin equation, jax-md style.

For cell ``c`` and gene ``i`` (arrays are ``(n_cells, n_genes)``)::

    P_i   = s_ci * (b_ci + sum_j p_ij(x_cj))          production (s: rate_scale)
    D_i   = lambda_i x_ci                              degradation
    x'    = max(0, x + (P - D) dt + q_i sqrt(dt) * xi)
    Pr'   = Pr e^{-k_deg dt} + (k_trans/k_deg) x (1 - e^{-k_deg dt})

with the noise term ``xi`` exactly as in SERGIO (v1 ``CLE_simulator_``; v2
implements only 'dpd')::

    'sp'  : xi = sqrt(P) z                      one stream, production only
    'spd' : xi = (sqrt(P) + sqrt(D)) z          one stream; note SERGIO adds the
                                                 square roots, it is NOT sqrt(P + D)
    'dpd' : xi = sqrt(P) z1 + sqrt(D) z2        two independent streams

``z ~ N(0, 1)``; negative concentrations are clipped to 0 as SERGIO does, and
the number of clipped values is counted in ``GRNState.n_clipped``. ``P`` is
clipped at 0 before the square root (SERGIO v2 does ``P[P < 0] = 0``).

The protein equation (Dynprot, NEXUS eq. 5) is linear in ``Pr`` with the mRNA
``x`` held at its start-of-step value, and is integrated *exactly* over each
step (no stability limit on ``k_deg dt``). It is deterministic.

Regulator sum: two implementations with identical results,

* ``'dense'``: because SERGIO's half response ``h_ij`` depends only on the
  regulator ``j``, ``H_j = x_j^n/(h_j^n + x_j^n)`` is computed once per gene and
  ``P = b + c + H @ K^T`` with the signed matrix ``K`` and
  ``c_i = sum of |K_ij|`` over repressors (since ``|K|(1 - H) = |K| + K H`` for
  ``K < 0``). One BLAS matmul per step; best for small networks (DS1, DS2).
* ``'sparse'``: gather the regulators of every edge, evaluate the hill term per
  edge and ``segment_sum`` onto targets. ``O(E)`` per cell; best for large
  sparse networks (DS3: 1200 genes, 2713 edges), and required when one
  regulator has different hill coefficients on different edges.

Random numbers: the key in the state is split once per *block* of steps and
the normals of the whole block are drawn in one ``jax.random.normal`` call
(block = as many steps as fit in 2**18 normals, at least one step). For a few
cells this removes threefry's fixed per-call cost (3.5x faster for SERGIO's 9
trajectories); for large populations a block is one step. The block size is a
deterministic function of (noise, n_cells, n_genes, n_steps), so the same key
gives bit-identical results; note that ``step_fn(s, 20)`` and two calls of
``step_fn(s, 10)`` are both exact samples but not the same sample.

``method='auto'`` picks dense when ``n_genes <= 512`` (the matmul, ``G^2`` flops
per cell, is then cheaper than the gather/scatter; measured in
``benchmarks/grn_vs_sergio.py``).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from greybox_processes.grn.network import GRNNetwork
from greybox_processes.grn.steady_state import (as_decay_vector,
                                                steady_state_and_half_responses)
from greybox_processes.jax_common import ErrorFlags, raw_key, register_pytree

__all__ = ["GRNParams", "GRNState", "grn_sde", "check_errors", "NOISE_TYPES",
           "ERROR_NAN", "ERROR_NONFINITE", "ERRORS", "DEFAULT_K_TRANS", "DEFAULT_K_DEG", "DEFAULT_Q",
           "per_gene"]

NOISE_TYPES = ("sp", "spd", "dpd")
DEFAULT_Q = 1.0      # noise amplitude of every gene, the default of every GRN entry point
#: The error bits of :class:`GRNState` and the words :func:`check_errors` uses for them.
ERRORS = ErrorFlags(
    {"nan": (1, "NaN"),                     # a NaN appeared in mRNA or protein
     "nonfinite": (2, "infinite values")},  # an infinite value appeared
    sep=" and ",
    template="GRN simulation produced {messages} in mRNA or protein (error bits {bits}). "
             "Usually dt is too large for the rates (keep decay*dt and k_deg*dt well below 1) "
             "or a rate_scale/parameter is not finite.")
ERROR_NAN = ERRORS["nan"]              # 1
ERROR_NONFINITE = ERRORS["nonfinite"]  # 2

#: Translation rate per mRNA per unit time. SERGIO's time unit is set by the
#: mRNA decay rate 0.8; proteins live ~5x longer than mRNAs in mammalian cells
#: (median half lives 46 h vs 9 h, Schwanhausser et al. 2011, Nature 473:337),
#: so k_deg = 0.1 (8x) is of that order; k_trans = 1 keeps protein in the units
#: of mRNA x 10. Both are per gene and can be overridden.
DEFAULT_K_TRANS = 1.0
DEFAULT_K_DEG = 0.1

_DENSE_MAX_GENES = 512
_CHUNK_MIN, _CHUNK_MAX = 256, 2048  # cells per chunk (see cell_chunk)
# Normals drawn per RNG call: small populations draw many steps at once, because
# threefry's fixed per-call cost dominates a step of a few cells on CPU.
_NOISE_BLOCK = 1 << 18


@dataclasses.dataclass(frozen=True)
class GRNParams:
    """Per-cell parameters of the GRN SDE (a pytree).

    Attributes
    ----------
    basal : (n_cells, n_genes) basal production (0 for non master regulators)
    steady_mrna : (n_cells, n_genes) deterministic steady state of each cell's type
    decay, q, k_trans, k_deg : (n_genes,)
    edge_target, edge_regulator : (n_edges,) int32
    edge_k, edge_hill, half_response : (n_edges,) signed K, hill n, half response h
    dense_k : (n_genes, n_genes) signed ``K[target, regulator]`` ('dense' only, else (0, 0))
    dense_c : (n_genes,) sum of |K| over repressing edges of each target
    reg_half, reg_hill : (n_genes,) half response and hill coefficient per regulator
    method : 'dense' or 'sparse' (static)
    hill_int : int or None (static); when every hill coefficient is this small
        integer, ``x**n`` uses repeated multiplication instead of exp/log.
    """

    basal: jax.Array
    steady_mrna: jax.Array
    decay: jax.Array
    q: jax.Array
    k_trans: jax.Array
    k_deg: jax.Array
    edge_target: jax.Array
    edge_regulator: jax.Array
    edge_k: jax.Array
    edge_hill: jax.Array
    half_response: jax.Array
    dense_k: jax.Array
    dense_c: jax.Array
    reg_half: jax.Array
    reg_hill: jax.Array
    method: str = "dense"
    hill_int: int | None = None

    @property
    def n_cells(self) -> int:
        """Number of simulated cells (rows of ``basal``)."""
        return int(self.basal.shape[0])

    @property
    def n_genes(self) -> int:
        """Number of genes (columns of ``basal``)."""
        return int(self.basal.shape[1])

    @property
    def dtype(self):
        """The floating-point dtype of the parameters (the kernel computes in it)."""
        return self.basal.dtype

    @classmethod
    def from_network(cls, net: GRNNetwork, cell_types, *, decay=0.8, q=DEFAULT_Q,
                     k_trans=DEFAULT_K_TRANS, k_deg=DEFAULT_K_DEG, dtype=jnp.float64,
                     method: str = "auto") -> "GRNParams":
        """Parameters for cells of the given types.

        Parameters
        ----------
        net : GRNNetwork
        cell_types : (n_cells,) int array of cell type indices in ``[0, n_cell_types)``
        decay, q, k_trans, k_deg : float or (n_genes,) array
        dtype : floating dtype of every array (float64 needs ``jax_enable_x64``)
        method : 'auto', 'dense' or 'sparse' (see module docstring)
        """
        ct = np.asarray(cell_types, dtype=np.int64).reshape(-1)
        if ct.size and (ct.min() < 0 or ct.max() >= net.n_cell_types):
            raise ValueError(f"cell_types must lie in [0, {net.n_cell_types}), "
                             f"got range [{ct.min()}, {ct.max()}]")
        g = net.n_genes
        lam = as_decay_vector(decay, g)
        qv = per_gene(q, g, "q", allow_zero=True)
        kt = per_gene(k_trans, g, "k_trans", allow_zero=True)
        kd = per_gene(k_deg, g, "k_deg", allow_zero=False)
        ss, h = steady_state_and_half_responses(net, lam)

        reg_half = np.zeros(g)
        reg_hill = np.ones(g)
        reg_half[net.edge_regulator] = h
        reg_hill[net.edge_regulator] = net.edge_hill
        # Dense form needs one hill coefficient per regulator (h always is).
        uniform_n = np.array_equal(reg_hill[net.edge_regulator], net.edge_hill)
        if method == "auto":
            method = "dense" if (uniform_n and g <= _DENSE_MAX_GENES) else "sparse"
        if method not in ("dense", "sparse"):
            raise ValueError(f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
        if method == "dense" and not uniform_n:
            raise ValueError("method='dense' needs one hill coefficient per regulator; "
                             "use method='sparse'")
        if method == "dense":
            dense_k = np.zeros((g, g))
            np.add.at(dense_k, (net.edge_target, net.edge_regulator), net.edge_k)
            dense_c = np.zeros(g)
            np.add.at(dense_c, net.edge_target, np.where(net.edge_k < 0, -net.edge_k, 0.0))
        else:
            dense_k, dense_c = np.zeros((0, 0)), np.zeros(g)
        hills = np.unique(net.edge_hill)
        hill_int = (int(hills[0]) if hills.size == 1 and hills[0] == int(hills[0])
                    and 1 <= hills[0] <= 8 else None)

        def f(a):
            return jnp.asarray(a, dtype=dtype)

        def i32(a):
            return jnp.asarray(a, dtype=jnp.int32)

        return cls(basal=f(net.basal[ct]), steady_mrna=f(ss[ct]), decay=f(lam), q=f(qv),
                   k_trans=f(kt), k_deg=f(kd), edge_target=i32(net.edge_target),
                   edge_regulator=i32(net.edge_regulator), edge_k=f(net.edge_k),
                   edge_hill=f(net.edge_hill), half_response=f(h), dense_k=f(dense_k),
                   dense_c=f(dense_c), reg_half=f(reg_half), reg_hill=f(reg_hill),
                   method=method, hill_int=hill_int)


register_pytree(GRNParams, static=("method", "hill_int"))


def per_gene(value, n_genes, name, allow_zero):
    """``value`` (scalar or ``(n_genes,)``) as a finite float64 vector, ``>= 0`` or ``> 0``."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n_genes, float(v))
    if v.shape != (n_genes,):
        raise ValueError(f"{name} must be a scalar or have shape ({n_genes},), got {v.shape}")
    bad = (v < 0) if allow_zero else (v <= 0)
    if not np.all(np.isfinite(v)) or np.any(bad):
        raise ValueError(f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}")
    return v


@dataclasses.dataclass(frozen=True)
class GRNState:
    """State of a population of cells (a pytree).

    Attributes
    ----------
    mrna, protein : (n_cells, n_genes)
    key : jax PRNG key (raw uint32 key data)
    error : int32 scalar bitmask (``ERROR_NAN``, ``ERROR_NONFINITE``)
    n_clipped : int32 scalar, number of mRNA values clipped at 0 so far
        (wraps after 2**31)
    """

    mrna: jax.Array
    protein: jax.Array
    key: jax.Array
    error: jax.Array
    n_clipped: jax.Array


register_pytree(GRNState)


def _power(x, n, hill_int):
    if hill_int is not None:
        return jax.lax.integer_pow(x, hill_int)
    return jnp.power(x, n)


def _hill(x, h, n, hill_int):
    """``x^n/(h^n + x^n)``, 0 at ``x == 0`` (also when ``h == 0``)."""
    xn = _power(x, n, hill_int)
    den = _power(h, n, hill_int) + xn
    pos = x > 0
    return jnp.where(pos, xn / jnp.where(pos, den, 1.0), 0.0)


def production(params: GRNParams, x):
    """Production rate ``b + sum_j p_ij(x_j)``, shape ``(n_cells, n_genes)``."""
    if params.method == "dense":
        hr = _hill(x, params.reg_half, params.reg_hill, params.hill_int)
        return params.basal + params.dense_c + hr @ params.dense_k.T
    xr = x[:, params.edge_regulator]                                  # (cells, edges)
    r = _hill(xr, params.half_response, params.edge_hill, params.hill_int)
    k = params.edge_k
    contrib = jnp.where(k < 0, -k * (1.0 - r), k * r)
    summed = jax.ops.segment_sum(contrib.T, params.edge_target,
                                 num_segments=params.n_genes)           # (genes, cells)
    return params.basal + summed.T


def _n_streams(noise):
    return 2 if noise == "dpd" else 1


def _noise(z, p, d, noise):
    """Noise term ``xi`` from standard normals ``z`` of shape (n_streams, cells, genes)."""
    if noise == "dpd":
        return jnp.sqrt(p) * z[0] + jnp.sqrt(d) * z[1]
    if noise == "sp":
        return jnp.sqrt(p) * z[0]
    return (jnp.sqrt(p) + jnp.sqrt(d)) * z[0]  # 'spd', as SERGIO v1


def _one_step(params, noise, dt, rate_scale, carry, z):
    x, pr, n_clip = carry
    p = production(params, x)
    if rate_scale is not None:
        p = p * rate_scale
    p = jnp.maximum(p, 0.0)
    d = params.decay * x
    x_new = x + (p - d) * dt + (params.q * math.sqrt(dt)) * _noise(z, p, d, noise)
    neg = x_new < 0
    n_clip = n_clip + jnp.sum(neg, dtype=n_clip.dtype)
    x_new = jnp.where(neg, 0.0, x_new)
    # Exact solution of dPr/dt = k_trans x - k_deg Pr with x frozen over the step.
    e = jnp.exp(-params.k_deg * dt)
    pr_new = pr * e + (params.k_trans / params.k_deg) * (1.0 - e) * x
    return x_new, pr_new, n_clip


def noise_block_steps(noise, n_cells, n_genes, n_steps) -> int:
    """Steps whose normals are drawn in one call (see :func:`advance`)."""
    per_step = _n_streams(noise) * n_cells * n_genes
    return max(1, min(int(n_steps), _NOISE_BLOCK // max(1, per_step)))


def _run_block(params, noise, dt, rate_scale, record, carry, length):
    """Draw the normals of ``length`` steps at once, then scan over them."""
    x, pr, key, n_clip = carry
    key, sub = jax.random.split(key)
    z = jax.random.normal(sub, (length, _n_streams(noise)) + x.shape, dtype=x.dtype)

    def body(c, zi):
        new = _one_step(params, noise, dt, rate_scale, c, zi)
        return new, ((new[0], new[1]) if record else None)

    (x, pr, n_clip), ys = jax.lax.scan(body, (x, pr, n_clip), z)
    return (x, pr, key, n_clip), ys


def _error_bits(x, pr):
    nan = jnp.isnan(x).any() | jnp.isnan(pr).any()
    inf = jnp.isinf(x).any() | jnp.isinf(pr).any()
    return ERRORS.flag("nan", nan) | ERRORS.flag("nonfinite", inf)


def cell_chunk(n_cells: int) -> int:
    """Cells advanced together when a population is large (0: no chunking).

    Cells are independent, so a large population is advanced in chunks of
    ``_CHUNK_MIN..._CHUNK_MAX`` cells, each through all steps at once: a chunk's
    arrays and its block of normals stay in cache, which keeps the cost per
    cell-step flat as the population grows (without chunks it rose ~1.7x from
    1e3 to 1e4 cells). The chunk divides ``n_cells`` exactly, so no padding
    cells distort the clip count; a population with no such divisor is not
    chunked.
    """
    if n_cells <= _CHUNK_MAX:
        return 0
    for size in range(_CHUNK_MAX, _CHUNK_MIN - 1, -1):
        if n_cells % size == 0:
            return size
    return 0


def _advance_in_chunks(params, state, rate_scale, chunk, *, n_steps, noise, dt):
    n_cells, n_genes = state.mrna.shape
    n_chunks = n_cells // chunk

    def split_cells(a):
        return a.reshape((n_chunks, chunk, n_genes))

    # one independent key per chunk; the state's key moves on by one split
    key, sub = jax.random.split(state.key)
    keys = jax.random.split(sub, n_chunks)
    per_chunk = (split_cells(params.basal), split_cells(params.steady_mrna),
                 split_cells(state.mrna), split_cells(state.protein), keys,
                 split_cells(rate_scale) if rate_scale is not None else jnp.zeros((n_chunks,)))

    def one_chunk(args):
        basal, steady, x, pr, k, scale = args
        sub_params = dataclasses.replace(params, basal=basal, steady_mrna=steady)
        sub_state = GRNState(mrna=x, protein=pr, key=k, error=jnp.zeros((), jnp.int32),
                             n_clipped=jnp.zeros((), state.n_clipped.dtype))
        out = advance.__wrapped__(sub_params, sub_state,
                                  scale if rate_scale is not None else None,
                                  n_steps=n_steps, noise=noise, dt=dt)
        return out.mrna, out.protein, out.n_clipped

    x, pr, clipped = jax.lax.map(one_chunk, per_chunk)
    x, pr = x.reshape((n_cells, n_genes)), pr.reshape((n_cells, n_genes))
    return GRNState(mrna=x, protein=pr, key=key, error=state.error | _error_bits(x, pr),
                    n_clipped=state.n_clipped + jnp.sum(clipped, dtype=state.n_clipped.dtype))


@functools.partial(jax.jit, static_argnames=("n_steps", "noise", "dt", "record"))
def advance(params: GRNParams, state: GRNState, rate_scale=None, *, n_steps: int,
            noise: str = "dpd", dt: float = 0.01, record: bool = False):
    """Advance ``n_steps`` Euler-Maruyama steps with ``lax.scan``.

    Parameters
    ----------
    params : GRNParams
    state : GRNState
    rate_scale : (n_cells, n_genes) array or None; multiplies production.
    n_steps, noise, dt : static
    record : static; if True also return the mRNA and protein after every step,
        shapes ``(n_steps, n_cells, n_genes)``.

    Returns
    -------
    GRNState, or (GRNState, mrna_traj, protein_traj) when ``record``.
    """
    if rate_scale is not None:
        rate_scale = jnp.asarray(rate_scale, dtype=state.mrna.dtype)
    chunk = cell_chunk(state.mrna.shape[0])
    if chunk and not record:
        return _advance_in_chunks(params, state, rate_scale, chunk, n_steps=n_steps,
                                  noise=noise, dt=dt)
    carry = (state.mrna, state.protein, state.key, state.n_clipped)
    block = noise_block_steps(noise, state.mrna.shape[0], state.mrna.shape[1], n_steps)
    n_blocks, rest = divmod(n_steps, block)
    run = functools.partial(_run_block, params, noise, dt, rate_scale, record)
    traj = []
    if n_blocks:
        carry, ys = jax.lax.scan(lambda c, _: run(c, block), carry, None, length=n_blocks)
        if record:
            traj.append(jax.tree_util.tree_map(
                lambda a: a.reshape((n_blocks * block,) + a.shape[2:]), ys))
    if rest:
        carry, ys = run(carry, rest)
        if record:
            traj.append(ys)
    x, pr, key, n_clip = carry
    # NaN and inf propagate through the update (NaN < 0 is False, inf - inf is
    # NaN), so checking the final state catches any step that produced one.
    out = GRNState(mrna=x, protein=pr, key=key, error=state.error | _error_bits(x, pr),
                   n_clipped=n_clip)
    if not record:
        return out
    if not traj:
        empty = jnp.zeros((0,) + x.shape, x.dtype)
        return out, empty, empty
    xs = jnp.concatenate([t[0] for t in traj]) if len(traj) > 1 else traj[0][0]
    ps = jnp.concatenate([t[1] for t in traj]) if len(traj) > 1 else traj[0][1]
    return out, xs, ps


def grn_sde(params: GRNParams, *, noise: str = "dpd", dt: float = 0.01):
    """Build ``(init_fn, step_fn)`` for the GRN SDE.

    Parameters
    ----------
    params : GRNParams
    noise : 'sp', 'spd' or 'dpd'
    dt : time step (> 0)

    Returns
    -------
    init_fn(key, mrna=None, protein=None) -> GRNState
        Starts at each cell's deterministic steady state (protein at
        ``k_trans * mrna / k_deg``) unless given. ``key`` is an int seed, a
        ``jax.random.key`` or raw key data (see :func:`~greybox_processes.jax_common.raw_key`).
    step_fn(state, n_steps, rate_scale=None) -> GRNState
        Advances ``n_steps`` (a static int; one compilation per value).
    """
    _check_noise_dt(noise, dt)
    dtype = params.dtype

    def init_fn(key, mrna=None, protein=None) -> GRNState:
        x = params.steady_mrna if mrna is None else jnp.asarray(mrna, dtype=dtype)
        if x.shape != params.steady_mrna.shape:
            raise ValueError(f"mrna must have shape {params.steady_mrna.shape}, got {x.shape}")
        pr = (params.k_trans / params.k_deg) * x if protein is None else \
            jnp.asarray(protein, dtype=dtype)
        if pr.shape != x.shape:
            raise ValueError(f"protein must have shape {x.shape}, got {pr.shape}")
        return GRNState(mrna=x, protein=pr, key=raw_key(key), error=jnp.zeros((), jnp.int32),
                        n_clipped=jnp.zeros((), jnp.int32))

    def step_fn(state: GRNState, n_steps: int, rate_scale=None) -> GRNState:
        return advance(params, state, rate_scale, n_steps=int(n_steps), noise=noise,
                       dt=float(dt))

    return init_fn, step_fn


def _check_noise_dt(noise, dt):
    if noise not in NOISE_TYPES:
        raise ValueError(f"noise must be one of {NOISE_TYPES} (SERGIO's noise types), "
                         f"got {noise!r}")
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number, got {dt!r}")


def check_errors(state: GRNState) -> None:
    """Raise :class:`SimulationError` if the state's error bits are set (host side)."""
    ERRORS.check(state.error)
