"""Cell cycle, growth, division and death (NEXUS 3.2.2) on a fixed capacity with an alive mask.

Phases (``phase`` codes): ``EMPTY`` (a free slot), ``INTERPHASE``, ``MITOSIS``,
``APOPTOTIC`` (shrinking at the decomposition rate, then freed) and
``NECROTIC`` (mass, volume and radius set to zero at once; the slot is free).
Only interphase and mitotic cells are *alive*: dying and dead cells take no
part in forces or exchange, and release their chemicals to the field they lie
in when they vanish (so mass is conserved).

Each cell carries its own interphase and mitosis durations, growth rate and
size-control target, drawn at birth from normal distributions around
``inheritance * parent + (1 - inheritance) * type mean`` (``inheritance = 1`` is
NEXUS's rule: around the parent's values). Volume grows exponentially in
interphase, ``dV/dt = g V``. Interphase ends by the size-control rule:

* ``'timer'``: after the cell's interphase duration;
* ``'sizer'``: when ``V`` reaches the cell's target volume;
* ``'adder'``: when ``V - V_birth`` reaches the cell's added volume
  (E. coli's rule, Taheri-Araghi et al. 2015).

After the mitosis duration the cell divides: the daughter gets a fraction
``1 - f`` of the volume, mass and chemicals, the mother keeps ``f``, with
``f ~ N(1/2, division_noise)`` clipped to ``[0.05, 0.95]``. The daughter goes
into a free slot of the mother's *slot group* (contiguous equal blocks of the
capacity; with a GRN, one group per cell type, so that a slot's GRN
parameters match its cell's type). If the group is full the division waits
and the ``ERROR_CAPACITY`` bit is set.

Apoptosis and necrosis happen with per-phase rates (per unit time; probability
``1 - exp(-rate dt)`` per step) in interphase and mitosis.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["EMPTY", "INTERPHASE", "MITOSIS", "APOPTOTIC", "NECROTIC", "PHASE_NAMES",
           "SIZE_RULES", "is_alive", "radius_of", "draw_cycle", "cycle_step", "divide"]

EMPTY, INTERPHASE, MITOSIS, APOPTOTIC, NECROTIC = 0, 1, 2, 3, 4
PHASE_NAMES = ("empty", "interphase", "mitosis", "apoptotic", "necrotic")
SIZE_RULES = ("timer", "sizer", "adder")
#: an apoptotic cell is removed when its volume falls below this fraction of its birth volume
APOPTOSIS_END_FRACTION = 0.05


def is_alive(phase):
    """True where ``phase`` is interphase or mitosis (a live cell)."""
    return (phase == INTERPHASE) | (phase == MITOSIS)


def radius_of(volume, dim):
    """Radius of a sphere (3D) or disc (2D) of the given volume (area in 2D)."""
    v = jnp.maximum(volume, 0.0)
    if dim == 3:
        return jnp.cbrt(v * (3.0 / (4.0 * math.pi)))
    return jnp.sqrt(v / math.pi)


def _normal_pos(key, mean, sd):
    """Normal draws around ``mean`` kept positive (truncated at 1% of the mean)."""
    z = jax.random.normal(key, mean.shape, dtype=mean.dtype)
    return jnp.maximum(mean + sd * z, 0.01 * mean)


def draw_cycle(key, cell_type, p, parent=None):
    """Per-cell cycle parameters ``(t_int, t_mit, growth, target)`` for cells of ``cell_type``.

    ``parent`` is ``None`` (first generation: around the type means) or the
    parents' ``(t_int, t_mit, growth, target)``.
    """
    keys = jax.random.split(key, 4)
    means = (p.t_interphase[cell_type], p.t_mitosis[cell_type], p.growth_rate[cell_type],
             p.size_target[cell_type])
    sds = (p.t_interphase_sd[cell_type], p.t_mitosis_sd[cell_type],
           p.growth_rate_sd[cell_type], p.size_target_sd[cell_type])
    if parent is not None:
        h = p.inheritance
        means = tuple(h * q + (1.0 - h) * m for q, m in zip(parent, means))
    out = []
    for k, m, s in zip(keys, means, sds):
        # a zero mean (e.g. no mitosis) stays zero
        out.append(jnp.where(m > 0, _normal_pos(k, m, s), 0.0))
    return tuple(out)


def cycle_step(cells, p, key, dt, rule):
    """Growth, phase transitions and death of every cell over one step.

    ``cells`` is a dict of ``[n]`` arrays (phase, clock, volume, birth_volume,
    t_int, t_mit, growth, target, cell_type); returns ``(cells, divide_now,
    vanish)`` where ``divide_now`` marks cells that finish mitosis this step and
    ``vanish`` cells whose chemicals go back to the field (necrosis, end of
    apoptosis).
    """
    phase, clock, vol = cells["phase"], cells["clock"], cells["volume"]
    ct = cells["cell_type"]
    alive = is_alive(phase)
    k_apo, k_nec = jax.random.split(key)
    col = jnp.where(phase == MITOSIS, 1, 0)
    p_apo = 1.0 - jnp.exp(-p.apoptosis_rate[ct, col] * dt)
    p_nec = 1.0 - jnp.exp(-p.necrosis_rate[ct, col] * dt)
    necro = alive & (jax.random.uniform(k_nec, phase.shape, dtype=vol.dtype) < p_nec)
    apo = alive & ~necro & (jax.random.uniform(k_apo, phase.shape, dtype=vol.dtype) < p_apo)

    growing = phase == INTERPHASE
    vol = jnp.where(growing, vol * jnp.exp(cells["growth"] * dt), vol)
    clock = clock + dt
    if rule == "timer":
        done = clock >= cells["t_int"]
    elif rule == "sizer":
        done = vol >= cells["target"]
    else:
        done = vol - cells["birth_volume"] >= cells["target"]
    to_mitosis = growing & done & ~necro & ~apo
    divide_now = (phase == MITOSIS) & (clock >= cells["t_mit"]) & ~necro & ~apo
    # a cell with zero mitosis time divides in the step it leaves interphase
    divide_now = divide_now | (to_mitosis & (cells["t_mit"] <= 0))
    phase = jnp.where(to_mitosis, MITOSIS, phase)
    clock = jnp.where(to_mitosis, 0.0, clock)

    shrinking = phase == APOPTOTIC
    vol = jnp.where(shrinking, vol * jnp.exp(-p.decomposition_rate[ct] * dt), vol)
    ended = shrinking & (vol < APOPTOSIS_END_FRACTION * cells["birth_volume"])
    phase = jnp.where(apo, APOPTOTIC, phase)
    phase = jnp.where(necro, NECROTIC, phase)
    phase = jnp.where(ended, EMPTY, phase)
    vanish = necro | ended
    vol = jnp.where(vanish, 0.0, vol)
    out = dict(cells, phase=phase, clock=clock, volume=vol)
    return out, divide_now, vanish


def divide(cells, dividing, p, key, n_groups, dim):
    """Split every dividing cell into itself and a daughter in a free slot of its group.

    ``cells`` holds ``[n, ...]`` arrays including ``position``, ``force``,
    ``chem`` (``[n, n_chem]``) and ``extra`` (``[n, k]`` rows copied to the
    daughter, e.g. the GRN state). Returns ``(cells, overflow, parent_of)`` where
    ``parent_of`` is ``[n]`` int: the mother's slot for a new daughter, else -1.
    """
    n = cells["phase"].shape[0]
    block = n // n_groups
    k_frac, k_dir, k_draw = jax.random.split(key, 3)
    free = (cells["phase"] == EMPTY) | (cells["phase"] == NECROTIC)
    div_b = dividing.reshape(n_groups, block)
    free_b = free.reshape(n_groups, block)
    rank = jnp.cumsum(div_b, axis=1, dtype=jnp.int32) - 1               # k-th divider of group
    free_order = jnp.argsort(jnp.where(free_b, 0, 1), axis=1, stable=True).astype(jnp.int32)
    n_free = jnp.sum(free_b, axis=1, dtype=jnp.int32)
    fits = div_b & (rank < n_free[:, None])
    overflow = jnp.any(div_b & ~fits)
    local = jnp.take_along_axis(free_order, jnp.clip(rank, 0, block - 1), axis=1)
    dest = (local + jnp.arange(n_groups, dtype=jnp.int32)[:, None] * block).reshape(n)
    go = fits.reshape(n)
    dest = jnp.where(go, dest, n)                                          # n: dropped

    dtype = cells["volume"].dtype
    f = 0.5 + p.division_noise * jax.random.normal(k_frac, (n,), dtype=dtype)
    f = jnp.clip(f, 0.05, 0.95)
    direction = jax.random.normal(k_dir, (n, dim), dtype=dtype)
    direction = direction / jnp.maximum(
        jnp.sqrt(jnp.sum(direction * direction, axis=1, keepdims=True)), 1e-12)

    vol = cells["volume"]
    vol_d = vol * (1.0 - f)
    vol_m = vol - vol_d
    chem = cells["chem"]
    chem_d = chem * (1.0 - f)[:, None]
    chem_m = chem - chem_d                                                 # exact split
    r_m = radius_of(vol_m, dim)
    offset = 0.5 * r_m[:, None] * direction
    parent = (cells["t_int"], cells["t_mit"], cells["growth"], cells["target"])
    k_m, k_d = jax.random.split(k_draw)
    drawn_m = draw_cycle(k_m, cells["cell_type"], p, parent)
    drawn_d = draw_cycle(k_d, cells["cell_type"], p, parent)

    out = dict(cells)
    g = go
    g1 = g[:, None]
    # the mother: keeps f, moves half a radius back, starts a new interphase
    out["volume"] = jnp.where(g, vol_m, vol)
    out["birth_volume"] = jnp.where(g, vol_m, cells["birth_volume"])
    out["chem"] = jnp.where(g1, chem_m, chem)
    out["position"] = jnp.where(g1, cells["position"] - offset, cells["position"])
    out["phase"] = jnp.where(g, INTERPHASE, cells["phase"])
    out["clock"] = jnp.where(g, 0.0, cells["clock"])
    for name, value in zip(("t_int", "t_mit", "growth", "target"), drawn_m):
        out[name] = jnp.where(g, value, cells[name])
    # the daughter, scattered to its slot (rows of non-dividers are dropped)
    daughter = {
        "volume": vol_d, "birth_volume": vol_d, "chem": chem_d,
        "position": cells["position"] + offset, "force": jnp.zeros_like(cells["force"]),
        "phase": jnp.full((n,), INTERPHASE, cells["phase"].dtype),
        "clock": jnp.zeros((n,), dtype), "extra": cells["extra"],
        "cell_type": cells["cell_type"],
    }
    for name, value in zip(("t_int", "t_mit", "growth", "target"), drawn_d):
        daughter[name] = value
    for name, value in daughter.items():
        out[name] = out[name].at[dest].set(value, mode="drop")
    parent_of = jnp.full((n,), -1, jnp.int32).at[dest].set(
        jnp.arange(n, dtype=jnp.int32), mode="drop")
    return out, overflow, parent_of
