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
true``) for ``run_generations`` (7) generations of :func:`generation_time`; it needs ``volume``
and ``phase`` stores (the tissue mechanism: ``composites/dephasing_population.yaml``). Before
running, :func:`check_capacity` makes sure the population's slots can hold the cells of that many
generations, and otherwise says what to set. Quick mode runs the same (one run of ~10^4 cells).
"""
from __future__ import annotations

import math

import numpy as np

from ...framework.document import resolve_wire
from ...framework.registry import resolve_process_class
from ...framework.run import run
from .base import FAIL, PASS, TierStep, process_nodes

__all__ = ["volume_cv", "dephasing_score", "reference_plateau", "generation_time",
           "required_capacity", "check_capacity", "cv_per_generation", "DephasingTier"]

#: spare slots over ``initial x 2^generations`` (a de-phased population outgrows the doubling
#: count slightly; a full capacity would stop the run)
CAPACITY_MARGIN = 1.2


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


def generation_time(config) -> float:
    """Mean cell-cycle duration of a Tissue config (its defaults filled in).

    Timer rule: mean interphase + mean mitosis. Adder and sizer: a cell doubles its volume over a
    steady cycle, so interphase lasts ``ln 2 / growth_rate`` on average, plus mitosis.
    """
    def mean(key):
        if key not in config:
            raise ValueError(f"the cell population's config has no {key!r}; tier 6 needs it to "
                             "count generations")
        return float(np.mean(config[key]))

    rule = config.get("size_rule", "timer")
    if rule == "timer":
        return mean("t_interphase") + mean("t_mitosis")
    if rule in ("adder", "sizer"):
        rate = mean("growth_rate")
        return math.log(2.0) / rate + mean("t_mitosis") if rate > 0 else float("nan")
    raise ValueError(f"unknown size_rule {rule!r}; the Tissue process knows timer, adder, sizer")


def required_capacity(initial: int, generations: float) -> int:
    """Slots per cell type that ``initial`` cells need over ``generations`` (with a margin)."""
    return int(math.ceil(initial * 2.0 ** generations * CAPACITY_MARGIN))


def check_capacity(config, generations: float, where: str = "tissue") -> None:
    """Raise ValueError saying what to set when the population cannot hold ``generations``."""
    initial = int(config["initial_per_type"])
    capacity = int(config["capacity_per_type"])
    if initial < 2:
        raise ValueError(f"{where} starts with {initial} cell(s) per type; the CV of volume needs "
                         f"at least 2 (tier 6 asks for 100): set {where}.config.initial_per_type")
    need = required_capacity(initial, generations)
    if capacity < need:
        raise ValueError(
            f"the population cannot hold {generations:g} generations: {initial} cells per type "
            f"grow to about {initial * 2.0 ** generations:.0f} (x 2^{generations:g}) but "
            f"{where}.config.capacity_per_type is {capacity}. Set capacity_per_type >= {need} in "
            "the spec (composites/dephasing_population.yaml is sized for tier 6), or run fewer "
            "generations with --option 6.run_generations=N (N >= generations + 1)")


def cv_per_generation(times, cv, generation_time: float) -> list:
    """Mean CV over each whole generation ``[k, k + 1)`` of the run (NaN-free samples only)."""
    t = (np.asarray(times, dtype=float) - float(times[0])) / generation_time
    cv = np.asarray(cv, dtype=float)
    out = []
    for k in range(int(math.floor(t[-1] + 1e-9))):
        window = (t >= k) & (t < k + 1) & np.isfinite(cv)
        out.append(float(np.mean(cv[window])) if window.any() else float("nan"))
    return out


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

    def initialize(self, config):
        super().initialize(config)
        generations, run_for = self.config["generations"], self.config["run_generations"]
        if not generations > 0:
            raise ValueError(f"generations must be > 0, got {generations}")
        if not run_for >= generations + 1:
            raise ValueError(f"run_generations ({run_for:g}) must be >= generations + 1 "
                             f"({generations + 1:g}): the plateau is the mean CV over the last "
                             "generation, after the rise")
        if not self.config["plateau_tolerance"] > 0:
            raise ValueError("plateau_tolerance must be > 0 (a relative error), got "
                             f"{self.config['plateau_tolerance']}")

    def _population(self, spec):
        """``(path, node, config with the process defaults)`` of the cell population, or None."""
        for path, node in process_nodes(spec).items():
            outputs = node.get("outputs") or {}
            if "volume" in outputs and "phase" in outputs:
                return path, node, {**self._defaults(node), **(node.get("config") or {})}
        return None

    def _defaults(self, node) -> dict:
        try:
            cls = resolve_process_class(node.get("address", ""), self.core)
        except Exception:  # noqa: BLE001 - an unknown process is reported by the run itself
            return {}
        schema = getattr(cls, "config_schema", {}) or {}
        return {k: v["_default"] for k, v in schema.items()
                if isinstance(v, dict) and "_default" in v}

    def _evaluate(self, client):
        spec = self.config["spec"]
        found = self._population(spec)
        if found is None:
            return self.not_applicable("the composite has no cell population with volume and "
                                       "cell-cycle phase stores (no tissue mechanism)")
        path, node, config = found
        if not {"t_mitosis", "initial_per_type", "capacity_per_type"} <= set(config):
            return self.not_applicable("the cell population's process has no cell cycle "
                                       "(t_mitosis) or no initial_per_type/capacity_per_type")
        t_gen = generation_time(config)
        if not t_gen > 0:
            return self.not_applicable("the cell cycle has no positive duration; cannot count "
                                       "generations")
        where = ".".join(map(str, path))
        check_capacity(config, self.config["run_generations"], where)
        # whole process intervals, so that the last generation is sampled to its end
        interval = float(node.get("interval", 1.0))
        duration = math.ceil(self.config["run_generations"] * t_gen / interval - 1e-9) * interval
        dataset = run(spec, duration, overrides={f"{where}.config.synchronized": True},
                      progress=False)
        phase, volume = (dataset[".".join(map(str, resolve_wire(path, node["outputs"][k])))]
                         for k in ("phase", "volume"))
        alive = (phase.values == 1) | (phase.values == 2)
        times = dataset.time.values
        cv = volume_cv(volume.values, alive)
        return self._verdict(times, cv, alive, t_gen, config)

    def _verdict(self, times, cv, alive, t_gen, config):
        score = dephasing_score(times, cv, t_gen)
        reference = reference_plateau()
        rel = abs(score["plateau"] - reference) / reference
        evidence = {**score, "reference_plateau": reference, "plateau_relative_error": rel,
                    "generation_time": t_gen, "size_rule": config.get("size_rule", "timer"),
                    "cv_per_generation": cv_per_generation(times, cv, t_gen),
                    "cells_start": int(alive[0].sum()), "cells_end": int(alive[-1].sum()),
                    "capacity": int(config["capacity_per_type"]) * int(config.get("n_types", 1))}
        checks = {"monotone": score["monotone"],
                  "rise": score["rise_generations"] <= self.config["generations"],
                  "plateau": rel <= self.config["plateau_tolerance"]}
        evidence["checks"] = checks
        notes = [f"failed: {name}" for name, ok in checks.items() if not ok]
        if evidence["cells_start"] != 100:
            notes.append(f"started with {evidence['cells_start']} cells (the seed asks for 100)")
        status = PASS if all(checks.values()) else FAIL
        return self.make(status, score["plateau"], evidence=evidence, notes=notes,
                         figures=self._plot(times, cv, reference, t_gen))

    def _plot(self, t, cv, reference, t_gen):
        def draw(ax):
            gens = (np.asarray(t) - t[0]) / t_gen
            tol = self.config["plateau_tolerance"]
            ax.axhspan(reference * (1 - tol), reference * (1 + tol), color="0.9",
                       label=f"reference +-{tol:.0%}")
            ax.plot(gens, cv, label="model")
            ax.axhline(reference, ls="--", color="k", label="Taheri-Araghi 2015")
            ax.axvline(self.config["generations"], ls=":", color="0.5", label="rise limit")
            ax.set_xlabel("generations")
            ax.set_ylabel("CV of cell volume")
            ax.legend(fontsize=7)

        return self.plot("volume_cv", draw)
