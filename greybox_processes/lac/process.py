"""The LacOperon process: stochastic lac operon counts in the per-cell stores of a population.

A thin process-bigraph adapter of :mod:`greybox_processes.lac.kernel`. Each interval it
reads every live cell's ``volume`` (fL), ``growth_rate`` (1/min) and the shared medium
(``glucose``, ``lactose``, mM, scalar stores as in the dFBA composites' ``mM`` units),
holds them constant over the interval (the medium changes on the culture's time scale,
tens of minutes; the volume by ~2% per minute), and advances the ``lac`` counts
(``[capacity, len(SPECIES)]`` molecules, species order :data:`~.kernel.SPECIES`).

Dilution is not a reaction: counts stay while the cell grows (another process writes the
volume, so concentrations ``n/(N_A V)`` fall), and the ``lac`` port declares
``divide='binomial'``, so the :class:`~greybox_processes.framework.population.Division`
step partitions each molecule between the daughters.

Example (YAML)::

    lac:
      _type: process
      address: local:LacOperon
      config: {capacity: 64, initial_cells: 1, seed: 1}
      interval: 1.0
      inputs:  {lac: [cells, lac], volume: [cells, volume], growth_rate: [cells, growth_rate],
                alive: [cells, alive], glucose: [medium, glucose], lactose: [medium, lactose]}
      outputs: {lac: [cells, lac]}

Rates (``rates`` config). ``{name: value}`` overrides of the Yildirim-Mackey parameters
(defaults: the vendored SBML, BIOMD0000000065, as read by
:class:`~greybox_processes.metabolism.lac.LacParameters`). The kernel holds them in the
SBML's units (:data:`~.kernel.RATE_UNITS`); the default values are those of the SBML:

=========  ==========================================  ==============  =============
name       meaning                                     unit            default
=========  ==========================================  ==============  =============
gamma_M    mRNA decay                                  1/min           0.411
gamma_B    LacZ decay                                  1/min           0.000833
gamma_P    LacY decay                                  1/min           0.65
gamma_A    allolactose decay                           1/min           0.52
gamma_L    intracellular lactose decay                 1/min           0
gamma_0    basal (leaky) transcription                 mM/min          7.25e-7
alpha_M    maximal regulated transcription             mM/min          9.97e-4
K          repression fold (induction from 1/K to 1)   dimensionless   7200
K_1        allolactose binding to the repressor        1/mM^2          25200
alpha_B    LacZ translation per mRNA                   1/min           0.0166
alpha_P    LacY translation per mRNA                   1/min           10
alpha_A    allolactose synthesis per LacZ (max)        1/min           17600
alpha_L    lactose import per LacY (max)               1/min           2880
beta_A     allolactose cleavage per LacZ (max)         1/min           21500
beta_L1    lactose efflux per LacY (max)               1/min           2650
K_A        K_m of allolactose cleavage                 mM              1.95
K_L        K_m of allolactose synthesis                mM              0.97
K_L1       K_m of lactose efflux                       mM              1.81
K_Le       K_m of lactose import (external lactose)    mM              0.26
tau_M      transcription delay                         min             0.1
tau_B      LacZ translation delay                      min             2.0
tau_P      extra delay of LacY (after tau_B)           min             0.83
n          Hill exponent of allolactose binding        dimensionless   2
=========  ==========================================  ==============  =============

Source: Yildirim & Mackey 2003 (Biophys J 84:2841) via the SBML. A value is either a
**bare number, taken in the unit of the table** (no conversion: a per-second number given
for a per-minute rate is 60x too slow and cannot be detected), or a string ``'<number>
<unit>'`` converted by pint: ``gamma_M: '0.00685 1/s'`` (= 0.411/min), ``alpha_M: '997
nM/min'`` or ``'600 molecule/fL/min'``, ``tau_M: '6 s'``. A unit of another dimension
(``'5 mM'`` for a rate in 1/min), an unknown unit or parameter name, or a value that is
negative or not finite (or zero for the K's, delays and ``n``) is a ``ValueError`` naming
the parameter, the unit expected and the fix (a spec error naming the file and the node
path when it comes from a composite). See :mod:`greybox_processes.lac.units`.

Regulation (``regulation`` config). ``'model'`` (default, the glass box): the kernel's own
Yildirim-Mackey repression, released by each cell's allolactose. ``'store'``: an extra
per-cell input port ``regulation`` (``[capacity]``, dimensionless, ``divide='copy'``), the
lac *induction* (the fraction of the time the operator is free, YM's induction factor, the
quantity the model would compute), used in place of the model's repression for the
regulated transcription (clipped to ``[0, 1]``; basal transcription, the model's leak,
stays). A grey-box controller writes it (``lac.config.regulation: store``); nothing else of
the operon changes. The process never writes the store: its initial value (from
:meth:`initial_state`) is the model's own induction at the start, YM's factor at each
initial cell's allolactose in a cell of ``initial_volume`` fL at zero growth, so without a
controller (the mechanistic-only cell) the regulation stays where the glass box starts.
With the default initial counts (none: a cell fresh from glucose, no allolactose) that is
``1/K`` (YM's fully repressed operon, ``K`` = 7200 in the SBML: 1.4e-4). ``iptg`` overrides
both modes (induction 1).

The repressed operator's leak (``leak`` config) and LacY turnover (``lacy_turnover``), see
:mod:`.kernel`. ``leak: ym`` (default) is YM's mean-field leak, basal transcription
``gamma_0`` plus the regulated transcription at the repressed induction ``1/K`` (~0.52
transcripts/min per fL). ``leak: single_molecule`` is the leak measured one molecule at a
time: single transcripts at ``leak_rate`` per minute per cell (default 1.2/55 = 0.022/min,
Yu et al. 2006, Science 311:1600: ~1.2 bursts of one mRNA per 55 min cell cycle), with the
regulated transcription counting only what allolactose (or the ``regulation`` input, or IPTG)
releases beyond ``1/K``; the fully induced mean field is YM's. ``lacy_turnover: dilution``
removes LacY decay (counts fall by division only) and rescales its synthesis so that YM's
induced LacY at YM's growth rate (0.0226/min) is unchanged; ``ym`` (default) keeps
``gamma_P`` = 0.65/min. Neither adds a per-cell state, so division is unchanged.

Count scales (``counts`` config, :mod:`.scales`). ``ym`` (default): a count is a YM molecule
(``n = c N_A V``). ``single_molecule``: mRNA, LacZ and LacY each have their own molecules per
YM molecule, set from measured copy numbers (beta-galactosidase per induced cell, Fox et al.
1967; LacZ per transcript 7.8, Cai et al. 2006; ~4 proteins per transcript, Yu et al. 2006):
~0.10 mRNA, ~20 LacZ and ~0.51 LacY (with ``lacy_turnover: dilution``) per YM molecule. The
mean field in concentrations is YM's; only the noise changes. ``scales: {mrna: ..., lacZ:
..., lacY: ...}`` sets some of them by hand. Counts still divide binomially.

Cost follows the live cells, not the capacity: each update gathers the live slots
(``alive > 0.5``) into a batch padded with dead rows to the next power of two (at least
:data:`MIN_BATCH`, at most ``capacity``; :func:`batch_size`), so the kernel compiles once
per bucket; the results are scattered back and free slots are neither read nor written.
A batch of at least 2 x :data:`MIN_CHUNK` rows is cut into ``workers`` equal chunks advanced
by concurrent kernel calls (threads; XLA runs each on its own core); ``workers: 0`` takes the
CPU cores available (:func:`auto_workers`). The trajectory is the same for any ``workers``.

The random key lives in the instance and advances with each update, so two instances
with the same ``seed`` (one per engine) give the same trajectory. Within an update every
cell's random words are counted by its slot (the kernel's ``cells``), so a live cell's
draws do not depend on which other slots are alive or on the batch size.
"""
from __future__ import annotations

import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from ..cellcycle.kernel import TYPICAL_ADDED_VOLUME_FL
from ..framework.base import GreyboxProcess
from ..framework.division import check_slots
from ..framework.ports import array_port
from ..jax_common import float_dtype
from .kernel import (DEFAULT_K_GLUCOSE, DEFAULT_LEAK_RATE, DEFAULT_LEAP_THRESHOLD,
                     DEFAULT_MAX_EVENTS, DEFAULT_STEP, SPECIES, LacKinetics, LacState,
                     check_errors, make_lac_operon, model_induction)
from .units import rates_in_kernel_units

__all__ = ["LacOperon", "METHODS", "REGULATION_MODES", "MIN_BATCH", "MIN_CHUNK", "batch_size",
           "auto_workers"]

logger = logging.getLogger(__name__)

#: ``hybrid``: exact SSA for reactions firing at most ``leap_threshold`` times per step,
#: leaps for the others (see the kernel); ``exact``: the exact SSA for every reaction.
METHODS = ("hybrid", "exact")
#: ``model``: the kernel's own repression by LacI released by allolactose; ``store``: the
#: induction read per cell from the ``regulation`` store (a controller writes it).
REGULATION_MODES = ("model", "store")
#: Fewest rows the kernel is run on (the live cells are padded up to a power of two).
MIN_BATCH = 16
#: Fewest rows in one of the concurrent kernel calls (``workers``): smaller batches are not
#: worth a thread (the call's fixed cost is ~1 ms, a 1024-row minute ~0.1-0.3 s).
MIN_CHUNK = 512
#: ``workers: 0`` (auto) uses at most this many threads on a CPU backend
MAX_AUTO_WORKERS = 4


class LacOperon(GreyboxProcess):
    """Stochastic lac operon per cell (Yildirim-Mackey kinetics as molecule counts, exact SSA where counts are low).

    Ports:
      lac: lac operon species per cell (molecule)
      alive: 1 where a slot holds a live cell, else 0 (flag)
      regulation: lac transcription as a fraction of its maximum (dimensionless)
    """

    config_schema = {
        # slots of every per-cell store (the cell axis)
        "capacity": {"_type": "integer", "_default": 64},
        # live cells at the start (slots 0 .. initial_cells-1)
        "initial_cells": {"_type": "integer", "_default": 1},
        # initial counts of every live cell, in SPECIES order (the first five, or all);
        # default: none (an uninduced cell fresh from glucose)
        "initial_counts": {"_type": "list[float]", "_default": []},
        # overrides of Yildirim-Mackey parameters {name: value}: a bare number in the
        # kernel's unit (RATE_UNITS: the SBML's mM and min) or a '<number> <unit>' string
        # converted to it (see the class docstring and lac/units.py)
        "rates": {"_type": "map[node]", "_default": {}},
        # K_m of glucose uptake (mM) for inducer exclusion
        "k_glucose": {"_type": "float", "_default": DEFAULT_K_GLUCOSE},
        # gratuitous induction: the repressor fully released (fully induced reference)
        "iptg": {"_type": "boolean", "_default": False},
        # the repressed operator's leak: 'ym' (YM's mean field) or 'single_molecule'
        # (single transcripts at leak_rate per minute per cell, Yu et al. 2006)
        "leak": {"_type": "string", "_default": "ym"},
        "leak_rate": {"_type": "float", "_default": DEFAULT_LEAK_RATE},
        # LacY removal: 'ym' (decay gamma_P) or 'dilution' (none; diluted by division)
        "lacy_turnover": {"_type": "string", "_default": "ym"},
        # molecules per YM molecule of mRNA, LacZ, LacY: 'ym' (all 1) or 'single_molecule'
        # (from measured copy numbers, lac/scales.py); `scales` overrides some of them
        "counts": {"_type": "string", "_default": "ym"},
        "scales": {"_type": "map[float]", "_default": {}},
        "method": {"_type": "string", "_default": "hybrid"},
        # split step (minutes) and the expected events per step above which a reaction is leaped
        "step": {"_type": "float", "_default": DEFAULT_STEP},
        "leap_threshold": {"_type": "float", "_default": DEFAULT_LEAP_THRESHOLD},
        "max_events": {"_type": "integer", "_default": DEFAULT_MAX_EVENTS},
        # 'model' (YM repression from allolactose) or 'store' (read the `regulation` port)
        "regulation": {"_type": "string", "_default": "model"},
        # volume of the initial cells, fL (the cell cycle's default): where the initial
        # regulation is evaluated
        "initial_volume": {"_type": "float", "_default": TYPICAL_ADDED_VOLUME_FL},
        "seed": {"_type": "integer", "_default": 0},
        "dtype": {"_type": "string", "_default": "float64"},
        # concurrent kernel calls over equal chunks of the live cells (threads: XLA runs them
        # on separate cores); 0: the cores this process may use, at most MAX_AUTO_WORKERS, on
        # a CPU backend (1 on an accelerator); 1: one call. The trajectory does not depend on
        # it (each cell draws by its own counter)
        "workers": {"_type": "integer", "_default": 0},
    }

    #: these fix the shape or dtype of the stores (or the ports), so an intervention may
    #: not change them
    fixed_config_keys = ("capacity", "dtype", "regulation")

    def initialize(self, config):
        cfg = self.config
        float_dtype(cfg["dtype"])  # checks it (ValueError naming the choices)
        check_slots(cfg["capacity"], cfg["initial_cells"])
        counts = list(cfg["initial_counts"])
        if counts and len(counts) not in (5, len(SPECIES)):
            raise ValueError(f"initial_counts must list 5 or {len(SPECIES)} counts in the order "
                             f"{list(SPECIES)}, got {len(counts)}")
        if any(not (math.isfinite(c) and c >= 0 and c == math.floor(c)) for c in counts):
            raise ValueError(f"initial_counts must be whole non-negative molecule counts, got "
                             f"{counts}")
        if cfg["regulation"] not in REGULATION_MODES:
            raise ValueError(f"regulation must be one of {list(REGULATION_MODES)} ('model': the "
                             "kernel's Yildirim-Mackey repression; 'store': the lac induction "
                             f"read from the regulation port), got {cfg['regulation']!r}")
        if cfg["workers"] < 0:
            raise ValueError(f"workers must be >= 0 (0: one per available CPU core, at most "
                             f"{MAX_AUTO_WORKERS}; 1: no threads), got {cfg['workers']}")
        if not (math.isfinite(cfg["initial_volume"]) and cfg["initial_volume"] > 0):
            raise ValueError(f"initial_volume (fL) must be a positive number, got "
                             f"{cfg['initial_volume']!r}")
        self._x64 = cfg["dtype"] == "float64"
        self._build()
        self._key = jax.random.key_data(jax.random.key(cfg["seed"]))

    def _build(self):
        """Kernel parameters and functions from the current config (checks them)."""
        cfg = self.config
        if cfg["method"] not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {cfg['method']!r}")
        threshold = math.inf if cfg["method"] == "exact" else cfg["leap_threshold"]
        with jax.enable_x64(self._x64):
            self.kinetics = LacKinetics.create(
                rates_in_kernel_units(cfg["rates"]), k_glucose=cfg["k_glucose"], iptg=cfg["iptg"],
                leak=cfg["leak"], leak_rate=cfg["leak_rate"],
                lacy_turnover=cfg["lacy_turnover"], counts=cfg["counts"],
                scales=dict(cfg["scales"]), dtype=jnp.float64 if self._x64 else jnp.float32)
            self._init_fn, self._step_fn = make_lac_operon(
                self.kinetics, step=cfg["step"], leap_threshold=threshold,
                max_events=cfg["max_events"])

    def parameters_changed(self, keys):
        """Rebuild the kernel from the new config; the stores and ``self._key`` carry on."""
        self._build()

    # ports -----------------------------------------------------------------------------
    @property
    def from_store(self) -> bool:
        """Whether the induction of transcription is read from the ``regulation`` port."""
        return self.config["regulation"] == "store"

    def _ports(self):
        n = self.config["capacity"]
        ports = {"lac": array_port((n, len(SPECIES)), divide="binomial"),
                 "volume": array_port((n,), "fL", divide="split"),
                 "growth_rate": array_port((n,), "1/min", divide="copy"),
                 "alive": array_port((n,)),
                 "glucose": {"_type": "float", "_units": "mM"},
                 "lactose": {"_type": "float", "_units": "mM"}}
        if self.from_store:
            ports["regulation"] = array_port((n,), divide="copy")
        return ports

    def inputs(self):
        return self._ports()

    def outputs(self):
        return {"lac": self._ports()["lac"]}

    def initial_state(self):
        cfg = self.config
        lac = np.zeros((cfg["capacity"], len(SPECIES)))
        counts = list(cfg["initial_counts"])
        if counts:
            lac[:cfg["initial_cells"], :len(counts)] = counts
        state = {"lac": lac}
        if self.from_store:
            state["regulation"] = self.initial_regulation(lac)
        return state

    def initial_regulation(self, lac) -> np.ndarray:
        """The model's induction (fraction of ``alpha_M``) at counts ``lac``, per slot.

        YM's induction factor at each slot's allolactose in a cell of ``initial_volume`` fL
        at zero growth (1 with IPTG): the glass box's regulation at the start, computed by
        the lac model, not fitted.
        """
        allolactose = np.asarray(lac, dtype=np.float64)[:, SPECIES.index("allolactose")]
        with jax.enable_x64(self._x64):
            fdt = self.kinetics.dtype
            value = model_induction(self.kinetics, jnp.asarray(allolactose, fdt),
                                    jnp.asarray(self.config["initial_volume"], fdt),
                                    jnp.zeros((), fdt))
            return np.array(value, dtype=np.float64)  # a writable copy: a store accumulates

    def port_metadata(self):
        cells = np.arange(self.config["capacity"])
        meta = {"lac": {"dims": ("cell", "species"),
                        "coords": {"cell": cells, "species": list(SPECIES)},
                        "units": "molecules", "long_name": "lac operon molecules per cell"}}
        if self.from_store:
            meta["regulation"] = {"dims": ("cell",), "coords": {"cell": cells}, "units": "",
                                  "long_name": "lac induction (fraction of max transcription)"}
        return meta

    # update ----------------------------------------------------------------------------
    def _read(self, state, name, shape):
        value = np.asarray(state[name], dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"store {name!r} has shape {value.shape}; LacOperon expects "
                             f"{shape} (capacity {self.config['capacity']})")
        return value

    def _advance(self, inputs, glucose, lactose, interval):
        """``(counts, key, error)`` of the kernel over the gathered rows ``inputs`` (lac,
        volume, growth, alive, regulation, cells), in concurrent calls over equal chunks of
        rows (config ``workers``). Each cell draws by its own counter from the same key, so
        the chunks give the trajectory one call would, bit for bit."""
        lac, volume, growth, alive, regulation, cells = inputs
        workers = self.config["workers"] or auto_workers()

        def call(rows):
            with jax.enable_x64(self._x64):
                current = self._init_fn(self._key, lac[rows])
                return self._step_fn(current, volume[rows], growth[rows], alive[rows], glucose,
                                     lactose, interval,
                                     None if regulation is None else regulation[rows],
                                     cells=cells[rows])

        chunks = _chunks(len(cells), workers)
        if len(chunks) == 1:
            results = [call(chunks[0])]
        else:
            with ThreadPoolExecutor(len(chunks)) as pool:
                results = list(pool.map(call, chunks))
        counts = np.concatenate([np.asarray(r.counts) for r in results])
        error = np.bitwise_or.reduce([np.asarray(r.error) for r in results])
        return counts, results[0].key, error

    def update(self, state, interval):
        n = self.config["capacity"]
        lac = self._read(state, "lac", (n, len(SPECIES)))
        volume, growth_rate, alive = (self._read(state, name, (n,))
                                      for name in ("volume", "growth_rate", "alive"))
        glucose, lactose = float(state["glucose"]), float(state["lactose"])
        regulation = self._read(state, "regulation", (n,)) if self.from_store else None
        live = alive > 0.5
        slots = np.flatnonzero(live)
        # the kernel's cost follows its rows, so only the live cells go in, padded with free
        # rows up to a bucket size (one compilation per bucket, not per count of cells)
        rows = batch_size(slots.size, n)
        pad = rows - slots.size
        # padding rows: dead, counters past the capacity (distinct, drawing nothing used)
        cells = np.concatenate([slots, n + np.arange(pad)])

        def gather(values, fill):
            return np.concatenate([values[slots], np.full((pad,) + values.shape[1:], fill)])

        inputs = (gather(lac, 0.0), gather(volume, 1.0), gather(growth_rate, 0.0),
                  np.arange(rows) < slots.size,
                  None if regulation is None else gather(regulation, 0.0), cells)
        counts, key, error = self._advance(inputs, glucose, lactose, float(interval))
        check_errors(LacState(counts=counts, key=key, error=error), self.config["max_events"])
        moved = np.asarray(counts, dtype=np.float64)[:slots.size]
        self._key = key
        new = lac.copy()
        new[slots] = moved
        logger.debug("LacOperon: %d live cells in %d rows, %d without LacY", slots.size, rows,
                     int(np.sum(moved[:, SPECIES.index("lacY")] == 0)))
        return {"lac": new - lac}


def _chunks(rows: int, workers: int) -> list:
    """Equal row slices for up to ``workers`` concurrent calls: a power of two of them, so a
    power-of-two batch gives power-of-two chunks (shapes the kernel compiles for smaller
    populations anyway); one slice when the rows are too few to share."""
    parts = max(1, min(workers, rows // MIN_CHUNK))
    parts = 1 << (parts.bit_length() - 1)
    size = -(-rows // parts)
    return [slice(start, min(start + size, rows)) for start in range(0, rows, size)]


def auto_workers() -> int:
    """Threads for ``workers: 0``: the CPU cores this process may use (at most
    :data:`MAX_AUTO_WORKERS`) on a CPU backend; 1 on an accelerator (one call fills it)."""
    if jax.default_backend() != "cpu":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_WORKERS))


def batch_size(live: int, capacity: int) -> int:
    """Rows of the kernel's batch for ``live`` cells: the next power of two >= ``live``, at
    least :data:`MIN_BATCH` and at most ``capacity`` (so at most ~log2(capacity) shapes)."""
    rows = max(MIN_BATCH, 1 << max(live - 1, 0).bit_length())
    return max(live, min(rows, capacity))
