"""Helpers of the metabolism tests (a uniquely named module, importable from any test run)."""
from __future__ import annotations


def model_state(model) -> dict:
    """Everything an analysis might leave changed: bounds, objective (and the objective
    reactions' stoichiometry), medium, gene states."""
    from cobra.util.solver import linear_reaction_coefficients

    return {
        "objective_stoichiometry": {r.id: {m.id: c for m, c in r.metabolites.items()}
                                    for r in linear_reaction_coefficients(model)},
        "bounds": {r.id: r.bounds for r in model.reactions},
        "objective": str(model.objective.expression),
        "medium": dict(model.medium),
        "genes": {g.id: g.functional for g in model.genes},
    }
