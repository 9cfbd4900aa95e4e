"""Tier 6 (population de-phasing) on the tissue population of dephasing_population.yaml."""
import json

import pytest
import yaml

import greybox_processes as gb
from greybox_processes.tissue.composites import dephasing_population
from greybox_processes.wcm_hard import certify
from greybox_processes.wcm_hard.tiers import DephasingTier

SPEC = "dephasing_population.yaml"


def _small_spec(tmp_path, **kwargs):
    """The de-phasing population as a YAML file, resized (e.g. fewer cells)."""
    path = tmp_path / "small_population.yaml"
    document = {"name": "small_population", "state": dephasing_population(**kwargs)["state"]}
    path.write_text(yaml.safe_dump(document))
    return path


def test_dephasing_spec_validates_and_matches_its_builder(composites_dir, core):
    from_yaml = gb.build_document(composites_dir / SPEC, core=core)  # strict validation
    assert from_yaml["state"] == dephasing_population()["state"]
    config = from_yaml["state"]["tissue"]["config"]
    assert config["initial_per_type"] == 100 and config["synchronized"] is True
    small = gb.build_document(composites_dir / SPEC, params={"capacity": 64, "size_rule": "adder"},
                              core=core, validate=False)
    assert small["state"] == dephasing_population(capacity=64, size_rule="adder")["state"]


def test_dephasing_capacity_too_small_is_an_error_with_the_fix(composites_dir, base_core):
    result = DephasingTier({"spec": str(composites_dir / "tissue_2d.yaml"), "quick": True},
                           base_core).evaluate()
    assert result.status == "error" and result.score is None
    assert "capacity_per_type >= 308" in result.notes[0], result.notes
    assert result.wall_s < 30  # refused before running anything


def test_dephasing_bad_options_are_errors_naming_the_option(composites_dir):
    report = certify(composites_dir / SPEC, tiers=[6], options={6: {"run_generations": 3}},
                     progress=False)
    result = report.results[0]
    assert result.status == "error" and "run_generations (3) must be >= generations + 1" \
        in result.notes[0]


def test_dephasing_tier_runs_end_to_end_on_a_small_population(tmp_path, base_core):
    spec = _small_spec(tmp_path, initial_cells=10, capacity=1600)
    step = DephasingTier({"spec": str(spec), "quick": True, "out_dir": str(tmp_path / "out")},
                         base_core)
    result = step.evaluate()
    assert result.status in ("pass", "fail"), result.notes
    ev = result.evidence
    assert ev["cells_start"] == 10 and ev["cells_end"] > 10 * 2 ** 5
    assert ev["generation_time"] == pytest.approx(13.0)
    assert ev["span_generations"] == pytest.approx(7.0, abs=0.05)
    assert len(ev["cv_per_generation"]) == 7 and ev["initial_cv"] == pytest.approx(0.0, abs=1e-9)
    assert result.score == pytest.approx(ev["plateau"])
    assert any("seed asks for 100" in n for n in result.notes)
    assert [p.endswith("tier6_volume_cv.png") for p in result.figures] == [True]


@pytest.mark.slow
def test_dephasing_population_certify_quick(composites_dir, tmp_path):
    """``greybox certify composites/dephasing_population.yaml --tiers 6 --quick`` (~30-50 s)."""
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    result = CliRunner().invoke(app, ["certify", str(composites_dir / SPEC), "--tiers", "6",
                                      "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output  # honest: the timer cell does not pass
    tier = json.loads((tmp_path / "report.json").read_text())["results"][0]
    ev = tier["evidence"]
    assert tier["status"] == "fail" and ev["cells_start"] == 100
    assert ev["cells_end"] > 100 * 2 ** 6 and not ev["monotone"]
    assert 0.25 < ev["plateau"] < 0.45  # still half synchronised; no size control
    assert (tmp_path / "tier6_volume_cv.png").is_file()
