"""B1 (A + B <-> C, 1 um^3, 32^3 voxels) in SpatialPy, for the side-by-side timing.

Run in an environment with SpatialPy (it compiles a C++ solver with g++):

    python -m venv /tmp/peervenv && /tmp/peervenv/bin/pip install spatialpy
    /tmp/peervenv/bin/python benchmarks/rdme_peer_spatialpy.py --time 10

Prints the build and run times and the final mean of C.
"""
import argparse
import time

import numpy as np
import spatialpy

N_A = 6.02214076e23


def build(size, t_end, n_out):
    model = spatialpy.Model("B1")
    edge = 1e-6
    domain = spatialpy.Domain.create_3D_domain(
        xlim=(0, edge), ylim=(0, edge), zlim=(0, edge), numx=size, numy=size, numz=size,
        type_id=1, mass=1.0, nu=1.0, fixed=True, rho=1.0, c=0)
    model.add_domain(domain)
    model.add_species([spatialpy.Species("A", diffusion_coefficient=1e-12),
                       spatialpy.Species("B", diffusion_coefficient=1e-12),
                       spatialpy.Species("C", diffusion_coefficient=1e-12)])
    volume_l = edge ** 3 * 1e3
    # SpatialPy's mass-action rate for A + B is per volume of the whole domain (in m^3/s)
    kf = spatialpy.Parameter("kf", expression=1.07e5 / (N_A * 1e3))
    kr = spatialpy.Parameter("kr", expression=0.351)
    model.add_parameter([kf, kr])
    model.add_reaction([
        spatialpy.Reaction(name="f", reactants={"A": 1, "B": 1}, products={"C": 1}, rate=kf),
        spatialpy.Reaction(name="r", reactants={"C": 1}, products={"A": 1, "B": 1}, rate=kr)])
    model.add_initial_condition(spatialpy.ScatterInitialCondition("A", 1000))
    model.add_initial_condition(spatialpy.ScatterInitialCondition("B", 1000))
    model.timespan(np.linspace(0, t_end, n_out + 1))
    del volume_l
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--time", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    model = build(args.size, args.time, 10)
    solver = spatialpy.Solver(model)
    t = time.perf_counter()
    solver.compile()
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    result = solver.run(seed=1)
    run_s = time.perf_counter() - t
    c = result.get_species("C")
    print({"build_s": round(build_s, 1), "run_s": round(run_s, 1), "simulated_s": args.time,
           "C_end_total": float(np.sum(c[-1]))})


if __name__ == "__main__":
    main()
