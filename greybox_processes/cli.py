"""The ``greybox`` command line.

    greybox processes                     registered processes, one line each
    greybox run [SPEC] [--time T] [--set key=value ...] [--out PATH] [--engine pbg|vivarium]
    greybox show SPEC                     the wiring of a composite
    greybox certify SPEC [--quick] [--all] the WCM-Hard tiers (Algorithm 1)
    greybox train-grey-box                the grey-box controller and the black box

Without SPEC, ``greybox run`` runs the embedded default composite
(:data:`greybox_processes.composites.DEFAULT`) and writes its results and a plot.
"""
from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer
import yaml

from .errors import GreyboxError, SpecError
from .neural.cli import train_command
from .wcm_hard.cli import certify_command

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Glass-, black- and grey-box virtual cells on process-bigraph and vivarium.")

DEFAULT_OUT = Path("greybox-results")


def _fail(error: Exception, code: int = 2):
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    partial = getattr(error, "partial", None)
    if partial is not None:
        typer.secho(f"(kept {partial.sizes.get('time', 0)} time points emitted before the failure)",
                    err=True)
    raise typer.Exit(code)


def _parse_sets(pairs: List[str]) -> dict:
    values = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set {pair!r} is not of the form key=value",
                            fix="write e.g. --set cells_per_type=300 or --set grn.config.q=0.5")
        values[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return values


def _document_and_name(spec: Optional[Path], sets: dict, core):
    """(spec or document, params, overrides, name) from the CLI arguments."""
    from . import composites
    from .framework.spec import load_spec

    if spec is None:
        builder = composites.DEFAULT
        accepted = set(inspect.signature(builder).parameters)
        kwargs = {k: v for k, v in sets.items() if k in accepted}
        overrides = {k: v for k, v in sets.items() if k not in accepted}
        return builder(**kwargs), {}, overrides, builder.__name__
    loaded = load_spec(spec)
    params = {k: v for k, v in sets.items() if k in loaded.parameters}
    overrides = {k: v for k, v in sets.items() if k not in loaded.parameters}
    return loaded, params, overrides, loaded.name


@app.command("processes")
def processes_command(
        all_: bool = typer.Option(False, "--all", help="also list processes of other packages")):
    """List the registered processes with their one-line descriptions."""
    from process_bigraph import allocate_core

    from .framework.base import GreyboxProcess, GreyboxStep, describe

    core = allocate_core()
    rows = {}
    for name in sorted(k for k in core.link_registry.keys() if isinstance(k, str) and "." not in k):
        cls = core.link_registry[name]
        module = getattr(cls, "__module__", "")
        if cls in (GreyboxProcess, GreyboxStep):
            continue
        if not all_ and not module.startswith("greybox_processes"):
            continue
        rows[name] = (module, describe(cls))
    width = max((len(n) for n in rows), default=0)
    for name, (module, text) in rows.items():
        typer.echo(f"{name:<{width}}  {text}" + (f"  [{module}]" if all_ else ""))


@app.command("run")
def run_command(
        spec: Optional[Path] = typer.Argument(None, help="composite spec (YAML); default: the "
                                              "embedded grn_cells composite"),
        time: float = typer.Option(20.0, "--time", "-t", help="simulated time to run"),
        set_: List[str] = typer.Option([], "--set", "-s", help="key=value: a spec parameter or a "
                                       "dotted path in the state (grn.config.q=0.5); repeatable"),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="zarr store for the results "
                                           "(default: greybox-results/<name>.zarr)"),
        engine: str = typer.Option("pbg", "--engine", "-e", help="pbg (process-bigraph) or "
                                   "vivarium (vivarium-core)"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="PNG plot (default: next to --out)"),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="log more"),
):
    """Run a composite and write its trajectories (zarr) and a plot (PNG)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    from .framework.run import run
    from .framework.spec import default_core
    from .plotting import plot_run

    try:
        core = default_core()
        document, params, overrides, name = _document_and_name(spec, _parse_sets(set_), core)
        out = out or DEFAULT_OUT / f"{name}.zarr"
        out.parent.mkdir(parents=True, exist_ok=True)
        dataset = run(document, time, engine=engine, params=params, overrides=overrides,
                      out=out, progress=progress, core=core)
    except (GreyboxError, ValueError) as error:
        _fail(error)
    plot = plot or out.with_suffix(".png")
    plot_run(dataset, plot, title=f"{name} ({engine})")
    typer.echo(f"{name}: {dataset.sizes['time']} time points, variables "
               f"{', '.join(dataset.data_vars)}")
    typer.echo(f"wrote {out} and {plot}  ({dataset.attrs.get('wall_time_s', 0.0):.2f} s wall)")


@app.command("show")
def show_command(
        spec: Path = typer.Argument(..., help="composite spec (YAML)"),
        set_: List[str] = typer.Option([], "--set", "-s", help="key=value overrides"),
        draw: Optional[Path] = typer.Option(None, "--draw", help="also draw the bigraph "
                                            "(needs bigraph-viz and graphviz)"),
):
    """Print the wiring of a composite (processes, ports, stores, shapes)."""
    from .framework.spec import build_document, default_core
    from .framework.wiring import describe_wiring

    try:
        core = default_core()
        document, params, overrides, _ = _document_and_name(spec, _parse_sets(set_), core)
        built = build_document(document, params=params, overrides=overrides, core=core)
        typer.echo(describe_wiring(built, core))
    except (GreyboxError, ValueError) as error:
        _fail(error)
    if draw is not None:
        import shutil

        try:
            from bigraph_viz import plot_bigraph
        except ImportError:
            typer.secho("cannot draw: bigraph-viz is not installed (pip install bigraph-viz)",
                        err=True)
            raise typer.Exit(1)
        if shutil.which("dot") is None:
            typer.secho("cannot draw: graphviz's `dot` is not on PATH (apt-get install graphviz, "
                        "or conda install graphviz)", err=True)
            raise typer.Exit(1)
        plot_bigraph(built["state"], core=core, out_dir=str(draw.parent),
                     filename=draw.stem, file_format=draw.suffix.lstrip(".") or "png")
        typer.echo(f"wrote {draw}")


# commands that live with their mechanism (their modules import heavy libraries lazily)
app.command("train-grey-box")(train_command)
app.command("certify")(certify_command)


def main():  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
