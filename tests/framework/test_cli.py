"""The greybox command line."""
import json

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
