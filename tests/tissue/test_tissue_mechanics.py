"""Cell mechanics: force balance, neighbour grid = all pairs, dead cells feel and exert no force."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from greybox_processes.errors import SimulationError
from greybox_processes.tissue import cycle as cyc
from greybox_processes.tissue.forces import bin_layout, pair_forces
from greybox_processes.tissue.kernel import TissueParams, advance, check_errors, make_tissue


def _params(dim, **kw):
    base = dict(n_types=1, dim=dim, dt=0.02, domain=(12.0,) * dim, cycle=False,
                random_force=0.0, attraction=0.5, repulsion=2.0, drift=0.5)
    base.update(kw)
    return TissueParams.create(**base)


@pytest.mark.parametrize("dim", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_a_pair_settles_at_the_force_balance_distance(dim):
    k_a, k_r = 0.1, 2.0
    p = _params(dim, attraction=k_a, repulsion=k_r)
    init_fn, step_fn = make_tissue(p)
    c = 6.0
    pos = jnp.asarray([[c - 0.8] + [c] * (dim - 1), [c + 0.8] + [c] * (dim - 1)], jnp.float64)
    s = init_fn(jax.random.key(0), pos, jnp.zeros(2, jnp.int32), synchronized=True)
    s = step_fn(s, 3000)
    check_errors(s)
    d = float(jnp.linalg.norm(s.position[0] - s.position[1]))
    m, r = float(s.mass[0]), float(s.radius[0])

    def net(x):  # repulsion - attraction along the line of centres
        return k_r * 2.0 * (2 * m) * max(2 * r - x, 0.0) / (2 * r) - k_a * m * m / x ** 2

    expected = brentq(net, 0.5 * r, 2 * r)
    assert d == pytest.approx(expected, rel=1e-6)
    assert expected < 2 * r  # attraction pulls them into a small overlap
    # and the pair is at rest
    assert float(jnp.max(jnp.abs(s.force))) < 1e-8


def _brute_force(pos, rad, mass, k_a, k_r, cutoff):
    n = len(pos)
    f = np.zeros_like(pos)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            r = pos[i] - pos[j]
            d = np.linalg.norm(r)
            if d >= cutoff or d == 0:
                continue
            s = rad[i] + rad[j]
            rep = k_r * 2 * (mass[i] + mass[j]) * max(s - d, 0.0) / s
            att = k_a * mass[i] * mass[j] / max(d, 0.1 * s) ** 2
            f[i] += (rep - att) * r / d
    return f


@pytest.mark.parametrize("dim", [2, 3])
def test_neighbour_grid_gives_the_all_pairs_forces(dim):
    rng = np.random.default_rng(dim)
    n, box, cutoff = 150, 10.0, 2.0
    pos = rng.uniform(0, box, (n, dim))
    rad = rng.uniform(0.4, 0.7, n)
    mass = rng.uniform(0.5, 1.5, n)
    shape, size = bin_layout((box,) * dim, cutoff)
    f, overflow = pair_forces(jnp.asarray(pos), jnp.asarray(rad), jnp.asarray(mass),
                              jnp.zeros(n, jnp.int32), jnp.ones(n, bool), jnp.asarray([0.3]),
                              jnp.asarray([2.0]), cutoff=cutoff, bin_size=size, bins_shape=shape,
                              max_per_bin=32)
    assert not bool(overflow)
    np.testing.assert_allclose(np.asarray(f), _brute_force(pos, rad, mass, 0.3, 2.0, cutoff),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dead_phase", [cyc.APOPTOTIC, cyc.NECROTIC])
def test_dying_and_dead_cells_leave_the_force_computation(dead_phase):
    p = _params(3)
    init_fn, step_fn = make_tissue(p)
    pos = jnp.asarray([[5.5, 6.0, 6.0], [6.3, 6.0, 6.0]], jnp.float64)  # overlapping
    s = init_fn(jax.random.key(0), pos, jnp.zeros(2, jnp.int32), synchronized=True)
    moved = step_fn(s, 5)
    assert float(jnp.abs(moved.position[0, 0] - 5.5)) > 1e-3  # a live pair pushes apart
    s = dataclasses.replace(s, phase=s.phase.at[1].set(dead_phase))
    after = step_fn(s, 5)
    np.testing.assert_array_equal(np.asarray(after.position), np.asarray(pos))
    np.testing.assert_array_equal(np.asarray(after.force), 0.0)


def test_death_by_rates_removes_cells_from_forces():
    """With certain necrosis every cell dies in the first step; nothing moves afterwards."""
    p = _params(2, cycle=True, necrosis_rate=1e6, random_force=1.0)
    init_fn, _ = make_tissue(p)
    pos = jnp.asarray(np.random.default_rng(0).uniform(4, 8, (20, 2)))
    s = advance(p, init_fn(jax.random.key(1), pos, jnp.zeros(20, jnp.int32)), n_steps=1)
    assert np.all(np.asarray(s.phase) == cyc.NECROTIC)
    assert np.all(np.asarray(s.volume) == 0.0) and np.all(np.asarray(s.radius) == 0.0)
    later = advance(p, s, n_steps=10)
    np.testing.assert_array_equal(np.asarray(later.position), np.asarray(s.position))


def test_a_crowded_bin_is_an_error_not_a_silent_miss():
    p = _params(2, max_per_bin=2)
    init_fn, step_fn = make_tissue(p)
    pos = jnp.asarray(5.0 + 0.05 * np.random.default_rng(0).normal(size=(6, 2)))  # one bin
    s = step_fn(init_fn(jax.random.key(0), pos, jnp.zeros(6, jnp.int32)), 1)
    with pytest.raises(SimulationError, match="max_per_bin"):
        check_errors(s)
