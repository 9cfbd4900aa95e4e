"""Stress and cell-state mechanisms of the regulator activities (ecoli/stress_mechanisms.py)
and the RegulatorActivity process (ecoli/stress.py): direction, reference and bad input."""
import numpy as np
import pytest
from process_bigraph import allocate_core

from greybox_processes.ecoli import stress_mechanisms as mech
from greybox_processes.ecoli.stress import MECHANISMS, STRESS_INPUTS, RegulatorActivity
from greybox_processes.lac.kernel import molecules_per_mM


def test_every_mechanism_is_exactly_one_at_the_reference():
    ref = mech.REFERENCE
    parts = [mech.heat_shock(ref["temperature"]),
             mech.heat_shock(ref["temperature"], chaperone_feedback=False),
             mech.acid_sensors(ref["pH"]), mech.osmotic(ref["osmolarity"]),
             mech.superoxide(ref["oxidant"]), mech.crp_camp(mech.REFERENCE_GLUCOSE_UPTAKE),
             mech.growth_ppgpp(mech.REFERENCE_GROWTH_RATE), mech.lac_repressor(0.0)]
    for part in parts:
        for name, value in part.items():
            assert value == pytest.approx(1.0, abs=1e-12), name


def test_proteome_stability_is_physical():
    # marginal stability at 37 C (tens of kJ/mol) that falls with T; melting near 50 C, where
    # cells die (Dill et al. 2011)
    dg = mech.unfolding_free_energy(np.array([30.0, 37.0, 42.0]))
    assert 10e3 < dg[1] < 60e3 and np.all(np.diff(dg) < 0)
    temps = np.linspace(40, 70, 301)
    melting = temps[np.argmin(np.abs(mech.unfolding_free_energy(temps)))]
    assert 45 < melting < 60
    assert mech.unfolded_fraction(melting) == pytest.approx(0.5, abs=0.05)


def test_rpoH_rises_with_temperature_and_feedback_damps_it():
    temps = [30.0, 37.0, 40.0, 42.0, 44.0]
    with_feedback = [mech.heat_shock(t)["rpoH"] for t in temps]
    without = [mech.heat_shock(t, chaperone_feedback=False)["rpoH"] for t in temps]
    assert np.all(np.diff(with_feedback) > 0) and np.all(np.diff(without) > 0)
    # DnaK made by sigma-32 takes back part of the released sigma-32 (negative feedback)
    assert 1.0 < with_feedback[3] < without[3]
    assert with_feedback[0] < 1.0  # below 37 C fewer unfolded proteins: less sigma-32


def test_acid_regulators_rise_as_ph_falls():
    values = [mech.acid_sensors(p) for p in (7.5, 7.0, 6.5, 6.0, 5.5, 5.0)]
    for name in mech.ACID_REGULATORS:
        series = [v[name] for v in values]
        assert np.all(np.diff(series) > 0), name
    # one protonation: at most the ratio of full occupancy to occupancy at pH 7
    assert values[-1]["evgA"] < 1 + 10 ** (7.0 - mech.ACID_SENSOR_PKA)


def test_ompR_soxR_crp_directions():
    osm = [mech.osmotic(c)["ompR"] for c in (0.1, 0.3, 0.6, 1.0)]
    assert np.all(np.diff(osm) > 0)
    sox = [mech.superoxide(p)["soxR"] for p in (0.0, 10.0, 100.0, 500.0)]
    assert np.all(np.diff(sox) > 0)
    crp = [mech.crp_camp(r)["crp"] for r in (0.0, 2.0, 5.0, 10.5)]
    assert np.all(np.diff(crp) < 0)  # more PTS flux, less EIIA~P and cAMP
    # EIIA~P is 20 % on glucose, so no uptake at all gives 1/0.2 = 5x the reference
    assert crp[0] == pytest.approx(1.0 / mech.EIIA_P_ON_GLUCOSE)


def test_ppgpp_and_lac_repressor():
    slow = mech.growth_ppgpp(0.5 * mech.REFERENCE_GROWTH_RATE)
    assert slow["rpoS"] == pytest.approx(2.0) and slow["fis"] == pytest.approx(0.5)
    free = [mech.lac_repressor(a)["lacI"] for a in (0.0, 0.003, 0.01, 0.1)]
    assert np.all(np.diff(free) < 0)
    # half of LacI is bound where K1 A^2 = 1
    assert mech.lac_repressor(mech.LAC_K1 ** -0.5)["lacI"] == pytest.approx(0.5)


@pytest.mark.parametrize("name,value", [("temperature", 60.0), ("pH", 3.0),
                                        ("osmolarity", 3.0), ("oxidant", -1.0)])
def test_stress_outside_the_model_range_is_an_error(name, value):
    with pytest.raises(ValueError, match=name):
        RegulatorActivity({name: value}, allocate_core())


def _state(n=4, live=2, uptake=10.5, mu=mech.REFERENCE_GROWTH_RATE, allolactose=0.0):
    alive = np.zeros(n)
    alive[:live] = 1
    rates = np.zeros((n, 4))
    rates[:live, 0] = -uptake
    lac = np.zeros((n, 8))
    lac[:live, 3] = allolactose
    return {"alive": alive, "growth_rate": np.where(alive > 0, mu, 0.0),
            "exchange_rates": rates, "lac": lac, "volume": np.ones(n), "regulators": {}}


def test_process_at_the_reference_writes_ones():
    proc = RegulatorActivity({"capacity": 4}, allocate_core())
    values = proc.update(_state(), 1.0)["regulators"]
    assert set(values) >= {"rpoH", "evgA", "ompR", "soxR", "crp", "rpoS", "fis", "lacI"}
    assert all(v == pytest.approx(1.0) for v in values.values())
    # the update is a change of the store: from the initial state it is 0 at the reference
    start = proc.initial_state()["regulators"]
    change = proc.update({**_state(), "regulators": start}, 1.0)["regulators"]
    assert all(abs(v) < 1e-12 for v in change.values())


def test_every_stress_input_acts():
    core = allocate_core()
    reference = RegulatorActivity({"capacity": 4}, core).activities(_state())
    for name, value in {"temperature": 42.0, "pH": 5.5, "osmolarity": 0.8,
                        "oxidant": 100.0}.items():
        stressed = RegulatorActivity({"capacity": 4, name: value}, core).activities(_state())
        moved = [k for k in stressed if abs(stressed[k] - reference[k]) > 1e-6]
        assert moved, f"{name} changes no regulator"
    assert set(STRESS_INPUTS) == {"temperature", "pH", "osmolarity", "oxidant"}


def test_cell_state_acts_through_the_population_mean():
    proc = RegulatorActivity({"capacity": 4}, allocate_core())
    hungry = proc.activities(_state(uptake=2.0, mu=0.5 * mech.REFERENCE_GROWTH_RATE))
    assert hungry["crp"] > 1 and hungry["rpoS"] > 1 and hungry["fis"] < 1
    # 20 allolactose molecules in 1 fL: LacI partly released, matching the pure function
    induced = proc.activities(_state(allolactose=20.0))["lacI"]
    assert induced == pytest.approx(mech.lac_repressor(20.0 / molecules_per_mM(1.0))["lacI"])
    assert induced < 1
    # no live cell: the cell mechanisms stay at the reference
    assert proc.activities(_state(live=0))["crp"] == 1.0


def test_unknown_key_and_silenced_stress_are_errors():
    core = allocate_core()
    with pytest.raises(ValueError, match="salinity.*temperature"):
        RegulatorActivity({"salinity": 0.5}, core)
    with pytest.raises(ValueError, match="'heat'"):
        RegulatorActivity({"temperature": 42.0,
                           "mechanisms": [m for m in MECHANISMS if m != "heat"]}, core)
    with pytest.raises(ValueError, match="unknown"):
        RegulatorActivity({"mechanisms": ["heat", "cold"]}, core)
    # a mechanism switched off leaves its regulators out of the store
    quiet = RegulatorActivity({"capacity": 4, "mechanisms": ["heat"]}, core)
    assert set(quiet.activities(_state())) == {"rpoH"}


def test_config_options_act():
    core = allocate_core()
    hot = {"capacity": 4, "temperature": 42.0}
    damped = RegulatorActivity(hot, core).activities(_state())["rpoH"]
    open_loop = RegulatorActivity({**hot, "chaperone_feedback": False}, core).activities(
        _state())["rpoH"]
    assert 1.0 < damped < open_loop
    # the references the cell state is measured against
    base = RegulatorActivity({"capacity": 4}, core).activities(_state())
    moved = RegulatorActivity({"capacity": 4, "reference_glucose_uptake": 5.0,
                               "reference_growth_rate": 0.5 * mech.REFERENCE_GROWTH_RATE},
                              core).activities(_state())
    assert moved["crp"] < base["crp"] and moved["rpoS"] < base["rpoS"]
    # allolactose is found by name in lac_species
    order = ["allolactose", "mrna", "lacZ", "lacY"]
    state = {**_state(), "lac": np.zeros((4, 4))}
    state["lac"][:2, 0] = 20.0
    assert RegulatorActivity({"capacity": 4, "lac_species": order},
                             core).activities(state)["lacI"] < 1.0
    with pytest.raises(ValueError, match="allolactose"):
        RegulatorActivity({"lac_species": ["mrna", "lacZ"]}, core)


def test_every_regulator_written_is_in_the_trn():
    from greybox_processes.grn.ecoli_trn import read_name_tables
    from greybox_processes.wcm_hard.tiers.t4_stress import regulator_coverage

    regulators, _ = read_name_tables()
    written = RegulatorActivity({"capacity": 4}, allocate_core()).activities(_state())
    assert set(written) <= set(regulators.index)
    coverage = regulator_coverage({"config": {"capacity": 4}})
    assert coverage["set"] == sorted(written)
    assert coverage["not_set_count"] == len(regulators) - len(written) > 0
