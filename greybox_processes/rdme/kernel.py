"""The RDME kernel's front door: :func:`rdme` builds a kernel in the form that suits the model.

The lattice reaction-diffusion master equation is simulated by an operator
splitting of its generator ``L = D + R`` (diffusion sweeps and an exact per-site
SSA; see :mod:`.lattice_form` for the scheme and its errors). Two forms run the
same Markov chain:

* :mod:`.lattice_form` -- integer counts per site (cost per site and species; the
  GPU layout for crowded lattices);
* :mod:`.particles` -- one slot per particle (cost per particle; dilute lattices).

What they share lives in :mod:`.core` (state, step plan, kernel record, stability
and storage checks, errors), :mod:`.ssa` (the exact reaction substep) and
:mod:`.binomial` (the lattice form's exact binomial draws). This module only
chooses and builds; its other names are re-exported so that
``from greybox_processes.rdme.kernel import ...`` keeps working.
"""
from __future__ import annotations

from .core import (COUNT_DTYPES, ERROR_CAPACITY, ERROR_NEGATIVE, ERROR_OVERFLOW, SPLITTINGS,
                   RDMEKernel, RDMEState, StepPlan, check_errors, check_stability,
                   check_tau_and_splitting, choose_count_dtype, count_regions, hop_probabilities,
                   max_stable_tau, raw_key, record_plan, replica_counts)
from .geometry import Lattice
from .lattice_form import rdme_lattice
from .model import CompiledModel, RDMEModel
from .particles import rdme_particles, supports_particles
from .ssa import react_sites

__all__ = ["RDMEState", "RDMEKernel", "rdme", "check_errors", "hop_probabilities",
           "max_stable_tau", "choose_count_dtype", "ERROR_OVERFLOW", "ERROR_NEGATIVE",
           "SPLITTINGS", "COUNT_DTYPES", "METHODS", "ERROR_CAPACITY",
           # re-exported from .core and .ssa (their home) for existing imports
           "StepPlan", "check_stability", "react_sites", "count_regions", "raw_key",
           "record_plan", "replica_counts"]

METHODS = ("auto", "lattice", "particles")
_DILUTE = 0.125   # 'auto' takes the particle form below this many particles per site-species


def rdme(model: RDMEModel | CompiledModel, lattice: Lattice, *, tau: float,
         splitting: str = "strang", count_dtype: str = "auto", initial_max: int | None = None,
         float_dtype=None, diffusion_substeps: int = 1, method: str = "auto",
         initial_particles: int | None = None, capacity: int | None = None):
    """Build the RDME kernel for ``model`` on ``lattice``.

    Two forms of the same Markov chain (same splitting, same per-site SSA, same
    hop law; their trajectories differ only through the random draws):
    ``method='lattice'`` stores counts per site (:mod:`.lattice_form`; cost per site and
    species, the GPU layout for crowded lattices), ``method='particles'`` stores the
    particles (:mod:`.particles`; cost per particle, for dilute lattices; no
    zero-order reactions). ``'auto'`` (default) takes the particle form when the
    model allows it, ``count_dtype`` and ``diffusion_substeps`` are left at their
    defaults, and the initial state has fewer than one particle per 8 site-species
    (``initial_particles`` per replica; counted from an ``RDMEModel``'s initial counts).

    Parameters
    ----------
    model : RDMEModel (validated and compiled here) or an already compiled model
    lattice : Lattice
    tau : time step in seconds; checked against stability (raises ``ValueError``)
    splitting : 'strang' (default) or 'lie'
    count_dtype : 'auto', 'uint8', 'uint16' or 'int32' (storage of the counts)
    initial_max : largest initial site count, for 'auto' (default: from the model's
        initial counts spread uniformly, i.e. a few per site)
    float_dtype : dtype of probabilities and propensities (default float64 when
        ``jax_enable_x64`` is on, else float32)
    diffusion_substeps : each diffusion substep is made of this many lattice sweeps of
        ``1/diffusion_substeps`` its length (reactions keep the step ``tau``); the
        sweep's own time-discretisation error shrinks with it

    initial_particles : particles per replica, for 'auto' with a compiled model
    capacity : particle slots per replica ('particles' only; default twice the initial
        number, at least 1024)

    Returns
    -------
    RDMEKernel (``method`` says which form; ``bytes_per_voxel_step`` is the lattice form's) with
        ``init(key, counts=None, n_replicas=1, seed=0) -> RDMEState``;
        ``step(state, n_steps, record_every=0, snapshots=False)`` -> RDMEState, or with
        ``record_every`` ``(state, region_counts (T, R, G, S), lattice (T, R, S, *shape) or
        None)`` recorded after every ``record_every`` steps (one compilation per plan and
        number of records; the step count itself is traced);
        ``region_counts(counts) -> (R, G, S)`` int64.
    """
    check_tau_and_splitting(tau, splitting)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    compiled = model.compile(lattice) if isinstance(model, RDMEModel) else model
    if method == "auto":
        method = _auto_method(model, compiled, lattice, count_dtype, diffusion_substeps,
                              initial_particles)
    if method == "particles":
        if count_dtype != "auto" or int(diffusion_substeps) != 1:
            raise ValueError("method='particles' has no count_dtype (no per-site storage) and "
                             "no diffusion_substeps; leave them at their defaults or use "
                             "method='lattice'")
        return rdme_particles(model if isinstance(model, RDMEModel) else compiled, lattice,
                              tau=tau, splitting=splitting, capacity=capacity,
                              float_dtype=float_dtype)
    # the model itself (not only its compiled form) lets the lattice form probe the
    # initial counts for the storage type when initial_max is not given
    return rdme_lattice(model if isinstance(model, RDMEModel) else compiled, lattice, tau=tau,
                        splitting=splitting, count_dtype=count_dtype, initial_max=initial_max,
                        float_dtype=float_dtype, diffusion_substeps=diffusion_substeps)


def _auto_method(model, compiled, lattice, count_dtype, diffusion_substeps, initial_particles):
    """'particles' for a dilute start the particle form can run with these arguments."""
    if supports_particles(compiled) or count_dtype != "auto" or int(diffusion_substeps) != 1:
        return "lattice"
    if initial_particles is None:
        if not isinstance(model, RDMEModel):
            return "lattice"
        probe = model.initial_counts(lattice, 1, seed=0)
        initial_particles = int(probe.sum())
    dilute = initial_particles < _DILUTE * lattice.n_sites * max(compiled.n_species, 1)
    return "particles" if dilute else "lattice"
