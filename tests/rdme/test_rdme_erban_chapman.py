"""Diffusion-limited A + B: the lattice's effective rate follows Erban & Chapman (2009).

Erban & Chapman, Phys. Biol. 6:046001 (2009): the RDME with per-site rate k/h^3
has the effective rate ``k_eff = k / (1 + beta k / ((D_A + D_B) h))``,
``beta = 0.2527`` (Watson's integral). The derivation: one A and one B placed
uniformly on N sites react after a mean time ``N (h^3/k + R_0)``, ``R_0`` the
integral of the relative walk's return probability -- ``beta h^2/(D_A+D_B)``
on an unbounded lattice (for a finite periodic lattice :func:`lattice_green_r0`).

Two checks at each spacing: the kernel's mean reaction time equals the exact
mean of its own discrete-time scheme (a linear solve over relative positions;
tight), and that mean is Erban & Chapman's continuous-time value up to the
O(tau) time discretisation (hop probability 1/16 here; a few per cent).
"""
import numpy as np
import pytest

import greybox_processes.rdme as rd
from greybox_processes.rdme.reference import BETA_3D, erban_chapman_rate

D = 1e-12
EXTENT = 0.5e-6
K = 2 * D * 6.25e-8 / BETA_3D          # m^3/s: beta k / ((D_A + D_B) h) = 1 at h = 62.5 nm
P_HOP = 1 / 16


def discrete_mean_time(size, p, rate, tau):
    """Exact mean reaction time of one A-B pair under the Lie scheme (diffuse, then react)."""
    w1 = np.zeros(size)
    w1[0] = 1 - 2 * p
    w1[1 % size] += p
    w1[-1 % size] += p
    w = np.real(np.fft.ifft(np.fft.fft(w1) ** 2))            # relative displacement per axis
    p1 = np.array([[w[(j - i) % size] for j in range(size)] for i in range(size)])
    p3 = np.kron(np.kron(p1, p1), p1)
    survive = np.ones(size ** 3)
    survive[0] = np.exp(-rate * tau)
    times = np.linalg.solve(np.eye(size ** 3) - p3 * survive[None, :], np.ones(size ** 3))
    return times.mean() * tau


def measure(size, n_replicas, n_a, seed, method="lattice"):
    h = EXTENT / size
    lattice = rd.box((size,) * 3, h)
    model = rd.RDMEModel().add_species("A", D).add_species("B", D)
    # B is a catalyst: with one B, every A independently runs the A-B pair problem
    model.add_reaction("A + B -> B", K * 1e3 * rd.AVOGADRO)   # m^3/s -> 1/(M s)
    tau = P_HOP * h * h / D
    kernel = rd.rdme(model, lattice, tau=tau, splitting="lie", initial_max=n_a, method=method)
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_replicas, 2, lattice.n_sites), np.int64)
    for r in range(n_replicas):
        np.add.at(counts[r, 0], rng.integers(0, lattice.n_sites, n_a), 1)
        counts[r, 1, rng.integers(0, lattice.n_sites)] = 1
    state = kernel.init(seed, counts.reshape((n_replicas, 2) + lattice.shape))
    expected = discrete_mean_time(size, P_HOP, K / h ** 3, tau)
    n_steps = int(np.ceil(6 * expected / tau))
    state, records, _ = kernel.step(state, n_steps, record_every=1)
    survival = np.asarray(records)[:, :, 0, 0] / n_a                    # (steps, replicas)
    # E[T] = tau * sum_{t >= 0} S(t), with an exponential tail beyond the last step
    per_replica = tau * (1 + survival.sum(axis=0) + survival[-1] * expected / tau)
    return per_replica, expected, h


@pytest.mark.parametrize("method", ["lattice", "particles"])
@pytest.mark.parametrize("size", [4, pytest.param(8, marks=pytest.mark.slow)])
def test_mean_reaction_time_matches_the_lattice_theory(size, method):
    per_replica, expected, h = measure(size, n_replicas=48, n_a=48, seed=size, method=method)
    mean, se = per_replica.mean(), per_replica.std(ddof=1) / np.sqrt(per_replica.size)
    assert abs(mean - expected) < 4 * se, (mean, expected, se)
    # Erban & Chapman's continuous-time rate (finite periodic lattice), up to O(tau)
    volume = EXTENT ** 3
    k_eff = volume / mean
    assert k_eff == pytest.approx(erban_chapman_rate(K, 2 * D, h, shape=(size,) * 3), rel=0.08)


def test_effective_rate_falls_as_the_lattice_is_refined():
    """The formula, unbounded lattice: k_eff/k = 1/(1 + beta k/((D_A+D_B) h)) -> 0 as h -> 0."""
    ratios = [erban_chapman_rate(K, 2 * D, EXTENT / n) / K for n in (4, 8, 16, 32)]
    expected = [1 / (1 + BETA_3D * K / (2 * D * EXTENT / n)) for n in (4, 8, 16, 32)]
    np.testing.assert_allclose(ratios, expected)
    assert np.all(np.diff(ratios) < 0)
    assert ratios[1] == pytest.approx(0.5)                   # beta k / (2 D h) = 1 at h = 62.5 nm


@pytest.mark.exhaustive
def test_mean_reaction_time_at_16():
    per_replica, expected, h = measure(16, n_replicas=16, n_a=64, seed=16)
    volume = EXTENT ** 3
    k_eff = volume / per_replica.mean()
    assert k_eff == pytest.approx(erban_chapman_rate(K, 2 * D, h, shape=(16,) * 3), rel=0.08)
