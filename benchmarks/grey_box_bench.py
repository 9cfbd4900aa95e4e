"""Glass, grey, mechanistic-only and black-box cells side by side (lag, mass drift, wall time).

Runs each cell on Julou et al. 2020's medium (0.005% glucose + 0.02% lactose, the held-out
condition) for 8.5 h with the shipped weights, measures the diauxic lag against the glass
box's pre-induced (IPTG) culture, the C/N drift and the wall time per simulated hour, and the
share of a grey-box step spent in the network. Prints a Markdown table.

    python benchmarks/grey_box_bench.py
"""
from __future__ import annotations

import os
import time


import greybox_processes as gb
from greybox_processes.framework.spec import default_core
from greybox_processes.metabolism import diauxic_lag, reference_lags
from greybox_processes.neural import (NeuralLatentController, RegulatedDynamicFBA,
                                      black_box_cell, glass_box_cell, grey_box_cell,
                                      mass_drift, mechanistic_only_cell)

HOURS = 8.5


def timed(cls, store):
    original = cls.update

    def update(self, state, interval):
        start = time.perf_counter()
        out = original(self, state, interval)
        store.append(time.perf_counter() - start)
        return out
    cls.update = update
    return original


def main():
    core = default_core()
    cells = {"reference (glass, IPTG)": glass_box_cell(iptg=True), "glass box": glass_box_cell(),
             "grey box": grey_box_cell(), "mechanistic-only": mechanistic_only_cell(),
             "black box": black_box_cell()}
    net, phys = [], []
    timed(NeuralLatentController, net)
    timed(RegulatedDynamicFBA, phys)
    runs, walls, shares = {}, {}, None
    for name, doc in cells.items():
        net.clear(), phys.clear()
        runs[name] = gb.run(doc, HOURS, core=core, progress=False)
        walls[name] = runs[name].attrs["wall_time_s"] / HOURS
        if name == "grey box":
            shares = (sum(net), sum(phys), len(net))
    ref = runs["reference (glass, IPTG)"]
    glass_lag = diauxic_lag(runs["glass box"], ref).lag_min
    julou = float(reference_lags().loc["MG1655", "diauxic_lag_min"])
    print(f"load average {os.getloadavg()}")
    print("| cell | lag (min) | vs glass | vs Julou 41 min | growth arrest (min) | "
          "lactose left (mM) | C drift | N drift | wall s / simulated h |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in list(cells)[1:]:
        ds = runs[name]
        lag = diauxic_lag(ds, ref)
        drift = mass_drift(ds)
        left = float(ds["env.concentrations"].values[-1, 1])
        print(f"| {name} | {lag.lag_min:.1f} | {100 * (lag.lag_min / glass_lag - 1):+.1f}% | "
              f"{100 * (lag.lag_min / julou - 1):+.0f}% | {lag.arrest_min:.0f} | {left:.3f} | "
              f"{drift['C']:.2g} | {drift['N']:.2g} | {walls[name]:.2f} |")
    t_net, t_phys, n = shares
    print(f"\ngrey box: network {1e3 * t_net / n:.2f} ms/step, physics {1e3 * t_phys / n:.2f} "
          f"ms/step; network share of the two processes' time {100 * t_net / (t_net + t_phys):.1f}%")


if __name__ == "__main__":
    main()
