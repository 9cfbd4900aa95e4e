"""RDME models, geometry and unit conversion; bad models raise errors that say what to fix."""
import numpy as np
import pytest

import greybox_processes.rdme as rd
from greybox_processes.rdme.model import AVOGADRO
from greybox_processes.rdme.process import load_model


def b1(lattice):
    model = rd.RDMEModel()
    for name in "ABC":
        model.add_species(name, 1e-12)
    model.add_reaction("A + B -> C", 1.07e5)
    model.add_reaction("C -> A + B", 0.351)
    model.initial = {"A": 1000, "B": 1000}
    return model


def test_unit_conversion_per_site_rates():
    lattice = rd.box((4, 4, 4), 1e-7)
    model = rd.RDMEModel().add_species("A", 0.0).add_species("B", 0.0)
    model.add_reaction("0 -> A", 2e-6).add_reaction("A -> B", 3.0)
    model.add_reaction("A + B -> 0", 1e6).add_reaction("A + A -> B", 5e5)
    rate = model.compile(lattice).rate[:, 0]
    volume_l = (1e-7) ** 3 * 1e3
    np.testing.assert_allclose(rate, [2e-6 * AVOGADRO * volume_l, 3.0,
                                      1e6 / (AVOGADRO * volume_l), 5e5 / (AVOGADRO * volume_l)])
    change = model.compile(lattice).change
    np.testing.assert_array_equal(change, [[1, 0], [-1, 1], [-1, -1], [-2, 1]])


def test_parse_reaction_forms():
    assert rd.model.parse_reaction("2 A -> B") == (("A", "A"), ("B",))
    assert rd.model.parse_reaction("A + B -> 0") == (("A", "B"), ())
    assert rd.model.parse_reaction(" -> X") == ((), ("X",))


def test_unknown_species_in_a_reaction():
    model = b1(rd.box((4, 4, 4), 1e-7))
    model.add_reaction("A + D -> C", 1.0)
    with pytest.raises(ValueError, match=r"unknown species 'D'.*Known species"):
        model.compile(rd.box((4, 4, 4), 1e-7))


def test_negative_rate_and_order_three():
    lattice = rd.box((4, 4, 4), 1e-7)
    model = b1(lattice)
    model.add_reaction("C -> A", -1.0)
    with pytest.raises(ValueError, match="rate -1.0; rates must be finite and >= 0"):
        model.compile(lattice)
    model = b1(lattice)
    model.add_reaction("A + B + C -> A", 1.0)
    with pytest.raises(ValueError, match="order 3"):
        model.compile(lattice)


def test_unknown_region_and_negative_diffusion():
    lattice = rd.sphere((8, 8, 8), 2e-8, 6e-8)
    model = b1(lattice)
    model.add_reaction("C -> A", 1.0, regions=["cytoplasma"])
    with pytest.raises(ValueError, match="unknown region 'cytoplasma'.*'cytoplasm'"):
        model.compile(lattice)
    bad = rd.RDMEModel().add_species("A", -1e-12)
    with pytest.raises(ValueError, match="diffusion constant of 'A' must be"):
        bad.compile(lattice)


def test_unstable_time_step_says_which_species_and_what_step():
    lattice = rd.box((8, 8, 8), 1e-6 / 8)
    model = b1(lattice)
    model.species[2] = rd.Species("C", 4e-12)
    limit = rd.max_stable_tau(model.compile(lattice), lattice, "lie")
    assert limit == pytest.approx(0.5 * (1e-6 / 8) ** 2 / 4e-12)
    with pytest.raises(ValueError, match=r"species 'C'.*must be <= 1/2\. Use tau <= "):
        rd.rdme(model, lattice, tau=1.01 * limit, splitting="lie")
    rd.rdme(model, lattice, tau=limit, splitting="lie")   # exactly at the limit is fine
    with pytest.raises(ValueError, match="species 'C'"):  # Strang's half-steps allow 2x
        rd.rdme(model, lattice, tau=2.02 * limit, splitting="strang")


def test_region_mask_of_the_wrong_shape():
    lattice = rd.box((6, 5, 4), 1e-8)
    with pytest.raises(ValueError, match=r"region mask 'nucleoid' has shape \(6, 5\).*\(6, 5, 4\)"):
        rd.add_region(lattice, np.ones((6, 5), bool), "nucleoid")
    with pytest.raises(ValueError, match="must be boolean"):
        rd.from_masks({"cell": np.full((4, 4), 2)}, 1e-8)


def test_sphere_capsule_shell_and_masks():
    h = 1e-8
    cell = rd.sphere((40, 40, 40), h, 1.5e-7, membrane=None)
    volume = cell.region_sizes()[cell.region_index("cytoplasm")] * h ** 3
    assert volume == pytest.approx(4 / 3 * np.pi * (1.5e-7) ** 3, rel=0.03)
    rod = rd.capsule((60, 30, 30), h, 1e-7, 5e-7, axis=0)
    assert set(rod.regions) == {"extracellular", "cytoplasm", "membrane"}
    inside = rod.site_types != rod.region_index("extracellular")
    assert inside[:, 15, 15].sum() == pytest.approx(50, abs=2)   # the length along x
    # every membrane site touches the outside; no cytoplasm site does
    membrane, cytoplasm = rod.mask("membrane"), rod.mask("cytoplasm")
    outside = rod.mask("extracellular")
    touch = np.zeros_like(outside)
    for axis in range(3):
        for shift in (1, -1):
            touch |= np.roll(outside, shift, axis)
    assert np.all(touch[membrane]) and not np.any(touch[cytoplasm])
    masks = {"cell": cell.mask("cytoplasm"),
             "nucleoid": rd.sphere((40, 40, 40), h, 5e-8, membrane=None).mask("cytoplasm")}
    image = rd.from_masks(masks, h)
    assert image.regions == ("extracellular", "cell", "nucleoid")
    assert image.region_sizes()[2] > 0 and image.region_sizes()[1] > image.region_sizes()[2]


def test_yaml_model_form():
    spec = {"geometry": {"kind": "sphere", "shape": [10, 10, 10], "spacing": 2e-8,
                         "radius": 8e-8},
            "species": {"A": {"D": 1e-12, "initial": {"cytoplasm": 50}}, "B": 0.0},
            "reactions": [{"reaction": "A -> B", "rate": 1.0, "regions": ["membrane"]}],
            "transitions": [{"species": "A", "from": "cytoplasm", "to": "membrane", "D": 0.0}]}
    model, lattice = load_model(spec)
    compiled = model.compile(lattice)
    g = lattice.regions.index
    assert compiled.diffusion[0, g("cytoplasm"), g("membrane")] == 0.0
    assert compiled.diffusion[0, g("membrane"), g("cytoplasm")] == 1e-12
    assert compiled.rate[0, g("membrane")] == 1.0 and compiled.rate[0, g("cytoplasm")] == 0.0
    counts = model.initial_counts(lattice, 2, seed=1)
    assert counts.shape == (2, 2, 10, 10, 10) and counts[:, 0].sum() == 100
    assert counts[:, 0][:, ~lattice.mask("cytoplasm")].sum() == 0
    with pytest.raises(ValueError, match="unknown model keys"):
        load_model({**spec, "reaktions": []})
