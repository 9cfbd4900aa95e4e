"""Cell division of a population held in per-cell stores: pure dividers and the rules per store.

A population lives in *per-cell stores*: arrays whose axis 0 is the cell axis,
of a fixed capacity (so that shapes stay static for ``jit``), with an alive
mask telling which slots hold a cell (the layout :class:`~greybox_processes.tissue.Tissue`
uses). When cells divide, daughter 1 stays in the mother's slot and daughter 2
takes a free slot, the lowest free index first, so the placement is
deterministic. Every per-cell store is partitioned by its rule
(:data:`~.ports.DIVISION_RULES`), declared per store in the port schemas of the
processes that share it (``array_port(..., divide='binomial')``):

* ``binomial``: each molecule goes to daughter 1 with probability equal to the
  division ratio; daughter 2 gets the rest, so the total is conserved exactly and
  whole counts stay whole and non-negative;
* ``split``: daughter 1 gets the division ratio of the mother's value, daughter 2
  the rest, with the two parts summing to the mother's value exactly in floating
  point (see :func:`split_parts`);
* ``copy``: both daughters get the mother's value;
* ``zero``: both daughters start from zero.

The functions here are pure given the random generator passed in (a
:class:`numpy.random.Generator`, never a global one): the same generator state gives
the same daughters. They run on the host in numpy, where floating-point
operations are exactly IEEE (no fused multiply-add), which the exact
conservation of ``split`` relies on.

:func:`resolve_division_rules` is the part of :func:`~.validation.validate_document`
that finds the rule of each store from the ports wired to it, checks that they
agree and tells each division step the rules of the stores it partitions.
"""
from __future__ import annotations

import numpy as np

from ..errors import SimulationError, SpecError
from .document import resolve_wire
from .ports import DIVISION_RULES, check_division_rule, port_divide

__all__ = [
    "check_slots",
    "DIVISION_RULES",
    "VIVARIUM_DIVIDERS",
    "CapacityError",
    "vivarium_divider",
    "daughter_slots",
    "binomial_parts",
    "split_parts",
    "partition_store",
    "divide_cells",
    "store_rules",
    "resolve_division_rules",
]

#: The vivarium-core ``_divider`` of each rule (vivarium-core's ``divider_registry``
#: names). vivarium-core applies a divider to a whole store when an agent divides into
#: two compartments; greybox divides *inside* a per-cell array store (one slot per cell),
#: so under vivarium-core the name is a declaration that keeps the port schema
#: equivalent, and the :class:`~.population.Division` step does the partitioning in
#: both engines.
VIVARIUM_DIVIDERS = {"binomial": "binomial", "split": "split", "copy": "set", "zero": "zero"}


class CapacityError(SimulationError):
    """A division found too few free slots: the population outgrew its capacity."""


def vivarium_divider(rule: str | None) -> str | None:
    """The vivarium-core ``_divider`` name of a division rule (``'copy'`` -> ``'set'``).

    ``None`` (a port that declares no rule) maps to ``None``: leave ``_divider`` out.
    """
    if rule is None:
        return None
    return VIVARIUM_DIVIDERS[check_division_rule(rule)]


def daughter_slots(alive, dividing) -> tuple[np.ndarray, np.ndarray]:
    """``(mothers, slots)``: the dividing cells in slot order and the free slot of each daughter 2.

    ``alive`` and ``dividing`` are boolean ``[capacity]`` masks; a flag on a free
    slot is ignored (there is no cell there to divide). The k-th dividing cell
    gets the k-th lowest free slot. Raises :class:`CapacityError` when there are
    fewer free slots than dividing cells: dropping a daughter would silently lose
    her molecules and mass.
    """
    alive = np.asarray(alive, dtype=bool)
    dividing = np.asarray(dividing, dtype=bool)
    if alive.shape != dividing.shape or alive.ndim != 1:
        raise ValueError(f"alive {alive.shape} and dividing {dividing.shape} must be "
                         "[capacity] masks of one shape")
    mothers = np.flatnonzero(dividing & alive)
    free = np.flatnonzero(~alive)
    if mothers.size > free.size:
        capacity = alive.size
        raise CapacityError(
            f"the population exceeded its capacity of {capacity} slots: {mothers.size} cells "
            f"divide but only {free.size} slots are free ({capacity - free.size} cells alive). "
            "Fix: raise `capacity` (the Division config and the per-cell stores of the "
            "processes sharing them), or make cells divide or die sooner")
    return mothers, free[:mothers.size]


def _per_mother(ratio, mother_values: np.ndarray) -> np.ndarray:
    """The ratio of each mother, shaped to broadcast against her values ``[m, ...]``."""
    ratio = np.asarray(ratio, dtype=np.float64)
    return ratio.reshape((-1,) + (1,) * (mother_values.ndim - 1))


def binomial_parts(counts, ratio, rng: np.random.Generator, *, name: str = "counts"):
    """``(daughter1, daughter2)`` of whole molecule counts ``[m, ...]``; ``ratio`` is ``[m]``.

    Each molecule goes to daughter 1 with probability ``ratio`` (so daughter 1 has
    ``Binomial(n, ratio)`` molecules) and daughter 2 gets the rest: their sum is the
    mother's count exactly. Counts must be finite, whole and non-negative (a
    :class:`~greybox_processes.errors.SimulationError` names the store otherwise);
    the parts keep the counts' dtype.
    """
    counts = np.asarray(counts)
    values = counts.astype(np.float64)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
    if np.any(bad):
        example = values[bad].ravel()[0]
        raise SimulationError(
            f"store {name!r} is divided binomially (molecule counts) but a dividing cell holds "
            f"{example!r}, which is not a whole non-negative count. Fix: keep counts whole "
            "(e.g. an exact stochastic kernel), or declare the store divide='split' if it "
            "is a continuous amount")
    if np.any(values > 2.0 ** 53):
        raise SimulationError(f"store {name!r}: counts above 2**53 cannot be held exactly in "
                              "float64; use divide='split' for such amounts")
    whole = values.astype(np.int64)
    p = np.broadcast_to(_per_mother(ratio, values), values.shape)
    first = rng.binomial(whole, p)
    second = whole - first
    return first.astype(counts.dtype), second.astype(counts.dtype)


def split_parts(values, ratio):
    """``(daughter1, daughter2)`` of an extensive quantity ``[m, ...]`` by ``ratio`` ``[m]``.

    Daughter 1 gets ``ratio`` of the mother's value, daughter 2 the rest, and
    ``daughter1 + daughter2 == mother`` holds exactly in floating point: the larger
    part is computed by a product, ``x * q`` with ``q = max(r, 1 - r)``, which
    rounds into ``[x/2, x]``; the smaller part is ``x - larger``, which Sterbenz'
    lemma makes exact, so the two parts add back to ``x`` without rounding.
    """
    values = np.asarray(values, dtype=np.float64)
    r = _per_mother(ratio, values)
    larger_share = np.maximum(r, 1.0 - r)
    larger = values * larger_share
    smaller = values - larger
    first_is_larger = r >= 0.5
    first = np.where(first_is_larger, larger, smaller)
    second = np.where(first_is_larger, smaller, larger)
    return first, second


def partition_store(values, rule: str, mothers, slots, ratio, rng: np.random.Generator, *,
                    name: str = "store") -> np.ndarray:
    """A new per-cell array: each mother's row partitioned into her slot and her daughter's.

    ``values`` is ``[capacity, ...]``; ``mothers`` and ``slots`` come from
    :func:`daughter_slots`; ``ratio`` is ``[m]``, daughter 1's share for each
    mother. Rows of other slots are unchanged.
    """
    values = np.asarray(values)
    rule = check_division_rule(rule)
    mother_values = values[mothers]
    if rule == "binomial":
        first, second = binomial_parts(mother_values, ratio, rng, name=name)
    elif rule == "split":
        if not np.issubdtype(values.dtype, np.floating):
            raise SimulationError(f"store {name!r} holds integers ({values.dtype}) but is "
                                  "divided by 'split', which makes fractions. Fix: declare "
                                  "divide='binomial' for counts, or make the store float64")
        first, second = split_parts(mother_values, ratio)
    elif rule == "copy":
        first = second = mother_values
    else:  # zero
        first = second = np.zeros_like(mother_values)
    new = values.copy()
    new[mothers] = first
    new[slots] = second
    return new


def divide_cells(stores: dict, rules: dict, alive, dividing, ratio,
                 rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Divide the ``dividing`` cells of a population: ``(new stores, new alive mask)``.

    Parameters
    ----------
    stores : ``{name: [capacity, ...] array}``, the per-cell stores.
    rules : ``{name: rule}``, one of :data:`DIVISION_RULES` for every store.
    alive, dividing : boolean ``[capacity]`` masks (a flag on a free slot is ignored).
    ratio : daughter 1's share for each slot (a scalar, or ``[capacity]`` read at the
        dividing slots), strictly between 0 and 1.
    rng : the random generator of the binomial draws, consumed store by store in
        sorted name order (so the result does not depend on the dict order).

    Daughter 1 keeps the mother's slot; daughter 2 goes to the lowest free slot
    (:func:`daughter_slots`, which raises :class:`CapacityError` when they run out).
    """
    missing = sorted(set(stores) - set(rules))
    if missing:
        raise ValueError(f"no division rule for store(s) {missing}")
    alive = np.asarray(alive, dtype=bool)
    mothers, slots = daughter_slots(alive, dividing)
    ratio = np.broadcast_to(np.asarray(ratio, dtype=np.float64), alive.shape)[mothers]
    if np.any(~((ratio > 0.0) & (ratio < 1.0))):
        raise SimulationError(f"division ratios must lie strictly between 0 and 1, got "
                              f"{ratio[~((ratio > 0.0) & (ratio < 1.0))][:5]}. Fix: check the "
                              "division_ratio store or the Division's ratio and ratio_noise")
    new_stores = {}
    for name in sorted(stores):
        values = np.asarray(stores[name])
        if values.shape[:1] != alive.shape:
            raise ValueError(f"store {name!r} has shape {values.shape}; its axis 0 must be the "
                             f"cell axis of length {alive.size}")
        new_stores[name] = partition_store(values, rules[name], mothers, slots, ratio, rng,
                                           name=name)
    new_alive = alive.copy()
    new_alive[slots] = True
    return new_stores, new_alive


# --- the rule of each store, from the ports wired to it -------------------------------------

_FIX = ("declare divide='binomial' | 'split' | 'copy' | 'zero' in the port schema of a process "
        "writing it (array_port(..., divide=...)), or in the Division config "
        "(`rules: {{{port}: <rule>}}`)")


def _who(path, port) -> str:
    return f"{'/'.join(map(str, path))}.{port}"


def store_rules(ports_on: dict, dividers: dict, *, file=None) -> dict:
    """``{store path: (rule, edge path, port)}`` for every store some port declares a rule for.

    ``ports_on`` is ``{store path: [(edge path, port, schema), ...]}``, every port
    wired to each store; ``dividers`` is ``{edge path: instance}`` of the division
    steps, whose declared rules come from their config (so a conflict points there).
    Two ports declaring different rules for one store are a SpecError.
    """
    found = {}
    for target, users in ports_on.items():
        for path, port, schema in users:
            rule = port_divide(schema)
            if rule is None:
                continue
            if target not in found:
                found[target] = (rule, path, port)
                continue
            first_rule, first_path, first_port = found[target]
            if rule == first_rule:
                continue
            where = path + ("config", "rules", port) if path in dividers else path
            raise SpecError(
                f"store {'/'.join(map(str, target))!r} has two division rules: "
                f"{_who(first_path, first_port)} declares {first_rule!r} but {_who(path, port)} "
                f"declares {rule!r}; a store divides one way",
                file=file, path=where,
                fix="make every port of this store declare the same divide= rule (or none), "
                    "or wire the processes to different stores")
    return found


def resolve_division_rules(edges: dict, instances: dict, ports_on: dict, *, file=None) -> None:
    """Check the division rule of every per-cell store and tell each division step its rules.

    A division step is an instance with a ``per_cell_ports()`` method (the ports of
    the stores it partitions) and a ``rules`` config entry. For each such port, the
    rule of the store it is wired to comes from the ports of *all* processes wired
    to that store (:func:`store_rules`, which also rejects conflicting rules); a store
    with no rule is a SpecError naming the Division's wire. The rules found are
    written into the step's config in the document (``node['config']['rules']``, so
    that the engines, which build their own instances from the document, get them)
    and into the instance's config. Rules the config already gives are kept.
    """
    dividers = {path: instance for path, instance in instances.items()
                if callable(getattr(instance, "per_cell_ports", None))}
    declared = store_rules(ports_on, dividers, file=file)
    for path, instance in dividers.items():
        node = edges[path]
        wires = {**(node.get("outputs") or {}), **(node.get("inputs") or {})}
        rules = dict((node.get("config") or {}).get("rules") or {})
        for port in instance.per_cell_ports():
            target = resolve_wire(path, wires[port])
            if port in rules:
                continue
            if target not in declared:
                name = "/".join(map(str, target))
                raise SpecError(
                    f"per-cell store {name!r} is partitioned at division by "
                    f"{'/'.join(map(str, path))}, but no port wired to it declares how it "
                    f"divides ({', '.join(DIVISION_RULES)})",
                    file=file, path=path + ("inputs", port), fix=_FIX.format(port=port))
            rules[port] = declared[target][0]
        node["config"] = {**(node.get("config") or {}), "rules": rules}
        instance.config["rules"] = dict(rules)
    _check_every_per_cell_store_divides(edges, dividers, declared, file=file)


def _check_every_per_cell_store_divides(edges: dict, dividers: dict, declared: dict, *,
                                        file=None) -> None:
    """A store some port declares a division rule for, in a composite with a division step,
    must be wired to a division step: otherwise a daughter's slot keeps whatever it held
    before (stale values of a dead cell, or the initial zeros) and nothing says so."""
    if not dividers:
        return
    wired = set()
    for path in dividers:
        node = edges[path]
        for wire in {**(node.get("outputs") or {}), **(node.get("inputs") or {})}.values():
            wired.add(resolve_wire(path, wire))
    for target, (rule, path, port) in sorted(declared.items(), key=lambda item: item[0]):
        if target in wired:
            continue
        name = "/".join(map(str, target))
        step = "/".join(map(str, next(iter(dividers))))
        raise SpecError(
            f"per-cell store {name!r} declares division rule {rule!r} ({_who(path, port)}) "
            f"but no division step partitions it: at division a daughter's slot would keep "
            f"stale values",
            file=file, path=next(iter(dividers)) + ("config", "stores"),
            fix=f"add {target[-1]!r} to {step}'s `stores` (and wire its port {target[-1]!r} "
                f"to [{', '.join(map(str, target))}] in inputs and outputs)")


def check_slots(capacity, initial_cells, *, least_initial: int = 0) -> None:
    """A population's ``capacity`` (slots per per-cell store) and its ``initial_cells``.

    Every process of a population checks the two config values it shares with the
    :class:`~greybox_processes.framework.population.Division` step here, with one message.
    """
    if capacity < 1:
        raise ValueError(f"capacity (slots per per-cell store) must be >= 1, got {capacity}")
    if not least_initial <= initial_cells <= capacity:
        raise ValueError(f"initial_cells ({initial_cells}) must lie in [{least_initial}, "
                         f"capacity={capacity}]; raise capacity")
