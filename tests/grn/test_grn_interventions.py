"""Knockouts and knockdowns in ``grn.simulate``: propagation, steady states, layout, errors."""
import anndata
import numpy as np
import pytest

from greybox_processes.errors import NetworkFormatError
from greybox_processes.grn import (GRNNetwork, TechnicalNoise, network_steady_state,
                                   perturbed_steady_state, read_sergio, simulate, steady_state)
from greybox_processes.grn.steady_state import edge_production


@pytest.fixture(scope="module")
def ds1():
    return read_sergio("DS1")


def _descendants(net, gene):
    found, frontier = {gene}, [gene]
    while frontier:
        nxt = [int(t) for r in frontier for t in net.edge_target[net.edge_regulator == r]
               if int(t) not in found]
        found.update(nxt)
        frontier = nxt
    return found


def _z_scores(a, label):
    """Per-gene z of mean(label) - mean(control); variances within cell types."""
    x, types = a.X, a.obs["cell_type"].to_numpy().astype(int)
    out = []
    for group in ("control", label):
        sel = (a.obs["perturbation"] == group).to_numpy()
        xs, ts = x[sel], types[sel]
        means = np.stack([xs[ts == t].mean(axis=0) for t in np.unique(ts)])
        resid = xs - means[np.searchsorted(np.unique(ts), ts)]
        out.append((xs.mean(axis=0), resid.var(axis=0, ddof=len(means)) / sel.sum()))
    (m0, v0), (m1, v1) = out
    return (m1 - m0) / np.sqrt(v0 + v1 + 1e-300)


def test_knockout_recovers_the_regulators_edges(ds1):
    """Knock out master regulator 62 of DS1 (34 targets): its direct targets move opposite to
    the sign of K (an activator's loss lowers, a repressor's loss raises), the strongest
    response is a direct target with the edge's sign, and no gene outside its descendants
    moves beyond noise."""
    g = 62
    a = simulate(ds1, 20, perturbations={"KO_62": {g: 0.0}}, protein=False, steps=500, seed=0)
    ko = (a.obs["perturbation"] == "KO_62").to_numpy()
    assert np.all(a.X[ko, g] == 0.0)
    z = _z_scores(a, "KO_62")
    z[g] = 0.0
    out = ds1.edge_regulator == g
    sign = dict(zip(ds1.edge_target[out].tolist(), np.sign(ds1.edge_k[out]).tolist()))
    top = int(np.argmax(np.abs(z)))
    assert top in sign and np.sign(z[top]) == -sign[top]  # the known edge, with its sign
    moved = [t for t in sign if abs(z[t]) > 3]
    assert len(moved) > len(sign) / 2
    assert all(np.sign(z[t]) == -sign[t] for t in moved)
    others = np.setdiff1d(np.arange(ds1.n_genes), list(_descendants(ds1, g)))
    assert others.size > 50 and np.abs(z[others]).max() < 4.5


def test_perturbed_steady_state_is_the_kernels_fixed_point(ds1):
    """Cells start at perturbed_steady_state (gene 67's production x 0.2, half responses
    held); without noise they stay there for 200 steps (2.5 decay times, so an error d would
    move them by ~0.8 d): it is a fixed point of the SDE's drift, and in a DAG the only one
    (each level has one solution given its regulators)."""
    target = perturbed_steady_state(ds1, {67: 0.2})
    np.testing.assert_array_equal(perturbed_steady_state(ds1, {}), steady_state(ds1))
    assert np.abs(target - steady_state(ds1)).max() > 0.5
    a = simulate(ds1, 2, perturbations={"KD": {67: 0.2}}, q=0.0, steps=200, protein=False)
    kd = (a.obs["perturbation"] == "KD").to_numpy()
    types = a.obs["cell_type"].to_numpy().astype(int)
    np.testing.assert_allclose(a.X[kd], target[types[kd]], rtol=1e-9)
    np.testing.assert_allclose(a.X[~kd], steady_state(ds1)[types[~kd]], rtol=1e-9)
    assert np.all(a.X[kd, 67] < a.X[~kd, 67])


def _toy(cyclic=False):
    """0, 3: master regulators (b = 8 and 4); 0 -> 1 and 3 -> 1 activate, 1 -| 2; with
    ``cyclic`` also 2 -| 1 (negative feedback) and 1 -> 1 (self activation)."""
    tgt, reg, k = [1, 1, 2], [0, 3, 1], [3.0, 2.0, -4.0]
    if cyclic:
        tgt, reg, k = tgt + [1, 1], reg + [2, 1], k + [-1.5, 1.0]
    return GRNNetwork.from_arrays([[8.0, 0.0, 0.0, 4.0]], tgt, reg, k, [2.0] * len(k),
                                  allow_cycles=cyclic)


def test_knockdown_scales_a_master_regulators_mean():
    """A master regulator is a linear birth-death process: mean s b / lambda (dpd noise)."""
    net = GRNNetwork.from_arrays([[32.0, 0.0]], [1], [0], [3.0], [2.0])
    a = simulate(net, 300, perturbations={"KD": {0: 0.3}}, protein=False, steps=1500, seed=2)
    for label, s in (("control", 1.0), ("KD", 0.3)):
        x = a.X[(a.obs["perturbation"] == label).to_numpy(), 0]
        assert abs(x.mean() - s * 32.0 / 0.8) < 5 * x.std() / np.sqrt(x.size)
    assert a.uns["perturbations"] == {"KD": {"0": 0.3}}


def test_per_cell_and_combinatorial_factors():
    net = _toy()
    factors = np.array([0.0, 0.25, 0.5, 0.75])
    a = simulate(net, 4, perturbations={"KD_0": {0: factors}, "KO_0_3": {0: 0.0, "3": 0.0}},
                 q=0.0, steps=20, protein=False)
    per_cell = (a.obs["perturbation"] == "KD_0").to_numpy()
    np.testing.assert_allclose(a.X[per_cell, 0], factors * 8.0 / 0.8)
    both = (a.obs["perturbation"] == "KO_0_3").to_numpy()
    np.testing.assert_array_equal(a.X[both][:, [0, 1, 3]], 0.0)  # 1 has no other input
    np.testing.assert_allclose(a.X[both, 2], 4.0 / 0.8)  # 1 gone: repression lifted fully
    assert set(a.obs["perturbed_genes"][both]) == {"0+3"}
    assert list(a.obs["n_perturbed"][both]) == [2] * 4
    np.testing.assert_array_equal(a.uns["perturbations"]["KD_0"]["0"], factors)
    with pytest.raises(ValueError, match="per-cell factors need sampling='independent'"):
        simulate(net, 4, perturbations={"KD_0": {0: factors}}, sampling="sergio")


def test_cyclic_network_steady_state_and_knockout():
    net = _toy(cyclic=True)
    with pytest.raises(NetworkFormatError, match=r"regulatory cycles: 1, 2"):
        steady_state(net)
    ss, h = network_steady_state(net)
    prod = net.basal[0].copy()
    np.add.at(prod, net.edge_target, edge_production(ss[0, net.edge_regulator], net.edge_k, h,
                                                     net.edge_hill))
    np.testing.assert_allclose(ss[0], prod / 0.8, rtol=1e-8)
    ko = perturbed_steady_state(net, {3: 0.0})
    assert ko[0, 3] == 0 and ko[0, 1] < ss[0, 1] and ko[0, 2] > ss[0, 2]
    # the fixed point is one of the kernel's dynamics: without noise cells stay on it
    a = simulate(net, 3, perturbations={"KO_3": {3: 0.0}}, q=0.0, steps=2000, protein=False)
    sel = (a.obs["perturbation"] == "KO_3").to_numpy()
    np.testing.assert_allclose(a.X[sel], np.repeat(ko, 3, axis=0), rtol=1e-7)
    np.testing.assert_allclose(a.X[~sel], np.repeat(ss, 3, axis=0), rtol=1e-7)


def test_anndata_layout_for_causal_discovery(ds1, tmp_path):
    a = simulate(ds1, 1, perturbations={"KO_62": {62: 0.0}, "KD": {"17": 0.5, 44: 0.1}},
                 cells_per_perturbation={"KD": 2}, steps=5, protein=False)
    assert a.shape == (9 + 9 + 18, 100)
    assert list(a.obs["perturbation"].cat.categories) == ["control", "KO_62", "KD"]
    assert a.obs["perturbation"].value_counts().to_dict() == {"control": 9, "KO_62": 9, "KD": 18}
    assert set(a.obs["perturbed_genes"]) == {"", "62", "17+44"}
    assert a.obs_names.is_unique
    edges = a.uns["grn_edges"]
    assert len(edges) == ds1.n_edges
    np.testing.assert_array_equal(edges["sign"], np.sign(ds1.edge_k))
    k = a.varp["grn_k"].toarray()
    np.testing.assert_array_equal(k[ds1.edge_regulator, ds1.edge_target], ds1.edge_k)
    assert np.count_nonzero(k) == ds1.n_edges
    a.write_h5ad(tmp_path / "ko.h5ad")
    back = anndata.read_h5ad(tmp_path / "ko.h5ad")
    assert list(back.obs["perturbation"]) == list(a.obs["perturbation"])
    assert len(back.uns["grn_edges"]) == ds1.n_edges
    plain = simulate(ds1, 1, steps=5, protein=False)
    assert set(plain.obs["perturbation"]) == {"control"} and plain.uns["perturbations"] == {}
    named = simulate(ds1, 1, perturbations={"KO": {3: 0.0}}, cells_per_perturbation=2,
                     control_label="wild_type", steps=5, protein=False)
    assert named.obs["perturbation"].value_counts().to_dict() == {"wild_type": 9, "KO": 18}
    assert named.obs["perturbation"].cat.categories[0] == "wild_type"


def test_technical_noise_keeps_a_knockout_at_zero(ds1):
    g = int(np.argmax(steady_state(ds1).mean(axis=0)))  # survives dropout in the controls
    a = simulate(ds1, 10, perturbations={"KO": {g: 0.0}}, steps=20, protein=False,
                 technical_noise=TechnicalNoise.sergio_example())
    ko = (a.obs["perturbation"] == "KO").to_numpy()
    assert np.all(a.layers["counts"][ko, g] == 0) and a.layers["counts"][~ko, g].sum() > 0


def test_sergio_sampling_with_a_knockout(ds1):
    g = 77
    s = simulate(ds1, 10, perturbations={"KO": {g: 0.0}}, sampling="sergio", seed=1)
    ko = (s.obs["perturbation"] == "KO").to_numpy()
    assert ko.sum() == 90 and np.all(s.X[ko, g] == 0) and np.all(s.X[~ko, g] > 0)


def test_bad_perturbations_are_errors(ds1):
    with pytest.raises(ValueError, match="unknown gene 'g100'.*close matches: 100|unknown gene"):
        simulate(ds1, 1, perturbations={"x": {"g100": 0.0}})
    with pytest.raises(ValueError, match=r"close matches: .*\b10\b"):
        simulate(ds1, 1, perturbations={"x": {"10a": 0.0}})
    for factor in (1.0, -0.1, np.nan):
        with pytest.raises(ValueError, match=r"must lie in \[0, 1\)"):
            simulate(ds1, 1, perturbations={"x": {3: factor}})
    with pytest.raises(ValueError, match="control label"):
        simulate(ds1, 1, perturbations={"control": {3: 0.0}})
    with pytest.raises(ValueError, match="non-empty"):
        simulate(ds1, 1, perturbations={"x": {}})
    with pytest.raises(ValueError, match="names gene '3' twice"):
        simulate(ds1, 1, perturbations={"x": {3: 0.0, "3": 0.5}})
    with pytest.raises(ValueError, match=r"labels \['KO_3'\] that are not in perturbations"):
        simulate(ds1, 1, perturbations={"x": {3: 0.0}}, cells_per_perturbation={"KO_3": 2})
    with pytest.raises(ValueError, match="2 per-cell factors for 9 cells"):
        simulate(ds1, 1, perturbations={"x": {3: [0.0, 0.5]}})
