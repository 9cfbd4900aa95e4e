"""Cell-cell forces with a cell-list neighbour grid (NEXUS appendix A.2), jax-md style.

Force on cell ``i`` from cell ``j`` (``r = x_i - x_j``, ``d = |r|``, ``u = r/d``,
``s = R_i + R_j``), summed over neighbours closer than ``cutoff``::

    F_ij = [ k^r_ij * 2 (M_i + M_j) * max(0, s - d) / s     repulsion, only on overlap
             - k^a_ij * M_i M_j / max(d, s/10)^2 ] * u        attraction, M_i M_j / r^2

with pair strengths ``k_ij = sqrt(k_type(i) k_type(j))``. NEXUS writes the
repulsion as ``2 (Pos_i - Pos_j)/Delta (M_i + M_j)``; we make it proportional to
the overlap ``s - d`` (zero without overlap, as the paper says it must be) so
that a pair has a well-defined balance distance.

The motion is overdamped (``dx = mobility * F_eff * dt``) with NEXUS's residual
drift and random force::

    F_eff(t) = F_cc(t) + drift * F_eff(t - dt) + sigma * xi / sqrt(dt)

``xi ~ N(0, 1)`` per component, so the random part is Brownian (its effect
does not depend on ``dt``) and, through ``drift``, persistent. ``F_eff`` is
carried in the state (``force``). Each displacement is clipped to
``max_displacement`` (a stiff-overlap safety net) and positions to the box.

Neighbours: a cell list. Active cells are binned on a grid of bins at least
``cutoff`` wide, ``max_per_bin`` cells per bin (overflow sets an error bit),
and each cell visits the ``3^dim`` surrounding bins in a ``lax.scan``, so the
memory is ``O(n_cells * max_per_bin)`` and the work ``O(n_cells * 3^dim *
max_per_bin)``: linear in cells at a fixed density.
"""
from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["bin_layout", "cell_list", "pair_forces", "move", "FORCE_PARAMETER_RANGES",
           "check_force_parameters"]

#: Accepted range ``(low, high)`` of each force-law parameter (inclusive). Tissue lengths are in
#: cell radii (~1) and times in hours, so the defaults are O(1)-O(10); the upper bounds sit
#: orders of magnitude above anything physical but far below where ``F * F`` in the
#: displacement norm overflows float64 (that overflow silently zeroes the step, see ``move``).
FORCE_PARAMETER_RANGES = {
    "attraction": (0.0, 1e6),
    "repulsion": (0.0, 1e6),
    "drift": (0.0, 1.0),          # fraction of the last force kept: above 1 it grows geometrically
    "random_force": (0.0, 1e4),
    "mobility": (0.0, 1e6),
    "max_displacement": (0.0, 1e6),
}


def check_force_parameters(values) -> None:
    """Raise ``ValueError`` naming the key and its range for a bad force-law parameter.

    ``values`` maps parameter names (any of :data:`FORCE_PARAMETER_RANGES`; others are
    ignored) to a scalar or a per-type sequence; ``None`` means "use the default". Checked at
    construction because inside the jitted step a huge value does not fail: it overflows to a
    zero or NaN step, and the cells silently stop moving.
    """
    for key, (low, high) in FORCE_PARAMETER_RANGES.items():
        raw = values.get(key)
        if raw is None:
            continue
        try:
            arr = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"tissue force parameter {key!r} must be a number or a list of "
                             f"numbers in [{low:g}, {high:g}], got {raw!r}") from exc
        bad = arr[~(np.isfinite(arr) & (arr >= low) & (arr <= high))]
        if bad.size:
            raise ValueError(f"tissue force parameter {key!r} must be finite and within "
                             f"[{low:g}, {high:g}], got {bad.tolist()}; set {key!r} to a value "
                             "in that range (mobility * repulsion * dt well below 1 keeps the "
                             "steps stable)")


def bin_layout(domain, cutoff):
    """Static bin grid ``(bins_shape, bin_size)`` for a box ``domain`` and a force ``cutoff``."""
    domain = np.asarray(domain, dtype=np.float64)
    shape = tuple(max(1, int(math.floor(L / cutoff))) for L in domain)
    size = tuple(float(L / n) for L, n in zip(domain, shape))
    return shape, size


def _ravel(idx, shape):
    flat = jnp.zeros(idx.shape[:-1], jnp.int32)
    for a, n in enumerate(shape):
        flat = flat * n + idx[..., a]
    return flat


def cell_list(position, active, *, bin_size, bins_shape, max_per_bin):
    """Bin the active cells.

    Args:
      position: ``[n, dim]`` positions relative to the box origin.
      active: ``[n]`` bool, cells that take part in forces.
      bin_size: edge of a bin, from :func:`bin_layout` (static, cell-radius units).
      bins_shape: bins along each axis, from :func:`bin_layout` (static).
      max_per_bin: static capacity of a bin.

    Returns:
      ``(contents, bin_index, overflow)``: ``contents`` is ``[n_bins, max_per_bin]``
      int32 cell ids (``n`` marks an empty place), ``bin_index`` ``[n, dim]`` the
      bin of each cell, ``overflow`` a bool scalar (a bin held more cells).
    """
    n = position.shape[0]
    n_bins = int(np.prod(bins_shape))
    size = jnp.asarray(bin_size, dtype=position.dtype)
    hi = jnp.asarray(bins_shape, dtype=jnp.int32) - 1
    idx = jnp.clip(jnp.floor(position / size).astype(jnp.int32), 0, hi)
    flat = jnp.where(active, _ravel(idx, bins_shape), n_bins)
    order = jnp.argsort(flat, stable=True).astype(jnp.int32)
    sorted_bins = flat[order]
    counts = jax.ops.segment_sum(jnp.ones((n,), jnp.int32), flat, num_segments=n_bins + 1)
    starts = jnp.cumsum(counts) - counts
    rank = jnp.arange(n, dtype=jnp.int32) - starts[sorted_bins]
    ok = (sorted_bins < n_bins) & (rank < max_per_bin)
    slot = jnp.where(ok, sorted_bins * max_per_bin + rank, n_bins * max_per_bin)
    contents = jnp.full((n_bins * max_per_bin,), n, jnp.int32).at[slot].set(order, mode="drop")
    overflow = jnp.any((sorted_bins < n_bins) & (rank >= max_per_bin))
    return contents.reshape(n_bins, max_per_bin), idx, overflow


def _offsets(dim):
    return np.asarray(list(itertools.product((-1, 0, 1), repeat=dim)), dtype=np.int32)


def pair_forces(position, radius, mass, cell_type, active, attraction, repulsion, *,
                cutoff, bin_size, bins_shape, max_per_bin):
    """Cell-cell force on every cell, ``[n, dim]`` (zero for inactive cells).

    Args:
      position: ``[n, dim]`` relative to the box origin (cell-radius units).
      radius: ``[n]`` cell radii (cell-radius units).
      mass: ``[n]`` cell masses (density times volume).
      cell_type: ``[n]`` int.
      active: ``[n]`` bool.
      attraction: ``[n_types]`` attraction strengths.
      repulsion: ``[n_types]`` repulsion strengths.
      cutoff: interaction range (cell-radius units).
      bin_size: see :func:`cell_list`.
      bins_shape: see :func:`cell_list`.
      max_per_bin: see :func:`cell_list`.

    Returns:
      ``(force, overflow)``.
    """
    n, dim = position.shape
    contents, idx, overflow = cell_list(position, active, bin_size=bin_size,
                                        bins_shape=bins_shape, max_per_bin=max_per_bin)
    dtype = position.dtype
    # one packed gather per neighbour bin: position, radius, mass, sqrt strengths
    sqa = jnp.sqrt(attraction)[cell_type]
    sqr = jnp.sqrt(repulsion)[cell_type]
    packed = jnp.concatenate([position, radius[:, None], mass[:, None], sqa[:, None],
                              sqr[:, None]], axis=1)
    packed = jnp.concatenate([packed, jnp.zeros((1, dim + 4), dtype)])
    hi = jnp.asarray(bins_shape, dtype=jnp.int32)
    ids = jnp.arange(n, dtype=jnp.int32)
    cut2 = jnp.asarray(cutoff * cutoff, dtype)

    def visit(force, offset):
        nb = idx + offset
        inside = jnp.all((nb >= 0) & (nb < hi), axis=-1)
        cand = contents[_ravel(jnp.clip(nb, 0, hi - 1), bins_shape)]        # [n, max_per_bin]
        cand = jnp.where(inside[:, None] & active[:, None], cand, n)
        other = packed[cand]                                                 # [n, m, dim + 4]
        r = position[:, None, :] - other[..., :dim]
        d2 = jnp.sum(r * r, axis=-1)
        valid = (cand != ids[:, None]) & (cand < n) & (d2 < cut2) & (d2 > 0)
        d = jnp.sqrt(jnp.where(valid, d2, 1.0))
        s = radius[:, None] + other[..., dim]
        s_safe = jnp.where(s > 0, s, 1.0)
        mi, mj = mass[:, None], other[..., dim + 1]
        k_a = sqa[:, None] * other[..., dim + 2]
        k_r = sqr[:, None] * other[..., dim + 3]
        rep = k_r * 2.0 * (mi + mj) * jnp.maximum(s - d, 0.0) / s_safe
        d_att = jnp.maximum(d, 0.1 * s_safe)
        att = k_a * mi * mj / (d_att * d_att)
        mag = jnp.where(valid, (rep - att) / d, 0.0)
        return force + jnp.sum(mag[..., None] * r, axis=1), None

    force0 = jnp.zeros((n, dim), dtype)
    force, _ = jax.lax.scan(visit, force0, jnp.asarray(_offsets(dim)))
    return force, overflow


def move(position, force_prev, force_cc, active, radius, key, *, drift, sigma, mobility, dt,
         max_displacement, domain):
    """One overdamped step; returns ``(position, force_eff)`` (inactive cells do not move).

    Args:
      drift: ``[n]`` per-cell residual-drift fraction (dimensionless).
      sigma: ``[n]`` per-cell random-force strength.
    """
    xi = jax.random.normal(key, position.shape, dtype=position.dtype)
    f_eff = force_cc + drift[:, None] * force_prev + sigma[:, None] * xi / math.sqrt(dt)
    f_eff = jnp.where(active[:, None], f_eff, 0.0)
    step = mobility * dt * f_eff
    norm = jnp.sqrt(jnp.sum(step * step, axis=-1, keepdims=True))
    cap = max_displacement
    step = jnp.where(norm > cap, step * (cap / jnp.where(norm > 0, norm, 1.0)), step)
    lo = jnp.zeros_like(position)
    hi = jnp.asarray(domain, position.dtype)
    new = jnp.clip(position + step, lo, hi)
    return jnp.where(active[:, None], new, position), f_eff
