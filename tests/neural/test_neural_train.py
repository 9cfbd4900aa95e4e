"""Training: seeded and reproducible, never evaluated on a training condition, Eq. 11 terms."""
from __future__ import annotations

import torch
import pytest

from greybox_processes.neural.train import simulate_glass, train


@pytest.fixture(scope="module")
def short_runs(base_core):
    return simulate_glass([(0.003, 0.02), (0.008, 0.02)], 0.4, core=base_core)


def test_training_is_reproducible_and_leaves_rng_alone(short_runs, tmp_path, base_core):
    before = torch.random.get_rng_state().clone()
    kwargs = dict(conditions=[(0.003, 0.02), (0.008, 0.02)], held_out=(0.005, 0.02), time=0.4,
                  iterations=3, unroll=2, batch=4, width=8, heads=2, runs=short_runs,
                  core=base_core)
    a = train(tmp_path / "a", **kwargs)
    b = train(tmp_path / "b", **kwargs)
    assert torch.equal(torch.random.get_rng_state(), before)
    for name in ("grey_box_controller.pt", "black_box_cell.pt"):
        sa = torch.load(tmp_path / "a" / name, weights_only=True)["state_dict"]
        sb = torch.load(tmp_path / "b" / name, weights_only=True)["state_dict"]
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.controller == b.controller and a.blackbox["mass"] >= 0
    assert a.controller["mass"] == 0.0 and a.controller["thermo"] == 0.0


def test_held_out_condition_must_not_be_trained_on(tmp_path):
    with pytest.raises(ValueError, match="never evaluate on what was trained on"):
        train(tmp_path, conditions=[(0.005, 0.02)], held_out=(0.005, 0.02))
