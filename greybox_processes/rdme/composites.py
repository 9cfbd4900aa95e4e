"""Python builders of the RDME composites (the same documents as the YAML specs).

``rdme_bimolecular`` is Lattice Microbes' bimolecular test B1 (``A + B <-> C``
in a 1 um^3 periodic box, 1000 A and 1000 B, D = 1 um^2/s, kf = 1.07e5 /M/s,
kr = 0.351 /s); ``composites/rdme_bimolecular.yaml`` is the same document.
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["rdme_bimolecular", "b1_model"]


def b1_model(size: int = 32) -> dict:
    """The B1 model (geometry, species, reactions) on a ``size^3`` lattice."""
    return {
        "geometry": {"kind": "box", "shape": [size, size, size], "extent": 1.0e-6,
                     "periodic": True},
        "species": {"A": {"D": 1.0e-12, "initial": 1000},
                    "B": {"D": 1.0e-12, "initial": 1000},
                    "C": {"D": 1.0e-12}},
        "reactions": [{"reaction": "A + B -> C", "rate": 1.07e5},
                      {"reaction": "C -> A + B", "rate": 0.351}],
    }


def rdme_bimolecular(*, size: int = 32, n_replicas: int = 1, splitting: str = "strang",
                     dt: float = 0.0, interval: float = 0.5, seed: int = 0,
                     method: str = "auto", rdme_address: str = "local:RDME",
                     rdme_config: Mapping[str, Any] | None = None) -> dict:
    """B1 on a ``size^3`` lattice; store ``lattice/region_counts`` (replica, region, species).

    Parameters
    ----------
    size : lattice sites per axis (32 and 64 are Lattice Microbes' sizes).
    n_replicas : independent lattices simulated together (a batch).
    splitting : 'strang' or 'lie'.
    dt : time step in s; 0 picks the largest with hop probability 1/4 per direction
        that divides the interval.
    interval : how often (s) the process writes the region counts.
    seed : random seed (the same seed gives the same trajectory in both engines).
    method : 'auto' (B1 is dilute: the particle form), 'particles' or 'lattice'
        (the same RDME; see :func:`greybox_processes.rdme.rdme`).
    """
    config = {"model": b1_model(size), "n_replicas": n_replicas, "splitting": splitting,
              "dt": dt, "seed": seed, "method": method}
    config.update(rdme_config or {})
    return {
        "state": {
            "lattice": {},
            "rdme": {
                "_type": "process",
                "address": rdme_address,
                "config": config,
                "interval": interval,
                "inputs": {"region_counts": ["lattice", "region_counts"]},
                "outputs": {"region_counts": ["lattice", "region_counts"]},
            },
        }
    }
