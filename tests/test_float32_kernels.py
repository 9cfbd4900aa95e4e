"""Every kernel exposes ``dtype``/``float_dtype=float32``: run each in float32 and float64.

Under strict dtype promotion (conftest) a silent float64 constant in a float32
kernel raises; the checks here also pin that the states *stay* float32, are
finite, and that a statistic agrees with the float64 run to float32 accuracy.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import greybox_processes.rdme as rd
from greybox_processes.grn import read_sergio
from greybox_processes.grn.kernel import GRNParams, grn_sde
from greybox_processes.tissue.kernel import TissueParams, check_errors, make_tissue


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_grn_keeps_its_dtype_and_its_deterministic_steady_state(dtype):
    # q=0: no noise, so the float32 and float64 runs must agree to rounding only
    net = read_sergio("DS1")
    cells = np.arange(20) % net.n_cell_types
    params = GRNParams.from_network(net, cells, q=0.0, dtype=dtype)
    init_fn, step_fn = grn_sde(params)
    state = step_fn(init_fn(jax.random.key(0)), 50)
    assert state.mrna.dtype == dtype and state.protein.dtype == dtype
    assert np.isfinite(np.asarray(state.mrna)).all()
    ref = np.asarray(GRNParams.from_network(net, cells, q=0.0).steady_mrna)
    np.testing.assert_allclose(np.asarray(state.mrna, np.float64).mean(), ref.mean(),
                               rtol=1e-5)


def test_grn_noisy_float32_mean_matches_float64():
    net = read_sergio("DS1")
    cells = np.arange(100) % net.n_cell_types
    means = []
    for dtype in (jnp.float32, jnp.float64):
        params = GRNParams.from_network(net, cells, q=1.0, dtype=dtype)
        init_fn, step_fn = grn_sde(params)
        state = step_fn(init_fn(jax.random.key(3)), 100)
        assert state.mrna.dtype == dtype
        assert np.isfinite(np.asarray(state.mrna)).all()
        means.append(float(np.asarray(state.mrna, np.float64).mean()))
    # float32 normals are drawn from other bits than float64 ones, so the runs are
    # independent samples: the means of 100 cells x all genes agree to a few percent
    assert means[0] == pytest.approx(means[1], rel=5e-2)


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_rdme_float32_matches_float64_decay_mean(method):
    model = rd.RDMEModel().add_species("A", 1e-12, initial=400).add_species("B", 1e-12)
    model.add_reaction("A -> B", 5.0)
    lattice = rd.box((4, 4, 4), 1e-7)
    tau = rd.max_stable_tau(model.compile(lattice), lattice, p_max=0.25)
    n_steps = int(round(0.1 / tau))
    means = {}
    for fdt in (np.float32, np.float64):
        kernel = rd.rdme(model, lattice, tau=tau, method=method, float_dtype=fdt)
        assert kernel.method == method
        state = kernel.step(kernel.init(1, n_replicas=16, seed=2), n_steps)
        rd.check_errors(state)
        counts = np.asarray(kernel.observe(state))[:, 0, :]
        assert counts.sum(axis=1).tolist() == [400] * 16      # A + B conserved exactly
        means[fdt] = counts[:, 0].mean()
    survive = np.exp(-5.0 * n_steps * tau)
    expected = 400 * survive
    se = np.sqrt(400 * survive * (1 - survive) / 16)     # binomial, 16 replicas
    for m in means.values():
        assert abs(m - expected) < 5 * se
    assert abs(means[np.float32] - means[np.float64]) < 5 * se * np.sqrt(2)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_tissue_pair_force_balance_in_both_dtypes(dtype):
    k_a, k_r = 0.1, 2.0
    p = TissueParams.create(n_types=1, dim=2, dt=0.02, domain=(12.0, 12.0), cycle=False,
                            random_force=0.0, attraction=k_a, repulsion=k_r, drift=0.5,
                            dtype=dtype)
    init_fn, step_fn = make_tissue(p)
    pos = jnp.asarray([[5.2, 6.0], [6.8, 6.0]], dtype)
    s = step_fn(init_fn(jax.random.key(0), pos, jnp.zeros(2, jnp.int32), synchronized=True),
                1500)
    check_errors(s)
    assert s.position.dtype == dtype and s.mass.dtype == dtype and s.time.dtype == dtype
    d = float(jnp.linalg.norm(s.position[0] - s.position[1]))
    m, r = float(s.mass[0]), float(s.radius[0])
    assert np.isfinite(d)
    net = k_r * 2.0 * (2 * m) * max(2 * r - d, 0.0) / (2 * r) - k_a * m * m / d ** 2
    # the residual force of the settled pair, relative to its attraction
    assert abs(net) < (1e-4 if dtype == jnp.float32 else 1e-8) * k_a * m * m / d ** 2
