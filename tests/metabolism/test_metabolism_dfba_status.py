"""DynamicFBA: the over-uptake path is an error, and infeasible growth under status is logged."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from greybox_processes.errors import GreyboxError
from greybox_processes.metabolism import DynamicFBA
from greybox_processes.metabolism.errors import UptakeLimitError


def _process(core, **config):
    base = {"model": "textbook", "exchanges": ["EX_glc__D_e"],
            "initial_concentrations": {"EX_glc__D_e": 5.0}, "initial_biomass": 0.05}
    base.update(config)
    return DynamicFBA(base, core=core)


def test_uptake_that_ignores_the_bound_raises_instead_of_clipping(metabolism_core):
    proc = _process(metabolism_core)
    # a _solve that ignores the tightened bounds forces all four re-solves to over-take
    proc._solve = lambda *a, **k: (0.5, np.array([-1000.0]), 1.0, "optimal")
    state = proc.initial_state()
    with pytest.raises(UptakeLimitError, match="4 LP re-solves") as info:
        proc.update(state, 0.25)
    assert isinstance(info.value, GreyboxError)


def test_infeasible_status_warns_once(metabolism_core, caplog):
    proc = _process(metabolism_core, initial_concentrations={"EX_glc__D_e": 0.0},
                    on_infeasible="status")
    state = proc.initial_state()
    with caplog.at_level(logging.WARNING, logger="greybox_processes.metabolism.dfba"):
        for _ in range(3):
            proc.update(state, 0.25)
    msgs = [r.getMessage() for r in caplog.records if "infeasible" in r.getMessage()]
    assert len(msgs) == 1, msgs
    assert "DynamicFBA" in msgs[0] and "Fix:" in msgs[0]
