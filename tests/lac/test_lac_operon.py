"""The stochastic lac operon: statistics of the kernel, the mean field of lac.py, the process."""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SimulationError
from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port
from greybox_processes.lac.kernel import (SPECIES, LacKinetics, check_errors, make_lac_operon,
                                          molecules_per_mM)
from greybox_processes.lac.process import LacOperon
from greybox_processes.metabolism.lac import LacParameters, integrate_lac

M, P = SPECIES.index("mrna"), SPECIES.index("lacY")
# only basal transcription and mRNA decay: a birth-death process
BIRTH_DEATH = {"alpha_M": 0.0, "alpha_B": 0.0, "alpha_P": 0.0}


def _run(kin, counts, minutes, *, volume=1.0, mu=0.0, glucose=0.0, lactose=0.0, seed=0,
         **kernel):
    init, step = make_lac_operon(kin, **kernel)
    n = counts.shape[0]
    state = step(init(seed, counts), np.full(n, volume), np.full(n, mu), np.ones(n, bool),
                 glucose, lactose, minutes)
    check_errors(state)
    return np.asarray(state.counts)


def test_birth_death_is_poisson():
    gamma_m = LacParameters.from_sbml().gamma_M
    mean = 5.0
    kin = LacKinetics.create({**BIRTH_DEATH, "gamma_0": mean * gamma_m / float(molecules_per_mM(1.0))})
    cells = 2048
    counts = _run(kin, np.zeros((cells, len(SPECIES))), 25.0, leap_threshold=math.inf)
    m = counts[:, M].astype(float)
    # after 25 min (60 mRNA lifetimes) the law is Poisson(mean); 5 standard errors:
    # of the mean sqrt(mean/N), of the variance sqrt((mu4 - var^2 (N-3)/(N-1))/N)
    assert abs(m.mean() - mean) < 5 * math.sqrt(mean / cells)
    mu4 = mean + 3 * mean ** 2
    se_var = math.sqrt((mu4 - mean ** 2 * (cells - 3) / (cells - 1)) / cells)
    assert abs(m.var(ddof=1) - mean) < 5 * se_var
    assert np.all(counts >= 0) and counts.dtype.kind == "i"
    assert np.all(counts[:, [i for i in range(len(SPECIES)) if i != M]] == 0)


def test_transient_matches_the_master_equation():
    """From 0 mRNA, the birth-death master equation gives Poisson(k/g (1 - e^{-g t})) at t."""
    g = LacParameters.from_sbml().gamma_M
    k = 3.0   # molecules/min
    kin = LacKinetics.create({**BIRTH_DEATH, "gamma_0": k / float(molecules_per_mM(1.0))})
    t, cells = 2.0, 2048
    m = _run(kin, np.zeros((cells, len(SPECIES))), t, leap_threshold=math.inf, seed=3)[:, M]
    lam = k / g * (1 - math.exp(-g * t))
    # chi-square over the bins 0..7 and >= 8 against the exact Poisson pmf
    pmf = np.array([math.exp(-lam) * lam ** i / math.factorial(i) for i in range(8)])
    expected = cells * np.append(pmf, 1 - pmf.sum())
    observed = np.append(np.bincount(m.astype(int), minlength=8)[:8], np.sum(m >= 8))
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < 27.9   # 99.9% quantile of chi-square with 8 degrees of freedom


def test_ensemble_mean_follows_lac_py_at_high_copy_number():
    """IPTG-induced expression from nothing, 20 fL cells, no growth: mean vs lac.py's ODE."""
    kin = LacKinetics.create(iptg=True)
    volume, minutes, cells = 20.0, 6.0, 8
    counts = _run(kin, np.zeros((cells, len(SPECIES))), minutes, volume=volume)
    y = integrate_lac(np.zeros(8), minutes, 0.0, 0.0, 0.0, LacParameters.from_sbml(), iptg=True)
    omega = float(molecules_per_mM(volume))
    expected = {"mrna": y[0], "lacZ": y[1], "lacY": y[4], "lacY_nascent": y[7]}
    for name, conc in expected.items():
        mean = counts[:, SPECIES.index(name)].mean()
        assert mean == pytest.approx(conc * omega, rel=0.03), name


def test_iptg_induces_every_cell_and_float32_runs():
    kin = LacKinetics.create(iptg=True, dtype=jnp.float32)
    counts = _run(kin, np.zeros((64, len(SPECIES))), 10.0)
    assert counts.dtype == np.int32
    assert np.all(counts[:, P] > 0)


def test_dead_slots_do_not_change():
    kin = LacKinetics.create(iptg=True)
    init, step = make_lac_operon(kin)
    # 8 cells, as in the test above: the same compilation
    start = np.zeros((8, len(SPECIES)))
    start[7, P] = 7
    alive = np.arange(8) < 4
    state = step(init(1, start), np.where(alive, 1.0, 0.0), np.zeros(8), alive, 0.0, 0.0, 5.0)
    check_errors(state)
    np.testing.assert_array_equal(np.asarray(state.counts)[4:], start[4:])


def test_bad_rates_and_volumes_are_clear_errors():
    with pytest.raises(ValueError, match=r"alpha_L = -1.*1/min.*SBML value is 2880"):
        LacKinetics.create({"alpha_L": -1.0})
    with pytest.raises(ValueError, match="K_Le.*> 0.*mM"):
        LacKinetics.create({"K_Le": 0.0})
    with pytest.raises(ValueError, match="not a Yildirim-Mackey parameter. Did you mean.*'alpha_L'"):
        LacKinetics.create({"alpha_l": 1.0})
    kin = LacKinetics.create()
    init, step = make_lac_operon(kin)
    cells = 2048   # as in the birth-death tests: the same compilation
    volume = np.ones(cells)
    volume[1] = 0.0
    state = step(init(0, np.zeros((cells, len(SPECIES)))), volume, np.zeros(cells),
                 np.ones(cells, bool), 0.0, 0.0, 1.0)
    with pytest.raises(SimulationError, match="cells/volume"):
        check_errors(state)
    with pytest.raises(ValueError, match="whole non-negative"):
        init(0, np.full((2, 5), 0.5))


# --- the process in a population, under both engines ------------------------------------------

class ToyCells(GreyboxProcess):
    """Cells growing exponentially that flag division at twice their birth volume (test only)."""

    config_schema = {"capacity": {"_type": "integer", "_default": 16},
                     "rate": {"_type": "float", "_default": 0.03}}

    def _ports(self):
        n = self.config["capacity"]
        return {"volume": array_port((n,), "fL", divide="split"),
                "growth_rate": array_port((n,), "1/min", divide="copy"),
                "alive": array_port((n,)), "divide": array_port((n,))}

    def inputs(self):
        return self._ports()

    def outputs(self):
        return {"volume": self._ports()["volume"], "divide": self._ports()["divide"]}

    def initial_state(self):
        n = self.config["capacity"]
        first = (np.arange(n) < 1).astype(float)
        return {"volume": first, "growth_rate": np.full(n, self.config["rate"]),
                "divide": np.zeros(n)}

    def update(self, state, interval):
        alive = np.asarray(state["alive"]) > 0.5
        volume = np.asarray(state["volume"])
        new = np.where(alive, volume * np.exp(self.config["rate"] * interval), volume)
        flag = (alive & (new >= 2.0)).astype(float)
        return {"volume": new - volume, "divide": flag - np.asarray(state["divide"])}


def _population(capacity=16):
    wires = {p: ["cells", p] for p in ("lac", "volume", "growth_rate", "alive")}
    wires.update(glucose=["medium", "glucose"], lactose=["medium", "lactose"])
    stores = ["lac", "volume", "growth_rate"]
    return {"state": {
        "cells": {}, "medium": {"glucose": 0.0, "lactose": 0.58},
        "growth": {"_type": "process", "address": "local:ToyCells",
                   "config": {"capacity": capacity}, "interval": 1.0,
                   "inputs": {p: ["cells", p] for p in ("volume", "growth_rate", "alive",
                                                         "divide")},
                   "outputs": {p: ["cells", p] for p in ("volume", "divide")}},
        "lac": {"_type": "process", "address": "local:LacOperon",
                "config": {"capacity": capacity, "seed": 4,
                           "initial_counts": [1, 1, 17, 0, 0]},
                "interval": 1.0, "inputs": wires, "outputs": {"lac": ["cells", "lac"]}},
        "division": {"_type": "step", "address": "local:Division",
                     "config": {"capacity": capacity, "stores": stores,
                                "trailing_shape": {"lac": [len(SPECIES)]}, "seed": 2},
                     "inputs": {**{s: ["cells", s] for s in stores},
                                "alive": ["cells", "alive"], "divide": ["cells", "divide"]},
                     "outputs": {**{s: ["cells", s] for s in stores},
                                 "alive": ["cells", "alive"], "divide": ["cells", "divide"],
                                 "divisions": ["cells", "divisions"]}},
    }}


def test_population_identical_in_both_engines(core):
    core.register_link("ToyCells", ToyCells)
    time = 30.0
    pbg = gb.run(_population(), time, engine="pbg", core=core, progress=False)
    viv = gb.run(_population(), time, engine="vivarium", core=core, progress=False)
    lac = pbg["cells.lac"].values
    np.testing.assert_array_equal(lac, viv["cells.lac"].values)
    np.testing.assert_array_equal(pbg["cells.alive"].values, viv["cells.alive"].values)
    assert pbg["cells.alive"].values[-1].sum() >= 2, "no cell divided"
    assert np.all(lac >= 0) and np.all(lac == np.floor(lac))
    assert lac[-1, :, P].sum() > 0


def test_process_config_errors(core):
    with pytest.raises(ValueError, match="gamma_P"):
        LacOperon({"rates": {"gamma_P": float("nan")}}, core=core)
    with pytest.raises(ValueError, match="method"):
        LacOperon({"method": "tau"}, core=core)
    with pytest.raises(ValueError, match="initial_counts"):
        LacOperon({"initial_counts": [1.0, 2.0]}, core=core)
