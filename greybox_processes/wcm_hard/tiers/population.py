"""What the tiers need to run and observe a cell *population* (the E. coli population cells).

A population cell is recognised by its processes, not by file names: a
``PopulationMetabolism`` node (the metabolism of cells in a shared medium, see
:func:`.base.metabolism_node`) whose per-cell stores (``alive``, ``volume``, ``lac``,
``growth_rate``) and medium stores (``glucose``, ``lactose``, ``ledger``) are found through
its wires. Every process or step of the spec whose config has ``capacity`` holds per-cell
stores of that many slots; :func:`population_overrides` sets them (and ``initial_cells``)
together, since they must agree.

A data-only population (a node whose class declares ``swaps_for = 'PopulationMetabolism'``,
e.g. :class:`~greybox_processes.neural.population_blackbox.PopulationDataOnly`: the same ports,
no stoichiometry) is found with ``population_cell(..., data_only=True)`` (tier 1 only): its
element accounting (the atoms of glucose and lactose, the composition and dry mass of the
cells) is that of a PopulationMetabolism of :data:`ACCOUNTING_MODEL` with the same culture
config, since the black box has none of its own.

Units: time in minutes (the population's clock), volumes in fL, medium in mM, biomass in
gDW/L.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...framework.division import CapacityError
from ...framework.document import resolve_wire
from ...framework.registry import default_core
from .base import is_population_metabolism, process_class, process_nodes

__all__ = ["PopulationCell", "population_cell", "is_population_data_only", "ACCOUNTING_MODEL",
           "population_overrides", "required_slots",
           "live_biomass", "lp_biomass", "population_element_budget", "growth_ceiling",
           "substrate_cells", "population_slots", "CAPACITY_MARGIN"]

#: spare slots over the expected number of cells (division times scatter around the mean)
CAPACITY_MARGIN = 1.3
#: the genome-scale model whose formulas account for a data-only population's elements
ACCOUNTING_MODEL = "iJO1366"
#: config keys a data-only population shares with PopulationMetabolism (the culture)
_CULTURE_KEYS = ("capacity", "initial_biomass", "initial_cells", "initial_volume",
                 "initial_glucose", "initial_lactose", "lac_species")


@dataclass
class PopulationCell:
    """The metabolism node of a population cell and the dataset names of its stores."""

    path: tuple
    node: dict
    #: ``{port: dataset variable}`` of the metabolism's wires (``cells.volume``, ...)
    variables: dict
    #: a data-only swap for PopulationMetabolism (no stoichiometry of its own)
    data_only: bool = False

    def config(self) -> dict:
        """A copy of the metabolism node's config."""
        return dict(self.node.get("config") or {})

    def instance(self, **config_changes):
        """The PopulationMetabolism the node builds (with ``config_changes``); for a data-only
        node, the PopulationMetabolism of :data:`ACCOUNTING_MODEL` with its culture config
        (the atoms, composition and dry mass its elements are counted with)."""
        config = {**self.config(), **config_changes}
        if self.data_only:
            from ...metabolism.population_process import PopulationMetabolism

            culture = {k: v for k, v in config.items() if k in _CULTURE_KEYS}
            return PopulationMetabolism({**culture, "model": ACCOUNTING_MODEL},
                                        default_core())
        return process_class(self.node)(config, default_core())

    def interval(self) -> float:
        """The metabolism node's interval (its time unit; 1.0 when unset)."""
        return float(self.node.get("interval", 1.0))


def is_population_data_only(node) -> bool:
    """True for a node whose class is a data-only swap for PopulationMetabolism (declares
    ``swaps_for = 'PopulationMetabolism'``: the same ports, no stoichiometry)."""
    cls = process_class(node) if node else None
    return getattr(cls, "swaps_for", None) == "PopulationMetabolism"


def population_cell(spec, overrides=None, *, data_only: bool = False) -> PopulationCell | None:
    """The spec's population cell (its ``PopulationMetabolism``), or None; with
    ``data_only``, a data-only swap for it is accepted too (:attr:`PopulationCell.data_only`)."""
    for path, node in process_nodes(spec, overrides).items():
        swap = data_only and is_population_data_only(node)
        if is_population_metabolism(node) or swap:
            wires = {**(node.get("inputs") or {}), **(node.get("outputs") or {})}
            variables = {port: ".".join(map(str, resolve_wire(path, wire)))
                         for port, wire in wires.items()}
            return PopulationCell(path, node, variables, data_only=swap)
    return None


def population_overrides(spec, *, capacity: int | None = None,
                         initial_cells: int | None = None, overrides=None) -> dict:
    """Dotted overrides setting ``capacity`` / ``initial_cells`` in every node that has them
    (metabolism, lac operon, cell cycle, division: their per-cell stores must agree)."""
    out = {}
    for path, node in process_nodes(spec, overrides).items():
        config = node.get("config") or {}
        where = ".".join(map(str, path)) + ".config"
        if capacity is not None and "capacity" in config:
            out[f"{where}.capacity"] = int(capacity)
        if initial_cells is not None and "initial_cells" in config:
            out[f"{where}.initial_cells"] = int(initial_cells)
    return out


def required_slots(initial_cells: int, minutes: float, growth_per_min: float) -> int:
    """Slots for ``initial_cells`` growing at most at ``growth_per_min`` (natural log) for
    ``minutes``: ``initial e^(mu t)`` cells, with :data:`CAPACITY_MARGIN`."""
    if not (growth_per_min >= 0 and minutes >= 0):
        raise ValueError(f"growth rate and time must be >= 0, got {growth_per_min}, {minutes}")
    return int(math.ceil(initial_cells * math.exp(growth_per_min * minutes) * CAPACITY_MARGIN))


def live_biomass(dataset, cell: PopulationCell, metabolism) -> np.ndarray:
    """``(T,)`` culture biomass, gDW/L: sum over live cells of dry mass x cells per litre
    (the PopulationMetabolism's own conversion, ``metabolism``)."""
    alive = np.asarray(dataset[cell.variables["alive"]].values) > 0.5
    volume = np.where(alive, np.asarray(dataset[cell.variables["volume"]].values, float), 0.0)
    return metabolism.dry_mass(volume.sum(axis=1)) * metabolism.cells_per_litre


def lp_biomass(dataset, cell: PopulationCell, metabolism) -> np.ndarray:
    """``(T,)`` biomass (gDW/L) that the metabolism charged the medium for: the initial biomass
    plus, each interval, sum over the cells alive at its start of dry mass x
    ``(exp(growth rate x interval) - 1)`` x cells per litre. The growth rate of interval ``k`` is
    the store's value at its start: PopulationMetabolism decides it (and the fluxes it charges
    in that interval, ``exchange_rates``) one update ahead, so that it is the rate the cell
    cycle grows the cells with. Against :func:`live_biomass`, this separates the metabolism's
    own element budget (exact for a balanced network) from the coupling to the process that
    grows the cells."""
    t = np.asarray(dataset.time.values, dtype=float)
    alive = np.asarray(dataset[cell.variables["alive"]].values) > 0.5
    volume = np.asarray(dataset[cell.variables["volume"]].values, dtype=float)
    rate = np.asarray(dataset[cell.variables["growth_rate"]].values, dtype=float)  # 1/min
    mass = metabolism.dry_mass(np.where(alive[:-1], volume[:-1], 0.0))
    made = np.where(alive[:-1], mass * np.expm1(rate[:-1] * np.diff(t)[:, None]), 0.0)
    step = made.sum(axis=1) * metabolism.cells_per_litre
    start = live_biomass(dataset.isel(time=[0]), cell, metabolism)[0]
    return start + np.concatenate([[0.0], np.cumsum(step)])


def population_element_budget(dataset, cell: PopulationCell, metabolism, biomass):
    """``({element: (T,) medium + biomass + ledger}, (e,) biomass composition)`` in mmol/L
    and mmol/gDW, for the ledger's elements.

    ``biomass``: ``(T,)`` gDW/L (:func:`live_biomass` or :func:`lp_biomass`); the medium's
    atoms and the biomass composition from the model's formulas (the same functions the
    PopulationMetabolism's ledger uses)."""
    from ...metabolism.population_process import ELEMENTS, biomass_elements, element_counts

    model = metabolism.model
    atoms = element_counts(model, metabolism.exchanges, ELEMENTS)  # (2 tracked, elements)
    composition = biomass_elements(model, ELEMENTS)
    medium = np.column_stack([np.asarray(dataset[cell.variables[name]].values, dtype=float)
                              .reshape(len(dataset.time), -1)[:, 0]
                              for name in ("glucose", "lactose")])
    ledger = np.asarray(dataset[cell.variables["ledger"]].values, dtype=float)
    totals = medium @ atoms + np.asarray(biomass)[:, None] * composition[None, :] + ledger
    return {e: totals[:, i] for i, e in enumerate(ELEMENTS)}, composition


def growth_ceiling(metabolism) -> float:
    """Highest growth rate (1/min) a cell of ``metabolism`` can reach in the initial medium:
    the larger of its LP on the initial glucose plus lactose through a fully induced permease
    under inducer exclusion, and its LP on that lactose alone (after glucose), the fully
    induced permease taking up DEFAULT_KINETICS' lactose v_max (the deterministic model's
    induced LacY; the IPTG reference's cells)."""
    from ...metabolism.population_fba import solve_population
    from ...metabolism.uptake import DEFAULT_KINETICS, UptakeKinetics, uptake_bound

    config = metabolism.config
    glucose = uptake_bound(metabolism.glucose_kinetics, config["initial_glucose"])
    free = 1.0 - uptake_bound(UptakeKinetics(1.0, metabolism.glucose_kinetics.km),
                              config["initial_glucose"])
    lactose = uptake_bound(UptakeKinetics(DEFAULT_KINETICS["EX_lcts_e"].vmax,
                                          metabolism.lactose_km), config["initial_lactose"])
    result = solve_population(metabolism.model, metabolism.exchanges,
                              [[glucose, lactose * free], [0.0, lactose]],
                              on_infeasible="status")
    return float(np.max(result.growth)) / 60.0


def substrate_cells(metabolism, initial_cells: int) -> float:
    """Most cells the medium can make: ``initial_cells`` x the culture's biomass once all the
    glucose and lactose (2 glucose equivalents) are turned into biomass at the LP's yield on
    the initial glucose (its best yield: maintenance only lowers it at lower uptake), over
    the initial biomass."""
    from ...metabolism.population_fba import solve_population
    from ...metabolism.uptake import uptake_bound

    config = metabolism.config
    glucose = uptake_bound(metabolism.glucose_kinetics, config["initial_glucose"])
    result = solve_population(metabolism.model, metabolism.exchanges, [[glucose, 0.0]],
                              on_infeasible="status")
    if not (result.status[0] == 1 and result.fluxes[0, 0] < 0):
        return math.inf
    yield_ = float(result.growth[0]) / -float(result.fluxes[0, 0])  # gDW per mmol glucose
    made = yield_ * (config["initial_glucose"] + 2.0 * config["initial_lactose"])
    return initial_cells * (1.0 + made / float(config["initial_biomass"]))


def population_slots(metabolism, initial_cells: int, minutes: float) -> int:
    """Slots for a run of ``minutes``: the fewer of the cells growing at
    :func:`growth_ceiling` all along and :func:`substrate_cells`, with the margin."""
    by_time = required_slots(initial_cells, minutes, growth_ceiling(metabolism))
    by_substrate = math.ceil(substrate_cells(metabolism, initial_cells) * CAPACITY_MARGIN)
    return int(max(min(by_time, by_substrate), initial_cells))


def initial_growth(metabolism) -> float:
    """Growth rate (1/min) of a cell with no lac enzymes on the initial glucose (its LP)."""
    from ...metabolism.population_fba import solve_population
    from ...metabolism.uptake import uptake_bound

    glucose = uptake_bound(metabolism.glucose_kinetics, metabolism.config["initial_glucose"])
    result = solve_population(metabolism.model, metabolism.exchanges, [[glucose, 0.0]],
                              on_infeasible="status")
    return float(result.growth[0]) / 60.0


def run_population(spec, minutes: float, cell: PopulationCell, *, initial_cells: int,
                   overrides=None, metabolism_changes=None, least_slots: int = 0,
                   runner=None):
    """``(dataset, slots)`` of a run of the population for ``minutes``.

    ``runner(spec, minutes, overrides=...)`` runs the composite: a tier's
    :meth:`.base.TierStep.run_composite` (its engine); default
    :func:`~...framework.run.run` under process-bigraph without a progress bar.

    The per-cell stores cost time in proportion to their slots, so the run starts with the
    slots that cells growing at the initial glucose rate need (at least ``least_slots``) and,
    should the population outgrow them (a CapacityError), runs again with twice as many, up
    to :func:`population_slots` (which no run can outgrow).
    """

    if runner is None:
        from ...framework.run import run

        def runner(spec, minutes, **kwargs):
            return run(spec, minutes, progress=False, **kwargs)

    metabolism = cell.instance(**(metabolism_changes or {}))
    ceiling = population_slots(metabolism, initial_cells, minutes)
    slots = min(max(required_slots(initial_cells, minutes, initial_growth(metabolism)),
                    least_slots, initial_cells), ceiling)
    while True:
        changes = {**(overrides or {}),
                   **population_overrides(spec, capacity=slots, initial_cells=initial_cells)}
        try:
            return runner(spec, minutes, overrides=changes), slots
        except CapacityError:
            if slots >= ceiling:
                raise
            slots = min(2 * slots, ceiling)
