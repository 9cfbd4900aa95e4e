"""ExpressionDataOnly: the black-box E. coli cell's transcriptome, learned from PRECISE data only.

The data-only counterpart of
:class:`~greybox_processes.grn.transcriptome_process.EcoliTranscriptome`: the same output
(``expression``, log2(TPM+1) of PRECISE's 3923 genes in EcoliTranscriptome's order, ``gene``
coordinate of b-numbers), with no regulatory network: a PCA + ridge model
(:mod:`.expression_data`) trained on PRECISE's nutrient samples (wild type, 37 C, pH 7, no
stress; the list is in the weights' metadata) maps what a data-only cell has to a
transcriptome:

* the culture's growth rate (1/h): the live cells' growth rates (1/min, written by the
  black-box metabolism :class:`~.population_blackbox.PopulationDataOnly`) averaged with
  their volumes as weights (bulk RNA-seq and an OD growth rate see the biomass), times 60;
* the carbon source, as the carbon-mole fractions of the medium's glucose (6 C) and lactose
  (12 C, an "other glycolytic" sugar); gluconeogenic substrates are absent from this medium
  (fraction 0). The data-only metabolism does not report per-source uptake, so the medium's
  composition stands for it; an exhausted medium gives all-zero fractions, which no training
  sample has (the model extrapolates linearly);
* the environment's stress inputs (config, held for a run, a tier sets them with overrides:
  ``transcriptome.config.temperature: 42``): ``temperature`` (C), ``pH``, ``osmolarity``
  (Osm/L), ``oxidant`` (uM). They are inputs of the model, but they never vary in the
  training data, so the model has learned weight 0 for each: it predicts no stress response
  at all (logged as a warning when one is set away from its training value). That is what
  a data-only model trained on nutrients can say about a stress, which tier 4 measures.
  A value outside :data:`~greybox_processes.ecoli.stress_mechanisms.RANGES` is an error.

The expression written is the model's prediction at the current inputs (a steady-state map:
no mRNA dynamics is learned). With no live cell the expression is left as it is.
"""
from __future__ import annotations

import logging

import numpy as np

from ..ecoli.stress_mechanisms import check_range
from ..framework.base import GreyboxProcess
from ..framework.ports import array_port
from ..grn.ecoli_expression import reference_expression
from .expression_data import (INPUTS, STRESS_INPUT_NAMES, TRAINING_STRESS, WEIGHTS_NAME,
                              load_weights, predict)

__all__ = ["ExpressionDataOnly", "EXPRESSION_UNITS"]

logger = logging.getLogger(__name__)

EXPRESSION_UNITS = "log2(TPM+1)"
_MIN_PER_H = 60.0
#: carbons per molecule of the medium's sugars (C-mol fractions)
_CARBONS = {"glucose": 6.0, "lactose": 12.0}


class ExpressionDataOnly(GreyboxProcess):
    """Data-only transcriptome (3923 PRECISE genes, log2(TPM+1)) from growth, carbon source and stress inputs.

    Ports:
      alive: 1 where a slot holds a live cell, else 0 (flag)
    """

    #: the config keys a tier may set as stress inputs (tier 4 finds its stress node by them)
    stress_inputs = STRESS_INPUT_NAMES

    config_schema = {
        "capacity": {"_type": "integer", "_default": 64},
        # a path, or the name of a file in neural/weights/
        "weights": {"_type": "string", "_default": WEIGHTS_NAME},
        "temperature": {"_type": "float", "_default": TRAINING_STRESS["temperature"]},  # C
        "pH": {"_type": "float", "_default": TRAINING_STRESS["pH"]},
        "osmolarity": {"_type": "float", "_default": TRAINING_STRESS["osmolarity"]},  # Osm/L
        "oxidant": {"_type": "float", "_default": TRAINING_STRESS["oxidant"]},        # uM
    }

    def __init__(self, config=None, core=None):
        unknown = sorted(set(config or {}) - set(self.config_schema))
        if unknown:
            raise ValueError(f"ExpressionDataOnly config has key(s) {unknown}; it accepts "
                             f"{sorted(self.config_schema)} (stress inputs "
                             f"{list(self.stress_inputs)})")
        super().__init__(config, core)

    def initialize(self, config):
        cfg = self.config
        if int(cfg["capacity"]) < 1:
            raise ValueError(f"ExpressionDataOnly capacity must be >= 1, got {cfg['capacity']}")
        #: b-numbers of the expression vector (EcoliTranscriptome's order)
        self.genes = reference_expression().index.to_numpy(dtype=str)
        self.model, self.metadata = load_weights(cfg["weights"], self.genes)
        self.stress = np.array([check_range(k, cfg[k]) for k in STRESS_INPUT_NAMES])
        learned = set(INPUTS) - set(self.metadata.get("constant_in_training", []))
        for name, value in zip(STRESS_INPUT_NAMES, self.stress):
            if value != TRAINING_STRESS[name] and name not in learned:
                logger.warning("ExpressionDataOnly: %s=%s differs from its training value %s; "
                               "it never varied in the training samples, so the data-only "
                               "model has no response to it (weight 0)", name, value,
                               TRAINING_STRESS[name])

    # -- ports ---------------------------------------------------------------------------
    def _cells(self):
        n = self.config["capacity"]
        return {"alive": array_port((n,)),
                "volume": array_port((n,), "fL"),
                "growth_rate": array_port((n,), "1/min")}

    def inputs(self):
        return {**self._cells(),
                "glucose": {"_type": "float", "_units": "mM"},
                "lactose": {"_type": "float", "_units": "mM"},
                "expression": array_port(self.genes.shape, EXPRESSION_UNITS)}

    def outputs(self):
        return {"expression": array_port(self.genes.shape, EXPRESSION_UNITS)}

    def initial_state(self):
        # the training samples' mean: the prediction before any cell state is read
        return {"expression": np.asarray(self.model["y_mean"], dtype=float).copy()}

    def port_metadata(self):
        return {"expression": {"dims": ("gene",), "coords": {"gene": self.genes},
                               "units": EXPRESSION_UNITS,
                               "long_name": "population transcriptome (PRECISE genes, "
                                            "data-only model)"}}

    # -- model ---------------------------------------------------------------------------
    def features(self, growth_rate_per_h: float, glucose_mM: float, lactose_mM: float):
        """The model's input vector (:data:`~.expression_data.INPUTS` order)."""
        carbon = np.array([max(glucose_mM, 0.0) * _CARBONS["glucose"],
                           max(lactose_mM, 0.0) * _CARBONS["lactose"], 0.0])
        total = carbon.sum()
        fractions = carbon / total if total > 0 else carbon
        return np.concatenate([[growth_rate_per_h], fractions, self.stress])

    def predict(self, growth_rate_per_h: float, glucose_mM: float, lactose_mM: float):
        """(3923,) log2(TPM+1) at a culture growth rate (1/h) and medium (mM); a linear
        extrapolation below 0 is written as 0 (TPM >= 0)."""
        return np.maximum(predict(self.model, self.features(growth_rate_per_h, glucose_mM,
                                                            lactose_mM))[0], 0.0)

    def update(self, state, interval):
        n = self.config["capacity"]
        current = np.asarray(state["expression"], dtype=float)
        if current.shape != self.genes.shape:
            raise ValueError(f"store 'expression' has shape {current.shape}; "
                             f"ExpressionDataOnly writes {self.genes.shape} (PRECISE's genes)")
        cells = {}
        for name in ("alive", "volume", "growth_rate"):
            cells[name] = np.asarray(state[name], dtype=float)
            if cells[name].shape != (n,):
                raise ValueError(f"store {name!r} has shape {cells[name].shape}; "
                                 f"ExpressionDataOnly expects ({n},) (capacity {n})")
        live = cells["alive"] > 0.5
        weight = cells["volume"][live].sum()
        if not live.any() or weight <= 0:
            return {"expression": np.zeros_like(current)}
        growth = float(cells["volume"][live] @ cells["growth_rate"][live]) / weight
        new = self.predict(growth * _MIN_PER_H, float(state["glucose"]), float(state["lactose"]))
        return {"expression": new - current}
