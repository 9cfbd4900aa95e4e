"""Cell cycle: exponential growth and division by a mechanistic adder (Si et al. 2019).

Kernel (:mod:`.kernel`): ``CellCycleParams.create(...)``, ``make_cell_cycle(params) ->
(init_fn, step_fn)``, ``expected_added_volume``, ``added_volume_cv``, ``check_errors``.
Process (:mod:`.process`): ``CellCycle``, which raises the ``divide`` flag that the
framework's :class:`~greybox_processes.framework.population.Division` step reads.
Composite (:mod:`.composites`): ``cell_cycle_population`` (``composites/cell_cycle_population.yaml``).
"""
from .kernel import (CellCycleParams, CellCycleState, added_volume_cv, check_errors,
                     expected_added_volume, make_cell_cycle)

__all__ = ["CellCycleParams", "CellCycleState", "added_volume_cv", "check_errors",
           "expected_added_volume", "make_cell_cycle"]
