"""Lac rates with units: conversions reach the kernel, wrong units are clear spec errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError
from greybox_processes.lac.kernel import SPECIES, molecules_per_mM
from greybox_processes.lac.process import LacOperon
from greybox_processes.metabolism.lac import LacParameters

M = SPECIES.index("mrna")
SBML = LacParameters.from_sbml()


@pytest.mark.parametrize("name, text, expected", [
    ("gamma_M", "0.5 1/s", 30.0),                   # 60x per minute
    ("gamma_M", "1.2 1/h", 0.02),
    ("alpha_M", "997 nM/min", 9.97e-4),             # YM's value as they give it
    ("alpha_M", "0.997 uM/min", 9.97e-4),
    ("gamma_0", "7.25e-4 uM/min", 7.25e-7),
    ("K_Le", "260 uM", 0.26),
    ("K_1", "0.0252 1/uM^2", 25200.0),
    ("tau_M", "6 s", 0.1),
    ("n", "2", 2.0),
    ("K", "7200 dimensionless", 7200.0),
])
def test_a_rate_with_a_unit_is_converted_to_the_kernel_unit(core, name, text, expected):
    lac = LacOperon({"capacity": 2, "rates": {name: text}}, core=core)
    assert float(getattr(lac.kinetics, name)) == pytest.approx(expected, rel=1e-12)


def test_molecules_per_volume_use_the_kernels_avogadro(core):
    # pint's molecule and the kernel's own N_A (molecules_per_mM) agree on mM per molecule/fL
    lac = LacOperon({"capacity": 2, "rates": {"alpha_M": "600 molecule/fL/min"}}, core=core)
    assert float(lac.kinetics.alpha_M) == pytest.approx(600.0 / float(molecules_per_mM(1.0)),
                                                        rel=1e-6)


def test_a_bare_number_is_taken_in_the_documented_unit(core):
    for value in (0.5, "0.5", 1):
        lac = LacOperon({"capacity": 2, "rates": {"gamma_M": value}}, core=core)
        assert float(lac.kinetics.gamma_M) == float(value)
    assert float(LacOperon({"capacity": 2}, core=core).kinetics.gamma_M) == SBML.gamma_M


def _decay(lac: LacOperon, cells: int, minutes: float) -> np.ndarray:
    """mRNA counts of ``cells`` cells after ``minutes`` of the process's update."""
    state = {**lac.initial_state(), "volume": np.ones(cells), "growth_rate": np.zeros(cells),
             "alive": np.ones(cells), "glucose": 0.0, "lactose": 0.0}
    return (state["lac"] + lac.update(state, minutes)["lac"])[:, M]


def test_a_per_second_rate_acts_as_sixty_per_minute_in_the_kernel(core):
    # only mRNA decay: no transcription, so n(t) ~ Bin(n0, exp(-gamma_M t))
    cells, n0, minutes = 512, 100.0, 1.0
    config = {"capacity": cells, "initial_cells": cells, "seed": 3,
              "initial_counts": [n0, 0, 0, 0, 0],
              "rates": {"alpha_M": 0.0, "gamma_0": 0.0, "alpha_B": 0.0, "alpha_P": 0.0}}
    per_second = LacOperon({**config, "rates": {**config["rates"], "gamma_M": "0.01 1/s"}},
                           core=core)
    per_minute = LacOperon({**config, "rates": {**config["rates"], "gamma_M": 0.6}}, core=core)
    left = _decay(per_second, cells, minutes)
    # same seed, same kinetics: the same trajectory as the rate given per minute
    np.testing.assert_array_equal(left, _decay(per_minute, cells, minutes))
    survive = math.exp(-0.6 * minutes)
    sd_of_mean = math.sqrt(n0 * survive * (1 - survive) / cells)
    assert abs(left.mean() - n0 * survive) < 5 * sd_of_mean, left.mean()
    # the number taken as per minute (0.01/min) would leave ~99 of 100
    assert left.mean() < n0 * math.exp(-0.01 * minutes) - 20 * sd_of_mean


@pytest.mark.parametrize("rates, words", [
    ({"gamma_M": "5 mM"}, ["gamma_M", "'5 mM'", "cannot be converted to 1/min",
                           "Fix: write `rates: {gamma_M: '0.411 1/min'}`", "taken in 1/min"]),
    ({"K": "5 mM"}, ["K = '5 mM'", "dimensionless", "Fix: write a bare number",
                     "rates: {K: 7200}"]),
    ({"gama_M": 1.0}, ["'gama_M' is not a Yildirim-Mackey parameter", "Did you mean 'gamma_M'",
                       "'gamma_M': '1/min'"]),
    ({"alpha_L": "-1 1/s"}, ["alpha_L = '-1 1/s' (= -60 1/min)", ">= 0 in 1/min",
                             "rates: {alpha_L: '2880 1/min'}"]),
    ({"gamma_P": "nan 1/min"}, ["gamma_P", "finite number >= 0 in 1/min", "Fix:"]),
    ({"gamma_P": float("inf")}, ["gamma_P = inf", "finite number >= 0 in 1/min", "Fix:"]),
    ({"tau_M": "0 s"}, ["tau_M", "> 0 in min", "rates: {tau_M: '0.1 min'}"]),
    ({"gamma_M": "3 bananas/min"}, ["gamma_M", "bananas", "its unit is 1/min", "Fix:"]),
    ({"alpha_M": "600 molecule/min"}, ["alpha_M", "mM/min", "give it per volume",
                                       "molecule/fL/min", "Fix:"]),
    ({"alpha_B": "0.0166 1/molecule/min"}, ["alpha_B", "1/min", "drop the 'molecule'", "Fix:"]),
    ({"gamma_M": True}, ["gamma_M = True", "its unit is 1/min", "Fix:"]),
])
def test_a_bad_rate_names_the_parameter_the_unit_and_the_fix(core, rates, words):
    with pytest.raises(ValueError) as info:
        LacOperon({"capacity": 2, "rates": rates}, core=core)
    for word in words:
        assert word in str(info.value), str(info.value)


SMALL = {"capacity": 4, "initial_cells": 1}


def test_a_bad_rate_in_a_yaml_spec_names_the_file_and_the_node(tmp_path, composites_dir, core):
    text = (composites_dir / "ecoli_population.yaml").read_text()
    anchor = "    address: local:LacOperon\n    config:\n"
    assert anchor in text
    path = tmp_path / "ecoli_bad_lac.yaml"
    path.write_text(text.replace(anchor, anchor + "      rates: {gamma_M: 5 mM}\n"))
    with pytest.raises(SpecError) as info:
        gb.run(path, 1.0, params=SMALL, core=core, progress=False)
    message = str(info.value)
    for word in (str(path), "at lac/config", "LacOperon rejected its config", "gamma_M",
                 "'5 mM'", "1/min", "Fix:"):
        assert word in message, message


def test_a_bad_rate_override_names_the_spec_and_the_node(composites_dir, core):
    spec = composites_dir / "ecoli_population.yaml"
    with pytest.raises(SpecError) as info:
        gb.build_document(spec, params=SMALL, core=core,
                          overrides={"lac.config.rates": {"alpha_M": "600 molecule/min"}})
    message = str(info.value)
    for word in (str(spec), "at lac/config", "alpha_M", "mM/min", "give it per volume"):
        assert word in message, message
    document = gb.build_document(spec, params=SMALL, core=core,
                                 overrides={"lac.config.rates": {"alpha_M": "997 nM/min"}})
    assert document["state"]["lac"]["config"]["rates"] == {"alpha_M": "997 nM/min"}


def test_cli_set_of_a_bad_rate_fails_before_running(composites_dir):
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    result = CliRunner().invoke(app, ["show", str(composites_dir / "ecoli_population.yaml"),
                                      "--set", "capacity=4", "--set", "initial_cells=1",
                                      "--set", "lac.config.rates={tau_M: 6 mM}"])
    assert result.exit_code == 2, result.output
    assert "tau_M" in result.output and "cannot be converted to min" in result.output
