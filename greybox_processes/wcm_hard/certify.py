"""Algorithm 1 of seed 000 (section 6.2): run the tiers in order, stop at the first failure.

:func:`certify` evaluates the selected tiers on one spec, in tier order. A tier that fails (or
cannot run) stops the evaluation unless ``run_all``; a tier that is *not applicable* (the
composite lacks what it needs) does not stop it, but a cell is certified only when every
selected tier passes, and called certified (:attr:`Certification.verdict`) only when all eight
tiers ran in full mode. Expensive tiers (2, 8) share one Dask client. ``quick`` samples them
(fewer genes, fewer perturbations, shorter runs) and every sampled tier says so in its notes.
``engine`` (``'pbg'`` or ``'vivarium'``) is the engine of every composite a tier runs (tiers
1, 3, 6 and 7; the screens of tiers 2, 5 and 8 solve LPs and run none); each tier result records
the engine it ran composites in, and ``options={tier: {'engine': ...}}`` sets it per tier.
"""
from __future__ import annotations

import time as wallclock
from dataclasses import dataclass, field
from pathlib import Path

from ..framework.loading import load_spec
from ..framework.run import ENGINES
from ..framework.registry import default_core
from .tiers import ERROR, FAIL, PASS, TIERS, TierResult

__all__ = ["certify", "Certification", "DASK_TIERS"]

#: tiers whose many runs go to Dask. Tier 5 is not one: its drug responses depend only on the
#: target pair, about 10 pairs and 80 to 500 LPs (3 to 18 s in-process), less than a cluster
#: costs to start.
DASK_TIERS = (2, 8)
#: tiers that start a local cluster when no client is given (they have runs to distribute now)
_CLUSTER_TIERS = (2, 8)


@dataclass
class Certification:
    """All tier results of one spec and the verdict of Algorithm 1."""

    spec: str
    tiers: list
    results: list = field(default_factory=list)
    quick: bool = False
    run_all: bool = False
    #: the engine the command asked for (a tier's ``engine`` option overrides it)
    engine: str = "pbg"
    stopped_at: int | None = None
    wall_s: float = 0.0

    @property
    def certified(self) -> bool:
        """True when every requested tier ran and passed."""
        done = {r.tier for r in self.results}
        return set(self.tiers) <= done and all(r.status == PASS for r in self.results)

    @property
    def verdict(self) -> str:
        """The verdict in words: a cell is certified only by all eight tiers, in full mode."""
        if not self.certified:
            return "NOT CERTIFIED"
        every = set(TIERS)
        if set(self.tiers) != every or self.quick:
            why = [] if set(self.tiers) == every else [f"tiers {sorted(self.tiers)} only"]
            why += ["quick mode"] if self.quick else []
            return (f"SELECTED TIERS PASSED ({', '.join(why)}; certification needs all eight "
                    "tiers in full mode)")
        return "CERTIFIED VIRTUAL CELL"

    def to_dict(self) -> dict:
        """The certification as JSON-ready data (report.json)."""
        return {"spec": self.spec, "tiers": list(self.tiers), "quick": self.quick,
                "run_all": self.run_all, "engine": self.engine, "certified": self.certified, "verdict": self.verdict,
                "stopped_at": self.stopped_at, "wall_s": self.wall_s,
                "results": [r.to_dict() for r in self.results]}


def _client_for(tiers, client, n_workers):
    if client is not None or not set(tiers) & set(_CLUSTER_TIERS):
        return client, None
    from ..metabolism.screen import _local_cluster

    cluster, local, _ = _local_cluster(n_workers)
    return local, cluster


def certify(spec, *, tiers=None, run_all: bool = False, quick: bool = False, out_dir=None,
            options: dict | None = None, client=None, n_workers: int = 2,
            progress: bool = True, engine: str = "pbg") -> Certification:
    """Run WCM-Hard tiers on ``spec`` in order (Algorithm 1).

    Parameters
    ----------
    spec : path of a composite spec (YAML).
    tiers : tier numbers (default all eight); always run in increasing order.
    run_all : keep going after a failure (default: stop at the first one).
    quick : sample the expensive tiers (CI); the report says so.
    out_dir : folder for figures (and, through :func:`..report.write_report`, the reports).
    options : ``{tier: {config key: value}}`` passed to each tier's Step.
    client : a ``distributed.Client`` for tiers 2 and 8 (default: a LocalCluster of
        ``n_workers`` forked processes, started only if one of them is selected).
    engine : ``'pbg'`` (process-bigraph) or ``'vivarium'`` (vivarium-core): the engine of
        the composites the tiers run (a tier's ``engine`` option overrides it).

    Raises ``ValueError`` for an unknown tier or engine (nothing is run).
    """
    from tqdm.auto import tqdm

    spec = str(spec)
    if not Path(spec).is_file():
        load_spec(spec)  # raises SpecError naming the file and the fix
    selected = sorted(set(TIERS) if tiers is None else {int(t) for t in tiers})
    unknown = [t for t in selected if t not in TIERS]
    if unknown:
        raise ValueError(f"unknown tier(s) {unknown}; tiers are 1 to 8")
    options = {int(k): dict(v) for k, v in (options or {}).items()}
    for where, name in [("engine", engine)] + [(f"tier {t} option engine", v["engine"])
                                              for t, v in sorted(options.items())
                                              if "engine" in v]:
        if name not in ENGINES:
            raise ValueError(f"{where} must be one of {', '.join(ENGINES)}, got {name!r}")
    report = Certification(spec, selected, quick=quick, run_all=run_all, engine=engine)
    started = wallclock.perf_counter()
    core = default_core()
    active, cluster = _client_for(selected, client, n_workers)
    try:
        bar = tqdm(selected, disable=not progress, desc="WCM-Hard tiers", unit="tier")
        for number in bar:
            bar.set_postfix_str(f"tier {number}: {TIERS[number].title}")
            config = {"spec": spec, "quick": quick, "out_dir": str(out_dir or ""),
                      "engine": engine, **options.get(number, {})}
            try:
                step = TIERS[number](config, core)
            except Exception as error:  # noqa: BLE001 - a bad option is reported as the result
                result = TierResult(number, TIERS[number].title, ERROR, TIERS[number].criterion,
                                    notes=[f"{type(error).__name__}: {error}"], quick=quick)
            else:
                if hasattr(step, "prior"):
                    step.prior = {r.tier: r for r in report.results}
                result = step.evaluate(active if number in DASK_TIERS else None)
            report.results.append(result)
            if result.status in (FAIL, ERROR) and not run_all:
                report.stopped_at = number
                break
    finally:
        if cluster is not None:
            active.close()
            cluster.close()
    report.wall_s = wallclock.perf_counter() - started
    return report
