"""Michaelis-Menten uptake bounds for dynamic FBA, with cited default parameters.

The uptake bound of a tracked exchange with external concentration ``S`` (mM) is
``v_max * S / (K_m + S)`` (mmol/gDW/h). Exchanges without kinetics get only the availability
bound (a cell cannot take up more than is there; see :class:`~.dfba.DynamicFBA`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["UptakeKinetics", "DEFAULT_KINETICS", "uptake_bound"]


@dataclass(frozen=True)
class UptakeKinetics:
    """Michaelis-Menten parameters of one exchange."""

    vmax: float  #: mmol/gDW/h
    km: float  #: mM
    source: str = ""


#: Defaults (override per exchange with the process config ``vmax``/``km``).
DEFAULT_KINETICS: dict[str, UptakeKinetics] = {
    # Mahadevan, Edwards & Doyle 2002, Biophys J 83:1331 (dynamic FBA of E. coli diauxie):
    # glucose v_max = 10.5 mmol/gDW/h, K_m = 0.015 mM (measured maximal uptake of Varma &
    # Palsson 1994, Appl Environ Microbiol 60:3724).
    "EX_glc__D_e": UptakeKinetics(10.5, 0.015, "Mahadevan et al. 2002 Biophys J 83:1331"),
    # Lactose through fully induced LacY, from the Yildirim & Mackey 2003 lac operon model
    # (Biophys J 84:2841; BioModels BIOMD0000000065): uptake alpha_L * P * Le/(K_Le + Le) with
    # alpha_L = 2880 /min per permease, K_Le = 0.26 mM, and the induced permease level
    # P* = alpha_P M*/(gamma_P + mu) (their parameters, see lac.py), converted to mmol/gDW/h
    # with the cytoplasmic volume of lac.CYTOPLASM_L_PER_GDW. Computed in lac.py:
    # induced_lactose_vmax().
    "EX_lcts_e": None,  # filled in below (needs lac.py)
    # Oxygen: Mahadevan et al. 2002: v_max 15 mmol/gDW/h, K_m 0.024 mM.
    "EX_o2_e": UptakeKinetics(15.0, 0.024, "Mahadevan et al. 2002 Biophys J 83:1331"),
}


def _fill_lactose():
    from .lac import LacParameters, induced_lactose_vmax

    params = LacParameters.from_sbml()
    DEFAULT_KINETICS["EX_lcts_e"] = UptakeKinetics(
        induced_lactose_vmax(params), params.K_Le,
        "Yildirim & Mackey 2003 (BIOMD0000000065), fully induced LacY")


_fill_lactose()


def uptake_bound(kinetics: UptakeKinetics, concentration: float) -> float:
    """Maximal uptake rate (mmol/gDW/h, >= 0) at ``concentration`` (mM)."""
    s = max(float(concentration), 0.0)
    if not math.isfinite(s):
        raise ValueError(f"concentration must be finite, got {concentration!r}")
    return kinetics.vmax * s / (kinetics.km + s) if s > 0 else 0.0
