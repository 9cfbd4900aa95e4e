"""Reports of a certification: ``report.json``, ``report.md`` (with the PNG plots) and a table."""
from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["summary_table", "markdown", "write_report"]


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
