"""Pure diffusion: the exact lattice-walk law per axis, MSD = 2 d D t, exact conservation,
periodic and reflecting boundaries, 2D and 3D."""
import numpy as np
import pytest
from scipy import stats

import greybox_processes.rdme as rd

D = 1e-12


def walk_matrix(n, p, periodic):
    """One axis sweep's transition matrix (row: from, column: to)."""
    w = np.zeros((n, n))
    for i in range(n):
        for j, ok in ((i - 1, i > 0 or periodic), (i + 1, i < n - 1 or periodic)):
            if ok:
                w[i, j % n] += p
        w[i, i] += 1 - w[i].sum()
    return w


def pooled_chisquare(observed, expected):
    """Chi-square of pooled counts against expected ones, merging bins below 5."""
    order = np.argsort(expected)
    obs, exp = [], []
    acc_o = acc_e = 0.0
    for i in order:
        acc_o += observed[i]
        acc_e += expected[i]
        if acc_e >= 5:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e:
        obs[-1] += acc_o
        exp[-1] += acc_e
    return stats.chisquare(obs, exp).pvalue


def run_walk(shape, periodic, start, n_particles, n_steps, n_replicas, seed, method="lattice"):
    h = 1e-7
    lattice = rd.box(shape, h, periodic=periodic)
    model = rd.RDMEModel().add_species("A", D)
    p = 0.25
    tau = p * h * h / D
    kernel = rd.rdme(model, lattice, tau=tau, splitting="lie", method=method,
                     count_dtype="uint16" if method == "lattice" else "auto")
    counts = np.zeros((n_replicas, 1) + tuple(shape), np.int64)
    counts[(slice(None), 0) + tuple(start)] = n_particles
    state = kernel.init(seed, counts)
    state, records, _ = kernel.step(state, n_steps, record_every=1)
    rd.check_errors(state)
    # exact conservation after every step, in every replica
    assert np.all(np.asarray(records)[..., 0] == n_particles)
    return np.asarray(state.counts)[:, 0].astype(np.int64), p, tau


@pytest.mark.parametrize("shape,periodic,start", [
    ((9, 7, 6), True, (0, 6, 3)),          # periodic, starting at a face: walks wrap
    ((7, 5, 4), False, (0, 0, 3)),         # reflecting box, from a corner
    ((11, 6), (True, False), (5, 0)),      # 2D, mixed boundaries
])
@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_per_axis_displacement_law(shape, periodic, start, method):
    n_particles, n_steps = 3000, 12
    final, p, _ = run_walk(shape, periodic, start, n_particles, n_steps, 4, seed=11,
                           method=method)
    flags = (periodic,) * len(shape) if isinstance(periodic, bool) else periodic
    for axis, n in enumerate(shape):
        law = np.linalg.matrix_power(walk_matrix(n, p, flags[axis]), n_steps)[start[axis]]
        others = tuple(a + 1 for a in range(len(shape)) if a != axis)
        observed = final.sum(axis=others).sum(axis=0)          # pooled over replicas
        expected = law * n_particles * final.shape[0]
        assert pooled_chisquare(observed, expected) > 1e-3, (axis, observed, expected)


@pytest.mark.parametrize("method", ["lattice", "particles"])
def test_mean_squared_displacement_is_6Dt(method):
    shape, start = (25, 25, 25), (12, 12, 12)
    n_particles, n_steps = 1500, 20
    final, p, tau = run_walk(shape, True, start, n_particles, n_steps, 4, seed=5, method=method)
    h = 1e-7
    # minimal-image displacements (a wrap is ~4 standard deviations away)
    grids = np.meshgrid(*[((np.arange(n) - s + n // 2) % n - n // 2) * h
                          for n, s in zip(shape, start)], indexing="ij")
    r2 = sum(g * g for g in grids)
    per_particle = np.repeat(r2.ravel(), final.sum(axis=0).ravel())
    msd = per_particle.mean()
    t = n_steps * tau
    se = per_particle.std() / np.sqrt(per_particle.size)
    assert abs(msd - 6 * D * t) < 4 * se
    assert abs(msd / (6 * D * t) - 1) < 0.05
