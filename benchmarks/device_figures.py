"""One JSON of accelerator figures (issue 19 point 5): RDME B1 in both forms, pure diffusion
against the memory-bandwidth roofline, the GRN at 1e5 and 1e6 cells, the tissue at 1e5 cells.

    python benchmarks/device_figures.py --out device_figures.json          # scale 'gpu'
    python benchmarks/device_figures.py --scale cpu-smoke --out /tmp/f.json  # tiny, on the CPU

``benchmarks/device_run.sh`` installs the CUDA build of JAX and calls this. The cases are those of
``rdme_bench.py`` (B1: ``b1`` and ``b1_lattice``; pure diffusion: ``diffusion``, both forms),
``grn_vs_sergio.py`` ('independent' sampling of DS1, dpd noise, float64) and ``tissue_bench.py``
(its scenario, float64), at the sizes of ``SCALES``. Each case runs in its own subprocess (its own
JAX process: x64 setting, device memory, and a hard per-case timeout); the whole run is bounded by
``--budget-s``. A case that fails or times out records its error and the run goes on.

Roofline: the ceiling is the device-to-device copy bandwidth measured here (a streaming
``x + 1``, read + write, ``copy_bandwidth``) and, where ``nvidia-smi`` names a GPU of
``PEAK_BANDWIDTH_TB_S``, its datasheet peak. Bytes per step are those ``rdme_bench.report``
counts: 16 B per particle-step in the particle form, ``bytes_per_voxel_step`` x sites in the
lattice form.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = "DEVICE_FIGURES "  # the child's result line (other lines are the benchmarks' own output)

#: datasheet peak memory bandwidth, TB/s, by words of ``nvidia-smi``'s GPU name (first match
#: wins: the more specific entries come first)
PEAK_BANDWIDTH_TB_S = [
    (("H200",), 4.8),
    (("H100", "PCIe"), 2.0),
    (("H100",), 3.35),           # SXM (HBM3)
    (("A100", "80GB", "PCIe"), 1.935),
    (("A100", "80GB"), 2.039),   # SXM4
    (("A100",), 1.555),          # 40 GB
    (("V100",), 0.9),
]

#: per scale: case -> (size arguments, per-case timeout in s)
SCALES = {
    "gpu": {
        "copy_bandwidth": ({"n_bytes": 1 << 30}, 60),
        "rdme_b1_particles": ({"size": 32, "sim_time": 10.0}, 90),
        "rdme_b1_lattice": ({"size": 32, "sim_time": 1.0}, 75),
        "rdme_diffusion_particles": ({"size": 256, "n_particles": 1_000_000, "n_steps": 100}, 60),
        "rdme_diffusion_lattice": ({"size": 256, "n_particles": 1_000_000, "n_steps": 100}, 60),
        "grn_1e5_cells": ({"n_cells": 100_000, "n_steps": 100}, 45),
        "grn_1e6_cells": ({"n_cells": 1_000_000, "n_steps": 100}, 75),
        "tissue_1e5_cells": ({"n_cells": 100_000, "n_steps": 10}, 150),
    },
    "cpu-smoke": {
        "copy_bandwidth": ({"n_bytes": 1 << 22}, 60),
        "rdme_b1_particles": ({"size": 8, "sim_time": 0.02}, 60),
        "rdme_b1_lattice": ({"size": 8, "sim_time": 0.02}, 60),
        "rdme_diffusion_particles": ({"size": 16, "n_particles": 1000, "n_steps": 5}, 60),
        "rdme_diffusion_lattice": ({"size": 16, "n_particles": 1000, "n_steps": 5}, 60),
        "grn_1e5_cells": ({"n_cells": 100, "n_steps": 5}, 60),
        "grn_1e6_cells": ({"n_cells": 1000, "n_steps": 5}, 60),
        "tissue_1e5_cells": ({"n_cells": 20, "n_steps": 2}, 120),
    },
}


# -- the cases (each runs in a child process) -------------------------------------------------
def copy_bandwidth(n_bytes: int) -> dict:
    """Bytes/s of a streaming ``x + 1`` (read + write) over ``n_bytes`` of float32 on the
    default device: the achievable ceiling of a kernel that streams its state once."""
    import jax
    import jax.numpy as jnp

    x = jnp.zeros((n_bytes // 4,), jnp.float32)
    f = jax.jit(lambda a: a + 1.0)
    x = f(x).block_until_ready()
    repeats = 10
    started = time.perf_counter()
    for _ in range(repeats):
        x = f(x)
    x.block_until_ready()
    seconds = time.perf_counter() - started
    if float(x[0]) != repeats + 1:  # every repeat really ran
        raise RuntimeError(f"copy kernel returned {float(x[0])}, expected {repeats + 1}")
    device = jax.devices()[0]
    return {"jax_version": jax.__version__, "platform": device.platform,
            "device_kind": device.device_kind, "n_devices": len(jax.devices()),
            "bytes": int(x.nbytes), "copy_bandwidth_GB_per_s": repeats * 2 * x.nbytes / seconds / 1e9}


def _rdme_bench():
    sys.path.insert(0, str(HERE))
    import rdme_bench

    return rdme_bench


def rdme_b1(size: int, sim_time: float, method: str, bandwidth: float) -> dict:
    """B1 (A + B <-> C, rdme_bench.b1) at ``size^3``, Strang splitting, one replica."""
    row = _rdme_bench().b1(size, 1, sim_time, "strang", bandwidth, f"B1 {size}^3", method)
    return {**row, "lattice": list(row["lattice"])}


def rdme_diffusion(size: int, n_particles: int, n_steps: int, method: str,
                   bandwidth: float) -> dict:
    """Pure diffusion of ``n_particles`` on ``size^3`` (rdme_bench.diffusion) and its traffic."""
    row = _rdme_bench().diffusion(size, n_particles, n_steps, bandwidth, method)
    seconds_per_step = row["run_s"] / row["steps_timed"]
    if row["method"] == "particles":
        bytes_per_step = 16 * row["particles"]
    else:
        bytes_per_step = row["bytes_per_voxel_step"] * size ** 3
    return {**row, "lattice": list(row["lattice"]), "bytes_per_step": bytes_per_step,
            "s_per_step": seconds_per_step,
            "achieved_GB_per_s": bytes_per_step / seconds_per_step / 1e9}


def grn(n_cells: int, n_steps: int) -> dict:
    """'independent' sampling of DS1 (grn_vs_sergio.independent_run): dpd noise, dt 0.01,
    float64; the second call (new key) is timed, the first compiles."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    from greybox_processes.grn import GRNParams, grn_sde, read_sergio
    from greybox_processes.grn.kernel import check_errors

    net = read_sergio("DS1")
    params = GRNParams.from_network(net, np.arange(n_cells) % net.n_cell_types,
                                    dtype=jnp.float64)
    init, step = grn_sde(params, noise="dpd", dt=0.01)
    started = time.perf_counter()
    step(init(jax.random.PRNGKey(0)), n_steps).mrna.block_until_ready()
    compile_s = time.perf_counter() - started
    started = time.perf_counter()
    state = step(init(jax.random.PRNGKey(1)), n_steps)
    state.mrna.block_until_ready()
    run_s = time.perf_counter() - started
    check_errors(state)
    mrna = np.asarray(state.mrna)
    if not (np.isfinite(mrna).all() and (mrna >= 0).all()):
        raise RuntimeError("GRN state has negative or non-finite mRNA")
    gene_steps = n_cells * net.n_genes * n_steps
    return {"device_kind": jax.devices()[0].device_kind, "cells": n_cells,
            "genes": net.n_genes, "steps": n_steps, "first_call_s": compile_s, "run_s": run_s,
            "gene_steps_per_s": gene_steps / run_s, "state_MiB": 2 * mrna.nbytes / 2**20,
            "mean_mrna": float(mrna.mean())}


def tissue(n_cells: int, n_steps: int) -> dict:
    """tissue_bench's scenario (float64, capacity 2 x cells), the second call timed."""
    import jax

    sys.path.insert(0, str(HERE))
    import tissue_bench

    row = tissue_bench.run_ours(n_cells, n_steps, "float64")
    return {**row, "device_kind": jax.devices()[0].device_kind}


def run_case(name: str, sizes: dict, bandwidth: float) -> dict:
    """One case's figures (in this process)."""
    if name == "copy_bandwidth":
        return copy_bandwidth(**sizes)
    if name.startswith("rdme_b1_"):
        return rdme_b1(sizes["size"], sizes["sim_time"], name.rsplit("_", 1)[1], bandwidth)
    if name.startswith("rdme_diffusion_"):
        return rdme_diffusion(**sizes, method=name.rsplit("_", 1)[1], bandwidth=bandwidth)
    if name.startswith("grn_"):
        return grn(**sizes)
    if name.startswith("tissue_"):
        return tissue(**sizes)
    raise ValueError(f"unknown case {name!r}; cases are {list(SCALES['gpu'])}")


# -- the parent: GPU name, children with timeouts, one JSON ------------------------------------
def gpu_info() -> dict:
    """``nvidia-smi``'s name and memory of GPU 0 and its datasheet peak bandwidth (None if
    there is no nvidia-smi or the name is not in PEAK_BANDWIDTH_TB_S)."""
    if shutil.which("nvidia-smi") is None:
        return {"gpu": None, "note": "no nvidia-smi on PATH"}
    done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                          capture_output=True, text=True, timeout=30, check=False)
    if done.returncode or not done.stdout.strip():
        return {"gpu": None, "note": f"nvidia-smi failed: {done.stderr.strip()[-300:]}"}
    name, memory = [part.strip() for part in done.stdout.strip().splitlines()[0].split(",", 1)]
    return {"gpu": name, "memory_total": memory, "peak_bandwidth_TB_per_s": peak_bandwidth(name)}


def peak_bandwidth(gpu_name: str):
    """Datasheet peak memory bandwidth (TB/s) of a GPU named as nvidia-smi names it, or None."""
    return next((tb for words, tb in PEAK_BANDWIDTH_TB_S if all(w in gpu_name for w in words)),
                None)


def child(name: str, scale: str, bandwidth: float, timeout: float, env: dict) -> dict:
    """Run one case in a fresh interpreter; its figures, or ``{"error": ...}``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--case", name, "--scale", scale,
               "--copy-bandwidth", repr(bandwidth)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=HERE, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "wall_s": timeout}
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-1500:]}", "wall_s": wall}
    return {**json.loads(lines[-1][len(MARKER):]), "wall_s": wall}


def non_finite(figures: dict) -> list:
    """Names of the numeric figures that are not finite."""
    return [k for k, v in figures.items()
            if isinstance(v, float) and not math.isfinite(v)]


def collect(scale: str, budget_s: float, only=()) -> dict:
    """Every case of ``scale`` (or those in ``only``) within ``budget_s`` seconds in all; the
    JSON document."""
    env = dict(os.environ)
    if scale == "cpu-smoke":
        env["JAX_PLATFORMS"] = "cpu"
    started = time.perf_counter()
    out = {"scale": scale, "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "gpu": gpu_info(), "cases": {}}
    peak = out["gpu"].get("peak_bandwidth_TB_per_s")
    bandwidth = float("nan")
    unknown = set(only) - set(SCALES[scale])
    if unknown:
        raise ValueError(f"unknown cases {sorted(unknown)}; cases are {list(SCALES[scale])}")
    for name, (sizes, timeout) in SCALES[scale].items():
        if only and name not in only:
            continue
        left = budget_s - (time.perf_counter() - started)
        if left < 5:
            out["cases"][name] = {"error": f"not run: the {budget_s:.0f} s budget was spent",
                                  "sizes": sizes}
            continue
        figures = {"sizes": sizes, **child(name, scale, bandwidth, min(timeout, left), env)}
        if name == "copy_bandwidth" and "error" not in figures:
            bandwidth = figures["copy_bandwidth_GB_per_s"] * 1e9
            if peak:
                figures["fraction_of_peak_bandwidth"] = bandwidth / (peak * 1e12)
        if name.startswith("rdme_diffusion_") and "error" not in figures and peak:
            figures["fraction_of_peak_bandwidth"] = figures["achieved_GB_per_s"] / (peak * 1e3)
        if "error" not in figures and non_finite(figures):
            figures["error"] = f"non-finite figures: {non_finite(figures)}"
        out["cases"][name] = figures
    out["wall_s"] = time.perf_counter() - started
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="gpu", choices=sorted(SCALES))
    parser.add_argument("--out", default="device_figures.json", help="the JSON file to write")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="wall-clock bound of all cases together (s)")
    parser.add_argument("--only", default="", help="comma-separated cases (default: all)")
    parser.add_argument("--case", default="", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--copy-bandwidth", type=float, default=float("nan"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        sizes = SCALES[args.scale][args.case][0]
        figures = run_case(args.case, sizes, args.copy_bandwidth)
        print(MARKER + json.dumps(figures), flush=True)
        return 0
    document = collect(args.scale, args.budget_s, [c for c in args.only.split(",") if c])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, indent=1))
    failed = [name for name, figures in document["cases"].items() if "error" in figures]
    print(f"wrote {args.out}: {len(document['cases']) - len(failed)} cases measured, "
          f"failed: {failed or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
