"""Glass-box gene regulatory network: SERGIO's SDE with protein (NEXUS eqs. 1-5).

Public API
----------
read_sergio, GRNNetwork, dataset_path
steady_state, half_responses
simulate (-> AnnData), simulate_differentiation
TechnicalNoise
Kernel (for process wrappers): greybox_processes.grn.kernel
    GRNParams, GRNState, grn_sde, check_errors
"""
from greybox_processes.grn.datasets import (available_datasets, dataset_path,
                                            read_bifurcation_matrix)
from greybox_processes.grn.differentiation import simulate_differentiation
from greybox_processes.grn.kernel import GRNParams, GRNState, check_errors, grn_sde
from greybox_processes.grn.network import GRNNetwork, read_sergio
from greybox_processes.grn.simulate import simulate
from greybox_processes.grn.steady_state import half_responses, steady_state
from greybox_processes.grn.technical_noise import TechnicalNoise

__all__ = [
    "GRNNetwork", "read_sergio", "dataset_path", "available_datasets",
    "read_bifurcation_matrix", "steady_state", "half_responses", "simulate",
    "TechnicalNoise", "GRNParams", "GRNState", "grn_sde", "check_errors",
    "simulate_differentiation",
]
