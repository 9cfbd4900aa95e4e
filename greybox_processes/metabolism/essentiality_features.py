"""Label-free mechanistic features of every single-gene knockout of a cell's network.

The grey box's tier-2 path (:mod:`greybox_processes.neural.essentiality_model`) learns the
essentiality call from these features; nothing here reads an essentiality label. Per gene
(rows) of a cobra model whose medium is already set (e.g. the LP of a composite's cell,
``DynamicFBA.initial_lp()``):

* knockout growth relative to the wild type (``growth_*``, the mechanism's own call before
  thresholding): the screen's ``method`` (``'etfl'``: charged tRNAs, ribosome cap), plain FBA,
  FBA without oxygen, and ``method`` with traces of the Wolfe vitamins (media.py);
* gene-rule structure: reactions of the gene, reactions its loss disables (``n_lost``),
  complexes (``n_and_rules``), isozymes (``max_or_branches``), genes per rule;
* the wild type's optimum (after the method's constraints): largest |flux| of a disabled
  reaction in the parsimonious optimum (mmol/gDW/h), flux variability at ``fva_fraction`` of
  the optimum (``fva_required``: smallest |flux| a disabled reaction must carry; ``fva_span``),
  blocked reactions (no flux at any growth), largest |reduced cost| of a disabled reaction and
  |shadow price| of its metabolites ((1/h) per mmol/gDW/h), biomass precursors it touches;
* the wild type's expression, log2(TPM+1) in PRECISE's M9-glucose reference samples (a
  measurement, not a label; ``data/ecoli/precise_wt_glc_reference.csv``), and subsystems.

Flux sampling (cobra.sampling) was tried and left out: building an OptGP sampler for iJO1366
took over 5 min on the 2-core development machine.

The table for the E. coli grey box's cell is cached (``data/essentiality/``), derived from the
model only; :func:`cached_knockout_features` recomputes when the model's fingerprint differs.
Regenerate: ``python -m greybox_processes.metabolism.essentiality_features
--spec composites/ecoli_grey_box.yaml`` (about 4 min on 2 cores).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import time as wallclock
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .media import MEDIA
from .screen import _local_cluster, _prepare, essentiality_screen, reactions_lost
from ..wcm_hard.tiers.base import (initial_cell_lac, is_population_metabolism,
                                  metabolism_instance, metabolism_node)

__all__ = ["knockout_features", "cached_knockout_features", "model_fingerprint",
           "GROWTH_COLUMNS", "DEFAULT_CACHE"]

log = logging.getLogger(__name__)

#: the mechanism's knockout-growth columns (dropped for the features-only baseline)
GROWTH_COLUMNS = ("growth_method", "growth_fba", "growth_anaerobic", "growth_vitamins")
DEFAULT_CACHE = "ecoli_grey_box_knockout_features.csv.gz"
_TOL = 1e-9


def _data_dir() -> Path:
    return Path(str(resources.files("greybox_processes") / "data" / "essentiality"))


def model_fingerprint(model, method: str) -> str:
    """SHA-1 of what the features depend on: reactions (equation, bounds, gene rule), the
    objective and ``method``. Equal fingerprints -> equal features."""
    digest = hashlib.sha1(method.encode())
    for r in sorted(model.reactions, key=lambda r: r.id):
        digest.update(f"{r.id}|{r.build_reaction_string()}|{r.lower_bound:.9g}|"
                      f"{r.upper_bound:.9g}|{r.gene_reaction_rule}|"
                      f"{r.objective_coefficient:.9g}\n".encode())
    return digest.hexdigest()


def _relative_growth(model, genes, method, client) -> pd.Series:
    screen = essentiality_screen(model, method=method, genes=genes, client=client,
                                 progress=False)
    return screen.set_index("gene")["relative_growth"].clip(lower=0.0)


def _screens(model, genes, method, client) -> dict:
    """Relative knockout growth under the method, plain FBA, no oxygen, vitamin traces."""
    out = {"growth_method": _relative_growth(model, genes, method, client),
           "growth_fba": _relative_growth(model, genes, "fba", client)}
    if "EX_o2_e" in model.reactions:
        with model:
            model.reactions.get_by_id("EX_o2_e").lower_bound = 0.0
            out["growth_anaerobic"] = _relative_growth(model, genes, "fba", client)
    traces = {ex: up for ex, up in MEDIA["m9_glucose_vitamin_traces"].items()
              if up < 1.0 and ex in model.reactions}
    if traces:
        with model:
            for ex, uptake in traces.items():
                rxn = model.reactions.get_by_id(ex)
                rxn.lower_bound = min(rxn.lower_bound, -uptake)
            out["growth_vitamins"] = _relative_growth(model, genes, method, client)
    return out


def _rule_structure(model, gene_id: str) -> dict:
    gene = model.genes.get_by_id(gene_id)
    rules = [r.gene_reaction_rule for r in gene.reactions]
    sizes = [len(r.genes) for r in gene.reactions]
    return {"n_reactions": len(rules),
            "n_and_rules": sum(" and " in rule for rule in rules),
            "max_or_branches": max((rule.count(" or ") + 1 for rule in rules), default=0),
            "mean_rule_genes": float(np.mean(sizes)) if sizes else 0.0}


def _wild_type(model, method, reactions, fva_fraction):
    """pFBA fluxes, reduced costs, shadow prices and FVA of ``reactions`` (method applied)."""
    from cobra.flux_analysis import flux_variability_analysis, pfba

    with model:
        mu, status, _ = _prepare(model, None, method)
        if status != "optimal" or not mu > 0:
            raise ValueError(f"the wild type does not grow (status {status!r}); knockout "
                             "features need a growing cell")
        solution = model.optimize()
        reduced, shadow = solution.reduced_costs.abs(), solution.shadow_prices.abs()
        biomass_mets = {m.id for r in model.reactions if r.objective_coefficient
                        for m, c in r.metabolites.items() if c < 0}
        fluxes = pfba(model).fluxes.abs()
        reactions = sorted(reactions)
        if reactions:
            fva = flux_variability_analysis(model, reaction_list=reactions,
                                            fraction_of_optimum=fva_fraction, processes=1)
            anywhere = flux_variability_analysis(model, reaction_list=reactions,
                                                 fraction_of_optimum=0.0, processes=1)
        else:
            fva = anywhere = pd.DataFrame(columns=["minimum", "maximum"], dtype=float)
    return fluxes, reduced, shadow, biomass_mets, fva, anywhere


def _expression() -> pd.Series:
    path = resources.files("greybox_processes") / "data" / "ecoli" / \
        "precise_wt_glc_reference.csv"
    return pd.read_csv(str(path)).set_index("b_number")["log2_tpm"]


def knockout_features(model, genes=None, *, method: str = "etfl", client=None,
                      fva_fraction: float = 0.99) -> pd.DataFrame:
    """One row per gene (index: gene id) of label-free knockout features (module docstring),
    all float.

    ``model`` is not modified (its medium is used as is); ``genes`` defaults to all of the
    model's genes. Subsystem columns cover every subsystem of the model, so a table for a
    subset of genes has the same columns as the full one.
    """
    started = wallclock.perf_counter()
    gene_ids = [g.id for g in model.genes] if genes is None else [str(g) for g in genes]
    lost = {g: reactions_lost(model, g) for g in gene_ids}
    if client is None:  # one cluster for the four screens (each would start its own)

        cluster, client, _ = _local_cluster()
        try:
            growth = _screens(model, gene_ids, method, client)
        finally:
            client.close()
            cluster.close()
    else:
        growth = _screens(model, gene_ids, method, client)
    log.info("knockout screens: %.1f s", wallclock.perf_counter() - started)
    disabled = set().union(*lost.values()) if lost else set()
    fluxes, reduced, shadow, biomass_mets, fva, anywhere = _wild_type(
        model, method, disabled, fva_fraction)
    lo, hi = fva["minimum"], fva["maximum"]
    required = pd.Series(np.where(lo * hi > 0, np.minimum(lo.abs(), hi.abs()), 0.0),
                         index=fva.index)
    span = (hi - lo).clip(lower=0.0)
    blocked = (anywhere["minimum"].abs() < _TOL) & (anywhere["maximum"].abs() < _TOL)
    subsystems = sorted({r.subsystem or "none" for r in model.reactions})
    expression = _expression()
    rows = {}
    for g in gene_ids:
        rxns = [model.reactions.get_by_id(r) for r in lost[g]]
        mets = {m.id for r in rxns for m in r.metabolites}
        row = {name: float(series.get(g, math.nan)) for name, series in growth.items()}
        row.update(_rule_structure(model, g))
        row.update({
            "n_lost": len(rxns),
            "n_metabolites": len(mets),
            "n_biomass_precursors": len(mets & biomass_mets),
            "wt_flux_max": float(max((fluxes[r.id] for r in rxns), default=0.0)),
            "fva_required": float(max((required[r.id] for r in rxns), default=0.0)),
            "fva_span": float(np.log1p(max((span[r.id] for r in rxns), default=0.0))),
            "n_blocked": int(sum(bool(blocked[r.id]) for r in rxns)),
            "reduced_cost_max": float(max((reduced[r.id] for r in rxns), default=0.0)),
            "shadow_price_max": float(max((shadow[m] for m in mets), default=0.0)),
            "expression": float(expression.get(g, math.nan)),
        })
        row["expression_missing"] = float(math.isnan(row["expression"]))
        gene_subsystems = {r.subsystem or "none"
                           for r in model.genes.get_by_id(g).reactions}
        row.update({f"subsystem: {s}": float(s in gene_subsystems) for s in subsystems})
        rows[g] = row
    table = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    # genes without a measurement get the median over all of the model's genes (not of
    # ``genes``: a subset's table must equal the full one's rows)
    known = expression.reindex([g.id for g in model.genes]).dropna()
    table["expression"] = table["expression"].fillna(float(known.median()) if len(known)
                                                     else 0.0)
    table.index.name = "gene"
    log.info("knockout features of %d genes in %.1f s", len(table),
             wallclock.perf_counter() - started)
    return table


def _cache_paths(cache) -> tuple[Path, Path]:
    path = Path(cache) if Path(cache).is_absolute() else _data_dir() / str(cache)
    return path, path.with_name(path.name.split(".")[0] + ".json")


def cached_knockout_features(model, *, method: str = "etfl", cache=DEFAULT_CACHE,
                             client=None) -> tuple[pd.DataFrame, str]:
    """``(features, source)``: the cached table when its fingerprint matches ``model`` and
    ``method`` (source ``'cache <file>'``), else a fresh :func:`knockout_features`
    (source ``'computed'``)."""
    path, meta_path = _cache_paths(cache)
    fingerprint = model_fingerprint(model, method)
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("fingerprint") == fingerprint:
            return (pd.read_csv(path, index_col="gene").astype(float),
                    f"cache {path.name}")
        log.info("cached features %s are for another model (fingerprint differs); "
                 "computing them", path)
    return knockout_features(model, method=method, client=client), "computed"


def write_cache(model, *, method: str, spec: str, cache=DEFAULT_CACHE, client=None) -> Path:
    """Compute the features of every gene of ``model`` and write the cache and its metadata."""
    path, meta_path = _cache_paths(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = knockout_features(model, method=method, client=client)
    table.to_csv(path, float_format="%.10g")
    meta_path.write_text(json.dumps({
        "fingerprint": model_fingerprint(model, method), "method": method, "model": model.id,
        "spec": spec, "genes": len(table), "derived_from": "the model only (no labels)",
        "command": "python -m greybox_processes.metabolism.essentiality_features --spec "
                   f"{spec}"}, indent=1))
    return path


def cell_model(spec: str):
    """``(process, method)``: the metabolism process of a composite spec's cell at ``t = 0``
    (as tier 2 screens it) and the screen method it uses."""
    path, node = metabolism_node(spec)
    if node is None:
        raise ValueError(f"{spec}: no DynamicFBA or PopulationMetabolism node to take the "
                         "cell's network from")
    lac = initial_cell_lac(spec, path, node) if is_population_metabolism(node) else None
    process = metabolism_instance(node, lac=lac)
    return process, ("fba" if process.expression is None else "etfl")


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="composites/ecoli_grey_box.yaml")
    parser.add_argument("--cache", default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    process, method = cell_model(args.spec)
    with process.initial_lp() as model:
        log.info("wrote %s", write_cache(model, method=method, spec=args.spec,
                                         cache=args.cache))


if __name__ == "__main__":
    main()
