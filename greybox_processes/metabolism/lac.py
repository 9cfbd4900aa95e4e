"""lac operon regulation: the Yildirim & Mackey (2003) model, with glucose inducer exclusion.

The published model (Yildirim & Mackey 2003, Biophys J 84:2841; BioModels BIOMD0000000065,
CC0, vendored in ``greybox_processes/data/refdata/``) has five variables, lac mRNA ``M``,
beta-galactosidase ``B``, allolactose ``A``, internal lactose ``L`` and permease ``P`` (mM,
intracellular; time in minutes), and delays for transcription and translation, which the
BioModels SBML writes as first-order intermediates ``I1`` (partial mRNA), ``I2`` (partial
beta-gal) and ``I3`` (partial permease). We integrate exactly those eight equations with the
SBML's parameter values, read from the vendored file, with two changes:

* **Growth rate.** The dilution rate ``mu`` is not the fixed SBML parameter but the growth rate
  that the flux balance model computes each interval, so that dilution stops when growth stops.
* **Inducer exclusion** (not in the 2003 model): glucose transport through the PTS leaves
  EIIA^Glc dephosphorylated, and EIIA^Glc inhibits LacY. Kimata et al. 1997 (PNAS 94:12914)
  showed that this, not lower cAMP-CRP, is what represses lac in glucose + lactose medium. We
  take the inhibited fraction of LacY to be the saturation of the glucose PTS,
  ``G/(K_G + G)``, with ``K_G`` the K_m of glucose uptake (uptake.py; Mahadevan et al. 2002),
  so lactose uptake is multiplied by ``K_G/(K_G + G)``. Catabolite repression through cAMP-CRP
  is therefore left out (Kimata et al. 1997), a documented simplification.

IPTG is a gratuitous inducer: with ``iptg=True`` the repressor is taken as fully released
(the induction term of the mRNA synthesis rate is 1), as in the pre-induced reference cultures
of Julou et al. 2020.
"""
from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields
from importlib import resources

import numpy as np

from ..errors import SimulationError

__all__ = ["LacParameters", "LAC_VARIABLES", "lac_rhs", "integrate_lac", "lac_steady_state",
           "induced_lactose_vmax", "CYTOPLASM_L_PER_GDW", "sbml_path"]

#: Order of the lac state vector (all mM, intracellular).
LAC_VARIABLES = ("M", "B", "A", "L", "P", "I1", "I2", "I3")

#: Cytoplasmic volume per dry mass, L/gDW: 2.3 uL per mg dry weight for E. coli grown at low
#: osmolarity (Cayley, Lewis, Guttman & Record 1991, J Mol Biol 222:281). Converts the lac
#: model's intracellular mM into mmol/gDW.
CYTOPLASM_L_PER_GDW = 2.3e-3


def sbml_path():
    """Path of the vendored BIOMD0000000065 SBML file."""
    return resources.files("greybox_processes") / "data" / "refdata" / \
        "BIOMD0000000065_Yildirim2003_lac_operon.xml"


@dataclass(frozen=True)
class LacParameters:
    """Parameters of the Yildirim-Mackey model (SBML ids; mM, min)."""

    mu: float
    gamma_M: float
    gamma_B: float
    gamma_A: float
    gamma_0: float
    K: float
    alpha_M: float
    tau_B: float
    alpha_A: float
    K_L1: float
    alpha_B: float
    K_A: float
    beta_A: float
    tau_M: float
    K_L: float
    gamma_L: float
    gamma_P: float
    alpha_L: float
    alpha_P: float
    tau_P: float
    beta_L1: float
    K_Le: float
    K_1: float
    n: float = 2.0  # Hill coefficient of allolactose on the repressor (A^2 in the SBML)

    @classmethod
    @functools.lru_cache(maxsize=None)
    def from_sbml(cls, path=None) -> "LacParameters":
        """Read the parameter values from the BioModels SBML (default: the vendored copy)."""
        path = sbml_path() if path is None else path
        root = ET.parse(str(path)).getroot()
        values = {}
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == "parameter" and "value" in element.attrib:
                values[element.attrib["id"]] = float(element.attrib["value"])
        names = [f.name for f in fields(cls) if f.name != "n"]
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"{path}: lac operon SBML lacks parameters {missing}")
        return cls(**{n: values[n] for n in names})


def lac_rhs(y, mu_per_min: float, lactose_mM: float, glucose_mM: float, p: LacParameters,
            *, iptg: bool = False, k_glucose: float = 0.015, synthesis_scale: float = 1.0):
    """Time derivative (mM/min) of the lac state ``y`` (order :data:`LAC_VARIABLES`).

    ``synthesis_scale`` in [0, 1] scales protein synthesis (ribosome capacity, expression.py).
    """
    M, B, A, L, P, I1, I2, I3 = (max(v, 0.0) for v in y)
    mu = max(mu_per_min, 0.0)
    if iptg:
        induction = 1.0
    else:
        k1a = p.K_1 * math.exp(-2.0 * mu * p.tau_M) * A ** p.n
        induction = (1.0 + k1a) / (p.K + k1a)
    exclusion = k_glucose / (k_glucose + max(glucose_mM, 0.0))
    r_i1 = p.alpha_M * induction
    r_m3 = I1 / p.tau_M
    r_i2 = synthesis_scale * p.alpha_B * M * math.exp(-mu * p.tau_B)
    r_b2 = I2 / p.tau_B
    r_i3 = synthesis_scale * p.alpha_P * M * math.exp(-mu * (p.tau_B + p.tau_P))
    r_p2 = I3 / (p.tau_B + p.tau_P)
    le = max(lactose_mM, 0.0)
    uptake = p.alpha_L * P * le / (p.K_Le + le) * exclusion
    efflux = p.beta_L1 * P * L / (p.K_L1 + L)
    to_allo = p.alpha_A * B * L / (p.K_L + L)
    allo_cleave = p.beta_A * B * A / (p.K_A + A)
    return np.array([
        p.gamma_0 + r_m3 - (p.gamma_M + mu) * M,
        r_b2 - (p.gamma_B + mu) * B,
        to_allo - allo_cleave - (p.gamma_A + mu) * A,
        uptake - efflux - to_allo - (p.gamma_L + mu) * L,
        r_p2 - (p.gamma_P + mu) * P,
        r_i1 - r_m3,
        r_i2 - r_b2,
        r_i3 - r_p2,
    ])


def integrate_lac(y0, minutes: float, mu_per_min: float, lactose_mM: float, glucose_mM: float,
                  p: LacParameters, **kwargs) -> np.ndarray:
    """Advance the lac state by ``minutes`` at constant inputs (stiff solver, non-negative)."""
    from scipy.integrate import solve_ivp

    if minutes <= 0:
        return np.asarray(y0, dtype=float).copy()
    solution = solve_ivp(lambda t, y: lac_rhs(y, mu_per_min, lactose_mM, glucose_mM, p, **kwargs),
                         (0.0, float(minutes)), np.asarray(y0, dtype=float), method="LSODA",
                         rtol=1e-8, atol=1e-13)
    if not solution.success:
        raise SimulationError(f"lac operon ODE failed: {solution.message}")
    return np.maximum(solution.y[:, -1], 0.0)


def lac_steady_state(mu_per_min: float, lactose_mM: float, glucose_mM: float, p: LacParameters,
                     *, y0=None, minutes: float = 1.0e4, **kwargs) -> np.ndarray:
    """The state reached after ``minutes`` at constant inputs (cells pre-grown in a medium).

    Starts from the SBML's initial values unless ``y0`` is given.
    """
    if y0 is None:
        y0 = np.array([0.000626, 0.0, 0.038, 0.372, 0.0149, 0.0, 0.0, 0.0])  # BIOMD0000000065
    return integrate_lac(y0, minutes, mu_per_min, lactose_mM, glucose_mM, p, **kwargs)


def induced_lactose_vmax(p: LacParameters, volume_l_per_gdw: float = CYTOPLASM_L_PER_GDW) -> float:
    """Maximal lactose uptake (mmol/gDW/h) through fully induced LacY at the SBML growth rate.

    ``alpha_L * P*`` with ``P* = alpha_P M* exp(-mu (tau_B+tau_P)) / (gamma_P + mu)`` and
    ``M* = (gamma_0 + alpha_M) / (gamma_M + mu)`` (induction term 1), converted from mM/min
    to mmol/gDW/h.
    """
    m_star = (p.gamma_0 + p.alpha_M) / (p.gamma_M + p.mu)
    p_star = p.alpha_P * m_star * math.exp(-p.mu * (p.tau_B + p.tau_P)) / (p.gamma_P + p.mu)
    return p.alpha_L * p_star * volume_l_per_gdw * 60.0
