"""``greybox certify``: Algorithm 1 from the shell.

Mount on the ``greybox`` app with ``app.command("certify")(certify_command)``; ``greybox
compare-reports`` checks two certifications of one spec are the same (``compare_reports_command``).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..composites import resolve_spec

__all__ = ["certify_command", "compare_reports_command"]


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


def compare_reports_command(
    first: Path = typer.Argument(..., help="a report.json written by greybox certify (or its "
                                 "folder)"),
    second: Path = typer.Argument(..., help="the report.json to compare it with (or its folder)"),
    rtol: float = typer.Option(0.0, "--rtol", help="relative tolerance on numbers (default: "
                               "exact, as the two engines give bit-identical runs)"),
):
    """Check two certifications of one spec agree, e.g. under ``--engine pbg`` and ``vivarium``.

    The tiers both reports ran are compared field by field (status, score, evidence, notes,
    figure names), but not their wall times and engines; tiers only one ran are listed.
    Exit codes: 0 the same, 1 they differ (each difference printed) or share no tier, 2 a
    report is missing or not JSON.
    """
    import json

    from .report import compare_reports

    paths = []
    for path in (first, second):
        path = path / "report.json" if path.is_dir() else path
        if not path.is_file():
            typer.secho(f"error: no report at {path} (greybox certify --out FOLDER writes "
                        "FOLDER/report.json)", fg=typer.colors.RED, err=True)
            raise typer.Exit(2)
        paths.append(path)
    try:
        comparison = compare_reports(*paths, rtol=rtol)
    except (json.JSONDecodeError, KeyError) as error:
        typer.secho(f"error: not a greybox certify report ({error!r})", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(2) from None
    for where, a, b in comparison.differences:
        typer.echo(f"{where}: {a!r} != {b!r}")
    for name, only in (("first", comparison.only_first), ("second", comparison.only_second)):
        if only:
            typer.echo(f"tiers only the {name} report ran (not compared): {only}")
    if not comparison.tiers:
        typer.echo("the reports share no tier: nothing compared")
        raise typer.Exit(1)
    if comparison.differences:
        typer.echo(f"{len(comparison.differences)} field(s) differ in tiers {comparison.tiers}")
        raise typer.Exit(1)
    typer.echo(f"the same certification in tiers {comparison.tiers}: every field agrees but "
               "wall time and engine")
    raise typer.Exit(0)
