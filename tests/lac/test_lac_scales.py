"""Per-species count scales of the lac kernel (``counts: single_molecule``, lac/scales.py).

Physics checked: at high copy number the ensemble means, read back as concentrations
``n_X/(s_X Omega)``, follow YM's ODE (lac.py's ``lac_rhs``) with the import, efflux and
allolactose reactions active, so the scales change the noise only; the burst law of a
leak-fed protein has the measured per-transcript yields (LacZ 7.8, LacY 4) as its burst size,
and so a Fano factor ``1 + b`` far from YM's own counts; scaled counts stay whole and
non-negative and divide binomially.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from greybox_processes.framework.division import partition_store
from greybox_processes.lac.kernel import (DEFAULT_LEAK_RATE, SPECIES, LacKinetics, check_errors,
                                          concentrations_to_counts, counts_to_concentrations,
                                          make_lac_operon, molecules_per_mM)
from greybox_processes.lac.process import LacOperon
from greybox_processes.lac.scales import LACY_PER_TRANSCRIPT, LACZ_PER_TRANSCRIPT
from greybox_processes.metabolism.lac import LacParameters, integrate_lac, lac_steady_state

SBML = LacParameters.from_sbml()
SM = "single_molecule"
Z, Y = SPECIES.index("lacZ"), SPECIES.index("lacY")


def _run(kin, counts, minutes, *, volume=1.0, mu=0.0, glucose=0.0, lactose=0.0, seed=0):
    init, step = make_lac_operon(kin)
    n = counts.shape[0]
    state = step(init(seed, counts), np.full(n, volume), np.full(n, mu), np.ones(n, bool),
                 glucose, lactose, minutes)
    check_errors(state)
    return np.asarray(state.counts).astype(float)


def _kernel_parameters(kin) -> LacParameters:
    """The YM parameters the kernel integrates (after the LacY turnover choice)."""
    return dataclasses.replace(SBML, **{f.name: float(getattr(kin, f.name))
                                        for f in dataclasses.fields(SBML) if f.name != "mu"})


def test_single_molecule_scales_follow_from_the_measured_copy_numbers():
    kin = LacKinetics.create(counts=SM, lacy_turnover="dilution")
    s_m, s_b, s_p = (float(kin.scale_mrna), float(kin.scale_lacZ), float(kin.scale_lacY))
    assert SBML.alpha_B * s_b / (s_m * SBML.gamma_M) == pytest.approx(LACZ_PER_TRANSCRIPT)
    assert float(kin.alpha_P) * s_p / (s_m * SBML.gamma_M) == pytest.approx(LACY_PER_TRANSCRIPT)
    # induced LacZ of a 1 fL cell: Fox et al. 1967's 18,750 tetramers
    induced = lac_steady_state(SBML.mu, 0.0, 0.0, _kernel_parameters(kin), y0=np.zeros(8),
                               iptg=True, minutes=2000.0)
    lacz = concentrations_to_counts(induced, 1.0, kin.species_scales())[Z]
    assert lacz == pytest.approx(18_750, rel=1e-3)
    # fewer mRNA, more LacZ than YM's literal counts; 'ym' is all ones
    assert s_m < 1 < s_b
    np.testing.assert_array_equal(LacKinetics.create().species_scales(), 1.0)
    scales = kin.species_scales()
    counts = np.array([[3, 100, 7, 50, 20, 1, 4, 2]], float)
    back = concentrations_to_counts(counts_to_concentrations(counts, 1.5, scales), 1.5, scales)
    np.testing.assert_allclose(back, counts)


@pytest.mark.parametrize("turnover", ["ym", "dilution"])
def test_scaled_mean_field_is_yildirim_mackey(turnover):
    """Induced cells in 0.584 mM lactose, 20 fL, no growth, 3 min: the ensemble means of
    ``n_X/(s_X Omega)`` follow lac.py's ODE for every reported species (lactose import and
    efflux per LacY, allolactose synthesis and cleavage per LacZ all active), within 3%."""
    kin = LacKinetics.create(counts=SM, lacy_turnover=turnover, leak=SM)
    params = _kernel_parameters(kin)
    volume, lactose, minutes, cells = 20.0, 0.584, 3.0, 8
    start = lac_steady_state(0.0231, lactose, 0.0, params)
    scales = kin.species_scales()
    counts0 = np.tile(concentrations_to_counts(start, volume, scales), (cells, 1))
    y0 = counts_to_concentrations(counts0[0], volume, scales)   # what the kernel starts from
    counts = _run(kin, counts0, minutes, volume=volume, lactose=lactose, seed=4)
    y = integrate_lac(y0, minutes, 0.0, lactose, 0.0, params)
    got = counts_to_concentrations(counts.mean(axis=0), volume, scales)
    names = ("mrna", "lacZ", "allolactose", "lactose_in", "lacY")
    # the leak differs from YM's by 1/K of alpha_M at most (single_molecule): < 0.02% here
    for index, name in enumerate(names):
        assert got[index] == pytest.approx(y[index], rel=0.03), (name, got[index], y[index])
    # the scales matter: the same counts read with YM's scale 1 are far from the ODE
    assert abs(counts[:, Y].mean() / float(molecules_per_mM(volume)) - y[4]) > 0.3 * y[4]


@pytest.mark.slow
def test_per_transcript_yields_set_the_burst_law_and_fano_factor():
    """LacZ and LacY from the single-molecule leak, both removed at g = 0.0231/min: each is
    the negative binomial of a = leak/g bursts per lifetime of b = 7.8 (LacZ) and 4 (LacY)
    molecules per transcript: mean a b, zero fraction (1 + b)^-a, Fano 1 + b. YM's literal
    counts would give b = 0.04 and 24."""
    g, cells = 0.0231, 2048
    kin = LacKinetics.create({"gamma_P": g, "gamma_B": g}, leak=SM, counts=SM)
    x = _run(kin, np.zeros((cells, len(SPECIES))), 300.0, glucose=10.0, seed=12)
    a = DEFAULT_LEAK_RATE / g
    for index, b in ((Z, LACZ_PER_TRANSCRIPT), (Y, LACY_PER_TRANSCRIPT)):
        n = x[:, index]
        mean, zero = a * b, (1.0 + b) ** -a
        assert abs(n.mean() - mean) < 4 * math.sqrt(mean * (1 + b) / cells), (index, n.mean())
        observed_zero = np.mean(n == 0)
        assert abs(observed_zero - zero) < 4 * math.sqrt(zero * (1 - zero) / cells), \
            (index, observed_zero, zero)
        fano = n.var(ddof=1) / n.mean()
        assert fano == pytest.approx(1 + b, rel=0.25), (index, fano)
    assert np.all(x >= 0) and np.all(x == np.floor(x))
    # YM's literal counts: ~0.04 LacZ per transcript, so almost every cell has none
    ym = _run(LacKinetics.create({"gamma_P": g, "gamma_B": g}, leak=SM),
              np.zeros((256, len(SPECIES))), 300.0, glucose=10.0, seed=12)
    assert np.mean(ym[:, Z] == 0) > 0.9 > np.mean(x[:, Z] == 0) + 0.5


def test_scaled_counts_divide_binomially(core):
    """The lac port still declares binomial division; a division conserves every count."""
    process = LacOperon({"capacity": 8, "counts": SM}, core=core)
    assert process.outputs()["lac"]["_divide"] == "binomial"
    lac = np.zeros((8, len(SPECIES)))
    lac[0] = [2, 41, 9, 130, 75, 1, 3, 0]
    rng = np.random.default_rng(0)
    new = partition_store(lac, "binomial", np.array([0]), np.array([1]), np.array([0.5]), rng)
    np.testing.assert_array_equal(new[0] + new[1], lac[0])
    assert np.all(new >= 0)


def test_process_count_options_reach_the_kernel_and_bad_values_are_clear(core):
    process = LacOperon({"capacity": 4, "counts": SM, "scales": {"mrna": 0.5}}, core=core)
    kin = process.kinetics
    assert kin.counts == SM and float(kin.scale_mrna) == 0.5 and float(kin.scale_lacZ) > 1
    with pytest.raises(ValueError, match=r"counts must be one of \['ym', 'single_molecule'\]"):
        LacOperon({"counts": "literal"}, core=core)
    with pytest.raises(ValueError, match="'lactose_in' has no count scale"):
        LacOperon({"scales": {"lactose_in": 2.0}}, core=core)
    with pytest.raises(ValueError, match="lacZ = -1.0 must be a finite number > 0"):
        LacOperon({"scales": {"lacZ": -1.0}}, core=core)
    with pytest.raises(ValueError, match="alpha_M, alpha_B, alpha_P and gamma_M > 0"):
        LacKinetics.create({"alpha_B": 0.0}, counts=SM)
