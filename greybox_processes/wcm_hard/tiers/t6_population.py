"""Tier 6 on a population cell: 100 synchronised cells of the cell's own population.

Recognised by the processes: a ``CellCycle`` (growth and the mechanistic adder, writing the
per-cell ``volume`` store). The run starts ``initial_cells`` (100) cells synchronised
(``<cycle>.config.synchronized: true``: all born together at one birth volume with no
division protein) for ``run_generations`` generations of ``ln 2 / mu``, ``mu`` the growth
rate of the population's first cell at ``t = 0`` (its metabolism's LP; without a metabolism
the cycle's ``initial_growth_rate``). Every per-cell store gets
:func:`.t6_dephasing.required_capacity` slots.

The medium must not run out (the CV of a population whose growth stops stops rising): the
metabolism's ``initial_biomass`` (the culture density the simulated cells stand for) is
lowered so that the biomass made over the run uses at most ``MEDIUM_SHARE`` (1%) of the
initial glucose, at the first cell's LP yield. The concentrations, hence every cell's uptake
bounds and growth, stay as in the spec; only the culture is more dilute.

"Rises monotonically" is read at generation resolution (:func:`.t6_dephasing.
generation_monotone`); the per-sample verdict is printed beside it.
"""
from __future__ import annotations

import math
import time as wallclock

import numpy as np

from ...framework.document import resolve_wire
from .dephasing_scores import required_capacity, volume_cv
from .base import initial_cell_lac, metabolism_instance, process_class, process_nodes
from .population import population_cell, population_overrides

__all__ = ["cell_cycle_node", "dilute_biomass", "population_dephasing", "MEDIUM_SHARE"]

#: share of the initial glucose the run may use
MEDIUM_SHARE = 0.01


def cell_cycle_node(spec, overrides=None):
    """``(path, node)`` of the spec's ``CellCycle`` process (or a subclass), or None."""
    from ...cellcycle.process import CellCycle

    for path, node in process_nodes(spec, overrides).items():
        cls = process_class(node)
        if isinstance(cls, type) and issubclass(cls, CellCycle):
            return path, node
    return None


def dilute_biomass(initial_biomass: float, glucose_mM: float, yield_gdw_per_mmol: float,
                   generations: float, share: float = MEDIUM_SHARE) -> float:
    """Initial biomass (gDW/L) whose growth by ``2^generations`` uses at most ``share`` of
    ``glucose_mM`` at the yield ``yield_gdw_per_mmol`` (never more than ``initial_biomass``)."""
    if not (yield_gdw_per_mmol > 0 and generations > 0 and glucose_mM > 0):
        raise ValueError("yield, generations and glucose must be positive, got "
                         f"{yield_gdw_per_mmol}, {generations}, {glucose_mM}")
    allowed = share * glucose_mM * yield_gdw_per_mmol / (2.0 ** generations - 1.0)
    return min(float(initial_biomass), allowed)


def _first_cell(spec, cell):
    """(growth 1/min, glucose yield gDW/mmol) of the population's first cell at t = 0."""
    process = metabolism_instance(cell.node, lac=initial_cell_lac(spec, cell.path, cell.node))
    glucose = process.exchanges[0]
    with process.initial_lp() as model:
        solution = model.optimize()
        growth = float(solution.objective_value or 0.0)
        uptake = -float(solution.fluxes[glucose])
    if not (solution.status == "optimal" and growth > 0 and uptake > 0):
        raise ValueError(f"the population's first cell does not grow on glucose at t = 0 "
                         f"(status {solution.status!r}); tier 6 needs growing cells")
    return growth / 60.0, growth / uptake


def population_dephasing(step, path, node):
    """Tier 6 of ``step`` (a DephasingTier) on the population whose CellCycle is ``node``."""

    spec = step.config["spec"]
    generations = float(step.config["quick_run_generations" if step.config["quick"]
                                     else "run_generations"])
    initial = int(step.config["initial_cells"])
    if initial < 2:
        raise ValueError(f"initial_cells must be >= 2 (the CV of volume needs two cells), got "
                         f"{initial}")
    cell = population_cell(spec)
    cycle = ".".join(map(str, path))
    evidence, notes = {}, []
    if step.config["quick"]:
        notes.append(f"quick mode: {generations:g} generations instead of "
                     f"{step.config['run_generations']:g} (the rise limit is at most "
                     f"{generations - 1:g}; the plateau is the last generation's mean)")
    slots = required_capacity(initial, generations)
    overrides = {**population_overrides(spec, capacity=slots, initial_cells=initial),
                 f"{cycle}.config.synchronized": True}
    if step.config["model"] and cell is not None:
        overrides[".".join(map(str, cell.path)) + ".config.model"] = step.config["model"]
        notes.append(f"model replaced by {step.config['model']!r} for this tier")
    if cell is not None:
        changed = population_cell(spec, overrides)
        growth, yield_ = _first_cell(spec, changed)
        config = changed.instance().config
        biomass = dilute_biomass(config["initial_biomass"], config["initial_glucose"], yield_,
                                 generations)
        overrides[".".join(map(str, cell.path)) + ".config.initial_biomass"] = biomass
        evidence.update(initial_biomass_gDW_per_L=biomass,
                        spec_initial_biomass_gDW_per_L=config["initial_biomass"],
                        glucose_yield_gDW_per_mmol=yield_)
        notes.append(f"medium kept from running out: initial_biomass {biomass:.3g} gDW/L "
                     f"(spec {config['initial_biomass']:.3g}), so that {generations:g} "
                     f"generations use <= {MEDIUM_SHARE:.0%} of the initial glucose; the "
                     "concentrations, uptake bounds and growth rates are the spec's")
    else:
        growth = float(process_class(node)({**(node.get("config") or {})},
                                           step.core).config["initial_growth_rate"])
    if not growth > 0:
        return step.not_applicable("the cells do not grow (growth rate 0): no generations")
    t_gen = math.log(2.0) / growth
    interval = float(node.get("interval", 1.0))
    duration = math.ceil(generations * t_gen / interval - 1e-9) * interval
    started = wallclock.perf_counter()
    dataset = step.run_composite(spec, duration, overrides=overrides)
    evidence["run_wall_s"] = wallclock.perf_counter() - started
    variable = {port: ".".join(map(str, resolve_wire(path, wire)))
                for port, wire in {**(node.get("inputs") or {}),
                                   **(node.get("outputs") or {})}.items()}
    alive = np.asarray(dataset[variable["alive"]].values) > 0.5
    volume = np.asarray(dataset[variable["volume"]].values, dtype=float)
    cv = volume_cv(volume, alive)
    evidence["run_generations"] = generations
    return step._verdict(dataset.time.values, cv, alive, t_gen, capacity=slots,
                         size_rule="adder (CellCycle division protein)", by_generation=True,
                         notes=notes, evidence=evidence)
