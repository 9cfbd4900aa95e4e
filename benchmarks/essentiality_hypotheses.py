"""What moves the essentiality F1 on iJO1366, and what does not: one run, every hypothesis.

Each row is a genome-wide screen (``essentiality_screen``) scored against Monk et al. 2017
(M9 glucose). Rows:

* ``fba`` / ``etfl``: the shipped methods, the model's default medium (the F1 baselines).
* ``etfl + enzyme pool``: every gene-catalysed flux also pays for its enzyme in one shared
  protein pool (sMOMENT-style, Bekiaris & Klamt 2020): ``sum_j L_j (v+_j/k+_j + v-_j/k-_j) <= P``
  with Heckmann et al. 2020's turnover numbers and PRECISE chain lengths (``EnzymeSector``),
  and ``P`` the least protein the wild type needs at its optimum (the pool binds at the
  wild type; nothing is tuned). Asks whether a knockout's detour is too costly in enzyme.
* ``etfl, m9_glucose_ijo1366``: M9 as Monk et al. used it (no vitamin B12).
* ``etfl, m9_glucose_vitamin_traces``: the same plus traces of the Wolfe vitamins iJO1366 can
  take up (``media.WOLFE_VITAMINS``): the hypothesis of Bernstein et al. 2023 that mutants
  reach vitamins absent from the recipe.
* ``nested CV, vitamin subset``: which of those vitamins are available, *learned from the
  labels*: each of the 2^7 subsets is screened once; in each training fold the subset with the
  best training F1 is chosen and the held-out genes are called with it (5-fold, stratified,
  pooled held-out predictions, ``scoring.cross_validated_f1``; repeated over seeds).
* ``--iml1515 PATH``: plain FBA on iML1515 (Monk et al. 2017's own model, curated with these
  experiments, so its score is not held out) for reference.

Usage::

    python benchmarks/essentiality_hypotheses.py [--iml1515 PATH] [--seeds 10]
"""
from __future__ import annotations

import argparse
import itertools
import time


def add_enzyme_pool(model):
    """Cap total enzyme protein at the wild type's least need (inside ``with model:``).

    Returns the pool size (mmol amino acids / gDW). Knockouts do not change the coefficients:
    a reaction's chain length is the mean over its gene rule's chains, its turnover per chain.
    """
    from greybox_processes.metabolism.enzymes import EnzymeSector
    from greybox_processes.metabolism.models import biomass_reaction

    sector = EnzymeSector.from_model(model)
    growth = model.slim_optimize()
    need = sector.protein_aa(sector.initial_levels(model, biomass_reaction(model), growth))
    # initial_levels solves at growth x (1 - 1e-6): the pool leaves that much room
    pool = model.problem.Constraint(0, lb=0, ub=need * (1 + 1e-5), name="enzyme_pool")
    model.add_cons_vars(pool)
    model.solver.update()
    pool.set_linear_coefficients(sector.protein_cost(model))
    return need


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iml1515", help="path to iML1515 SBML (not bundled)")
    parser.add_argument("--seeds", type=int, default=10, help="CV repeats (fold seeds)")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from distributed import Client, LocalCluster

    from greybox_processes.metabolism import (cross_validated_f1, essentiality_screen,
                                              load_model, reference_essentiality,
                                              score_essentiality)
    from greybox_processes.metabolism.media import (MEDIA, VITAMIN_TRACE_UPTAKE,
                                                    WOLFE_VITAMINS)
    from greybox_processes.metabolism.screen import _prepare

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    rows = []

    def screen(label, model, **kw):
        started = time.perf_counter()
        frame = essentiality_screen(model, client=client, progress=False, **kw)
        score = score_essentiality(frame)
        rows.append({"screen": label, "wild type (1/h)": round(frame.attrs["wild_type_growth"], 4),
                     **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in score.items()
                        if k in ("precision", "recall", "f1", "tp", "fp", "fn")},
                     "s": round(time.perf_counter() - started, 1)})
        return frame.set_index("gene")

    try:
        model = load_model("iJO1366")
        screen("fba", model, method="fba")
        etfl = screen("etfl", model, method="etfl")
        with model:  # the pool is added on top of the etfl constraints
            _prepare(model, None, "etfl")
            need = add_enzyme_pool(model)
            pooled = screen(f"etfl + enzyme pool ({need:.2f} mmol aa/gDW)", model, method="fba")
        changed = int((pooled["essential"] != etfl["essential"]).sum())
        rows[-1]["screen"] += f", {changed} calls changed"
        m9 = screen("etfl, m9_glucose_ijo1366", model, method="etfl",
                    medium="m9_glucose_ijo1366")
        screen("etfl, m9_glucose_vitamin_traces", model, method="etfl",
               medium="m9_glucose_vitamin_traces")

        # every vitamin subset: adding uptake never lowers a knockout's growth, so only the
        # genes essential without vitamins can change their call
        vitamins = [ex for ex in WOLFE_VITAMINS.values() if ex is not None]
        candidates = list(m9.index[m9["essential"]])
        base = MEDIA["m9_glucose_ijo1366"]
        calls = {}
        started = time.perf_counter()
        for n in range(len(vitamins) + 1):
            for subset in itertools.combinations(vitamins, n):
                medium = {**base, **{ex: VITAMIN_TRACE_UPTAKE for ex in subset}}
                frame = essentiality_screen(model, method="etfl", medium=medium,
                                            genes=candidates, client=client, progress=False)
                calls[subset] = set(frame.loc[frame["essential"], "gene"])
        subsets = list(calls)
        features = pd.DataFrame({i: [g in calls[s] for g in m9.index]
                                 for i, s in enumerate(subsets)}, index=m9.index)

        def fit(x, y):
            f1 = [(2 * (x[c] & y).sum()) / max(x[c].sum() + y.sum(), 1) for c in x.columns]
            best = x.columns[int(np.argmax(f1))]
            fit.chosen.append(subsets[best])
            return lambda held_out: held_out[best].to_numpy()

        fit.chosen = []
        held_out = [cross_validated_f1(features, fit=fit, seed=s)["f1"]
                    for s in range(args.seeds)]
        chosen = pd.Series([", ".join(e[3:-2] for e in s) or "none"
                            for s in fit.chosen]).value_counts()
        reference = reference_essentiality()["essential"]
        on_reference = features.reindex(reference.index, fill_value=False)
        in_sample = max((2 * (on_reference[i] & reference).sum()
                         / (on_reference[i].sum() + reference.sum()), s)
                        for i, s in enumerate(subsets))
        rows.append({"screen": f"nested CV, vitamin subset ({len(subsets)} subsets, "
                               f"{time.perf_counter() - started:.0f} s)",
                     "f1": f"{np.mean(held_out):.3f} +/- {np.std(held_out):.3f} held out"})
        if args.iml1515:
            import cobra
            iml = cobra.io.read_sbml_model(args.iml1515)
            screen("iML1515 fba (not held out)", iml, method="fba")
    finally:
        client.close()
        cluster.close()

    table = pd.DataFrame(rows).fillna("")
    print("| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns))
    for _, row in table.iterrows():
        print("| " + " | ".join(str(v) for v in row) + " |")
    print(f"\nvitamin subsets chosen in the {len(fit.chosen)} training folds:")
    print(chosen.to_string())
    print(f"best in-sample subset (not a score): F1 {in_sample[0]:.3f} with "
          f"{', '.join(e[3:-2] for e in in_sample[1]) or 'none'}")


if __name__ == "__main__":
    main()
