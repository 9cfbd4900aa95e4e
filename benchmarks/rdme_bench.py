"""RDME speed benchmarks (figures go to benchmarks/RESULTS.md, section "RDME").

    python benchmarks/rdme_bench.py            # full: B1 32^3 for 10 s (1 replica and a batch),
                                               # diffusion 256^3 with 1e6 particles, whole-cell proxy
    python benchmarks/rdme_bench.py --quick    # small versions (a minute on a laptop CPU)
    python benchmarks/rdme_bench.py --only b1  # one case: b1, b1_lattice, b1_batch, diffusion,
                                               # wholecell
    python benchmarks/rdme_bench.py --only b1,b1_lattice --peer /tmp/smol_venv/bin/python
                                               # + Smoldyn (benchmarks/rdme_peer_smoldyn.py)
                                               # on the same B1, in the same run: a ratio

Every case runs the kernel ``rd.rdme`` picks by default (``--method auto``: the particle
form for dilute lattices); ``b1_lattice`` is B1 in the dense lattice form, for comparison.

Reported per case: wall time (compilation excluded, reported apart), voxel-steps/s
(sites x replicas x steps / s), the bytes one step must move per voxel for the layout
(read and write each count once: 2 x species x itemsize, + 1 byte of site type when
there are several regions), the bandwidth that implies, and its fraction of the
device's measured copy bandwidth (a large ``x + 1`` on the same device). For the particle
form the traffic is per particle, not per site: particle-steps/s and 16 bytes per
particle-step (read and write a site and a species, int32) are reported instead.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import greybox_processes.rdme as rd
from greybox_processes.rdme.composites import b1_model
from greybox_processes.rdme.process import load_model


def copy_bandwidth() -> float:
    """Bytes/s of a streaming ``x + 1`` over 256 MiB (read + write) on the default device."""
    x = jnp.zeros((64 * 1024 * 1024,), jnp.float32)
    f = jax.jit(lambda a: a + 1.0)
    f(x).block_until_ready()
    t = time.perf_counter()
    for _ in range(5):
        x = f(x)
    x.block_until_ready()
    return 5 * 2 * x.nbytes / (time.perf_counter() - t)


def timed(kernel, state, n_steps, chunk):
    """Compile (one chunk), then time the remaining steps; returns (state, compile_s, run_s)."""
    t = time.perf_counter()
    state = kernel.step(state, chunk)
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    left = n_steps - chunk
    while left > 0:
        state = kernel.step(state, min(chunk, left))
        left -= chunk
    jax.block_until_ready(state)
    rd.check_errors(state)
    return state, compile_s, time.perf_counter() - t


def report(name, kernel, state, n_replicas, n_steps_timed, run_s, compile_s, bandwidth,
           extra=None):
    sites = kernel.lattice.n_sites * n_replicas
    vps = sites * n_steps_timed / run_s
    bpv = kernel.bytes_per_voxel_step()
    if kernel.method == "particles":   # the traffic is per particle, not per site
        particles = int(np.sum(np.asarray(state.species) >= 0))
        pps = particles * n_steps_timed / run_s
        extra = dict(extra or {}, particles=particles,
                     particle_steps_per_s=float(f"{pps:.4g}"), bytes_per_particle_step=16,
                     fraction_of_copy_bandwidth_particles=float(f"{pps * 16 / bandwidth:.3g}"))
        bpv = 0
    row = {"case": name, "method": kernel.method, "device": jax.devices()[0].device_kind,
           "lattice": kernel.lattice.shape,
           "species": kernel.compiled.n_species, "replicas": n_replicas,
           "count_dtype": kernel.count_dtype.name, "tau_s": kernel.tau,
           "steps_timed": n_steps_timed, "run_s": round(run_s, 3),
           "compile_s": round(compile_s, 1), "voxel_steps_per_s": float(f"{vps:.4g}"),
           "bytes_per_voxel_step": bpv or None,
           "GB_per_s": round((vps * bpv if bpv else extra["particle_steps_per_s"] * 16) / 1e9, 3),
           "fraction_of_copy_bandwidth": float(f"{vps * bpv / bandwidth:.3g}") if bpv else None}
    row.update(extra or {})
    print(json.dumps(row), flush=True)
    return row


def b1(size, n_replicas, sim_time, splitting, bandwidth, name, method):
    model, lattice = load_model(b1_model(size))
    tau = rd.max_stable_tau(model.compile(lattice), lattice, splitting, p_max=0.25)
    kernel = rd.rdme(model, lattice, tau=tau, splitting=splitting, method=method)
    n_steps = int(round(sim_time / tau))
    chunk = max(1, n_steps // 10)
    state = kernel.init(0, n_replicas=n_replicas)
    state, compile_s, run_s = timed(kernel, state, n_steps, chunk)
    c = np.asarray(kernel.observe(state))[:, 0, 2]
    total = run_s * n_steps / (n_steps - chunk)
    return report(name, kernel, state, n_replicas, n_steps - chunk, run_s, compile_s, bandwidth,
                  {"simulated_s": sim_time, "splitting": splitting,
                   "wall_for_simulated_s_estimate": round(total, 2),
                   "wall_for_10_s_simulated_estimate": round(total * 10 / sim_time, 2),
                   "mean_C_end": float(c.mean())})


def diffusion(size, n_particles, n_steps, bandwidth, method):
    h = 1e-8
    lattice = rd.box((size,) * 3, h)
    model = rd.RDMEModel().add_species("A", 1e-12, initial=n_particles)
    kernel = rd.rdme(model, lattice, tau=0.25 * h * h / 1e-12, splitting="lie", method=method)
    rng = np.random.default_rng(0)
    flat = np.bincount(rng.integers(0, lattice.n_sites, n_particles), minlength=lattice.n_sites)
    state = kernel.init(0, flat.reshape((1, 1) + lattice.shape))
    chunk = max(1, n_steps // 5)
    state, compile_s, run_s = timed(kernel, state, n_steps, chunk)
    assert int(np.asarray(kernel.observe(state)).sum()) == n_particles
    return report(f"diffusion {size}^3, {n_particles:.0e} particles", kernel, state, 1,
                  n_steps - chunk, run_s, compile_s, bandwidth)


def wholecell(shape, n_species, n_steps, bandwidth, method):
    h = 1e-8
    lattice = rd.sphere(shape, h, 2e-7, center=(shape[0] * h / 2, shape[1] * h / 2,
                                                  shape[2] * h / 2))
    model = rd.RDMEModel()
    for i in range(n_species):
        model.add_species(f"S{i}", 1e-12 * (0.2 + 0.8 * (i % 5) / 4),
                          initial={"cytoplasm": 200})
    for i in range(0, n_species - 1, 2):
        model.add_reaction(f"S{i} -> S{i + 1}", 1.0, regions=["cytoplasm"])
        model.add_reaction(f"S{i + 1} -> S{i}", 0.5)
    for i in range(n_species):
        model.set_transition(f"S{i}", "cytoplasm", "membrane", 0.0)
    tau = rd.max_stable_tau(model.compile(lattice), lattice, "lie", p_max=0.25)
    kernel = rd.rdme(model, lattice, tau=tau, splitting="lie", method=method)
    state = kernel.init(0)
    chunk = max(1, n_steps // 5)
    state, compile_s, run_s = timed(kernel, state, n_steps, chunk)
    return report(f"whole-cell proxy {shape}, {n_species} species", kernel, state, 1,
                  n_steps - chunk, run_s, compile_s, bandwidth)


def peer(python, sim_time, ours):
    """Run benchmarks/rdme_peer_smoldyn.py under ``python`` on B1 and print the ratio."""
    script = Path(__file__).with_name("rdme_peer_smoldyn.py")
    out = subprocess.run([python, str(script), "--sim-time", str(sim_time)], check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()
    row = json.loads(out[-1])
    wall = row["run_wall_s"]
    ratio = {"case": "peer ratio, B1 32^3", "peer": row["peer"], "peer_mode": row["mode"],
             "peer_wall_s": wall, "peer_cpu_s": row["run_cpu_s"], "peer_simulated_s": sim_time}
    for r in ours:
        if r and str(r.get("case", "")).startswith("B1 32^3") and r["replicas"] == 1:
            est = r["wall_for_simulated_s_estimate"] * sim_time / r["simulated_s"]
            ratio[f"speedup_{r['method']}"] = round(wall / est, 2)
    print(json.dumps(row), flush=True)
    print(json.dumps(ratio), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--splitting", default="strang")
    parser.add_argument("--method", default="auto", choices=rd.kernel.METHODS)
    parser.add_argument("--peer", default="", help="a Python with smoldyn (e.g. a 3.10 venv): "
                        "run the Smoldyn B1 peer in the same run")
    args = parser.parse_args()
    bandwidth = copy_bandwidth()
    print(json.dumps({"device": str(jax.devices()[0]), "copy_bandwidth_GB_per_s":
                      round(bandwidth / 1e9, 2), "x64": bool(jax.config.jax_enable_x64)}))
    q = args.quick
    m = args.method
    cases = {
        "b1": lambda: b1(32, 1, 1.0 if q else 10.0, args.splitting, bandwidth, "B1 32^3", m),
        # the dense form of the same B1 over a short window (it costs ~40 ms a step on CPU)
        "b1_lattice": lambda: b1(32, 1, 0.1 if q else 0.5, args.splitting, bandwidth,
                                 "B1 32^3 (lattice form)", "lattice"),
        "b1_batch": lambda: b1(32, args.batch, 0.5 if q else 10.0, args.splitting, bandwidth,
                               f"B1 32^3 x {args.batch} replicas", m),
        "diffusion": lambda: diffusion(64 if q else 256, 15625 if q else 1_000_000,
                                       20 if q else 100, bandwidth, m),
        "wholecell": lambda: wholecell((32, 32, 64) if q else (64, 64, 128), 20 if q else 100,
                                       10 if q else 50, bandwidth, m),
    }
    rows = []
    for name, run in cases.items():
        if not args.only or name in args.only.split(","):
            rows.append(run())
    if args.peer:
        peer(args.peer, 1.0 if q else 10.0, rows)


if __name__ == "__main__":
    main()
