"""Tier 4's generalised stress node (any process declaring ``stress_inputs``) and its report of
every box (constant predictor, growth-law reference, black / glass / grey box), on stand-ins."""
from __future__ import annotations

import numpy as np
import pytest
import yaml
from process_bigraph import allocate_core

from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port
from greybox_processes.framework.run import run
from greybox_processes.wcm_hard import refdata
from greybox_processes.wcm_hard.tiers import t4_stress
from greybox_processes.wcm_hard.tiers.base import FAIL
from greybox_processes.wcm_hard.tiers.t4_stress import (StressTier, quick_overrides,
                                                        stress_nodes, stress_protocol)

OBSERVED = refdata.stress_log_fold_changes()
GENES = list(OBSERVED.index[::50])


class HeatOnlyExpression(GreyboxProcess):
    """A data-only stand-in: the stress node itself, writing expression = (T - 37) x pattern
    (the observed heat change, or its negative with ``sign: -1``); declares temperature only."""

    stress_inputs = ("temperature",)
    config_schema = {"temperature": {"_type": "float", "_default": 37.0},
                     "capacity": {"_type": "integer", "_default": 4},
                     "sign": {"_type": "float", "_default": 1.0}}

    def initialize(self, config):
        self.pattern = self.config["sign"] * OBSERVED.loc[GENES, "heat_42C"].to_numpy()

    def inputs(self):
        return {"expression": array_port((len(GENES),))}

    def outputs(self):
        return {"expression": array_port((len(GENES),))}

    def initial_state(self):
        return {"expression": np.zeros(len(GENES))}

    def port_metadata(self):
        return {"expression": {"dims": ("gene",), "coords": {"gene": np.asarray(GENES)}}}

    def update(self, state, interval):
        target = (self.config["temperature"] - 37.0) * self.pattern
        return {"expression": target - np.asarray(state["expression"])}


class HeatAcidExpression(HeatOnlyExpression):
    """As HeatOnlyExpression, also declaring pH (which moves nothing)."""

    stress_inputs = ("temperature", "pH")
    config_schema = {**HeatOnlyExpression.config_schema,
                     "pH": {"_type": "float", "_default": 7.0}}


class Bystander(GreyboxProcess):
    """Writes an expression-like store but declares no stress input (not a stress node)."""

    def inputs(self):
        return {}

    def outputs(self):
        return {"expression": array_port((len(GENES),))}

    def update(self, state, interval):
        return {}


def _node(address, config=None, outputs=None):
    return {"_type": "process", "address": f"local:{address}", "config": config or {},
            "interval": 1.0, "inputs": {"expression": ["transcriptome"]},
            "outputs": outputs or {"expression": ["transcriptome"]}}


def _spec(sign=1.0):
    return {"state": {"data_only": _node("HeatOnlyExpression", {"sign": sign})}}


@pytest.fixture()
def fakes(core):
    for cls in (HeatOnlyExpression, HeatAcidExpression, Bystander):
        core.register_link(cls.__name__, cls)
    return core


def test_any_process_declaring_stress_inputs_is_the_stress_node(fakes):
    # the stress node writes expression itself (no RegulatorActivity in the composite)
    assert stress_nodes(_spec(), core=fakes) == (("data_only",), ("transcriptome",))
    heat = {"heat_42C": {"temperature": 42.0}}
    predicted = stress_protocol(_spec(), heat, 2.0,
                                lambda s, t, **kw: run(s, t, core=fakes, progress=False, **kw),
                                ("data_only",), ("transcriptome",), core=fakes)
    scores = t4_stress.score_stresses(predicted, OBSERVED)
    assert scores["heat_42C"] == pytest.approx(1.0, abs=1e-9)
    # a process without stress_inputs is no stress node, whatever it writes
    bystander = {"state": {"other": _node("Bystander", outputs={"expression": ["x"]})}}
    assert stress_nodes(bystander, core=fakes) == (None, None)


def test_undeclared_stress_input_names_the_node_and_its_inputs(fakes):
    with pytest.raises(ValueError, match=r"'data_only'.*\['temperature'\].*\['pH'\]"):
        stress_protocol(_spec(), {"acid": {"pH": 5.5}}, 1.0, None, ("data_only",),
                        ("transcriptome",), core=fakes)


def test_two_stress_nodes_are_an_error(fakes):
    spec = {"state": {"a": _node("HeatOnlyExpression"), "b": _node("HeatOnlyExpression")}}
    with pytest.raises(ValueError, match="2 stress nodes.*'a', 'b'"):
        stress_nodes(spec, core=fakes)


def test_quick_overrides_cap_the_population():
    spec = "composites/ecoli_glass_box.yaml"
    overrides = quick_overrides(spec)
    assert overrides["stress.config.capacity"] == t4_stress.QUICK_CAPACITY
    assert overrides["metabolism.config.initial_cells"] == t4_stress.QUICK_INITIAL_CELLS
    # a population already smaller is left alone
    assert quick_overrides(spec, {"lac.config.capacity": 8}).get("lac.config.capacity") is None


def test_report_lists_every_box(fakes, tmp_path, monkeypatch):
    """Certifying the grey box also runs the glass and black boxes next to it; a box without
    the nodes or without a stress input is listed as not applicable with its reason."""
    boxes = {"ecoli_grey_box.yaml": _spec(sign=-1.0),    # the certified one: anti-aligned
             "ecoli_glass_box.yaml": _spec(sign=1.0),    # aligned with the observed change
             "ecoli_black_box.yaml": {"state": {"other": _node(
                 "Bystander", outputs={"expression": ["x"]})}}}   # no stress node
    for name, spec in boxes.items():
        (tmp_path / name).write_text(yaml.safe_dump({"name": name[:-5], **spec}))
    # resolve the stand-ins and run in the test's core (the tier's default core has none)
    monkeypatch.setattr(t4_stress, "process_class",
                        lambda node: fakes.link_registry.get(node["address"].split(":")[-1]))
    # the growth-law reference reads PRECISE's compendium (~20 s; test_t4_protocol checks it)
    monkeypatch.setattr(t4_stress, "growth_law_cosines",
                        lambda shared=None: {"available": False, "why": "not read here"})
    monkeypatch.setattr(StressTier, "run_composite",
                        lambda self, s, t, **kw: run(s, t, core=fakes, progress=False, **kw))
    tier = StressTier({"spec": str(tmp_path / "ecoli_grey_box.yaml"), "quick": True,
                       "time": 2.0, "stresses": {"heat_42C": {"temperature": 42.0}}},
                      allocate_core())
    result = tier.evaluate()
    assert result.status == FAIL, result.notes
    assert result.score == pytest.approx(-1.0, abs=1e-9)
    boxes = result.evidence["boxes"]
    assert boxes["grey box"]["certified"] and boxes["glass box"]["cosine"]["heat_42C"] == \
        pytest.approx(1.0, abs=1e-9)
    assert "no stress node" in boxes["black box"]["not_applicable"]
    notes = "\n".join(result.notes)
    for line in ("constant predictor: ", "growth-law reference: not available", "glass box: acid_pH5.5 n/a, "
                 "heat_42C +1.000", "grey box: acid_pH5.5 n/a, heat_42C -1.000",
                 "black box: not applicable (no stress node"):
        assert line in notes, notes
    # with an acid stress the stand-ins (temperature only) cannot take: the certified box is an
    # error naming its inputs, the others are listed as not applicable
    tier = StressTier({"spec": str(tmp_path / "ecoli_glass_box.yaml"), "quick": True,
                       "time": 1.0, "stresses": {"acid_pH5.5": {"pH": 5.5}}}, allocate_core())
    result = tier.evaluate()
    assert result.status == "error" and "stress_inputs ['temperature']" in result.notes[0]
    # the certified box takes pH, the glass box does not: it is listed, not an error
    (tmp_path / "ecoli_grey_box.yaml").write_text(yaml.safe_dump(
        {"name": "ecoli_grey_box", "state": {"data_only": _node("HeatAcidExpression")}}))
    tier = StressTier({"spec": str(tmp_path / "ecoli_grey_box.yaml"), "quick": True,
                       "time": 1.0, "stresses": {"acid_pH5.5": {"pH": 5.5}}}, allocate_core())
    result = tier.evaluate()
    assert result.status == FAIL and result.score is None, result.notes
    assert result.evidence["boxes"]["grey box"]["no_change"] == ["acid_pH5.5"]
    assert "does not take ['pH'] (takes ['temperature'])" in \
        result.evidence["boxes"]["glass box"]["not_applicable"]
    assert any("predicts no change under ['acid_pH5.5']" in n for n in result.notes)
