"""The particle form of the RDME kernel: the same chain as the lattice form.

The exact checks of the other files run on both forms (``method`` parameters);
here: what only the particle form does (choosing it, capacity, conversions) and
a two-sample comparison of the forms on ``A + A <-> B``, whose consumed pairs
take two particles of one species from one site.
"""
import numpy as np
import pytest

import greybox_processes.rdme as rd
from greybox_processes.errors import SimulationError
from greybox_processes.rdme.composites import b1_model
from greybox_processes.rdme.particles import rdme_particles
from greybox_processes.rdme.process import load_model


def dimer_model():
    model = rd.RDMEModel().add_species("A", 1e-12, initial=120).add_species("B", 1e-12)
    return model.add_reaction("A + A -> B", 5e7).add_reaction("B -> A + A", 2.0)


def test_auto_takes_particles_for_dilute_lattices_and_the_lattice_otherwise():
    model, lattice = load_model(b1_model(32))
    tau = rd.max_stable_tau(model.compile(lattice), lattice, p_max=0.25)
    assert rd.rdme(model, lattice, tau=tau).method == "particles"       # 2000 in 3 x 32^3
    model, lattice = load_model(b1_model(4))
    assert rd.rdme(model, lattice, tau=tau / 64).method == "lattice"    # 2000 in 3 x 64
    production = rd.RDMEModel().add_species("A", 1e-12).add_reaction("0 -> A", 1e-3)
    box = rd.box((8, 8, 8), 1e-7)
    assert rd.rdme(production, box, tau=1e-3).method == "lattice"
    with pytest.raises(ValueError, match="zero-order.*method='lattice'"):
        rd.rdme(production, box, tau=1e-3, method="particles")
    with pytest.raises(ValueError, match="no count_dtype"):
        rd.rdme(dimer_model(), box, tau=1e-3, method="particles", count_dtype="uint8")
    with pytest.raises(ValueError, match="method must be one of"):
        rd.rdme(dimer_model(), box, tau=1e-3, method="sparse")


def test_counts_round_trip_and_observables_agree():
    lattice = rd.sphere((10, 10, 10), 2e-8, 8e-8)
    model = rd.RDMEModel().add_species("A", 1e-12, initial={"cytoplasm": 50, "extracellular": 70})
    model.add_species("B", 1e-12).add_reaction("A -> B", 20.0, regions=["cytoplasm"])
    kernel = rd.rdme(model, lattice, tau=1e-4, method="particles")
    dense = rd.rdme(model, lattice, tau=1e-4, method="lattice")
    counts = model.initial_counts(lattice, 3, seed=1)
    state = kernel.init(0, counts)
    np.testing.assert_array_equal(np.asarray(state.counts), counts)
    np.testing.assert_array_equal(np.asarray(kernel.observe(state)),
                                  np.asarray(dense.region_counts(counts)))
    state, records, snaps = kernel.step(state, 40, record_every=20, snapshots=True)
    rd.check_errors(state)
    for t in range(2):   # every snapshot is the lattice of its record's region counts
        np.testing.assert_array_equal(np.asarray(records)[t],
                                      np.asarray(dense.region_counts(np.asarray(snaps)[t])))
    assert np.asarray(records)[-1].sum() == 3 * 120
    other = model.initial_counts(lattice, 3, seed=2)
    swapped = kernel.with_counts(state, other)
    np.testing.assert_array_equal(np.asarray(swapped.counts), other)
    assert int(swapped.steps) == 40


def test_capacity_overflow_is_raised():
    box = rd.box((4, 4, 4), 1e-7)
    model = rd.RDMEModel().add_species("A", 1e-12, initial=10)
    model.add_reaction("A -> A + A", 50.0)                              # grows without bound
    kernel = rd.rdme(model, box, tau=1e-3, method="particles", capacity=64)
    state = kernel.step(kernel.init(0), 100)
    with pytest.raises(SimulationError, match="outgrew their slots.*capacity="):
        rd.check_errors(state)
    with pytest.raises(ValueError, match="do not fit capacity=4"):
        rd.rdme(model, box, tau=1e-3, method="particles", capacity=4).init(0)


@pytest.mark.parametrize("gather", ["dense", "sorted"])
def test_forms_agree_on_a_dimerisation_time_course(gather):
    """Two-sample z test of the mean number of dimers at four times (A + A -> B takes two
    particles of one species from one site; the forms must agree in law), for both ways
    the particle form finds the particles of a site."""
    lattice = rd.box((4, 4, 4), 1e-7)
    model = dimer_model()
    n_replicas = 160
    means, variances = [], []
    for method, seed in (("lattice", 1), ("particles", 2)):
        kernel = rd.rdme(model, lattice, tau=2e-3, method="lattice") if method == "lattice" \
            else rdme_particles(model, lattice, tau=2e-3, gather=gather)
        state = kernel.init(seed, n_replicas=n_replicas, seed=seed)
        state, records, _ = kernel.step(state, 200, record_every=50)
        rd.check_errors(state)
        r = np.asarray(records)[:, :, 0, :].astype(float)          # (T, R, S)
        np.testing.assert_array_equal(r[..., 0] + 2 * r[..., 1], 120)  # A + 2B conserved
        means.append(r[..., 1].mean(axis=1))
        variances.append(r[..., 1].var(axis=1, ddof=1))
    z = (means[0] - means[1]) / np.sqrt((variances[0] + variances[1]) / n_replicas)
    assert np.all(np.abs(z) < 4.0), (means, z)
    assert means[1][-1] > 5                                           # dimers really formed


def test_sorted_gather_keeps_the_b1_stationary_law():
    """The sort-based gather (used for lattices with many sites x species) on B1 at 4^3,
    started in the CME's stationary law: C must still follow it after 2 s."""
    from test_rdme_cme import CME, check_law, stationary_start
    model, lattice = load_model(b1_model(4))
    tau = rd.max_stable_tau(model.compile(lattice), lattice, p_max=0.25)
    kernel = rdme_particles(model, lattice, tau=tau, gather="sorted")
    state = kernel.step(kernel.init(3, stationary_start(lattice, 256, seed=8)),
                        int(round(2.0 / tau)))
    rd.check_errors(state)
    obs = np.asarray(kernel.observe(state))[:, 0]
    np.testing.assert_array_equal(obs[:, 0] + obs[:, 2], 1000)
    check_law(obs[:, 2], CME.stationary(), CME.c)
