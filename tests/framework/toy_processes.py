"""Small processes used only by the framework tests (units, failures, readers)."""
from __future__ import annotations

import numpy as np

from greybox_processes.framework.base import GreyboxProcess
from greybox_processes.framework.ports import array_port


class Decay(GreyboxProcess):
    """Exponential decay of a vector store (test process)."""

    config_schema = {"rate": {"_type": "float", "_default": 0.5},
                     "n": {"_type": "integer", "_default": 3},
                     "units": {"_type": "string", "_default": "mM"},
                     "fail_at": {"_type": "float", "_default": -1.0}}

    def initialize(self, config):
        self.time = 0.0

    def inputs(self):
        return {"x": array_port((self.config["n"],), self.config["units"])}

    def outputs(self):
        return {"x": array_port((self.config["n"],), self.config["units"])}

    def initial_state(self):
        return {"x": np.ones(self.config["n"])}

    def update(self, state, interval):
        self.time += interval
        if 0 <= self.config["fail_at"] <= self.time:
            raise FloatingPointError(f"test failure at t={self.time}")
        return {"x": -self.config["rate"] * np.asarray(state["x"]) * interval}


class Reader(GreyboxProcess):
    """Reads a vector and overwrites a store with its sum (test process)."""

    config_schema = {"n": {"_type": "integer", "_default": 3},
                     "units": {"_type": "string", "_default": "mM"}}

    def inputs(self):
        return {"x": array_port((self.config["n"],), self.config["units"])}

    def outputs(self):
        return {"total": "overwrite[float]"}

    def update(self, state, interval):
        return {"total": float(np.sum(state["x"]))}


def register(core):
    for cls in (Decay, Reader):
        core.register_link(cls.__name__, cls)
    return core
