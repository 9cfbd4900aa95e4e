"""The GRN is a separate, swappable process on the Tissue's per-cell stores.

The Inheritance step gives the Tissue's daughters their mother's rows by the declared
rule; swapping the GRN node freezes expression but not mechanics; both engines agree.
"""
import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.grn.population import PopulationGRN
from greybox_processes.tissue import composites as tc
from greybox_processes.tissue.inheritance import Inheritance, birth_rounds

SMALL = {"dim": 2, "cells_per_type": 3, "initial_per_type": 1, "seed": 5}
TIME = 6.0  # long enough for several divisions and deaths among 9 cells (t_interphase 12)


def _step(core, rules, capacity=6):
    return Inheritance({"n_types": 1, "capacity_per_type": capacity, "stores": list(rules),
                        "rules": rules, "seed": 1}, core=core)


def test_daughters_get_their_share_by_rule_and_dead_rows_are_cleared(core):
    step = _step(core, {"conc": "copy", "counts": "binomial", "amount": "split"})
    conc = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [0, 0], [7.0, 8.0], [0, 0]])
    counts = np.array([10.0, 7.0, 0.0, 0.0, 3.0, 0.0])
    amount = np.array([2.0, 4.0, 6.0, 0.0, 8.0, 0.0])
    # slot 3 is the daughter of slot 1 (who kept 0.25 of her volume); slot 4 died
    state = {"conc": conc, "counts": counts, "amount": amount,
             "alive": np.array([1, 1, 1, 1, 0, 0.0]),
             "mother": np.array([-1, -1, -1, 1, -1, -1.0]),
             "division_ratio": np.array([0, 0.25, 0, 0, 0, 0.0])}
    update = step.update(state)
    new = {k: state[k] + update[k] for k in ("conc", "counts", "amount", "mother")}
    np.testing.assert_array_equal(new["conc"][3], conc[1])            # copy
    np.testing.assert_array_equal(new["conc"][1], conc[1])
    assert new["counts"][1] + new["counts"][3] == 7.0                  # binomial: conserved
    assert new["amount"][1] == pytest.approx(1.0) and new["amount"][3] == pytest.approx(3.0)
    assert new["amount"][1] + new["amount"][3] == 4.0                  # split: exact
    assert np.all(new["conc"][4] == 0) and new["counts"][4] == 0       # the dead cell
    np.testing.assert_array_equal(new["conc"][[0, 2]], conc[[0, 2]])   # others untouched
    assert np.all(new["mother"] == -1) and update["inherited"] == 1.0
    # read once: a second call after the same update changes nothing
    again = step.update({**state, **new})
    assert all(np.all(again[k] == 0) for k in ("conc", "counts", "amount"))


def test_a_daughter_who_divided_again_passes_on_the_row_she_got():
    # slot 2 born of 0, then slot 4 born of 2, in one interval; 0 divided twice (slot 5)
    rounds = birth_rounds(np.array([-1, -1, 0, -1, 2, 0]))
    order = [(int(m), int(d)) for mothers, daughters in rounds
             for m, d in zip(mothers, daughters)]
    assert order.index((0, 2)) < order.index((2, 4))
    assert sorted(order) == [(0, 2), (0, 5), (2, 4)]
    assert all(len(set(mothers.tolist())) == len(mothers) for mothers, _ in rounds)


class FrozenGRN(PopulationGRN):
    """The PopulationGRN's ports and initial state, but no expression dynamics (test swap)."""

    def update(self, state, interval):
        return {name: np.zeros_like(np.asarray(state[name])) for name in ("mrna", "protein")}


@pytest.fixture(scope="module")
def full_run(base_core):
    return gb.run(tc.tissue(**SMALL), TIME, engine="pbg", core=base_core, progress=False)


def _born(phase):
    alive = np.isin(phase, (1, 2))
    return alive, alive[1:] & ~alive[:-1]


@pytest.mark.slow
def test_both_engines_give_one_trajectory_through_divisions(full_run, core):
    viv = gb.run(tc.tissue(**SMALL), TIME, engine="vivarium", core=core, progress=False)
    for name in ("cells.position", "cells.phase", "cells.volume", "cells.chem", "cells.mrna",
                 "cells.protein", "cells.local_conc", "fields.amount"):
        np.testing.assert_array_equal(full_run[name].values, viv[name].values, err_msg=name)
    alive, born = _born(full_run["cells.phase"].values)
    assert born.sum() >= 2 and full_run["cells.inherited"].values.sum() == born.sum()
    mrna = full_run["cells.mrna"].values
    for t, d in zip(*np.nonzero(born)):
        # copy rule: the daughter's expression is her mother's, another live cell's row
        others = np.flatnonzero(alive[t + 1] & (np.arange(alive.shape[1]) != d))
        assert np.any(np.all(mrna[t + 1][others] == mrna[t + 1][d], axis=1))
    assert np.all(mrna[~alive] == 0)
    # the Tissue's reports: each mother's volume share (division_noise 0: one half) ...
    ratio = full_run["cells.division_ratio"].values[1:]
    assert set(np.unique(ratio[ratio != 0])) == {0.5}
    assert (ratio != 0).sum() == born.sum()
    # ... and the field concentration each live cell lies in, which the GRN senses
    spacing = 24.0 / 6
    t = -1
    cells = np.flatnonzero(alive[t])
    index = np.clip((full_run["cells.position"].values[t][cells] // spacing).astype(int), 0, 5)
    amount = full_run["fields.amount"].values[t]
    np.testing.assert_allclose(full_run["cells.local_conc"].values[t][cells],
                               amount[:, index[:, 0], index[:, 1]].T / spacing ** 2, rtol=1e-12)


@pytest.mark.slow
def test_swapping_the_grn_freezes_expression_but_not_the_mechanics(full_run, core):
    core.register_link("FrozenGRN", FrozenGRN)
    doc = tc.tissue(**SMALL)
    doc["state"]["grn"]["address"] = "local:FrozenGRN"
    frozen = gb.run(doc, TIME, engine="pbg", core=core, progress=False)
    # mechanics and cycle do not depend on the GRN: the same cells move and divide alike
    for name in ("cells.position", "cells.phase", "cells.volume"):
        np.testing.assert_array_equal(frozen[name].values, full_run[name].values, err_msg=name)
    alive, born = _born(frozen["cells.phase"].values)
    kept = alive[1:] & alive[:-1] & ~born
    for run, moves in ((full_run, True), (frozen, False)):
        mrna = run["cells.mrna"].values
        change = np.abs(mrna[1:] - mrna[:-1]).sum(axis=2)[kept]
        assert np.all(change > 0) if moves else np.all(change == 0)
    # a daughter still gets her mother's (frozen) expression, and the secreted protein of
    # gene 0 still leaves the cells by exchange
    assert np.all(frozen["cells.mrna"].values[1:][born].sum(axis=1) > 0)
    protein = frozen["cells.protein"].values
    assert np.any(protein[1:, :, 0][kept] != protein[:-1, :, 0][kept])
    assert frozen["fields.amount"].values[-1, 0].sum() > 0
