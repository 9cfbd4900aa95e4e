"""Fields: diffusion, reactions and exchange conserve mass exactly and stay non-negative."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from greybox_processes.tissue.fields import diffuse, exchange, parse_reactions, react


def _blob(shape, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.exponential(1.0, size=shape)
    a[a < 0.7] = 0.0  # many empty fields: the hardest case for non-negativity
    return jnp.asarray(a, jnp.float64)


@pytest.mark.parametrize("boundary", ["closed", "periodic"])
@pytest.mark.parametrize("shape", [(2, 7, 5), (1, 4, 5, 3)])
def test_diffusion_conserves_mass_and_stays_non_negative(boundary, shape):
    amount = _blob(shape)
    total = float(jnp.sum(amount))
    dim = len(shape) - 1
    spacing = tuple([1.0] * dim)
    # D dt / h^2 far beyond the explicit stability limit: the flux limiter must act
    for d_dt in (0.05, 3.0):
        a = amount
        step = jax.jit(lambda x: diffuse(x, jnp.full(shape[:1], d_dt, jnp.float64), spacing, 1.0,
                                         boundary)[0])
        for _ in range(50):
            a = step(a)
            assert float(jnp.min(a)) >= 0.0
        assert abs(float(jnp.sum(a)) - total) <= 1e-12 * total
    assert a.dtype == jnp.float64


def test_fixed_boundary_is_a_source_and_the_balance_closes():
    amount = jnp.zeros((1, 6, 6), jnp.float64)
    total_in = jnp.zeros((1,), jnp.float64)
    for _ in range(200):
        amount, b_in = diffuse(amount, jnp.asarray([0.2]), (1.0, 1.0), 1.0, "fixed",
                               jnp.asarray([2.0]))
        total_in = total_in + b_in
    assert float(jnp.sum(amount)) == pytest.approx(float(total_in[0]), rel=1e-12)
    # the interior fills towards the boundary concentration (field volume 1)
    assert float(jnp.min(amount)) > 1.5 and float(jnp.max(amount)) <= 2.0 + 1e-12


def test_point_release_spreads_with_variance_2Dt():
    n, h, dt, d = 161, 1.0, 0.1, 0.5
    amount = jnp.zeros((1, n), jnp.float64).at[0, n // 2].set(1.0)
    step = jax.jit(lambda a: diffuse(a, jnp.asarray([d]), (h,), dt)[0])
    for _ in range(1000):
        amount = step(amount)
    x = (np.arange(n) - n // 2) * h
    var = float(np.sum(np.asarray(amount[0]) * x ** 2))
    assert var == pytest.approx(2 * d * 1000 * dt, rel=1e-9)  # exact for the explicit scheme


def test_reactions_conserve_balanced_mass_and_stay_non_negative():
    chems = ["A", "B", "C"]
    reac, prod, rates = parse_reactions(["A -> B: 0.8", "A + B -> C: 0.05", "C -> 2 A: 0.3",
                                         "2 B -> C: 0.01"], chems)
    amount = jnp.asarray(np.random.default_rng(1).poisson(5.0, (3, 4, 4)), jnp.float64)
    weight = jnp.asarray([1.0, 1.0, 2.0])[:, None, None]  # C counts as A + B
    total = float(jnp.sum(weight * amount))
    key = jax.random.key(0)
    for mode in ("poisson", "deterministic"):
        a = amount
        step = jax.jit(lambda x, k: react(x, jnp.asarray(reac), jnp.asarray(prod),
                                          jnp.asarray(rates), 1.0, 0.5, k, mode))
        for i in range(100):
            a = step(a, jax.random.fold_in(key, i))
            assert float(jnp.min(a)) >= 0.0
        assert float(jnp.sum(weight * a)) == pytest.approx(total, rel=1e-12)


def test_zero_order_source_matches_its_rate_on_average():
    reac, prod, rates = parse_reactions(["-> A: 2.0"], ["A"])
    a = jnp.zeros((1, 50, 50), jnp.float64)
    a = react(a, jnp.asarray(reac), jnp.asarray(prod), jnp.asarray(rates), 1.0, 3.0,
              jax.random.key(3), "poisson")
    assert float(jnp.mean(a)) == pytest.approx(6.0, rel=0.05)
    assert float(jnp.var(a)) == pytest.approx(6.0, rel=0.15)  # Poisson: variance = mean


def test_exchange_conserves_mass_and_never_overdraws():
    rng = np.random.default_rng(2)
    n, fields_shape = 40, (2, 3, 3)
    cells = jnp.asarray(rng.exponential(2.0, (n, 2)), jnp.float64)
    vol = jnp.asarray(rng.uniform(0.5, 1.5, n), jnp.float64)
    fields = jnp.asarray(rng.exponential(1.0, fields_shape), jnp.float64).at[0, 0, 0].set(0.0)
    where = jnp.asarray(rng.integers(0, 9, n), jnp.int32)
    active = jnp.asarray(rng.uniform(size=n) < 0.8)
    total = float(jnp.sum(cells) + jnp.sum(fields))
    for perm in (0.3, 50.0):  # 50: far beyond one step's equilibration
        c, f = cells, fields
        for _ in range(30):
            c, f = exchange(c, vol, active, f, where, jnp.asarray([perm, perm]), 1.0, 1.0)
            assert float(jnp.min(c)) >= 0.0 and float(jnp.min(f)) >= 0.0
        assert float(jnp.sum(c) + jnp.sum(f)) == pytest.approx(total, rel=1e-12)
    # inactive cells do not exchange
    np.testing.assert_array_equal(np.asarray(c)[~np.asarray(active)],
                                  np.asarray(cells)[~np.asarray(active)])


@pytest.mark.parametrize("bad, message", [
    (["A -> Q: 1.0"], "unknown chemical 'Q'"),
    (["A + A + B -> C: 1"], "order 3"),
    (["A -> B"], "must read"),
    (["A -> B: -1"], ">= 0"),
])
def test_bad_reactions_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        parse_reactions(bad, ["A", "B", "C"])
