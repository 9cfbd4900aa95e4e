"""Helpers of the metabolism tests (a uniquely named module, importable from any test run)."""
from __future__ import annotations


def model_state(model) -> dict:
    """Everything an analysis might leave changed: bounds, objective, medium, gene states."""
    return {
        "bounds": {r.id: r.bounds for r in model.reactions},
        "objective": str(model.objective.expression),
        "medium": dict(model.medium),
        "genes": {g.id: g.functional for g in model.genes},
    }
