"""A run checkpointed and resumed continues bit-identically to an uninterrupted run, under
process-bigraph and under vivarium-core; a checkpoint resumes only under the engine that wrote it."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError

ENGINES = ("pbg", "vivarium")
# q -> 0 from t=3, after the checkpoint at t=2: the resumed run must apply it at t=3 too
# (Intervened's time and applied flags are part of the checkpoint)
LATE_INTERVENTION = {"grn": [{"target": "q", "value": 0.0, "start": 3.0}]}


def _grn():
    return gb.composites.grn_cells(cells_per_type=1)


@pytest.mark.parametrize("interventions", [None, LATE_INTERVENTION], ids=["plain", "intervened"])
@pytest.mark.parametrize("engine", ENGINES)
def test_resume_is_bit_identical(core, tmp_path, engine, interventions):
    kwargs = dict(core=core, progress=False, engine=engine, interventions=interventions)
    straight = gb.run(_grn(), 4.0, **kwargs)
    first = gb.run(_grn(), 2.0, checkpoint=tmp_path, **kwargs)
    resumed = gb.run(_grn(), 4.0, resume=tmp_path, **kwargs)
    assert list(first["time"].values) == [0.0, 1.0, 2.0]
    assert list(resumed["time"].values) == [2.0, 3.0, 4.0]
    assert resumed.attrs["engine"] == engine
    for name in ("cells.mrna", "cells.protein"):
        np.testing.assert_array_equal(resumed[name].values,
                                      straight[name].sel(time=[2.0, 3.0, 4.0]).values)


@pytest.mark.parametrize("written_by, resumed_by", [("pbg", "vivarium"), ("vivarium", "pbg")])
def test_resume_under_the_other_engine_is_a_spec_error(core, tmp_path, written_by, resumed_by):
    gb.run(_grn(), 1.0, core=core, progress=False, engine=written_by, checkpoint=tmp_path)
    with pytest.raises(SpecError, match=f"written by the '{written_by}' engine") as caught:
        gb.run(_grn(), 2.0, core=core, progress=False, engine=resumed_by, resume=tmp_path)
    assert f"--engine {written_by}" in str(caught.value.fix)


def test_resume_without_a_checkpoint_says_so(core, tmp_path):
    with pytest.raises(SpecError, match="no checkpoint"):
        gb.run(_grn(), 2.0, core=core, progress=False, resume=tmp_path)


@pytest.mark.parametrize("engine", ENGINES)
def test_cli_checkpoint_then_resume(tmp_path, monkeypatch, engine, composites_dir):
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    common = ["run", str(composites_dir / "grn_cells.yaml"), "--set", "cells_per_type=1",
              "--no-progress", "--engine", engine]
    first = runner.invoke(app, [*common, "--time", "1", "--checkpoint", "ck", "--out", "a.zarr"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*common, "--time", "2", "--resume", "ck", "--out", "b.zarr"])
    assert second.exit_code == 0, second.output
    a, b = gb.read_zarr(tmp_path / "a.zarr"), gb.read_zarr(tmp_path / "b.zarr")
    assert list(b["time"].values) == [1.0, 2.0]
    assert b.attrs["engine"] == engine
    np.testing.assert_array_equal(b["cells.mrna"].sel(time=1.0).values,
                                  a["cells.mrna"].sel(time=1.0).values)
    other = "pbg" if engine == "vivarium" else "vivarium"
    mismatched = runner.invoke(app, [*common[:-1], other, "--time", "2", "--resume", "ck",
                                     "--out", "c.zarr"])
    assert mismatched.exit_code == 2, mismatched.output
    assert f"--engine {engine}" in mismatched.output
