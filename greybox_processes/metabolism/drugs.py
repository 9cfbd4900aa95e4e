"""Antibiotic action on the mechanistic targets of a dynamic-FBA cell, and Loewe isoboles.

A drug at dose ``d`` (in units of its own dissociation constant ``K_d``) occupies the share
``theta = d / (1 + d)`` of its target (one binding site, mass action); the occupied share does
no work. Nothing else about a drug is modelled, so two drugs with the same target have the
same dose-response in their own dose units, and a pair's interaction depends only on its two
targets. How each target process exists in a :class:`~.dfba.DynamicFBA` cell:

``ribosome``
    With the expression layer, the ribosomes are state: translation capacity ``k_elong R``
    falls to ``(1 - theta) k_elong R``, and growth is capped by what is left after the lac
    enzymes' synthesis (the ETFL ribosome row, :meth:`~.expression.ExpressionLayer.growth_cap`).
    Without it, protein synthesis is lumped into the biomass reaction (next case).
``RNA polymerase``, ``DNA gyrase`` (and ``ribosome`` without the expression layer)
    The biomass reaction makes RNA, DNA and protein in a fixed composition, so a polymerase
    (or gyrase, which replication needs) working at ``(1 - theta)`` of its drug-free rate caps
    growth at ``(1 - theta) mu_0``, ``mu_0`` the drug-free growth rate in the same medium.
``cell wall``
    The reactions the model assigns to the penicillin-binding proteins, the targets of
    beta-lactams (PBP1a ``mrcA`` b3396, PBP1b ``mrcB`` b0149, PBP2 ``mrdA`` b0635, PBP3
    ``ftsI`` b0084; vancomycin blocks the same steps by binding their substrate). Each keeps at
    most ``(1 - theta)`` of its flux in the drug-free parsimonious optimum: the enzyme the cell
    has made is what it has, and a drug takes a share of it.
``folate``
    The reactions of dihydrofolate reductase ``folA`` (b0048), the trimethoprim target, alike.

A target the model does not contain (cell wall and folate in e_coli_core) cannot be hit:
:func:`target_representation` says which are there and how. Effect = growth inhibition
``1 - mu / mu_0`` at the cell's initial conditions (:meth:`~.dfba.DynamicFBA.initial_lp`).

The Loewe index of a pair at the 50% isobole: with ``A``, ``B`` each drug's dose for 50%
inhibition alone, walk the ray ``(t A, t B)`` to the ``t*`` where the pair inhibits 50%; the
index is ``t* A / A + t* B / B = 2 t*``. Loewe-additive drugs give 1; a pair that is no
stronger than its stronger member (growth limited by one bottleneck at a time, Liebig's law)
gives 2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["TARGETS", "TARGET_GENES", "occupancy", "DrugCell", "target_representation",
           "pair_isobole"]

TARGETS = ("ribosome", "RNA polymerase", "DNA gyrase", "cell wall", "folate")

#: Genes whose reactions a target class inhibits (b-numbers, E. coli K-12 MG1655)
TARGET_GENES = {"cell wall": ("b3396", "b0149", "b0635", "b0084"), "folate": ("b0048",)}

_LUMPED = ("RNA polymerase", "DNA gyrase")


def occupancy(dose: float) -> float:
    """Share of the target a drug occupies at ``dose`` (units of its K_d), one binding site."""
    if not (dose >= 0 and math.isfinite(dose)):
        raise ValueError(f"a dose must be finite and >= 0 (units of the drug's K_d), got {dose}")
    return dose / (1.0 + dose)


def target_representation(process) -> dict:
    """``{target: how the cell represents it, or None}`` for each of :data:`TARGETS`."""
    model = process.model
    out = {}
    for target in TARGETS:
        if target == "ribosome" and process.expression is not None:
            out[target] = "ribosomes of the expression layer (translation capacity)"
        elif target in _LUMPED or target == "ribosome":
            out[target] = f"lumped into the biomass reaction {process.biomass_rxn.id}"
        else:
            reactions = _gene_reactions(model, TARGET_GENES[target])
            out[target] = (f"reactions {sorted(reactions)} of genes {list(TARGET_GENES[target])}"
                           if reactions else None)
    return out


def _gene_reactions(model, genes) -> set:
    return {r.id for g in genes if g in model.genes for r in model.genes.get_by_id(g).reactions}


@dataclass
class DrugCell:
    """A DynamicFBA cell at its initial conditions, ready for growth under drug occupancies.

    Build it from a process (``DrugCell.from_process(process)``): the drug-free growth
    ``mu0`` and the parsimonious drug-free fluxes of the target reactions are solved once.
    """

    process: object
    mu0: float
    reference_flux: dict = field(default_factory=dict)
    representation: dict = field(default_factory=dict)
    #: target -> the model's reactions it inhibits (the targets present by their genes)
    target_reactions: dict = field(default_factory=dict)
    solves: int = 0

    @classmethod
    def from_process(cls, process) -> "DrugCell":
        """Solve the drug-free growth ``mu0`` (1/h) and parsimonious target fluxes (mmol/gDW/h) of a
        DynamicFBA process once.
        """
        from cobra.flux_analysis import pfba

        representation = target_representation(process)
        target_reactions = {target: _gene_reactions(process.model, genes)
                            for target, genes in TARGET_GENES.items()
                            if representation[target] is not None}
        targeted = set().union(*target_reactions.values())
        with process.initial_lp(translation_activity=1.0) as model:
            mu0 = model.slim_optimize(error_value=float("nan"))
            if not (math.isfinite(mu0) and mu0 > 0):
                raise ValueError(f"the cell does not grow at its initial conditions (growth "
                                 f"{mu0}, solver status {model.solver.status!r}); a drug "
                                 "response needs a growing cell: check the medium")
            fluxes = pfba(model).fluxes if targeted else {}
        reference = {rid: abs(float(fluxes[rid])) for rid in targeted}
        return cls(process, float(mu0), reference, representation, target_reactions)

    def growth(self, occupied: dict) -> float:
        """Growth rate (1/h) with ``occupied = {target: share of the target occupied}``."""
        unknown = [t for t in occupied if t not in TARGETS]
        if unknown:
            raise ValueError(f"unknown drug target(s) {unknown}; known: {list(TARGETS)}")
        missing = [t for t, share in occupied.items()
                   if share > 0 and self.representation[t] is None]
        if missing:
            raise ValueError(f"the cell's model has no {missing} to act on "
                             f"({self.process.model.id}); use a genome-scale model such as "
                             "iJO1366")
        process = self.process
        ribosome_in_layer = process.expression is not None
        activity = 1.0 - occupied.get("ribosome", 0.0) if ribosome_in_layer else 1.0
        lumped = [occupied.get(t, 0.0) for t in _LUMPED + (() if ribosome_in_layer
                                                          else ("ribosome",))]
        cap = (1.0 - max(lumped, default=0.0)) * self.mu0
        with process.initial_lp(translation_activity=activity) as model:
            biomass = process.biomass_rxn
            biomass.upper_bound = min(biomass.upper_bound, cap)
            for target, reactions in self.target_reactions.items():
                share = occupied.get(target, 0.0)
                for rid in reactions:
                    reaction = model.reactions.get_by_id(rid)
                    limit = (1.0 - share) * self.reference_flux[rid]
                    reaction.bounds = (max(reaction.lower_bound, -limit),
                                       min(reaction.upper_bound, limit))
            value = model.slim_optimize(error_value=float("nan"))
        self.solves += 1
        return max(float(value), 0.0) if math.isfinite(value) else 0.0

    def inhibition(self, doses: dict) -> float:
        """Growth inhibition ``1 - mu/mu0`` at ``doses = {target: dose in units of K_d}``."""
        return 1.0 - self.growth({t: occupancy(d) for t, d in doses.items()}) / self.mu0


def _bisect(f, lo: float, hi: float, iterations: int = 40) -> float:
    """Root of increasing ``f`` on ``[lo, hi]`` by bisection in log space."""
    for _ in range(iterations):
        mid = math.sqrt(lo * hi)
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def single_ic50(cell: DrugCell, target: str, max_dose: float = 1e4):
    """Dose (units of K_d) inhibiting growth by 50%, or None if even ``max_dose`` does not."""
    if cell.inhibition({target: max_dose}) < 0.5:
        return None
    return _bisect(lambda d: cell.inhibition({target: d}) - 0.5, 1e-6, max_dose)


def pair_isobole(cell: DrugCell, target_a: str, target_b: str) -> dict:
    """Loewe index at the 50% isobole of two drugs acting on ``target_a`` and ``target_b``.

    Returns the single IC50s, ``t*`` on the ray ``(t IC50_a, t IC50_b)`` and the index
    ``2 t*`` (None when either drug cannot reach 50% inhibition in this cell).
    """
    ic50_a, ic50_b = single_ic50(cell, target_a), single_ic50(cell, target_b)
    out = {"target_a": target_a, "target_b": target_b, "ic50_a": ic50_a, "ic50_b": ic50_b,
           "t_star": None, "loewe_index": None}
    if ic50_a is None or ic50_b is None:
        return out

    def excess(t):
        return cell.inhibition({target_a: t * ic50_a, target_b: t * ic50_b}) - 0.5

    # adding a drug only tightens the LP, so the pair inhibits at least as much as either
    # alone: t* lies in (0, 1]
    t_star = 1.0 if excess(1.0) <= 1e-9 else _bisect(excess, 1e-6, 1.0)
    out.update(t_star=t_star, loewe_index=2.0 * t_star)
    return out
