"""JAX kernel of a NEXUS-like tissue: cells (forces, cycle, death) and chemical fields.

``make_tissue(params) -> (init_fn, step_fn)`` in jax-md style. One step, in order:

1. **mechanics** (:mod:`.forces`): cell-list neighbour forces, residual drift,
   random force, overdamped move;
2. **cycle** (:mod:`.cycle`): growth, size control, mitosis, division into a
   free slot, apoptosis and necrosis; vanishing cells return their chemicals
   to their field;
3. **exchange** (:mod:`.fields`): each live cell with the field it lies in;
4. **diffusion** between fields; 5. **reactions** in every field.

Every part can be switched off (static flags in :class:`TissueParams`). The
population lives in arrays of a fixed *capacity* with a phase code per slot
(``EMPTY`` slots are free), so the number of cells varies inside ``jit``. When
a division finds no free slot the ``ERROR_CAPACITY`` bit is set; the host-side
:func:`advance_checked` then grows the capacity (with a warning saying so) and
repeats the chunk, or raises :class:`~greybox_processes.errors.SimulationError`.

Random numbers: the key lives in the state and is split every step, so the
same seed reproduces a run bit for bit. With noise off (``random_force = 0``,
no death, ``reaction_mode='deterministic'``, no cycle) a run is a
differentiable function of the parameters (``jax.grad`` works through
``step_fn``).
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..jax_common import ErrorFlags, host_bits, raw_key, register_pytree
from . import cycle as cyc
from .fields import BOUNDARIES, REACTION_MODES, check_grid_covers, diffuse, exchange, \
    field_index, parse_reactions, react
from .forces import bin_layout, check_force_parameters, move, pair_forces

__all__ = ["TissueParams", "TissueState", "make_tissue", "advance", "advance_checked",
           "grow_capacity", "check_errors", "n_alive", "total_mass",
           "ERROR_CAPACITY", "ERROR_BIN_OVERFLOW", "ERROR_NAN", "ERRORS"]

logger = logging.getLogger(__name__)

#: The error bits of :class:`TissueState` and what :func:`check_errors` says of each.
ERRORS = ErrorFlags(
    {# a division found no free slot in its group
     "capacity": (1, "the cell capacity ({capacity} slots) is full: a division found no free "
                     "slot. Increase the capacity (Tissue config 'capacity_per_type', or "
                     "grow_capacity() / advance_checked(on_full='grow') in the kernel API)"),
     # a neighbour bin held more than max_per_bin cells
     "bin_overflow": (2, "a neighbour-search bin held more cells than max_per_bin, so some "
                         "forces were missed. Increase 'max_per_bin' (cells are denser than "
                         "expected)"),
     # a NaN or infinite value appeared
     "nan": (4, "a NaN or infinite value appeared in positions, volumes or chemicals. "
                "Reduce dt or the force strengths (mobility * repulsion * dt well below 1)")},
    template="tissue simulation failed: {messages} (error bits {bits})")
ERROR_CAPACITY = ERRORS["capacity"]          # 1
ERROR_BIN_OVERFLOW = ERRORS["bin_overflow"]  # 2
ERROR_NAN = ERRORS["nan"]                    # 4


_PARAM_META = ("dim", "dt", "domain", "size_rule", "n_groups", "cutoff", "max_per_bin",
               "bins_shape", "bin_size", "field_shape", "field_spacing", "boundary",
               "reaction_mode", "chemicals", "mechanics", "cycle", "diffusion_on",
               "exchange_on")


@dataclasses.dataclass(frozen=True)
class TissueParams:
    """Parameters of a tissue (a pytree; per-type arrays are ``[n_types]``).

    Mechanics: ``attraction``, ``repulsion``, ``drift`` (fraction of last
    step's force kept), ``random_force`` (sigma), ``mobility`` and
    ``max_displacement`` (scalars). Cycle: ``t_interphase``/``_sd``,
    ``t_mitosis``/``_sd``, ``growth_rate``/``_sd`` (1/time), ``size_target``/``_sd``
    (sizer: division volume; adder: added volume; timer: unused),
    ``birth_volume`` (initial cells), ``density`` (mass per volume),
    ``apoptosis_rate``, ``necrosis_rate`` (``[n_types, 2]``: interphase, mitosis;
    1/time), ``decomposition_rate`` (apoptotic shrinking, 1/time),
    ``inheritance`` and ``division_noise`` (scalars). Fields: ``diffusion``,
    ``boundary_conc``, ``permeability`` (``[n_chem]``), ``reactants``,
    ``products`` (``[n_reactions, n_chem]`` int), ``rates``. Static: geometry
    and switches (see :func:`TissueParams.create`).
    """

    attraction: jax.Array
    repulsion: jax.Array
    drift: jax.Array
    random_force: jax.Array
    mobility: jax.Array
    max_displacement: jax.Array
    t_interphase: jax.Array
    t_interphase_sd: jax.Array
    t_mitosis: jax.Array
    t_mitosis_sd: jax.Array
    growth_rate: jax.Array
    growth_rate_sd: jax.Array
    size_target: jax.Array
    size_target_sd: jax.Array
    birth_volume: jax.Array
    density: jax.Array
    apoptosis_rate: jax.Array
    necrosis_rate: jax.Array
    decomposition_rate: jax.Array
    inheritance: jax.Array
    division_noise: jax.Array
    diffusion: jax.Array
    boundary_conc: jax.Array
    permeability: jax.Array
    reactants: jax.Array
    products: jax.Array
    rates: jax.Array
    dim: int = 3
    dt: float = 0.01
    domain: tuple = (10.0, 10.0, 10.0)
    size_rule: str = "timer"
    n_groups: int = 1
    cutoff: float = 3.0
    max_per_bin: int = 16
    bins_shape: tuple = (1, 1, 1)
    bin_size: tuple = (10.0, 10.0, 10.0)
    field_shape: tuple = (1, 1, 1)
    field_spacing: tuple = (10.0, 10.0, 10.0)
    boundary: str = "closed"
    reaction_mode: str = "poisson"
    chemicals: tuple = ()
    mechanics: bool = True
    cycle: bool = True
    diffusion_on: bool = True
    exchange_on: bool = True

    @property
    def n_types(self) -> int:
        """Number of cell types."""
        return int(self.attraction.shape[0])

    @property
    def n_chem(self) -> int:
        """Number of chemicals."""
        return len(self.chemicals)

    @property
    def field_volume(self) -> float:
        """Volume of one field element (cell radii cubed, or squared in 2-D)."""
        return float(np.prod(self.field_spacing))

    @property
    def dtype(self):
        """The floating-point dtype of the parameters (the kernel computes in it)."""
        return self.attraction.dtype

    @classmethod
    def create(cls, *, n_types=1, dim=3, dt=0.01, domain=None, size_rule="timer", n_groups=1,
               cutoff=None, max_per_bin=16, field_shape=None, field_spacing=None,
               boundary="closed", reaction_mode="poisson", chemicals=(), reactions=(),
               mechanics=True, cycle=True, diffusion_on=True, exchange_on=True,
               dtype=jnp.float64, **values) -> "TissueParams":
        """Validated parameters; every array value may be a scalar (broadcast per type).

        Defaults (per type): cells of volume 1 (radius 0.62 in 3D), attraction 0.5,
        repulsion 10, drift 0.5, random force 0.05, interphase 10 +- 1, mitosis 1 +- 0.1,
        growth ln2/10, no death, density 1; no diffusion, exchange or reactions.
        Raises ValueError saying what to change.
        """
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 or 3, got {dim}")
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt must be a positive number, got {dt!r}")
        if size_rule not in cyc.SIZE_RULES:
            raise ValueError(f"size_rule must be one of {cyc.SIZE_RULES}, got {size_rule!r}")
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
        if reaction_mode not in REACTION_MODES:
            raise ValueError(f"reaction_mode must be one of {REACTION_MODES}, "
                             f"got {reaction_mode!r}")
        domain = tuple(float(x) for x in (domain if domain is not None else (10.0,) * dim))
        if len(domain) != dim or min(domain) <= 0:
            raise ValueError(f"domain must give {dim} positive lengths, got {list(domain)}")
        field_shape = tuple(int(x) for x in (field_shape if field_shape is not None
                                             else (1,) * dim))
        if len(field_shape) != dim:
            raise ValueError(f"field_shape must have {dim} entries, got {list(field_shape)}")
        if field_spacing is None or len(field_spacing) == 0:
            field_spacing = tuple(L / n for L, n in zip(domain, field_shape))
        field_spacing = tuple(float(x) for x in field_spacing)
        check_grid_covers(domain, field_shape, field_spacing)
        chemicals = tuple(str(c) for c in chemicals)
        if len(set(chemicals)) != len(chemicals):
            raise ValueError(f"chemical names must be unique, got {list(chemicals)}")
        reac, prod, rates = parse_reactions(list(reactions), chemicals)
        defaults = dict(attraction=0.5, repulsion=10.0, drift=0.5, random_force=0.05,
                        mobility=1.0, max_displacement=None, t_interphase=10.0,
                        t_interphase_sd=1.0, t_mitosis=1.0, t_mitosis_sd=0.1,
                        growth_rate=math.log(2.0) / 10.0, growth_rate_sd=0.0,
                        size_target=1.0, size_target_sd=0.1, birth_volume=1.0, density=1.0,
                        apoptosis_rate=0.0, necrosis_rate=0.0, decomposition_rate=0.5,
                        inheritance=0.5, division_noise=0.0, diffusion=0.0,
                        boundary_conc=0.0, permeability=0.0)
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise ValueError(f"unknown tissue parameter(s) {unknown}; known: {sorted(defaults)}")
        v = {**defaults, **values}
        check_force_parameters(v)  # huge forces overflow silently inside the jitted step
        per_type = ("attraction", "repulsion", "drift", "random_force", "t_interphase",
                    "t_interphase_sd", "t_mitosis", "t_mitosis_sd", "growth_rate",
                    "growth_rate_sd", "size_target", "size_target_sd", "birth_volume",
                    "density", "decomposition_rate")
        arrays = {}
        for name in per_type:
            arrays[name] = _vector(v[name], n_types, name)
        for name in ("apoptosis_rate", "necrosis_rate"):
            arrays[name] = _phase_rates(v[name], n_types, name)
        for name in ("diffusion", "boundary_conc", "permeability"):
            arrays[name] = _vector(v[name], len(chemicals), name) if chemicals else np.zeros(0)
        if np.any(arrays["birth_volume"] <= 0) or np.any(arrays["density"] <= 0):
            raise ValueError("birth_volume and density must be > 0")
        if np.any(arrays["t_interphase"] <= 0) and size_rule == "timer":
            raise ValueError("t_interphase must be > 0 with the 'timer' size rule")
        if not 0.0 <= float(v["inheritance"]) <= 1.0:
            raise ValueError(f"inheritance must lie in [0, 1], got {v['inheritance']}")
        if float(v["division_noise"]) < 0 or float(v["mobility"]) < 0:
            raise ValueError("division_noise and mobility must be >= 0")
        r_max = float(cyc.radius_of(jnp.asarray(2.0 * arrays["birth_volume"].max()), dim))
        cutoff = float(cutoff) if cutoff else 2.5 * r_max
        if cutoff <= 0:
            raise ValueError(f"cutoff must be > 0, got {cutoff}")
        max_disp = v["max_displacement"]
        max_disp = 0.2 * float(cyc.radius_of(jnp.asarray(arrays["birth_volume"].min()), dim)) \
            if max_disp is None else float(max_disp)
        if max_per_bin < 1:
            raise ValueError(f"max_per_bin must be >= 1, got {max_per_bin}")
        bins_shape, bin_size = bin_layout(domain, cutoff)

        def f(a):
            return jnp.asarray(a, dtype=dtype)

        return cls(**{k: f(a) for k, a in arrays.items()},
                   mobility=f(v["mobility"]), max_displacement=f(max_disp),
                   inheritance=f(v["inheritance"]), division_noise=f(v["division_noise"]),
                   reactants=jnp.asarray(reac, jnp.int32), products=jnp.asarray(prod, jnp.int32),
                   rates=f(rates), dim=int(dim), dt=float(dt), domain=domain,
                   size_rule=size_rule, n_groups=int(n_groups), cutoff=cutoff,
                   max_per_bin=int(max_per_bin), bins_shape=bins_shape, bin_size=bin_size,
                   field_shape=field_shape, field_spacing=field_spacing, boundary=boundary,
                   reaction_mode=reaction_mode, chemicals=chemicals, mechanics=bool(mechanics),
                   cycle=bool(cycle), diffusion_on=bool(diffusion_on),
                   exchange_on=bool(exchange_on))


register_pytree(TissueParams, static=_PARAM_META)


def _phase_rates(value, n_types, name):
    """Rates ``[n_types, 2]`` from a scalar, an ``[interphase, mitosis]`` pair or a table."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full((n_types, 2), float(a))
    elif a.shape == (2,):
        a = np.tile(a, (n_types, 1))
    if a.shape != (n_types, 2):
        raise ValueError(f"{name} must be a number, [interphase, mitosis] or one such pair per "
                         f"cell type ({n_types}), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return a


def _vector(value, n, name):
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{name} must be a number or a list of {n} values, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {a.tolist()}")
    return a


@dataclasses.dataclass(frozen=True)
class TissueState:
    """State of a tissue (a pytree). ``n`` is the capacity.

    position, force ``[n, dim]``; volume, radius, mass, clock, birth_volume,
    t_int, t_mit, growth, target ``[n]`` float; cell_type, phase ``[n]`` int32;
    chem ``[n, n_chem]`` amounts in cells; extra ``[n, k]`` per-cell rows copied to
    daughters (e.g. GRN state); parent ``[n]`` int32, the mother's slot of a cell
    born in the last chunk (else -1); fields ``[n_chem, *field_shape]`` amounts;
    boundary_in ``[n_chem]`` net amount that entered through fixed boundaries;
    key (raw uint32 key data); error int32 bit mask; time float scalar.
    """

    position: jax.Array
    force: jax.Array
    volume: jax.Array
    radius: jax.Array
    mass: jax.Array
    clock: jax.Array
    birth_volume: jax.Array
    t_int: jax.Array
    t_mit: jax.Array
    growth: jax.Array
    target: jax.Array
    cell_type: jax.Array
    phase: jax.Array
    chem: jax.Array
    extra: jax.Array
    parent: jax.Array
    fields: jax.Array
    boundary_in: jax.Array
    key: jax.Array
    error: jax.Array
    time: jax.Array

    @property
    def alive(self):
        """``[capacity]`` bool, True for slots holding a live cell (interphase or mitosis)."""
        return cyc.is_alive(self.phase)

    @property
    def capacity(self) -> int:
        """Number of cell slots (the fixed array length)."""
        return int(self.phase.shape[0])


register_pytree(TissueState)

_CELL_KEYS = ("position", "force", "volume", "radius", "mass", "clock", "birth_volume", "t_int",
              "t_mit", "growth", "target", "cell_type", "phase", "chem", "extra")


def _derived(p, volume, cell_type):
    radius = cyc.radius_of(volume, p.dim)
    return radius, p.density[cell_type] * volume


def _one_step(p: TissueParams, s: TissueState) -> TissueState:
    key, k_move, k_cycle, k_div, k_react = jax.random.split(jax.random.wrap_key_data(s.key), 5)
    dt = p.dt
    error = s.error
    cells = {k: getattr(s, k) for k in _CELL_KEYS}
    fields = s.fields
    vol_f = jnp.asarray(p.field_volume, fields.dtype)
    parent = s.parent
    if p.mechanics:
        alive = cyc.is_alive(cells["phase"])
        f_cc, overflow = pair_forces(
            cells["position"], cells["radius"], cells["mass"], cells["cell_type"], alive,
            p.attraction, p.repulsion, cutoff=p.cutoff, bin_size=p.bin_size,
            bins_shape=p.bins_shape, max_per_bin=p.max_per_bin)
        error = error | ERRORS.flag("bin_overflow", overflow)
        ct = cells["cell_type"]
        pos, force = move(cells["position"], cells["force"], f_cc, alive, cells["radius"],
                          k_move, drift=p.drift[ct], sigma=p.random_force[ct],
                          mobility=p.mobility, dt=dt, max_displacement=p.max_displacement,
                          domain=p.domain)
        cells["position"], cells["force"] = pos, force
    if p.cycle:
        cells, dividing, vanish = cyc.cycle_step(cells, p, k_cycle, dt, p.size_rule)
        if p.n_chem:
            fidx = field_index(cells["position"], p.field_spacing, p.field_shape)
            released = jnp.where(vanish[:, None], cells["chem"], 0.0)
            back = jax.ops.segment_sum(released, fidx, num_segments=int(np.prod(p.field_shape)))
            fields = (fields.reshape(p.n_chem, -1) + back.T).reshape(fields.shape)
            cells["chem"] = jnp.where(vanish[:, None], 0.0, cells["chem"])

        def do_divide(c):
            out, over, born = cyc.divide(c, dividing, p, k_div, p.n_groups, p.dim)
            return out, over, born

        def no_divide(c):
            return c, jnp.zeros((), bool), jnp.full(parent.shape, -1, jnp.int32)

        cells, over, born = jax.lax.cond(jnp.any(dividing), do_divide, no_divide, cells)
        parent = jnp.where(born >= 0, born, parent)
        error = error | ERRORS.flag("capacity", over)
        cells["radius"], cells["mass"] = _derived(p, cells["volume"], cells["cell_type"])
    if p.n_chem and p.exchange_on:
        alive = cyc.is_alive(cells["phase"])
        fidx = field_index(cells["position"], p.field_spacing, p.field_shape)
        cells["chem"], fields = exchange(cells["chem"], cells["volume"], alive, fields, fidx,
                                         p.permeability, vol_f, dt)
    boundary_in = s.boundary_in
    if p.n_chem and p.diffusion_on:
        fields, b_in = diffuse(fields, p.diffusion, p.field_spacing, dt, p.boundary,
                               p.boundary_conc)
        boundary_in = boundary_in + b_in
    if p.n_chem and p.reaction_mode != "off" and p.rates.shape[0]:
        fields = react(fields, p.reactants, p.products, p.rates, vol_f, dt,
                       k_react, p.reaction_mode)
    return TissueState(**cells, parent=parent, fields=fields, boundary_in=boundary_in,
                       key=jax.random.key_data(key), error=error, time=s.time + dt)


def _finite_bits(s: TissueState):
    bad = ~(jnp.all(jnp.isfinite(s.position)) & jnp.all(jnp.isfinite(s.volume))
            & jnp.all(jnp.isfinite(s.chem)) & jnp.all(jnp.isfinite(s.fields)))
    return ERRORS.flag("nan", bad)


@functools.partial(jax.jit, static_argnames=("n_steps", "record_every"))
def advance(params: TissueParams, state: TissueState, *, n_steps: int, record_every: int = 0):
    """Advance ``n_steps`` steps with ``lax.scan`` (jitted; one compilation per n_steps).

    With ``record_every = k > 0`` also return the states after every k-th step
    (a TissueState whose arrays have a leading time axis of ``n_steps // k``).
    """
    state = dataclasses.replace(state, parent=jnp.full_like(state.parent, -1))

    def body(s, _):
        return _one_step(params, s), None

    if record_every:
        n_rec, rest = divmod(n_steps, record_every)

        def outer(s, _):
            s, _ = jax.lax.scan(body, s, None, length=record_every)
            return s, s

        state, traj = jax.lax.scan(outer, state, None, length=n_rec)
        if rest:
            state, _ = jax.lax.scan(body, state, None, length=rest)
        state = dataclasses.replace(state, error=state.error | _finite_bits(state))
        return state, traj
    state, _ = jax.lax.scan(body, state, None, length=n_steps)
    return dataclasses.replace(state, error=state.error | _finite_bits(state))


def make_tissue(params: TissueParams):
    """Build ``(init_fn, step_fn)`` for a tissue.

    Returns
    -------
    init_fn(key, position, cell_type, alive=None, *, volume=None, chem=None, fields=None,
            extra=None, synchronized=False) -> TissueState
        Arrays of the capacity's length; ``alive`` (bool ``[n]``, default all)
        marks the initial cells (others are free slots). Cycle parameters are
        drawn around the type means. Unless ``synchronized``, each cell starts at
        a uniformly random point of its interphase (volume grown accordingly);
        synchronized cells start at birth with ``birth_volume``.
    step_fn(state, n_steps) -> TissueState
    """
    p = params
    dtype = p.dtype

    def init_fn(key, position, cell_type, alive=None, *, volume=None, chem=None, fields=None,
                extra=None, synchronized=False) -> TissueState:
        position = jnp.asarray(position, dtype)
        n = position.shape[0]
        if position.shape != (n, p.dim):
            raise ValueError(f"position must have shape (n, {p.dim}), got {position.shape}")
        if n % p.n_groups:
            raise ValueError(f"the capacity {n} must be a multiple of n_groups={p.n_groups}")
        cell_type = jnp.asarray(cell_type, jnp.int32).reshape(n)
        ct_np = np.asarray(cell_type)
        if ct_np.size and (ct_np.min() < 0 or ct_np.max() >= p.n_types):
            raise ValueError(f"cell_type must lie in [0, {p.n_types})")
        alive = jnp.ones((n,), bool) if alive is None else jnp.asarray(alive, bool).reshape(n)
        k_draw, k_phase, k_next = jax.random.split(jax.random.wrap_key_data(raw_key(key)), 3)
        t_int, t_mit, growth, target = cyc.draw_cycle(k_draw, cell_type, p)
        v_birth = p.birth_volume[cell_type]
        if synchronized:
            clock = jnp.zeros((n,), dtype)
            v0 = v_birth
        else:
            u = jax.random.uniform(k_phase, (n,), dtype=dtype)
            if p.size_rule == "timer":
                clock = u * t_int
                v0 = v_birth * jnp.exp(growth * clock)
            else:
                clock = jnp.zeros((n,), dtype)
                v0 = v_birth * (1.0 + 0.5 * u)
        vol = v0 if volume is None else jnp.asarray(volume, dtype).reshape(n)
        vol = jnp.where(alive, vol, 0.0)
        phase = jnp.where(alive, cyc.INTERPHASE, cyc.EMPTY).astype(jnp.int32)
        radius, mass = _derived(p, vol, cell_type)
        chem = jnp.zeros((n, p.n_chem), dtype) if chem is None else \
            jnp.asarray(chem, dtype).reshape(n, p.n_chem)
        chem = jnp.where(alive[:, None], chem, 0.0)
        fshape = (p.n_chem,) + p.field_shape
        fields = jnp.zeros(fshape, dtype) if fields is None else jnp.asarray(fields, dtype)
        if fields.shape != fshape:
            raise ValueError(f"fields must have shape {fshape}, got {fields.shape}")
        extra = jnp.zeros((n, 0), dtype) if extra is None else jnp.asarray(extra, dtype)
        return TissueState(
            position=position, force=jnp.zeros_like(position), volume=vol, radius=radius,
            mass=mass, clock=clock, birth_volume=jnp.where(alive, v_birth, 0.0), t_int=t_int,
            t_mit=t_mit, growth=growth, target=target, cell_type=cell_type, phase=phase,
            chem=chem, extra=extra, parent=jnp.full((n,), -1, jnp.int32), fields=fields,
            boundary_in=jnp.zeros((p.n_chem,), dtype), key=jax.random.key_data(k_next),
            error=jnp.zeros((), jnp.int32), time=jnp.zeros((), dtype))

    def step_fn(state: TissueState, n_steps: int) -> TissueState:
        return advance(p, state, n_steps=int(n_steps))

    return init_fn, step_fn


# ------------------------------------------------------------------------ host side

def n_alive(state: TissueState) -> int:
    """Number of live (interphase or mitotic) cells."""
    return int(jnp.sum(state.alive))


def total_mass(state: TissueState):
    """``[n_chem]`` total amount in cells plus fields, minus what entered through boundaries."""
    axes = tuple(range(1, state.fields.ndim))
    return jnp.sum(state.chem, axis=0) + jnp.sum(state.fields, axis=axes) - state.boundary_in


def grow_capacity(params: TissueParams, state: TissueState, factor: int = 2) -> TissueState:
    """The same tissue in ``factor`` times the capacity (each slot group grows; new slots free)."""
    n = state.capacity
    g = params.n_groups
    block = n // g
    new_block = block * int(factor)

    def pad(a, fill):
        a = jnp.asarray(a)
        shaped = a.reshape((g, block) + a.shape[1:])
        extra = jnp.full((g, new_block - block) + a.shape[1:], fill, a.dtype)
        return jnp.concatenate([shaped, extra], axis=1).reshape((g * new_block,) + a.shape[1:])

    grown = {}
    for name in _CELL_KEYS + ("parent",):
        value = getattr(state, name)
        fill = -1 if name == "parent" else 0
        if name == "cell_type":
            # new slots of a group keep the group's type
            shaped = value.reshape(g, block)
            grown[name] = jnp.concatenate(
                [shaped, jnp.repeat(shaped[:, :1], new_block - block, axis=1)],
                axis=1).reshape(-1)
            continue
        grown[name] = pad(value, fill)
    return dataclasses.replace(state, **grown)


def check_errors(state: TissueState) -> None:
    """Raise :class:`SimulationError` if the state's error bits are set (host side)."""
    ERRORS.check(state.error, capacity=state.capacity)


def advance_checked(params: TissueParams, state: TissueState, n_steps: int, *,
                    on_full: str = "grow", max_capacity: int = 10_000_000) -> TissueState:
    """Advance and check errors on the host; grow the capacity when it is full.

    With ``on_full='grow'`` a chunk that filled the capacity is repeated from
    its start in twice the capacity (a warning names the new capacity); with
    ``'raise'`` the SimulationError of :func:`check_errors` is raised.
    """
    while True:
        out = advance(params, state, n_steps=int(n_steps))
        bits = host_bits(out.error)
        if bits & ERROR_CAPACITY and on_full == "grow" and 2 * state.capacity <= max_capacity:
            logger.warning("tissue capacity %d is full; growing it to %d slots and repeating "
                           "the last %d steps", state.capacity, 2 * state.capacity, n_steps)
            state = grow_capacity(params, state, 2)
            continue
        check_errors(out)
        return out


def place_cells(key, n, domain, dim, spacing=None, dtype=jnp.float64, centre=None):
    """``[n, dim]`` positions: a jittered cubic lattice of ``spacing`` around the box centre."""
    domain = np.asarray(domain, dtype=np.float64)
    centre = domain / 2.0 if centre is None else np.asarray(centre, np.float64)
    side = int(math.ceil(n ** (1.0 / dim)))
    spacing = float(spacing) if spacing else float(domain.min() / (side + 1))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * dim, indexing="ij"), -1).reshape(-1, dim)
    grid = grid[:n].astype(np.float64)
    pos = centre + (grid - (side - 1) / 2.0) * spacing
    jitter = 0.05 * spacing * np.asarray(jax.random.normal(key, (n, dim), dtype=jnp.float64))
    return jnp.asarray(np.clip(pos + jitter, 0.0, domain), dtype)


__all__ += ["place_cells"]

