"""The bundled composites travel with the package and are found by name.

setup.py copies each ``composites/NAME.yaml`` into the package as
``greybox_processes/composite_specs/NAME.composite.yaml``. These tests check that a name resolves
in a checkout and in the packaged layout, that the build copies every spec unchanged, and (slow)
that a wheel installed, not editable, into a fresh virtual environment lists and runs a composite
by name from outside the repository and that process-bigraph's ``discover_composites()`` finds
every one of them.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

import greybox_processes as gb
from greybox_processes import composites
from greybox_processes.errors import SpecError

#: what a copy of the project for a build leaves out (caches, results, git)
_NOT_BUILT = shutil.ignore_patterns(".git", "greybox-results", "build", "dist", "*.egg-info",
                                    "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache",
                                    ".benchmarks", "*.zarr", ".venv")


def _specs(folder: Path, ending: str) -> dict[str, bytes]:
    return {p.name[:-len(ending)]: p.read_bytes() for p in sorted(folder.glob(f"*{ending}"))}


def test_names_are_the_files_of_composites_and_their_spec_names(composites_dir):
    files = composites.composite_files()
    assert files == {p.stem: p for p in sorted(composites_dir.glob("*.yaml"))}
    for name, path in files.items():
        # `greybox run NAME` writes NAME.zarr: the spec's own name must be its file's
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["name"] == name, path


def test_resolve_spec_takes_a_name_a_path_or_a_discovery_id(composites_dir):
    expected = (composites_dir / "grn_cells.yaml").resolve()
    for given in ("grn_cells", composites_dir / "grn_cells.yaml", str(expected),
                  f"greybox_processes.{composites.PACKAGED_SPECS}.grn_cells"):
        assert Path(composites.resolve_spec(given)).resolve() == expected, given
    document = {"state": {}}
    assert composites.resolve_spec(document) is document


def test_an_unknown_name_gives_the_close_matches_and_the_listing_command():
    with pytest.raises(SpecError) as info:
        composites.resolve_spec("ecoli_grey_bx")
    message = str(info.value)
    assert "'ecoli_grey_box'" in message and "greybox composites" in message
    assert "'tissue'" not in message  # only close matches


def test_a_missing_path_to_a_bundled_spec_says_to_give_its_name(tmp_path):
    with pytest.raises(SpecError, match="give its name") as info:
        composites.resolve_spec(tmp_path / "composites" / "grn_cells.yaml")
    assert "greybox run grn_cells" in str(info.value)
    # a missing file of no bundled name is left to load_spec's "not found"
    assert composites.resolve_spec(tmp_path / "mine.yaml") == tmp_path / "mine.yaml"
    with pytest.raises(SpecError, match="not found"):
        gb.load_spec(tmp_path / "mine.yaml")


def test_load_spec_and_build_document_take_a_name(core, composites_dir):
    spec = gb.load_spec("grn_cells")
    assert spec.name == "grn_cells"
    assert Path(spec.source_file).resolve() == (composites_dir / "grn_cells.yaml").resolve()
    document = gb.build_document("grn_cells", params={"cells_per_type": 2}, core=core)
    assert document["state"]["grn"]["config"]["cells_per_type"] == 2


def test_the_packaged_layout_is_found_by_name(tmp_path, monkeypatch, composites_dir):
    packaged = tmp_path / composites.PACKAGED_SPECS
    packaged.mkdir()
    for name in ("grn_cells", "tissue"):
        shutil.copy(composites_dir / f"{name}.yaml", packaged / f"{name}{composites.PACKAGED_SUFFIX}")
    monkeypatch.setattr(composites, "composite_folder",
                        lambda: (packaged, composites.PACKAGED_SUFFIX))
    assert list(composites.composite_files()) == ["grn_cells", "tissue"]
    assert composites.composite_path("tissue") == packaged / "tissue.composite.yaml"
    assert gb.load_spec("grn_cells").name == "grn_cells"
    with pytest.raises(SpecError, match="'grn_cells'"):
        composites.composite_path("grn_cell")


def test_the_build_copies_every_composite_into_the_package_unchanged(repo, tmp_path):
    """setup.py's build_py writes composites/ where composites.composite_folder() looks."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(repo / name, project / name)
    for name in ("composites", "greybox_processes"):
        shutil.copytree(repo / name, project / name, ignore=_NOT_BUILT)
    result = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib",
                             str(tmp_path / "lib")], cwd=project, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    built = tmp_path / "lib" / "greybox_processes" / composites.PACKAGED_SPECS
    assert _specs(built, composites.PACKAGED_SUFFIX) == _specs(repo / "composites", ".yaml")


def _run(command, *, cwd, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


_PROBE = """
import json
import greybox_processes
from greybox_processes import composites
from process_bigraph.composite_discovery import discover_composites
found = discover_composites()
print(json.dumps({
    "module": greybox_processes.__file__,
    "folder": str(composites.composite_folder()[0]),
    "discovered": {k: v["name"] for k, v in found.items() if k.startswith("greybox_processes.")},
}))
"""


@pytest.mark.slow
def test_a_wheel_in_a_fresh_venv_lists_discovers_and_runs_composites_by_name(repo, tmp_path):
    """sdist -> wheel (what ``python -m build`` does), installed without -e into a new venv."""
    source = tmp_path / "source"
    shutil.copytree(repo, source, ignore=_NOT_BUILT)
    sdist = _run([sys.executable, "-c", "import setuptools.build_meta as b; "
                  f"print(b.build_sdist({str(tmp_path / 'sdist')!r}))"], cwd=source)
    with tarfile.open(tmp_path / "sdist" / sdist.strip().splitlines()[-1]) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "--no-cache-dir", "-w", tmp_path / "wheel", "."], cwd=unpacked)
    (wheel,) = (tmp_path / "wheel").glob("greybox_processes-*.whl")
    venv = (tmp_path / "venv").resolve()
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv], cwd=tmp_path)
    python, greybox = venv / "bin" / "python", venv / "bin" / "greybox"
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", "--no-index",
          "--no-cache-dir", wheel], cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"  # no checkout here: only the installed package
    elsewhere.mkdir()
    probe = json.loads(_run([python, "-c", _PROBE], cwd=elsewhere).strip().splitlines()[-1])
    # the wheel's copy, not the editable install of the repository
    assert Path(probe["module"]).resolve().is_relative_to(venv), probe["module"]
    installed = Path(probe["folder"]).resolve()
    assert installed.is_relative_to(venv) and installed.name == composites.PACKAGED_SPECS
    # the installed copy is composites/, file for file, byte for byte
    expected = _specs(repo / "composites", ".yaml")
    assert _specs(installed, composites.PACKAGED_SUFFIX) == expected
    assert probe["discovered"] == {f"greybox_processes.{composites.PACKAGED_SPECS}.{name}": name
                                   for name in expected}

    listing = _run([greybox, "composites"], cwd=elsewhere).splitlines()
    assert [line.split()[0] for line in listing] == sorted(expected)

    _run([greybox, "run", "cell_cycle_population", "--time", "2", "--no-progress"], cwd=elsewhere)
    ds = gb.read_zarr(elsewhere / "greybox-results" / "cell_cycle_population.zarr")
    assert Path(ds.attrs["spec"]).resolve().is_relative_to(installed), ds.attrs["spec"]
    # constant-rate growth: the total volume of the living cells grows as exp(rate * t)
    volume = (ds["cells.volume"] * ds["cells.alive"]).sum("cell").values
    rate = float(ds["cells.growth_rate"].values[0, 0])
    assert volume[-1] / volume[0] == pytest.approx(math.exp(rate * float(ds.time[-1])), rel=1e-9)
