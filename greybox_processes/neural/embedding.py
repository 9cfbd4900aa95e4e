"""Embed(M_t): the mechanistic stores a network may read, as feature vectors.

Each known store has a fixed size and a transform that puts it on a scale a small network
handles (logarithms for concentrations and amounts that span orders of magnitude). The
networks standardise the features with means and standard deviations stored with their
weights. A store name outside :data:`FEATURES` raises ``ValueError`` listing the known ones.
"""
from __future__ import annotations

import numpy as np

from ..metabolism.lac import LAC_VARIABLES
from ..framework.ports import array_port

__all__ = ["FEATURES", "feature_names", "check_stores", "embed", "store_schema"]

_EPS_CONC = 1e-3   # mM: below this an external sugar counts as gone
_EPS_LAC = 1e-9    # mM: lac species floor

#: store -> (size, transform, inverse, port schema)
FEATURES = {
    "concentrations": (2, lambda v: np.log(np.maximum(v, 0.0) + _EPS_CONC),
                       lambda f: np.exp(f) - _EPS_CONC, array_port((2,), "mM")),
    "biomass": (1, lambda v: np.log(np.maximum(v, 1e-12)), np.exp,
                {"_type": "float", "_units": "gDW/L"}),
    "growth_rate": (1, lambda v: np.asarray(v, dtype=float), lambda f: f,
                    {"_type": "float", "_units": "1/h"}),
    "lac": (len(LAC_VARIABLES), lambda v: np.log(np.maximum(v, 0.0) + _EPS_LAC),
            lambda f: np.exp(f) - _EPS_LAC, array_port((len(LAC_VARIABLES),), "mM")),
    "ledger": (2, lambda v: np.asarray(v, dtype=float), lambda f: f, array_port((2,), "mM")),
}


def check_stores(names, what: str = "the network") -> list:
    """The store names, or ValueError naming the unknown ones and the known ones."""
    names = [str(n) for n in names]
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(f"{what} does not know store(s) {unknown}; it can read "
                         f"{sorted(FEATURES)} (change 'inputs' to a subset of these)")
    if not names:
        raise ValueError(f"{what} needs at least one input store; choose from {sorted(FEATURES)}")
    return names


def feature_names(stores) -> list:
    """Names of the feature columns (``lac.A``, ``concentrations.1``, ...)."""
    out = []
    for s in stores:
        size = FEATURES[s][0]
        if s == "lac":
            out += [f"lac.{v}" for v in LAC_VARIABLES]
        else:
            out += [s] if size == 1 else [f"{s}.{i}" for i in range(size)]
    return out


def embed(values: dict, stores) -> np.ndarray:
    """Features of one time point (``values[store]`` arrays/floats) or of a series (leading time axis)."""
    parts = []
    for s in stores:
        size, transform = FEATURES[s][:2]
        v = np.asarray(values[s], dtype=float)
        if size == 1 and (v.ndim == 0 or v.shape[-1] != 1):
            v = v[..., None]
        parts.append(transform(v))
    return np.concatenate(parts, axis=-1)


def store_schema(name: str):
    """The port schema of a known store (shape and units agree with DynamicFBA's ports)."""
    return FEATURES[name][3]
