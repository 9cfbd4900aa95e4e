"""Cell-size homeostasis: Taheri-Araghi et al. 2015 mother-machine data and an adder population.

``load_taheri_araghi('glucose')`` reads the bundled single-cell table
(``greybox_processes/data/refdata/cell_size/glucose.txt``: tab separated, CR
line endings; columns FOV_ID, channel_ID, elongation_rate (1/min),
gen_time_min, s_b_um, s_d_um, delta_s). ``adder_parameters`` turns it into
tissue parameters for the adder rule (volume is proportional to length for
rod-shaped cells of constant width, so lengths are used as volumes);
``volume_cv_over_time`` runs a population from synchronised identical cells
and returns the coefficient of variation of volume and of birth volume over
time.

Source: Taheri-Araghi S, Bradde S, Sauls JT, et al. Cell-size control and
homeostasis in bacteria. Curr Biol 25:385 (2015); github
junlabucsd/mother-machine-data @d51c67d9 (BSD-3-Clause).
"""
from __future__ import annotations

import io
import math
from importlib import resources

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["load_taheri_araghi", "adder_parameters", "volume_cv_over_time"]


def load_taheri_araghi(medium: str = "glucose"):
    """The mother-machine table as a pandas DataFrame (column suffix ``_ss`` dropped)."""
    import pandas as pd

    path = resources.files("greybox_processes") / "data" / "refdata" / "cell_size" / f"{medium}.txt"
    if not path.is_file():
        raise ValueError(f"no bundled cell-size data for medium {medium!r} (only 'glucose')")
    raw = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    table = pd.read_csv(io.StringIO(raw), sep="\t")
    table.columns = [c.removesuffix("_ss") for c in table.columns]
    return table


def _cv(x):
    x = np.asarray(x, dtype=np.float64)
    return float(np.std(x) / np.mean(x))


def adder_parameters(table) -> dict:
    """Adder-rule parameters measured in the data (volumes in units of the mean added length).

    Returns ``{'growth_rate', 'growth_rate_sd', 'size_target_sd', 'division_noise',
    'cv_birth', 'cv_division', 'cv_added'}`` (rates per minute; ``size_target`` is 1).
    """
    same = ((table.FOV_ID.values[1:] == table.FOV_ID.values[:-1])
            & (table.channel_ID.values[1:] == table.channel_ID.values[:-1]))
    ratio = table.s_b_um.values[1:][same] / table.s_d_um.values[:-1][same]
    rate = table.elongation_rate.values
    return {
        "growth_rate": float(np.mean(rate)),
        "growth_rate_sd": float(np.std(rate)),
        "size_target_sd": _cv(table.delta_s),
        "division_noise": float(np.std(ratio)),
        "cv_birth": _cv(table.s_b_um),
        "cv_division": _cv(table.s_d_um),
        "cv_added": _cv(table.delta_s),
    }


def volume_cv_over_time(params: dict, *, n_start: int = 64, generations: float = 7.0,
                        dt: float = 0.5, record_every: int = 10, seed: int = 0):
    """CV of volume and of birth volume of a growing adder population over time.

    Starts ``n_start`` synchronised identical cells (volume 1, at birth); no
    mechanics, fields or death. Returns ``(times, cv_volume, cv_birth, n_cells)``.
    """
    from .kernel import TissueParams, advance, make_tissue

    rate = params["growth_rate"]
    t_gen = math.log(2.0) / rate
    n_steps = int(round(generations * t_gen / dt))
    capacity = int(n_start * 2 ** math.ceil(generations + 1))
    p = TissueParams.create(
        n_types=1, dim=2, dt=dt, domain=(1.0, 1.0), size_rule="adder", mechanics=False,
        growth_rate=rate, growth_rate_sd=params["growth_rate_sd"], size_target=1.0,
        size_target_sd=params["size_target_sd"], division_noise=params["division_noise"],
        t_mitosis=0.0, t_mitosis_sd=0.0, birth_volume=1.0, inheritance=0.0,
        max_per_bin=1)
    init_fn, _ = make_tissue(p)
    alive = jnp.arange(capacity) < n_start
    state = init_fn(jax.random.key(seed), jnp.full((capacity, 2), 0.5), jnp.zeros(capacity),
                    alive, synchronized=True)
    n_rec = n_steps // record_every
    state, traj = advance(p, state, n_steps=n_rec * record_every, record_every=record_every)
    live = np.asarray(traj.phase == 1) | np.asarray(traj.phase == 2)
    vol = np.asarray(traj.volume)
    birth = np.asarray(traj.birth_volume)
    cv_v = np.array([_cv(v[m]) for v, m in zip(vol, live)])
    cv_b = np.array([_cv(b[m]) for b, m in zip(birth, live)])
    times = dt * record_every * np.arange(1, n_rec + 1)
    return times, cv_v, cv_b, live.sum(axis=1)
