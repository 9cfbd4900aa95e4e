"""Grey box (seed 000, section 6): a torch latent controller on mechanistic processes.

Public API
----------
* :class:`NeuralLatentController` - the Transformer latent state that writes regulation.
* :class:`RegulatedDynamicFBA` - DynamicFBA whose lac transcription is read from a store.
* :class:`DataOnlyCell` - the data-only (black-box) baseline.
* :class:`ExpressionDataOnly` - the black box's transcriptome, learned from PRECISE's
  nutrient samples (:func:`train_expression`, ``greybox train-black-box-expression``).
* :class:`PopulationController`, :class:`PopulationDataOnly` - the same networks acting on
  every cell of a population (the E. coli cells of ``composites/ecoli_*.yaml``).
* :func:`learned_offset` - the grey box's lac bias, learned from Julou et al.'s measured
  lags (:mod:`~greybox_processes.neural.lac_lag_learning`, ``greybox train-grey-box-lags``).
* builders :func:`glass_box_cell`, :func:`grey_box_cell`, :func:`mechanistic_only_cell`,
  :func:`black_box_cell`; :func:`mass_drift` (C, N balance); :func:`train`.
"""
from .blackbox import DataOnlyCell
from .composites import (black_box_cell, cell, glass_box_cell, grey_box_cell,
                         mechanistic_only_cell)
from .conservation import element_totals, mass_drift
from .controller import NeuralLatentController
from .expression_blackbox import ExpressionDataOnly
from .expression_data import train_expression
from .lac_lag_learning import learned_offset
from .population_blackbox import PopulationDataOnly
from .population_controller import PopulationController
from .regulated import RegulatedDynamicFBA


def train(*args, **kwargs):
    """Fit the controller and the black box (see :func:`greybox_processes.neural.train.train`)."""
    from .train import train as _train

    return _train(*args, **kwargs)


def register(core):
    """Register the grey-box processes on a core (discovery does this when installed)."""
    for cls in (NeuralLatentController, RegulatedDynamicFBA, DataOnlyCell, PopulationController,
                PopulationDataOnly, ExpressionDataOnly):
        core.register_link(cls.__name__, cls)
    return core


__all__ = ["NeuralLatentController", "RegulatedDynamicFBA", "DataOnlyCell", "PopulationController",
           "PopulationDataOnly", "ExpressionDataOnly", "train_expression", "learned_offset", "glass_box_cell",
           "grey_box_cell", "mechanistic_only_cell", "black_box_cell", "cell", "mass_drift",
           "element_totals", "train", "register"]
