"""The black box's data-only transcriptome: training-set rule, held-out CV, weights, process."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import greybox_processes as gb
from greybox_processes.ecoli.cells import ecoli_black_box
from greybox_processes.grn.ecoli_expression import reference_expression
from greybox_processes.neural import ExpressionDataOnly
from greybox_processes.neural import expression_data as ed
from greybox_processes.wcm_hard.refdata import STRESS_CONTRASTS
from greybox_processes.wcm_hard.tiers.t4_baselines import find_precise

PRECISE = find_precise()
needs_precise = pytest.mark.skipif(PRECISE is None, reason="PRECISE (shared refdata) absent")


def _row(**changes):
    row = {"Temperature (C)": 37, "pH": 7.0, "Antibiotic": np.nan, "Supplement": np.nan,
           "Strain Description": "Escherichia coli K-12 MG1655", "Evolved Sample": "No",
           "Electron Acceptor": "O2", "Base Media": "M9", "Carbon Source (g/L)": "glucose(2)",
           "Culture Type": "Batch", "Growth Rate (1/hr)": 0.6, "project": "p",
           "condition": "c"}
    return {**row, **changes}


SYNTHETIC = pd.DataFrame.from_dict({
    "ok_glc": _row(),
    "ok_ac_aa": _row(**{"Carbon Source (g/L)": "acetate(2)", "Supplement": "leucine (10mM)"}),
    "heat": _row(**{"Temperature (C)": 42}),
    "acid": _row(pH=5.5),
    "kan": _row(Antibiotic="Kanamycin"),
    "chelator": _row(Supplement="DPD (0.2mM)"),
    "mutant": _row(**{"Strain Description": "Escherichia coli K-12 MG1655 del_crp"}),
    "evolved": _row(**{"Evolved Sample": "Endpoint"}),
    "no_rate": _row(**{"Growth Rate (1/hr)": np.nan}),
}, orient="index")


# -- the training-set rule -----------------------------------------------------------------

def test_rule_keeps_nutrient_samples_and_drops_every_stress():
    assert ed.nutrient_samples(SYNTHETIC) == ["ok_glc", "ok_ac_aa"]


@pytest.mark.parametrize("sample, why", [("heat", "temperature 42"), ("acid", "pH 5.5"),
                                         ("kan", "antibiotic"), ("chelator", "DPD"),
                                         ("mutant", "del_crp"), ("evolved", "evolved")])
def test_a_stress_sample_in_the_training_set_is_refused_by_name(sample, why):
    log_tpm = pd.DataFrame(1.0, index=["b0001"], columns=SYNTHETIC.index)
    with pytest.raises(ValueError, match=f"{sample!r} is not a nutrient sample.*{why}"):
        ed.check_training_set(SYNTHETIC, log_tpm, ["ok_glc", sample])


def test_nan_target_is_refused_naming_the_sample():
    log_tpm = pd.DataFrame(1.0, index=["b0001", "b0002"], columns=SYNTHETIC.index)
    log_tpm.loc["b0002", "ok_ac_aa"] = np.nan
    ed.check_training_set(SYNTHETIC, log_tpm, ["ok_glc"])
    with pytest.raises(ValueError, match="'ok_ac_aa' has NaN.*b0002"):
        ed.check_training_set(SYNTHETIC, log_tpm, ["ok_glc", "ok_ac_aa"])


def test_tier4_held_out_stress_samples_are_refused():
    stressed = STRESS_CONTRASTS["heat_42C"][0][0]
    table = pd.DataFrame.from_dict({stressed: _row()}, orient="index")   # even if relabelled
    log_tpm = pd.DataFrame(1.0, index=["b0001"], columns=[stressed])
    with pytest.raises(ValueError, match=f"{stressed!r} is tier 4's held-out heat_42C"):
        ed.check_training_set(table, log_tpm, [stressed])


@needs_precise
def test_precise_selection_has_no_stress_and_varies_carbon_and_growth():
    samples, _ = ed.read_precise()
    chosen = samples.loc[ed.nutrient_samples(samples)]
    assert len(chosen) >= 20
    assert set(chosen["Temperature (C)"]) == {37} and set(chosen["pH"]) == {7.0}
    assert chosen["Antibiotic"].isna().all()
    held_out = {s for stressed, _ in STRESS_CONTRASTS.values() for s in stressed}
    assert not held_out & set(chosen.index)
    assert chosen["Carbon Source (g/L)"].nunique() >= 5
    assert chosen["Growth Rate (1/hr)"].max() > 2 * chosen["Growth Rate (1/hr)"].min()


# -- the held-out figure -------------------------------------------------------------------

def _synthetic_xy(signal: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(12), 2)
    x = np.column_stack([rng.uniform(0.2, 1.0, 12)[groups], np.full(24, 37.0)])
    loadings = rng.normal(size=(1, 200))
    y = signal * x[:, :1] @ loadings + rng.normal(scale=0.3, size=(24, 200))
    return x, y, groups


def test_cv_is_held_out_model_beats_mean_only_when_inputs_carry_signal():
    x, y, groups = _synthetic_xy(signal=3.0)
    cv = ed.leave_one_condition_out(x, y, groups, components=3, alpha=1.0)
    assert cv["rmse_model"] < 0.8 * cv["rmse_mean"]
    # pure noise: an in-sample fit would still beat the mean; a held-out one cannot
    x, y, groups = _synthetic_xy(signal=0.0)
    cv = ed.leave_one_condition_out(x, y, groups, components=3, alpha=1.0)
    assert cv["rmse_model"] >= 0.98 * cv["rmse_mean"]


def test_constant_input_gets_zero_weight():
    x, y, _ = _synthetic_xy(signal=3.0)
    model = ed.fit(x, y, components=3)
    assert np.all(model["coef"][1] == 0.0)
    shifted = x.copy()
    shifted[:, 1] = 42.0
    np.testing.assert_array_equal(ed.predict(model, x), ed.predict(model, shifted))


@pytest.mark.slow   # 21 folds of an SVD over 3923 genes: ~10-30 s on 2 shared cores
@needs_precise
def test_precise_model_beats_the_training_mean_on_held_out_conditions():
    samples, log_tpm = ed.read_precise()
    chosen = ed.nutrient_samples(samples)
    genes = reference_expression().index
    y = log_tpm.loc[genes, chosen].to_numpy(dtype=float).T
    x = ed.training_inputs(samples, chosen)
    groups = (samples.loc[chosen, "project"] + samples.loc[chosen, "condition"]).to_numpy()
    cv = ed.leave_one_condition_out(x, y, groups)
    assert cv["n_conditions"] == len(set(groups))
    assert cv["rmse_model"] < cv["rmse_mean"]
    assert cv["beats_mean"] > cv["n_conditions"] / 2


# -- the shipped weights -------------------------------------------------------------------

def test_shipped_weights_record_their_training_set():
    _, meta = ed.load_weights(ed.WEIGHTS_NAME, reference_expression().index)
    assert meta["inputs"] == list(ed.INPUTS)
    assert set(ed.STRESS_INPUT_NAMES) <= set(meta["constant_in_training"])
    held_out = {s for stressed, _ in STRESS_CONTRASTS.values() for s in stressed}
    assert meta["training_samples"] and not held_out & set(meta["training_samples"])
    cv = meta["cv_leave_one_condition_out"]
    assert cv["n_conditions"] == len(meta["training_conditions"])
    assert "train-black-box-expression" in meta["command"]


def _rewritten(tmp_path, **changes):
    with np.load(ed.WEIGHTS_DIR / ed.WEIGHTS_NAME, allow_pickle=False) as blob:
        data = {k: blob[k] for k in blob.files}
    data.update(changes)
    path = tmp_path / "other.npz"
    np.savez(path, **data)
    return str(path)


def test_weights_for_other_genes_or_inputs_are_refused(tmp_path, core):
    genes = reference_expression().index.to_numpy(dtype=str)
    other = _rewritten(tmp_path, genes=genes[::-1].copy())
    with pytest.raises(ValueError, match="other genes.*another order"):
        ExpressionDataOnly({"weights": other}, core=core)
    other = _rewritten(tmp_path, genes=np.array([*genes[:-1], "b9999"]))
    with pytest.raises(ValueError, match=r"other genes.*\['b9999'\]"):
        ExpressionDataOnly({"weights": other}, core=core)
    other = _rewritten(tmp_path, inputs=np.array(["growth_rate", "glucose"]))
    with pytest.raises(ValueError, match=r"trained for inputs \['growth_rate', 'glucose'\]"):
        ExpressionDataOnly({"weights": other}, core=core)
    with pytest.raises(ValueError, match="not found"):
        ExpressionDataOnly({"weights": "no_such.npz"}, core=core)


# -- the process ---------------------------------------------------------------------------

def _state(process, growth_per_min, glucose=1.0, lactose=0.0):
    n = process.config["capacity"]
    alive = np.zeros(n)
    alive[:2] = 1.0
    return {**process.initial_state(), "alive": alive, "volume": np.ones(n),
            "growth_rate": alive * growth_per_min, "glucose": glucose, "lactose": lactose}


def _after(process, state):
    return state["expression"] + process.update(state, 1.0)["expression"]


def test_process_layout_is_the_glass_box_transcriptome(core):
    from greybox_processes.grn.transcriptome_process import EcoliTranscriptome

    process = ExpressionDataOnly({"capacity": 4}, core=core)
    glass = EcoliTranscriptome({}, core=core)
    assert np.array_equal(process.genes, glass.genes)
    ours, theirs = process.port_metadata()["expression"], glass.port_metadata()["expression"]
    assert ours["dims"] == theirs["dims"] and ours["units"] == theirs["units"]
    assert process.outputs()["expression"] == glass.outputs()["expression"]
    assert ExpressionDataOnly.stress_inputs == ed.STRESS_INPUT_NAMES


def test_expression_follows_growth_rate_and_carbon_source(core):
    process = ExpressionDataOnly({"capacity": 4}, core=core)
    slow = _after(process, _state(process, 0.3 / 60))
    fast = _after(process, _state(process, 0.7 / 60))
    lactose = _after(process, _state(process, 0.3 / 60, glucose=0.0, lactose=1.0))
    assert np.isfinite(fast).all() and fast.shape == (3923,)
    assert np.abs(fast - slow).max() > 0.5     # log2 units: > 1.4-fold for some gene
    assert np.abs(lactose - slow).max() > 0.1
    # a dead slot's growth rate is not read
    state = _state(process, 0.3 / 60)
    state["growth_rate"][3] = 5.0
    np.testing.assert_allclose(_after(process, state), slow)


def test_stress_inputs_have_no_learned_effect_and_are_range_checked(core, caplog):
    base = ExpressionDataOnly({"capacity": 4}, core=core)
    with caplog.at_level(logging.WARNING):
        hot = ExpressionDataOnly({"capacity": 4, "temperature": 42.0, "pH": 5.5}, core=core)
    assert "never varied in the training samples" in caplog.text
    np.testing.assert_array_equal(_after(base, _state(base, 0.01)), _after(hot, _state(hot, 0.01)))
    with pytest.raises(ValueError, match="temperature=60.*outside"):
        ExpressionDataOnly({"temperature": 60.0}, core=core)
    with pytest.raises(ValueError, match="'salinity'.*stress inputs"):
        ExpressionDataOnly({"salinity": 1.0}, core=core)


def test_black_box_composite_runs_with_its_transcriptome():
    document = ecoli_black_box(capacity=16, initial_cells=4, seed=3, initial_biomass=0.01)
    assert document["state"]["transcriptome"]["address"] == "local:ExpressionDataOnly"
    assert "stress" not in document["state"]
    ds = gb.run(document, 3.0, progress=False)
    expression = ds["expression"]
    assert expression.dims[-1] == "gene" and expression.sizes["gene"] == 3923
    values = np.asarray(expression.isel(time=-1).values)
    assert np.isfinite(values).all() and (values >= 0).all()
    # written by the model, not left at its initial (the training mean)
    assert np.abs(values - np.asarray(expression.isel(time=0).values)).max() > 0
