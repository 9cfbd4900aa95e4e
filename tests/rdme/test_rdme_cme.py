"""The lattice against the exact well-mixed CME: B1's stationary law (any spacing), B1's
mean time course (reaction-limited), and the Poisson law of production/degradation."""
import numpy as np
import pytest
from scipy import stats

import greybox_processes.rdme as rd
from greybox_processes.rdme.composites import b1_model
from greybox_processes.rdme.process import load_model
from greybox_processes.rdme.reference import bimolecular_cme, poisson_stationary

VOLUME = 1e-18   # 1 um^3
CME = bimolecular_cme(1000, 1000, 0, 1.07e5, 0.351, VOLUME)


def b1_kernel(size, splitting="strang", method="auto"):
    model, lattice = load_model(b1_model(size))
    tau = rd.max_stable_tau(model.compile(lattice), lattice, splitting, p_max=0.25)
    return rd.rdme(model, lattice, tau=tau, splitting=splitting, method=method), model, lattice


def stationary_start(lattice, n_replicas, seed):
    """Replicas with C drawn from the CME's stationary law, particles placed uniformly."""
    rng = np.random.default_rng(seed)
    c = rng.choice(CME.c, size=n_replicas, p=CME.stationary())
    counts = np.zeros((n_replicas, 3, lattice.n_sites), np.int64)
    for r, n_c in enumerate(c):
        for s, n in enumerate((1000 - n_c, 1000 - n_c, n_c)):
            np.add.at(counts[r, s], rng.integers(0, lattice.n_sites, n), 1)
    return counts.reshape((n_replicas, 3) + lattice.shape)


def chisquare_against(samples, probabilities, support):
    """Pearson chi-square of integer samples against a discrete law (bins >= 5 expected)."""
    expected = probabilities * samples.size
    edges, acc = [], 0.0
    for i, e in enumerate(expected):
        acc += e
        if acc >= 5 and expected[i + 1:].sum() >= 5:
            edges.append(support[i])
            acc = 0.0
    bins = np.searchsorted(np.array(edges), support, side="left")
    exp_binned = np.bincount(bins, weights=expected)
    obs_binned = np.bincount(np.searchsorted(np.array(edges), samples, side="left"),
                             minlength=exp_binned.size)
    return stats.chisquare(obs_binned, exp_binned * obs_binned.sum() / exp_binned.sum()).pvalue


def check_law(samples, probabilities, support):
    mean = probabilities @ support
    var = probabilities @ support ** 2 - mean ** 2
    n = samples.size
    assert abs(samples.mean() - mean) < 4 * np.sqrt(var / n), (samples.mean(), mean)
    # the sample variance of n draws has standard error ~ var sqrt(2/(n-1)) (+ kurtosis)
    assert abs(samples.var(ddof=1) - var) < 4.5 * var * np.sqrt(2 / (n - 1)), \
        (samples.var(ddof=1), var)
    assert chisquare_against(samples, probabilities, support) > 1e-3


@pytest.mark.parametrize("method", ["lattice", "particles"])
@pytest.mark.parametrize("size", [2, 4, pytest.param(8, marks=pytest.mark.slow)])
def test_b1_stationary_law_equals_cme_for_any_spacing(size, method):
    """Start in the CME law; after 4 s (2.4 relaxation times) C must still follow it.

    Exact at any tau: the law is invariant under both the exact per-site reaction
    chain and the lattice walk, hence under the splitting."""
    kernel, _, lattice = b1_kernel(size, method=method)
    n_replicas = 256
    state = kernel.init(100 + size, stationary_start(lattice, n_replicas, seed=size))
    n_steps = int(round(4.0 / kernel.tau))
    state = kernel.step(state, n_steps)
    rd.check_errors(state)
    c = np.asarray(kernel.region_counts(state.counts))[:, 0, 2]
    a = np.asarray(kernel.region_counts(state.counts))[:, 0, 0]
    np.testing.assert_array_equal(a + c, 1000)          # A + C is conserved exactly
    check_law(c, CME.stationary(), CME.c)


@pytest.mark.exhaustive
@pytest.mark.parametrize("size", [16, 32, 64])
def test_b1_stationary_law_from_the_b1_start(size):
    """Lattice Microbes' sizes: from 1000 A + 1000 B, sampled after 12 s (7 relaxations).

    Hours on a 2-core CPU (tens of thousands of steps of 64 replicas at 32^3), so it is
    left out of CI: run ``pytest -m exhaustive`` on a GPU or a large CPU machine.
    """
    kernel, model, lattice = b1_kernel(size, "lie")
    n_replicas = {16: 128, 32: 64, 64: 16}[size]
    state = kernel.init(7, model.initial_counts(lattice, n_replicas, seed=3))
    record = int(round(2.0 / kernel.tau))
    state, records, _ = kernel.step(state, 8 * record, record_every=record)
    rd.check_errors(state)
    samples = np.asarray(records)[6:, :, 0, 2].ravel()   # t = 14, 16 s: ~1.2 relaxations apart
    check_law(samples, CME.stationary(), CME.c)


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_b1_mean_follows_cme_time_course(method):
    kernel, model, lattice = b1_kernel(4, method=method)
    n_replicas = 128
    state = kernel.init(3, model.initial_counts(lattice, n_replicas, seed=4))
    record = int(round(0.25 / kernel.tau))
    state, records, _ = kernel.step(state, 8 * record, record_every=record)
    c = np.asarray(records)[:, :, 0, 2]
    times = kernel.tau * record * np.arange(1, 9)
    dist = CME.distribution(times)
    mean = dist @ CME.c
    sd = np.sqrt(dist @ CME.c ** 2 - mean ** 2)
    z = (c.mean(axis=1) - mean) / (sd / np.sqrt(n_replicas))
    assert np.all(np.abs(z) < 4.5), z
    assert c.mean(axis=1)[-1] > 0.7 * mean[-1] > 130            # it really moved


def test_production_degradation_is_poisson():
    lattice = rd.box((4, 4, 4), 1e-7)
    volume = lattice.n_sites * lattice.site_volume
    k_deg = 2.0
    mean = 30.0
    k_prod = mean * k_deg / (rd.AVOGADRO * volume * 1e3)
    model = rd.RDMEModel().add_species("A", 1e-12)
    model.add_reaction("0 -> A", k_prod).add_reaction("A -> 0", k_deg)
    assert poisson_stationary(k_prod, k_deg, volume) == pytest.approx(mean)
    kernel = rd.rdme(model, lattice, tau=4e-3, initial_max=6)
    state = kernel.init(9, np.zeros((300, 1, 4, 4, 4), np.int64))
    state = kernel.step(state, int(round(3.0 / kernel.tau)))       # 6 relaxation times
    n = np.asarray(kernel.region_counts(state.counts))[:, 0, 0]
    support = np.arange(0, 120)
    check_law(n, stats.poisson.pmf(support, mean), support)
