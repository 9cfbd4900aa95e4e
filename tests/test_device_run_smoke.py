"""benchmarks/device_figures.py (the driver of benchmarks/device_run.sh) on the CPU.

CI has no GPU: every case the GPU run measures must run at its ``cpu-smoke`` size and give
finite figures, and the driver must record a failing or unrun case and go on.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).resolve().parents[1] / "benchmarks" / "device_figures.py"


@pytest.fixture(scope="module")
def driver():
    spec = importlib.util.spec_from_file_location("device_figures", DRIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_scales_have_the_same_cases(driver):
    assert list(driver.SCALES["gpu"]) == list(driver.SCALES["cpu-smoke"])


def test_peak_bandwidth_is_looked_up_by_nvidia_smi_name(driver):
    assert driver.peak_bandwidth("NVIDIA H200") == 4.8
    assert driver.peak_bandwidth("NVIDIA H100 80GB HBM3") == 3.35
    assert driver.peak_bandwidth("NVIDIA H100 PCIe") == 2.0
    assert driver.peak_bandwidth("NVIDIA A100-SXM4-80GB") == 2.039
    assert driver.peak_bandwidth("Some Future GPU") is None


def test_a_failing_case_is_recorded_and_a_spent_budget_runs_nothing(driver):
    failed = driver.child("no_such_case", "cpu-smoke", float("nan"), 60, dict(os.environ))
    assert "no_such_case" in failed["error"]
    document = driver.collect("cpu-smoke", budget_s=0.0)
    assert set(document["cases"]) == set(driver.SCALES["cpu-smoke"])
    assert all("budget" in figures["error"] for figures in document["cases"].values())
    with pytest.raises(ValueError, match="unknown cases"):
        driver.collect("cpu-smoke", budget_s=0.0, only=["no_such_case"])


@pytest.mark.slow  # ~55 s of CPU: eight fresh JAX processes, the 3D tissue kernel compiles ~20 s
def test_every_case_runs_at_smoke_size_with_finite_figures(driver, tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(DRIVER), "--scale", "cpu-smoke", "--out",
                           str(out)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(out.read_text())
    assert set(document["cases"]) == set(driver.SCALES["cpu-smoke"])
    for name, figures in document["cases"].items():
        assert "error" not in figures, (name, figures.get("error"))
        numbers = [v for v in figures.values() if isinstance(v, (int, float))]
        assert numbers and all(math.isfinite(v) for v in numbers), (name, figures)
    assert document["cases"]["copy_bandwidth"]["copy_bandwidth_GB_per_s"] > 0
    for form in ("particles", "lattice"):
        assert document["cases"][f"rdme_b1_{form}"]["method"] == form
        diffusion = document["cases"][f"rdme_diffusion_{form}"]
        assert diffusion["method"] == form and diffusion["achieved_GB_per_s"] > 0
    # diffusion conserves particles (rdme_bench.diffusion asserts it); the GRN stays finite
    assert document["cases"]["grn_1e6_cells"]["cells"] == 1000
    assert document["cases"]["tissue_1e5_cells"]["live_cells"] > 0
