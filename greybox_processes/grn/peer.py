"""Bridge to the peer simulator sergio-scSim (SERGIO v2), for tests and benchmarks.

sergio-scSim is a *test* dependency only; it is imported lazily here.

Why not ``SERGIO.GRN.grn_from_v1``: in sergio-scSim 1.9.3 it rebinds its
``tar`` variable to a ``Gene`` object inside the loop over regulators, so every
target with more than one regulator gets phantom genes named after a ``Gene``
object, and the steady state is wrong. We therefore feed the network through
SERGIO's object API (``GRN``, ``Gene``, ``SingleInteraction``, ``mrProfile``),
which is the same path ``grn_from_v1`` takes, minus that bug; its master
regulator file reader (``mrProfile.build_from_file``) is not used either because
it treats the first row of a v1 file as a header.
"""
from __future__ import annotations

import numpy as np

from greybox_processes.grn.kernel import DEFAULT_Q
from greybox_processes.grn.network import GRNNetwork
from greybox_processes.grn.steady_state import as_decay_vector

__all__ = ["to_sergio_grn", "sergio_steady_state", "sergio_simulate"]


def _name(net: GRNNetwork, i: int) -> str:
    return str(int(net.gene_ids[i]))


def to_sergio_grn(net: GRNNetwork, decay=0.8):
    """Build and initialise a sergio-scSim ``GRN`` equal to ``net``.

    Returns
    -------
    SERGIO.GRN.GRN, already ``init``-ed (steady state and half responses set).
    """
    from SERGIO.GRN import GRN, Gene, SingleInteraction
    from SERGIO.MR import mrProfile

    lam = as_decay_vector(decay, net.n_genes)
    grn = GRN()
    for t, r, k, n in zip(net.edge_target, net.edge_regulator, net.edge_k, net.edge_hill):
        reg = Gene(name=_name(net, r), decay=float(lam[r]))
        tar = Gene(name=_name(net, t), decay=float(lam[t]))
        grn.add_interaction(SingleInteraction(reg=[reg], tar=tar, k=float(k), h=None,
                                              n=float(n)))
    grn.setMRs()
    mr_names = [_name(net, i) for i in net.master_regulators]
    prof = mrProfile(MR_names=mr_names, n_types=net.n_cell_types)
    for i, name in zip(net.master_regulators, mr_names):
        prof.profile[name] = np.array(net.basal[:, i], dtype=np.float64)
    prof.init_ = True
    grn.init(prof, update_half_resp=True)
    return grn


def sergio_steady_state(net: GRNNetwork, decay=0.8) -> np.ndarray:
    """sergio-scSim's steady state, as an ``(n_cell_types, n_genes)`` array."""
    grn = to_sergio_grn(net, decay)
    out = np.zeros((net.n_cell_types, net.n_genes))
    for i in range(net.n_genes):
        out[:, i] = grn.attr_["genes"][_name(net, i)].ss_conc_
    return out


def sergio_simulate(net: GRNNetwork, cells_per_type, *, decay=0.8, q=DEFAULT_Q, dt=0.01,
                    seed=0) -> np.ndarray:
    """Run sergio-scSim's own simulation; returns ``(n_cells, n_genes)`` (cells by type)."""
    from SERGIO import sergio

    # sergio-scSim draws from numpy's global RNG: seed it for this call only and
    # give the caller's global state back afterwards
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        sim = sergio(to_sergio_grn(net, decay))
        sim.simulate(nCells=cells_per_type, noise_s=q, dt=dt)
        expr = sim.getSimExpr()
    finally:
        np.random.set_state(saved)
    expr = expr.loc[[_name(net, i) for i in range(net.n_genes)]]
    return expr.to_numpy().T
