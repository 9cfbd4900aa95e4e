"""Reaction Gibbs energies from component contribution, and the flux directions they impose.

Data (offline, vendored in ``greybox_processes/data/thermo/``, built by ``tools/build_thermo_tables.py``):
standard formation energies of 1766 of the 2413 BiGG metabolites in multiTFA's compound cache
(716 from the reactant contributions of the component-contribution training set, 1050 from group
contributions; Noor et al. 2013) and their microspecies. Metabolites are matched by BiGG id
without compartment suffix, which is how cobra's bundled ``textbook`` and ``iJO1366`` name them.

* :func:`formation_energies` - transformed standard formation energies ``dfG'0`` (kJ/mol) at a
  pH, ionic strength, temperature and pMg (Alberty's Legendre transform over the microspecies,
  extended Debye-Hueckel activity corrections: eQuilibrator's conventions).
* :func:`reaction_gibbs` - for each reaction of a model: ``drG'0`` and the range of
  ``drG' = drG'0 + RT sum_i s_i ln c_i`` over metabolite concentrations in ``[c_min, c_max]``
  (water at unit activity; protons are absorbed by the transform at the given pH), and the
  direction thermodynamics allows once a margin for the estimates' error is added (by default
  ``sum_i |s_i| sigma_i``, one standard error per metabolite).
* :func:`apply_gibbs_directions` - makes a reversible reaction irreversible when the whole range
  (widened by the margin) has one sign. Curated irreversibilities are kept; a reaction whose
  curated direction the estimates contradict is reported as a conflict, not changed.

Covered: reactions inside one compartment whose metabolites (protons aside) all have an
estimate. Not covered: transport across membranes (their energy needs the membrane potential and
the pH difference), exchanges, demands, sinks, the biomass reaction, and reactions with a
metabolite without an estimate (lumped or generic metabolites such as lipids, proteins, ACP
species). The standard errors ``sigma_i`` are the root mean squared errors of the fit, 2.9 kJ/mol
for reactant and 7.0 for group contributions (for comparison: the median |group - reactant
estimate| over the 287 training compounds that have both is 3.9 kJ/mol, the 90th percentile 18,
so a few group estimates are far off). Correlations between estimates are ignored.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["base_id", "formation_energies", "formation_sigma", "reaction_gibbs",
           "apply_gibbs_directions", "R_KJ"]

#: gas constant (kJ/mol/K), eQuilibrator's value
R_KJ = 8.31e-3
#: the vendored tables (see SOURCES.md)
DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "thermo"
_DG_MG = -455.3  # standard formation energy of Mg2+ (kJ/mol), eQuilibrator's value


@lru_cache(maxsize=1)
def _tables():
    compounds = pd.read_csv(DATA_DIR / "formation_energies.csv.gz", index_col=0)
    microspecies = pd.read_csv(DATA_DIR / "microspecies.csv.gz")
    return compounds, microspecies


def _debye_hueckel(ionic_strength: float, temperature: float) -> float:
    alpha = 9.20483e-3 * temperature - 1.284668e-5 * temperature ** 2 \
        + 4.95199e-8 * temperature ** 3
    return alpha / (1.0 / math.sqrt(ionic_strength) + 1.6) if ionic_strength > 0 else 0.0


def formation_energies(pH: float = 7.0, ionic_strength: float = 0.25,
                       temperature: float = 298.15, pMg: float = 10.0) -> pd.Series:
    """``dfG'0`` (kJ/mol) by metabolite id (no compartment suffix); NaN where not covered."""
    for name, value, low, high in (("pH", pH, 0, 14), ("ionic_strength", ionic_strength, 0, 1),
                                   ("temperature", temperature, 273.15, 373.15),
                                   ("pMg", pMg, 0, 20)):
        if not (low <= value <= high):
            raise ValueError(f"{name} = {value} is outside [{low}, {high}]")
    compounds, ms = _tables()
    rt = R_KJ * temperature
    legendre = (ms["protons"] * rt * math.log(10) * pH
                + ms["magnesiums"] * (rt * math.log(10) * pMg - _DG_MG)
                - _debye_hueckel(ionic_strength, temperature)
                * (ms["charge"] ** 2 - ms["protons"] - 4 * ms["magnesiums"])) / rt
    # ddg_over_rt was computed at 298.15 K: the constant is ddg in kJ/mol
    exponent = -(ms["ddg_over_rt"] * 298.15 / temperature + legendre)
    transform = -rt * exponent.groupby(ms["metabolite"]).agg(
        lambda x: float(np.logaddexp.reduce(x.to_numpy())))
    dg = compounds["dG0_kJ_per_mol"] + transform.reindex(compounds.index)
    return dg.rename("dfG_prime_0")


def formation_sigma() -> pd.Series:
    """Standard error (kJ/mol) of each metabolite's formation energy estimate."""
    return _tables()[0]["sigma_kJ_per_mol"]


def base_id(metabolite) -> str:
    """A metabolite's id without its compartment suffix (the key of the energy tables)."""
    suffix = f"_{metabolite.compartment}" if metabolite.compartment else ""
    mid = metabolite.id
    return mid[: -len(suffix)] if suffix and mid.endswith(suffix) else mid


def reaction_gibbs(model, *, pH: float = 7.0, ionic_strength: float = 0.25,
                   temperature: float = 298.15, c_min: float = 1e-6, c_max: float = 1e-2,
                   margin: float | None = None) -> pd.DataFrame:
    """One row per reaction: ``dG0_prime``, ``dG_min``, ``dG_max``, ``margin`` (kJ/mol),
    ``direction``.

    ``direction`` is ``'forward'`` (``dG_max + margin < 0``), ``'reverse'`` (``dG_min - margin
    > 0``), ``'either'``, or why the reaction is not covered. ``margin=None``: ``sum_i |s_i|
    sigma_i`` over the reaction's metabolites; a number: that margin for every reaction.
    """
    if not (0 < c_min < c_max):
        raise ValueError(f"need 0 < c_min < c_max (M), got {c_min}, {c_max}")
    if margin is not None and margin < 0:
        raise ValueError(f"margin must be >= 0 kJ/mol, got {margin}")
    dgf = formation_energies(pH, ionic_strength, temperature)
    sigma = formation_sigma()
    rt = R_KJ * temperature
    ln_lo, ln_hi = math.log(c_min), math.log(c_max)
    boundary = {r.id for r in model.boundary}
    rows = []
    for reaction in model.reactions:
        row = {"reaction": reaction.id, "dG0_prime": np.nan, "dG_min": np.nan,
               "dG_max": np.nan, "margin": np.nan, "direction": None}
        compartments = {m.compartment for m in reaction.metabolites}
        if reaction.id in boundary:
            row["direction"] = "not covered: boundary"
        elif "biomass" in reaction.id.lower():
            row["direction"] = "not covered: biomass"
        elif len(compartments) > 1:
            row["direction"] = "not covered: transport"
        else:
            dg0, low, high, error, missing = 0.0, 0.0, 0.0, 0.0, []
            for met, coefficient in reaction.metabolites.items():
                base = base_id(met)
                if base == "h":
                    continue  # protons: absorbed by the Legendre transform at this pH
                value = dgf.get(base, np.nan)
                if not np.isfinite(value):
                    missing.append(met.id)
                    continue
                dg0 += coefficient * value
                error += abs(coefficient) * float(sigma.get(base, 0.0))
                if base != "h2o":
                    low += coefficient * rt * (ln_lo if coefficient > 0 else ln_hi)
                    high += coefficient * rt * (ln_hi if coefficient > 0 else ln_lo)
            if missing:
                row["direction"] = f"not covered: no estimate for {sorted(missing)}"
            else:
                m = error if margin is None else float(margin)
                row.update(dG0_prime=dg0, dG_min=dg0 + low, dG_max=dg0 + high, margin=m)
                row["direction"] = ("forward" if dg0 + high + m < 0 else
                                    "reverse" if dg0 + low - m > 0 else "either")
        rows.append(row)
    return pd.DataFrame(rows).set_index("reaction")


def apply_gibbs_directions(model, table=None, **kwargs) -> pd.DataFrame:
    """Tighten reversible reactions to the direction their Gibbs energy allows.

    Changes ``model`` in place: call it inside ``with model:`` or on a model you own. Returns
    the table of :func:`reaction_gibbs` with an ``action`` column: ``'made forward'``,
    ``'made reverse'``, ``'conflict'`` (curated direction opposite to the estimate; left as it
    is) or ``''``.
    """
    table = reaction_gibbs(model, **kwargs) if table is None else table.copy()
    actions = []
    for rid, direction in table["direction"].items():
        reaction = model.reactions.get_by_id(rid)
        action = ""
        if direction == "forward":
            if reaction.upper_bound <= 0:
                action = "conflict"
            elif reaction.lower_bound < 0:
                reaction.lower_bound = 0.0
                action = "made forward"
        elif direction == "reverse":
            if reaction.lower_bound >= 0:
                action = "conflict"
            elif reaction.upper_bound > 0:
                reaction.upper_bound = 0.0
                action = "made reverse"
        actions.append(action)
    table["action"] = actions
    return table
