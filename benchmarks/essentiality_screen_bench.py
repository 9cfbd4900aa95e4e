"""Genome-wide single-gene deletion screen: greybox (Dask) vs cobra single_gene_deletion.

Same model (cobra's bundled iJO1366), same medium (its default: aerobic M9 glucose), same run;
checks that both give the same growth for every gene and the same essential calls, then prints
wall times. Usage::

    python benchmarks/essentiality_screen_bench.py [--processes 2] [--repeats 1]
"""
from __future__ import annotations

import argparse
import json
import os
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--model", default="iJO1366")
    args = parser.parse_args()

    import numpy as np
    from cobra.flux_analysis import single_gene_deletion
    from distributed import Client, LocalCluster

    from greybox_processes.metabolism import essentiality_screen, load_model, score_essentiality

    model = load_model(args.model)
    wt = model.slim_optimize()
    rows = {}
    for repeat in range(args.repeats):
        started = time.perf_counter()
        cobra_result = single_gene_deletion(model, processes=args.processes)
        rows.setdefault("cobra single_gene_deletion", []).append(time.perf_counter() - started)

        started = time.perf_counter()
        ours = essentiality_screen(model, progress=False)  # starts and closes its own LocalCluster
        rows.setdefault("greybox essentiality_screen (own LocalCluster)", []).append(
            time.perf_counter() - started)

        cluster = LocalCluster(n_workers=args.processes, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
        try:
            essentiality_screen(model, progress=False, client=client)  # warm the workers
            started = time.perf_counter()
            warm = essentiality_screen(model, progress=False, client=client)
            rows.setdefault("greybox essentiality_screen (running client)", []).append(
                time.perf_counter() - started)
        finally:
            client.close()
            cluster.close()

    cobra_growth = {next(iter(ids)): g for ids, g in
                    zip(cobra_result["ids"], cobra_result["growth"])}
    ours_growth = ours.set_index("gene")["growth"]
    diffs = [abs(ours_growth[g] - (cobra_growth[g] if np.isfinite(cobra_growth[g]) else 0.0))
             for g in ours_growth.index]
    cobra_essential = {g: (not np.isfinite(v)) or v < 0.01 * wt for g, v in cobra_growth.items()}
    same_calls = all(cobra_essential[g] == e
                     for g, e in ours.set_index("gene")["essential"].items())
    assert warm["essential"].equals(ours["essential"])
    report = {
        "model": args.model, "genes": len(ours), "lps_solved_by_greybox": ours.attrs["lps_solved"],
        "max_abs_growth_difference": float(max(diffs)), "identical_essential_calls": same_calls,
        "f1": round(score_essentiality(ours)["f1"], 4),
        "stages_s (own cluster)": {k: round(v, 2) for k, v in ours.attrs["stages_s"].items()},
        "stages_s (running client)": {k: round(v, 2) for k, v in warm.attrs["stages_s"].items()},
        "wall_s": {k: [round(x, 2) for x in v] for k, v in rows.items()},
        "cpu_count": os.cpu_count(), "loadavg_at_end": os.getloadavg(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
