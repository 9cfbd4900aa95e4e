"""The EcoliTranscriptome process: modes, options, both engines."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.grn.ecoli_expression import MRNA_HALF_LIFE_MIN, steady_expression


def _document(config, regulators, interval=1.0):
    return {"state": {
        "cell": {"regulators": dict(regulators)},
        "transcriptome": {
            "_type": "process", "address": "local:EcoliTranscriptome", "config": config,
            "interval": interval,
            "inputs": {"regulators": ["cell", "regulators"], "expression": ["cell", "expression"]},
            "outputs": {"expression": ["cell", "expression"]}}}}


def _tpm(log2):
    return np.exp2(np.asarray(log2)) - 1.0


def test_both_engines_give_the_same_trajectory(core):
    doc = _document({}, {"crp": 0.2, "lacI": 0.5, "rpoH": 2.0})
    pbg = gb.run(doc, 4.0, engine="pbg", core=core, progress=False)
    viv = gb.run(doc, 4.0, engine="vivarium", core=core, progress=False)
    np.testing.assert_array_equal(pbg["time"].values, viv["time"].values)
    np.testing.assert_array_equal(pbg["cell.expression"].values, viv["cell.expression"].values)
    assert pbg["cell.expression"].dims == ("time", "gene")
    assert pbg["cell.expression"].attrs["units"] == "log2(TPM+1)"
    assert list(pbg["gene"].values[:2]) == ["b0002", "b0003"]
    assert np.abs(np.diff(pbg["cell.expression"].values, axis=0)).max() > 0.1


@pytest.mark.parametrize("half_life", [MRNA_HALF_LIFE_MIN, 2.0])
def test_relax_mode_approaches_the_steady_state_at_the_half_life(core, half_life):
    activities = {"crp": 0.3, "fur": 0.0}
    doc = _document({"half_life": half_life}, activities)
    ds = gb.run(doc, 5.0, core=core, progress=False)
    target = _tpm(steady_expression(activities).to_numpy())
    gaps = _tpm(ds["cell.expression"].values) - target
    moving = np.abs(gaps[0]) > 1.0
    assert moving.sum() > 100
    rates = -np.log(np.abs(gaps[1:, moving] / gaps[:-1, moving]))
    np.testing.assert_allclose(rates, np.log(2.0) / half_life, rtol=0.01)


def test_steady_state_mode_is_at_the_steady_state_after_one_update(core):
    activities = {"crp": 0.3}
    ds = gb.run(_document({"mode": "steady_state"}, activities), 2.0, core=core,
                progress=False)
    target = steady_expression(activities).to_numpy()
    assert np.abs(ds["cell.expression"].values[0] - target).max() > 1.0  # starts at reference
    np.testing.assert_allclose(ds["cell.expression"].values[1:], target[None].repeat(2, 0),
                               atol=1e-9)


def test_regulators_option_limits_what_is_read(core):
    activities = {"crp": 0.0, "lacI": 0.0}
    ds = gb.run(_document({"mode": "steady_state", "regulators": ["lacI"]}, activities), 1.0,
                core=core, progress=False)
    np.testing.assert_allclose(ds["cell.expression"].values[-1],
                               steady_expression({"lacI": 0.0}).to_numpy(), atol=1e-9)
    with pytest.raises(Exception, match="unknown regulator 'lacl'.*lacI"):
        gb.run(_document({"regulators": ["lacl"]}, {}), 1.0, core=core, progress=False)


def test_bad_mode_is_an_error(core):
    with pytest.raises(Exception, match="mode 'fast'"):
        gb.run(_document({"mode": "fast"}, {}), 1.0, core=core, progress=False)
