"""Runs that are interrupted, mis-configured or given bad CLI values fail clearly and keep results."""
from __future__ import annotations

import logging
import os
import signal

import numpy as np
import pytest
from typer.testing import CliRunner

import greybox_processes as gb
from greybox_processes.cli import _parse_sets, app
from greybox_processes.errors import SimulationError, SpecError
from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port

runner = CliRunner()


class Interrupter(GreyboxProcess):
    """Decays a vector; at ``stop_at`` raises KeyboardInterrupt or sends itself SIGTERM."""

    config_schema = {"n": {"_type": "integer", "_default": 3},
                     "stop_at": {"_type": "float", "_default": 3.0},
                     "how": {"_type": "string", "_default": "sigint"},
                     "dt": {"_type": "float", "_default": 0.0}}

    def initialize(self, config):
        self.time = 0.0
        if config["how"] == "build":  # Ctrl-C while the composite is being built
            raise KeyboardInterrupt

    def inputs(self):
        return {"x": array_port((self.config["n"],), "mM")}

    def outputs(self):
        return {"x": array_port((self.config["n"],), "mM")}

    def update(self, state, interval):
        self.time += interval
        if self.time >= self.config["stop_at"]:
            if self.config["how"] == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                raise KeyboardInterrupt
        return {"x": -0.1 * np.asarray(state["x"]) * interval}


def _document(interval=1.0, **config):
    return {"state": {
        "cell": {"x": np.array([1.0, 2.0, 4.0])},
        "p": {"_type": "process", "address": "local:Interrupter", "config": config,
              "interval": interval, "inputs": {"x": ["cell", "x"]},
              "outputs": {"x": ["cell", "x"]}},
    }}


@pytest.fixture()
def icore(core):
    core.register_link("Interrupter", Interrupter)
    return core


@pytest.mark.parametrize("engine", ["pbg", "vivarium"])
def test_ctrl_c_keeps_what_was_emitted(icore, tmp_path, engine):
    out = tmp_path / "partial.zarr"
    with pytest.raises(gb.framework.run.RunInterrupted) as info:
        gb.run(_document(), 10.0, core=icore, engine=engine, out=out, progress=False)
    error = info.value
    assert isinstance(error, SimulationError) and error.signal_name == "SIGINT"
    assert list(error.partial["time"].values) == [0.0, 1.0, 2.0]
    assert error.time == 2.0
    np.testing.assert_allclose(error.partial["cell.x"].values[-1], [0.81, 1.62, 3.24])
    assert gb.read_zarr(out).sizes["time"] == 3


@pytest.mark.parametrize("engine", ["pbg", "vivarium"])
def test_ctrl_c_while_building_is_an_interrupt_not_a_traceback(icore, engine):
    with pytest.raises(gb.framework.run.RunInterrupted, match="before the first interval") as info:
        gb.run(_document(how="build"), 10.0, core=icore, engine=engine, progress=False)
    assert info.value.partial is None and info.value.time == 0.0


def test_sigterm_is_an_interrupt_only_inside_the_handler(icore):
    from greybox_processes.framework.run import RunInterrupted, sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with sigterm_as_interrupt(), pytest.raises(RunInterrupted) as info:
        gb.run(_document(how="sigterm"), 10.0, core=icore, progress=False)
    assert info.value.signal_name == "SIGTERM"
    assert info.value.partial.sizes["time"] == 3
    assert signal.getsignal(signal.SIGTERM) is before


def _run_cli(icore, tmp_path, monkeypatch, **config):
    """``greybox run`` on a YAML spec of the Interrupter document; returns (result, out)."""
    import yaml

    monkeypatch.setattr("greybox_processes.framework.spec.default_core", lambda: icore)
    spec = tmp_path / "interrupt.yaml"
    document = _document(**config)
    document["state"]["cell"]["x"] = [1.0, 2.0, 4.0]
    spec.write_text(yaml.safe_dump({"name": "interrupt", **document}))
    out = tmp_path / "run.zarr"
    return runner.invoke(app, ["run", str(spec), "--time", "10", "--out", str(out),
                               "--no-progress"]), out


def test_cli_interrupt_while_building_exits_130_writing_nothing(icore, tmp_path, monkeypatch):
    result, out = _run_cli(icore, tmp_path, monkeypatch, how="build")
    assert result.exit_code == 130, result.output
    assert "nothing written" in result.output and not out.exists()


def test_cli_interrupt_exits_130_and_writes_the_zarr(icore, tmp_path, monkeypatch):
    result, out = _run_cli(icore, tmp_path, monkeypatch)
    assert result.exit_code == 130, result.output
    assert f"interrupted at t=2, 3 time points written to {out}" in result.output
    assert gb.read_zarr(out).sizes["time"] == 3


@pytest.mark.parametrize("bad", ["file", "proc", "folder"])
def test_bad_out_fails_before_running(composites_dir, tmp_path, monkeypatch, bad):
    def no_run(*args, **kwargs):
        raise AssertionError("the run started although --out cannot be written")

    monkeypatch.setattr("greybox_processes.framework.run.run", no_run)
    if bad == "file":
        out = tmp_path / "taken.zarr"
        out.write_text("not a zarr store")
    elif bad == "proc":
        out = "/proc/x.zarr"
    else:
        out = tmp_path / "notes"
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["run", str(composites_dir / "grn_cells.yaml"), "--out", str(out),
                                 "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "Fix:" in result.output


def test_set_parses_numbers_as_numbers():
    values = _parse_sets(["a=5e-3", "b=1.0e6", "c=-2E+3", "d=3", "e=sp", "f=[1, 2]", "g=true",
                          "h=.5"])
    assert values == {"a": 5e-3, "b": 1.0e6, "c": -2e3, "d": 3, "e": "sp", "f": [1, 2],
                      "g": True, "h": 0.5}
    assert isinstance(values["a"], float) and isinstance(values["d"], int)


def test_set_malformed_value_is_a_clear_error(composites_dir):
    with pytest.raises(SpecError, match="not valid YAML"):
        _parse_sets(["q=[1,2"])
    result = runner.invoke(app, ["run", str(composites_dir / "grn_cells.yaml"),
                                 "--set", "q=[1,2"])
    assert result.exit_code == 2 and "not valid YAML" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_time_not_a_multiple_of_the_tick_warns(icore, caplog):
    with caplog.at_level(logging.WARNING, logger="greybox_processes.framework.run"):
        ds = gb.run(_document(stop_at=99.0), 2.5, core=icore, progress=False)
    assert list(ds["time"].values) == [0.0, 1.0, 2.0]
    assert "stops at t=2" in caplog.text and "not a multiple" in caplog.text


def test_time_shorter_than_the_interval_is_an_error(icore):
    with pytest.raises(ValueError, match="shorter than the smallest process interval"):
        gb.run(_document(stop_at=99.0), 0.5, core=icore, progress=False)


@pytest.mark.parametrize("interval", [0, -1, 0.0])
def test_interval_not_positive_names_the_process(icore, interval):
    with pytest.raises(SpecError, match="interval") as info:
        gb.run(_document(interval=interval, stop_at=99.0), 2.0, core=icore, progress=False)
    assert info.value.path == ("p", "interval") and "positive interval" in str(info.value)


def test_params_with_a_document_dict_are_not_ignored(icore):
    with pytest.raises(SpecError, match="would be ignored"):
        gb.run(_document(stop_at=99.0), 2.0, params={"cells_per_type": 2}, core=icore,
               progress=False)


def test_many_steps_per_interval_warn_before_the_run(icore, caplog):
    with caplog.at_level(logging.WARNING, logger="greybox_processes.framework.run"):
        gb.run(_document(stop_at=99.0, dt=1e-3), 1.0, core=icore, progress=False,
               max_steps_warn=100)
    assert "plans 1000 kernel steps per interval" in caplog.text


def test_certify_usage_error_exits_2_not_1(composites_dir, tmp_path):
    result = runner.invoke(app, ["certify", str(composites_dir / "diauxie.yaml"), "--tiers", "4",
                                 "--quick", "--option", "4.modle=iJO1366", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "modle" in result.output
    assert not (tmp_path / "report.json").exists()
