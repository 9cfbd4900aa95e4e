"""Interventions (NEXUS 4.4): scheduled, pulse and loop changes of any process's parameters."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError
from greybox_processes.framework.interventions import Intervention, with_interventions
from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port
from greybox_processes.tissue import composites as tc


class ToyDecay(GreyboxProcess):
    """Exponential decay that reads its rate from the config at every update (test process)."""

    config_schema = {"rate": {"_type": "float", "_default": 0.3}}

    def inputs(self):
        return {"x": array_port((2,))}

    def outputs(self):
        return {"x": array_port((2,))}

    def initial_state(self):
        return {"x": np.ones(2)}

    def update(self, state, interval):
        return {"x": -self.config["rate"] * np.asarray(state["x"]) * interval}


def _toy(core, interventions):
    core.register_link("ToyDecay", ToyDecay)
    doc = {"state": {"cell": {}, "decay": {
        "_type": "process", "address": "local:ToyDecay", "config": {"rate": 0.3},
        "interval": 0.5, "inputs": {"x": ["cell", "x"]}, "outputs": {"x": ["cell", "x"]}}}}
    return with_interventions(doc, {"decay": interventions})


def _expected(active_times, times, rate=0.3, dt=0.5):
    """x at each time: one factor (1 - rate dt) per update not under the intervention."""
    out, x = [1.0], 1.0
    for t in times[:-1]:
        x *= 1.0 if t in active_times else 1.0 - rate * dt
        out.append(x)
    return np.asarray(out)


@pytest.mark.parametrize("spec, active", [
    ({"profile": "pulse", "start": 1.0, "end": 2.0, "factor": 0.0}, {1.0, 1.5}),
    ({"profile": "scheduled", "start": 2.5, "value": 0.0}, {2.5, 3.0, 3.5, 4.0, 4.5}),
    ({"profile": "loop", "start": 0.5, "period": 0.5, "gap": 1.0, "factor": 0.0},
     {0.5, 2.0, 3.5}),
    ({"profile": "loop", "start": 1.0, "end": 3.0, "period": 1.0, "gap": 0.5, "factor": 0.0},
     {1.0, 1.5, 2.5}),
])
def test_interventions_start_and_stop_at_the_right_steps(core, spec, active):
    doc = _toy(core, [{"target": "rate", **spec}])
    pbg = gb.run(doc, 5.0, core=core, progress=False)
    viv = gb.run(doc, 5.0, engine="vivarium", core=core, progress=False)
    times = pbg["time"].values
    x = pbg["cell.x"].values[:, 0]
    np.testing.assert_allclose(x, _expected(active, list(times)), rtol=1e-14)
    np.testing.assert_array_equal(x, viv["cell.x"].values[:, 0])


def test_intervention_profiles_directly():
    loop = Intervention("D", factor=0.5, profile="loop", start=10, period=2, gap=3)
    on = [t for t in range(0, 25) if loop.active(t)]
    assert on == [10, 11, 15, 16, 20, 21]
    assert loop.apply([1.0, 4.0]) == [0.5, 2.0]
    assert Intervention("D", value=[3.0], profile="pulse", start=1, end=2).apply([1.0]) == [3.0]


@pytest.mark.parametrize("entry, message", [
    ({"target": "rate", "factor": 0.5, "profile": "pulse", "start": 1}, "needs an 'end'"),
    ({"target": "rate", "factor": 0.5, "value": 1.0}, "exactly one of"),
    ({"target": "rate", "factor": 0.5, "profile": "loop", "start": 1}, "needs 'period'"),
    ({"target": "speed", "factor": 0.5}, "not a config value of ToyDecay"),
    ({"target": "rate", "factor": 0.5, "profile": "sometimes"}, "profile must be one of"),
])
def test_bad_interventions_are_clear_errors(core, entry, message):
    with pytest.raises((SpecError, ValueError), match=message):
        gb.build_document(_toy(core, [entry]), core=core)


def test_nexus_figure4_intervention_on_D_changes_the_trajectory(core):
    """Lowering D for a pulse slows the fall of the centre concentration, then it resumes."""
    base = gb.run(tc.fields_pulse(), 20.0, core=core, progress=False)
    pulse = [{"target": "diffusion", "factor": 0.1, "profile": "pulse", "start": 5.0,
              "end": 12.0}]
    hit = gb.run(tc.fields_pulse(interventions=pulse), 20.0, core=core, progress=False)
    t = base["time"].values
    centre = (slice(None), 0, 10, 10)
    a, b = base["fields.amount"].values[centre], hit["fields.amount"].values[centre]
    np.testing.assert_array_equal(a[t <= 5.0], b[t <= 5.0])
    assert np.all(b[(t > 5.5) & (t <= 12.0)] > a[(t > 5.5) & (t <= 12.0)])
    # the pulse ends: the centre falls faster again than under the low D
    after = (t > 12.5)
    slope_hit = np.diff(np.log(b[after])).mean()
    slope_low = np.diff(np.log(b[(t > 6.0) & (t <= 12.0)])).mean()
    assert slope_hit < slope_low
    # total mass only decays (A -> : k), the same in both runs
    np.testing.assert_allclose(base["fields.amount"].values.sum(axis=(1, 2, 3)),
                               hit["fields.amount"].values.sum(axis=(1, 2, 3)), rtol=1e-12)
