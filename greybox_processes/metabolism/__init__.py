"""Metabolism: dynamic FBA (cobra) with an ETFL-style enzyme/ribosome layer, lac regulation,
knockouts and Dask essentiality screens.

Public API
----------
* :class:`DynamicFBA` - the process (registered as ``DynamicFBA``); time in hours.
* :func:`load_model`, :func:`add_lactose_pathway` - bundled/SBML/JSON models.
* :func:`essentiality_screen`, :func:`score_essentiality`, :func:`reference_essentiality`.
* :func:`couple_translation_to_trna` - protein made from charged tRNAs (:mod:`.translation`,
  the screen's ``method='etfl'``).
* :func:`diauxic_lag`, :func:`run_diauxie_lag` - the lag as Julou et al. 2020 measure it.
* :class:`EnzymeSector`, :func:`proteome_shares` - every metabolic enzyme as state
  (``enzymes: all``, :mod:`.enzymes`).
* :class:`DrugCell`, :func:`pair_isobole` - antibiotic action on the cell's targets, Loewe
  isoboles (:mod:`.drugs`).
* :mod:`.errors` - typed errors (:class:`InfeasibleError`, ...).
"""
from .composites import diauxie
from .dfba import STATUS, DynamicFBA, apply_knockouts
from .drugs import DrugCell, pair_isobole
from .enzymes import EnzymeSector, proteome_shares
from .lag import DiauxicLag, diauxic_lag, reference_lags, run_diauxie_lag
from .errors import (InfeasibleError, InvalidConcentrationError, MetabolismError, ModelLoadError,
                     UnknownExchangeError, UnknownGeneError)
from .expression import DEFAULT_KCAT, ExpressionLayer, KcatTable
from .media import MEDIA, apply_medium
from .models import BUNDLED, add_lactose_pathway, load_model
from .population_process import PopulationMetabolism
from .screen import essentiality_screen
from .translation import couple_translation_to_trna
from .scoring import cross_validated_f1, reference_essentiality, score_essentiality
from .uptake import DEFAULT_KINETICS, UptakeKinetics

__all__ = [
    "DynamicFBA", "STATUS", "apply_knockouts", "DrugCell", "pair_isobole", "diauxie",
    "PopulationMetabolism",
    "EnzymeSector", "proteome_shares",
    "DiauxicLag", "diauxic_lag",
    "reference_lags", "run_diauxie_lag", "InfeasibleError", "InvalidConcentrationError",
    "MetabolismError", "ModelLoadError", "UnknownExchangeError", "UnknownGeneError",
    "DEFAULT_KCAT", "ExpressionLayer", "KcatTable", "MEDIA", "apply_medium", "BUNDLED",
    "add_lactose_pathway", "load_model", "essentiality_screen", "couple_translation_to_trna",
    "cross_validated_f1",
    "reference_essentiality", "score_essentiality", "DEFAULT_KINETICS", "UptakeKinetics",
]
