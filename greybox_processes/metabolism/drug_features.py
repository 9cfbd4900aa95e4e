"""Label-free mechanistic features of antibiotics and antibiotic pairs from a cell's own responses.

The grey box's tier-5 path (:mod:`greybox_processes.neural.synergy_model`) learns the INDIGO
interaction class from these features; nothing here reads an interaction score. A drug is
known to the cell only by its target (:data:`DRUG_TARGETS` of tier 5, textbook mechanism of
action), dosed through :class:`~greybox_processes.metabolism.drugs.DrugCell` at the cell's
initial conditions, so drugs on the same target get the same responses. Per target:

* dose-response summary: ``log10_ic50`` (dose in units of the drug's K_d for 50% growth
  inhibition), ``hill_slope`` (logit slope of the inhibition between IC50/2 and 2 IC50),
  ``max_inhibition`` at dose 1e3;
* the cell at its IC50: the parsimonious fluxes per unit growth against the drug-free ones
  (``flux_shift``: L1 norm of the change over the drug-free L1 norm, unitless; the change
  vector is kept for the pair cosine), ``n_rerouted`` (reactions whose flux per unit growth
  moves by > 1e-6 mmol/gDW/h per 1/h, log1p), ``n_priced`` (metabolites with a shadow price,
  log1p), ``n_limiting_precursors`` (biomass precursors with a shadow price) and
  ``growth_cap_binding`` (the growth cap of a lumped target is the active bound);
* ``untargeted``: the drug has no target in the model (NIT, H22); its other columns are 0.

Pair features (symmetric in the two drugs): for each drug feature its ``sum``, ``absdiff`` and
``product``; ``same_target``; ``cos_flux`` and ``cos_shadow`` (cosines of the two drugs' flux
change and shadow price vectors at their IC50s); ``log2_loewe`` (the glass box's Loewe index
at the 50% isobole, :func:`~greybox_processes.metabolism.drugs.pair_isobole`; 0 for two drugs on
one target, whose doses add on one binding site); ``bliss_excess`` (inhibition with both drugs at
their IC50s minus Bliss independence, 0.75); ``loewe_known`` (0 when a drug is untargeted).

This module also holds what tier 5 and the learned model share about the drugs (targets,
interaction classes), so that neither imports the other. The table for the E. coli grey box's
cell is cached in ``data/synergy/`` by :mod:`greybox_processes.neural.synergy_model` (which
can import the tiers' spec helpers without an import cycle).
"""
from __future__ import annotations

import logging
import math
import time as wallclock
from contextlib import contextmanager
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd

from .drugs import DrugCell, pair_isobole, single_ic50

__all__ = ["drug_features", "pair_features", "pair_key", "DRUG_COLUMNS", "FEATURE_VERSION", "DRUG_TARGETS", "MECHANISTIC",
           "INDIGO_BAND", "classify_index", "classify_indigo", "classification_accuracy",
           "distinct_target_pairs"]

log = logging.getLogger(__name__)

#: changes when the feature definitions change (part of the cache fingerprint)
FEATURE_VERSION = "drug-features v1"
DRUG_COLUMNS = ("log10_ic50", "hill_slope", "max_inhibition", "flux_shift", "n_rerouted",
                "n_priced", "n_limiting_precursors", "growth_cap_binding", "untargeted")
_TOL = 1e-6

#: INDIGO scores within +/- this are additive (refdata README: the usual band)
INDIGO_BAND = 0.1

#: primary cellular process each INDIGO drug acts on (mechanism of action, textbook pharmacology)
DRUG_TARGETS = {
    "AMK": "ribosome", "GEN": "ribosome", "TOB": "ribosome", "SPE": "ribosome",
    "CHL": "ribosome", "CLA": "ribosome", "ERY": "ribosome", "TET": "ribosome",
    "FUS": "ribosome",  # elongation factor G
    "CEF": "cell wall", "OXA": "cell wall", "VAN": "cell wall",
    "CIP": "DNA gyrase", "LEV": "DNA gyrase", "NAL": "DNA gyrase",
    "RIF": "RNA polymerase", "TMP": "folate",
    "NIT": "multiple (nitroreductase products)", "H22": "oxidative damage (H2O2)",
}
MECHANISTIC = ("ribosome", "cell wall", "DNA gyrase", "RNA polymerase", "folate")


def classify_index(index, band: float = 0.1):
    """``'synergy'`` (< 1 - band), ``'antagonism'`` (> 1 + band) or ``'additive'``."""
    index = np.asarray(index, dtype=float)
    return np.where(index < 1 - band, "synergy", np.where(index > 1 + band, "antagonism",
                                                          "additive"))


def classify_indigo(score, band: float = INDIGO_BAND):
    """INDIGO scores: < -band synergy, > band antagonism, else additive."""
    score = np.asarray(score, dtype=float)
    return np.where(score < -band, "synergy", np.where(score > band, "antagonism", "additive"))


def classification_accuracy(predicted, observed) -> float:
    """Share of pairs whose predicted class equals the observed class."""
    predicted, observed = np.asarray(predicted), np.asarray(observed)
    if predicted.shape != observed.shape or predicted.size == 0:
        raise ValueError("predicted and observed classes must be equal, non-empty arrays")
    return float(np.mean(predicted == observed))


def distinct_target_pairs(pairs):
    """Rows of the INDIGO table whose two drugs act on distinct mechanistic processes."""
    t1 = pairs["Drug_1"].map(DRUG_TARGETS)
    t2 = pairs["Drug_2"].map(DRUG_TARGETS)
    keep = t1.isin(MECHANISTIC) & t2.isin(MECHANISTIC) & (t1 != t2)
    return pairs[keep].assign(target_1=t1[keep], target_2=t2[keep])


def pair_key(drug_a: str, drug_b: str) -> str:
    """``'A+B'`` with the two drug codes sorted: one key for both orders of a pair."""
    return "+".join(sorted((str(drug_a), str(drug_b))))


class _Probe:
    """A DynamicFBA process whose ``initial_lp`` runs ``probe(model)`` after the caller's body,
    while the caller's drug bounds are still in place (so :meth:`DrugCell.growth` sets the
    constraints once, here and in the glass box)."""

    def __init__(self, process, probe):
        self._process, self._probe = process, probe

    def __getattr__(self, name):
        return getattr(self._process, name)

    @contextmanager
    def initial_lp(self, **kwargs):
        with self._process.initial_lp(**kwargs) as model:
            yield model
            self._probe(model)


def _state_at(cell: DrugCell, occupied: dict) -> dict:
    """Growth (1/h), pFBA fluxes and shadow prices of the cell with ``occupied`` targets."""
    from cobra.flux_analysis import pfba

    out = {}

    def probe(model):
        solution = model.optimize()
        out["shadow"] = solution.shadow_prices.copy()
        out["biomass_bound"] = model.reactions.get_by_id(cell.process.biomass_rxn.id).upper_bound
        out["fluxes"] = pfba(model).fluxes.copy()

    probed = DrugCell(_Probe(cell.process, probe), cell.mu0, cell.reference_flux,
                      cell.representation, cell.target_reactions)
    out["growth"] = probed.growth(occupied)
    cell.solves += probed.solves
    return out


def _logit(effect: float) -> float:
    effect = min(max(effect, 1e-9), 1 - 1e-9)
    return math.log(effect / (1 - effect))


def _cosine(u, v) -> float:
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.dot(u, v) / norm) if norm > 0 else 0.0


def _target_responses(cell: DrugCell) -> tuple[pd.DataFrame, dict]:
    """``(table, vectors)``: :data:`DRUG_COLUMNS` per target the cell represents and each
    target's ``(flux change, shadow prices)`` vectors at its IC50."""
    biomass = cell.process.biomass_rxn
    precursors = [m.id for m, c in biomass.metabolites.items() if c < 0]
    free = _state_at(cell, {})
    free_per_growth = free["fluxes"] / free["growth"]
    rows, vectors = {}, {}
    for target in MECHANISTIC:
        if cell.representation.get(target) is None:
            continue
        ic50 = single_ic50(cell, target)
        if ic50 is None:
            continue
        low, high = (cell.inhibition({target: f * ic50}) for f in (0.5, 2.0))
        at = _state_at(cell, {target: 1.0 - 1.0 / (1.0 + ic50)})  # occupancy at the IC50
        change = (at["fluxes"] / at["growth"] - free_per_growth).to_numpy()
        shadow = at["shadow"].to_numpy()
        rows[target] = {
            "log10_ic50": math.log10(ic50),
            "hill_slope": (_logit(high) - _logit(low)) / math.log(4.0),
            "max_inhibition": cell.inhibition({target: 1e3}),
            "flux_shift": float(np.abs(change).sum() / np.abs(free_per_growth).sum()),
            "n_rerouted": math.log1p(int(np.sum(np.abs(change) > _TOL))),
            "n_priced": math.log1p(int(np.sum(np.abs(shadow) > _TOL))),
            "n_limiting_precursors": float(np.sum(np.abs(at["shadow"][precursors]) > _TOL)),
            "growth_cap_binding": float(abs(at["growth"] - at["biomass_bound"]) < _TOL),
            "untargeted": 0.0}
        vectors[target] = (change, shadow)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(DRUG_COLUMNS)), vectors


def drug_features(cell: DrugCell, targets=None) -> tuple[pd.DataFrame, dict]:
    """``(table, vectors)``: one row of :data:`DRUG_COLUMNS` per drug of ``targets`` (drug ->
    target, default :data:`DRUG_TARGETS`) and the per-target response vectors."""
    targets = dict(DRUG_TARGETS if targets is None else targets)
    per_target, vectors = _target_responses(cell)
    rows = {}
    for drug, target in targets.items():
        if target in per_target.index:
            rows[drug] = per_target.loc[target].to_dict()
        else:
            rows[drug] = {c: 0.0 for c in DRUG_COLUMNS} | {"untargeted": 1.0}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(DRUG_COLUMNS))
    table.index.name = "drug"
    return table.astype(float), vectors


def _pair_mechanism(cell, target_a, target_b) -> dict:
    """Loewe index and Bliss excess of two targets at their IC50s (same target: doses add)."""
    ic50_a, ic50_b = single_ic50(cell, target_a), single_ic50(cell, target_b)
    if target_a == target_b:
        both = cell.inhibition({target_a: ic50_a + ic50_b})
        return {"log2_loewe": 0.0, "bliss_excess": both - 0.75}
    index = pair_isobole(cell, target_a, target_b)["loewe_index"]
    both = cell.inhibition({target_a: ic50_a, target_b: ic50_b})
    return {"log2_loewe": math.log2(index), "bliss_excess": both - 0.75}


def pair_features(cell: DrugCell, targets=None) -> pd.DataFrame:
    """Symmetric features (module docstring) of every unordered pair of distinct drugs of
    ``targets`` (drug -> target, default :data:`DRUG_TARGETS`); index :func:`pair_key`."""
    started = wallclock.perf_counter()
    targets = dict(DRUG_TARGETS if targets is None else targets)
    drugs, vectors = drug_features(cell, targets)
    mechanism = {}
    for a, b in combinations_with_replacement(sorted(vectors), 2):
        mechanism[(a, b)] = mechanism[(b, a)] = _pair_mechanism(cell, a, b)
    rows = {}
    for a, b in combinations_with_replacement(sorted(targets), 2):
        if a == b:
            continue
        fa, fb = drugs.loc[a], drugs.loc[b]
        row = {}
        for column in DRUG_COLUMNS:
            row[f"{column} sum"] = fa[column] + fb[column]
            row[f"{column} absdiff"] = abs(fa[column] - fb[column])
            row[f"{column} product"] = fa[column] * fb[column]
        ta, tb = targets[a], targets[b]
        known = ta in vectors and tb in vectors
        row["same_target"] = float(ta == tb)
        row["loewe_known"] = float(known)
        row["cos_flux"] = _cosine(vectors[ta][0], vectors[tb][0]) if known else 0.0
        row["cos_shadow"] = _cosine(vectors[ta][1], vectors[tb][1]) if known else 0.0
        row.update(mechanism[(ta, tb)] if known else {"log2_loewe": 0.0, "bliss_excess": 0.0})
        rows[pair_key(a, b)] = row
    table = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    table.index.name = "pair"
    log.info("pair features of %d drug pairs in %.1f s (%d LPs)", len(table),
             wallclock.perf_counter() - started, cell.solves)
    return table
