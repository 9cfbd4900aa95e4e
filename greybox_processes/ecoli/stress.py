"""RegulatorActivity: the activities of E. coli's transcription regulators for a population.

Reads the environment's stress inputs (its config: ``temperature`` C, ``pH``, ``osmolarity``
Osm/L, ``oxidant`` uM of a redox-cycling drug such as paraquat; the defaults are the
reference, M9 glucose at 37 C) and the live cells' mechanistic state (``alive``,
``growth_rate`` 1/min, ``exchange_rates`` mmol/gDW/h, ``lac`` counts and ``volume`` fL), and
writes ``regulators`` (``{trn.csv regulator name: activity}``, 1 = the reference), the input
of :class:`~greybox_processes.grn.transcriptome_process.EcoliTranscriptome`. Each mechanism is
a pure function of :mod:`.stress_mechanisms` (equations, units and citations there):

==========  ====================  =====================================================
mechanism   reads                 sets
==========  ====================  =====================================================
heat        ``temperature``       ``rpoH`` (DnaK titration by unfolded proteins)
acid        ``pH``                ``evgA``, ``phoP``, ``cadC``, ``gadE``, ``gadX``, ``gadW``
osmotic     ``osmolarity``        ``ompR`` (EnvZ/OmpR)
oxidant     ``oxidant``           ``soxR`` (SoxR oxidation)
crp         ``exchange_rates``    ``crp`` (PTS EIIA-Glc~P, cAMP), mean over live cells
ppgpp       ``growth_rate``       ``rpoS`` up, ``fis`` down (no ppGpp node in trn.csv)
lac         ``lac``, ``volume``   ``lacI`` (free of allolactose), mean over live cells
==========  ====================  =====================================================

The stresses are config, not a store: the environment is held constant for a run, and a
tier sets it with overrides (``stress.config.temperature: 42``). The population shares one
transcriptome, so the cell mechanisms average over the live cells (no live cell: the
reference). ``mechanisms`` lists those that act (default all). A stress input that no
mechanism reads is an error: a config key this process does not know (ValueError naming it
and the accepted ones) or a stress away from the reference whose mechanism is switched off.

Example (YAML)::

    stress:
      _type: process
      address: local:RegulatorActivity
      config: {capacity: 64, temperature: 42.0, lac_species: [mrna, lacZ, lacY, allolactose]}
      interval: 1.0
      inputs: {alive: [cells, alive], growth_rate: [cells, growth_rate],
               exchange_rates: [cells, exchange_rates], lac: [cells, lac],
               volume: [cells, volume], regulators: [regulators]}
      outputs: {regulators: [regulators]}
"""
from __future__ import annotations

import logging

import numpy as np

from ..framework.base import GreyboxProcess
from ..framework.ports import array_port
from ..lac.kernel import molecules_per_mM
from . import stress_mechanisms as mech

__all__ = ["RegulatorActivity", "MECHANISMS", "STRESS_INPUTS", "STRESS_MECHANISM"]

logger = logging.getLogger(__name__)

#: every mechanism, in the order they are applied (activities of one regulator multiply)
MECHANISMS = ("heat", "acid", "osmotic", "oxidant", "crp", "ppgpp", "lac")
#: the environment's stress inputs (config keys) and the mechanism that reads each
STRESS_MECHANISM = {"temperature": "heat", "pH": "acid", "osmolarity": "osmotic",
                    "oxidant": "oxidant"}
STRESS_INPUTS = tuple(STRESS_MECHANISM)
#: column of the glucose exchange in the metabolism's exchange_rates (RATE_COLUMNS[0])
_GLUCOSE_COLUMN = 0


class RegulatorActivity(GreyboxProcess):
    """Activities of E. coli's transcription regulators from stress inputs and the cells' state.

    Ports (inputs, per-cell arrays of ``capacity`` rows; see the module docstring):

    alive: live slot, 1, or free slot, 0 (flag)
    growth_rate: growth rate of each cell (1/min)
    exchange_rates: glucose, lactose, C and N exchange of each cell (mmol/gDW/h)
    lac: lac operon molecules of each cell, ``lac_species`` order (count)
    volume: cell volume (fL)
    regulators: {trn.csv regulator: activity}, 1 = the reference (also the output)
    """

    #: the config keys that are stress inputs of the environment (WCM-Hard tier 4 finds the
    #: stress node of a composite by this attribute and sets these keys per stress)
    stress_inputs = STRESS_INPUTS

    config_schema = {
        "capacity": {"_type": "integer", "_default": 64},
        # the environment's stresses (defaults: the reference, M9 glucose at 37 C)
        "temperature": {"_type": "float", "_default": mech.REFERENCE["temperature"]},  # C
        "pH": {"_type": "float", "_default": mech.REFERENCE["pH"]},
        "osmolarity": {"_type": "float", "_default": mech.REFERENCE["osmolarity"]},   # Osm/L
        "oxidant": {"_type": "float", "_default": mech.REFERENCE["oxidant"]},         # uM
        # mechanisms that act (default: all of MECHANISMS)
        "mechanisms": {"_type": "list[string]", "_default": list(MECHANISMS)},
        # heat: DnaK is a sigma-32 product (El-Samad et al. 2005 feedback)
        "chaperone_feedback": {"_type": "boolean", "_default": True},
        # the lac store's species order (the lac process's SPECIES); allolactose is read
        "lac_species": {"_type": "list[string]",
                        "_default": ["mrna", "lacZ", "lacY", "allolactose", "lactose_in",
                                     "mrna_nascent", "lacZ_nascent", "lacY_nascent"]},
        "reference_glucose_uptake": {"_type": "float",
                                     "_default": mech.REFERENCE_GLUCOSE_UPTAKE},  # mmol/gDW/h
        "reference_growth_rate": {"_type": "float",
                                  "_default": mech.REFERENCE_GROWTH_RATE},        # 1/min
    }

    def __init__(self, config=None, core=None):
        unknown = sorted(set(config or {}) - set(self.config_schema))
        if unknown:
            raise ValueError(f"RegulatorActivity config has key(s) {unknown} that no mechanism "
                             f"reads; the stress inputs are {list(STRESS_INPUTS)} and the "
                             f"accepted keys {sorted(self.config_schema)}")
        super().__init__(config, core)

    def initialize(self, config):
        cfg = self.config
        bad = [m for m in cfg["mechanisms"] if m not in MECHANISMS]
        if bad:
            raise ValueError(f"RegulatorActivity mechanisms {bad} are unknown; choose from "
                             f"{list(MECHANISMS)}")
        self.active = tuple(m for m in MECHANISMS if m in cfg["mechanisms"])
        for name, mechanism in STRESS_MECHANISM.items():
            mech.check_range(name, cfg[name])
            if cfg[name] != mech.REFERENCE[name] and mechanism not in self.active:
                raise ValueError(f"stress input {name}={cfg[name]} is set but its mechanism "
                                 f"{mechanism!r} is not in mechanisms {list(self.active)}: no "
                                 f"mechanism would read it. Add {mechanism!r} or set {name} "
                                 f"back to {mech.REFERENCE[name]}")
        if "allolactose" not in cfg["lac_species"]:
            raise ValueError(f"lac_species {cfg['lac_species']} has no 'allolactose'; give "
                             "the lac store's species order (the lac process's SPECIES)")
        self._allolactose = list(cfg["lac_species"]).index("allolactose")
        # the environment is constant over a run: its activities are computed once
        self.environment = self.stress_activities()

    # ports -----------------------------------------------------------------------------
    def inputs(self):
        n = self.config["capacity"]
        return {"alive": array_port((n,)),
                "growth_rate": array_port((n,), "1/min"),
                "exchange_rates": array_port((n, 4), "mmol/gDW/h"),
                "lac": array_port((n, len(self.config["lac_species"]))),
                "volume": array_port((n,), "fL"),
                "regulators": {"_type": "map[float]"}}

    def outputs(self):
        return {"regulators": {"_type": "map[float]"}}

    # activities ------------------------------------------------------------------------
    def stress_activities(self) -> dict:
        """Activities set by the environment (the active stress mechanisms only)."""
        cfg = self.config
        parts = []
        if "heat" in self.active:
            parts.append(mech.heat_shock(cfg["temperature"],
                                         chaperone_feedback=cfg["chaperone_feedback"]))
        if "acid" in self.active:
            parts.append(mech.acid_sensors(cfg["pH"]))
        if "osmotic" in self.active:
            parts.append(mech.osmotic(cfg["osmolarity"]))
        if "oxidant" in self.active:
            parts.append(mech.superoxide(cfg["oxidant"]))
        return _combine(parts)

    def cell_activities(self, state) -> dict:
        """Activities set by the live cells' state (population means; reference if none)."""
        cfg = self.config
        alive = np.asarray(state["alive"], dtype=float) > 0.5
        if not alive.any():
            logger.debug("RegulatorActivity: no live cell, cell mechanisms at the reference")
            return {}
        parts = []
        if "crp" in self.active:
            rates = np.asarray(state["exchange_rates"], dtype=float)[alive, _GLUCOSE_COLUMN]
            uptake = float(np.mean(np.maximum(-rates, 0.0)))
            parts.append(mech.crp_camp(uptake, reference=cfg["reference_glucose_uptake"]))
        if "ppgpp" in self.active:
            mu = float(np.mean(np.asarray(state["growth_rate"], dtype=float)[alive]))
            parts.append(mech.growth_ppgpp(mu, reference=cfg["reference_growth_rate"]))
        if "lac" in self.active:
            counts = np.asarray(state["lac"], dtype=float)[alive, self._allolactose]
            volume = np.asarray(state["volume"], dtype=float)[alive]
            free = [mech.lac_repressor(c / molecules_per_mM(v))["lacI"]
                    for c, v in zip(counts, np.maximum(volume, 1e-12))]
            parts.append({"lacI": float(np.mean(free))})
        return _combine(parts)

    def activities(self, state=None) -> dict:
        """Every activity this process writes (the cell part at the reference if no state)."""
        names = {"crp": ("crp",), "ppgpp": ("rpoS", "fis"), "lac": ("lacI",)}
        reference = {n: 1.0 for m in self.active for n in names.get(m, ())}
        cells = self.cell_activities(state) if state is not None else {}
        return _combine([self.environment, {**reference, **cells}])

    def initial_state(self):
        return {"regulators": self.activities()}

    def update(self, state, interval):
        new = self.activities(state)
        current = dict(state.get("regulators") or {})
        # a float store accumulates: write the change
        return {"regulators": {k: v - float(current.get(k, 0.0)) for k, v in new.items()}}


def _combine(parts) -> dict:
    """Product of the activities of each regulator over ``parts`` (dicts)."""
    out: dict = {}
    for part in parts:
        for name, value in part.items():
            out[name] = out.get(name, 1.0) * float(value)
    return out
