"""Bad input to the E. coli cell specs: each is a SpecError naming the file, the path and the fix."""
from __future__ import annotations

import copy

import pytest
import yaml

import greybox_processes as gb
from greybox_processes.errors import SpecError


@pytest.fixture(scope="module")
def glass_box(composites_dir):
    """composites/ecoli_glass_box.yaml on e_coli_core with plain FBA (fast to build)."""
    document = yaml.safe_load((composites_dir / "ecoli_glass_box.yaml").read_text())
    document["parameters"]["model"]["default"] = "textbook_lactose"
    document["parameters"]["method"]["default"] = "fba"
    return document


def test_the_unchanged_spec_builds(glass_box, tmp_path):
    path = tmp_path / "cell.yaml"
    path.write_text(yaml.safe_dump(glass_box))
    gb.build_document(str(path))


def _build_error(document, tmp_path, change) -> SpecError:
    document = copy.deepcopy(document)
    change(document)
    path = tmp_path / "cell.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError) as info:
        gb.build_document(str(path))
    assert info.value.file == str(path)
    assert info.value.fix
    return info.value


def test_per_cell_store_without_division_rule(glass_box, tmp_path):
    def drop_lac(document):
        division = document["state"]["division"]
        division["config"]["stores"].remove("lac")
        division["config"]["trailing_shape"].pop("lac")
        for key in ("inputs", "outputs"):
            division[key].pop("lac")

    error = _build_error(glass_box, tmp_path, drop_lac)
    assert error.path == ("division", "config", "stores")
    assert "cells/lac" in str(error) and "'lac'" in error.fix


def test_population_larger_than_its_capacity(glass_box, tmp_path):
    def crowd(document):
        document["parameters"]["initial_cells"]["default"] = 300

    error = _build_error(glass_box, tmp_path, crowd)
    assert "initial_cells (300)" in str(error) and "capacity" in str(error)


def test_lac_rate_in_the_wrong_units(glass_box, tmp_path):
    def wrong_units(document):
        document["state"]["lac"]["config"]["rates"] = {"gamma_M": "0.411 mM"}

    error = _build_error(glass_box, tmp_path, wrong_units)
    assert error.path == ("lac", "config")
    assert "gamma_M" in str(error) and "1/min" in str(error)


def test_reaction_id_the_model_does_not_have(glass_box, tmp_path):
    def unknown(document):
        document["state"]["metabolism"]["config"]["lactose_exchange"] = "EX_lctos_e"

    error = _build_error(glass_box, tmp_path, unknown)
    assert "EX_lctos_e" in str(error) and "EX_lcts_e" in str(error)
