"""EcoliTranscriptome: the population's transcriptome (bulk RNA-seq, 3923 genes) from its TRN.

A process-bigraph adapter of :class:`~greybox_processes.grn.ecoli_expression.EcoliExpression`
(see there for the model, what is calibrated and what is generic). It reads the activities of
E. coli's transcription regulators (``regulators``: ``{trn.csv name: activity}``, 1 = M9
glucose, 37 C, pH 7, aerobic; a name not in the store is at 1) and writes one expression vector
for the population (``expression``: log2(TPM+1) of PRECISE's 3923 genes, in the order of
:attr:`EcoliTranscriptome.genes`, b-numbers, also the ``gene`` coordinate of the results).

Modes
-----
* ``relax`` (default): each gene's mRNA (TPM) relaxes towards the steady state at the current
  activities at its decay rate ``ln 2 / half_life`` (first order, exact over the interval;
  time in minutes, ``half_life`` default 5 min, Bernstein et al. 2002 PNAS 99:9697);
* ``steady_state``: the expression is the steady state at the current activities.
"""
from __future__ import annotations

import math

import numpy as np

from ..framework.base import GreyboxProcess
from ..framework.ports import array_port
from .ecoli_expression import MRNA_HALF_LIFE_MIN, default_model

__all__ = ["EcoliTranscriptome", "EXPRESSION_UNITS"]

#: units of the expression store (PRECISE's; a log2 fold change is a subtraction)
EXPRESSION_UNITS = "log2(TPM+1)"
_MODES = ("relax", "steady_state")


class EcoliTranscriptome(GreyboxProcess):
    """E. coli population transcriptome (3923 genes, log2(TPM+1)) driven by its TRN's regulator activities."""

    config_schema = {
        "mode": {"_type": "string", "_default": "relax"},
        "regulators": {"_type": "list[string]", "_default": []},
        "half_life": {"_type": "float", "_default": MRNA_HALF_LIFE_MIN},
    }

    def initialize(self, config):
        cfg = self.config
        if cfg["mode"] not in _MODES:
            raise ValueError(f"EcoliTranscriptome mode {cfg['mode']!r} is not one of {_MODES} "
                             "(relax: first-order approach at the mRNA decay rate; "
                             "steady_state: the steady state at each update)")
        half_life = cfg["half_life"]
        if not (isinstance(half_life, (int, float)) and math.isfinite(half_life)
                and half_life > 0):
            raise ValueError(f"EcoliTranscriptome half_life must be > 0 minutes, got "
                             f"{half_life!r}")
        self.model = default_model()
        valid = set(self.model.regulators)
        read = list(cfg["regulators"]) or list(self.model.regulators)
        unknown = [r for r in read if r not in valid]
        if unknown:  # names the close matches
            self.model.node_activity({unknown[0]: 1.0})
        self.read_regulators = tuple(read)
        #: b-numbers of the expression vector (PRECISE's order)
        self.genes = self.model.genes.copy()
        self._levels = None  # this instance's last solution: the next solve's warm start

    def inputs(self):
        return {"regulators": {"_type": "map[float]"},
                "expression": array_port(self.genes.shape, EXPRESSION_UNITS)}

    def outputs(self):
        return {"expression": array_port(self.genes.shape, EXPRESSION_UNITS)}

    def initial_state(self):
        return {"expression": self.model.reference.copy()}

    def port_metadata(self):
        return {"expression": {"dims": ("gene",), "coords": {"gene": self.genes},
                               "units": EXPRESSION_UNITS,
                               "long_name": "population transcriptome (PRECISE genes)"}}

    def activities(self, regulators) -> dict:
        """The activities this process reads from the store (others are ignored: at 1)."""
        store = dict(regulators or {})
        return {name: store[name] for name in self.read_regulators if name in store}

    def update(self, state, interval):
        current = np.asarray(state["expression"], dtype=np.float64)
        if current.shape != self.genes.shape:
            raise ValueError(f"store 'expression' has shape {current.shape}, EcoliTranscriptome "
                             f"expects {self.genes.shape} (PRECISE's genes)")
        target, self._levels = self.model.solve(self.activities(state.get("regulators")),
                                                self._levels)
        if self.config["mode"] == "steady_state":
            new = target
        else:
            new = self.model.relax(current, target, interval, self.config["half_life"])
        return {"expression": new - current}
