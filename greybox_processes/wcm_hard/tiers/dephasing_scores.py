"""The pure scores of tier 6 (population de-phasing), shared by the tissue and the population runs.

See :mod:`.t6_dephasing` for the tier. Everything here takes arrays or configs, not runs.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["volume_cv", "dephasing_score", "reference_plateau", "generation_time",
           "required_capacity", "check_capacity", "cv_per_generation", "cv_at_generations",
           "generation_monotone", "CAPACITY_MARGIN"]

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


def cv_at_generations(times, cv, generation_time: float) -> list:
    """CV at each whole generation ``k = 0, 1, ...`` of the run (the sample nearest to it)."""
    t = (np.asarray(times, dtype=float) - float(times[0])) / generation_time
    cv = np.asarray(cv, dtype=float)
    return [float(cv[int(np.argmin(np.abs(t - k)))])
            for k in range(int(math.floor(t[-1] + 1e-9)) + 1)]


def generation_monotone(times, cv, generation_time: float, *, tolerance: float = 0.1) -> dict:
    """"Rises monotonically" read at generation resolution.

    A synchronised population's CV of volume dips at each burst of divisions (the daughters
    of a cohort are smaller and alike), so sample by sample it is not monotone even when its
    envelope rises. Here the CV is averaged over each whole generation
    (:func:`cv_per_generation`) and the rise is monotone when no generation mean falls below
    the running maximum of the earlier ones by more than ``tolerance`` x the last
    generation's mean (the plateau). Returns the means, the CV at each whole generation, the
    largest drop and the verdict.
    """
    means = np.asarray(cv_per_generation(times, cv, generation_time), dtype=float)
    means = means[np.isfinite(means)]
    if means.size < 2:
        raise ValueError("need at least two whole generations to read a rise")
    drop = float(np.max(np.maximum.accumulate(means) - means))
    return {"cv_generation_means": means.tolist(),
            "cv_at_whole_generations": cv_at_generations(times, cv, generation_time),
            "generation_max_drop": drop,
            "generation_monotone": bool(drop <= tolerance * means[-1])}
