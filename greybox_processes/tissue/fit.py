"""Fit field parameters to a trajectory by gradient descent through the JAX kernel.

With noise off (``reaction_mode='deterministic'``, no cells) a run of the
tissue kernel is a differentiable function of its parameters. This module
fits a diffusion constant and a first-order decay rate to an observed
trajectory of field amounts with ``jax.value_and_grad`` and L-BFGS on the
log-parameters.

>>> params = fields_params(D=0.8, k=0.1)                     # doctest: +SKIP
>>> observed = simulate_fields(params, initial, n_records=20)  # doctest: +SKIP
>>> fit = fit_diffusion_decay(params, initial, observed, guess=(0.3, 0.3))  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .kernel import TissueParams, advance, make_tissue

__all__ = ["fields_params", "simulate_fields", "fit_diffusion_decay"]


def fields_params(*, D: float = 0.8, k: float = 0.1, shape=(16, 16), spacing: float = 1.0,
                  dt: float = 0.1, boundary: str = "closed") -> TissueParams:
    """Deterministic fields of one chemical ``A`` that diffuses (``D``) and decays (``k``)."""
    return TissueParams.create(
        n_types=1, dim=len(shape), dt=dt, domain=tuple(n * spacing for n in shape),
        field_shape=tuple(shape), chemicals=("A",), reactions=[f"A -> : {k}"],
        diffusion=D, reaction_mode="deterministic", boundary=boundary, mechanics=False,
        cycle=False, exchange_on=False)


def _with(params, D, k):
    return dataclasses.replace(params, diffusion=jnp.reshape(D, (1,)), rates=jnp.reshape(k, (1,)))


@functools.partial(jax.jit, static_argnames=("n_records", "every"))
def _trajectory(params, state, n_records, every):
    _, traj = advance(params, state, n_steps=n_records * every, record_every=every)
    return traj.fields


def simulate_fields(params: TissueParams, initial, *, n_records: int = 20, every: int = 10):
    """``[n_records, 1, *shape]`` field amounts every ``every`` steps from ``initial`` amounts."""
    init_fn, _ = make_tissue(params)
    dim = params.dim
    state = init_fn(jax.random.key(0), jnp.zeros((0, dim), params.dtype),
                    jnp.zeros((0,), jnp.int32), fields=initial)
    return _trajectory(params, state, n_records, every)


def fit_diffusion_decay(params: TissueParams, initial, observed, *, guess=(0.3, 0.3),
                        every: int = 10, tol: float = 1e-12, max_iter: int = 200):
    """Fit ``(D, k)`` to ``observed`` (from :func:`simulate_fields`) by L-BFGS on log-parameters.

    Returns ``{'D', 'k', 'loss', 'iterations', 'history'}``.
    """
    from scipy.optimize import minimize

    init_fn, _ = make_tissue(params)
    state = init_fn(jax.random.key(0), jnp.zeros((0, params.dim), params.dtype),
                    jnp.zeros((0,), jnp.int32), fields=initial)
    observed = jnp.asarray(observed, params.dtype)
    n_records = int(observed.shape[0])
    scale = jnp.mean(observed ** 2)

    def loss(log_theta):
        theta = jnp.exp(log_theta)
        traj = _trajectory(_with(params, theta[0], theta[1]), state, n_records, every)
        return jnp.mean((traj - observed) ** 2) / scale

    value_and_grad = jax.jit(jax.value_and_grad(loss))
    history = []

    def fun(x):
        v, g = value_and_grad(jnp.asarray(x, params.dtype))
        history.append((float(np.exp(x[0])), float(np.exp(x[1])), float(v)))
        return float(v), np.asarray(g, dtype=np.float64)

    res = minimize(fun, np.log(np.asarray(guess, dtype=np.float64)), jac=True,
                   method="L-BFGS-B", options={"ftol": tol, "gtol": 1e-12, "maxiter": max_iter})
    D, k = np.exp(res.x)
    return {"D": float(D), "k": float(k), "loss": float(res.fun), "iterations": int(res.nit),
            "history": history}
