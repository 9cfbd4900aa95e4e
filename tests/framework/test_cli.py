"""The greybox command line."""
import json
import math
from pathlib import Path

import pytest
import xarray as xr

import greybox_processes as gb
from typer.testing import CliRunner

from greybox_processes.cli import app

runner = CliRunner()


def test_processes_lists_grn():
    result = runner.invoke(app, ["processes"])
    assert result.exit_code == 0, result.output
    assert "GRN" in result.output and "SERGIO" in result.output


def test_run_writes_zarr_and_png(composites_dir, tmp_path):
    out = tmp_path / "run.zarr"
    result = runner.invoke(app, ["run", str(composites_dir / "grn_cells.yaml"), "--time", "2",
                                 "--set", "cells_per_type=2", "--set", "grn.config.noise=sp",
                                 "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run.png").stat().st_size > 10_000
    ds = xr.open_zarr(out, consolidated=False)
    assert ds.sizes["time"] == 3 and ds.sizes["cell"] == 18
    assert json.loads(ds.attrs["overrides"]) == {"grn.config.noise": "sp"}


def test_run_main_job_under_vivarium(tmp_path, monkeypatch):
    """`greybox run` without a spec: the grey-box E. coli population and its IPTG reference."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "--time", "3", "--set", "capacity=16",
                                 "--set", "initial_cells=3", "--set", "model=textbook_lactose",
                                 "--engine", "vivarium", "--no-progress"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "greybox-results"
    experiment = gb.read_zarr(folder / "ecoli_grey_box.zarr")
    reference = gb.read_zarr(folder / "ecoli_grey_box_iptg.zarr")
    assert (folder / "ecoli_grey_box.png").stat().st_size > 10_000
    assert experiment.attrs["engine"] == reference.attrs["engine"] == "vivarium"
    # the reference is the same population with the lac operon pre-induced: more LacY
    lacy = list(experiment.lac_species.values).index("lacY")
    assert (reference["cells.lac"].values[-1, :3, lacy].sum()
            > experiment["cells.lac"].values[-1, :3, lacy].sum())


def test_run_main_job_rejects_an_unknown_parameter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "--time", "1", "--set", "capacityy=16", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "capacityy" in result.output and "Fix:" in result.output


def test_show_prints_wiring(composites_dir):
    result = runner.invoke(app, ["show", str(composites_dir / "grn_cells.yaml")])
    assert result.exit_code == 0, result.output
    assert "cells/mrna shape (270, 100)" in result.output


def test_bad_spec_exits_2_with_the_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nstate:\n  p: {_type: process, address: local:GNR, config: {}}\n")
    result = runner.invoke(app, ["run", str(path), "--no-progress"])
    assert result.exit_code == 2
    assert "GNR" in result.output and "Fix:" in result.output


def test_bad_set_syntax(composites_dir):
    result = runner.invoke(app, ["run", str(composites_dir / "grn_cells.yaml"), "--set", "q"])
    assert result.exit_code == 2 and "key=value" in result.output


def test_show_draws_the_bigraph_or_says_what_is_missing(composites_dir, tmp_path):
    import shutil

    target = tmp_path / "grn.png"
    result = runner.invoke(app, ["show", str(composites_dir / "grn_cells.yaml"), "--draw",
                                 str(target)])
    if shutil.which("dot") is None:
        assert result.exit_code == 1 and "graphviz" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 1000


def test_mechanism_commands_are_mounted():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("processes", "run", "show", "certify", "train-grey-box"):
        assert command in result.output


def test_composites_lists_every_bundled_spec_with_its_description(composites_dir):
    import yaml

    result = runner.invoke(app, ["composites"])
    assert result.exit_code == 0, result.output
    rows = [line.split(None, 1) for line in result.output.splitlines()]
    expected = {p.stem: yaml.safe_load(p.read_text())["description"]
                for p in sorted(composites_dir.glob("*.yaml"))}
    assert {name: text.strip() for name, text in rows} == expected
    assert [name for name, _ in rows] == sorted(expected)


def test_composites_paths_gives_each_spec_file(composites_dir):
    result = runner.invoke(app, ["composites", "--paths"])
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        name, path = line.split()[0], line.rsplit("[", 1)[1].rstrip("]")
        assert Path(path).resolve() == (composites_dir / f"{name}.yaml").resolve()


def test_run_show_and_certify_take_a_composite_name(composites_dir, tmp_path):
    out = tmp_path / "cells.zarr"
    result = runner.invoke(app, ["run", "cell_cycle_population", "--time", "2", "--out", str(out),
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    ds = gb.read_zarr(out)
    assert Path(ds.attrs["spec"]).resolve() == (composites_dir
                                                / "cell_cycle_population.yaml").resolve()
    # the one cell grows at its constant rate: volume exp(rate * t)
    volume = (ds["cells.volume"] * ds["cells.alive"]).sum("cell").values
    rate = float(ds["cells.growth_rate"].values[0, 0])
    assert volume[-1] / volume[0] == pytest.approx(math.exp(rate * 2.0), rel=1e-9)

    shown = runner.invoke(app, ["show", "grn_cells", "--set", "cells_per_type=2"])
    assert shown.exit_code == 0, shown.output
    assert "cells/mrna shape (18, 100)" in shown.output

    # tiers 4 and 6 do not apply to the diauxie culture: a quick certification by name
    report_dir = tmp_path / "report"
    certified = runner.invoke(app, ["certify", "diauxie", "--tiers", "4,6", "--quick",
                                    "--out", str(report_dir)])
    assert certified.exit_code == 1, certified.output
    report = json.loads((report_dir / "report.json").read_text())
    assert Path(report["spec"]).resolve() == (composites_dir / "diauxie.yaml").resolve()


@pytest.mark.parametrize("command", ["run", "show", "certify"])
def test_an_unknown_composite_name_is_a_usage_error_with_close_matches(command, tmp_path):
    out = [] if command == "show" else ["--out", str(tmp_path / "x")]
    result = runner.invoke(app, [command, "ecoli_grey_bx", *out])
    assert result.exit_code == 2, result.output
    assert "'ecoli_grey_box'" in result.output and "greybox composites" in result.output
    assert not (tmp_path / "x").exists()  # nothing ran
