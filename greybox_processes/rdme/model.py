"""RDME models: species, reactions, diffusion and unit conversion (all in SI units).

* Diffusion constants are in m^2/s, per species and optionally per region;
  the hop rate between sites of two different regions is the *transition rate*
  (also m^2/s, a diffusion constant across that face); 0 blocks the crossing,
  as a membrane does. Unless set, a crossing from region ``a`` to ``b`` uses
  ``min(D_a, D_b)`` (so a region where a species does not diffuse is closed to it).
* Macroscopic rate constants are converted to per-site stochastic rates with
  the site volume ``V = lambda**3`` (litres, ``N_A`` Avogadro's number):

  ====================  ==============  ===================================
  reaction              rate unit       per-site propensity
  ====================  ==============  ===================================
  0 -> ...              M s^-1          ``k N_A V``
  A -> ...              s^-1            ``k n_A``
  A + B -> ...          M^-1 s^-1       ``k / (N_A V) n_A n_B``
  A + A -> ...          M^-1 s^-1       ``k / (N_A V) n_A (n_A - 1)``
  ====================  ==============  ===================================

  (``A + A``: the rate law is ``d[events]/dt = k [A]^2`` per volume, the
  Gillespie convention ``c = 2k/(N_A V)`` times ``n(n-1)/2`` pairs.)

A model is built in Python (:class:`RDMEModel`) or from a mapping
(:func:`model_from_dict`, the YAML form used in composite specs).
"""
from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Mapping, Sequence

import numpy as np

from .geometry import Lattice

__all__ = ["AVOGADRO", "Species", "Reaction", "RDMEModel", "CompiledModel", "model_from_dict",
           "parse_reaction"]

AVOGADRO = 6.02214076e23


def _close(word, options) -> str:
    hits = difflib.get_close_matches(str(word), [str(o) for o in options], n=3, cutoff=0.5)
    return f" Did you mean {', '.join(map(repr, hits))}?" if hits else ""


@dataclasses.dataclass(frozen=True)
class Species:
    """A species: name, diffusion constant (m^2/s) and optional per-region values."""

    name: str
    diffusion: float = 0.0
    diffusion_in: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Reaction:
    """A mass-action reaction of order 0, 1 or 2, allowed in ``regions`` (``None``: all)."""

    reactants: tuple[str, ...]
    products: tuple[str, ...]
    rate: float
    regions: tuple[str, ...] | None = None
    name: str = ""

    @property
    def order(self) -> int:
        """Molecularity: the number of reactant molecules (0, 1 or 2)."""
        return len(self.reactants)

    def label(self) -> str:
        """The reaction's name, or its equation ``'A + B -> C'``."""
        if self.name:
            return self.name
        return f"{' + '.join(self.reactants) or '0'} -> {' + '.join(self.products) or '0'}"


def parse_reaction(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``'A + B -> C'`` to ``(('A', 'B'), ('C',))``; ``0`` or an empty side is nothing."""
    if "->" not in text:
        raise ValueError(f"reaction {text!r} has no '->'; write e.g. 'A + B -> C'")
    left, right = text.split("->", 1)

    def side(s):
        names = []
        for part in s.split("+"):
            part = part.strip()
            if not part or part == "0" or part == "∅":
                continue
            count, _, name = part.partition(" ")
            if name and count.isdigit():
                names.extend([name.strip()] * int(count))
            elif part[0].isdigit() and part.lstrip("0123456789"):
                digits = len(part) - len(part.lstrip("0123456789"))
                names.extend([part[digits:].strip()] * int(part[:digits]))
            else:
                names.append(part)
        return tuple(names)

    return side(left), side(right)


@dataclasses.dataclass(frozen=True)
class CompiledModel:
    """A model on a lattice, as arrays for the kernel (numpy, float64).

    Attributes
    ----------
    species : species names (S)
    regions : region names (G)
    diffusion : (S, G, G) transition diffusion constant from region a to b (m^2/s)
    rate : (J, G) per-site stochastic rate constant of each reaction in each region (1/s)
    reactants : (J, 2) int, reactant species indices, -1 for none
    change : (J, S) int, net change of each species when reaction j fires
    """

    species: tuple[str, ...]
    regions: tuple[str, ...]
    diffusion: np.ndarray
    rate: np.ndarray
    reactants: np.ndarray
    change: np.ndarray
    labels: tuple[str, ...]

    @property
    def n_species(self) -> int:
        """Number of species."""
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        """Number of reactions."""
        return int(self.rate.shape[0])


@dataclasses.dataclass
class RDMEModel:
    """Species, reactions, transition rates and initial counts (SI units).

    Parameters
    ----------
    species : list of :class:`Species`
    reactions : list of :class:`Reaction`
    transitions : ``{(species, from_region, to_region): D}`` in m^2/s; 0 blocks.
    initial : ``{species: count}`` (spread uniformly over the lattice) or
        ``{species: {region: count}}``.
    """

    species: list[Species] = dataclasses.field(default_factory=list)
    reactions: list[Reaction] = dataclasses.field(default_factory=list)
    transitions: dict = dataclasses.field(default_factory=dict)
    initial: dict = dataclasses.field(default_factory=dict)

    @property
    def species_names(self) -> tuple[str, ...]:
        """The species names, in the model's order."""
        return tuple(s.name for s in self.species)

    # -- building -----------------------------------------------------------------------
    def add_species(self, name: str, diffusion: float = 0.0, *, initial=None,
                    diffusion_in: Mapping[str, float] | None = None) -> "RDMEModel":
        """Add a species with diffusion constant ``diffusion`` (m^2/s), per-region overrides
        ``diffusion_in`` and initial count(s); returns the model.
        """
        self.species.append(Species(name, float(diffusion), dict(diffusion_in or {})))
        if initial is not None:
            self.initial[name] = initial
        return self

    def add_reaction(self, equation: str, rate: float, *, regions: Sequence[str] | None = None,
                     name: str = "") -> "RDMEModel":
        """Add a reaction ``'A + B -> C'`` with its macroscopic rate (units by order, see the module
        docstring), optionally only in ``regions``; returns the model.
        """
        reactants, products = parse_reaction(equation)
        self.reactions.append(Reaction(reactants, products, float(rate),
                                       None if regions is None else tuple(regions), name))
        return self

    def set_transition(self, species: str, from_region: str, to_region: str,
                       diffusion: float) -> "RDMEModel":
        """Set the diffusion constant (m^2/s) of ``species`` across faces from ``from_region`` to
        ``to_region`` (0 blocks); returns the model.
        """
        self.transitions[(species, from_region, to_region)] = float(diffusion)
        return self

    # -- validation and compilation -----------------------------------------------------
    def validate(self, regions: Sequence[str] | None = None) -> None:
        """Raise ``ValueError`` saying what to fix (names, signs, orders, regions)."""
        names = self.species_names
        if not names:
            raise ValueError("the model has no species; add one with add_species(name, D)")
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"species {dup} are defined more than once")
        for s in self.species:
            for where, value in [("", s.diffusion)] + [(f" in {r!r}", v)
                                                         for r, v in s.diffusion_in.items()]:
                if not (np.isfinite(value) and value >= 0):
                    raise ValueError(f"diffusion constant of {s.name!r}{where} must be a finite "
                                     f"number >= 0 (m^2/s), got {value!r}")
            if regions is not None:
                for r in s.diffusion_in:
                    if r not in regions:
                        raise ValueError(f"species {s.name!r} sets a diffusion constant in "
                                         f"unknown region {r!r}.{_close(r, regions)} The "
                                         f"lattice has {list(regions)}")
        for reaction in self.reactions:
            label = reaction.label()
            if reaction.order > 2:
                raise ValueError(f"reaction {label!r} has order {reaction.order}; the RDME "
                                 "supports orders 0, 1 and 2 (split it into elementary steps)")
            for name in reaction.reactants + reaction.products:
                if name not in names:
                    raise ValueError(f"reaction {label!r} uses unknown species {name!r}."
                                     f"{_close(name, names)} Known species: {list(names)}")
            if not (np.isfinite(reaction.rate) and reaction.rate >= 0):
                raise ValueError(f"reaction {label!r} has rate {reaction.rate!r}; rates must "
                                 "be finite and >= 0 (SI: M/s, 1/s or 1/(M s) by order)")
            if regions is not None and reaction.regions is not None:
                for r in reaction.regions:
                    if r not in regions:
                        raise ValueError(f"reaction {label!r} is allowed in unknown region "
                                         f"{r!r}.{_close(r, regions)} The lattice has "
                                         f"{list(regions)}")
        for key, value in self.transitions.items():
            if not (isinstance(key, tuple) and len(key) == 3):
                raise ValueError(f"transition keys are (species, from_region, to_region), "
                                 f"got {key!r}")
            sp, a, b = key
            if sp not in names:
                raise ValueError(f"transition {key} names unknown species {sp!r}."
                                 f"{_close(sp, names)}")
            if regions is not None:
                for r in (a, b):
                    if r not in regions:
                        raise ValueError(f"transition {key} names unknown region {r!r}."
                                         f"{_close(r, regions)} The lattice has {list(regions)}")
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"transition rate {key} must be >= 0 (m^2/s), got {value!r}")
        for name, value in self.initial.items():
            if name not in names:
                raise ValueError(f"initial count given for unknown species {name!r}."
                                 f"{_close(name, names)}")
            counts = value.values() if isinstance(value, Mapping) else [value]
            if isinstance(value, Mapping) and regions is not None:
                for r in value:
                    if r not in regions:
                        raise ValueError(f"initial count of {name!r} in unknown region {r!r}."
                                         f"{_close(r, regions)}")
            for c in counts:
                # finite first: int(nan) or int(inf) would raise before saying what is wrong
                if not np.isfinite(float(c)) or int(c) != c or c < 0:
                    raise ValueError(f"initial count of {name!r} must be a whole number >= 0, "
                                     f"got {c!r}")

    def compile(self, lattice: Lattice) -> CompiledModel:
        """Per-site rates for this lattice (validates first)."""
        regions = lattice.regions
        self.validate(regions)
        names = self.species_names
        n_s, n_g = len(names), len(regions)
        d_region = np.zeros((n_s, n_g))
        for i, s in enumerate(self.species):
            d_region[i, :] = s.diffusion
            for r, v in s.diffusion_in.items():
                d_region[i, regions.index(r)] = v
        diffusion = np.minimum(d_region[:, :, None], d_region[:, None, :])
        for a in range(n_g):
            diffusion[:, a, a] = d_region[:, a]
        for (sp, a, b), value in self.transitions.items():
            diffusion[names.index(sp), regions.index(a), regions.index(b)] = value
        volume_l = lattice.site_volume * 1e3
        n_j = len(self.reactions)
        rate = np.zeros((n_j, n_g))
        reactants = -np.ones((n_j, 2), np.int64)
        change = np.zeros((n_j, n_s), np.int64)
        for j, reaction in enumerate(self.reactions):
            k = reaction.rate
            if reaction.order == 0:
                c = k * AVOGADRO * volume_l
            elif reaction.order == 1:
                c = k
            else:
                c = k / (AVOGADRO * volume_l)
            allowed = np.ones(n_g, bool) if reaction.regions is None else \
                np.isin(np.array(regions), np.array(reaction.regions))
            rate[j] = np.where(allowed, c, 0.0)
            for i, name in enumerate(reaction.reactants):
                reactants[j, i] = names.index(name)
                change[j, names.index(name)] -= 1
            for name in reaction.products:
                change[j, names.index(name)] += 1
        return CompiledModel(species=names, regions=regions, diffusion=diffusion, rate=rate,
                             reactants=reactants, change=change,
                             labels=tuple(r.label() for r in self.reactions))

    def initial_counts(self, lattice: Lattice, n_replicas: int = 1, seed: int = 0) -> np.ndarray:
        """Initial lattice ``(n_replicas, n_species, *shape)`` int64: each species' count
        spread uniformly at random (multinomially) over its sites."""
        self.validate(lattice.regions)
        rng = np.random.default_rng(seed)
        names = self.species_names
        out = np.zeros((n_replicas, len(names)) + lattice.shape, np.int64)
        flat_types = lattice.site_types.ravel()
        for name, value in self.initial.items():
            i = names.index(name)
            parts = value.items() if isinstance(value, Mapping) else [(None, value)]
            for region, count in parts:
                where = (np.ones(lattice.n_sites, bool) if region is None
                         else flat_types == lattice.region_index(region))
                sites = np.flatnonzero(where)
                if sites.size == 0 and count:
                    raise ValueError(f"region {region!r} has no site to hold {name!r}")
                for r in range(n_replicas):
                    chosen = rng.integers(0, sites.size, size=int(count))
                    np.add.at(out[r, i].reshape(-1), sites[chosen], 1)
        return out


def model_from_dict(spec: Mapping[str, Any]) -> RDMEModel:
    """An :class:`RDMEModel` from its YAML/JSON form.

    ``species`` maps a name to a diffusion constant or to
    ``{D: ..., D_in: {region: ...}, initial: n | {region: n}}``; ``reactions`` is a
    list of ``{reaction: 'A + B -> C', rate: ..., regions: [...]}``; ``transitions`` is
    a list of ``{species, from, to, D}``.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a model is a mapping with 'species' and 'reactions', got "
                         f"{type(spec).__name__}")
    unknown = set(spec) - {"species", "reactions", "transitions", "geometry"}
    if unknown:
        raise ValueError(f"unknown model keys {sorted(unknown)}; a model has 'species', "
                         "'reactions', 'transitions' (and 'geometry' in a process config)")
    model = RDMEModel()
    species = spec.get("species") or {}
    if not isinstance(species, Mapping):
        raise ValueError("'species' must map each name to its diffusion constant or settings")
    for name, value in species.items():
        if isinstance(value, Mapping):
            bad = set(value) - {"D", "D_in", "initial"}
            if bad:
                raise ValueError(f"species {name!r}: unknown keys {sorted(bad)} "
                                 "(use D, D_in, initial)")
            model.add_species(str(name), float(value.get("D", 0.0)),
                              initial=value.get("initial"), diffusion_in=value.get("D_in"))
        else:
            model.add_species(str(name), float(value))
    for item in spec.get("reactions") or []:
        if not isinstance(item, Mapping) or "reaction" not in item or "rate" not in item:
            raise ValueError(f"each reaction needs 'reaction' and 'rate', got {item!r}")
        regions = item.get("regions")
        model.add_reaction(str(item["reaction"]), float(item["rate"]),
                           regions=None if regions is None else [str(r) for r in regions],
                           name=str(item.get("name", "")))
    for item in spec.get("transitions") or []:
        try:
            model.set_transition(str(item["species"]), str(item["from"]), str(item["to"]),
                                 float(item["D"]))
        except (KeyError, TypeError) as error:
            raise ValueError(f"each transition needs species, from, to and D, got {item!r}") \
                from error
    return model
