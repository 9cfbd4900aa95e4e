"""The virtual E. coli as a population of separate processes sharing each cell's stores.

Composite (:mod:`.composites`): ``ecoli_population`` (``composites/ecoli_population.yaml``).
"""
from .composites import CELL_STORES, LAC_SPECIES, ecoli_population

__all__ = ["CELL_STORES", "LAC_SPECIES", "ecoli_population"]
