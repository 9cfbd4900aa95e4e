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


def test_process_advances_only_live_cells_whatever_the_free_slots(core):
    """Free slots are neither read nor written, and live cells follow the same law whether
    the population has 4 or 964 free slots (the process runs the kernel on the live rows).

    Birth-death mRNA (``gamma_0 Omega`` in, ``gamma_M`` out) from 0: after ``t`` minutes
    the count is Poisson with mean ``gamma_0 Omega / gamma_M (1 - exp(-gamma_M t))``; cells
    of 1 and 3 fL, so a cell paired with another slot's volume would show.
    """
    p = LacParameters.from_sbml()
    gamma_0, minutes, live = 1e-5, 2.0, 60
    rates = {**BIRTH_DEATH, "gamma_0": gamma_0}
    means = {}
    for capacity, seed in ((64, 1), (1024, 2)):
        rng = np.random.default_rng(seed)
        slots = np.sort(rng.choice(capacity, live, replace=False))
        alive = np.zeros(capacity)
        alive[slots] = 1.0
        # free slots hold junk that a read or a write would expose
        lac = np.full((capacity, len(SPECIES)), 7.0)
        lac[slots] = 0.0
        volume = np.full(capacity, np.nan)
        volume[slots] = np.where(np.arange(live) % 2 == 0, 1.0, 3.0)
        process = LacOperon({"capacity": capacity, "rates": rates, "seed": seed}, core=core)
        state = {"lac": lac, "volume": volume, "growth_rate": np.where(alive > 0, 0.0, np.nan),
                 "alive": alive, "glucose": 0.0, "lactose": 0.0}
        new = lac + process.update(state, minutes)["lac"]
        free = alive == 0
        np.testing.assert_array_equal(new[free], lac[free])
        for fl in (1.0, 3.0):
            mrna = new[(alive > 0) & (volume == fl), M]
            expected = (gamma_0 * float(molecules_per_mM(fl)) / p.gamma_M
                        * -math.expm1(-p.gamma_M * minutes))
            se = math.sqrt(expected / mrna.size)
            assert abs(mrna.mean() - expected) < 4 * se, (capacity, fl, mrna.mean(), expected)
            means[capacity, fl] = (mrna.mean(), se)
    for fl in (1.0, 3.0):
        (m64, se64), (m1024, se1024) = means[64, fl], means[1024, fl]
        assert abs(m64 - m1024) < 4 * math.hypot(se64, se1024), (fl, m64, m1024)


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


# --- regulation read from a store (the grey box acts through it) ------------------------------

# mRNA only (no translation): its stationary law is Poisson with mean
# (gamma_0 + alpha_M * induction) Omega / gamma_M at zero growth
MRNA_ONLY = {"alpha_B": 0.0, "alpha_P": 0.0}
REG_CELLS = 512


def _mrna_mean(induction):
    p = LacParameters.from_sbml()
    return (p.gamma_0 + induction * p.alpha_M) * float(molecules_per_mM(1.0)) / p.gamma_M


def _stationary_mrna(regulation, expected_induction, *, allolactose=0.0, seed=5, **kin):
    """mRNA of REG_CELLS cells after 10 min (4 lifetimes), started at the expected mean."""
    kinetics = LacKinetics.create(MRNA_ONLY, **kin)
    counts = np.zeros((REG_CELLS, len(SPECIES)))
    counts[:, SPECIES.index("allolactose")] = allolactose
    counts[:, M] = round(_mrna_mean(expected_induction))
    init, step = make_lac_operon(kinetics)
    cells = np.ones(REG_CELLS)
    state = step(init(seed, counts), cells, 0 * cells, cells > 0, 0.0, 0.0, 10.0,
                 None if regulation is None else np.full(REG_CELLS, regulation))
    check_errors(state)
    return np.asarray(state.counts)[:, M].astype(float)


def _assert_mean(m, mean):
    # within 5 standard errors (Poisson variance), or 1% where the transcription is leaped
    # (hazards frozen over a 0.02 min step)
    assert abs(m.mean() - mean) < max(5 * math.sqrt(mean / m.size), 0.01 * mean)


@pytest.mark.parametrize("regulation", [0.0, 0.25, 1.0])
def test_regulation_from_a_store_sets_transcription(regulation):
    """0: only the model's leak (basal transcription); 1: full induction; linear between.

    The cells hold a million allolactose molecules, which under the model's own regulation
    would induce them: a regulation input must override that, whatever its value.
    """
    m = _stationary_mrna(regulation, regulation, allolactose=1e6)
    _assert_mean(m, _mrna_mean(regulation))
    if regulation == 0.0:
        assert m.mean() < 2.0   # ~1 transcript from the leak, not the induced ~1500


def test_iptg_overrides_the_store():
    """IPTG releases the repressor fully whatever the store says."""
    _assert_mean(_stationary_mrna(0.0, 1.0, iptg=True), _mrna_mean(1.0))


def test_without_a_regulation_input_the_kernel_is_the_model():
    """Repressed without allolactose: YM's induction factor 1/K."""
    k = LacParameters.from_sbml().K
    _assert_mean(_stationary_mrna(None, 1.0 / k), _mrna_mean(1.0 / k))


def test_non_finite_regulation_is_a_clear_error():
    kin = LacKinetics.create()
    init, step = make_lac_operon(kin)
    regulation = np.zeros(REG_CELLS)   # as the tests above: the same compilation
    regulation[3] = np.nan
    cells = np.ones(REG_CELLS)
    state = step(init(0, np.zeros((REG_CELLS, len(SPECIES)))), cells, 0 * cells, cells > 0,
                 0.0, 0.0, 1.0, regulation)
    with pytest.raises(SimulationError, match="cells/regulation"):
        check_errors(state)


def _regulated_population(regulation, capacity=16):
    document = _population(capacity)
    lac = document["state"]["lac"]
    lac["config"] = {**lac["config"], "regulation": "store"}
    lac["inputs"] = {**lac["inputs"], "regulation": ["cells", "regulation"]}
    division = document["state"]["division"]
    division["config"]["stores"] = division["config"]["stores"] + ["regulation"]
    for direction in ("inputs", "outputs"):
        division[direction]["regulation"] = ["cells", "regulation"]
    if regulation is not None:
        document["state"]["cells"] = {"regulation": np.full(capacity, regulation)}
    return document


def test_process_reads_the_regulation_store(core):
    """The store acts on the process; its default initial value is the model's own (1/K)."""
    core.register_link("ToyCells", ToyCells)
    runs = {r: gb.run(_regulated_population(r), 15.0, core=core, progress=False)
            for r in (None, 0.0, 1.0)}
    k = LacParameters.from_sbml().K
    initial = runs[None]["cells.regulation"].values
    np.testing.assert_allclose(initial, 1.0 / k, rtol=1e-12)   # held: nothing writes it
    mrna = {r: ds["cells.lac"].values[-1][ds["cells.alive"].values[-1] > 0.5, M].mean()
            for r, ds in runs.items()}
    assert mrna[1.0] > 100 * max(mrna[0.0], 1.0)
    assert mrna[None] < 0.1 * mrna[1.0]
    with pytest.raises(ValueError, match="regulation must be one of"):
        LacOperon({"regulation": "neural"}, core=core)


def test_initial_regulation_is_the_models_induction(core):
    """The store starts at YM's induction factor of the initial cells, at initial_volume."""
    p = LacParameters.from_sbml()
    allolactose = 20_000.0   # molecules: 0.033 mM in 1 fL, induction ~30x the repressed 1/K
    for volume in (1.0, 2.0):
        lac = LacOperon({"capacity": 3, "initial_cells": 2, "regulation": "store",
                         "initial_volume": volume, "initial_counts": [0, 0, 0, allolactose, 0]},
                        core=core)
        c_a = allolactose / float(molecules_per_mM(volume))
        expected = (1 + p.K_1 * c_a ** p.n) / (p.K + p.K_1 * c_a ** p.n)
        np.testing.assert_allclose(lac.initial_state()["regulation"],
                                   [expected, expected, 1.0 / p.K], rtol=1e-12)
    assert "regulation" not in LacOperon({"capacity": 3}, core=core).initial_state()


def _busy_population(capacity, live, seed):
    """A lactose-phase population: ``live`` cells at random slots with lac counts, volumes
    and regulation that differ from cell to cell (so reactions fire and chunks differ)."""
    rng = np.random.default_rng(seed)
    slots = np.sort(rng.choice(capacity, live, replace=False))
    alive = np.zeros(capacity)
    alive[slots] = 1.0
    lac = np.zeros((capacity, len(SPECIES)))
    lac[slots, :3] = rng.poisson([2.0, 30.0, 10.0], size=(live, 3))
    volume = np.where(alive > 0, rng.uniform(1.0, 3.0, capacity), 1.0)
    return {"lac": lac, "volume": volume, "growth_rate": np.full(capacity, 0.005),
            "alive": alive, "glucose": 0.0, "lactose": 0.3,
            "regulation": rng.uniform(0.0, 0.3, capacity)}


@pytest.mark.parametrize("workers", [4])
def test_concurrent_chunks_give_the_same_trajectory_as_one_call(core, workers):
    """``workers`` cuts the live rows into chunks advanced in threads; every cell draws by
    its own counter, so the counts are bit-identical to one call, step after step."""
    from greybox_processes.lac.process import MIN_CHUNK

    capacity, live = 4 * MIN_CHUNK, 3 * MIN_CHUNK + 5   # a 2048-row batch: 4 chunks of 512
    runs = {}
    for w in (1, workers):
        process = LacOperon({"capacity": capacity, "seed": 3, "regulation": "store",
                             "workers": w}, core=core)
        state = _busy_population(capacity, live, seed=11)
        for _ in range(2):
            state["lac"] = state["lac"] + process.update(state, 1.0)["lac"]
        runs[w] = state["lac"]
    assert runs[1].sum() > 0
    np.testing.assert_array_equal(runs[workers], runs[1])


def test_an_error_in_any_chunk_is_raised(core):
    """A cell whose volume is not positive in the last chunk stops the update, as in one call."""
    from greybox_processes.lac.process import MIN_CHUNK

    capacity = 2 * MIN_CHUNK
    process = LacOperon({"capacity": capacity, "seed": 3, "regulation": "store",
                         "workers": 2}, core=core)
    state = _busy_population(capacity, capacity, seed=4)
    state["volume"][-1] = -1.0
    with pytest.raises(SimulationError, match="volume"):
        process.update(state, 1.0)


def test_workers_must_not_be_negative(core):
    with pytest.raises(ValueError, match="workers must be >= 0"):
        LacOperon({"workers": -1}, core=core)


def test_chunks_are_a_power_of_two_of_equal_slices():
    from greybox_processes.lac.process import MIN_CHUNK, _chunks

    assert _chunks(2048, 1) == [slice(0, 2048)]
    assert _chunks(2048, 3) == [slice(0, 1024), slice(1024, 2048)]
    assert _chunks(4 * MIN_CHUNK, 8) == [slice(i * MIN_CHUNK, (i + 1) * MIN_CHUNK)
                                         for i in range(4)]
    assert _chunks(MIN_CHUNK, 4) == [slice(0, MIN_CHUNK)]   # too few rows to share
