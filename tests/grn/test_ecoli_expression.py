"""E. coli's TRN-driven transcriptome: calibration to the M9-glucose reference, regulator
responses through the network, relaxation at the mRNA decay rate."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greybox_processes.grn import ecoli_expression as ee

LOG_TPM = Path(__file__).resolve().parents[3] / "shared/refdata/transcriptome/" \
    "precise_log_tpm.csv.gz"


@pytest.fixture(scope="module")
def model():
    return ee.default_model()


def _sign_checked_targets(model, name, expression):
    """(b-number, edge effect, log2 fold change) of ``name``'s single-sign direct targets
    whose other regulators did not move, so only the edge from ``name`` can explain them."""
    net = model.net
    node = model._reg_node[name]
    _, y = model.solve({name: 0.0})
    position = {g: i for i, g in enumerate(model.genes)}
    effects = net.edge_annotations["effect"]
    rows = []
    for e in np.flatnonzero((net.edge_regulator == node) & np.isin(effects, ["+", "-"])):
        target = int(net.edge_target[e])
        gene = net.names[target]
        if gene not in position or model.reference_tpm[position[gene]] == 0:
            continue
        others = net.edge_regulator[(net.edge_target == target) & (net.edge_regulator != node)]
        if np.all(np.abs(y[others] - 1.0) < 1e-9):
            rows.append((gene, effects[e], expression[position[gene]] - model.reference[
                position[gene]]))
    return rows


def test_steady_state_at_reference_activity_is_the_reference(model):
    expression = ee.steady_expression({})
    reference = ee.reference_expression()
    assert list(expression.index) == list(reference.index) and len(reference) == 3923
    assert np.abs(expression.to_numpy() - reference.to_numpy()).max() < 1e-6
    # naming every regulator at 1 is the same as naming none
    every = ee.steady_expression({name: 1.0 for name in ee.regulator_names()})
    assert np.abs(every.to_numpy() - reference.to_numpy()).max() < 1e-6


def test_lac_repressor_off_raises_the_lac_operon(model):
    change = ee.steady_expression({"lacI": 0.0}) - ee.reference_expression()
    assert (change[["b0342", "b0343", "b0344"]] > 0).all()  # lacA, lacY, lacZ
    # the lac repressor regulates little else: most genes do not move
    assert (change.abs() > 1e-9).sum() < 20


@pytest.mark.parametrize("name", ["lacI", "fur", "crp", "arcA", "fnr"])
def test_direct_targets_follow_the_edge_sign(model, name):
    expression = model.solve({name: 0.0})[0]
    rows = _sign_checked_targets(model, name, expression)
    assert len(rows) >= 3
    wrong = [r for r in rows if (r[1] == "+") != (r[2] < 0)]
    assert not wrong, f"{name} off moves targets against the edge sign: {wrong[:5]}"


@pytest.mark.slow
def test_direct_targets_follow_the_edge_sign_for_every_regulator(model):
    checked = 0
    for name in model.regulators:
        expression = model.solve({name: 0.0})[0]
        rows = _sign_checked_targets(model, name, expression)
        checked += len(rows)
        wrong = [r for r in rows if (r[1] == "+") != (r[2] < 0)]
        assert not wrong, f"{name} off moves targets against the edge sign: {wrong[:5]}"
    assert checked > 1000


def test_a_change_propagates_beyond_direct_targets(model):
    """crp activates other regulators; their targets move too (the solve is network-wide)."""
    net = model.net
    _, y = model.solve({"crp": 0.2})
    crp = model._reg_node["crp"]
    direct = set(net.edge_target[net.edge_regulator == crp]) | {crp}
    moved = set(np.flatnonzero(np.abs(y - 1.0) > 1e-6))
    assert moved - direct


@pytest.mark.parametrize("name", ["crp", "fur"])
def test_expression_is_monotonic_in_activity(model, name):
    """Targets regulated only by ``name`` rise (activation) or fall (repression) with it."""
    net = model.net
    node = model._reg_node[name]
    position = {g: i for i, g in enumerate(model.genes)}
    sole = {}
    for t in set(net.edge_target[net.edge_regulator == node].tolist()):
        into = net.edge_target == t
        if set(net.edge_regulator[into].tolist()) == {node} and net.names[t] in position:
            sole[position[net.names[t]]] = np.sign(net.edge_k[into]).sum()
    genes = np.array([g for g, s in sole.items() if s != 0 and model.reference_tpm[g] > 0])
    signs = np.array([sole[g] for g in genes])
    assert genes.size >= 3
    levels = np.array([model.solve({name: a})[0][genes]
                       for a in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)])
    steps = np.diff(levels, axis=0) * signs  # rising for activated, falling for repressed
    assert np.all(steps > 0)


def test_unknown_regulator_names_close_matches(model):
    with pytest.raises(ValueError, match="unknown regulator 'crpp'.*crp"):
        ee.steady_expression({"crpp": 0.5})
    with pytest.raises(ValueError, match="activity of regulator 'crp'"):
        ee.steady_expression({"crp": -1.0})


def test_relaxation_is_exponential_at_the_mrna_half_life(model):
    target = model.solve({"crp": 0.3})[0]
    current = model.reference.copy()
    gaps = []
    for _ in range(6):
        gaps.append(np.exp2(current) - np.exp2(target))
        current = model.relax(current, target, 1.0)
    moving = np.abs(gaps[0]) > 1.0
    rates = -np.log(np.abs(np.array(gaps)[1:, moving]) / np.abs(np.array(gaps)[:-1, moving]))
    expected = np.log(2.0) / ee.MRNA_HALF_LIFE_MIN
    assert np.abs(np.median(rates) / expected - 1.0) < 0.01
    assert np.abs(rates / expected - 1.0).max() < 0.01


def test_one_solve_is_fast(model):
    import time
    model.solve({})
    start = time.perf_counter()
    for a in (0.1, 0.5, 2.0):
        model.solve({"crp": a, "fur": 1.0 / a, "rpoS": a})
    assert (time.perf_counter() - start) / 3 < 1.0


def test_derive_reference_reads_only_the_two_wt_glucose_samples(tmp_path, monkeypatch):
    genes = ["b0001", "b0002", "b0003"]
    table = pd.DataFrame({"control__wt_glc__1": [1.0, 2.0, 3.0],
                          "heat__wt_42c__1": [9.0, 9.0, 9.0],
                          "control__wt_glc__2": [3.0, 2.0, 1.0],
                          "ph__wt_ph5__1": [0.0, 0.0, 0.0]}, index=pd.Index(genes))
    path = tmp_path / "log_tpm.csv"
    table.to_csv(path)
    read = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        read.append(kwargs.get("usecols"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    reference = ee.derive_reference(path)
    data_reads = [u for u in read if u is not None]
    assert len(data_reads) == 1
    assert sorted(data_reads[0][1:]) == sorted(ee.REFERENCE_SAMPLES)
    np.testing.assert_allclose(reference.to_numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="control__wt_glc__2"):
        ee.derive_reference(_without(table, "control__wt_glc__2", tmp_path))


def _without(table, column, folder):
    path = folder / "partial.csv"
    table.drop(columns=[column]).to_csv(path)
    return path


@pytest.mark.skipif(not LOG_TPM.is_file(), reason="PRECISE log-TPM (shared refdata) absent")
def test_shipped_reference_equals_its_derivation():
    derived = ee.derive_reference(LOG_TPM)
    shipped = ee.reference_expression()
    assert list(derived.index) == list(shipped.index)
    np.testing.assert_allclose(derived.to_numpy(), shipped.to_numpy(), atol=1e-9)
