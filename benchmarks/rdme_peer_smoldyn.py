"""B1 (A + B <-> C, 1 um^3 periodic box) in Smoldyn's lattice mode, for the side-by-side timing.

Runs Lattice Microbes' bimolecular test B1 entirely inside one Smoldyn NSV lattice
(next-subvolume method, ``start_lattice ... type nsv ... end_lattice``): species A, B, C
with D = 1 um^2/s, both reactions (kf = 1.07e5 /M/s = 1.777e-4 um^3/s, kr = 0.351 /s) on
the lattice, periodic lattice boundaries, spacing 1/size um, 1000 A and 1000 B placed
uniformly at t = 0; no particle-side molecules and no port. Smoldyn is exact at the RDME
level here (NSV is an exact SSA of the RDME). Install the peer in a Python 3.10 venv (the
smoldyn wheels need it): ``python3.10 -m venv /tmp/smol_venv && /tmp/smol_venv/bin/pip
install smoldyn`` (2.76 tested; its wheel has NSV compiled in), then
``/tmp/smol_venv/bin/python benchmarks/rdme_peer_smoldyn.py --sim-time 10 --size 32 --seed 1``.
Prints one JSON line: CPU (process) time and wall time of the run alone (the config is
parsed and the lattice built before the clock starts), the final counts of A, B, C, the
mean of C over the last half of the run (sampled every --sample s), and the exact CME
stationary mean and sd of C for comparison (269.9 +- 12.5; the CME mean is ~128 at t = 1 s,
~195 at 2 s, ~258 at 5 s). Measured on this 2-core shared machine: 275-281 s of CPU for
10 s simulated at 32^3 (about 1.2e8 diffusion events); C averaged 265 over 5-10 s.
"""
import argparse
import ctypes
import json
import math
import os
import sys
import tempfile
import time

import smoldyn

N_A = 6.02214076e23
EDGE_UM = 1.0
KF_M = 1.07e5          # M^-1 s^-1
KR = 0.351             # s^-1
D = 1.0                # um^2/s
N0 = 1000

CONFIG = """\
dim 3
species A B C
difc all {D}
time_start 0
time_stop {t_end}
time_step {dt}
boundaries 0 0 {L} p
boundaries 1 0 {L} p
boundaries 2 0 {L} p
reaction fwd A + B -> C {kf}
reaction back C -> A + B {kr}
product_placement back pgemmax 0.2
random_seed {seed}
start_lattice b1
type nsv
boundaries 0 0 {L} p
boundaries 1 0 {L} p
boundaries 2 0 {L} p
lengthscale {h} {h} {h}
species all
reactions all
mol {n0} A u u u
mol {n0} B u u u
end_lattice
end_file
"""


def kf_um3_per_s():
    """kf in Smoldyn's working units (um^3/s): 1 L = 1e15 um^3."""
    return KF_M * 1e15 / N_A


def cme_stationary():
    """Mean and sd of C in the well-mixed CME's stationary law (detailed balance)."""
    k = kf_um3_per_s() / EDGE_UM ** 3
    logp = [0.0]
    for c in range(N0):
        logp.append(logp[-1] + math.log(k * (N0 - c) ** 2 / (KR * (c + 1))))
    top = max(logp)
    w = [math.exp(x - top) for x in logp]
    z = sum(w)
    mean = sum(c * x for c, x in enumerate(w)) / z
    var = sum(c * c * x for c, x in enumerate(w)) / z - mean ** 2
    return mean, math.sqrt(var)


class Silenced:
    """Send Smoldyn's C-level stdout/stderr chatter to a log file; replay it on failure."""

    def __enter__(self):
        self.log = tempfile.TemporaryFile(mode="w+")
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2))
        os.dup2(self.log.fileno(), 1)
        os.dup2(self.log.fileno(), 2)
        return self

    def __exit__(self, exc_type, exc, tb):
        ctypes.CDLL(None).fflush(None)          # C stdio buffers go to the log, not stdout
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for fd in self.saved:
            os.close(fd)
        if exc_type is not None:
            self.log.seek(0)
            sys.stderr.write(self.log.read()[-4000:])
        self.log.close()
        return False


def run(sim_time, size, seed, sample):
    h = EDGE_UM / size
    text = CONFIG.format(D=D, t_end=sim_time, dt=sample, L=EDGE_UM, kf=repr(kf_um3_per_s()),
                         kr=KR, seed=seed, h=repr(h), n0=N0)
    with tempfile.TemporaryDirectory() as tmp, Silenced():
        path = os.path.join(tmp, "b1.txt")
        with open(path, "w") as f:
            f.write(text)
        t0 = time.perf_counter()
        sim = smoldyn.Simulation.fromFile(path, "-qt")
        sim.addOutputData("counts")
        sim.addCommand("molcount counts", "i", on=0.0, off=sim_time, step=sample)
        sim.addCommand("molcount counts", "a")   # the state at sim_time
        setup_s = time.perf_counter() - t0
        c0, w0 = time.process_time(), time.perf_counter()
        # Smoldyn sums the time steps, so stopping at exactly sim_time can take one step too
        # many (0.1 * 100 < 10 in floating point); stop half a step early instead.
        sim.run(sim_time - 0.5 * sample, sample, display=False, overwrite=True,
                quit_at_end=True)
        cpu_s, wall_s = time.process_time() - c0, time.perf_counter() - w0
        rows = sim.getOutputData("counts")       # [t, A, B, C] (lattice molecules included)
    return setup_s, cpu_s, wall_s, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sim-time", type=float, default=10.0, help="simulated time, s")
    parser.add_argument("--size", type=int, default=32, help="lattice sites per axis")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=float, default=0.1,
                        help="Smoldyn time step = count sampling interval, s (the lattice "
                             "itself is event-driven; this only sets how often it is read); "
                             "should divide --sim-time")
    args = parser.parse_args()
    setup_s, cpu_s, wall_s, rows = run(args.sim_time, args.size, args.seed, args.sample)
    t_end, a_end, b_end, c_end = rows[-1]
    half = [r[3] for r in rows if r[0] >= args.sim_time / 2 - 1e-9]
    cme_mean, cme_sd = cme_stationary()
    print(json.dumps({
        "peer": "smoldyn", "smoldyn_version": smoldyn.__version__,
        "mode": "lattice (NSV next-subvolume, whole model on the lattice)",
        "model": "B1", "size": args.size, "spacing_um": EDGE_UM / args.size,
        "sim_time_s": args.sim_time, "seed": args.seed,
        "setup_wall_s": round(setup_s, 3), "run_cpu_s": round(cpu_s, 2),
        "run_wall_s": round(wall_s, 2),
        "t_last_sample_s": round(t_end, 6),
        "A_end": int(a_end), "B_end": int(b_end), "C_end": int(c_end),
        "C_mean_last_half": round(sum(half) / len(half), 2), "n_samples_last_half": len(half),
        "conserved": int(a_end + c_end) == N0 and int(b_end + c_end) == N0,
        "cme_stationary_C_mean": round(cme_mean, 1), "cme_stationary_C_sd": round(cme_sd, 1),
    }))


if __name__ == "__main__":
    main()
