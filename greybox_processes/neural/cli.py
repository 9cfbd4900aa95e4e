"""``greybox train-grey-box``: fit the grey-box controller and the black box (typer command).

Mount it on the main app with ``app.command("train-grey-box")(train_command)``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["train_command"]


def train_command(
    out: Optional[Path] = typer.Option(None, help="folder for the weights files (default: the "
                                       "package's neural/weights, which the composites load)"),
    seed: int = typer.Option(0, help="seed of initialisation and batches"),
    iterations: int = typer.Option(300, help="optimiser steps per network"),
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
