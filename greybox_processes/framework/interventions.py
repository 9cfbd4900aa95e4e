"""Interventions on process parameters (NEXUS 4.4), once for every process and both engines.

An intervention changes a *mechanism*, not a state: it rewrites a value of a
process's config while the composite runs. Three temporal profiles:

* ``scheduled``: from ``start`` on;
* ``pulse``: from ``start`` until ``end``;
* ``loop``: from ``start`` (until ``end`` if given), on for ``period``, off for
  ``gap``, repeatedly.

Each intervention gives ``target`` (a key of the process's config, dotted for
nested values or list items: ``'diffusion.0'``) and either ``value`` (set) or
``factor`` (multiply the original value; lists elementwise).

The mechanism is a wrapper process, :class:`Intervened`: it holds the target
process (any process-bigraph ``Process``, by address and config), forwards its
ports, initial state and metadata unchanged, and before each update sets the
config values that are active at that time (restoring the originals when an
intervention ends). It counts its own time from the intervals it is given, so
it behaves the same under process-bigraph and vivarium-core. A change takes
effect at the first update of the target that *starts* at or after ``start``
(and is undone at the first that starts at or after ``end``), so its time
resolution is the target's interval.

The target must read the intervened value from ``self.config`` in ``update``
(greybox's Tissue and Fields do); a process that caches derived parameters
can define ``parameters_changed(keys)`` and it is called after each change.

In a spec, wrap a process node::

    fields:
      _type: process
      address: local:Intervened
      config:
        process: local:Fields
        config: {chemicals: [A], diffusion: [1.0], ...}
        interventions:
          - {target: diffusion, factor: 0.1, profile: pulse, start: 20, end: 40}
      interval: 1.0
      inputs: ...

or transform a document in Python with :func:`with_interventions`
(``{'fields': [{...}, ...]}``, keyed by the process's path).
"""
from __future__ import annotations

import copy
import math
from typing import Mapping, Sequence

from .base import GreyboxProcess
from .document import edge_nodes, get_path, set_path, split_path
from .registry import resolve_process_class

__all__ = ["Intervened", "Intervention", "PROFILES", "parse_interventions",
           "with_interventions", "active_at"]

PROFILES = ("scheduled", "pulse", "loop")
_FIELDS = ("target", "value", "factor", "profile", "start", "end", "period", "gap")


class Intervention:
    """One intervention: ``target``, ``value`` or ``factor``, a profile and its times."""

    def __init__(self, target: str, *, value=None, factor=None, profile: str = "scheduled",
                 start: float = 0.0, end: float | None = None, period: float | None = None,
                 gap: float | None = None):
        if not isinstance(target, str) or not target:
            raise ValueError("an intervention needs a 'target': the config key to change "
                             "(dotted for nested values, e.g. 'diffusion.0')")
        if (value is None) == (factor is None):
            raise ValueError(f"intervention on {target!r}: give exactly one of 'value' "
                             "(set it) or 'factor' (multiply it)")
        if profile not in PROFILES:
            raise ValueError(f"intervention on {target!r}: profile must be one of {PROFILES}, "
                             f"got {profile!r}")
        start = float(start)
        end = None if end is None else float(end)
        if not math.isfinite(start) or start < 0:
            raise ValueError(f"intervention on {target!r}: start must be >= 0, got {start}")
        if profile == "pulse" and end is None:
            raise ValueError(f"pulse intervention on {target!r} needs an 'end'")
        if end is not None and end <= start:
            raise ValueError(f"intervention on {target!r}: end ({end}) must be after start "
                             f"({start})")
        if profile == "loop":
            if period is None or gap is None or float(period) <= 0 or float(gap) < 0:
                raise ValueError(f"loop intervention on {target!r} needs 'period' > 0 and "
                                 "'gap' >= 0 (time on, then time off, repeatedly)")
        self.target, self.value, self.factor, self.profile = target, value, factor, profile
        self.start, self.end = start, end
        self.period = None if period is None else float(period)
        self.gap = None if gap is None else float(gap)

    @classmethod
    def from_mapping(cls, entry: Mapping) -> "Intervention":
        """An Intervention from its YAML/dict form; a ValueError names an unknown or missing field.
        """
        if isinstance(entry, Intervention):
            return entry
        if not isinstance(entry, Mapping):
            raise ValueError(f"an intervention must be a mapping with {_FIELDS}, got {entry!r}")
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            raise ValueError(f"intervention keys {unknown} are not known; use {list(_FIELDS)}")
        return cls(**dict(entry))

    def active(self, time: float, eps: float = 1e-9) -> bool:
        """Whether the intervention is on at ``time``."""
        t = float(time)
        if t < self.start - eps:
            return False
        if self.end is not None and t >= self.end - eps:
            return False
        if self.profile == "loop":
            cycle = self.period + self.gap
            phase = math.fmod(t - self.start + eps, cycle)
            return phase < self.period
        return True

    def apply(self, original):
        """The intervened value given the original one."""
        if self.value is not None:
            return copy.deepcopy(self.value)
        if isinstance(original, (list, tuple)):
            factors = self.factor if isinstance(self.factor, (list, tuple)) \
                else [self.factor] * len(original)
            if len(factors) != len(original):
                raise ValueError(f"intervention on {self.target!r}: {len(factors)} factors for "
                                 f"{len(original)} values")
            return type(original)(o * f for o, f in zip(original, factors))
        return original * self.factor

    def as_dict(self) -> dict:
        """The intervention as a mapping of its set fields (the YAML form)."""
        return {k: getattr(self, k) for k in _FIELDS if getattr(self, k) is not None}


def parse_interventions(entries: Sequence) -> list:
    """Intervention objects from mappings (raises ValueError saying what is wrong)."""
    return [Intervention.from_mapping(e) for e in (entries or [])]


def active_at(interventions: Sequence, time: float) -> list:
    """The interventions that are on at ``time``."""
    return [i for i in parse_interventions(interventions) if i.active(time)]


class Intervened(GreyboxProcess):
    """Any process with scheduled, pulse or loop interventions on its config (NEXUS 4.4)."""

    config_schema = {
        "process": {"_type": "string", "_default": ""},
        "config": {"_type": "map[node]", "_default": {}},
        "interventions": {"_type": "list[node]", "_default": []},
    }

    def initialize(self, config):
        address = self.config["process"]
        if not address:
            raise ValueError("Intervened needs 'process': the address of the process to "
                             "intervene on, e.g. 'local:Fields'")
        cls = resolve_process_class(address, self.core)
        self.inner = cls(copy.deepcopy(dict(self.config["config"] or {})), core=self.core)
        self.interventions = parse_interventions(self.config["interventions"])
        self._original = {}
        fixed = tuple(getattr(cls, "fixed_config_keys", ()) or ())
        for item in self.interventions:
            parts = split_path(item.target)
            if parts and str(parts[0]) in fixed:
                raise ValueError(f"intervention target {item.target!r} of {cls.__name__} changes "
                                 "the shape of its stores, so it cannot be intervened on; "
                                 f"the fixed keys are {list(fixed)}")
            try:
                self._original[item.target] = copy.deepcopy(get_path(self.inner.config, parts))
            except (KeyError, IndexError, TypeError):
                known = sorted(self.inner.config)
                raise ValueError(f"intervention target {item.target!r} is not a config value of "
                                 f"{cls.__name__}; its config keys are {known}") from None
        self.time = 0.0
        self.applied = {}

    # forward the wrapped process's interface
    def inputs(self):
        return self.inner.inputs()

    def outputs(self):
        return self.inner.outputs()

    def initial_state(self):
        return self.inner.initial_state()

    def port_metadata(self):
        return self.inner.port_metadata() if hasattr(self.inner, "port_metadata") else {}

    def values_at(self, time: float) -> dict:
        """``{target: value}`` in force at ``time`` (later interventions win on one target)."""
        values = {t: copy.deepcopy(v) for t, v in self._original.items()}
        for item in self.interventions:
            if item.active(time):
                values[item.target] = item.apply(self._original[item.target])
        return values

    def _apply(self, time):
        values = self.values_at(time)
        changed = [t for t, v in values.items() if self.applied.get(t, self._original[t]) != v]
        for target in changed:
            set_path(self.inner.config, target, values[target])
            self.applied[target] = values[target]
        if changed and hasattr(self.inner, "config_changed"):
            self.inner.config_changed(changed)
        elif changed and hasattr(self.inner, "parameters_changed"):  # not a greybox process
            self.inner.parameters_changed(changed)
        return changed

    def update(self, state, interval):
        self._apply(self.time)
        out = self.inner.update(state, interval)
        self.time += interval
        return out


def with_interventions(document: Mapping, interventions: Mapping[str, Sequence]) -> dict:
    """A copy of ``document`` with processes wrapped in :class:`Intervened`.

    ``interventions`` maps a process path (``'fields'`` or ``'tissue/fields'``,
    dotted or slashed) to a list of intervention mappings.
    """
    doc = copy.deepcopy(dict(document))
    edges = edge_nodes(doc["state"])
    for path, entries in interventions.items():
        key = tuple(str(path).replace("/", ".").split("."))
        node = edges.get(key)
        if node is None:
            names = sorted(".".join(map(str, p)) for p in edges)
            raise ValueError(f"no process at {path!r} to intervene on; processes: {names}")
        parse_interventions(entries)
        if node.get("address") == "local:Intervened":
            node["config"]["interventions"] = list(node["config"].get("interventions", [])) \
                + [dict(e) if isinstance(e, Mapping) else e.as_dict() for e in entries]
            continue
        inner = {"process": node.get("address"), "config": node.get("config") or {},
                 "interventions": [dict(e) if isinstance(e, Mapping) else e.as_dict()
                                   for e in entries]}
        node["address"] = "local:Intervened"
        node["config"] = inner
    return doc


