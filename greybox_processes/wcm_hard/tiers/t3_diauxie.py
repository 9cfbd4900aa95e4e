"""Tier 3, diauxic shift: the glucose-lactose lag within 10% of Julou et al. 2020 (MG1655, 41 min).

Pure score: :func:`lag_error` = ``|predicted - observed| / observed``; pass when <= 0.10.

Runs: the composite as it is (glucose + lactose) and the same composite with the lac operon
pre-induced (``<dfba>.config.iptg: true``), both for ``time`` hours; the lag is measured as the
paper does (:func:`greybox_processes.metabolism.diauxic_lag`: the extra delay of the culture
against the pre-induced one between the end of glucose and growth on lactose). A culture that
does not reach 90% of the pre-induced culture's final biomass has not recovered: its lag is
unbounded (score ``inf``), not the number the delay formula would give.

Population cells (a ``PopulationMetabolism``): the same definition on the cell's own
population, at 0.02% and 0.2% lactose, with single-cell lags as evidence
(:mod:`.t3_population`; the population options set its cells and minutes).
"""
from __future__ import annotations

import math

from .base import FAIL, PASS, TierStep, dfba_node
from .population import population_cell
from .t3_population import population_diauxie

__all__ = ["lag_error", "DiauxieTier", "TOLERANCE"]

TOLERANCE = 0.10
#: the culture has recovered on lactose when its final biomass reaches this share of the
#: pre-induced culture's (otherwise the lag is unbounded within the run)
RECOVERY = 0.9


def lag_error(predicted_min: float, observed_min: float) -> float:
    """Relative error of a lag; ``inf`` for a non-finite prediction."""
    if not (math.isfinite(observed_min) and observed_min > 0):
        raise ValueError(f"observed lag must be positive, got {observed_min!r}")
    if not math.isfinite(predicted_min):
        return math.inf
    return abs(float(predicted_min) - float(observed_min)) / float(observed_min)


class DiauxieTier(TierStep):
    """WCM-Hard tier 3: diauxic lag (glucose to lactose) within 10% of Julou et al. 2020."""

    tier = 3
    title = "diauxic shift"
    criterion = f"lag within {TOLERANCE:.0%} of 41 min (Julou et al. 2020, MG1655)"
    config_schema = {**TierStep.config_schema,
                     "time": {"_type": "float", "_default": 9.0},
                     "strain": {"_type": "string", "_default": "MG1655"},
                     "population_minutes": {"_type": "float", "_default": 420.0},
                     "quick_population_minutes": {"_type": "float", "_default": 400.0},
                     "population_cells": {"_type": "integer", "_default": 8},
                     "quick_population_cells": {"_type": "integer", "_default": 1}}
    tolerance = TOLERANCE
    lag_error = staticmethod(lag_error)

    def initialize(self, config):
        super().initialize(config)
        if not self.config["time"] > 0:
            raise ValueError(f"time must be positive (hours), got {self.config['time']}")

    def runs(self):
        """``(experiment, pre-induced reference)`` Datasets of the spec (in the tier's
        engine)."""
        spec = self.config["spec"]
        path, node = dfba_node(spec, self.spec_parameters())
        key = ".".join(map(str, path)) + ".config.iptg"
        experiment = self.run_composite(spec, self.config["time"])
        reference = self.run_composite(spec, self.config["time"], overrides={key: True})
        return experiment, reference

    def _evaluate(self, client):
        from ...metabolism.lag import diauxic_lag
        from .. import refdata

        lags = refdata.diauxic_lags()
        population = population_cell(self.config["spec"], self.spec_parameters())
        if population is not None:
            strain = self.config["strain"]
            return population_diauxie(self, population,
                                      float(lags.loc[strain, "diauxic_lag_min"]),
                                      float(lags.loc[strain, "lag_err_min"]))
        path, node = dfba_node(self.config["spec"], self.spec_parameters())
        config = (node or {}).get("config") or {}
        if node is None or len(config.get("exchanges", [])) < 2 or "EX_lcts_e" not in \
                config.get("exchanges", []):
            return self.not_applicable("the composite has no dynamic-FBA glucose-lactose "
                                       "culture with an iptg switch (tracking EX_glc__D_e and "
                                       "EX_lcts_e): the pre-induced reference culture of the "
                                       "Julou measurement cannot be run")
        observed = float(lags.loc[self.config["strain"], "diauxic_lag_min"])
        experiment, reference = self.runs()
        final_e = float(experiment["env.biomass"].values[-1])
        final_r = float(reference["env.biomass"].values[-1])
        if final_e < RECOVERY * final_r:
            return self.make(FAIL, math.inf, evidence={
                "observed_lag_min": observed, "final_biomass": final_e,
                "final_biomass_pre_induced": final_r},
                notes=[f"the culture does not recover on lactose within {self.config['time']} h "
                       f"(final biomass {final_e:.3g} < {RECOVERY:.0%} of the pre-induced "
                       f"culture's {final_r:.3g} gDW/L): the lag is unbounded"],
                figures=self._plot(experiment, reference, None))
        try:
            lag = diauxic_lag(experiment, reference)
        except ValueError as error:
            return self.make(FAIL, math.inf, evidence={"observed_lag_min": observed},
                             notes=[f"no lag could be measured: {error}"])
        error = lag_error(lag.lag_min, observed)
        evidence = {"predicted_lag_min": lag.lag_min, "observed_lag_min": observed,
                    "observed_err_min": float(lags.loc[self.config["strain"], "lag_err_min"]),
                    "delay_start_min": lag.delay_start_min,
                    "delay_plateau_min": lag.delay_plateau_min,
                    "growth_arrest_min": lag.arrest_min, "relative_error": error}
        figures = self._plot(experiment, reference, lag)
        return self.make(PASS if error <= TOLERANCE else FAIL, error, evidence=evidence,
                         figures=figures,
                         notes=["score = relative lag error (lower is better)"])

    def _plot(self, experiment, reference, lag):
        def draw(ax):
            ax.semilogy(experiment.time, experiment["env.biomass"], label="glucose + lactose")
            ax.semilogy(reference.time, reference["env.biomass"], "--",
                        label="+ IPTG (pre-induced)")
            ax.set_xlabel("time (h)")
            ax.set_ylabel("biomass (gDW/L)")
            shown = "no recovery" if lag is None else f"lag {lag.lag_min:.0f} min"
            ax.set_title(f"Tier 3: {shown} (Julou 2020: 41 min)")
            ax.legend(fontsize=7)

        return self.plot("growth_curves", draw)
