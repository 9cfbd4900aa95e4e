"""Tier 6, population de-phasing: the CV of cell volume rises monotonically to its plateau.

Pure scores:

* :func:`volume_cv` - coefficient of variation of the live cells' volumes at each time.
* :func:`dephasing_score` - plateau (mean CV over the last generation), the time the CV first
  reaches 90% of it (in generations), and whether the rise is monotone: no drop below the
  running maximum exceeds ``tolerance`` x plateau (an overshoot that falls back is a drop).
* :func:`reference_plateau` - the CV of cell length of a steady, asynchronous population built
  from Taheri-Araghi et al. 2015's cell cycles: each cycle contributes lengths
  ``s_b (s_d / s_b)^a`` over its age fraction ``a`` with the steady-state age density
  ``2^(1 - a) ln 2`` of an exponentially growing population.

Pass: monotone rise, plateau reached within ``generations`` (5), and the plateau within
``plateau_tolerance`` (20%) of the reference (our tolerance; the seed says "about 0.2").

Runs: the composite with its cells started synchronised (``<process>.config.synchronized:
true``); it needs ``cells.volume`` and ``cells.phase`` stores (the tissue mechanism).
"""
from __future__ import annotations

import math

import numpy as np

from .base import FAIL, PASS, TierStep, process_nodes

__all__ = ["volume_cv", "dephasing_score", "reference_plateau", "DephasingTier"]


def volume_cv(volumes, alive=None):
    """``(T,)`` CV of volume over the live cells of a ``(T, cells)`` array (NaN if < 2 alive)."""
    volumes = np.asarray(volumes, dtype=float)
    alive = np.isfinite(volumes) & (volumes > 0) if alive is None else np.asarray(alive, bool)
    out = np.full(volumes.shape[0], np.nan)
    for k, (v, m) in enumerate(zip(volumes, alive)):
        if m.sum() >= 2:
            out[k] = float(np.std(v[m]) / np.mean(v[m]))
    return out


def dephasing_score(times, cv, generation_time: float, *, tolerance: float = 0.1) -> dict:
    """Plateau, rise time (generations) and monotonicity of a CV trajectory."""
    t = np.asarray(times, dtype=float)
    cv = np.asarray(cv, dtype=float)
    ok = np.isfinite(cv)
    t, cv = t[ok], cv[ok]
    if t.size < 3 or not generation_time > 0:
        raise ValueError("need >= 3 finite CV values and a positive generation time")
    span = (t[-1] - t[0]) / generation_time
    if span < 1:
        raise ValueError(f"the run covers {span:.2f} generations; the plateau needs > 1")
    last = t >= t[-1] - generation_time
    plateau = float(np.mean(cv[last]))
    reached = np.nonzero(cv >= 0.9 * plateau)[0]
    k = int(reached[0]) if reached.size else cv.size - 1
    drop = float(np.max(np.maximum.accumulate(cv) - cv))
    return {"plateau": plateau, "rise_generations": float((t[k] - t[0]) / generation_time),
            "max_drop": drop, "monotone": bool(drop <= tolerance * plateau),
            "span_generations": float(span), "initial_cv": float(cv[0])}


def reference_plateau(table=None, n_ages: int = 41) -> float:
    """CV of length in a steady asynchronous population from Taheri-Araghi et al. 2015 cycles."""
    if table is None:
        from .. import refdata
        table = refdata.cell_size("glucose")
    s_b = table["s_b_um"].to_numpy(dtype=float)
    s_d = table["s_d_um"].to_numpy(dtype=float)
    good = np.isfinite(s_b) & np.isfinite(s_d) & (s_b > 0) & (s_d > s_b)
    s_b, s_d = s_b[good], s_d[good]
    a = (np.arange(n_ages) + 0.5) / n_ages
    w = 2.0 ** (1.0 - a) * math.log(2.0)
    lengths = s_b[:, None] * (s_d / s_b)[:, None] ** a[None, :]
    weights = np.broadcast_to(w / w.sum(), lengths.shape) / len(s_b)
    mean = float(np.sum(weights * lengths))
    var = float(np.sum(weights * (lengths - mean) ** 2))
    return math.sqrt(var) / mean


class DephasingTier(TierStep):
    """WCM-Hard tier 6: CV of cell volume of synchronised cells rises to Taheri-Araghi's plateau."""

    tier = 6
    title = "population de-phasing"
    criterion = ("CV of volume rises monotonically, reaches its plateau within 5 generations, "
                 "plateau within 20% of Taheri-Araghi 2015")
    config_schema = {**TierStep.config_schema,
                     "generations": {"_type": "float", "_default": 5.0},
                     "run_generations": {"_type": "float", "_default": 7.0},
                     "plateau_tolerance": {"_type": "float", "_default": 0.2}}

    def _evaluate(self, client):
        from ...framework.run import run

        spec = self.config["spec"]
        nodes = process_nodes(spec)
        found = None
        for path, node in nodes.items():
            outputs = node.get("outputs") or {}
            if "volume" in outputs and "phase" in outputs:
                found = (path, node)
                break
        if found is None:
            return self.not_applicable("the composite has no cell population with volume and "
                                       "cell-cycle phase stores (no tissue mechanism)")
        path, node = found
        config = node.get("config") or {}
        t_gen = float(np.mean(config.get("t_interphase", [0.0]))
                      + np.mean(config.get("t_mitosis", [0.0])))
        if not t_gen > 0:
            return self.not_applicable("the cell cycle's duration (t_interphase + t_mitosis) "
                                       "is not in the process config; cannot count generations")
        key = ".".join(map(str, path)) + ".config.synchronized"
        dataset = run(spec, self.config["run_generations"] * t_gen, overrides={key: True},
                      progress=False)
        volume_store = "/".join(map(str, node["outputs"]["volume"])).replace("/", ".")
        phase_store = "/".join(map(str, node["outputs"]["phase"])).replace("/", ".")
        phase = dataset[phase_store].values
        alive = (phase == 1) | (phase == 2)
        cv = volume_cv(dataset[volume_store].values, alive)
        score = dephasing_score(dataset.time.values, cv, t_gen)
        reference = reference_plateau()
        rel = abs(score["plateau"] - reference) / reference
        evidence = {**score, "reference_plateau": reference, "plateau_relative_error": rel,
                    "generation_time": t_gen, "cells_start": int(alive[0].sum()),
                    "cells_end": int(alive[-1].sum())}
        ok = (score["monotone"] and score["rise_generations"] <= self.config["generations"]
              and rel <= self.config["plateau_tolerance"])
        notes = []
        if evidence["cells_start"] != 100:
            notes.append(f"started with {evidence['cells_start']} cells (the seed asks for 100)")
        return self.make(PASS if ok else FAIL, score["plateau"], evidence=evidence, notes=notes,
                         figures=self._plot(dataset.time.values, cv, reference, t_gen))

    def _plot(self, t, cv, reference, t_gen):
        path = self.figure_path("volume_cv")
        if path is None:
            return []
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(np.asarray(t) / t_gen, cv, label="model")
        ax.axhline(reference, ls="--", color="k", label="Taheri-Araghi 2015")
        ax.set_xlabel("generations")
        ax.set_ylabel("CV of cell volume")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return [str(path)]
