"""Reports of a certification: ``report.json``, ``report.md`` (with the PNG plots) and a table."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import NamedTuple

__all__ = ["summary_table", "markdown", "write_report", "compare_reports",
           "ReportComparison"]


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def summary_table(certification) -> str:
    """A Markdown table: tier, name, status, score, criterion, engine (of the composites the
    tier ran; '-' when it ran none), wall time."""
    lines = ["| tier | name | status | score | criterion | engine | s |",
             "|---:|---|---|---:|---|---|---:|"]
    done = {r.tier: r for r in certification.results}
    for number in certification.tiers:
        r = done.get(number)
        if r is None:
            from .tiers import TIERS
            lines.append(f"| {number} | {TIERS[number].title} | not run (stopped at tier "
                         f"{certification.stopped_at}) | - | {TIERS[number].criterion} | - | - |")
            continue
        lines.append(f"| {r.tier} | {r.name} | {r.status}{' (quick)' if r.quick else ''} | "
                     f"{_fmt(r.score)} | {_fmt(r.criterion)} | {_fmt(r.engine)} | "
                     f"{r.wall_s:.0f} |")
    return "\n".join(lines)


def markdown(certification, folder=None) -> str:
    """The readable report: verdict, table, then each tier's evidence, notes and plots."""
    out = [f"# WCM-Hard report: `{certification.spec}`", "",
           f"**{certification.verdict}**" + (" (quick mode: expensive tiers sampled)"
                                            if certification.quick else ""), "",
           f"Tiers {certification.tiers}, "
           f"{'all run' if certification.run_all else 'stop at first failure'}"
           f"; engine {certification.engine} for the tiers that run a composite"
           f"; wall time {certification.wall_s:.0f} s.", "", summary_table(certification), ""]
    for r in certification.results:
        out += [f"## Tier {r.tier}: {r.name}", "", f"Status: **{r.status}**; score "
                f"{_fmt(r.score)}; criterion: {r.criterion}; engine: "
                f"{r.engine or 'none (no composite run)'}.", ""]
        out += [f"- {note}" for note in r.notes]
        if r.evidence:
            out += ["", "```json", json.dumps(r.to_dict()["evidence"], indent=1)[:4000], "```"]
        for fig in r.figures:
            rel = os.path.relpath(fig, folder) if folder else fig
            out += ["", f"![tier {r.tier}]({rel})"]
        out.append("")
    return "\n".join(out)


def write_report(certification, folder) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md`` into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "report.json"
    json_path.write_text(json.dumps(certification.to_dict(), indent=1))
    md_path = folder / "report.md"
    md_path.write_text(markdown(certification, folder))
    return json_path, md_path


# what two runs of the same certification may differ in: where and how long they ran (the
# tiers' own timings end in "wall_s" too, e.g. tier 6's run_wall_s)
RUN_FIELDS = frozenset({"wall_s", "engine"})
# report-wide fields that depend on which tiers ran (compared only when both ran the same)
TIER_SET_FIELDS = ("tiers", "certified", "verdict", "stopped_at")


class ReportComparison(NamedTuple):
    """Two certification reports compared tier by tier (:func:`compare_reports`)."""

    tiers: list            # tiers both reports ran: the ones compared
    only_first: list       # tiers only the first report ran (not compared)
    only_second: list
    differences: list      # [(path, first value, second value), ...] within the compared tiers

    @property
    def same(self) -> bool:
        """True when no field differs in the tiers both reports ran."""
        return not self.differences


def _leaves(value, path=""):
    """``{path: leaf}`` of a report's JSON tree; figures by file name (the folders differ)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in RUN_FIELDS or key.endswith("_wall_s"):
                continue
            if key == "figures" and isinstance(item, list):
                item = [Path(str(f)).name for f in item]
            out.update(_leaves(item, f"{path}/{key}"))
        return out
    if isinstance(value, list):
        out = {f"{path}[]": len(value)}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{path}[{i}]"))
        return out
    return {path or "/": value}


def _same(a, b, rtol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not (
            isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return a == b
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b or (rtol > 0 and math.isclose(a, b, rel_tol=rtol))


def _differences(a: dict, b: dict, rtol: float) -> list:
    out = []
    for path in sorted(a.keys() | b.keys(), key=str):
        left, right = a.get(path, "<missing>"), b.get(path, "<missing>")
        if path not in a or path not in b or not _same(left, right, rtol):
            out.append((path, left, right))
    return out


def compare_reports(first, second, *, rtol: float = 0.0) -> ReportComparison:
    """Compare two certification reports (``report.json`` paths or their dicts) tier by tier.

    Every field of each tier both ran is compared (status, score, criterion, evidence, notes,
    figure file names), and the report-wide ones (spec, quick, ...; the verdict only when both
    ran the same tiers), but not where and how long they ran (``wall_s``, ``engine``): so the
    same spec certified under process-bigraph and vivarium-core, or on two machines, can be
    checked to be the same certification. Numbers are compared exactly unless ``rtol`` > 0.
    A field only one report has reads ``'<missing>'`` on the other side.
    """
    reports = [report if isinstance(report, dict) else json.loads(Path(report).read_text())
               for report in (first, second)]
    results = [{r["tier"]: r for r in report.get("results", [])} for report in reports]
    both = sorted(results[0].keys() & results[1].keys())
    skip = {"results"} | (set() if results[0].keys() == results[1].keys()
                          else set(TIER_SET_FIELDS))
    heads = [_leaves({k: v for k, v in report.items() if k not in skip})
             for report in reports]
    differences = _differences(*heads, rtol)
    for tier in both:
        differences += _differences(_leaves(results[0][tier], f"/tier {tier}"),
                                    _leaves(results[1][tier], f"/tier {tier}"), rtol)
    return ReportComparison(both, sorted(results[0].keys() - results[1].keys()),
                            sorted(results[1].keys() - results[0].keys()), differences)
