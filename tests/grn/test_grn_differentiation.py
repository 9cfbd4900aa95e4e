"""SERGIO's differentiation mode: structure, deterministic limits and noise statistics."""
import numpy as np
import pytest

from greybox_processes.grn import (GRNNetwork, read_bifurcation_matrix, read_sergio,
                                   simulate_differentiation, steady_state)
from greybox_processes.grn.differentiation import differentiation_graph

DS6_PARENT = np.array([-1, 0, 1, 2, 2, 2])


@pytest.fixture(scope="module")
def ds6():
    return read_sergio("DS6"), read_bifurcation_matrix("DS6")


@pytest.fixture(scope="module")
def q0(ds6):
    """Deterministic run (q = 0, exact start), per-gene beta and splice ratio."""
    net, bmat = ds6
    beta = np.linspace(0.6, 1.0, net.n_genes)
    ratio = np.linspace(1.5, 3.0, net.n_genes)
    a = simulate_differentiation(net, bmat, 40, q=0.0, init_noise=0.0, root_trajectories=1,
                                 decay=beta, splice_ratio=ratio, dt=0.05, steps=1600,
                                 endpoints=True)
    return net, a, beta, beta / ratio


def _types(a):
    return a.obs["cell_type"].to_numpy().astype(int)


COUNTS = [12, 30, 7, 20, 0, 9]  # one shape for the tests below: one compilation


def test_structure_and_counts(ds6):
    net, bmat = ds6
    counts = COUNTS
    a = simulate_differentiation(net, bmat, counts, steps=150, seed=2)
    assert a.shape == (sum(counts), net.n_genes)
    types = _types(a)
    np.testing.assert_array_equal(np.bincount(types, minlength=6), counts)
    assert np.array_equal(a.X, a.layers["spliced"]) and a.layers["unspliced"].shape == a.shape
    np.testing.assert_array_equal(a.obs["parent_type"].to_numpy(), DS6_PARENT[types])
    info = a.uns["differentiation"]
    # SERGIO: max(1, round(bmat[parent, j] * n_j)) trajectories; roots 20; none for 0 cells.
    np.testing.assert_array_equal(info["n_trajectories"], [20, 2, 1, 2, 0, 1])
    np.testing.assert_array_equal(info["order"], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(info["parent"], DS6_PARENT)
    traj_type = np.repeat(np.arange(6), info["n_trajectories"])
    np.testing.assert_array_equal(traj_type[a.obs["trajectory"].to_numpy()], types)
    pt = a.obs["pseudotime"].to_numpy()
    assert pt.min() >= 0 and pt.max() <= 1
    np.testing.assert_allclose(a.obs["time"].to_numpy(), pt * 150 * 0.01, rtol=1e-12)
    for j in range(6):
        assert np.all(np.diff(pt[types == j]) >= 0)  # ordered along the trajectory
    # Sampled without replacement: no (trajectory, step) twice.
    pairs = set(zip(a.obs["trajectory"], np.rint(pt * 150).astype(int)))
    assert len(pairs) == a.n_obs
    assert np.all(a.layers["unspliced"] >= 0) and np.all(a.X >= 0)
    assert np.all(np.isfinite(a.X)) and np.all(np.isfinite(a.layers["unspliced"]))


def test_q0_roots_stay_at_their_steady_state(q0):
    net, a, beta, gamma = q0
    ss = steady_state(net, beta)
    root = _types(a) == 0
    assert root.sum() == 40
    np.testing.assert_allclose(a.layers["unspliced"][root], np.broadcast_to(ss[0], (40, 100)),
                               rtol=1e-12)
    np.testing.assert_allclose(a.layers["spliced"][root],
                               np.broadcast_to(ss[0] * beta / gamma, (40, 100)), rtol=1e-12)
    assert a.uns["differentiation"]["n_clipped"] == 0


def test_q0_children_go_from_parent_to_own_steady_state(q0):
    """Start exactly at the parent's (u, s); after 80 time units at the child's, where
    s = beta u / gamma."""
    net, a, beta, gamma = q0
    info = a.uns["differentiation"]
    ss_u = steady_state(net, beta)
    ss_s = ss_u * beta / gamma
    tt = info["trajectory_type"]
    start = np.where(DS6_PARENT[tt] < 0, tt, DS6_PARENT[tt])
    np.testing.assert_array_equal(info["initial_unspliced"], ss_u[start])
    np.testing.assert_allclose(info["initial_spliced"], ss_s[start], rtol=1e-15)
    np.testing.assert_allclose(info["final_unspliced"], ss_u[tt], rtol=1e-3)
    np.testing.assert_allclose(info["final_spliced"], ss_s[tt], rtol=1e-3)
    np.testing.assert_allclose(info["final_spliced"], beta / gamma * info["final_unspliced"],
                               rtol=1e-3)
    # A continuum: early cells of a child type are further from its steady state than late ones.
    types, pt = _types(a), a.obs["pseudotime"].to_numpy()
    for j in range(1, 6):
        d = np.linalg.norm(a.X[types == j] - ss_s[j], axis=1)
        p = pt[types == j]
        assert d[p < 0.25].min() > d[p > 0.5].max()


def test_q0_master_regulators_follow_euler_recursion(q0):
    """A master regulator has constant production b_j: the sampled cells are the Euler chain
    u' = u + (b - beta u) dt, s' = s + (beta u - gamma s) dt from the parent's steady state."""
    net, a, beta, gamma = q0
    info = a.uns["differentiation"]
    mr = net.master_regulators
    steps, dt = info["steps"], info["dt"]
    ss_u = steady_state(net, beta)
    u = np.empty((steps + 1, 6, mr.size))
    s = np.empty_like(u)
    start = np.where(DS6_PARENT < 0, np.arange(6), DS6_PARENT)
    u[0], s[0] = ss_u[start][:, mr], (ss_u[start] * beta / gamma)[:, mr]
    b, bt, gm = net.basal[:, mr], beta[mr], gamma[mr]
    for k in range(steps):
        u[k + 1] = u[k] + (b - bt * u[k]) * dt
        s[k + 1] = s[k] + (bt * u[k] - gm * s[k]) * dt
    types = _types(a)
    k = np.rint(a.obs["pseudotime"].to_numpy() * steps).astype(int)
    np.testing.assert_allclose(a.layers["unspliced"][:, mr], u[k, types], rtol=1e-10)
    np.testing.assert_allclose(a.layers["spliced"][:, mr], s[k, types], rtol=1e-10)


def test_same_seed_bit_identical_other_seed_differs(ds6):
    net, bmat = ds6
    a = simulate_differentiation(net, bmat, COUNTS, steps=150, seed=2)
    b = simulate_differentiation(net, bmat, COUNTS, steps=150, seed=2)
    c = simulate_differentiation(net, bmat, COUNTS, steps=150, seed=3)
    for layer in ("unspliced", "spliced"):
        assert np.array_equal(a.layers[layer], b.layers[layer])
        assert not np.array_equal(a.layers[layer], c.layers[layer])
    assert a.obs.equals(b.obs) and not a.obs.equals(c.obs)


def test_never_negative_with_big_noise(ds6):
    net, bmat = ds6
    a = simulate_differentiation(net, bmat, COUNTS, steps=150, seed=2, q=5.0)
    assert np.all(a.layers["unspliced"] >= 0) and np.all(a.layers["spliced"] >= 0)
    assert a.uns["differentiation"]["n_clipped"] > 0  # clipping happened and was counted
    b = simulate_differentiation(net, bmat, 5, steps=40, q=5.0, q_splice=8.0, noise="spd",
                                 noise_splice="sp")
    assert np.all(b.layers["unspliced"] >= 0) and np.all(b.layers["spliced"] >= 0)
    assert b.uns["differentiation"]["n_clipped"] > 0


def test_invalid_bifurcation_matrices(ds6):
    net, bmat = ds6
    with pytest.raises(ValueError, match=r"shape \(6, 6\)"):
        simulate_differentiation(net, bmat[:5, :5], 5)
    bad = bmat.copy()
    bad[0, 1] = -0.1
    with pytest.raises(ValueError, match=r">= 0.*bmat\[0, 1\]"):
        simulate_differentiation(net, bad, 5)
    bad = bmat.copy()
    bad[3, 0] = 0.1  # 0 -> 1 -> 2 -> 3 -> 0
    with pytest.raises(ValueError, match=r"cycle among cell types \[0, 1, 2, 3\]"):
        simulate_differentiation(net, bad, 5)
    bad = bmat.copy()
    bad[4, 4] = 0.1
    with pytest.raises(ValueError, match="differentiates from itself"):
        simulate_differentiation(net, bad, 5)
    bad = bmat.copy()
    bad[0, 3] = 0.1
    with pytest.raises(ValueError, match=r"cell type 3 differentiates from types \[0, 2\]"):
        simulate_differentiation(net, bad, 5)
    bad = bmat.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        simulate_differentiation(net, bad, 5)
    with pytest.raises(ValueError, match="raise steps"):
        simulate_differentiation(net, bmat, 50, steps=10)
    with pytest.raises(ValueError, match="noise_splice"):
        simulate_differentiation(net, bmat, 5, noise_splice="gauss")
    with pytest.raises(ValueError, match="splice_ratio"):
        simulate_differentiation(net, bmat, 5, splice_ratio=0.0)
    with pytest.raises(ValueError, match="init_noise"):
        simulate_differentiation(net, bmat, 5, init_noise=-1.0)
    b, parent, order = differentiation_graph("DS6", 6)
    np.testing.assert_array_equal(parent, DS6_PARENT)


def _discrete_lyapunov(m, q):
    """Stationary covariance of x' = m x + noise with covariance q: sigma = m sigma m^T + q."""
    n = m.shape[0]
    vec = np.linalg.solve(np.eye(n * n) - np.kron(m, m), q.reshape(-1))
    return vec.reshape(n, n)


@pytest.mark.slow
def test_stationary_moments_single_gene():
    r"""One master regulator (P = b), q = 1, 'dpd' on u and on s with independent streams
    (SERGIO v1): the Euler chain x' = M x + c + sqrt(dt) xi, M = I + dt [[-beta, 0],
    [beta, -gamma]], noise covariance dt diag(b + beta u, beta u + gamma s) = dt diag(2b, 2b)
    at the means u = b/beta, s = b/gamma. Its stationary covariance solves the discrete
    Lyapunov equation; with independent streams cov(u, s) = b/(beta + gamma) > 0 (to O(dt))
    and var(s) = (b/gamma)(1 + beta/(beta + gamma)), larger than the Poisson value b/gamma of
    the exact chemical Langevin equation. Start at the means, run 40 time units
    (2 gamma T = 16: transient e^-16); u and s stay > 6 sd from 0, so nothing is clipped.
    """
    b, beta, ratio, dt, n = 40.0, 0.8, 4.0, 0.04, 10000
    gamma = beta / ratio
    net = GRNNetwork.from_arrays([[b]])
    a = simulate_differentiation(net, [[0.0]], 1, decay=beta, splice_ratio=ratio, dt=dt,
                                 steps=1000, init_noise=0.0, root_trajectories=n, seed=3,
                                 endpoints=True)
    info = a.uns["differentiation"]
    assert info["n_clipped"] == 0
    x = np.stack([info["final_unspliced"][:, 0], info["final_spliced"][:, 0]], axis=1)
    m = np.eye(2) + dt * np.array([[-beta, 0.0], [beta, -gamma]])
    sigma = _discrete_lyapunov(m, dt * np.diag([2 * b, 2 * b]))
    mean = np.array([b / beta, b / gamma])
    se_mean = np.sqrt(np.diag(sigma) / n)
    assert np.all(np.abs(x.mean(axis=0) - mean) < 5 * se_mean)
    emp = np.cov(x.T)
    # SE of a (co)variance estimate for near-Gaussian data: sqrt((s_ij^2 + s_ii s_jj) / n).
    se = np.sqrt((sigma**2 + np.outer(np.diag(sigma), np.diag(sigma))) / n)
    assert np.all(np.abs(emp - sigma) < 5 * se), (emp, sigma)
    assert sigma[0, 1] > 10 * se[0, 1]  # the independent-streams covariance is resolved
