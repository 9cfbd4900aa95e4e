"""A run checkpointed and resumed continues bit-identically to an uninterrupted run."""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.errors import SpecError


def test_resume_is_bit_identical_under_pbg(core, tmp_path):
    straight = gb.run(gb.composites.grn_cells(cells_per_type=1), 4.0, core=core, progress=False)
    gb.run(gb.composites.grn_cells(cells_per_type=1), 2.0, core=core, progress=False,
           checkpoint=tmp_path)
    resumed = gb.run(gb.composites.grn_cells(cells_per_type=1), 4.0, core=core, progress=False,
                     resume=tmp_path)
    assert list(resumed["time"].values) == [2.0, 3.0, 4.0]
    for name in ("cells.mrna", "cells.protein"):
        np.testing.assert_array_equal(resumed[name].values,
                                      straight[name].sel(time=[2.0, 3.0, 4.0]).values)


def test_resume_without_a_checkpoint_says_so(core, tmp_path):
    with pytest.raises(SpecError, match="no checkpoint"):
        gb.run(gb.composites.grn_cells(cells_per_type=1), 2.0, core=core, progress=False,
               resume=tmp_path)


def test_checkpoint_needs_pbg(core, tmp_path):
    with pytest.raises(ValueError, match="engine='pbg' only"):
        gb.run(gb.composites.grn_cells(cells_per_type=1), 2.0, core=core, progress=False,
               engine="vivarium", checkpoint=tmp_path)


def test_cli_checkpoint_then_resume(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from greybox_processes.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--time", "1", "--set", "cells_per_type=1", "--no-progress",
                                "--checkpoint", "ck", "--out", "a.zarr"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["run", "--time", "2", "--set", "cells_per_type=1",
                                 "--no-progress", "--resume", "ck", "--out", "b.zarr"])
    assert second.exit_code == 0, second.output
    assert list(gb.read_zarr(tmp_path / "b.zarr")["time"].values) == [1.0, 2.0]
