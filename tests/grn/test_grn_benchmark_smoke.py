"""The GRN benchmark script runs (``--quick``)."""
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "grn_vs_sergio.py"


@pytest.mark.peer
@pytest.mark.slow
def test_benchmark_quick_runs():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "'sergio' sampling" in out.stdout and "gene-steps/s" in out.stdout
