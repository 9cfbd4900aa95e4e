"""The grey box's lac bias learned from measured lags: it acts, it is fitted as said, and the
training set keeps out the held-out lactose levels."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from greybox_processes.lac.kernel import SPECIES
from greybox_processes.neural import lac_lag_learning as ll
from greybox_processes.ecoli.lag_learning import lag_curve
from greybox_processes.neural.population_controller import PopulationController

SHARED_LAGS = Path(__file__).resolve().parents[3] / "shared" / ll.LAG_FILE
needs_lags = pytest.mark.skipif(not SHARED_LAGS.is_file(), reason="shared refdata absent")


def _state(controller, n=4):
    rng = np.random.default_rng(1)
    alive = np.array([1.0, 1.0, 1.0, 0.0])
    return {"alive": alive, "volume": np.array([1.0, 1.4, 2.0, 0.0]),
            "lac": rng.integers(0, 50, size=(n, len(SPECIES))).astype(float),
            "growth_rate": np.full(n, 0.015), "glucose": 0.2, "lactose": 0.5,
            **controller.initial_state(), "regulation": np.full(n, 1e-4)}


def _logit(p):
    return np.log(p) - np.log1p(-p)


@pytest.mark.parametrize("offset", [-2.0, 1.5, 4.0])
def test_bias_shifts_the_decoded_induction_by_exactly_its_logit(core, offset):
    """Same weights, same cells: the bias adds ``offset`` to the logit of every live cell's
    induction and nothing else (latent, history unchanged; free slots untouched)."""
    config = {"capacity": 4, "weights": "grey_box_controller.pt"}
    plain = PopulationController(config, core=core)
    biased = PopulationController({**config, "induction_offset": offset}, core=core)
    state = _state(plain)
    a, b = plain.update(state, 1.0), biased.update(state, 1.0)
    ra = state["regulation"] + a["regulation"]
    rb = state["regulation"] + b["regulation"]
    np.testing.assert_allclose(_logit(rb[:3]) - _logit(ra[:3]), offset, rtol=1e-4)
    assert b["regulation"][3] == 0.0
    np.testing.assert_array_equal(a["latent"], b["latent"])
    np.testing.assert_array_equal(a["history"], b["history"])


@pytest.mark.parametrize("bad", [float("nan"), 25.0, -float("inf")])
def test_bias_out_of_range_is_refused(core, bad):
    with pytest.raises(ValueError, match="induction_offset.*finite logit"):
        PopulationController({"capacity": 2, "induction_offset": bad}, core=core)


@needs_lags
def test_training_lags_are_the_seven_strains_at_002_percent():
    lags = ll.read_training_lags(SHARED_LAGS)
    assert len(lags) == 7 and "MG1655" in set(lags.strain)
    target = ll.target_lag(lags)
    assert lags.lag_min.min() < target < lags.lag_min.max()
    # inverse-variance weights: MG1655 and ASC662 (+-1 min) dominate
    assert abs(target - 47.0) < abs(lags.lag_min.mean() - 47.0)


def _table(tmp_path, rows):
    path = tmp_path / "lags.csv"
    pd.DataFrame(rows, columns=["lactose_pct", "strain", "diauxic_lag_min",
                                "lag_err_min"]).to_csv(path, index=False)
    return path


def test_a_held_out_lactose_level_in_the_training_set_is_refused(tmp_path):
    path = _table(tmp_path, [(0.02, "MG1655", 41, 1), (0.2, "MG1655", 30, 1)])
    with pytest.raises(ll.HeldOutConditionError, match=r"0\.2\].*held out"):
        ll.read_training_lags(path)


def test_a_missing_lag_is_an_error_naming_the_strain(tmp_path):
    path = _table(tmp_path, [(0.02, "MG1655", 41, 1), (0.02, "X7", float("nan"), 1)])
    with pytest.raises(ValueError, match="X7"):
        ll.read_training_lags(path)


def _curve(offsets, lag):
    return pd.DataFrame({"offset": offsets, "lag_min": lag})


def test_fit_inverts_a_monotone_curve():
    offsets = np.linspace(0.0, 3.0, 7)
    curve = _curve(offsets, 120.0 - 40.0 * offsets)           # 120 .. 0 min
    for target in (110.0, 47.0, 5.0):
        b = ll.fit_offset(curve, target)
        assert b == pytest.approx((120.0 - target) / 40.0)
        assert ll.lag_at(curve, b) == pytest.approx(target)
    with pytest.raises(ValueError, match="outside the lag curve.*extend"):
        ll.fit_offset(curve, 130.0)


def test_fit_is_monotone_through_noise_and_an_unrecovered_point():
    """A run that never recovers (inf) and a noisy bump: the running minimum makes the curve
    non-increasing and the fitted bias unique."""
    curve = _curve([0.0, 0.5, 1.0, 1.5, 2.0], [np.inf, 90.0, 60.0, 62.0, 20.0])
    b = ll.fit_offset(curve, 40.0)
    assert 1.5 < b < 2.0
    assert ll.lag_at(curve, b) == pytest.approx(40.0)


def test_leave_one_strain_out_fits_without_the_strain():
    lags = pd.DataFrame({"strain": ["a", "b", "c"], "lag_min": [40.0, 50.0, 60.0],
                         "err_min": [1.0, 1.0, 1.0]})
    curve = _curve(np.linspace(0, 3, 7), 120.0 - 40.0 * np.linspace(0, 3, 7))
    held = ll.leave_one_strain_out(curve, lags, untrained_lag=100.0)
    # without a: the mean of b and c, 55 min, judged on a's 40
    assert held.predicted_min.tolist() == pytest.approx([55.0, 50.0, 45.0])
    assert held.relative_error.tolist() == pytest.approx([15 / 40, 0.0, 15 / 60])
    assert held.untrained_relative_error.tolist() == pytest.approx([60 / 40, 50 / 50, 40 / 60])


def test_the_shipped_grey_box_carries_the_learned_bias(composites_dir):
    """ecoli_grey_box.yaml's lac_bias is the trained report's, and the report says what it
    learned from (0.02% only), how it was held out, and the command."""
    from greybox_processes.ecoli.cells import ecoli_grey_box
    from greybox_processes.neural.networks import WEIGHTS_DIR

    report = json.loads((WEIGHTS_DIR / ll.REPORT_NAME).read_text())
    spec = yaml.safe_load((composites_dir / "ecoli_grey_box.yaml").read_text())
    assert spec["parameters"]["lac_bias"]["default"] == pytest.approx(report["induction_offset"])
    assert spec["state"]["controller"]["config"]["induction_offset"] == "${lac_bias}"
    controller = ecoli_grey_box()["state"]["controller"]["config"]
    assert controller["induction_offset"] == pytest.approx(ll.learned_offset())
    assert report["data"]["lactose_pct"] == ll.TRAINING_PERCENT
    assert len(report["data"]["strains"]) == 7
    assert "train-grey-box-lags" in report["command"]
    assert len(report["held_out"]["leave_one_strain_out"]["strain"]) == 7
    # the curve it was read off reaches the target on both sides
    curve = pd.DataFrame(report["curve"])
    assert curve.lag_min.min() < report["data"]["target_min"] < curve.lag_min.max()


@pytest.mark.slow   # two small e_coli_core populations through the shift: ~1-2 min
def test_a_larger_bias_shortens_the_population_lag():
    """The learned quantity acts on the biology: more basal induction -> more LacY when
    glucose runs out -> a shorter population lag (same seed, same reference)."""
    curve = lag_curve([0.0, 3.0], initial_cells=2, capacity=256, minutes=400.0,
                         model="textbook_lactose", progress=False)
    slow, fast = curve.lag_min.tolist()
    assert fast < slow


def test_a_bias_learned_on_other_controller_weights_is_refused(tmp_path):
    """The bias is an offset on one network's output: a report learned on other weights (a
    retrained controller) is refused, naming both fingerprints and the command to relearn."""
    import torch

    from greybox_processes.ecoli.lag_learning import controller_record
    from greybox_processes.neural.networks import load_weights, weights_fingerprint

    record = controller_record()
    path = tmp_path / ll.REPORT_NAME
    path.write_text(json.dumps({"induction_offset": 1.5, "controller": record}))
    assert ll.learned_offset(path) == 1.5
    # the same parameters re-saved: the same fingerprint (tensors, not file bytes)
    header, state = load_weights("grey_box_controller.pt")
    torch.save({"greybox": header, "state_dict": state}, tmp_path / "copy.pt")
    assert weights_fingerprint(tmp_path / "copy.pt") == record["fingerprint"]
    assert ll.learned_offset(path, weights=str(tmp_path / "copy.pt")) == 1.5
    # one parameter moved: another network, the bias is refused
    key = sorted(state)[0]
    state = {**state, key: state[key] + 1e-3}
    torch.save({"greybox": header, "state_dict": state}, tmp_path / "other.pt")
    with pytest.raises(ll.StaleBiasError, match="train-grey-box-lags"):
        ll.learned_offset(path, weights=str(tmp_path / "other.pt"))
    path.write_text(json.dumps({"induction_offset": 1.5}))
    with pytest.raises(ll.StaleBiasError, match="does not record"):
        ll.learned_offset(path)
