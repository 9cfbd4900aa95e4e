"""``greybox certify``: Algorithm 1 from the shell.

Mount on the ``greybox`` app with ``app.command("certify")(certify_command)``.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..composites import resolve_spec

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
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise typer.BadParameter(f"--option {pair!r}: the value {raw!r} is not valid YAML "
                                     "(close brackets and quotes)") from None
        options.setdefault(int(tier), {})[name.strip()] = value
    return options


def _check_options(options: dict):
    """Unknown tiers or option keys are usage errors (exit 2), not a failed certification."""
    from .certify import TIERS

    for tier, values in options.items():
        if tier not in TIERS:
            raise typer.BadParameter(f"--option names tier {tier}; tiers are 1 to {max(TIERS)}")
        # spec, quick and out_dir come from the command itself; engine (the command's
        # --engine) may be set per tier
        known = set(getattr(TIERS[tier], "config_schema", {})) - {"spec", "quick", "out_dir"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise typer.BadParameter(f"--option: tier {tier} ({TIERS[tier].__name__}) has no "
                                     f"option {unknown}; its options are {sorted(known)}")
    return options


def certify_command(
    spec: Path = typer.Argument(..., help="composite spec (YAML) to certify, or a bundled "
                                "composite's name (greybox composites)"),
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
    engine: str = typer.Option("pbg", "--engine", "-e",
                               help="engine of the composites the tiers run: pbg "
                                    "(process-bigraph) or vivarium (vivarium-core)"),
):
    """Certify a composite on the WCM-Hard tiers (Algorithm 1).

    ``--engine`` runs every composite a tier runs (tiers 1, 3, 6, 7) under process-bigraph
    (``pbg``) or vivarium-core (``vivarium``); ``--option T.engine=...`` sets it for tier T.
    The report gives each tier's engine. ``--option T.parameters='{seed: 3}'`` runs tier T's
    composites with those spec parameters; ``--option 7.replicates='[{seed: 100, lac_bias:
    2.04}, {seed: 101, lac_bias: 2.09}, ...]'`` runs tier 7 once per replicate and judges each
    comparison with a one-sided Wilcoxon signed-rank test paired by replicate.

    Exit codes: 0 certified; 1 not certified (the report says which tier failed); 2 a usage
    error (unknown option, tier, engine or spec; nothing was certified).
    """
    from ..errors import GreyboxError
    from ..framework.run import ENGINES
    from .certify import certify
    from .report import summary_table, write_report

    if engine not in ENGINES:
        raise typer.BadParameter(f"must be one of {', '.join(ENGINES)}, got {engine!r}",
                                 param_hint="--engine")
    try:
        spec = resolve_spec(spec)  # a bundled composite's name -> its file, named in the report
        result = certify(spec, tiers=_parse_tiers(tiers), run_all=run_all, quick=quick,
                         out_dir=out, options=_check_options(_parse_options(option)),
                         n_workers=workers, engine=engine)
    except (GreyboxError, ValueError) as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    json_path, md_path = write_report(result, out)
    typer.echo(summary_table(result))
    typer.echo(f"\n{result.verdict}; reports: {json_path}, {md_path}")
    raise typer.Exit(0 if result.certified else 1)
