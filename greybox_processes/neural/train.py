"""Training of the grey-box controller and the black box, with the loss of seed 000's Eq. 11.

``L = L_data + lambda_thermo ||Delta G_net||^2 + lambda_mass ||dM/dt||^2``

Data: trajectories of the glass box (:func:`~.composites.glass_box_cell`) simulated at the
``conditions`` given (initial glucose and lactose, % w/v); no measured time course of the lac
regulation or of a whole batch culture is in ``refdata`` (Julou et al. 2020 give lag summary
statistics only), so simulated glass-box trajectories are the training data: this is the grey
box's *pre-training* (its lac bias is then learned from measured lags,
:mod:`~greybox_processes.ecoli.lag_learning`). The conditions span the lactose levels the cells
are run at (0.015-0.4%): a network that has seen only 0.015-0.025% extrapolates at 0.2% (its
induction at the shift was 4x the glass box's there), and the grey box's lag at a lactose level
it is judged on would then be the extrapolation's, not the regulation's. The conditions used for
evaluation (:data:`HELD_OUT`: Julou's medium at 0.02% and at 0.2% lactose) are never among the
training conditions (checked).

* Controller: learns the lac regulation from ``(Embed(M_{t-H+1..t}) -> lac induction at t+1)``
  pairs (the glass box's ``regulation`` store, as a logit). Its output is a regulatory
  quantity that moves no mass, so the two physics terms of Eq. 11 are identically zero for it
  (computed and reported, not a constraint that could be violated).
* Black box: learns ``Embed(M_{t+1}) - Embed(M_t)`` (glucose, lactose, biomass, growth rate,
  C/N ledger). ``||dM/dt||^2``: the change of total C and N (medium + biomass + ledger, from the
  model's formulas and biomass stoichiometry, :mod:`.conservation`) over a step, relative to the
  cells' own C and N. ``||Delta G_net||^2``: no Gibbs-energy data set is installed (see dfba.py),
  so the term is the second law's sign constraint on the net conversion the state allows
  (sugars -> biomass + CO2 runs forward only): the squared predicted *increase* of a sugar or
  *decrease* of biomass, relative to its scale. A proxy, stated as such.

Both networks are trained with teacher forcing over ``unroll``-step windows starting from a
zero latent state. Seeded and reproducible: torch's RNG is seeded inside :func:`seeded` (the
global state is restored), batches come from a ``numpy`` Generator, deterministic algorithms
are on during training, one thread.
"""
from __future__ import annotations

import contextlib
import json
import time as wallclock
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .composites import BLACKBOX_WEIGHTS, CONTROLLER_WEIGHTS, glass_box_cell
from .conservation import element_table
from .controller import build_controller_network
from .embedding import embed, feature_names
from .networks import LatentTransformer, WEIGHTS_DIR, save_weights, seeded

__all__ = ["train", "TRAIN_CONDITIONS", "HELD_OUT", "simulate_glass", "eq11_loss",
           "TrainReport", "COMMAND"]

#: (glucose %, lactose %) of the training trajectories: two glucose levels around Julou's
#: 0.005% times five lactose levels from 0.015% to 0.3%, plus four more mixtures; the levels
#: are spread on a log scale so that 0.02% and 0.2% fall between trained ones.
TRAIN_CONDITIONS = tuple((g, lac) for g in (0.003, 0.0065)
                         for lac in (0.015, 0.025, 0.06, 0.12, 0.3)) + (
    (0.008, 0.02), (0.004, 0.02), (0.008, 0.15), (0.004, 0.4))
#: The evaluation conditions (Julou et al. 2020's medium, 0.005% glucose, at the two lactose
#: levels the cells are certified at): never trained on.
HELD_OUT = ((0.005, 0.02), (0.005, 0.2))
CONTROLLER_INPUTS = ["concentrations", "growth_rate", "lac"]
BLACKBOX_INPUTS = ["concentrations", "biomass", "growth_rate", "ledger"]
#: The command that made the shipped weights.
COMMAND = ("greybox train-grey-box --out greybox_processes/neural/weights --seed 0 "
           "--iterations 600")


@dataclass
class TrainReport:
    """What was trained on what, and the losses."""

    conditions: list
    held_out: list
    controller: dict = field(default_factory=dict)
    blackbox: dict = field(default_factory=dict)
    wall_s: float = 0.0
    files: list = field(default_factory=list)


def simulate_glass(conditions, time: float = 8.5, core=None):
    """Glass-box trajectories (xarray Datasets) at ``(glucose %, lactose %)`` conditions."""
    from ..framework.run import run

    return [run(glass_box_cell(glucose_percent=g, lactose_percent=l), time, progress=False,
                core=core) for g, l in conditions]


def _values(ds, stores):
    where = {"concentrations": "env.concentrations", "biomass": "env.biomass"}
    return {s: ds[where.get(s, f"cell.{s}")].values for s in stores}


def _windows(features, history):
    """(T, F) -> (T, H, F): the last ``history`` rows up to each t (start padded with row 0)."""
    idx = np.arange(features.shape[0])[:, None] + np.arange(-history + 1, 1)[None, :]
    return features[np.maximum(idx, 0)]


@contextlib.contextmanager
def _deterministic():
    previous = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.set_num_threads(threads)


def _physics_terms(feat, new_feat, stores):
    """(mass, thermo) residuals per sample for the black box's predicted step (torch)."""
    table = element_table()
    idx = {n: i for i, n in enumerate(feature_names(stores))}

    def state(f):
        conc = torch.exp(f[:, [idx["concentrations.0"], idx["concentrations.1"]]]) - 1e-3
        biomass = torch.exp(f[:, idx["biomass"]])
        ledger = f[:, [idx["ledger.0"], idx["ledger.1"]]]
        return conc, biomass, ledger

    c0, x0, l0 = state(feat)
    c1, x1, l1 = state(new_feat)
    medium = torch.as_tensor(table.medium)
    bio = torch.as_tensor(table.biomass)
    total0 = c0 @ medium + x0[:, None] * bio + l0
    total1 = c1 @ medium + x1[:, None] * bio + l1
    mass = ((total1 - total0) / (x0[:, None] * bio)) ** 2
    scale = torch.clamp(c0, min=1e-2)
    thermo = (torch.relu(c1 - c0) / scale) ** 2
    thermo = thermo.sum(1) + (torch.relu(x0 - x1) / x0) ** 2
    return mass.sum(1), thermo


def eq11_loss(data, mass=None, thermo=None, lambda_mass=1.0, lambda_thermo=1.0):
    """``L_data + lambda_thermo ||dG_net||^2 + lambda_mass ||dM/dt||^2`` (terms as means)."""
    loss = data
    if thermo is not None:
        loss = loss + lambda_thermo * thermo.mean()
    if mass is not None:
        loss = loss + lambda_mass * mass.mean()
    return loss


def _fit(net, windows, targets, *, unroll, iterations, batch, lr, rng, physics=None,
         lambdas=(1.0, 1.0)):
    """Teacher-forced training over ``unroll``-step windows; returns the final loss terms."""
    n_traj, n_time = targets.shape[:2]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    wins = torch.as_tensor(windows)
    ys = torch.as_tensor(targets)
    terms = {}
    for step in range(iterations):
        traj = rng.integers(0, n_traj, batch)
        start = rng.integers(0, n_time - unroll, batch)
        latent = torch.zeros(batch, net.shape["width"])
        data = mass = thermo = 0.0
        for k in range(unroll):
            hist = wins[traj, start + k]
            latent, y = net(latent, hist)
            target = ys[traj, start + k]
            data = data + (((y - target) / net.output_std) ** 2).mean() / unroll
            if physics is not None:
                feat = hist[:, -1]
                m, th = physics(feat, feat + y)
                mass = mass + m / unroll
                thermo = thermo + th / unroll
        if physics is None:
            loss = eq11_loss(data)
        else:
            loss = eq11_loss(data, mass, thermo, lambda_mass=lambdas[0],
                             lambda_thermo=lambdas[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        terms = {"loss": float(loss.detach()), "data": float(torch.as_tensor(data).detach()),
                 "mass": float(mass.mean().detach()) if physics else 0.0,
                 "thermo": float(thermo.mean().detach()) if physics else 0.0}
    return terms


def _standardise(net, windows, targets):
    flat = windows.reshape(-1, windows.shape[-1])
    net.feature_mean.copy_(torch.as_tensor(flat.mean(0)))
    net.feature_std.copy_(torch.as_tensor(np.maximum(flat.std(0), 1e-6)))
    flat_y = targets.reshape(-1, targets.shape[-1])
    net.output_mean.copy_(torch.as_tensor(flat_y.mean(0)))
    net.output_std.copy_(torch.as_tensor(np.maximum(flat_y.std(0), 1e-6)))


def _controller_data(runs, history):
    wins, ys = [], []
    for ds in runs:
        f = embed(_values(ds, CONTROLLER_INPUTS), CONTROLLER_INPUTS)
        u = np.clip(ds["cell.regulation"].values[:, 0], 1e-9, 1 - 1e-9)
        wins.append(_windows(f, history)[:-1])
        ys.append(np.log(u / (1 - u))[1:, None])
    return np.stack(wins), np.stack(ys)


def _blackbox_data(runs, history):
    wins, ys = [], []
    for ds in runs:
        f = embed(_values(ds, BLACKBOX_INPUTS), BLACKBOX_INPUTS)
        wins.append(_windows(f, history)[:-1])
        ys.append(np.diff(f, axis=0))
    return np.stack(wins), np.stack(ys)


def _evaluate(net, windows, targets):
    """Mean squared standardised one-step error over whole trajectories (latent carried)."""
    with torch.no_grad():
        wins = torch.as_tensor(windows)
        latent = torch.zeros(wins.shape[0], net.shape["width"])
        err = 0.0
        for t in range(wins.shape[1]):
            latent, y = net(latent, wins[:, t])
            err += float((((y - torch.as_tensor(targets[:, t])) / net.output_std) ** 2).mean())
    return err / wins.shape[1]


def _conditions(held_out) -> list:
    """One ``(glucose %, lactose %)`` or a sequence of them, as a list of float tuples."""
    held_out = list(held_out)
    if held_out and not isinstance(held_out[0], (tuple, list)):
        held_out = [held_out]
    return [tuple(map(float, c)) for c in held_out]


def _per_condition(conditions, values) -> dict:
    return {f"{g:g}%/{lac:g}%": float(v) for (g, lac), v in zip(conditions, values)}


def train(out_dir=WEIGHTS_DIR, *, conditions=TRAIN_CONDITIONS, held_out=HELD_OUT,
          time: float = 8.5, seed: int = 0, width: int = 32, heads: int = 2, layers: int = 1,
          history: int = 4, unroll: int = 8, iterations: int = 600, batch: int = 32,
          lr: float = 3e-3, lambda_mass: float = 1.0, lambda_thermo: float = 1.0,
          blackbox: bool = True, runs=None, core=None) -> TrainReport:
    """Fit the controller (and the black box) on glass-box trajectories; write the weights.

    Parameters
    ----------
    out_dir : folder for ``grey_box_controller.pt`` and ``black_box_cell.pt``.
    conditions : (glucose %, lactose %) of the training runs; no ``held_out`` condition may be
        one.
    held_out : one ``(glucose %, lactose %)`` or a sequence of them; each network's
        ``held_out_mse`` is reported per condition (``"glucose%/lactose%"``).
    time : hours simulated per run.
    runs : already simulated glass-box Datasets for ``conditions`` (skips simulation).
    """
    conditions = [tuple(map(float, c)) for c in conditions]
    held_out = _conditions(held_out)
    trained = [c for c in held_out if c in conditions]
    if trained:
        raise ValueError(f"held-out condition(s) {trained} among the training conditions; "
                         "never evaluate on what was trained on: drop them from 'conditions'")
    started = wallclock.perf_counter()
    if runs is None:
        runs = simulate_glass(conditions, time, core=core)
    test_runs = simulate_glass(held_out, time, core=core)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = dict(width=width, heads=heads, layers=layers, history=history)
    meta = {"training": "pre-training on glass-box trajectories (simulated, no measurement); "
                        "the grey box's lac bias is learned from measured lags on top of it "
                        "(greybox train-grey-box-lags)",
            "trained_on": {"glass_box_cell": conditions, "hours": time},
            "held_out": held_out, "seed": seed, "command": COMMAND}
    report = TrainReport(conditions, held_out)
    with _deterministic(), seeded(seed):
        wins, ys = _controller_data(runs, history)
        net = build_controller_network(CONTROLLER_INPUTS, ["lac_induction"], **shape)
        _standardise(net, wins, ys)
        report.controller = _fit(net, wins, ys, unroll=unroll, iterations=iterations,
                                 batch=batch, lr=lr, rng=rng)
        report.controller["held_out_mse"] = _per_condition(
            held_out, [_evaluate(net, *_controller_data([r], history)) for r in test_runs])
        path = out_dir / CONTROLLER_WEIGHTS
        save_weights(path, net, {**meta, "inputs": CONTROLLER_INPUTS,
                                 "outputs": ["lac_induction"]})
        report.files.append(str(path))
        if blackbox:
            wins, ys = _blackbox_data(runs, history)
            bb = LatentTransformer(wins.shape[-1], wins.shape[-1], **shape)
            _standardise(bb, wins, ys)

            def physics(feat, new_feat):
                return _physics_terms(feat, new_feat, BLACKBOX_INPUTS)

            report.blackbox = _fit(bb, wins, ys, unroll=unroll, iterations=iterations,
                                   batch=batch, lr=lr, rng=rng, physics=physics,
                                   lambdas=(lambda_mass, lambda_thermo))
            report.blackbox["held_out_mse"] = _per_condition(
                held_out, [_evaluate(bb, *_blackbox_data([r], history)) for r in test_runs])
            path = out_dir / BLACKBOX_WEIGHTS
            save_weights(path, bb, {**meta, "inputs": BLACKBOX_INPUTS,
                                    "lambda_mass": lambda_mass, "lambda_thermo": lambda_thermo})
            report.files.append(str(path))
    report.wall_s = wallclock.perf_counter() - started
    (out_dir / "training_report.json").write_text(json.dumps(report.__dict__, indent=1,
                                                             default=list))
    return report
