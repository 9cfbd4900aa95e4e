"""Per-species count scales of the stochastic lac operon: how many molecules one YM unit is.

Why
---
Yildirim & Mackey's (YM) model is an ODE in concentrations (mM). The kernel turns it into
molecule counts, ``n_X = s_X c_X Omega`` with ``Omega = N_A V`` (molecules per mM,
:func:`~.kernel.molecules_per_mM`). With ``counts: ym`` every ``s_X`` is 1: YM's
concentrations *are* the molecules, which gives an induced 1 fL cell ~1.4e3 lac mRNA,
~1e3 LacZ and ~2e4 LacY, and makes 0.04 LacZ and 24 LacY per transcript. Measured single
cells disagree with those per-transcript yields by orders of magnitude (below), and a single
factor cannot fix both proteins. So each species gets its own ``s_X`` (``counts:
single_molecule``); only the noise changes, the mean field in concentrations stays YM's.

How the rates change (exactly YM in concentrations)
----------------------------------------------------
``c_X = n_X / (s_X Omega)`` wherever a rate reads X, and a reaction making X counts events
of one molecule of X, so its propensity is YM's rate (mM/min) times ``s_X Omega``:

* transcription (mRNA units): ``gamma_0 s_M Omega``, ``alpha_M f s_M Omega``;
* translation of LacZ / LacY per mRNA: ``alpha_B s_B/s_M``, ``alpha_P s_P/s_M`` (per mRNA
  count);
* lactose import and efflux per LacY: ``alpha_L / s_P``, ``beta_L1 / s_P``; allolactose
  synthesis and cleavage per LacZ: ``alpha_A / s_B``, ``beta_A / s_B``;
* decays and delays (first order in the species itself) are unchanged; the nascent species
  carry their product's scale (``mrna_nascent`` s_M, ``lacZ_nascent`` s_B, ``lacY_nascent``
  s_P); lactose and allolactose are small molecules, counted literally (scale 1).

Then the drift of ``n_X/(s_X Omega)`` is YM's right-hand side for every X (tested against
``lac_rhs``), and the law of the counts is a different chemical master equation: fewer
mRNA with more protein each.

The single-molecule scales (from absolute copy numbers, nothing fitted to lags)
-------------------------------------------------------------------------------
Three numbers fix ``s_M, s_B, s_P``:

* **LacZ per fully induced cell**: ~75,000 beta-galactosidase subunits, i.e. ~18,750
  tetramers (:data:`LACZ_TETRAMERS_PER_INDUCED_CELL`), Fox, Carter & Kennedy 1967 (PNAS
  57:698, p. 704; BioNumbers 112551), from beta-galactosidase being ~5% of the protein of
  the constitutive strain ML308 and 1 mg protein per 3e9 cells. An estimate, good to an
  order of magnitude; the cell volume is not given, taken as :data:`REFERENCE_VOLUME_FL`
  = 1 fL (the usual order of magnitude of an E. coli cell, also an assumption). YM's
  concentration there is its fully induced (IPTG) steady state at YM's growth rate. So
  ``s_B = 18750 / (c_B^induced Omega(1 fL))`` (~20 with the SBML's rates).
* **LacZ per transcript**: 7.8 tetramers per burst (:data:`LACZ_PER_TRANSCRIPT`), Cai,
  Friedman & Xie 2006 (Nature 440:358, Fig. 3b: a gamma law with 0.16 bursts per cell
  cycle of 7.8 beta-galactosidase in repressed cells), a burst being one transcript (Yu et
  al. 2006). Each mRNA makes ``alpha_B s_B / (s_M gamma_M)`` LacZ, so ``s_M = s_B alpha_B /
  (7.8 gamma_M)`` (~0.10: ~143 lac mRNA per induced fL, a prediction, not checked against
  an smFISH count here).
* **LacY per transcript**: ~4 proteins per burst (:data:`LACY_PER_TRANSCRIPT`), Yu, Xiao,
  Ren, Lao & Xie 2006 (Science 311:1600; geometric bursts of Tsr-Venus expressed from the
  repressed lac promoter, *not* LacY itself; the number as presented in secondary
  material, the primary text was not consulted; order of magnitude). Each mRNA makes
  ``alpha_P s_P / (s_M gamma_M)`` LacY (``alpha_P`` after the ``lacy_turnover`` rescaling),
  so ``s_P = 4 s_M gamma_M / alpha_P``. With ``lacy_turnover: dilution`` (~0.51) a fully
  induced 1 fL cell then holds ~1e4 LacY, far above the 200-300 LacY that Choi et al. 2008
  (Science 322:442) find needed to switch a cell on, as it should; with YM's fast LacY decay
  (0.65/min, ~0.017) it would hold ~350, which the burst size and decay together imply.

Lactose, allolactose and their delay-free reactions are unchanged by these scales.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from ..metabolism.lac import LacParameters, lac_steady_state
from ..rdme.model import AVOGADRO
from .network import SPECIES

__all__ = ["COUNTS", "SCALED_SPECIES", "LACZ_TETRAMERS_PER_INDUCED_CELL",
           "REFERENCE_VOLUME_FL", "LACZ_PER_TRANSCRIPT", "LACY_PER_TRANSCRIPT",
           "single_molecule_scales", "check_scales", "species_scale_vector"]

#: ``ym``: every scale 1 (YM's concentrations are the molecules); ``single_molecule``: the
#: scales from measured copy numbers (module docstring).
COUNTS = ("ym", "single_molecule")
#: The species with a scale of their own (their nascent forms share it).
SCALED_SPECIES = ("mrna", "lacZ", "lacY")
#: beta-galactosidase tetramers per fully induced (constitutive) cell: 75,000 subunits / 4
#: (Fox, Carter & Kennedy 1967, PNAS 57:698; BioNumbers 112551). Order of magnitude.
LACZ_TETRAMERS_PER_INDUCED_CELL = 75_000 / 4
#: Cell volume assumed for that count, fL (not given by the source; order of magnitude).
REFERENCE_VOLUME_FL = 1.0
#: beta-galactosidase tetramers per transcript (burst), Cai, Friedman & Xie 2006, Fig. 3b.
LACZ_PER_TRANSCRIPT = 7.8
#: Proteins per transcript (burst) from the repressed lac promoter, Yu et al. 2006 (~4,
#: Tsr-Venus, geometric; via secondary material). Order of magnitude for LacY.
LACY_PER_TRANSCRIPT = 4.0


def _induced_lacz_mM(values: Mapping[str, float]) -> float:
    """YM's fully induced (IPTG) LacZ at YM's growth rate, mM (lac.py's ODE)."""
    sbml = LacParameters.from_sbml()
    params = dataclasses.replace(sbml, **{k: float(v) for k, v in values.items()
                                          if hasattr(sbml, k)})
    # from nothing, 45 LacZ lifetimes (dilution dominated) at YM's mu: the steady state
    return float(lac_steady_state(sbml.mu, 0.0, 0.0, params, y0=np.zeros(8), iptg=True,
                                  minutes=2000.0)[1])


def single_molecule_scales(values: Mapping[str, float]) -> dict[str, float]:
    """``{mrna, lacZ, lacY}`` molecules per YM molecule from measured copy numbers.

    ``values``: the YM rates the kernel uses (mM, min; ``alpha_P`` and ``gamma_P`` after the
    LacY turnover choice). See the module docstring for the sources and the formulas.
    """
    if min(values["alpha_B"], values["alpha_P"], values["gamma_M"], values["alpha_M"]) <= 0:
        raise ValueError("counts: single_molecule derives the scales from the induced LacZ and "
                         "LacZ and LacY per transcript, which needs alpha_M, alpha_B, alpha_P "
                         "and gamma_M > 0; give `scales: {mrna: ..., lacZ: ..., lacY: ...}` "
                         "explicitly instead")
    omega_ref = REFERENCE_VOLUME_FL * AVOGADRO * 1e-18
    s_b = LACZ_TETRAMERS_PER_INDUCED_CELL / (_induced_lacz_mM(values) * omega_ref)
    s_m = s_b * values["alpha_B"] / (LACZ_PER_TRANSCRIPT * values["gamma_M"])
    s_p = LACY_PER_TRANSCRIPT * s_m * values["gamma_M"] / values["alpha_P"]
    return {"mrna": s_m, "lacZ": s_b, "lacY": s_p}


def check_scales(scales: Mapping | None) -> dict[str, float]:
    """Explicit scales ``{species: molecules per YM molecule}``, checked (``ValueError``)."""
    checked = {}
    for name, value in (scales or {}).items():
        if name not in SCALED_SPECIES:
            raise ValueError(f"scales: {name!r} has no count scale of its own; the species "
                             f"with one are {list(SCALED_SPECIES)} (lactose and allolactose "
                             f"are counted literally, nascent forms share their product's)")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value <= 0:
            raise ValueError(f"scales: {name} = {value!r} must be a finite number > 0 "
                             f"(molecules per YM molecule; 1 is YM's own count)")
        checked[name] = float(value)
    return checked


def species_scale_vector(scale_mrna, scale_lacz, scale_lacy) -> list:
    """The scale of every species of :data:`~.network.SPECIES`, in order."""
    by_name = {"mrna": scale_mrna, "lacZ": scale_lacz, "lacY": scale_lacy,
               "allolactose": 1.0, "lactose_in": 1.0, "mrna_nascent": scale_mrna,
               "lacZ_nascent": scale_lacz, "lacY_nascent": scale_lacy}
    return [by_name[name] for name in SPECIES]
