"""Time nexusim 0.2.0's SpatialSim (run with the interpreter of a venv holding nexusim).

Usage: python _nexusim_runner.py N_CELLS N_STEPS  -> prints JSON {cells, steps, s_per_step, ...}
Builds the configuration in code (the wheel ships no configs/): a cube whose
volume times ``cell_concentration`` is N_CELLS, one cell type, forces, cell
cycle, two chemicals with diffusion and one reaction, as in tissue_bench.py.
"""
import json
import os
import resource
import sys
import tempfile
import time

from omegaconf import OmegaConf


def config(n_cells, n_steps, log_dir):
    side = 10.0
    conc = n_cells / side ** 3
    return OmegaConf.create({
        "height": side, "width": side, "depth": side, "delta": 0.1, "mesh_type": "lattice-free",
        "D": 0.5, "n_steps": n_steps, "log_dir": log_dir, "logging": False,
        "cell_concentration": conc, "field_resolution": 4, "random_key": 0,
        "n_cell_type": 1, "reaction_bool": True, "movement_bool": True, "diffusion_bool": True,
        "cycle_bool": True, "reaction_prob": True,
        "chemical": {"name": ["A", "B"], "mol_mass": [1.0, 1.0], "non_zero_init": True},
        "reaction": {"r1": {"rate_coeff": 0.1, "order": 1, "reactants": ["A"],
                            "reactants_exponent": [1], "products": ["B"],
                            "products_exponent": [1]}},
        "movement": {"t0": {"qty_ratio": 1, "attraction_coeff": 0.5, "repulsion_coeff": 2.0,
                            "drift_vel_coeff": 0.5, "random_vel_coeff": 0.05}},
        "cycle": {"t0": {"cycle_len": 12.0, "interphase_len": 11.0,
                         "apoptosis_death_prob": 0.001,
                         "necrosis_death_prob": 0.0005, "cell_target_vol": 1.0,
                         "cell_density": 1.0, "cell_vol_growth_rate": 0.05,
                         "cell_decay_rate": 0.5}},
    })


def main():
    n_cells, n_steps = int(sys.argv[1]), int(sys.argv[2])
    from nexus.simulator.spatial.spatialSim import SpatialSim
    with tempfile.TemporaryDirectory() as tmp:
        sim = SpatialSim(config(n_cells, n_steps, tmp))
        sim.run_sim(step=1)  # compile / warm up
        t = time.perf_counter()
        for i in range(2, n_steps + 2):
            sim.run_sim(step=i)
        jax_block = getattr(sim.mesh.cell_positions, "block_until_ready", None)
        jax_block and jax_block()
        elapsed = time.perf_counter() - t
    print(json.dumps({"cells": int(sim.mesh.n_cells), "steps": n_steps,
                      "s_per_step": elapsed / n_steps,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    main()
