"""Metabolic enzymes as state: one enzyme level per gene-catalysed reaction, ``v <= k E``.

The ETFL constraints (Salvy & Hatzimanikatis 2020, Nat Commun 11:30) for every enzyme of the
model, solved step by step as in dynamic ETFL (Salvy & Hatzimanikatis 2021, PNAS: diauxie as
optimal growth under resource allocation): each interval's LP chooses, next to the fluxes, how
much of each enzyme to make, and all synthesis shares the ribosomes with growth.

For reaction ``j`` with enzyme level ``E_j`` (mmol polypeptide chains/gDW) at the start of an
interval ``dt`` (h), the LP has a synthesis variable ``s_j >= 0`` (mmol/gDW/h) and

* capacity: ``v_j+ / k+_j + v_j- / k-_j <= E_j exp(-(mu + k_deg) dt) + s_j dt``;
* ribosomes: ``sum_j L_j s_j + mu (P - sum_j L_j E_j) <= C - C_lac``: enzyme synthesis plus the
  growth-coupled synthesis of the rest of the proteome fit in the translation capacity
  ``C = kappa_t (r - r0) P`` left after the lac enzymes (:class:`~.expression.ExpressionLayer`).

``k`` are Heckmann et al. 2020's in-vivo ``k_app,max`` per polypeptide chain and direction
(vendored, built by ``tools/build_enzyme_tables.py``); reactions they did not measure take the median of the table.
``L_j`` is the mean chain length of the reaction's gene products (vendored from the PRECISE
gene table). ``mu`` in the dilution term is the previous interval's growth rate (one
interval behind, ETFL's linearisation of ``mu E``), so the LP stays linear. After the LP,
``E_j <- E_j exp(-(mu + k_deg) dt) + s_j dt``.

Initial levels: the cheapest enzyme allocation (least ``sum L_j E_j``) that supports the
pre-culture's growth, which is the steady state of these same dynamics (each step then makes
``mu E_j``, and growth plus synthesis use exactly the ribosomes of the pre-culture). Where
growth alone does not fix the synthesis (growth limited by substrate, not ribosomes), the
least synthesis is taken (a second LP, :meth:`minimise_synthesis`): like the ETFL optimum
this is a just-in-time allocation; the cell holds no reserve capacity. That is a
simplification: real cells hold enzymes below saturation (Davidi et al. 2016, PNAS 113:3401).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["EnzymeSector", "kapp_table", "protein_lengths", "proteome_shares"]


def _data_path(name):
    return resources.files("greybox_processes").joinpath("data", "enzymes", name)


@functools.lru_cache(maxsize=None)
def kapp_table():
    """Heckmann et al. 2020 k_app,max (1/s per polypeptide chain): reaction, direction, value."""
    import pandas as pd

    return pd.read_csv(str(_data_path("heckmann2020_kapp.csv.gz")))


@functools.lru_cache(maxsize=None)
def protein_lengths() -> dict:
    """Gene (b-number) -> amino acids per polypeptide chain (PRECISE gene table)."""
    import pandas as pd

    table = pd.read_csv(str(_data_path("protein_length_aa.csv.gz")))
    return dict(zip(table["gene"], table["length_aa"].astype(float)))


#: Reactions of the bundled models that lump several iJO1366/iML1515 enzymes in series:
#: each unit of flux needs every enzyme, so their loads add (``1/k = sum_i 1/k_i``).
LUMPED = {"GALLELOIR": ("GALKr", "UGLT", "UDPG4E", "PGMT")}
#: e_coli_core reactions that stand for several iML1515 isozyme reactions: the fastest one
#: is taken (the GECKO convention for isozymes). ``CYTBD`` is e_coli_core's only terminal
#: oxidase; iML1515 splits it into cytochrome bo3 (``CYTBO3_4pp``, 232/s, the oxidase of
#: aerobic growth on glucose) and the bd oxidases (``CYTBDpp`` 2.5/s, ``CYTBD2pp`` 3.5/s),
#: with which respiration alone would need 43% of the proteome. (e_coli_core's stoichiometry,
#: 2 H+ per 2 e-, is kept; bo3 pumps 4.)
ISOZYMES = {"CYTBD": ("CYTBDpp", "CYTBD2pp", "CYTBO3_4pp")}


def _turnover(table, rid, direction):
    """k_app,max (1/s) of ``rid`` in ``direction``: an isozyme or lumped reaction's from its
    parts, else its own id's, else that of the periplasmic (``pp``) id iML1515 gives the same
    reaction where e_coli_core has no periplasm; None if none is tabulated."""
    if rid in ISOZYMES:
        values = [table[(p, direction)] for p in ISOZYMES[rid] if (p, direction) in table]
        return max(values) if values else None
    if rid in LUMPED:
        parts = LUMPED[rid]
        if all((p, direction) in table for p in parts):
            return 1.0 / sum(1.0 / table[(p, direction)] for p in parts)
        return None
    for key in (rid, rid + "pp"):
        if (key, direction) in table:
            return table[(key, direction)]
    return None


def _kappmax() -> dict:
    table = kapp_table()
    return {(r, d): float(v) for r, d, v in zip(table["reaction"], table["direction"],
                                                  table["kapp_per_s"])}


@dataclass(frozen=True)
class EnzymeSector:
    """Enzymes held as state, with their turnover numbers and chain lengths."""

    reactions: tuple
    k_forward_per_h: np.ndarray  #: per polypeptide chain
    k_reverse_per_h: np.ndarray
    length_aa: np.ndarray
    tabulated: np.ndarray  #: True where the table has k_app,max for the reaction
    degradation_per_h: float = 0.0

    @classmethod
    def from_model(cls, model, *, exclude=(), kcat=None, degradation_per_h: float = 0.0):
        """The sector of every reaction of ``model`` with a gene rule, except ``exclude``.

        ``kcat``: reaction -> turnover (1/s, both directions) overriding the table.
        """
        if not (math.isfinite(degradation_per_h) and degradation_per_h >= 0):
            raise ValueError(f"enzyme degradation must be a finite rate >= 0 (1/h), got "
                             f"{degradation_per_h!r}")
        kcat = {str(k): float(v) for k, v in (kcat or {}).items()}
        bad = {k: v for k, v in kcat.items() if not (math.isfinite(v) and v > 0)}
        if bad:
            raise ValueError(f"kcat values must be positive and finite (1/s), got {bad}")
        kmax = _kappmax()
        default = float(np.median(list(kmax.values())))
        lengths = protein_lengths()
        default_length = float(np.median(list(lengths.values())))
        rows = []
        skip = set(exclude)
        for rxn in model.reactions:
            genes = [g.id for g in rxn.genes if not g.id.startswith("s0")]
            if not genes or rxn.id in skip or rxn.boundary:
                continue
            if rxn.gpr.eval(knockouts=set(genes)):
                continue  # a spontaneous alternative ("... or s0001"): no enzyme needed
            kf = kcat.get(rxn.id, _turnover(kmax, rxn.id, "forward"))
            kr = kcat.get(rxn.id, _turnover(kmax, rxn.id, "reverse"))
            tabulated = kf is not None or kr is not None
            kf = kf if kf is not None else (kr if kr is not None else default)
            kr = kr if kr is not None else kf
            chain = [lengths[g] for g in genes if g in lengths]
            rows.append((rxn.id, kf * 3600.0, kr * 3600.0,
                         float(np.mean(chain)) if chain else default_length, tabulated))
        if not rows:
            raise ValueError(f"model {model.id!r} has no gene-catalysed reaction to hold "
                             "enzymes for; enzymes: all needs gene rules")
        ids, kf, kr, length, tabulated = zip(*rows)
        return cls(tuple(ids), np.array(kf), np.array(kr), np.array(length),
                   np.array(tabulated, dtype=bool), float(degradation_per_h))

    @property
    def size(self) -> int:
        """Number of enzyme-catalysed reactions held as state."""
        return len(self.reactions)

    # -- LP rows -------------------------------------------------------------------------
    def _load_coefficients(self, model, j) -> dict:
        """``{variable: 1/k}`` of reaction ``j``'s enzyme load ``v+/k+ + v-/k-``.

        Rows are built by coefficients, not symbolic sums (optlang's fast path: building
        sympy expressions of every row each interval cost ~0.4 s per step).
        """
        rxn = model.reactions.get_by_id(self.reactions[j])
        return {rxn.forward_variable: 1.0 / self.k_forward_per_h[j],
                rxn.reverse_variable: 1.0 / self.k_reverse_per_h[j]}

    @staticmethod
    def _set_objective(model, coefficients, direction):
        model.objective = model.problem.Objective(0, direction=direction)
        model.objective.set_linear_coefficients(coefficients)

    def _decay(self, dt: float, growth_prev: float) -> float:
        """Share of an enzyme left after ``dt`` of dilution and degradation."""
        return math.exp(-(max(growth_prev, 0.0) + self.degradation_per_h) * dt)

    def protein_cost(self, model) -> dict:
        """``{variable: L_j/k}``: amino acids of enzyme each unit of flux ties up (all rows)."""
        cost = {}
        for j in range(self.size):
            for var, c in self._load_coefficients(model, j).items():
                cost[var] = cost.get(var, 0.0) + float(self.length_aa[j]) * c
        return cost

    def initial_levels(self, model, biomass, growth: float) -> np.ndarray:
        """Least-protein enzyme levels supporting ``growth`` (1/h) on ``model`` as bounded now.

        Call inside ``with model:`` with the pre-culture's bounds set. ``biomass``: the growth
        reaction.
        """
        with model:
            biomass.lower_bound = growth * (1.0 - 1e-6)
            self._set_objective(model, self.protein_cost(model), "min")
            model.slim_optimize()
            if model.solver.status != "optimal":
                raise ValueError(f"no flux distribution supports the pre-culture growth "
                                 f"{growth:.4g}/h (solver status {model.solver.status!r})")
            return np.array([max(sum(c * float(var.primal) for var, c in
                                     self._load_coefficients(model, j).items()), 0.0)
                             for j in range(self.size)])

    def add_rows(self, model, biomass, levels, dt: float, growth_prev: float,
                 translation_aa: float, other_protein_aa: float):
        """Synthesis variables and the capacity and ribosome rows, inside ``with model:``.

        ``translation_aa``: the translation capacity left for growth and these enzymes, and
        ``other_protein_aa`` the rest of the proteome (both mmol aa/gDW[/h]). Returns the
        synthesis variables (read their ``primal`` after solving).
        """
        decay = self._decay(dt, growth_prev)
        synth = [model.problem.Variable(f"enzyme_synthesis_{rid}", lb=0.0)
                 for rid in self.reactions]
        rows = [model.problem.Constraint(0, ub=float(decay * levels[j]),
                                         name=f"enzyme_capacity_{rid}")
                for j, rid in enumerate(self.reactions)]
        ribosomes = model.problem.Constraint(0, ub=max(float(translation_aa), 0.0),
                                             name="enzyme_ribosome_capacity")
        model.add_cons_vars(synth)
        model.add_cons_vars(rows + [ribosomes])
        model.solver.update()
        for j, row in enumerate(rows):
            row.set_linear_coefficients({**self._load_coefficients(model, j), synth[j]: -dt})
        ribosomes.set_linear_coefficients(
            {**{synth[j]: float(self.length_aa[j]) for j in range(self.size)},
             biomass.forward_variable: float(other_protein_aa)})
        return synth

    def minimise_synthesis(self, model, synthesis) -> None:
        """With the current LP optimum held, make no more enzyme than growth needs.

        Fixes the current objective at its optimum and minimises ``sum_j L_j s_j``; the model's
        objective stays changed, so call it inside the ``with model:`` of the step.
        """
        objective = model.solver.objective
        value, direction = objective.value, objective.direction
        terms = objective.get_linear_coefficients(model.variables)
        slack = 1e-9 * max(1.0, abs(value))
        hold = model.problem.Constraint(0, name="enzyme_hold_optimum",
                                        **({"lb": value - slack} if direction == "max"
                                           else {"ub": value + slack}))
        model.add_cons_vars([hold])
        model.solver.update()
        hold.set_linear_coefficients({v: c for v, c in terms.items() if c != 0})
        self._set_objective(model, {synthesis[j]: float(self.length_aa[j])
                                    for j in range(self.size)}, "min")
        model.slim_optimize()
        if model.solver.status != "optimal":
            from .errors import InfeasibleError

            raise InfeasibleError(f"least enzyme synthesis at the optimum failed (solver status "
                                  f"{model.solver.status!r})", status=model.solver.status)

    def advance(self, levels, synthesis, dt: float, growth_prev: float) -> np.ndarray:
        """Enzyme levels after ``dt``: dilution and degradation, plus the synthesis chosen."""
        return np.asarray(levels, dtype=float) * self._decay(dt, growth_prev) + np.maximum(synthesis, 0.0) * dt

    def protein_aa(self, levels) -> float:
        """Amino acids in the sector (mmol aa/gDW)."""
        return float(np.dot(self.length_aa, levels))



def proteome_shares(data, model="textbook_lactose", *, store="cell.enzymes"):
    """Share of all protein in each enzyme of a run (a DataArray: time x enzyme).

    ``data``: the Dataset of a run with ``enzymes: all`` (the store ``store``); ``model``: the
    model the run used (its gene rules give the chain lengths).
    """
    import xarray as xr

    from .expression import ExpressionLayer, RibosomeParameters
    from .models import load_model

    if store not in data:
        raise KeyError(f"{store!r} is not in the run; run a composite with enzymes: all "
                       "(composites/diauxie_enzymes.yaml)")
    sector = EnzymeSector.from_model(load_model(model),
                                     exclude=tuple(ExpressionLayer.enzyme_reactions))
    levels = data[store]
    lengths = dict(zip(sector.reactions, sector.length_aa))
    missing = [r for r in levels["enzyme"].values if r not in lengths]
    if missing:
        raise ValueError(f"enzymes {missing[:5]} are not in model {model!r}; pass the model "
                         "the run used")
    aa = xr.DataArray([lengths[r] for r in levels["enzyme"].values], dims="enzyme",
                      coords={"enzyme": levels["enzyme"]})
    return levels * aa / RibosomeParameters().protein_aa_mmol_per_gdw
