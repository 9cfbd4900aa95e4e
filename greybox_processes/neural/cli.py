"""``greybox train-grey-box`` and ``greybox train-black-box-expression`` (typer commands).

Mount them on the main app with ``app.command("train-grey-box")(train_command)`` and
``app.command("train-black-box-expression")(train_expression_command)``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["train_command", "train_expression_command", "train_lags_command"]


def train_command(
    out: Optional[Path] = typer.Option(None, help="folder for the weights files (default: the "
                                       "package's neural/weights, which the composites load)"),
    seed: int = typer.Option(0, help="seed of initialisation and batches"),
    iterations: int = typer.Option(600, help="optimiser steps per network"),
    hours: float = typer.Option(8.5, help="hours simulated per training trajectory"),
    blackbox: bool = typer.Option(True, help="also train the data-only black box"),
):
    """Train the grey-box controller (and black box) on glass-box trajectories (Eq. 11)."""
    from .networks import WEIGHTS_DIR
    from .train import train

    out = WEIGHTS_DIR if out is None else out
    report = train(out, seed=seed, iterations=iterations, time=hours, blackbox=blackbox)
    typer.echo(f"trained on {report.conditions}, held out {report.held_out} "
               f"({report.wall_s:.0f} s)")
    typer.echo(f"controller: {report.controller}")
    if blackbox:
        typer.echo(f"black box: {report.blackbox}")
    for f in report.files:
        typer.echo(f"wrote {f}")


def train_expression_command(
    out: Optional[Path] = typer.Option(None, help="weights file (default: the package's "
                                       "neural/weights/black_box_expression.npz, which "
                                       "composites/ecoli_black_box.yaml loads)"),
    shared: Optional[Path] = typer.Option(None, help="the project's shared folder holding "
                                          "refdata/transcriptome (PRECISE); default ../shared"),
    components: int = typer.Option(10, help="PCA components of the training transcriptomes"),
    alpha: float = typer.Option(1.0, help="ridge penalty on the standardised inputs"),
):
    """Train the black box's data-only transcriptome on PRECISE's nutrient samples."""
    from .expression_data import train_expression

    report = train_expression(out, shared, components=components, alpha=alpha)
    cv = report["cv_leave_one_condition_out"]
    typer.echo(f"trained on {len(report['training_samples'])} nutrient samples "
               f"({len(report['training_conditions'])} conditions; {report['wall_s']:.1f} s)")
    typer.echo(f"held out (leave one condition out): RMSE {cv['rmse_model']:.3f} log2(TPM+1) vs "
               f"{cv['rmse_mean']:.3f} for the training mean; better on {cv['beats_mean']} of "
               f"{cv['n_conditions']} conditions")
    typer.echo(f"no response learned to {report['constant_in_training']} (constant in training)")
    typer.echo(f"wrote {report['file']}")


def train_lags_command(
    out: Optional[Path] = typer.Option(None, help="folder of the report (default: the package's "
                                       "neural/weights; ecoli_grey_box.yaml's lac_bias is its "
                                       "induction_offset)"),
    shared: Optional[Path] = typer.Option(None, help="the project's shared folder holding "
                                          "refdata/diauxie (Julou et al. 2020); default ../shared"),
    cells: int = typer.Option(4, help="initial cells of each population run"),
    capacity: int = typer.Option(1024, help="slots of the per-cell stores"),
    minutes: float = typer.Option(420.0, help="minutes per population run"),
    seed: int = typer.Option(0, help="seed of every run (common random numbers)"),
    offsets: Optional[str] = typer.Option(None, help="comma-separated grid of the decoder's lac "
                                          "bias (logit); default 0,0.5,1,1.25,...,3"),
    weights: str = typer.Option("grey_box_controller.pt", help="controller weights the bias is "
                                "learned for (a shipped name or a path); the report records "
                                "their fingerprint"),
):
    """Learn the grey box's lac bias from Julou et al.'s measured lags (0.02% lactose only)."""
    import sys

    from ..ecoli.lag_learning import train_lac_lags
    from .lac_lag_learning import DEFAULT_OFFSETS

    grid = DEFAULT_OFFSETS if offsets is None else tuple(float(x) for x in offsets.split(","))
    report = train_lac_lags(out, shared, offsets=grid, initial_cells=cells, capacity=capacity,
                            minutes=minutes, seed=seed, weights=weights,
                            command=" ".join(["greybox", *sys.argv[1:]]))
    held = report.held_out
    typer.echo(f"target lag {report.target_min:.1f} min (7 strains at 0.02% lactose, weighted "
               f"mean) -> lac bias {report.offset:.3f} ({report.wall_s:.0f} s)")
    typer.echo(f"held out (leave one strain out): mean relative error "
               f"{held.relative_error.mean():.3f}"
               + (f" vs {held.untrained_relative_error.mean():.3f} without the bias"
                  if "untrained_relative_error" in held else ""))
    if report.file is not None:
        typer.echo(f"wrote {report.file}")
