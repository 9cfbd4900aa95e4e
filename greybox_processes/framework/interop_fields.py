"""Couple a well-mixed greybox culture to one bin of a spatio-flux-style 2D field.

Other Vivarium ecosystem packages (spatio-flux's ``DiffusionAdvection`` and
``SpatialDFBA``) keep a medium as a *fields* store: a map from a species name to a
2D array of concentrations (mM) of shape ``(ny, nx)`` (rows are y, columns x). Greybox
processes such as :class:`~greybox_processes.metabolism.dfba.DynamicFBA` keep their
medium as one well-mixed array ``concentrations`` (mM, one entry per tracked exchange).
A store cannot be both, so :class:`FieldPatch` is the translation between the two: it
places the culture in one bin of the field, whose volume is the culture's volume (so
the culture's biomass in gDW/L is the biomass in that bin), and after each interval

1. takes what the culture removed from its well-mixed medium since the last call,
   ``taken = synced - concentrations`` (mM of the bin), out of the field's bin;
2. gives the culture the bin's concentration after that, which also carries what the
   field's own processes (diffusion, advection) brought to or took from the bin.

``synced`` is a store (not instance state) holding the bin concentration handed to the
culture at the last call, so a checkpoint restores the coupling with the rest. Every
mmol the culture takes leaves the field: the field's total plus the culture's total
uptake is conserved to rounding.

Units: concentrations in mM (the same unit in both packages, so nothing is scaled);
the species order of ``concentrations`` is the order of ``species``.
"""
from __future__ import annotations

import numpy as np

from ..errors import SimulationError
from .base import GreyboxStep
from .ports import array_port

__all__ = ["FieldPatch"]

#: A bin may go this far below zero (mM) by rounding before it is an error.
_NEGATIVE_TOLERANCE = 1e-9


class FieldPatch(GreyboxStep):
    """Exchanges a well-mixed culture's medium (mM) with one bin of a 2D field map (mM).

    Ports: ``fields`` (read and written: the field map, ``{species: (ny, nx) array}``
    in mM; only the bin ``bin`` of the species in ``species`` changes),
    ``concentrations`` (read and written: the culture's medium, mM, one entry per
    species), ``synced`` (read and written: the bin concentrations the culture was
    last given, mM; it starts at ``initial``, which must be the culture's initial
    medium) and ``taken_total`` (written: what the culture has taken from the field since
    t=0, mM of the bin's volume).
    """

    config_schema = {
        # field names, in the order of the culture's concentrations array
        "species": {"_type": "list[string]", "_default": ["glucose"]},
        # the field arrays' shape (rows = y bins, columns = x bins)
        "field_shape": {"_type": "list[integer]", "_default": [1, 1]},
        # (row, column) of the bin the culture occupies
        "bin": {"_type": "list[integer]", "_default": [0, 0]},
        # the culture's initial medium (mM), one per species: what `synced` starts at
        "initial": {"_type": "list[float]", "_default": []},
    }

    def initialize(self, config):
        cfg = self.config
        self.species = [str(s) for s in cfg["species"]]
        if not self.species or len(set(self.species)) != len(self.species):
            raise ValueError(f"species must be distinct field names, got {self.species}")
        shape = tuple(int(n) for n in cfg["field_shape"])
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"field_shape must be [rows, columns] (ny, nx) >= 1, got "
                             f"{list(cfg['field_shape'])}")
        self.field_shape = shape
        where = tuple(int(i) for i in cfg["bin"])
        if len(where) != 2 or not all(0 <= i < n for i, n in zip(where, shape)):
            raise ValueError(f"bin must be [row, column] inside field_shape {list(shape)}, got "
                             f"{list(cfg['bin'])}")
        self.bin = where
        initial = np.asarray(cfg["initial"], dtype=float)
        if initial.shape != (len(self.species),) or not np.all(np.isfinite(initial)) \
                or np.any(initial < 0):
            raise ValueError(f"initial must give one concentration >= 0 (mM) per species "
                             f"{self.species} (the culture's initial medium), got "
                             f"{list(cfg['initial'])}")
        self._initial = initial

    def _ports(self):
        n = len(self.species)
        return {"fields": {"_type": "map", "_value": array_port(self.field_shape, "mM")},
                "concentrations": array_port((n,), "mM"),
                "synced": array_port((n,), "mM")}

    def inputs(self):
        return self._ports()

    def outputs(self):
        # taken_total is written, never read: that orders the emitter after this step, so
        # an emitted row never holds a culture and a field that have not been exchanged yet
        return {**self._ports(), "taken_total": array_port((len(self.species),), "mM")}

    def initial_state(self):
        return {"synced": self._initial.copy(), "taken_total": np.zeros(len(self.species))}

    def port_metadata(self):
        label = {"dims": ("species",), "coords": {"species": list(self.species)}, "units": "mM"}
        return {"fields": {"units": "mM", "long_name": "field concentrations per bin"},
                "concentrations": {**label, "long_name": "the culture's well-mixed medium"},
                "synced": {**label, "long_name": "bin concentration last given to the culture"},
                "taken_total": {**label, "long_name": "taken from the field by the culture "
                                "since t=0 (per bin volume)"}}

    def update(self, state):
        fields = state["fields"]
        missing = [s for s in self.species if s not in fields]
        if missing:
            raise SimulationError(f"FieldPatch: the fields store has no {missing} (it has "
                                  f"{sorted(fields)}); add them to the fields or to species")
        here = np.array([float(np.asarray(fields[s])[self.bin]) for s in self.species])
        taken = np.asarray(state["synced"], float) - np.asarray(state["concentrations"], float)
        after = here - taken
        if np.any(after < -_NEGATIVE_TOLERANCE):
            short = {s: float(a) for s, a in zip(self.species, after) if a < -_NEGATIVE_TOLERANCE}
            raise SimulationError(f"FieldPatch: the culture took more than bin {list(self.bin)} "
                                  f"held (bin would be {short} mM): the field's other processes "
                                  "emptied the bin in the same interval; shorten the interval")
        after = np.maximum(after, 0.0)
        field_delta = {}
        for s, amount in zip(self.species, taken):
            delta = np.zeros(self.field_shape)
            delta[self.bin] = -amount
            field_delta[s] = delta
        return {"fields": field_delta,
                "concentrations": after - np.asarray(state["concentrations"], float),
                "synced": after - np.asarray(state["synced"], float),
                "taken_total": taken}
