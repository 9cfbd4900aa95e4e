"""Lattice reaction-diffusion master equation (RDME) in JAX, in the class of Lattice Microbes.

Geometry: :mod:`.geometry` (``box``, ``sphere``, ``capsule``, ``from_masks``,
``add_shell``, ``add_region``); models: :mod:`.model` (``RDMEModel``,
``model_from_dict``); kernel: :mod:`.kernel` (``rdme`` -> init/step,
``check_errors``); well-mixed references: :mod:`.reference`; the process:
:mod:`.process` (``RDME``, ``WellMixedODE``).
"""
from .geometry import Lattice, add_region, add_shell, box, capsule, from_masks, sphere
from .kernel import RDMEKernel, RDMEState, check_errors, max_stable_tau, rdme
from .model import AVOGADRO, RDMEModel, Reaction, Species, model_from_dict

__all__ = ["Lattice", "box", "sphere", "capsule", "from_masks", "add_shell", "add_region",
           "RDMEModel", "Species", "Reaction", "model_from_dict", "AVOGADRO",
           "rdme", "RDMEKernel", "RDMEState", "check_errors", "max_stable_tau"]
