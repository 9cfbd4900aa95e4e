"""The virtual E. coli as a population of separate processes sharing each cell's stores.

Composites: ``ecoli_population`` (:mod:`.composites`, ``composites/ecoli_population.yaml``)
and the four cells of WCM-Hard built on it, ``ecoli_glass_box``, ``ecoli_grey_box``,
``ecoli_mechanistic_only``, ``ecoli_black_box`` (:mod:`.cells`,
``composites/ecoli_*.yaml``; imported on first use, they need torch).
"""
from .composites import CELL_BUILDERS, CELL_STORES, LAC_SPECIES, ecoli_population

__all__ = ["CELL_STORES", "LAC_SPECIES", "ecoli_population", *CELL_BUILDERS]


def __getattr__(name):
    if name in CELL_BUILDERS:
        from . import cells

        return getattr(cells, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
