"""The deterministic field kernel is differentiable: fit D and a decay rate by gradient descent."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from greybox_processes.tissue.fit import fields_params, fit_diffusion_decay, simulate_fields


def _initial(shape):
    x, y = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    blob = 50.0 * np.exp(-((x - 5.0) ** 2 + (y - 9.0) ** 2) / 4.0) + 1.0
    return jnp.asarray(blob[None], jnp.float64)


@pytest.mark.slow
def test_gradient_matches_finite_differences():
    params = fields_params(D=0.8, k=0.1, shape=(8, 8))
    initial = _initial((8, 8))

    def centre(D):
        import dataclasses
        p = dataclasses.replace(params, diffusion=jnp.reshape(D, (1,)))
        return simulate_fields(p, initial, n_records=3, every=5)[-1, 0, 3, 3]

    g = float(jax.grad(centre)(jnp.asarray(0.8)))
    h = 1e-6
    fd = (float(centre(jnp.asarray(0.8 + h))) - float(centre(jnp.asarray(0.8 - h)))) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-6)


def test_fit_recovers_diffusion_and_decay_within_one_percent():
    true_D, true_k = 0.8, 0.1
    shape = (12, 12)
    params = fields_params(D=true_D, k=true_k, shape=shape)
    initial = _initial(shape)
    observed = simulate_fields(params, initial, n_records=15, every=10)
    fit = fit_diffusion_decay(params, initial, observed, guess=(0.3, 0.3), every=10)
    assert fit["D"] == pytest.approx(true_D, rel=0.01)
    assert fit["k"] == pytest.approx(true_k, rel=0.01)
    assert fit["history"][0][2] > 1e3 * fit["loss"]  # the loss really fell
