"""Tier 4 protocol (wcm_hard/tiers/t4_stress.py) on a stand-in composite, and the growth-law
reference (t4_baselines.py) against the benchmark's figures."""
import numpy as np
import pytest
from process_bigraph import allocate_core

from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port
from greybox_processes.framework.run import run
from greybox_processes.wcm_hard import refdata
from greybox_processes.wcm_hard.tiers.t4_baselines import find_precise, growth_law_cosines
from greybox_processes.wcm_hard.tiers.t4_stress import (DEFAULT_STRESSES, score_stresses,
                                                        stress_nodes, stress_protocol)

CAPACITY = 4


class StillCells(GreyboxProcess):
    """Two live cells on glucose at the reference growth, nothing changes (test stand-in)."""

    def inputs(self):
        return {}

    def outputs(self):
        n = CAPACITY
        return {"alive": array_port((n,)), "growth_rate": array_port((n,), "1/min"),
                "exchange_rates": array_port((n, 4)), "lac": array_port((n, 8)),
                "volume": array_port((n,), "fL")}

    def initial_state(self):
        from greybox_processes.ecoli.stress_mechanisms import (REFERENCE_GLUCOSE_UPTAKE,
                                                               REFERENCE_GROWTH_RATE)
        alive = np.array([1.0, 1.0, 0.0, 0.0])
        rates = np.zeros((CAPACITY, 4))
        rates[:2, 0] = -REFERENCE_GLUCOSE_UPTAKE
        return {"alive": alive, "growth_rate": alive * REFERENCE_GROWTH_RATE,
                "exchange_rates": rates, "lac": np.zeros((CAPACITY, 8)),
                "volume": np.ones(CAPACITY)}

    def update(self, state, interval):
        return {}


class LogLinearExpression(GreyboxProcess):
    """Expression = log2(rpoH) * heat + log2(evgA) * acid pattern (test stand-in), genes as
    the observed table's; each update sets its steady state."""

    config_schema = {"heat": {"_type": "list[float]", "_default": []},
                     "acid": {"_type": "list[float]", "_default": []},
                     "genes": {"_type": "list[string]", "_default": []}}

    def initialize(self, config):
        self.genes = np.asarray(self.config["genes"])
        self.heat = np.asarray(self.config["heat"])
        self.acid = np.asarray(self.config["acid"])

    def inputs(self):
        return {"regulators": {"_type": "map[float]"},
                "expression": array_port((self.genes.size,))}

    def outputs(self):
        return {"expression": array_port((self.genes.size,))}

    def initial_state(self):
        return {"expression": np.zeros(self.genes.size)}

    def port_metadata(self):
        return {"expression": {"dims": ("gene",), "coords": {"gene": self.genes}}}

    def update(self, state, interval):
        reg = state["regulators"]
        target = (np.log2(reg.get("rpoH", 1.0)) * self.heat
                  + np.log2(reg.get("evgA", 1.0)) * self.acid)
        return {"expression": target - np.asarray(state["expression"])}


def _composite(observed, genes):
    cells = {k: ["cells", k] for k in ("alive", "growth_rate", "exchange_rates", "lac",
                                       "volume")}
    return {"state": {
        "cells_source": {"_type": "process", "address": "local:StillCells", "config": {},
                         "interval": 1.0, "inputs": {}, "outputs": cells},
        "stress": {"_type": "process", "address": "local:RegulatorActivity",
                   "config": {"capacity": CAPACITY}, "interval": 1.0,
                   "inputs": {**cells, "regulators": ["regulators"]},
                   "outputs": {"regulators": ["regulators"]}},
        "expression_model": {
            "_type": "process", "address": "local:LogLinearExpression", "interval": 1.0,
            # heat moves genes along the observed heat change, acid against the acid change
            "config": {"genes": list(genes),
                       "heat": observed.loc[genes, "heat_42C"].tolist(),
                       "acid": (-observed.loc[genes, "acid_pH5.5"]).tolist()},
            "inputs": {"regulators": ["regulators"], "expression": ["transcriptome"]},
            "outputs": {"expression": ["transcriptome"]}}}}


@pytest.fixture(scope="module")
def core():
    core = allocate_core()
    for cls in (StillCells, LogLinearExpression):
        core.register_link(cls.__name__, cls)
    return core


def test_protocol_scores_the_known_cosines(core):
    observed = refdata.stress_log_fold_changes()
    genes = observed.index[::40]  # a subset: the scoring takes the genes both cover
    spec = _composite(observed, genes)
    stress_path, store = stress_nodes(spec, core=core)
    assert stress_path == ("stress",) and store == ("transcriptome",)
    stresses = {**DEFAULT_STRESSES, "salt": {"osmolarity": 0.8}}
    predicted = stress_protocol(spec, stresses, 3.0,
                                lambda s, t, **kw: run(s, t, core=core, progress=False, **kw),
                                stress_path, store)
    scores = score_stresses({k: predicted[k] for k in DEFAULT_STRESSES}, observed)
    # heat raises rpoH (prediction along the heat change), acid raises evgA (against it)
    assert scores["heat_42C"] == pytest.approx(1.0, abs=1e-9)
    assert scores["acid_pH5.5"] == pytest.approx(-1.0, abs=1e-9)
    # salt acts on ompR only, which this expression does not read: no change predicted
    assert np.abs(predicted["salt"].to_numpy()).max() < 1e-12


def test_protocol_refuses_an_unknown_stress_input(core):
    observed = refdata.stress_log_fold_changes()
    spec = _composite(observed, observed.index[:5])
    with pytest.raises(ValueError, match="salinity"):
        stress_protocol(spec, {"sea": {"salinity": 1.0}}, 1.0, None, ("stress",),
                        ("transcriptome",))


def test_composite_without_stress_nodes_has_none():
    assert stress_nodes("composites/ecoli_population.yaml") == (None, None)


@pytest.mark.skipif(find_precise() is None, reason="PRECISE's compendium (shared/) not here")
def test_growth_law_reference_reproduces_the_benchmark():
    # benchmarks/tier4_growth_law_baseline.py and issue 17: -0.07 (pH 5.5), +0.17 (42 C,
    # cos of the slopes: PRECISE records no growth rate of its control)
    result = growth_law_cosines()
    assert result["training_samples"] > 50
    acid, heat = result["stresses"]["acid_pH5.5"], result["stresses"]["heat_42C"]
    assert acid["cosine"] == pytest.approx(-0.069, abs=5e-4)
    assert acid["growth_per_h"][1] < acid["growth_per_h"][0]  # acid slows growth
    assert heat["cosine"] is None and heat["cos_slopes"] == pytest.approx(0.171, abs=5e-4)
