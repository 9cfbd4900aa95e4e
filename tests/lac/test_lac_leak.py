"""The repressed operator's leak and LacY turnover options of the lac kernel, and its stepping.

Physics checked: the single-molecule leak is a per-cell Poisson source of single
transcripts; with LacY long-lived against its mRNA, the LacY law is the burst model's
negative binomial (gamma) law with ``a = leak/removal`` bursts per LacY lifetime and
``b = alpha_P/gamma_M`` LacY per transcript (Friedman, Cai & Xie 2006, PRL 97:168302;
Shahrezaei & Swain 2008, PNAS 105:17256); the fully induced mean field stays YM's; LacY
without turnover keeps YM's induced steady state at YM's growth rate; a cell that starts with
every reaction exact and turns to leaping within an interval keeps the linear network's
exact means.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from greybox_processes.lac.kernel import (DEFAULT_LEAK_RATE, SPECIES, LacKinetics, check_errors,
                                          concentrations_to_counts, make_lac_operon,
                                          molecules_per_mM, propensities)
from greybox_processes.lac.process import LacOperon
from greybox_processes.metabolism.lac import LacParameters, integrate_lac, lac_steady_state

M, P, I1, I3 = (SPECIES.index(s) for s in ("mrna", "lacY", "mrna_nascent", "lacY_nascent"))
SBML = LacParameters.from_sbml()
SM = "single_molecule"


def _run(kin, counts, minutes, *, volume=1.0, mu=0.0, glucose=0.0, lactose=0.0, seed=0,
         regulation=None, **kernel):
    init, step = make_lac_operon(kin, **kernel)
    n = counts.shape[0]
    volume = np.broadcast_to(np.asarray(volume, float), (n,))
    state = step(init(seed, counts), volume, np.full(n, mu), np.ones(n, bool), glucose,
                 lactose, minutes, regulation)
    check_errors(state)
    return np.asarray(state.counts).astype(float)


def test_single_molecule_leak_is_one_poisson_source_per_cell():
    """mRNA only: Poisson with mean leak/gamma_M whatever the volume; YM's leak is ~25x more."""
    cells = 4096
    volume = np.where(np.arange(cells) < cells // 2, 1.0, 4.0)
    rates = {"alpha_B": 0.0, "alpha_P": 0.0}
    minutes = 20.0   # 8 mRNA lifetimes from nothing
    expected = DEFAULT_LEAK_RATE / SBML.gamma_M * -math.expm1(-SBML.gamma_M * minutes)
    m = _run(LacKinetics.create(rates, leak=SM), np.zeros((cells, len(SPECIES))), minutes,
             volume=volume)[:, M]
    for half in (volume == 1.0, volume == 4.0):
        se = math.sqrt(expected / half.sum())
        assert abs(m[half].mean() - expected) < 5 * se, (m[half].mean(), expected)
    # a Poisson law: variance = mean (5 standard errors of the variance)
    assert abs(m.var(ddof=1) - expected) < 5 * math.sqrt((expected + 2 * expected ** 2) / cells)
    ym = _run(LacKinetics.create(rates), np.zeros((512, len(SPECIES))), minutes)[:, M]
    ym_mean = (SBML.gamma_0 + SBML.alpha_M / SBML.K) * float(molecules_per_mM(1.0)) / SBML.gamma_M
    assert abs(ym.mean() - ym_mean) < 5 * math.sqrt(ym_mean / 512)
    assert m.mean() < ym.mean() / 10


@pytest.mark.parametrize("alpha_p", [SBML.alpha_P, SBML.alpha_P * SBML.mu / (SBML.gamma_P + SBML.mu)],
                         ids=["ym_translation", "dilution_translation"])
def test_single_molecule_lacy_follows_the_burst_law(alpha_p):
    """LacY from the leak, removed at g = 0.0231/min (a 30 min doubling's dilution, as a
    first-order rate): mean ``a b`` and zero fraction ``(1 + b)^-a`` of the negative binomial,
    ``a = leak/g``, ``b = alpha_P/gamma_M``, within 4 standard errors.

    The law is the limit of LacY living much longer than its mRNA and delays (here 43 min
    against 2.4 + 2.8 min); for these rates the exact zero fraction (quadrature over one
    transcript's descendants) differs from it by less than one standard error at this size
    (0.044 vs 0.047 and 0.563 vs 0.569).
    """
    g, cells = 0.0231, 2048
    kin = LacKinetics.create({"gamma_P": g, "alpha_P": alpha_p}, leak=SM)
    lacy = _run(kin, np.zeros((cells, len(SPECIES))), 300.0, glucose=10.0, seed=11)[:, P]
    a, b = DEFAULT_LEAK_RATE / g, alpha_p / SBML.gamma_M
    mean, zero = a * b, (1.0 + b) ** -a
    assert abs(lacy.mean() - mean) < 4 * math.sqrt(mean * (1 + b) / cells), (lacy.mean(), mean)
    observed_zero = np.mean(lacy == 0)
    assert abs(observed_zero - zero) < 4 * math.sqrt(zero * (1 - zero) / cells), \
        (observed_zero, zero)


def test_single_molecule_leak_keeps_the_induced_mean_field():
    """IPTG from nothing, 20 fL, no growth: ensemble means follow lac.py's ODE (YM's leak),
    the leak being 0.07% of the induced transcription."""
    kin = LacKinetics.create(iptg=True, leak=SM)
    volume, minutes, cells = 20.0, 6.0, 8
    counts = _run(kin, np.zeros((cells, len(SPECIES))), minutes, volume=volume)
    y = integrate_lac(np.zeros(8), minutes, 0.0, 0.0, 0.0, SBML, iptg=True)
    omega = float(molecules_per_mM(volume))
    for name, conc in {"mrna": y[0], "lacZ": y[1], "lacY": y[4], "lacY_nascent": y[7]}.items():
        assert counts[:, SPECIES.index(name)].mean() == pytest.approx(conc * omega, rel=0.03), name


@pytest.mark.parametrize("regulation", [0.0, 0.25])
def test_single_molecule_regulation_counts_the_release_beyond_repression(regulation):
    """mRNA only, induction read from a store: ``alpha_M Omega (r - 1/K)/(1 - 1/K)`` plus
    the leak (0 below repression), from the expected stationary mean (10 min, 4 lifetimes)."""
    cells, omega = 512, float(molecules_per_mM(1.0))
    released = max(regulation - 1 / SBML.K, 0.0) / (1 - 1 / SBML.K)
    mean = (SBML.alpha_M * released * omega + DEFAULT_LEAK_RATE) / SBML.gamma_M
    counts = np.zeros((cells, len(SPECIES)))
    counts[:, M] = round(mean)
    kin = LacKinetics.create({"alpha_B": 0.0, "alpha_P": 0.0}, leak=SM)
    m = _run(kin, counts, 10.0, regulation=np.full(cells, regulation), seed=5)[:, M]
    # 5 standard errors, or 1% where the transcription is leaped (frozen over a step)
    assert abs(m.mean() - mean) < max(5 * math.sqrt(mean / cells), 0.01 * mean), (m.mean(), mean)


def test_dilution_turnover_keeps_ym_induced_lacy_and_never_degrades_it():
    kin = LacKinetics.create(lacy_turnover="dilution")
    assert float(kin.gamma_P) == 0.0
    # YM's ODE with the rescaled rates, fully induced at YM's growth rate: same LacY
    stable = dataclasses.replace(SBML, gamma_P=0.0, alpha_P=float(kin.alpha_P))
    induced = {"iptg": True, "minutes": 2000.0}   # 45 LacY lifetimes at YM's growth rate
    ym_p = lac_steady_state(SBML.mu, 0.0, 0.0, SBML, **induced)[4]
    assert lac_steady_state(SBML.mu, 0.0, 0.0, stable, **induced)[4] == pytest.approx(ym_p, rel=1e-6)
    # no transcription at all: LacY stays in 'dilution' and decays in 'ym'
    silent = {"alpha_M": 0.0, "gamma_0": 0.0}
    counts = np.zeros((64, len(SPECIES)))
    counts[:, P] = 50
    kept = _run(LacKinetics.create(silent, lacy_turnover="dilution"), counts, 10.0)[:, P]
    decayed = _run(LacKinetics.create(silent), counts, 10.0)[:, P]
    np.testing.assert_array_equal(kept, 50)
    assert decayed.mean() < 50 * math.exp(-SBML.gamma_P * 10.0) + 1.0


def test_cells_turning_to_leaps_within_an_interval_keep_exact_means():
    """Regulation 0.5 in 1 fL from nothing: every reaction starts exact (transcription ~6 per
    0.02 min step) and LacY translation turns fast within the minute as mRNA builds up. All
    reactions are linear here, so the ensemble means obey the linear ODE exactly."""
    cells, minutes, r = 512, 3.0, 0.5
    kin = LacKinetics.create({"alpha_B": 0.0, "gamma_0": 0.0})
    x = _run(kin, np.zeros((cells, len(SPECIES))), minutes, regulation=np.full(cells, r), seed=3)
    rate = SBML.alpha_M * r * float(molecules_per_mM(1.0))
    maturation = 1.0 / (SBML.tau_B + SBML.tau_P)

    def rhs(_, y):
        i1, m, i3, p = y
        return [rate - i1 / SBML.tau_M, i1 / SBML.tau_M - SBML.gamma_M * m,
                SBML.alpha_P * m - maturation * i3, maturation * i3 - SBML.gamma_P * p]

    y = solve_ivp(rhs, (0.0, minutes), np.zeros(4), rtol=1e-10, atol=1e-8).y[:, -1]
    assert SBML.alpha_P * y[1] * 0.02 > 10.0, "LacY translation never turns fast: no test"
    for index, mean in zip((I1, M, I3, P), y):
        # 2%, or 4 standard errors where the ensemble is that noisy (30 nascent mRNA)
        tolerance = max(0.02 * mean, 4 * x[:, index].std(ddof=1) / math.sqrt(cells))
        assert abs(x[:, index].mean() - mean) < tolerance, (SPECIES[index], x[:, index].mean(), mean)


def test_process_options_reach_the_kernel_and_bad_values_are_clear(core):
    process = LacOperon({"capacity": 4, "leak": SM, "leak_rate": 0.01,
                         "lacy_turnover": "dilution"}, core=core)
    kin = process.kinetics
    assert (kin.leak, float(kin.leak_rate), kin.lacy_turnover) == (SM, 0.01, "dilution")
    assert float(kin.gamma_P) == 0.0
    rates = {"alpha_B": 0.0, "alpha_P": 0.0}
    means = {}
    for leak in ("ym", SM):
        lac = LacOperon({"capacity": 256, "initial_cells": 256, "leak": leak, "rates": rates,
                         "seed": 2}, core=core)
        state = {"lac": np.zeros((256, len(SPECIES))), "volume": np.ones(256),
                 "growth_rate": np.zeros(256), "alive": np.ones(256), "glucose": 0.0,
                 "lactose": 0.0}
        means[leak] = lac.update(state, 10.0)["lac"][:, M].mean()
    assert means[SM] < means["ym"] / 10
    with pytest.raises(ValueError, match=r"leak must be one of \['ym', 'single_molecule'\]"):
        LacOperon({"leak": "bursty"}, core=core)
    with pytest.raises(ValueError, match="lacy_turnover must be one of"):
        LacOperon({"lacy_turnover": "stable"}, core=core)
    with pytest.raises(ValueError, match="leak_rate .*transcripts per minute per cell"):
        LacOperon({"leak_rate": -1.0}, core=core)


@pytest.mark.slow
def test_a_cells_trajectory_does_not_depend_on_its_companions():
    """Bit-identical counts for the same cells (same counters) run in a batch of 64, where
    the 4 induced ones take the stepped scheme in a gathered eighth of the rows and the
    exact loops compact, and run in batches of 16 with dead padding rows, without them."""
    induced = concentrations_to_counts(
        integrate_lac(np.zeros(8), 300.0, 0.0, 0.584, 0.0231, SBML, iptg=True), 1.5)
    counts = np.zeros((64, len(SPECIES)))
    counts[:4] = induced
    counts[4:, P] = 20                     # repressed cells with some LacY: lactose comes in
    kin = LacKinetics.create()
    init, step = make_lac_operon(kin)
    glucose, lactose = 10.0, 0.584
    # the premise: only the induced cells have a reaction to leap (rate x 0.02 min > 10)
    uptake = lactose / (SBML.K_Le + lactose) * float(kin.k_glucose) / (float(kin.k_glucose)
                                                                      + glucose)
    a = np.asarray(propensities(kin, counts, np.full(64, float(molecules_per_mM(1.5))),
                                np.full(64, 0.0231), np.full(64, uptake)))
    np.testing.assert_array_equal((a * 0.02 > 10.0).any(axis=1), np.arange(64) < 4)

    def advance(rows, slots):
        n = len(slots)
        alive = np.arange(n) < len(rows)
        padded = np.zeros((n, len(SPECIES)))
        padded[:len(rows)] = counts[rows]
        state = step(init(9, padded), np.where(alive, 1.5, 1.0), np.full(n, 0.0231), alive,
                     glucose, lactose, 2.0, cells=slots)
        check_errors(state)
        return np.asarray(state.counts)[:len(rows)]

    together = advance(np.arange(64), np.arange(64, dtype=np.uint32))
    first_four = advance(np.arange(4), np.r_[0:4, 100:112].astype(np.uint32))
    np.testing.assert_array_equal(together[:4], first_four)
    for block in range(4, 64, 15):
        rows = np.arange(block, block + 15)
        alone = advance(rows, np.r_[rows, 200].astype(np.uint32))
        np.testing.assert_array_equal(together[rows], alone)
    assert np.any(together[4:, SPECIES.index("lactose_in")] > 0), "no event in the repressed cells"
