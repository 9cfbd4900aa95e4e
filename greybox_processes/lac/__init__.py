"""Stochastic lac operon per cell: Yildirim-Mackey kinetics as molecule counts.

Kernel (:mod:`.kernel`): ``LacKinetics.create(...)`` (``leak``: YM's mean-field leak or the
single-molecule one; ``lacy_turnover``; ``counts``/``scales``: molecules per YM molecule of
mRNA, LacZ and LacY, :mod:`.scales`), ``make_lac_operon(kinetics) -> (init_fn, step_fn)``,
:data:`SPECIES`, :data:`REACTIONS`, ``check_errors``; its network (:mod:`.network`), random
variates and leap (:mod:`.sampling`) and exact SSA loops (:mod:`.ssa`).
Process (:mod:`.process`): ``LacOperon``, on the ``cells/lac`` store of a population
(``regulation: store``: the lac induction read from ``cells/regulation``).
"""
from .kernel import (DEFAULT_LEAK_RATE, LACY_TURNOVERS, LEAKS, REACTIONS, REPORTED_SPECIES,
                     SPECIES, LacKinetics, LacState, check_errors, concentrations_to_counts,
                     counts_to_concentrations, make_lac_operon, model_induction,
                     molecules_per_mM)

__all__ = ["DEFAULT_LEAK_RATE", "LACY_TURNOVERS", "LEAKS", "REACTIONS", "REPORTED_SPECIES",
           "SPECIES", "LacKinetics", "LacState", "check_errors", "concentrations_to_counts",
           "counts_to_concentrations", "make_lac_operon", "model_induction", "molecules_per_mM"]
