"""Tier 8, parameter robustness: essential/non-essential calls under +/-20% kcat and Km.

Pure scores:

* :func:`latin_hypercube` - ``(n, d)`` factors in ``[1 - span, 1 + span]``, one stratum per
  sample in every dimension.
* :func:`stability_share` - share of genes whose call under every perturbation equals the
  unperturbed call.

Runs: the essentiality screen of tier 2 on the composite's cell (initial conditions) with the
Km of every tracked exchange and the kcat of every enzyme in the expression layer scaled by one
Latin-hypercube sample each; ``samples`` (full) or ``quick_samples`` screens, on Dask. For a
population (``PopulationMetabolism``) the parameters are its own: the glucose and lactose
K_m (``glucose_km``, ``lactose_km``) and the LacY and LacZ turnover numbers (``kcat_lacy``,
``kcat_lacz``), each screen on the population's cell at ``t = 0``.
Pass: share of stable calls >= ``threshold`` (0.95, our choice; the seed gives no number).
"""
from __future__ import annotations

import numpy as np

from ...framework.registry import default_core
from .base import (FAIL, PASS, TierStep, dfba_instance, initial_cell_lac,
                   is_population_metabolism, metabolism_node, process_class)

__all__ = ["latin_hypercube", "stability_share", "RobustnessTier"]


def latin_hypercube(n: int, d: int, *, span: float = 0.2, seed: int = 0) -> np.ndarray:
    """``(n, d)`` multiplicative factors, Latin-hypercube sampled in ``[1-span, 1+span]``."""
    if n < 1 or d < 1:
        raise ValueError(f"need n >= 1 samples and d >= 1 dimensions, got n={n}, d={d}")
    rng = np.random.default_rng(seed)
    u = (np.argsort(rng.random((n, d)), axis=0) + rng.random((n, d))) / n
    return 1.0 - span + 2.0 * span * u


def stability_share(reference, perturbed) -> float:
    """Share of genes whose call in every row of ``perturbed`` (S, G) equals ``reference`` (G,)."""
    reference = np.asarray(reference, dtype=bool)
    perturbed = np.atleast_2d(np.asarray(perturbed, dtype=bool))
    if perturbed.shape[1] != reference.size or reference.size == 0:
        raise ValueError(f"perturbed calls {perturbed.shape} must have one column per gene "
                         f"({reference.size})")
    return float(np.mean(np.all(perturbed == reference[None, :], axis=0)))


def _dfba_parameters(node):
    """``(names, scale -> config changes)``: K_m of each tracked exchange, kcat of the
    expression layer's enzymes (DynamicFBA config keys ``km``, ``kcat``)."""
    process = dfba_instance(node)
    km = {ex: k.km for ex, k in process.kinetics.items()}
    kcat = {}
    if process.expression is not None:
        table = process.expression.kcat
        kcat = {rid: table[rid] for rid in process.expression.enzyme_reactions}
    names = [f"km:{ex}" for ex in km] + [f"kcat:{r}" for r in kcat]

    def changes(scale):
        return {"km": {ex: v * scale[f"km:{ex}"] for ex, v in km.items()},
                "kcat": {r: v * scale[f"kcat:{r}"] for r, v in kcat.items()}}

    return names, changes


def _population_parameters(node):
    """``(names, scale -> config changes)`` of a PopulationMetabolism: its uptake K_m and its
    lac enzymes' turnover numbers (the values it derives from its cited defaults)."""
    cell = process_class(node)(dict(node.get("config") or {}), default_core())
    values = {"glucose_km": cell.glucose_kinetics.km, "lactose_km": cell.lactose_km,
              "kcat_lacy": cell.kcat_lacy, "kcat_lacz": cell.kcat_lacz}

    def changes(scale):
        return {name: value * scale[name] for name, value in values.items()}

    return list(values), changes


class RobustnessTier(TierStep):
    """WCM-Hard tier 8: share of essentiality calls stable under +/-20% kcat and Km."""

    tier = 8
    title = "parameter robustness"
    criterion = "share of essential/non-essential calls stable under +/-20% kcat, Km >= 0.95"
    config_schema = {**TierStep.config_schema,
                     "samples": {"_type": "integer", "_default": 32},
                     "quick_samples": {"_type": "integer", "_default": 4},
                     "span": {"_type": "float", "_default": 0.2},
                     "threshold": {"_type": "float", "_default": 0.95},
                     "seed": {"_type": "integer", "_default": 0}}

    def initialize(self, config):
        super().initialize(config)
        if self.config["samples"] < 1 or self.config["quick_samples"] < 1:
            raise ValueError("samples and quick_samples must be >= 1")
        if not 0 < self.config["span"] < 1:
            raise ValueError("span is a relative perturbation in (0, 1), got "
                             f"{self.config['span']}")

    def _evaluate(self, client):
        from .t2_essentiality import screen_calls

        spec = self.config["spec"]
        path, node = metabolism_node(spec)
        if node is None:
            return self.not_applicable("the composite has no network with kcat/Km parameters "
                                       "and essentiality calls (no DynamicFBA or "
                                       "PopulationMetabolism process)")
        population = is_population_metabolism(node)
        lac = initial_cell_lac(spec, path, node) if population else None
        names, changes_for = (_population_parameters(node) if population
                              else _dfba_parameters(node))
        n = self.config["quick_samples"] if self.config["quick"] else self.config["samples"]
        factors = latin_hypercube(n, len(names), span=self.config["span"],
                                  seed=self.config["seed"])
        base = screen_calls(node, client=client, lac=lac).set_index("gene")["essential"]
        rows = []
        for f in factors:
            screen = screen_calls(node, client=client, lac=lac,
                                  **changes_for(dict(zip(names, f))))
            rows.append(screen.set_index("gene")["essential"].reindex(base.index).to_numpy())
        perturbed = np.array(rows, dtype=bool)
        share = stability_share(base.to_numpy(dtype=bool), perturbed)
        flipped = base.index[~np.all(perturbed == base.to_numpy(dtype=bool)[None, :], axis=0)]
        evidence = {"samples": n, "parameters": names, "genes": int(base.size),
                    "essential_unperturbed": int(base.sum()), "unstable_genes": list(flipped),
                    "stable_share": share}
        notes = []
        if self.config["quick"]:
            notes.append(f"quick mode: {n} samples instead of {self.config['samples']}")
        return self.make(PASS if share >= self.config["threshold"] else FAIL, share,
                         evidence=evidence, notes=notes)
