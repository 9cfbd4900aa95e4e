"""The ``greybox`` command line.

    greybox processes                     registered processes, one line each
    greybox composites [--paths]          the bundled composites, one line each
    greybox run [SPEC] [--time T] [--set key=value ...] [--out PATH] [--engine pbg|vivarium]
    greybox show SPEC                     the wiring of a composite
    greybox certify SPEC [--quick] [--all] [--engine pbg|vivarium] the WCM-Hard tiers (Algorithm 1)
    greybox compare-reports A B           two certifications of one spec agree (e.g. both engines)
    greybox train-grey-box                the grey-box controller and the black box
    greybox train-black-box-expression    the black box's data-only transcriptome (PRECISE)
    greybox train-grey-box-lags           the grey box's lac bias from measured lags (Julou)

SPEC is a YAML spec file or a bundled composite's name (``greybox run ecoli_grey_box``, as
``greybox composites`` lists them). Without SPEC, ``greybox run`` runs the main job: the embedded default composite
(:data:`greybox_processes.composites.DEFAULT`, the grey-box E. coli population) through the
diauxic shift together with its IPTG reference, and writes both runs and a plot.
"""
from __future__ import annotations

import inspect
import logging
import re
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import typer
import yaml

from .errors import GreyboxError, SimulationError, SpecError
from .neural.cli import train_command, train_expression_command, train_lags_command
from .wcm_hard.cli import certify_command, compare_reports_command

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


# YAML 1.1 (PyYAML) reads 5e-3 or 1e6 as strings (it wants a dot and a signed exponent);
# anything Python reads as a number is meant as one on a command line
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# Python's words for the special floats (YAML 1.1 only knows .inf and .nan)
_SPECIAL = re.compile(r"[+-]?(inf|infinity|nan)", re.IGNORECASE)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _parse_value(pair: str, raw: str):
    """A --set value: a number if it looks like one, else YAML (lists, booleans, strings)."""
    text = raw.strip()
    pair = _shorten(pair)
    if not text:
        return ""
    try:
        if _NUMBER.fullmatch(text):
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        if _SPECIAL.fullmatch(text):
            return float(text)
    except (ValueError, OverflowError) as error:  # e.g. an int of more than 4300 digits
        raise SpecError(f"--set {pair!r}: the number cannot be read ({error})",
                        fix="give a number of ordinary size, e.g. 1e6") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        reason = str(getattr(error, "problem", None) or error).strip()
        raise SpecError(f"--set {pair!r}: the value is not valid YAML ({reason})",
                        fix="close brackets and quotes, e.g. --set 'q=[1, 2]' or quote a string "
                            "as --set 'name=\"a: b\"'") from None
    except Exception as error:  # PyYAML's constructors raise plain errors: 2020-13-45, !!int x
        raise SpecError(f"--set {pair!r}: the value cannot be read "
                        f"({type(error).__name__}: {error})",
                        fix="quote it to pass it as a string (--set 'key=\"2020-13-45\"'), or "
                            "give a number, a list [1, 2] or a word") from None


def _parse_sets(pairs: List[str]) -> dict:
    values = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--set {pair!r} is not of the form key=value",
                            fix="write e.g. --set cells_per_type=300 or --set grn.config.q=0.5")
        values[key.strip()] = _parse_value(pair, raw)
    return values


def _check_out(out: Path):
    """Fail before the run, not after it, if results could not be written to ``out``."""
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {out} is an existing file, not a zarr store",
                        fix="give a new path ending in .zarr, or remove the file")
    if out.is_dir() and any(out.iterdir()) and not any(
            (out / marker).exists() for marker in (".zgroup", "zarr.json", ".zattrs")):
        raise SpecError(f"--out {out} is a non-empty folder that is not a zarr store",
                        fix="give a new path ending in .zarr (an existing zarr store is replaced)")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the folders that do not exist yet are created
    reason = None if parent.is_dir() else "not a folder"
    if reason is None:
        # os.access says yes to root on /proc and read-only mounts: try to write there
        try:
            with tempfile.TemporaryFile(dir=parent):
                pass
        except OSError as error:
            reason = error.strerror or str(error)
    if reason is not None:
        raise SpecError(f"cannot write --out {out}: {parent} is not a writable folder ({reason})",
                        fix="give a path in a folder you can write to, e.g. --out results/run.zarr")


def _document_and_name(spec: Optional[Path], sets: dict, core):
    """(spec or document, params, overrides, name) from the CLI arguments."""
    from . import composites
    from .framework.spec import load_spec

    if spec is None:
        builder = composites.DEFAULT
        parameters = inspect.signature(builder).parameters
        forwards = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        # a builder that forwards **kwargs takes every plain name; dotted paths are overrides
        kwargs = {k: v for k, v in sets.items() if k in parameters or (forwards and "." not in k)}
        overrides = {k: v for k, v in sets.items() if k not in kwargs}
        try:
            document = builder(**kwargs)
        except TypeError as error:
            raise SpecError(f"--set: the embedded default {builder.__name__} does not take "
                            f"{', '.join(sorted(kwargs))}: {error}",
                            fix=f"see help(greybox_processes.composites.{builder.__name__}) "
                                "for its parameters, or set a dotted path such as "
                                "lac.config.seed=1") from None
        return document, {}, overrides, builder.__name__
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
    from .framework.registry import claim_short_names

    core = allocate_core()
    claim_short_names(core)  # a class name shared with another package lists greybox's class
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


@app.command("composites")
def composites_command(
        paths: bool = typer.Option(False, "--paths", help="also give each spec's file")):
    """List the bundled composites (a name runs, shows or certifies one), one line each."""
    from . import composites

    files = composites.composite_files()
    if not files:
        folder, ending = composites.composite_folder()
        _fail(SpecError(f"no *{ending} spec found in {folder}", file=folder,
                        fix="reinstall greybox-processes (its wheel carries the composites), "
                            "or run from a checkout of the repository"), 1)
    descriptions = composites.composite_descriptions()
    width = max(len(name) for name in files)
    for name, path in files.items():
        typer.echo(f"{name:<{width}}  {descriptions[name]}" + (f"  [{path}]" if paths else ""))


@app.command("run")
def run_command(
        spec: Optional[Path] = typer.Argument(None, help="composite spec (YAML) or a bundled "
                                              "composite's name (greybox composites); default: "
                                              "the embedded grey-box E. coli population"),
        time: Optional[float] = typer.Option(None, "--time", "-t", help="simulated time to run, "
                                             "in the composite's unit (default: 540 min for "
                                             "the embedded default, 20 for a SPEC)"),
        set_: List[str] = typer.Option([], "--set", "-s", help="key=value: a spec parameter or a "
                                       "dotted path in the state (grn.config.q=0.5); repeatable"),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="zarr store for the results "
                                           "(default: greybox-results/<name>.zarr)"),
        engine: str = typer.Option("pbg", "--engine", "-e", help="pbg (process-bigraph) or "
                                   "vivarium (vivarium-core)"),
        plot: Optional[Path] = typer.Option(None, "--plot", help="PNG plot (default: next to --out)"),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="log more"),
        checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="folder to save the "
                                                  "full state to (either engine)"),
        checkpoint_every: int = typer.Option(1, "--checkpoint-every", help="save every N "
                                             "intervals"),
        resume: Optional[Path] = typer.Option(None, "--resume", help="continue from this "
                                              "checkpoint folder; --time is then the end time"),
        iptg_reference: Optional[bool] = typer.Option(
            None, "--iptg-reference/--no-iptg-reference",
            help="also run the composite with its `iptg` parameter true (lac pre-induced, "
                 "the reference of the diauxic lag) into <out>_iptg.zarr and plot both; "
                 "default: on for the embedded default, off for a SPEC"),
):
    """Run a composite and write its trajectories (zarr) and a plot (PNG).

    Exit codes: 0 done; 1 the simulation failed (what was emitted is written to --out);
    2 a usage or spec error (nothing ran); 130 interrupted by Ctrl-C or SIGTERM (what was
    emitted is written to --out).
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    from .framework.run import RunInterrupted, run, sigterm_as_interrupt
    from . import composites
    from .framework.spec import default_core

    if time is None:
        time = composites.DEFAULT_TIME if spec is None else 20.0
    if iptg_reference is None:
        iptg_reference = spec is None and resume is None
    reference = None
    try:
        core = default_core()
        sets = _parse_sets(set_)
        document, params, overrides, name = _document_and_name(spec, sets, core)
        out = out or DEFAULT_OUT / f"{name}.zarr"
        _check_out(out)
        if iptg_reference:
            reference_out = out.with_name(f"{out.stem}_iptg.zarr")
            _check_out(reference_out)
            reference_spec = _iptg_variant(spec, sets, core)
        out.parent.mkdir(parents=True, exist_ok=True)
        with sigterm_as_interrupt():
            dataset = run(document, time, engine=engine, params=params, overrides=overrides,
                          out=out, progress=progress, core=core, checkpoint=checkpoint,
                          checkpoint_every=checkpoint_every, resume=resume)
            if iptg_reference:
                typer.echo(f"{name}: now the IPTG reference (lac pre-induced)")
                document, params, overrides, _ = reference_spec
                reference = run(document, time, engine=engine, params=params,
                                overrides=overrides, out=reference_out, progress=progress,
                                core=core)
    except RunInterrupted as error:
        if error.partial is None:  # stopped while the composite was being built
            typer.secho(f"{error}; nothing written", err=True)
        else:
            typer.secho(f"interrupted at t={error.time:g}, {error.partial.sizes.get('time', 0)} "
                        f"time points written to {out}", err=True)
        raise typer.Exit(130) from None
    except SimulationError as error:
        _fail(error, 1)
    except (GreyboxError, ValueError) as error:
        _fail(error)
    plot = plot or out.with_suffix(".png")
    _plot(dataset, reference, plot, title=f"{name} ({engine})")
    typer.echo(f"{name}: {dataset.sizes['time']} time points, variables "
               f"{', '.join(dataset.data_vars)}")
    wall = dataset.attrs.get("wall_time_s", 0.0)
    if reference is not None:
        wall += reference.attrs.get("wall_time_s", 0.0)
        out = f"{out}, {reference_out}"
    typer.echo(f"wrote {out} and {plot}  ({wall:.2f} s wall)")


def _iptg_variant(spec: Optional[Path], sets: dict, core):
    """The run arguments of the composite with ``iptg`` true (the lac operon pre-induced)."""
    sets = {**sets, "iptg": True}
    document, params, overrides, name = _document_and_name(spec, sets, core)
    if "iptg" in overrides:
        raise SpecError(f"--iptg-reference: {spec} has no `iptg` parameter to pre-induce the lac "
                        "operon with", fix="run it with --no-iptg-reference, or give the "
                        "composite an `iptg` parameter wired to its lac process's config")
    return document, params, overrides, name


def _plot(dataset, reference, path: Path, *, title: str):
    """The E. coli population figure for population runs, one panel per store otherwise."""
    from .ecoli.plot import has_population_stores, plot_population
    from .plotting import plot_run

    if has_population_stores(dataset):
        plot_population(dataset, reference, path, title=title)
    else:
        plot_run(dataset, path, title=title)


@app.command("show")
def show_command(
        spec: Path = typer.Argument(..., help="composite spec (YAML) or a bundled composite's "
                                    "name (greybox composites)"),
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
            raise typer.Exit(1) from None
        if shutil.which("dot") is None:
            typer.secho("cannot draw: graphviz's `dot` is not on PATH (apt-get install graphviz, "
                        "or conda install graphviz)", err=True)
            raise typer.Exit(1)
        plot_bigraph(built["state"], core=core, out_dir=str(draw.parent),
                     filename=draw.stem, file_format=draw.suffix.lstrip(".") or "png")
        typer.echo(f"wrote {draw}")


# commands that live with their mechanism (their modules import heavy libraries lazily)
app.command("train-grey-box")(train_command)
app.command("train-black-box-expression")(train_expression_command)
app.command("train-grey-box-lags")(train_lags_command)
app.command("certify")(certify_command)
app.command("compare-reports")(compare_reports_command)


def main():  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
