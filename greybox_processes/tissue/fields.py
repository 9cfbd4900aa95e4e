"""Chemical fields: diffusion, reactions and cell-field exchange (NEXUS 3.2.3, 3.2.4, 3.3, A.3).

The domain ``[0, L_1] x ... x [0, L_dim]`` is split into a grid of fields of
spacing ``h`` (``field_shape * h`` must cover the domain). Each field holds an
*amount* (mass, or molecule number) of every chemical, ``amount[c, i_1, ...]``;
its concentration is ``amount / V`` with ``V = prod(h)``.

**Diffusion** (NEXUS A.3). Between neighbouring fields ``i`` and ``j`` along
axis ``a`` the amount moved in ``dt`` is ``J A dt`` with ``J = D (C_i - C_j)/h_a``
and face area ``A = V/h_a``, i.e. ``D dt (M_i - M_j)/h_a^2``. Each face flux is
computed once and subtracted from one field and added to the other, so the
total amount is conserved to rounding. **Flux limiter**: if the outflows of a
field (over all faces) would exceed its amount, all of that field's outflows
are scaled down so that they sum to at most its amount; no amount can turn
negative, whatever ``D dt / h^2``. Boundaries: ``'closed'`` (no flux),
``'periodic'``, or ``'fixed'`` (a ghost field of fixed concentration beyond each
boundary face: a source or sink; the net amount that entered through the
boundary is accumulated so that the balance can be checked).

**Reactions** (NEXUS 3.2.4) of order 0, 1 and 2 in every field, written as
strings ``"A + B -> C: k"`` (``"-> A: k"`` for order 0, ``"A -> : k"`` for decay).
Propensities in amounts: ``k V`` (order 0), ``k M_A`` (order 1), ``k M_A M_B / V``
(order 2). Mode ``'poisson'``: the number of firings in ``dt`` is
``Poisson(a dt)``, applied one reaction after another in a random order drawn
each step (as NEXUS does); mode ``'deterministic'``: ``a dt`` in the declared
order (differentiable). Either way the firings are capped by the reactants
available, so no amount turns negative; a balanced reaction conserves mass.

NEXUS's own update (``ln[A] += gamma`` for first order) is not a rate law and
does not conserve mass; we keep its Poisson sampling and random ordering with
mass-action propensities instead.

**Exchange** (NEXUS 3.3). A cell in field ``f`` exchanges with it as fields do
with each other: ``F = P dt (C_cell - C_f)`` with ``P`` a permeability x area
per chemical (volume/time). Outflow from a cell is capped at its amount; the
total inflow drawn from a field by its cells is scaled down to at most the
field's amount. The field receives the sum of its cells' fluxes (NEXUS's
``J^f_i = -sum_j J_ij``), so cells plus fields conserve mass.
"""
from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["BOUNDARIES", "REACTION_MODES", "parse_reactions", "diffuse", "react",
           "field_index", "exchange", "check_grid_covers"]

BOUNDARIES = ("closed", "periodic", "fixed")
REACTION_MODES = ("poisson", "deterministic", "off")
# outflows are scaled to at most (1 - _EPS) of what a field holds, so that the rounding of
# the sums cannot take an amount below zero (float32 rounding is covered too)
_EPS = 64.0 * float(np.finfo(np.float32).eps)


# --------------------------------------------------------------------------- grid

def check_grid_covers(domain, field_shape, spacing):
    """Raise ValueError unless ``field_shape * spacing`` covers ``domain`` on every axis."""
    domain = np.asarray(domain, dtype=np.float64)
    shape = np.asarray(field_shape, dtype=np.float64)
    spacing = np.asarray(spacing, dtype=np.float64)
    if not (domain.shape == shape.shape == spacing.shape):
        raise ValueError(f"domain {domain.tolist()}, field_shape {shape.tolist()} and "
                         f"field_spacing {spacing.tolist()} must have one entry per dimension")
    if np.any(shape < 1) or np.any(spacing <= 0):
        raise ValueError("field_shape entries must be >= 1 and field_spacing > 0")
    covered = shape * spacing
    short = covered < domain * (1.0 - 1e-12)
    if np.any(short):
        axis = int(np.argmax(short))
        raise ValueError(
            f"the field grid does not cover the domain: on axis {axis} it spans "
            f"{shape[axis]:g} x {spacing[axis]:g} = {covered[axis]:g} but the domain is "
            f"{domain[axis]:g} long; increase field_shape or field_spacing (or leave "
            f"field_spacing empty to use domain/field_shape)")


def field_index(position, spacing, field_shape):
    """Flat index of the field each position lies in (nearest field when outside), ``[n]``."""
    h = jnp.asarray(spacing, position.dtype)
    hi = jnp.asarray(field_shape, jnp.int32) - 1
    idx = jnp.clip(jnp.floor(position / h).astype(jnp.int32), 0, hi)
    flat = jnp.zeros(position.shape[:1], jnp.int32)
    for a, n in enumerate(field_shape):
        flat = flat * n + idx[:, a]
    return flat


# ---------------------------------------------------------------------- diffusion

def _shift_pad(a, axis, low, high):
    """Concatenate ``low`` before and ``high`` after ``a`` along ``axis``."""
    return jnp.concatenate([low, a, high], axis=axis)


def _take(a, axis, index):
    return jax.lax.slice_in_dim(a, index, index + 1, axis=axis) if index >= 0 else \
        jax.lax.slice_in_dim(a, a.shape[axis] + index, a.shape[axis] + index + 1, axis=axis)


def diffuse(amount, diffusion, spacing, dt, boundary="closed", boundary_conc=None):
    """One explicit, mass-conserving, flux-limited diffusion step.

    Args:
      amount: ``[n_chem, *field_shape]`` amounts.
      diffusion: ``[n_chem]`` diffusion constants (length^2/time).
      spacing: ``[dim]`` field spacing (python floats or an array).
      dt: time step.
      boundary: 'closed', 'periodic' or 'fixed' (static).
      boundary_conc: ``[n_chem]`` ghost concentration for 'fixed'.

    Returns:
      ``(amount, boundary_in)``: the new amounts and ``[n_chem]`` net amount that
      entered through the boundary in this step (0 unless 'fixed').
    """
    dim = amount.ndim - 1
    dtype = amount.dtype
    vol = jnp.prod(jnp.asarray(spacing, dtype))
    expand = (slice(None),) + (None,) * dim
    faces, outflow = [], jnp.zeros_like(amount)
    for a in range(dim):
        ax = a + 1
        coef = (diffusion * dt / (jnp.asarray(spacing, dtype)[a] ** 2))[expand]
        if boundary == "periodic":
            low, high = _take(amount, ax, -1), _take(amount, ax, 0)
        elif boundary == "fixed":
            ghost = jnp.broadcast_to((boundary_conc * vol)[expand],
                                     _take(amount, ax, 0).shape).astype(dtype)
            low = high = ghost
        else:
            low = high = None
        if low is None:
            inner = coef * (jax.lax.slice_in_dim(amount, 0, amount.shape[ax] - 1, axis=ax)
                            - jax.lax.slice_in_dim(amount, 1, amount.shape[ax], axis=ax))
            zero = jnp.zeros_like(_take(amount, ax, 0))
            flux = _shift_pad(inner, ax, zero, zero)       # n + 1 faces, face k: cell k-1 -> k
        else:
            ext = _shift_pad(amount, ax, low, high)
            flux = coef * (jax.lax.slice_in_dim(ext, 0, ext.shape[ax] - 1, axis=ax)
                           - jax.lax.slice_in_dim(ext, 1, ext.shape[ax], axis=ax))
        n = amount.shape[ax]
        lower_side = jax.lax.slice_in_dim(flux, 1, n + 1, axis=ax)  # face after each cell
        upper_side = jax.lax.slice_in_dim(flux, 0, n, axis=ax)      # face before each cell
        outflow = outflow + jnp.maximum(lower_side, 0.0) + jnp.maximum(-upper_side, 0.0)
        faces.append(flux)
    over = outflow > amount
    held = jnp.maximum(amount, 0.0)
    scale = jnp.where(over, held / jnp.where(outflow > 0, outflow, 1.0) * (1.0 - _EPS), 1.0)
    new = amount
    boundary_in = jnp.zeros(amount.shape[:1], dtype)
    for a, flux in enumerate(faces):
        ax = a + 1
        n = amount.shape[ax]
        one = jnp.ones_like(_take(scale, ax, 0))
        if boundary == "periodic":
            s_ext = _shift_pad(scale, ax, _take(scale, ax, -1), _take(scale, ax, 0))
        else:
            s_ext = _shift_pad(scale, ax, one, one)
        s_lower = jax.lax.slice_in_dim(s_ext, 0, n + 1, axis=ax)   # source when flux > 0
        s_upper = jax.lax.slice_in_dim(s_ext, 1, n + 2, axis=ax)   # source when flux < 0
        flux = jnp.where(flux > 0, flux * s_lower, flux * s_upper)
        into = jax.lax.slice_in_dim(flux, 0, n, axis=ax)
        out_of = jax.lax.slice_in_dim(flux, 1, n + 1, axis=ax)
        new = new + into - out_of
        if boundary == "fixed":
            first = _take(flux, ax, 0)
            last = _take(flux, ax, -1)
            axes = tuple(range(1, amount.ndim))
            boundary_in = boundary_in + jnp.sum(first - last, axis=axes)
    # a no-op unless rounding went below zero (the limiter keeps outflows below the amount)
    return jnp.maximum(new, 0.0), boundary_in


# ---------------------------------------------------------------------- reactions

_SIDE = re.compile(r"^\s*(?:(\d+)\s*\*?\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*$")


def _parse_side(text, chemicals, reaction):
    counts = {}
    text = text.strip()
    if not text or text == "0" or text.lower() == "none":
        return counts
    for term in text.split("+"):
        match = _SIDE.match(term)
        if not match:
            raise ValueError(f"reaction {reaction!r}: cannot read {term.strip()!r}; write terms "
                             "like 'A', '2 A' or 'A + B'")
        n = int(match.group(1) or 1)
        name = match.group(2)
        if name not in chemicals:
            raise ValueError(f"reaction {reaction!r} uses unknown chemical {name!r}; declared "
                             f"chemicals are {list(chemicals)} (add it to 'chemicals' or fix the "
                             "name)")
        counts[name] = counts.get(name, 0) + n
    return counts


def parse_reactions(reactions, chemicals):
    """Parse ``["A + B -> C: 0.5", ...]`` into ``(reactants, products, rates)``.

    Returns ``[n_reactions, n_chem]`` int reactant and product counts and
    ``[n_reactions]`` rates (numpy). Raises ValueError naming the reaction for
    an unknown chemical, a missing arrow or rate, an order above 2, or a
    negative rate.
    """
    chemicals = list(chemicals)
    n_chem = len(chemicals)
    reac = np.zeros((len(reactions), n_chem), np.int32)
    prod = np.zeros((len(reactions), n_chem), np.int32)
    rates = np.zeros(len(reactions), np.float64)
    for r, text in enumerate(reactions):
        if not isinstance(text, str) or "->" not in text or ":" not in text:
            raise ValueError(f"reaction {text!r} must read 'reactants -> products: rate', e.g. "
                             "'A + B -> C: 0.5', '-> A: 1.0' or 'A -> : 0.1'")
        body, _, rate = text.rpartition(":")
        left, _, right = body.partition("->")
        try:
            k = float(rate)
        except ValueError:
            raise ValueError(f"reaction {text!r}: the rate {rate.strip()!r} is not a number") \
                from None
        if not np.isfinite(k) or k < 0:
            raise ValueError(f"reaction {text!r}: the rate must be finite and >= 0, got {k}")
        lhs = _parse_side(left, chemicals, text)
        rhs = _parse_side(right, chemicals, text)
        if sum(lhs.values()) > 2:
            raise ValueError(f"reaction {text!r} has order {sum(lhs.values())}; only orders 0, "
                             "1 and 2 are supported (split it into elementary steps)")
        for name, n in lhs.items():
            reac[r, chemicals.index(name)] = n
        for name, n in rhs.items():
            prod[r, chemicals.index(name)] = n
        rates[r] = k
    return reac, prod, rates


def _propensity(amount, reac_row, rate, vol):
    """Mass-action propensity of one reaction in every field, ``[n_fields]``.

    ``amount`` is ``[n_chem, n_fields]``; ``reac_row`` ``[n_chem]`` int counts.
    """
    order = jnp.sum(reac_row)
    c = reac_row.astype(amount.dtype)[:, None]
    # product over chemicals of M^count (count in 0..2), divided by V^(order - 1)
    factors = jnp.where(c > 0, amount, 1.0) * jnp.where(c > 1, amount, 1.0)
    prod = jnp.prod(factors, axis=0)
    scale = jnp.power(vol, 1.0 - order.astype(amount.dtype))
    return rate * prod * scale


def react(amount, reactants, products, rates, vol, dt, key, mode="poisson"):
    """One step of every reaction in every field.

    Args:
      amount: ``[n_chem, *field_shape]`` molecules per field element.
      reactants: ``[n_reactions, n_chem]`` int stoichiometric counts consumed.
      products: ``[n_reactions, n_chem]`` int stoichiometric counts made.
      rates: ``[n_reactions]`` mass-action rate constants (per time unit of
        ``dt``, volumes as ``vol``).
      vol: field-element volume (cell-radius units cubed).
      dt: step (hours).
      key: PRNG key (unused when deterministic).
      mode: 'poisson', 'deterministic' or 'off' (static).
    """
    n_r = reactants.shape[0]
    if mode == "off" or n_r == 0:
        return amount
    shape = amount.shape
    flat = amount.reshape(shape[0], -1)
    reac_f = reactants.astype(amount.dtype)
    net = (products - reactants).astype(amount.dtype)
    if mode == "poisson":
        k_order, k_fire = jax.random.split(key)
        order = jax.random.permutation(k_order, n_r)
        fire_keys = jax.random.split(k_fire, n_r)
    else:
        order = jnp.arange(n_r)
        fire_keys = None

    def body(i, m):
        r = order[i]
        a = _propensity(m, reactants[r], rates[r], vol)
        mean = a * dt
        if mode == "poisson":
            fired = jax.random.poisson(fire_keys[i], mean, dtype=jnp.int32).astype(m.dtype)
        else:
            fired = mean
        need = reac_f[r][:, None]
        cap = jnp.min(jnp.where(need > 0, m / jnp.where(need > 0, need, 1.0), jnp.inf), axis=0)
        fired = jnp.minimum(fired, cap)
        new = m + net[r][:, None] * fired[None, :]
        # consumed reactants end at >= 0 exactly (rounding of the cap)
        return jnp.where(need > 0, jnp.maximum(new, 0.0), new)

    flat = jax.lax.fori_loop(0, n_r, body, flat)
    return flat.reshape(shape)


# ----------------------------------------------------------------------- exchange

def exchange(cell_amount, cell_volume, active, fields, field_of_cell, permeability, vol, dt):
    """Cell-field exchange; returns ``(cell_amount, fields)`` (mass-conserving, non-negative).

    Args:
      cell_amount: ``[n, n_chem]``; cell_volume ``[n]``; active ``[n]`` bool.
      fields: ``[n_chem, *field_shape]``; field_of_cell ``[n]`` flat indices.
      permeability: ``[n_chem]`` (volume/time); vol: field volume; dt: step.
    """
    shape = fields.shape
    flat = fields.reshape(shape[0], -1)                                  # [c, F]
    n_fields = flat.shape[1]
    c_field = flat[:, field_of_cell].T / vol                             # [n, c]
    v = jnp.where(cell_volume > 0, cell_volume, 1.0)[:, None]
    c_cell = cell_amount / v
    flux = jnp.where(active[:, None], permeability[None, :] * dt * (c_cell - c_field), 0.0)
    flux = jnp.minimum(flux, cell_amount)                                # cell outflow cap
    demand = jax.ops.segment_sum(jnp.maximum(-flux, 0.0), field_of_cell,
                                 num_segments=n_fields)                  # [F, c]
    have = jnp.maximum(flat.T, 0.0)
    over = demand > have
    scale = jnp.where(over, have / jnp.where(demand > 0, demand, 1.0) * (1.0 - _EPS), 1.0)
    flux = jnp.where(flux < 0, flux * scale[field_of_cell], flux)
    gained = jax.ops.segment_sum(flux, field_of_cell, num_segments=n_fields)  # [F, c]
    new_cells = cell_amount - flux
    new_cells = jnp.where(flux > 0, jnp.maximum(new_cells, 0.0), new_cells)
    # inflows drawn from a field total at most (1 - _EPS) of it; the clip only absorbs rounding
    return new_cells, jnp.maximum(flat + gained.T, 0.0).reshape(shape)
