"""``greybox certify``: Algorithm 1 from the shell.

Mount on the ``greybox`` app with ``app.command("certify")(certify_command)``.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

__all__ = ["certify_command"]


def _parse_tiers(text: Optional[str]):
    if not text:
        return None
    try:
        return sorted({int(t) for t in text.replace(" ", "").split(",") if t})
    except ValueError:
        raise typer.BadParameter(f"--tiers takes numbers separated by commas (e.g. 1,3), got "
                                 f"{text!r}") from None


def _parse_options(pairs: List[str]) -> dict:
    import yaml

    options = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        tier, dot, name = key.partition(".")
        if not sep or not dot or not tier.strip().isdigit():
            raise typer.BadParameter(f"--option {pair!r} is not TIER.KEY=VALUE (e.g. "
                                     "--option 2.model=iJO1366)")
        options.setdefault(int(tier), {})[name.strip()] = yaml.safe_load(raw)
    return options


def certify_command(
    spec: Path = typer.Argument(..., help="composite spec (YAML) to certify"),
    tiers: Optional[str] = typer.Option(None, "--tiers",
                                        help="tiers to run, e.g. 1,3 (default all)"),
    run_all: bool = typer.Option(False, "--all", help="run every tier even after a failure"),
    quick: bool = typer.Option(False, "--quick",
                               help="sample expensive tiers (CI); said in the report"),
    out: Path = typer.Option(Path("greybox-results/wcm_hard"), "--out",
                             help="folder for report.json, report.md, plots"),
    option: List[str] = typer.Option([], "--option",
                                     help="tier option TIER.KEY=VALUE (repeatable)"),
    workers: int = typer.Option(2, "--workers", help="Dask workers for tiers 2 and 8"),
):
    """Certify a composite on the WCM-Hard tiers (Algorithm 1); exit 1 if not certified."""
    from ..errors import GreyboxError
    from .certify import certify
    from .report import summary_table, write_report

    try:
        result = certify(spec, tiers=_parse_tiers(tiers), run_all=run_all, quick=quick,
                         out_dir=out, options=_parse_options(option), n_workers=workers)
    except (GreyboxError, ValueError) as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    json_path, md_path = write_report(result, out)
    typer.echo(summary_table(result))
    typer.echo(f"\n{result.verdict}; reports: {json_path}, {md_path}")
    raise typer.Exit(0 if result.certified else 1)
