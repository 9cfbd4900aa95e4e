"""Bad input to the networks: a clear error naming what to change; NaN never enters a store."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from greybox_processes.errors import SimulationError
from greybox_processes.neural import DataOnlyCell, NeuralLatentController
from greybox_processes.neural.networks import WEIGHTS_DIR, load_weights


def test_weights_that_do_not_fit_name_the_shape(core):
    with pytest.raises(ValueError, match="width/heads/layers/history"):
        NeuralLatentController({"weights": "grey_box_controller.pt", "width": 16}, core=core)


def test_unknown_store_and_output(core):
    with pytest.raises(ValueError, match="does not know store.*'ribosomes'"):
        NeuralLatentController({"inputs": ["lac", "ribosomes"]}, core=core)
    with pytest.raises(ValueError, match=r"regulation output.*'ptsG_rate'.*"
                                         r"\['lac_induction', 'synthesis_allocation', "
                                         r"'uptake_control'\]"):
        NeuralLatentController({"outputs": ["ptsG_rate"]}, core=core)
    with pytest.raises(ValueError, match="multiple of heads"):
        NeuralLatentController({"width": 30, "heads": 4}, core=core)
    with pytest.raises(ValueError, match="not found"):
        DataOnlyCell({"weights": "no_such.pt"}, core=core)


def test_nan_from_the_network_raises_and_writes_nothing(core, tmp_path):
    header, state = load_weights(WEIGHTS_DIR / "grey_box_controller.pt")
    state = {k: v.clone() for k, v in state.items()}
    state["decode.bias"][:] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save({"greybox": header, "state_dict": state}, path)
    ctrl = NeuralLatentController({"weights": str(path)}, core=core)
    st = {"concentrations": np.array([0.2, 0.5]), "growth_rate": 0.5,
          "lac": np.full(8, 1e-4), "latent": np.zeros(32), "history": np.zeros((4, 11)),
          "regulation": np.array([1e-4])}
    with pytest.raises(SimulationError, match="non-finite.*weights"):
        ctrl.update(st, 1 / 60)
    st["lac"] = np.full(8, np.nan)
    good = NeuralLatentController({"weights": "grey_box_controller.pt"}, core=core)
    with pytest.raises(SimulationError, match="input stores"):
        good.update(st, 1 / 60)


def test_random_weights_leave_global_rng_alone(core):
    before = torch.random.get_rng_state().clone()
    a = NeuralLatentController({"seed": 3}, core=core)
    b = NeuralLatentController({"seed": 3}, core=core)
    assert torch.equal(torch.random.get_rng_state(), before)
    for (k, v), (_, w) in zip(a.net.state_dict().items(), b.net.state_dict().items()):
        assert torch.equal(v, w), k
