"""Tissue mechanism (NEXUS): cells with forces, cycle and death; chemical fields; exchange.

Kernel (:mod:`.kernel`, built from :mod:`.forces`, :mod:`.cycle` and :mod:`.fields`):
``TissueParams.create(...)``, ``make_tissue(params) -> (init_fn, step_fn)``, ``advance``,
``advance_checked`` (grows a full capacity), ``check_errors``. Processes
(:mod:`.process`): ``Tissue`` and ``Fields``; the ``Inheritance`` step (:mod:`.inheritance`)
partitions other processes' per-cell stores (a ``PopulationGRN``'s expression) at the
Tissue's divisions. Composites (:mod:`.composites`):
``tissue(dim=3|2)`` (``composites/tissue.yaml``, ``tissue_2d.yaml``),
``dephasing_population`` (``dephasing_population.yaml``, WCM-Hard tier 6) and
``fields_pulse``. Interventions are generic:
:mod:`greybox_processes.framework.interventions`. Plots: :mod:`.plot`; gradient
fits: :mod:`.fit`; cell-size data and the adder population: :mod:`.cell_size`.
"""
from .kernel import (TissueParams, TissueState, advance, advance_checked, check_errors,
                     grow_capacity, make_tissue, n_alive, place_cells, total_mass)

__all__ = ["TissueParams", "TissueState", "advance", "advance_checked", "check_errors",
           "grow_capacity", "make_tissue", "n_alive", "place_cells", "total_mass"]
