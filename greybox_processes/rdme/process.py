"""The RDME process (a lattice in the process, counts per region in a shared store)
and a well-mixed ODE process that couples to it (the hybrid RDME-ODE scheme).

Coupling: the RDME process writes the counts of every species in every region
to an array store ``(n_replicas, n_regions, n_species)``. Any other process may
add to that store (a delta, as usual). At its next update the RDME process
compares the store with what it wrote last; a difference is a change made by
someone else, and it is applied to the lattice before advancing: added
particles land on sites of the region drawn uniformly, removed particles are
drawn uniformly among the particles present (multivariate hypergeometric).
Fractional changes (from an ODE) are rounded stochastically, so the lattice
receives them exactly in expectation. Removing more particles than a region
holds raises :class:`~greybox_processes.errors.SimulationError`.

Config ``method`` picks the kernel's form ('auto', 'particles' or 'lattice': the
same RDME stored per particle or per site; see :func:`.kernel.rdme`); ``capacity``
is the particle form's slots per replica (0: automatic).

An update advances its interval in chunks of at most ``max_steps_per_call`` kernel
steps per jitted call (0, the default: automatic, about :data:`WORK_PER_CALL`
site-species or particle-slot updates per call, under a second on a CPU). Python
runs signal handlers only between calls into compiled code, so the chunks are what
let Ctrl-C or SIGTERM stop an interval of millions of steps within about a second.
The state carries the random key and every step derives its random words from it, so
the chunk boundaries are invisible: any chunk size gives the same trajectory bit for bit.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Mapping

import jax
import numpy as np

from ..errors import SimulationError
from ..framework.base import GreyboxProcess, steps_per_interval
from ..framework.ports import array_port
from ..jax_common import float_dtype
from . import geometry as geo
from .kernel import METHODS, SPLITTINGS, check_errors, max_stable_tau, rdme
from .model import RDMEModel, model_from_dict, parse_reaction

__all__ = ["RDME", "RegionODE", "lattice_from_dict", "load_model", "B1_MODEL", "WORK_PER_CALL",
           "STEP_OVERHEAD_WORK"]

#: element updates (site x species x replica in the lattice form, particle slots in the
#: particle form) per jitted call when ``max_steps_per_call`` is 0 (automatic). Measured on a
#: loaded 2-core CPU: B1's lattice (98 304 site-species) takes 19 steps per call, 0.6 s;
#: a crowded 4^3 lattice of 2 replicas 446 steps, 0.3 s
WORK_PER_CALL = 2_000_000
#: what a step costs beyond its elements, in the same units: the reaction passes and the
#: branches of a step cost about 0.6 ms even on a tiny lattice
STEP_OVERHEAD_WORK = 4096

#: Lattice Microbes' bimolecular test B1 (A + B <-> C in a 1 um^3 periodic box).
B1_MODEL = {
    "geometry": {"kind": "box", "shape": [32, 32, 32], "extent": 1.0e-6, "periodic": True},
    "species": {"A": {"D": 1.0e-12, "initial": 1000}, "B": {"D": 1.0e-12, "initial": 1000},
                "C": {"D": 1.0e-12}},
    "reactions": [{"reaction": "A + B -> C", "rate": 1.07e5},
                  {"reaction": "C -> A + B", "rate": 0.351}],
}


def lattice_from_dict(spec: Mapping[str, Any]) -> geo.Lattice:
    """A lattice from its YAML form.

    ``kind``: ``box`` (``shape``, ``spacing`` or ``extent`` = box edge along x),
    ``sphere`` (``radius``), ``capsule`` (``radius``, ``length``, ``axis``) or
    ``masks`` (``masks: {region: path/to/mask.npy}``, ``background``). Sizes in
    metres; ``periodic``: a bool or one per axis; ``membrane`` (region name or
    null) and ``membrane_thickness`` (sites) for cells.
    """
    if not isinstance(spec, Mapping):
        raise ValueError("'geometry' must be a mapping with a 'kind'")
    spec = dict(spec)
    kind = spec.pop("kind", "box")
    shape = spec.pop("shape", None)
    spacing = spec.pop("spacing", None)
    extent = spec.pop("extent", None)
    if kind != "masks":
        if shape is None:
            raise ValueError(f"geometry {kind!r} needs 'shape' (sites per axis)")
        shape = [int(s) for s in shape]
        if not shape or min(shape) < 1:
            raise ValueError(f"geometry {kind!r}: 'shape' must give >= 1 site along every axis, "
                             f"got {shape}")
        if spacing is None:
            if extent is None:
                raise ValueError("geometry needs 'spacing' (site edge, m) or 'extent' "
                                 "(lattice edge along x, m)")
            spacing = float(extent) / shape[0]
        if not (geo.MIN_SPACING <= float(spacing) <= geo.MAX_SPACING):
            raise ValueError(f"geometry {kind!r}: the site edge must be a length in "
                             f"[{geo.MIN_SPACING:g}, {geo.MAX_SPACING:g}] m ('spacing', or "
                             f"'extent' / shape[0]), got {spacing}; check the units (metres)")
    periodic = spec.pop("periodic", kind == "box")
    try:
        if kind == "box":
            return geo.box(shape, float(spacing), periodic=periodic, **spec)
        if kind == "sphere":
            return geo.sphere(shape, float(spacing), float(spec.pop("radius")),
                              periodic=periodic, **spec)
        if kind == "capsule":
            return geo.capsule(shape, float(spacing), float(spec.pop("radius")),
                               float(spec.pop("length")), periodic=periodic, **spec)
        if kind == "masks":
            masks = {name: np.load(Path(path)) for name, path in spec.pop("masks").items()}
            return geo.from_masks(masks, float(spacing), periodic=periodic, **spec)
    except KeyError as error:
        raise ValueError(f"geometry {kind!r} needs {error.args[0]!r}") from error
    except TypeError as error:
        raise ValueError(f"geometry {kind!r}: {error}") from error
    raise ValueError(f"unknown geometry kind {kind!r}; use box, sphere, capsule or masks")


def load_model(spec: Mapping[str, Any] | str) -> tuple[RDMEModel, geo.Lattice]:
    """Model and lattice from a mapping (or a YAML file path) with ``geometry``."""
    if isinstance(spec, (str, Path)):
        import yaml
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"model file {str(path)!r} not found")
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, Mapping) or "geometry" not in spec:
        raise ValueError("an RDME model needs 'geometry', 'species' and 'reactions'")
    lattice = lattice_from_dict(spec["geometry"])
    model = model_from_dict(spec)
    model.validate(lattice.regions)
    return model, lattice


class RDME(GreyboxProcess):
    """Lattice reaction-diffusion master equation (Lattice Microbes class) with counts per region.

    Ports:
      region_counts: molecules of each species per replica and region (molecule)
      lattice: molecules of each species per replica and site (molecule)
    """

    config_schema = {
        "model": {"_type": "quote", "_default": {}},
        "dt": {"_type": "float", "_default": 0.0},
        "hop_probability": {"_type": "float", "_default": 0.25},
        "splitting": {"_type": "string", "_default": "strang"},
        "n_replicas": {"_type": "integer", "_default": 1},
        "count_dtype": {"_type": "string", "_default": "auto"},
        "method": {"_type": "string", "_default": "auto"},
        "capacity": {"_type": "integer", "_default": 0},
        "max_steps_per_call": {"_type": "integer", "_default": 0},
        "seed": {"_type": "integer", "_default": 0},
        "emit_lattice": {"_type": "boolean", "_default": False},
        "dtype": {"_type": "string", "_default": "float64"},
    }

    def initialize(self, config):
        cfg = self.config
        if cfg["splitting"] not in SPLITTINGS:
            raise ValueError(f"splitting must be one of {SPLITTINGS}, got {cfg['splitting']!r}")
        float_dtype(cfg["dtype"])  # checks it (ValueError naming the choices)
        if cfg["n_replicas"] < 1:
            raise ValueError(f"n_replicas must be >= 1, got {cfg['n_replicas']}")
        if not 0 < cfg["hop_probability"] <= 0.5:
            raise ValueError("hop_probability (used to choose dt when dt is 0) must lie in "
                             f"(0, 0.5], got {cfg['hop_probability']}")
        if cfg["method"] not in METHODS:
            raise ValueError(f"method must be one of {METHODS} (the particle or the lattice form "
                             f"of the kernel), got {cfg['method']!r}")
        if cfg["capacity"] < 0:
            raise ValueError(f"capacity must be >= 0 particle slots per replica (0: automatic), "
                             f"got {cfg['capacity']}")
        chunk = cfg["max_steps_per_call"]
        if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 0:
            raise ValueError("max_steps_per_call must be a whole number >= 0 of kernel steps per "
                             "jitted call (0: automatic, about a second per call; a signal such "
                             f"as Ctrl-C is seen between calls), got {chunk!r}")
        if cfg["dt"] < 0:
            raise ValueError(f"dt must be >= 0 s (0: choose from hop_probability), got {cfg['dt']}")
        self.model, self.lattice = load_model(cfg["model"] or B1_MODEL)
        self.compiled = self.model.compile(self.lattice)
        self.shape = (cfg["n_replicas"], len(self.lattice.regions), self.compiled.n_species)
        self._x64 = cfg["dtype"] == "float64"
        self._kernels = {}
        counts = self.model.initial_counts(self.lattice, cfg["n_replicas"], seed=cfg["seed"])
        # the initial statistics choose the storage and the kernel form ('auto'), so they must
        # exist before the first kernel is built (with a fixed dt this also fails early on an
        # unstable time step)
        self._initial_max = int(counts.max()) if counts.size else 0
        self._initial_particles = int(counts.reshape(counts.shape[0], -1).sum(axis=1).max()) \
            if counts.size else 0
        kernel = self._kernel(self._dt_max())
        with jax.enable_x64(self._x64):
            self._state = kernel.init(jax.random.key(cfg["seed"]), counts)
            self._written = np.asarray(kernel.observe(self._state), np.float64)

    # -- interventions ------------------------------------------------------------------
    #: keys that set the stores' shapes or the start of the random stream
    fixed_config_keys = ("n_replicas", "seed", "dtype", "emit_lattice", "count_dtype", "method",
                         "capacity")

    def parameters_changed(self, keys):
        """Recompile the model and drop the cached kernels after an intervention.

        The counts on the lattice and the random key are kept, so a changed rate acts from
        the next update on exactly as if it had been in the model at that state.
        """
        model, lattice = load_model(self.config["model"] or B1_MODEL)
        compiled = model.compile(lattice)
        if (tuple(compiled.species) != tuple(self.compiled.species)
                or tuple(lattice.regions) != tuple(self.lattice.regions)
                or not np.array_equal(lattice.site_types, self.lattice.site_types)):
            raise ValueError("an intervention on the RDME model may change rates and diffusion "
                             "constants, not its species, regions or geometry")
        self.model, self.lattice, self.compiled = model, lattice, compiled
        self._kernels = {}
        kernel = self._kernel(self._dt_max())
        with jax.enable_x64(self._x64):
            self._state = kernel.with_counts(self._state, np.asarray(self._state.counts))

    # -- time steps ---------------------------------------------------------------------
    def _dt_max(self) -> float:
        if self.config["dt"] > 0:
            return float(self.config["dt"])
        limit = max_stable_tau(self.compiled, self.lattice, self.config["splitting"],
                               p_max=self.config["hop_probability"])
        return limit if math.isfinite(limit) else 1.0

    def _kernel(self, tau: float):
        key = float(tau)
        if key not in self._kernels:
            with jax.enable_x64(self._x64):
                import jax.numpy as jnp
                self._kernels[key] = rdme(
                    self.compiled, self.lattice, tau=key, splitting=self.config["splitting"],
                    count_dtype=self.config["count_dtype"],
                    initial_max=self._initial_max,
                    float_dtype=jnp.float64 if self._x64 else jnp.float32,
                    method=self.config["method"],
                    initial_particles=self._initial_particles,
                    capacity=self.config["capacity"] or None)
        return self._kernels[key]

    def _steps_per_call(self, kernel, state) -> int:
        """Kernel steps per jitted call: the config's cap, or automatic (0)."""
        if self.config["max_steps_per_call"]:
            return int(self.config["max_steps_per_call"])
        if kernel.method == "particles":
            work = int(state.site.shape[0])          # slots: the particle form's cost per step
        else:
            work = math.prod(state.counts.shape)     # site-species of all replicas
        return max(1, WORK_PER_CALL // (work + STEP_OVERHEAD_WORK))

    def _advance(self, kernel, state, n_steps: int):
        """``n_steps`` kernel steps in chunks of at most :meth:`_steps_per_call` per call.

        Python handles a signal (Ctrl-C, SIGTERM) only when control returns from compiled
        code, so one call of millions of steps could not be interrupted. The kernel's state
        holds its random key and each step draws from it, so splitting the steps across
        calls gives the same trajectory bit for bit. Each chunk's errors are checked on the
        host, which also waits for the chunk: without that wait JAX would queue every chunk
        at once and the signal would again wait for all of them.
        """
        per_call = self._steps_per_call(kernel, state)
        done = 0
        while done < n_steps:
            chunk = min(per_call, n_steps - done)
            state = kernel.step(state, chunk)
            check_errors(state)
            done += chunk
        return state

    def _steps(self, interval: float) -> tuple[int, float]:
        dt = self.config["dt"]
        if dt > 0:  # a fixed step: the interval must be a multiple (or set dt=0 for automatic)
            return steps_per_interval(interval, dt, "RDME"), dt
        n = max(1, math.ceil(interval / self._dt_max() - 1e-9))
        return n, interval / n

    # -- ports --------------------------------------------------------------------------
    def inputs(self):
        return {"region_counts": array_port(self.shape)}

    def outputs(self):
        ports = {"region_counts": array_port(self.shape)}
        if self.config["emit_lattice"]:
            ports["lattice"] = array_port((self.config["n_replicas"], self.compiled.n_species)
                                          + self.lattice.shape)
        return ports

    def initial_state(self):
        state = {"region_counts": self._written.copy()}
        if self.config["emit_lattice"]:
            state["lattice"] = np.asarray(self._state.counts, np.float64)
        return state

    def port_metadata(self):
        coords = {"replica": np.arange(self.shape[0]), "region": np.array(self.lattice.regions),
                  "species": np.array(self.compiled.species)}
        meta = {"region_counts": {"dims": ("replica", "region", "species"), "coords": coords,
                                  "units": "", "long_name": "molecules per region (count)"}}
        if self.config["emit_lattice"]:
            meta["lattice"] = {"dims": ("replica", "species", "x", "y", "z")[:2 + self.lattice.ndim],
                               "coords": {k: coords[k] for k in ("replica", "species")},
                               "units": "", "long_name": "molecules per site (count)"}
        return meta

    # -- coupling -----------------------------------------------------------------------
    def _apply_external(self, change: np.ndarray):
        """Add/remove particles so the lattice's region counts change by ``change``."""
        key, sub = jax.random.split(jax.random.wrap_key_data(self._state.key))
        seed = np.asarray(jax.random.key_data(sub)).astype(np.uint64)
        rng = np.random.default_rng([int(s) for s in seed])
        whole = np.floor(change)
        frac = change - whole
        steps = (whole + (rng.random(change.shape) < frac)).astype(np.int64)
        counts = np.asarray(self._state.counts).astype(np.int64)
        flat_types = self.lattice.site_types.ravel()
        for r, g, s in zip(*np.nonzero(steps)):
            sites = np.flatnonzero(flat_types == g)
            field = counts[r, s].reshape(-1)
            k = int(steps[r, g, s])
            if k > 0:
                np.add.at(field, sites[rng.integers(0, sites.size, size=k)], 1)
            else:
                have = field[sites]
                if -k > have.sum():
                    raise SimulationError(
                        f"RDME coupling: a process removed {-k} {self.compiled.species[s]!r} "
                        f"from region {self.lattice.regions[g]!r} of replica {r}, which holds "
                        f"{int(have.sum())}")
                field[sites] = have - rng.multivariate_hypergeometric(have, -k)
        limit = np.iinfo(self._state.counts.dtype).max
        if counts.max(initial=0) > limit:
            raise SimulationError(f"RDME coupling: a site count exceeds {limit} "
                                  f"({self._state.counts.dtype}); use a wider count_dtype")
        kernel = next(iter(self._kernels.values()))
        self._state = dataclasses.replace(kernel.with_counts(self._state, counts),
                                          key=jax.random.key_data(key))

    def update(self, state, interval):
        store = np.asarray(state["region_counts"], dtype=np.float64)
        if store.shape != self.shape:
            raise ValueError(f"store 'region_counts' has shape {store.shape}, the RDME expects "
                             f"{self.shape} (replicas x regions x species)")
        with jax.enable_x64(self._x64):
            change = store - self._written
            if np.any(np.abs(change) > 1e-9):
                self._apply_external(change)
            n_steps, dt = self._steps(interval)
            kernel = self._kernel(dt)
            advanced = self._advance(kernel, self._state, n_steps)
            # the state is replaced only once the whole interval is advanced: an interrupt
            # leaves no half-advanced lattice behind
            self._state = advanced
            new = np.asarray(kernel.observe(advanced), np.float64)
        self._written = new
        update = {"region_counts": new - store}
        if self.config["emit_lattice"]:
            lattice = np.asarray(advanced.counts, np.float64)
            previous = np.asarray(state.get("lattice", np.zeros_like(lattice)), np.float64)
            update["lattice"] = lattice - previous
        return update


class RegionODE(GreyboxProcess):
    """Well-mixed mass-action ODE on the counts of one region of an RDME (hybrid coupling).

    Ports:
      region_counts: molecules of each species per replica and region (molecule)
    """

    config_schema = {
        "species": {"_type": "list[string]", "_default": []},
        "regions": {"_type": "list[string]", "_default": []},
        "region": {"_type": "string", "_default": ""},
        "n_replicas": {"_type": "integer", "_default": 1},
        "reactions": {"_type": "quote", "_default": []},
        "substeps": {"_type": "integer", "_default": 10},
    }

    def initialize(self, config):
        cfg = self.config
        self.species = list(cfg["species"])
        self.regions = list(cfg["regions"])
        if not self.species or not self.regions:
            raise ValueError("RegionODE needs the RDME's 'species' and 'regions' lists (in the "
                             "RDME's order) to address its store")
        if cfg["region"] not in self.regions:
            raise ValueError(f"region {cfg['region']!r} is not one of {self.regions}")
        if cfg["substeps"] < 1:
            raise ValueError(f"substeps must be >= 1, got {cfg['substeps']}")
        self.region = self.regions.index(cfg["region"])
        self.shape = (int(cfg["n_replicas"]), len(self.regions), len(self.species))
        self.reactions = []
        for item in cfg["reactions"] or []:
            if not isinstance(item, Mapping) or "reaction" not in item or "rate" not in item:
                raise ValueError(f"each reaction needs 'reaction' and 'rate', got {item!r}")
            reactants, products = parse_reaction(str(item["reaction"]))
            for name in reactants + products:
                if name not in self.species:
                    raise ValueError(f"reaction {item['reaction']!r} uses unknown species "
                                     f"{name!r}; known: {self.species}")
            rate = float(item["rate"])
            if not (math.isfinite(rate) and rate >= 0):
                raise ValueError(f"reaction {item['reaction']!r}: rate must be >= 0, got {rate}")
            change = np.zeros(len(self.species))
            for name in reactants:
                change[self.species.index(name)] -= 1
            for name in products:
                change[self.species.index(name)] += 1
            self.reactions.append(([self.species.index(n) for n in reactants], rate, change))

    def inputs(self):
        return {"region_counts": array_port(self.shape)}

    def outputs(self):
        return {"region_counts": array_port(self.shape)}

    def port_metadata(self):
        return {"region_counts": {"dims": ("replica", "region", "species"),
                                  "coords": {"region": np.array(self.regions),
                                             "species": np.array(self.species)}}}

    def _rhs(self, x):
        """Mass action in molecule counts: rates in molecules/s, 1/s, 1/(molecule s)."""
        dx = np.zeros_like(x)
        for reactants, rate, change in self.reactions:
            flux = np.full(x.shape[0], rate)
            for i in reactants:
                flux = flux * x[:, i]
            dx += flux[:, None] * change[None, :]
        return dx

    def update(self, state, interval):
        counts = np.asarray(state["region_counts"], dtype=np.float64)
        x = counts[:, self.region, :].copy()
        h = interval / self.config["substeps"]
        for _ in range(self.config["substeps"]):   # classical RK4
            k1 = self._rhs(x)
            k2 = self._rhs(x + h / 2 * k1)
            k3 = self._rhs(x + h / 2 * k2)
            k4 = self._rhs(x + h * k3)
            x = np.maximum(x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0)
        delta = np.zeros_like(counts)
        delta[:, self.region, :] = x - counts[:, self.region, :]
        return {"region_counts": delta}
