"""Tissue and Fields processes: thin process-bigraph adapters of :mod:`.kernel`.

``Tissue`` holds the cells of a tissue in array stores of a fixed capacity
(``n_types * capacity_per_type`` slots, one block per cell type, as the GRN
process lays out its cells), with ``cells/phase`` telling which slots hold a
live cell, and the chemical fields in ``fields/amount``. Each update starts
from what the stores hold (positions, volumes, phases, chemicals, fields),
advances ``interval / dt`` kernel steps in one jitted ``lax.scan`` and returns
the changes as deltas. Per-cell cycle parameters and the random key live in
the instance (seeded by ``seed``), so two instances with one seed give one
trajectory in either engine.

Sharing the cells with other processes (e.g. a GRN,
:class:`~greybox_processes.grn.population.PopulationGRN`): besides its own stores
the Tissue writes, per slot, ``alive`` (1 for a live cell: interphase or
mitosis), ``mother`` (the mother's slot of a cell born in the last interval, else
-1), ``division_ratio`` (at a mother's slot, her share of the volume at the
division) and ``local_conc`` (the concentration of each chemical in the field the
cell lies in; a GRN senses it). The Tissue divides cells inside its kernel and
places daughters next to their mothers; the other processes' per-cell stores are
partitioned for those divisions, by the rule their ports declare, by the
:class:`~greybox_processes.tissue.inheritance.Inheritance` step wired after them.
``secrete: ["g:A"]`` (with ``n_genes``, the width of the ``protein`` store) makes
gene ``g``'s protein the cell's content of field chemical ``A`` (amount = protein x
volume): each update starts the cell's ``A`` from its protein and returns the
change exchange made as a change of that protein.

``Fields`` is the field part alone (diffusion and reactions on a grid).
"""
from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..framework.base import GreyboxProcess, steps_per_interval
from ..errors import SimulationError
from ..framework.ports import array_port
from ..jax_common import float_dtype
from . import cycle as cyc
from .fields import field_index
from .kernel import TissueParams, advance, check_errors, make_tissue, place_cells

__all__ = ["Tissue", "Fields", "tissue_params_from_config"]

_PER_TYPE = ("attraction", "repulsion", "drift", "random_force", "t_interphase",
             "t_interphase_sd", "t_mitosis", "t_mitosis_sd", "growth_rate", "growth_rate_sd",
             "size_target", "size_target_sd", "birth_volume", "density", "decomposition_rate")


def _floats(default):
    return {"_type": "list[float]", "_default": list(default)}


_FIELD_SCHEMA = {
    "domain": _floats([20.0, 20.0, 20.0]),
    "field_shape": {"_type": "list[integer]", "_default": [4, 4, 4]},
    "field_spacing": _floats([]),
    "chemicals": {"_type": "list[string]", "_default": []},
    "reactions": {"_type": "list[string]", "_default": []},
    "diffusion": _floats([0.0]),
    "boundary": {"_type": "string", "_default": "closed"},
    "boundary_conc": _floats([0.0]),
    "reaction_mode": {"_type": "string", "_default": "poisson"},
    "initial_conc": _floats([0.0]),
    "dt": {"_type": "float", "_default": 0.05},
    "seed": {"_type": "integer", "_default": 0},
    "dtype": {"_type": "string", "_default": "float64"},
}


def _broadcast(values, n, name, what):
    """One value for all, or one per chemical / cell type."""
    values = list(values)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise ValueError(f"{name} must give one value, or one per {what} ({n}), got {values}")
    return values


def _per_chem(values, n_chem, name):
    return _broadcast(values, n_chem, name, "chemical")


def _per_type(values, n_types, name):
    return _broadcast(values, n_types, name, "cell type")


def tissue_params_from_config(cfg, *, cells=True, dtype=jnp.float64) -> TissueParams:
    """TissueParams from a Tissue (or Fields, ``cells=False``) process config."""
    chemicals = list(cfg["chemicals"])
    n_chem = len(chemicals)
    domain = list(cfg["domain"])
    for d in _per_chem(cfg["diffusion"], n_chem, "diffusion") if n_chem else []:
        if d < 0:
            raise ValueError(f"diffusion constants must be >= 0, got {cfg['diffusion']}")
    values = {}
    if n_chem:
        values["diffusion"] = _per_chem(cfg["diffusion"], n_chem, "diffusion")
        values["boundary_conc"] = _per_chem(cfg["boundary_conc"], n_chem, "boundary_conc")
    kwargs = dict(dim=len(domain), dt=cfg["dt"], domain=domain,
                  field_shape=list(cfg["field_shape"]),
                  field_spacing=list(cfg["field_spacing"]) or None, boundary=cfg["boundary"],
                  reaction_mode=cfg["reaction_mode"], chemicals=chemicals,
                  reactions=list(cfg["reactions"]), dtype=dtype)
    if not cells:
        return TissueParams.create(n_types=1, mechanics=False, cycle=False, exchange_on=False,
                                   **kwargs, **values)
    n_types = cfg["n_types"]
    for name in _PER_TYPE:
        values[name] = _per_type(cfg[name], n_types, name)
    for name in ("apoptosis_rate", "necrosis_rate"):
        v = list(cfg[name])
        if len(v) == 2 * n_types and n_types != 1:
            v = np.asarray(v).reshape(n_types, 2)
        values[name] = v
    if n_chem:
        values["permeability"] = _per_chem(cfg["permeability"], n_chem, "permeability")
    values.update(mobility=cfg["mobility"], inheritance=cfg["inheritance"],
                  division_noise=cfg["division_noise"])
    if cfg["max_displacement"] > 0:
        values["max_displacement"] = cfg["max_displacement"]
    return TissueParams.create(
        n_types=n_types, size_rule=cfg["size_rule"], n_groups=n_types,
        cutoff=cfg["cutoff"] or None, max_per_bin=cfg["max_per_bin"],
        mechanics=cfg["mechanics"], cycle=cfg["cycle"], diffusion_on=cfg["diffusion_on"],
        exchange_on=cfg["exchange_on"], **kwargs, **values)


def _pairs(entries, left_kind, right_kind):
    out = []
    for entry in entries:
        left, sep, right = str(entry).partition(":")
        if not sep:
            raise ValueError(f"{entry!r} must read '<{left_kind}>:<{right_kind}>'")
        out.append((left.strip(), right.strip()))
    return out


class _FieldPorts:
    def _field_ports(self):
        shape = (len(self.config["chemicals"]),) + tuple(self.params.field_shape)
        return {"amount": array_port(shape)}

    def _field_metadata(self):
        dims = ("chemical",) + tuple(f"field_{a}" for a in "xyz"[:self.params.dim])
        coords = {"chemical": np.asarray(self.config["chemicals"], dtype=str)}
        for a, (n, h) in enumerate(zip(self.params.field_shape, self.params.field_spacing)):
            coords[dims[a + 1]] = (np.arange(n) + 0.5) * h
        return {"dims": dims, "coords": coords, "units": "",
                "long_name": "amount of each chemical in each field"}

    def _current_params(self):
        """Parameters from the current config (interventions may have changed it)."""
        snapshot = repr(sorted((k, repr(v)) for k, v in self.config.items()))
        if snapshot != self._params_snapshot:
            with jax.enable_x64(self._x64):
                new = self._build_params()
            if jax.tree_util.tree_structure(new) != jax.tree_util.tree_structure(self.params):
                raise ValueError("an intervention changed a structural setting (shapes, "
                                 "chemicals, switches); only numerical parameters may change "
                                 "during a run")
            self.params = new
            self._params_snapshot = snapshot
        return self.params


class Fields(_FieldPorts, GreyboxProcess):
    """Chemical fields on a grid: mass-conserving flux-limited diffusion and order 0-2 reactions.

    The tissue is in model units: volumes in the unit of ``birth_volume`` (1 by default),
    lengths in its cube root (square root in 2-D), times in the unit of ``t_interphase``,
    amounts of chemicals in the unit of the configured concentrations times volume.

    Ports:
      amount: amount of each chemical in each field element (model units)
    """

    config_schema = {**_FIELD_SCHEMA, "chemicals": {"_type": "list[string]", "_default": ["A"]},
                     "initial_pulse": _floats([0.0])}

    def initialize(self, config):
        cfg = self.config
        self._dtype = float_dtype(cfg["dtype"])
        self._x64 = cfg["dtype"] == "float64"
        if not cfg["chemicals"]:
            raise ValueError("Fields needs at least one chemical: set 'chemicals', e.g. ['A']")
        with jax.enable_x64(self._x64):
            self.params = self._build_params()
            init_fn, _ = make_tissue(self.params)
            n_chem = len(cfg["chemicals"])
            conc = np.asarray(_per_chem(cfg["initial_conc"], n_chem, "initial_conc"))
            shape = (n_chem,) + tuple(self.params.field_shape)
            fields = np.broadcast_to(conc.reshape((n_chem,) + (1,) * self.params.dim)
                                     * self.params.field_volume, shape).copy()
            pulse = np.asarray(_per_chem(cfg["initial_pulse"], n_chem, "initial_pulse"))
            fields[(slice(None),) + tuple(n // 2 for n in self.params.field_shape)] += pulse
            self._state = init_fn(jax.random.key(cfg["seed"]), jnp.zeros((0, self.params.dim)),
                                  jnp.zeros((0,), jnp.int32), fields=fields)
        self._params_snapshot = repr(sorted((k, repr(v)) for k, v in cfg.items()))
        self._initial = np.asarray(self._state.fields, dtype=np.float64)

    def _build_params(self):
        return tissue_params_from_config(self.config, cells=False, dtype=self._dtype)

    def inputs(self):
        return self._field_ports()

    def outputs(self):
        return self._field_ports()

    def initial_state(self):
        return {"amount": self._initial.copy()}

    def port_metadata(self):
        return {"amount": self._field_metadata()}

    def update(self, state, interval):
        amount = np.asarray(state["amount"], dtype=np.float64)
        with jax.enable_x64(self._x64):
            params = self._current_params()
            s = dataclasses.replace(self._state, fields=jnp.asarray(amount, self._dtype))
            s = advance(params, s, n_steps=steps_per_interval(interval, self.config["dt"]))
            check_errors(s)
            new = np.asarray(s.fields, dtype=np.float64)
        self._state = s
        return {"amount": new - amount}


class Tissue(_FieldPorts, GreyboxProcess):
    """Lattice-free tissue (NEXUS): cell forces, cycle, division and death, fields and exchange.

    The tissue is in model units: volumes in the unit of ``birth_volume`` (1 by default),
    lengths in its cube root (square root in 2-D), times in the unit of ``t_interphase``,
    amounts of chemicals in the unit of the configured concentrations times volume.

    Ports:
      position: cell centre relative to the domain origin (model units)
      force: force on the cell at the last step (model units)
      volume: cell volume, area in 2-D (model units)
      radius: radius of the sphere (disc in 2-D) of the cell's volume (model units)
      mass: cell mass, density times volume (model units)
      cell_type: the cell's type (index)
      phase: 0 empty, 1 interphase, 2 mitosis, 3 apoptotic, 4 necrotic (index)
      clock: time spent in the current phase (model units)
      chem: amount of each chemical in each cell (model units)
      alive: 1 where a slot holds a live cell, else 0 (flag)
      mother: the mother's slot of a cell born at the last step, else -1 (index)
      division_ratio: at a mother's slot, her share of the volume at the division (dimensionless)
      local_conc: concentration of each chemical in the field element of each cell (model units)
      amount: amount of each chemical in each field element (model units)
    """

    config_schema = {
        **_FIELD_SCHEMA,
        "n_types": {"_type": "integer", "_default": 1},
        "capacity_per_type": {"_type": "integer", "_default": 64},
        "initial_per_type": {"_type": "integer", "_default": 8},
        "initial_spacing": {"_type": "float", "_default": 0.0},
        "synchronized": {"_type": "boolean", "_default": False},
        "size_rule": {"_type": "string", "_default": "timer"},
        "attraction": _floats([0.5]),
        "repulsion": _floats([10.0]),
        "drift": _floats([0.5]),
        "random_force": _floats([0.05]),
        "mobility": {"_type": "float", "_default": 1.0},
        "max_displacement": {"_type": "float", "_default": 0.0},
        "cutoff": {"_type": "float", "_default": 0.0},
        "max_per_bin": {"_type": "integer", "_default": 16},
        "t_interphase": _floats([10.0]),
        "t_interphase_sd": _floats([1.0]),
        "t_mitosis": _floats([1.0]),
        "t_mitosis_sd": _floats([0.1]),
        "growth_rate": _floats([math.log(2.0) / 10.0]),
        "growth_rate_sd": _floats([0.0]),
        "size_target": _floats([1.0]),
        "size_target_sd": _floats([0.1]),
        "birth_volume": _floats([1.0]),
        "density": _floats([1.0]),
        "apoptosis_rate": _floats([0.0, 0.0]),
        "necrosis_rate": _floats([0.0, 0.0]),
        "decomposition_rate": _floats([0.5]),
        "inheritance": {"_type": "float", "_default": 0.5},
        "division_noise": {"_type": "float", "_default": 0.0},
        "permeability": _floats([0.0]),
        "initial_cell_conc": _floats([0.0]),
        "mechanics": {"_type": "boolean", "_default": True},
        "cycle": {"_type": "boolean", "_default": True},
        "diffusion_on": {"_type": "boolean", "_default": True},
        "exchange_on": {"_type": "boolean", "_default": True},
        # genes of the per-cell `protein` store that `secrete` reads (0: no protein port)
        "n_genes": {"_type": "integer", "_default": 0},
        "secrete": {"_type": "list[string]", "_default": []},
    }

    def initialize(self, config):
        cfg = self.config
        self._dtype = float_dtype(cfg["dtype"])
        self._x64 = cfg["dtype"] == "float64"
        if cfg["n_types"] < 1 or cfg["capacity_per_type"] < 1:
            raise ValueError("n_types and capacity_per_type must be >= 1")
        if not 0 <= cfg["initial_per_type"] <= cfg["capacity_per_type"]:
            raise ValueError(f"initial_per_type ({cfg['initial_per_type']}) must lie in "
                             f"[0, capacity_per_type={cfg['capacity_per_type']}]: the capacity "
                             "is too small; increase capacity_per_type")
        chemicals = list(cfg["chemicals"])
        self.n_genes = g = int(cfg["n_genes"])
        if g < 0:
            raise ValueError(f"n_genes must be >= 0, got {g}")
        self._secrete = [(int(a), chemicals.index(b) if b in chemicals else b)
                         for a, b in _pairs(cfg["secrete"], "gene index", "chemical")]
        for gene, chem in self._secrete:
            if isinstance(chem, str):
                raise ValueError(f"secrete names unknown chemical {chem!r}; chemicals are "
                                 f"{chemicals}")
            if not 0 <= gene < g:
                raise ValueError(f"secrete gene index {gene} is outside [0, n_genes={g}); set "
                                 "n_genes to the width of the cells' protein store (the GRN "
                                 "network's number of genes, 100 for DS1)")
        with jax.enable_x64(self._x64):
            self.params = self._build_params()
            p = self.params
            init_fn, _ = make_tissue(p)
            n_t, cap, n0 = cfg["n_types"], cfg["capacity_per_type"], cfg["initial_per_type"]
            n = n_t * cap
            self.n_cells = n
            cell_type = np.repeat(np.arange(n_t), cap)
            alive = np.tile(np.arange(cap) < n0, n_t)
            key = jax.random.key(cfg["seed"])
            k_pos, k_init = jax.random.split(key)
            spacing = cfg["initial_spacing"] or 1.6 * float(
                cyc.radius_of(jnp.asarray(max(cfg["birth_volume"])), p.dim))
            first = place_cells(k_pos, n0 * n_t, p.domain, p.dim, spacing=spacing,
                                dtype=self._dtype)
            # the alive slots of type t take the positions t, t + n_types, ... (mixed types)
            order = np.argsort(np.tile(np.arange(n0), n_t) * n_t + np.repeat(np.arange(n_t), n0),
                               kind="stable")
            pos = np.zeros((n, p.dim))
            pos[np.flatnonzero(alive)] = np.asarray(first)[np.argsort(order)]
            n_chem = p.n_chem
            conc_c = np.asarray(_per_chem(cfg["initial_cell_conc"], n_chem, "initial_cell_conc")) \
                if n_chem else np.zeros(0)
            conc_f = np.asarray(_per_chem(cfg["initial_conc"], n_chem, "initial_conc")) \
                if n_chem else np.zeros(0)
            fields = np.broadcast_to(conc_f.reshape((n_chem,) + (1,) * p.dim)
                                     * p.field_volume, (n_chem,) + p.field_shape)
            state = init_fn(k_init, jnp.asarray(pos, self._dtype), cell_type, alive,
                            fields=fields, synchronized=cfg["synchronized"])
            chem = np.asarray(state.volume)[:, None] * conc_c[None, :]
            self._state = dataclasses.replace(state, chem=jnp.asarray(chem, self._dtype))
        self._params_snapshot = repr(sorted((k, repr(v)) for k, v in cfg.items()))
        self.cell_types = cell_type

    def _build_params(self):
        return tissue_params_from_config(self.config, cells=True, dtype=self._dtype)

    # ports -----------------------------------------------------------------------
    def _cell_ports(self):
        n, d = self.n_cells, self.params.dim
        ports = {
            "position": array_port((n, d)), "force": array_port((n, d)),
            "volume": array_port((n,)), "radius": array_port((n,)), "mass": array_port((n,)),
            "cell_type": array_port((n,)), "phase": array_port((n,)), "clock": array_port((n,)),
            "chem": array_port((n, self.params.n_chem)),
            "alive": array_port((n,)), "mother": array_port((n,)),
            "division_ratio": array_port((n,)),
            "local_conc": array_port((n, self.params.n_chem)),
        }
        if self.n_genes:
            ports["protein"] = array_port((n, self.n_genes))
        return ports

    def inputs(self):
        return {**self._cell_ports(), "amount": self._field_ports()["amount"]}

    def outputs(self):
        return self.inputs()

    def _observables(self, s):
        """Host float64 arrays of every store the Tissue writes except ``protein``."""
        p = self.params
        out = {k: np.asarray(v, dtype=np.float64) for k, v in {
            "position": s.position, "force": s.force, "volume": s.volume, "radius": s.radius,
            "mass": s.mass, "cell_type": s.cell_type, "phase": s.phase, "clock": s.clock,
            "chem": s.chem, "amount": s.fields}.items()}
        alive = np.asarray(cyc.is_alive(s.phase))
        out["alive"] = alive.astype(np.float64)
        parent = np.asarray(s.parent, dtype=np.int64)
        born = np.flatnonzero(parent >= 0)
        mothers = parent[born]
        birth_volume = np.asarray(s.birth_volume, dtype=np.float64)
        ratio = np.zeros(self.n_cells)
        # birth volumes are the two volumes at the division (they do not change until the next)
        ratio[mothers] = birth_volume[mothers] / (birth_volume[mothers] + birth_volume[born])
        out["mother"] = parent.astype(np.float64)
        out["division_ratio"] = ratio
        local = np.zeros((self.n_cells, p.n_chem))
        if p.n_chem:
            with jax.enable_x64(self._x64):
                fidx = np.asarray(field_index(s.position, p.field_spacing, p.field_shape))
            flat = out["amount"].reshape(p.n_chem, -1) / p.field_volume
            local = np.where(alive[:, None], flat[:, fidx].T, 0.0)
        out["local_conc"] = local
        return out

    def initial_state(self):
        # own copies: host views of jax arrays are read-only, and the stores are added to
        return {k: v.copy() for k, v in self._observables(self._state).items()}

    def port_metadata(self):
        cells = {"cell": np.arange(self.n_cells)}
        cell_meta = {"dims": ("cell",), "coords": cells}
        axes = {"dims": ("cell", "axis"),
                "coords": {**cells, "axis": list("xyz"[:self.params.dim])}}
        chem = {"dims": ("cell", "chemical"),
                "coords": {**cells, "chemical": np.asarray(self.config["chemicals"], dtype=str)}}
        meta = {
            "position": {**axes, "long_name": "cell centre"},
            "force": {**axes, "long_name": "effective force of the last step"},
            "volume": {**cell_meta, "long_name": "cell volume (area in 2D)"},
            "radius": dict(cell_meta), "mass": dict(cell_meta), "clock": dict(cell_meta),
            "cell_type": {**cell_meta, "long_name": "cell type index"},
            "phase": {**cell_meta, "long_name": "0 empty, 1 interphase, 2 mitosis, "
                                                "3 apoptotic, 4 necrotic"},
            "chem": {**chem, "long_name": "amount of each chemical in each cell"},
            "alive": {**cell_meta, "long_name": "1 where a slot holds a live cell"},
            "mother": {**cell_meta, "long_name": "slot of the mother of a cell born in the last "
                                                 "interval, else -1"},
            "division_ratio": {**cell_meta, "long_name": "a mother's share of the volume at "
                                                         "her division in the last interval"},
            "local_conc": {**chem, "long_name": "concentration of each chemical in the field "
                                                "the cell lies in"},
            "amount": self._field_metadata(),
        }
        if self.n_genes:
            meta["protein"] = {"dims": ("cell", "gene"), "coords": cells,
                               "long_name": "protein concentration"}
        return meta

    # update ----------------------------------------------------------------------
    def update(self, state, interval):
        """The tissue kernel over the interval; secreted proteins in and out of ``chem``."""
        f64 = {k: np.asarray(state[k], dtype=np.float64) for k in state}
        with jax.enable_x64(self._x64):
            params = self._current_params()
            dt = self._dtype
            phase = np.rint(f64["phase"]).astype(np.int32)
            alive = (phase == cyc.INTERPHASE) | (phase == cyc.MITOSIS)
            volume = f64["volume"]
            chem = f64["chem"].copy()
            for gene, c in self._secrete:
                chem[:, c] = np.where(alive, f64["protein"][:, gene] * volume, 0.0)
            s = dataclasses.replace(
                self._state, position=jnp.asarray(f64["position"], dt),
                force=jnp.asarray(f64["force"], dt), volume=jnp.asarray(volume, dt),
                phase=jnp.asarray(phase), clock=jnp.asarray(f64["clock"], dt),
                chem=jnp.asarray(chem, dt), fields=jnp.asarray(f64["amount"], dt))
            s = dataclasses.replace(s, radius=cyc.radius_of(s.volume, params.dim),
                                    mass=params.density[s.cell_type] * s.volume)
            s = advance(params, s, n_steps=steps_per_interval(interval, self.config["dt"]))
            check_errors(s)
            new = self._observables(s)
            bad = [k for k in ("position", "force") if not np.all(np.isfinite(new[k]))]
            if bad:  # the kernel's NaN bit does not cover the carried force
                raise SimulationError(f"tissue {self.__class__.__name__}: non-finite {bad} after "
                                      "the interval. Reduce dt or the force strengths (mobility "
                                      "* repulsion * dt well below 1)")
        self._state = s
        deltas = {k: new[k] - f64[k] for k in new}
        if self.n_genes:
            deltas["protein"] = self._secreted_protein_change(f64, new)
        return deltas

    def _secreted_protein_change(self, f64, new):
        """Change of each secreted protein by exchange: the cell's content / volume, minus the start.

        Only for cells that lived through the interval; a daughter's rows come from her
        mother (the Inheritance step) and a dead cell's are cleared there.
        """
        change = np.zeros_like(f64["protein"])
        continuing = (new["alive"] > 0.5) & (new["mother"] < 0)
        volume = np.where(new["volume"] > 0, new["volume"], 1.0)
        for gene, c in self._secrete:
            change[:, gene] = np.where(continuing,
                                       new["chem"][:, c] / volume - f64["protein"][:, gene], 0.0)
        return change
