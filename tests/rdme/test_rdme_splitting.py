"""Splitting order: A <-> B with D_A != D_B (first-order reactions only).

The lattice mean obeys a linear ODE exactly, ``dm/dt = (L_D + K) m``. One
step's mean is ``D(h) exp(K tau)`` (Lie) or ``D(h/2) exp(K tau) D(h/2)``
(Strang), with ``D`` the mean operator of the lattice sweeps: the reaction
substep is exact (per-site SSA), the sweep is exact for the *discrete-time*
walk. Against the ODE, the splitting contributes O(tau) (Lie) and O(tau^2)
(Strang); the sweep's own time discretisation adds O(h_D), h_D the sweep
length. With ``diffusion_substeps`` making h_D shrink as tau^2, the error of
the lattice mean shrinks as tau for Lie and tau^2 for Strang (fitted below);
with one sweep per substep Strang is first order too (as in MPD-RDME), though
smaller than Lie. The kernel's stochastic mean is checked against this mean
recursion, so the orders are those of the kernel.
"""
import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

import greybox_processes.rdme as rd

H = 1e-7
D_A, D_B = 1e-13, 2.5e-14          # hop rates 10/s and 2.5/s per direction
K1, K2 = 3.0, 1.0                  # A -> B, B -> A
N_X = 6
T = 0.4


def walk(p):
    w = np.zeros((N_X, N_X))
    for i in range(N_X):
        if i > 0:
            w[i, i - 1] = p
        if i < N_X - 1:
            w[i, i + 1] = p
        w[i, i] = 1 - w[i].sum()
    return w


def initial():
    m = np.zeros((2, N_X))
    m[0, 0] = 1.0
    return m


def exact_mean():
    rates = [D_A / H ** 2, D_B / H ** 2]
    n = 2 * N_X
    gen = np.zeros((n, n))
    for s in range(2):
        gen[s * N_X:(s + 1) * N_X, s * N_X:(s + 1) * N_X] = rates[s] * (walk(1.0) - np.eye(N_X))
    for i in range(N_X):           # reactions mix species at each site (row vector form)
        a, b = i, N_X + i
        gen[a, a] -= K1
        gen[a, b] += K1
        gen[b, b] -= K2
        gen[b, a] += K2
    return (initial().reshape(-1) @ expm(gen * T)).reshape(2, N_X)


def scheme_mean(tau, splitting, substeps):
    react = expm(np.array([[-K1, K1], [K2, -K2]]) * tau)    # row vector (A, B) -> (A, B)
    half = tau if splitting == "lie" else tau / 2
    sweeps = [np.linalg.matrix_power(walk(d * half / substeps / H ** 2), substeps)
              for d in (D_A, D_B)]
    m = initial()
    for _ in range(int(round(T / tau))):
        m = np.stack([m[s] @ sweeps[s] for s in range(2)])
        m = (m.T @ react).T
        if splitting == "strang":
            m = np.stack([m[s] @ sweeps[s] for s in range(2)])
    return m


def model():
    m = rd.RDMEModel().add_species("A", D_A).add_species("B", D_B)
    m.add_reaction("A -> B", K1).add_reaction("B -> A", K2)
    return m


@pytest.mark.parametrize("splitting,order,substeps", [
    ("lie", 1.0, [1, 1, 1, 1]),       # first order whatever the sweeps
    ("strang", 2.0, [1, 2, 4, 8]),    # sweep length tau/substeps ~ tau^2
])
def test_error_of_the_lattice_mean_shrinks_with_the_splitting_order(splitting, order, substeps):
    exact = exact_mean()
    taus = T / np.array([16, 32, 64, 128])
    errors = [np.abs(scheme_mean(t, splitting, n) - exact).max() for t, n in zip(taus, substeps)]
    fit = stats.linregress(np.log(taus), np.log(errors))
    assert fit.slope == pytest.approx(order, abs=0.25), (fit.slope, errors)
    # and with one sweep per substep, Strang's error is still below Lie's
    lie = np.abs(scheme_mean(T / 16, "lie", 1) - exact).max()
    strang = np.abs(scheme_mean(T / 16, "strang", 1) - exact).max()
    assert strang < lie


@pytest.mark.parametrize("splitting", ["lie", "strang"])
def test_kernel_mean_is_the_scheme_mean(splitting):
    lattice = rd.box((N_X, 1), H, periodic=False)
    tau, substeps = T / 8, 2
    kernel = rd.rdme(model(), lattice, tau=tau, splitting=splitting,
                     diffusion_substeps=substeps, initial_max=1200)
    n, replicas = 1200, 48
    counts = np.zeros((replicas, 2, N_X, 1), np.int64)
    counts[:, 0, 0, 0] = n
    state = kernel.step(kernel.init(21, counts), int(round(T / tau)))
    rd.check_errors(state)
    raw = np.asarray(state.counts)[..., 0].astype(np.int64)          # (R, 2, N_X)
    np.testing.assert_array_equal(raw.sum(axis=(1, 2)), n)            # conservation
    final = raw / n
    mean = final.mean(axis=0)
    se = final.std(axis=0, ddof=1) / np.sqrt(replicas) + 1e-9
    expected = scheme_mean(tau, splitting, substeps)
    z = (mean - expected) / se
    assert np.all(np.abs(z) < 4.5), z
    if splitting == "lie":   # Lie's splitting error is far above the noise at this tau
        assert np.abs(mean - exact_mean()).max() > 5 * se.max()
