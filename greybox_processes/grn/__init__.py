"""Glass-box gene regulatory network: SERGIO's SDE with protein (NEXUS eqs. 1-5).

Public API
----------
read_sergio, GRNNetwork, dataset_path, read_trn (E. coli's TRN)
EcoliExpression, steady_expression, reference_expression, regulator_names (E. coli's
    transcriptome on its TRN, calibrated to PRECISE's M9-glucose wild type)
steady_state, half_responses, network_steady_state (cyclic too), perturbed_steady_state
simulate (-> AnnData, with knockouts/knockdowns), simulate_differentiation
TechnicalNoise
Kernel (for process wrappers): greybox_processes.grn.kernel
    GRNParams, GRNState, grn_sde, check_errors
"""
from greybox_processes.grn.datasets import (available_datasets, dataset_path,
                                            read_bifurcation_matrix)
from greybox_processes.grn.differentiation import simulate_differentiation
from greybox_processes.grn.ecoli_expression import (EcoliExpression, reference_expression,
                                                     regulator_names, steady_expression)
from greybox_processes.grn.ecoli_trn import read_trn
from greybox_processes.grn.kernel import GRNParams, GRNState, check_errors, grn_sde
from greybox_processes.grn.network import GRNNetwork, read_sergio
from greybox_processes.grn.simulate import (network_steady_state, perturbed_steady_state,
                                            simulate)
from greybox_processes.grn.steady_state import half_responses, steady_state
from greybox_processes.grn.technical_noise import TechnicalNoise

__all__ = [
    "GRNNetwork", "read_sergio", "dataset_path", "available_datasets",
    "read_bifurcation_matrix", "steady_state", "half_responses", "simulate",
    "TechnicalNoise", "GRNParams", "GRNState", "grn_sde", "check_errors",
    "simulate_differentiation", "read_trn", "network_steady_state", "perturbed_steady_state",
    "EcoliExpression", "reference_expression", "regulator_names", "steady_expression",
]
