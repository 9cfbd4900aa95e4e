"""Benchmark: greybox_processes.grn against sergio-scSim 1.9.3 (SERGIO v2), one process.

Usage::

    python benchmarks/grn_vs_sergio.py            # full run (~12 min on 2 CPU cores)
    python benchmarks/grn_vs_sergio.py --quick    # smoke run (tiny sizes)

Measures
--------
1. 'sergio' sampling (the same work sergio-scSim does: one trajectory per cell
   type, safety_iter + n*scale_iter steps, cells = time samples) on DS1 at 9,
   900, 2700 cells and DS2 at 2700 cells: wall time of sergio-scSim and of ours
   (cold = first call incl. JIT compilation; warm = second call, new seed), the
   speed ratio, and peak memory (sergio: tracemalloc peak of a second, untimed
   run, which also traces numpy buffers, only up to 900 cells because
   tracemalloc slows it ~4x; ours: peak RSS increase of the process,
   ``ru_maxrss``, which includes XLA's compiled code and buffers).
2. 'independent' sampling on DS1 at 1e3, 1e4, 1e5 cells, fixed number of
   steps: time, gene-steps/s, and the floor: a jitted scan that only draws the
   same normals in the same blocks (``jax.random.normal``, threefry, float64).
"""
from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from greybox_processes.grn import GRNParams, grn_sde, read_sergio, simulate  # noqa: E402
from greybox_processes.grn.kernel import _NOISE_BLOCK, noise_block_steps  # noqa: E402
from greybox_processes.grn.peer import sergio_simulate  # noqa: E402

import SERGIO  # noqa: E402,F401  (import cost kept out of the timings)
import SERGIO.GRN  # noqa: E402,F401
import SERGIO.MR  # noqa: E402,F401


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_sergio(net, n_per_type, seed=0, memory=False):
    """Wall time of sergio-scSim; with ``memory`` a second run under tracemalloc.

    tracemalloc slows sergio-scSim ~4x (it traces every np.append), so time and
    memory come from separate runs.
    """
    t0 = time.perf_counter()
    x = sergio_simulate(net, n_per_type, seed=seed)
    el = time.perf_counter() - t0
    peak = float("nan")
    if memory:
        tracemalloc.start()
        sergio_simulate(net, n_per_type, seed=seed)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return el, peak, x


def time_ours(net, n_per_type, **kw):
    rss0 = _peak_rss_mb()
    t0 = time.perf_counter()
    a = simulate(net, n_per_type, seed=0, **kw)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    a = simulate(net, n_per_type, seed=1, **kw)
    warm = time.perf_counter() - t0
    return cold, warm, _peak_rss_mb() - rss0, a


def random_floor(n_cells, n_genes, n_steps, dtype=jnp.float64):
    """Seconds to draw the 'dpd' normals of n_steps steps, same blocking as the kernel."""
    block = noise_block_steps("dpd", n_cells, n_genes, n_steps)
    n_blocks = n_steps // block

    @jax.jit
    def draw(key):
        def body(k, _):
            k, sub = jax.random.split(k)
            z = jax.random.normal(sub, (block, 2, n_cells, n_genes), dtype=dtype)
            return k, z.sum()   # consume the numbers so XLA cannot drop them
        return jax.lax.scan(body, key, None, length=n_blocks)[1].sum()

    draw(jax.random.PRNGKey(0)).block_until_ready()
    t0 = time.perf_counter()
    draw(jax.random.PRNGKey(1)).block_until_ready()
    return time.perf_counter() - t0, n_blocks * block


def independent_run(net, n_cells, n_steps):
    types = np.arange(n_cells) % net.n_cell_types
    rss0 = _peak_rss_mb()
    p = GRNParams.from_network(net, types, dtype=jnp.float64)
    init, step = grn_sde(p, noise="dpd", dt=0.01)
    s = step(init(jax.random.PRNGKey(0)), n_steps)
    s.mrna.block_until_ready()
    t0 = time.perf_counter()
    s = step(init(jax.random.PRNGKey(1)), n_steps)
    s.mrna.block_until_ready()
    el = time.perf_counter() - t0
    return el, _peak_rss_mb() - rss0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args(argv)

    ds1, ds2 = read_sergio("DS1"), read_sergio("DS2")
    if args.quick:
        cases = [("DS1", ds1, 9)]
        scaling = [100, 1000]
        n_steps = 20
    else:
        cases = [("DS1", ds1, 9), ("DS1", ds1, 900), ("DS1", ds1, 2700), ("DS2", ds2, 2700)]
        scaling = [1_000, 10_000, 100_000]
        n_steps = 100

    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, float64, "
          f"{len(jax.devices())} device(s)")
    print("\n## 'sergio' sampling (same work as sergio-scSim), dpd noise, q=1, dt=0.01")
    print(f"{'set':4} {'cells':>6} {'steps':>6} {'sergio s':>9} {'ours cold s':>11} "
          f"{'ours warm s':>11} {'x cold':>7} {'x warm':>8} {'sergio MiB':>10} "
          f"{'ours dRSS MiB':>13}")
    for name, net, cells in cases:
        per_type = cells // net.n_cell_types
        gc.collect()
        t_s, mem_s, _ = time_sergio(net, per_type, memory=cells <= 900)
        cold, warm, drss, a = time_ours(net, per_type, sampling="sergio")
        print(f"{name:4} {cells:6d} {a.uns['grn']['steps']:6d} {t_s:9.2f} {cold:11.3f} "
              f"{warm:11.3f} {t_s / cold:7.1f} {t_s / warm:8.1f} {mem_s:10.1f} {drss:13.1f}",
              flush=True)

    g = ds1.n_genes
    print(f"\n## 'independent' sampling, DS1 ({g} genes), {n_steps} steps, dpd, float64")
    print(f"{'cells':>7} {'time s':>8} {'gene-steps/s':>13} {'floor s':>8} "
          f"{'floor gs/s':>11} {'ratio':>6} {'dRSS MiB':>9} {'state MiB':>9}")
    for n in scaling:
        el, drss = independent_run(ds1, n, n_steps)
        fl, fsteps = random_floor(n, g, n_steps)
        fl = fl * n_steps / fsteps
        gs = n * g * n_steps
        print(f"{n:7d} {el:8.3f} {gs / el:13.3e} {fl:8.3f} {gs / fl:11.3e} {el / fl:6.2f} "
              f"{drss:9.1f} {2 * n * g * 8 / 2**20:9.1f}", flush=True)
    print(f"\n(normals drawn per RNG call: up to {_NOISE_BLOCK}; dRSS = increase of the "
          f"process's peak RSS during the run, 0 when an earlier run peaked higher)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
