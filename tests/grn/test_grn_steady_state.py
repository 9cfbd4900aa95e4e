"""Steady state against the peer implementation sergio-scSim 1.9.3, in the same run."""
import numpy as np
import pytest

from greybox_processes.grn import GRNNetwork, half_responses, read_sergio, steady_state


@pytest.mark.peer
@pytest.mark.parametrize("name", ["DS1", "DS2", "DS3"])
def test_steady_state_matches_sergio_scsim(name):
    from greybox_processes.grn.peer import sergio_steady_state  # needs SERGIO: fails if absent

    net = read_sergio(name)
    ours = steady_state(net, decay=0.8)
    theirs = sergio_steady_state(net, decay=0.8)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)


@pytest.mark.peer
def test_steady_state_matches_sergio_per_gene_decay():
    from greybox_processes.grn.peer import sergio_steady_state

    net = read_sergio("DS1")
    decay = np.linspace(0.5, 1.5, net.n_genes)
    np.testing.assert_allclose(steady_state(net, decay), sergio_steady_state(net, decay),
                               rtol=1e-6)


def test_steady_state_is_a_fixed_point():
    """Production at the steady state balances decay exactly (eq. 1-3 of NEXUS)."""
    import jax.numpy as jnp
    from greybox_processes.grn.kernel import GRNParams, production

    net = read_sergio("DS2")
    for method in ("dense", "sparse"):
        p = GRNParams.from_network(net, np.arange(net.n_cell_types), method=method,
                                   dtype=jnp.float64)
        prod = np.asarray(production(p, p.steady_mrna))
        np.testing.assert_allclose(prod, 0.8 * steady_state(net), rtol=1e-12, atol=1e-12)


def test_half_response_is_mean_regulator_steady_state():
    net = read_sergio("DS1")
    ss = steady_state(net)
    np.testing.assert_allclose(half_responses(net), ss.mean(axis=0)[net.edge_regulator])


def test_hand_computed_two_gene_network():
    # MR 0 activates 1 (K=3, n=2); 1 represses 2 (K=-2, n=1); two cell types.
    net = GRNNetwork.from_arrays([[1.0, 0, 0], [3.0, 0, 0]], [1, 2], [0, 1], [3.0, -2.0],
                                 [2.0, 1.0])
    lam = 0.5
    x0 = np.array([2.0, 6.0])
    h0 = x0.mean()
    x1 = 3.0 * x0**2 / (h0**2 + x0**2) / lam
    h1 = x1.mean()
    x2 = 2.0 * (1 - x1 / (h1 + x1)) / lam
    np.testing.assert_allclose(steady_state(net, lam), np.c_[x0, x1, x2], rtol=1e-14)
    with pytest.raises(ValueError):
        steady_state(net, decay=0.0)
