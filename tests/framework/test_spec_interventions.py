"""Interventions declared in a spec's top level (or as a keyword) act on any process."""
import textwrap

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError

SPEC = """
name: decay_with_pulse
state:
  cell: {x: [1.0, 2.0, 4.0]}
  decay:
    _type: process
    address: local:Decay
    config: {rate: 0.1}
    interval: 1.0
    inputs: {x: [cell, x]}
    outputs: {x: [cell, x]}
"""


@pytest.fixture()
def toy_core(core):
    from framework.toy_processes import register

    return register(core)


def test_pulse_in_yaml_changes_the_rate_only_inside_the_pulse(tmp_path, toy_core):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC + textwrap.dedent("""
        interventions:
          decay:
            - {target: rate, factor: 5.0, profile: pulse, start: 2, end: 4}
        """))
    ds = gb.run(path, 6.0, core=toy_core, progress=False)
    x = ds["cell.x"].values[:, 0]
    ratios = x[1:] / x[:-1]
    # rate 0.1 outside the pulse, 0.5 during the updates starting at t=2 and t=3
    np.testing.assert_allclose(ratios, [0.9, 0.9, 0.5, 0.5, 0.9, 0.9])
    viv = gb.run(path, 6.0, core=toy_core, engine="vivarium", progress=False)
    np.testing.assert_array_equal(viv["cell.x"].values, ds["cell.x"].values)


def test_interventions_keyword_equals_the_yaml_key(tmp_path, toy_core):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    ds = gb.run(path, 4.0, core=toy_core, progress=False, interventions={
        "decay": [{"target": "rate", "value": 0.0, "profile": "scheduled", "start": 1}]})
    x = ds["cell.x"].values[:, 0]
    np.testing.assert_allclose(x, [1.0, 0.9, 0.9, 0.9, 0.9])


def test_bad_intervention_names_the_spec(tmp_path, toy_core):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC + "interventions:\n  decya:\n    - {target: rate, value: 0}\n")
    with pytest.raises(SpecError) as info:
        gb.build_document(path, core=toy_core)
    assert str(path) in str(info.value) and "decya" in str(info.value)


def test_unknown_top_level_key(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC + "intervention: {}\n")
    with pytest.raises(SpecError) as info:
        gb.load_spec(path)
    assert "intervention" in str(info.value) and "interventions" in str(info.value)
