"""Regions: a reaction allowed in one region fires nowhere else; a zero transition rate
blocks a membrane; an overflowing site count raises instead of clipping."""
import numpy as np
import pytest

import greybox_processes.rdme as rd
from greybox_processes.errors import SimulationError


def cell():
    return rd.sphere((10, 10, 10), 2e-8, 8e-8)          # extracellular, cytoplasm, membrane


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_zero_transition_blocks_the_membrane_and_reactions_stay_in_their_region(method):
    lattice = cell()
    model = rd.RDMEModel()
    model.add_species("A", 1e-12, initial={"extracellular": 300})
    model.add_species("X", 1e-12, initial={"cytoplasm": 200})
    model.add_species("Y", 0.0)
    model.set_transition("A", "extracellular", "membrane", 0.0)
    model.set_transition("X", "cytoplasm", "membrane", 0.0)
    model.add_reaction("X -> Y", 50.0, regions=["cytoplasm"])
    model.add_reaction("A -> Y", 5.0, regions=["cytoplasm"])   # A never gets there
    tau = 0.25 * lattice.spacing ** 2 / 1e-12
    kernel = rd.rdme(model, lattice, tau=tau, splitting="lie", method=method)
    state = kernel.init(1, n_replicas=3, seed=2)
    state, records, snaps = kernel.step(state, 400, record_every=100, snapshots=True)
    rd.check_errors(state)
    records = np.asarray(records)                                  # (T, R, G, S)
    g = {name: i for i, name in enumerate(lattice.regions)}
    assert np.all(records[:, :, g["extracellular"], 0] == 300)     # A stays outside
    assert np.all(records[:, :, g["membrane"]] == 0)               # nothing enters the membrane
    assert np.all(records[:, :, g["cytoplasm"], 1] + records[:, :, g["cytoplasm"], 2] == 200)
    assert records[-1, :, g["cytoplasm"], 2].min() > 100            # X -> Y fired inside
    y = np.asarray(snaps)[:, :, 2]                                  # (T, R, *shape)
    assert np.all(y[:, :, ~lattice.mask("cytoplasm")] == 0)        # and only inside


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_open_membrane_lets_particles_through(method):
    lattice = cell()
    model = rd.RDMEModel().add_species("A", 1e-12, initial={"extracellular": 300})
    kernel = rd.rdme(model, lattice, tau=0.25 * lattice.spacing ** 2 / 1e-12, method=method)
    state, records, _ = kernel.step(kernel.init(3, n_replicas=2), 200, record_every=200)
    records = np.asarray(records)
    assert records[-1, :, lattice.region_index("cytoplasm"), 0].min() > 0
    assert np.all(records.sum(axis=2) == 300)


def test_overflow_is_raised_not_clipped():
    lattice = rd.box((2, 2, 2), 1e-8)
    model = rd.RDMEModel().add_species("A", 0.0)
    model.add_reaction("0 -> A", 50.0)                             # 3e4 per site per s
    kernel = rd.rdme(model, lattice, tau=1e-4, count_dtype="uint8")
    state = kernel.step(kernel.init(0), 200)
    with pytest.raises(SimulationError, match="exceeded its storage type.*wider count_dtype"):
        rd.check_errors(state)
    wide = rd.rdme(model, lattice, tau=1e-4, count_dtype="int32")
    state = wide.step(wide.init(0), 200)
    rd.check_errors(state)
    assert np.asarray(state.counts).max() > 255


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_same_seed_same_trajectory_other_seed_differs(method):
    lattice = rd.box((6, 6, 6), 1e-7)
    model = rd.RDMEModel().add_species("A", 1e-12, initial=100).add_species("B", 1e-12)
    model.add_reaction("A -> B", 2.0)
    kernel = rd.rdme(model, lattice, tau=2e-3, method=method)
    one = kernel.step(kernel.init(5, n_replicas=2, seed=1), 50)
    two = kernel.step(kernel.init(5, n_replicas=2, seed=1), 50)
    other = kernel.step(kernel.init(6, n_replicas=2, seed=1), 50)
    np.testing.assert_array_equal(np.asarray(one.counts), np.asarray(two.counts))
    assert not np.array_equal(np.asarray(one.counts), np.asarray(other.counts))
    assert one.counts.dtype == (np.uint8 if method == "lattice" else np.int32)
