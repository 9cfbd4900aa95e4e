"""Physics and statistics of the GRN SDE kernel and of ``simulate``."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from greybox_processes.errors import SimulationError
from greybox_processes.grn import (GRNNetwork, GRNParams, GRNState, check_errors, grn_sde,
                                   read_sergio, simulate, steady_state)


@pytest.fixture(scope="module")
def ds1():
    return read_sergio("DS1")


def test_q_zero_stays_at_steady_state(ds1):
    """Without noise every cell stays at its type's deterministic steady state."""
    ss = steady_state(ds1)
    for method in ("dense", "sparse"):
        a = simulate(ds1, 3, q=0.0, steps=300, method=method)
        types = a.obs["cell_type"].to_numpy().astype(int)
        np.testing.assert_allclose(a.X, ss[types], rtol=0, atol=1e-10)
        np.testing.assert_allclose(a.layers["protein"], ss[types] * 1.0 / 0.1, atol=1e-9)
        assert a.uns["grn"]["n_clipped"] == 0


def _birth_death(b, lam, n_cells, steps, dt, noise, seed=0):
    net = GRNNetwork.from_arrays([[b]])
    p = GRNParams.from_network(net, np.zeros(n_cells, dtype=int), decay=lam, q=1.0,
                               k_trans=2.0, k_deg=0.5, dtype=jnp.float64)
    init, step = grn_sde(p, noise=noise, dt=dt)
    s = step(init(jax.random.PRNGKey(seed)), steps)
    check_errors(s)
    return np.asarray(s.mrna[:, 0]), np.asarray(s.protein[:, 0]), int(s.n_clipped)


def _var_tolerance(x, k=5.0):
    """k standard errors of the sample variance, SE^2 = (m4 - s^4)/N (any distribution)."""
    d = x - x.mean()
    s2, m4 = np.mean(d**2), np.mean(d**4)
    return k * np.sqrt((m4 - s2**2) / x.size)


@pytest.mark.parametrize("noise", ["dpd", "sp"])
def test_birth_death_stationary_moments(noise):
    r"""One master regulator, production b, decay lambda, no edges.

    Chemical Langevin equation (q = 1):
    dx = (b - lambda x) dt + sqrt(b) dW_a + sqrt(lambda x) dW_b  ('dpd'),
    dx = (b - lambda x) dt + sqrt(b) dW_a                         ('sp').
    The drift is linear, so the stationary mean is b/lambda and, for the
    Euler-Maruyama chain y' = (1 - lambda dt) y + sqrt(dt) sigma z with
    E[sigma^2] = b + lambda E[x] = 2b ('dpd') or b ('sp'), the stationary variance is
    exactly sigma^2 dt / (1 - (1 - lambda dt)^2) (-> sigma^2 / (2 lambda) = q^2 b/lambda
    for 'dpd' as dt -> 0; the O(dt) factor 1/(1 - lambda dt/2) is kept). Starting at
    the mean, the variance reaches stationarity as 1 - exp(-2 lambda t); t = 12 makes
    that error e^-24. b/lambda = 40 is 6 standard deviations from 0, so clipping at 0
    never happens (checked).
    Protein (exact integration, k_trans = 2, k_deg = 0.5) has mean k_trans/k_deg E[x].
    """
    b, lam, dt, n = 40.0, 1.0, 0.01, 20000
    x, pr, n_clip = _birth_death(b, lam, n, 1200, dt, noise)
    assert n_clip == 0
    mean = b / lam
    sigma2 = 2 * b if noise == "dpd" else b
    var = sigma2 * dt / (1 - (1 - lam * dt) ** 2)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / n)
    assert abs(x.var() - var) < _var_tolerance(x)
    assert abs(pr.mean() - 4.0 * mean) < 5 * pr.std() / np.sqrt(n)


def test_spd_is_sum_of_square_roots():
    """SERGIO's 'spd' amplitude is sqrt(P) + sqrt(D) in one stream.

    At the steady state sigma^2 = (sqrt(b) + sqrt(lambda x))^2 ~ 4b (to O(var/mean^2)),
    twice the 'dpd' value 2b; sqrt(P + D) would give 2b.
    """
    b, lam, dt = 40.0, 1.0, 0.01
    x, _, _ = _birth_death(b, lam, 20000, 1200, dt, "spd")
    var_4b = 4 * b * dt / (1 - (1 - lam * dt) ** 2)
    assert abs(x.var() / var_4b - 1) < 0.05


def test_protein_relaxation_exact(ds1):
    """q = 0, mRNA at steady state, protein from 0: Pr(t) = k_t/k_d x (1 - exp(-k_d t))."""
    kt, kd, dt, n = 2.0, 0.3, 0.01, 250
    p = GRNParams.from_network(ds1, np.arange(9), q=0.0, k_trans=kt, k_deg=kd)
    init, step = grn_sde(p, dt=dt)
    s0 = init(jax.random.PRNGKey(0), protein=jnp.zeros((9, 100)))
    s = step(s0, n)
    x = np.asarray(p.steady_mrna)
    np.testing.assert_allclose(np.asarray(s.protein), kt / kd * x * (1 - np.exp(-kd * n * dt)),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(s.mrna), x, atol=1e-10)
    s_ss = step(init(jax.random.PRNGKey(0)), n)  # protein starting at k_t x / k_d stays
    np.testing.assert_allclose(np.asarray(s_ss.protein), kt / kd * x, rtol=1e-12)


def test_rate_scale_multiplies_production(ds1):
    """rate_scale = 0 and q = 0: pure decay x_n = x_0 (1 - lambda dt)^n."""
    p = GRNParams.from_network(ds1, np.array([0, 4]), q=0.0)
    init, step = grn_sde(p, dt=0.01)
    s0 = init(jax.random.PRNGKey(1))
    s = step(s0, 100, rate_scale=jnp.zeros((2, 100)))
    np.testing.assert_allclose(np.asarray(s.mrna), np.asarray(s0.mrna) * 0.992**100,
                               rtol=1e-10)
    s1 = step(s0, 100, rate_scale=jnp.ones((2, 100)))
    np.testing.assert_allclose(np.asarray(s1.mrna), np.asarray(s0.mrna), atol=1e-10)


def test_same_seed_bit_identical_and_seeds_differ(ds1):
    kw = dict(steps=50, technical_noise={"dropout_shape": 2.0, "dropout_percentile": 50.0,
                                         "library_mean": 4.0, "library_scale": 0.3})
    a = simulate(ds1, 20, seed=3, **kw)
    b = simulate(ds1, 20, seed=3, **kw)
    c = simulate(ds1, 20, seed=4, **kw)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.layers["protein"], b.layers["protein"])
    assert np.array_equal(a.layers["counts"], b.layers["counts"])
    assert not np.array_equal(a.X, c.X)
    sa = simulate(ds1, 7, sampling="sergio", seed=1)
    sb = simulate(ds1, 7, sampling="sergio", seed=1)
    assert np.array_equal(sa.X, sb.X)


def test_never_negative_with_big_noise(ds1):
    a = simulate(ds1, 30, q=5.0, steps=200, noise="dpd")
    assert np.all(a.X >= 0) and np.all(a.layers["protein"] >= 0)
    assert a.uns["grn"]["n_clipped"] > 0  # clipping did happen and was counted
    for noise in ("sp", "spd"):
        assert np.all(simulate(ds1, 5, q=5.0, steps=100, noise=noise).X >= 0)


def test_sergio_sampling_counts_and_means(ds1):
    counts = [3, 50, 0, 7, 10, 1, 2, 4, 60]
    a = simulate(ds1, counts, sampling="sergio", q=0.05, seed=0)
    assert a.n_obs == sum(counts)
    np.testing.assert_array_equal(np.bincount(a.obs["cell_type"].to_numpy().astype(int),
                                              minlength=9), counts)
    # SERGIO v2 runs safety_iter + max(n) * scale_iter steps.
    assert a.uns["grn"]["steps"] == 50 + 60 * 10
    ss = steady_state(ds1)
    types = a.obs["cell_type"].to_numpy().astype(int)
    for c in (1, 8):
        mean = a.X[types == c].mean(axis=0)
        # q = 0.05: fluctuations ~ 0.05 sqrt(x), far below the tolerance.
        np.testing.assert_allclose(mean, ss[c], rtol=0.05, atol=0.05)


def test_argument_validation(ds1):
    with pytest.raises(ValueError, match="noise"):
        simulate(ds1, 2, noise="gaussian")
    with pytest.raises(ValueError, match="q"):
        simulate(ds1, 2, q=-1.0)
    with pytest.raises(ValueError, match="dt"):
        simulate(ds1, 2, dt=0.0)
    with pytest.raises(ValueError, match="one entry per cell type"):
        simulate(ds1, [1, 2, 3])
    with pytest.raises(ValueError, match="sampling"):
        simulate(ds1, 2, sampling="bootstrap")
    with pytest.raises(ValueError, match="steps"):
        simulate(ds1, 2, steps=0)
    with pytest.raises(ValueError, match="decay"):
        simulate(ds1, 2, decay=-1.0)
    with pytest.raises(ValueError, match="k_deg"):
        simulate(ds1, 2, k_deg=0.0, steps=2)
    with pytest.raises(ValueError, match="noise"):
        grn_sde(GRNParams.from_network(ds1, [0]), noise="x")


def test_errors_are_flagged_and_raised(ds1):
    p = GRNParams.from_network(ds1, np.array([0, 1]))
    init, step = grn_sde(p)
    s = step(init(jax.random.PRNGKey(0)), 5, rate_scale=jnp.full((2, 100), jnp.nan))
    assert int(s.error) != 0
    with pytest.raises(SimulationError, match="NaN"):
        check_errors(s)
    ok = step(init(jax.random.PRNGKey(0)), 5)
    check_errors(ok)
    assert isinstance(ok, GRNState) and ok.mrna.dtype == jnp.float64


def test_anndata_layout(ds1):
    a = simulate(ds1, [2] * 9, steps=10)
    assert a.shape == (18, 100)
    assert list(a.var_names[:3]) == ["0", "1", "2"]
    assert a.layers["protein"].shape == a.shape
    assert a.uns["grn"]["noise"] == "dpd" and a.uns["grn"]["steps"] == 10
    assert "protein" not in simulate(ds1, 1, steps=5, protein=False).layers


def test_large_populations_are_advanced_in_chunks_without_changing_the_physics():
    """Above 2048 cells the kernel advances chunks of cells; with q=0 the result is exact."""
    import jax
    import numpy as np

    from greybox_processes.grn import read_sergio
    from greybox_processes.grn.kernel import GRNParams, cell_chunk, grn_sde

    assert cell_chunk(1000) == 0 and cell_chunk(4500) == 1500 and cell_chunk(4099) == 0
    net = read_sergio("DS1")
    cells = np.arange(4500) % net.n_cell_types
    params = GRNParams.from_network(net, cells, q=0.0)
    init_fn, step_fn = grn_sde(params)
    state = step_fn(init_fn(jax.random.key(0)), 20)
    np.testing.assert_allclose(np.asarray(state.mrna), np.asarray(params.steady_mrna),
                               rtol=1e-10, atol=1e-12)
    noisy = GRNParams.from_network(net, cells, q=1.0)
    init_fn, step_fn = grn_sde(noisy)
    a = step_fn(init_fn(jax.random.key(1)), 5)
    b = step_fn(init_fn(jax.random.key(1)), 5)
    np.testing.assert_array_equal(np.asarray(a.mrna), np.asarray(b.mrna))
    # chunks get independent streams: no two chunks share their noise
    x = np.asarray(a.mrna) - np.asarray(noisy.steady_mrna)
    assert not np.allclose(x[:1500], x[1500:3000])
    assert (np.asarray(a.mrna) >= 0).all()
