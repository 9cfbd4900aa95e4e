"""Regulator activities of E. coli's TRN from its environment and its mechanistic state.

Pure functions, one per mechanism. Each returns ``{trn.csv regulator name: activity}``, the
activity *relative to the reference condition* (M9 glucose, 37 C, pH 7.0, 0.3 Osm/L, no
oxidant, glucose uptake at its maximum, no allolactose): exactly 1 there. The activity is the
factor :class:`~greybox_processes.grn.ecoli_expression.EcoliExpression` multiplies a
regulator's level by in its Hill terms. Every parameter is a literature value (named where
it is defined); none is fitted to an expression sample (the glass box is label-free).

Mechanisms
----------
* :func:`heat_shock` (temperature, C): two-state unfolding of the proteome titrates the DnaK
  chaperone, which sequesters sigma-32 -> ``rpoH``.
* :func:`acid_sensors` (external pH): protonation of the periplasmic acid sensors ->
  ``evgA`` (EvgS/EvgA), ``phoP`` (PhoQ/PhoP), ``cadC``, ``gadE``/``gadX``/``gadW``.
* :func:`osmotic` (osmolarity, Osm/L): EnvZ/OmpR -> ``ompR``.
* :func:`superoxide` (redox-cycling oxidant such as paraquat, uM): SoxR oxidation -> ``soxR``.
* :func:`crp_camp` (glucose uptake, mmol/gDW/h): PTS EIIA-Glc phosphorylation and adenylate
  cyclase -> ``crp``.
* :func:`growth_ppgpp` (growth rate, 1/min): basal ppGpp ~ 1/growth rate. ``trn.csv`` has
  no ppGpp (or DksA) node, so its effect is put on the regulators that exist: ``rpoS``
  (up with ppGpp) and ``fis`` (down with ppGpp).
* :func:`lac_repressor` (allolactose, mM): LacI not bound by allolactose -> ``lacI``.

Ranges: each function refuses inputs outside the range its physics was measured in
(:data:`RANGES`) with a ValueError naming the input, the range and the fix.
"""
from __future__ import annotations

import math

import numpy as np

from ..metabolism.lac import LacParameters

__all__ = ["REFERENCE", "RANGES", "GAS_CONSTANT", "unfolding_free_energy", "unfolded_fraction",
           "heat_shock", "acid_sensors", "osmotic", "superoxide", "crp_camp", "growth_ppgpp",
           "lac_repressor", "check_range"]

#: the reference condition every activity is relative to (PRECISE's control__wt_glc)
REFERENCE = {"temperature": 37.0, "pH": 7.0, "osmolarity": 0.3, "oxidant": 0.0}

#: the ranges the mechanisms hold in (E. coli K-12 grows between ~8 and ~48 C, Herendeen et
#: al. 1979 J Bacteriol 139:185; pH 4.4-9.2 and up to ~1.2 Osm/L, Foster 2004 and
#: Cayley & Record 2003); outside them the model makes no claim
RANGES = {"temperature": (10.0, 47.0), "pH": (4.5, 9.0), "osmolarity": (0.05, 1.5),
          "oxidant": (0.0, 1000.0)}

#: J/(mol K)
GAS_CONSTANT = 8.314462618
_KELVIN = 273.15

# -- heat: Ghosh & Dill 2009 PNAS 106:10649 (also Dill, Ghosh & Schmit 2011 PNAS 108:17876):
# the stability of a protein of N residues from its chain length alone, with the enthalpy
# and entropy at their convergence temperatures T_h* = 373.5 K and T_s* = 385 K
_DH_PER_RESIDUE, _DH_0 = 4.0e3, 143e3          # J/mol per residue, J/mol
_DS_PER_RESIDUE, _DS_0 = 13.27, 448.0          # J/(mol K) per residue, J/(mol K)
_DCP_PER_RESIDUE, _DCP_0 = 49.0, 850.0         # J/(mol K) per residue, J/(mol K)
_T_H, _T_S = 373.5, 385.0                      # K
#: median length of a bacterial protein, residues (Brocchieri & Karlin 2005 NAR 33:3390)
PROTEIN_LENGTH = 267
#: proteins per E. coli cell (Milo & Phillips, Cell Biology by the Numbers, ~3e6)
PROTEINS_PER_CELL = 3.0e6
#: DnaK molecules per cell at 37 C (Tomoyasu et al. 1998 Mol Microbiol 30:567 quantified the
#: DnaK system at thousands of molecules per cell: fewer than 1500 misfolded luciferase
#: molecules induced the response); order of magnitude 1e4
DNAK_PER_CELL = 1.0e4


def check_range(name: str, value: float) -> float:
    """``value`` as a float if it is finite and within :data:`RANGES`; else a ValueError."""
    low, high = RANGES[name]
    v = float(value)
    if not (math.isfinite(v) and low <= v <= high):
        raise ValueError(f"stress input {name}={value!r} is outside the range the model holds "
                         f"in, [{low}, {high}] ({_UNITS[name]}); set {name} within it")
    return v


_UNITS = {"temperature": "C", "pH": "pH units", "osmolarity": "Osm/L", "oxidant": "uM"}


def unfolding_free_energy(temperature_c, length=PROTEIN_LENGTH):
    """Unfolding free energy (J/mol, > 0: folded is stable) of a protein of ``length`` residues.

    ``dG(T) = dH* + dCp (T - T_h*) - T (dS* + dCp ln(T / T_s*))`` with ``dH* = 4.0 N + 143``
    kJ/mol, ``dS* = 13.27 N + 448`` J/(mol K), ``dCp = 0.049 N + 0.85`` kJ/(mol K),
    ``T_h* = 373.5 K``, ``T_s* = 385 K`` (Ghosh & Dill 2009 PNAS 106:10649).
    """
    t = np.asarray(temperature_c, dtype=float) + _KELVIN
    dh = _DH_PER_RESIDUE * length + _DH_0
    ds = _DS_PER_RESIDUE * length + _DS_0
    dcp = _DCP_PER_RESIDUE * length + _DCP_0
    return dh + dcp * (t - _T_H) - t * (ds + dcp * np.log(t / _T_S))


def unfolded_fraction(temperature_c, length=PROTEIN_LENGTH):
    """Two-state fraction unfolded ``1 / (1 + exp(dG / RT))`` at ``temperature_c`` (C)."""
    t = np.asarray(temperature_c, dtype=float) + _KELVIN
    return 1.0 / (1.0 + np.exp(unfolding_free_energy(temperature_c, length)
                               / (GAS_CONSTANT * t)))


def heat_shock(temperature_c: float, *, chaperone_feedback: bool = True,
               dnak=DNAK_PER_CELL, proteins=PROTEINS_PER_CELL,
               length=PROTEIN_LENGTH) -> dict:
    """``rpoH`` (sigma-32) activity at ``temperature_c`` (C) from the DnaK titration model.

    Unfolded proteins ``U(T) = proteins * f_u(T)`` (:func:`unfolded_fraction`) bind DnaK
    tightly, leaving ``D = D_T - U`` free; free DnaK sequesters sigma-32 (10-30 copies per
    cell, Arsene, Tomoyasu & Bukau 2000 Int J Food Microbiol 55:3, against thousands of DnaK,
    so nearly all of it is bound and the free fraction is ``~ K_d / D``; Straus, Walter &
    Gross 1990 Genes Dev 4:2202; Tomoyasu et al. 1998). The activity relative to 37 C is
    ``a = D_ref / D``. With ``chaperone_feedback`` DnaK is itself a sigma-32 product (the
    negative feedback of El-Samad et al. 2005 PNAS 102:2736), ``D_T = D_T,ref * a`` at steady
    state, so ``a`` solves ``D_T,ref a^2 - U a - D_ref = 0``.
    """
    t = check_range("temperature", temperature_c)
    u = proteins * float(unfolded_fraction(t, length))
    u_ref = proteins * float(unfolded_fraction(REFERENCE["temperature"], length))
    free_ref = dnak - u_ref
    if free_ref <= 0:
        raise ValueError("the DnaK pool is titrated out at the reference temperature; "
                         "dnak must exceed the unfolded proteins at 37 C "
                         f"({u_ref:.0f} molecules)")
    if chaperone_feedback:
        activity = (u + math.sqrt(u * u + 4.0 * dnak * free_ref)) / (2.0 * dnak)
    else:
        if dnak - u <= 0:
            raise ValueError(f"at {t} C the unfolded proteins ({u:.0f}) titrate out all DnaK "
                             f"({dnak:.0f}) without its feedback; enable chaperone_feedback "
                             "or lower the temperature")
        activity = free_ref / (dnak - u)
    return {"rpoH": float(activity)}


#: pH of half activation of the periplasmic acid sensors: the middle of the pH 5.5-6.5 window
#: in which the E. coli acid tolerance systems are induced (Foster 2004 Nat Rev Microbiol
#: 2:898; EvgS: Eguchi & Utsumi 2014 J Bacteriol 196:3140; CadC: Fritz et al. 2009 JMB
#: 393:272; PhoQ: Prost et al. 2007 Mol Cell 26:165)
ACID_SENSOR_PKA = 6.0
#: regulators activated by acid: sensors (EvgA, PhoP, CadC) and the acid fitness island's
#: regulators, which EvgA/YdeO and the acid-induced RpoS/GadX/GadW cascade turn on
ACID_REGULATORS = ("evgA", "phoP", "cadC", "gadE", "gadX", "gadW")


def acid_sensors(ph: float, *, pka: float = ACID_SENSOR_PKA) -> dict:
    """Acid-activated regulators at external ``ph``: protonated sensor fraction vs pH 7.

    Each sensor is activated by protonating a periplasmic site (one proton, pKa ``pka``):
    ``theta = 1 / (1 + 10^(pH - pKa))``, activity ``theta(pH) / theta(7.0)``. The sensed
    proton is the external one (the periplasm equilibrates with the medium; the cytoplasm is
    held near pH 7.6, Wilks & Slonczewski 2007 J Bacteriol 189:5601, and is not modelled).
    """
    p = check_range("pH", ph)

    def theta(x):
        return 1.0 / (1.0 + 10.0 ** (x - pka))

    ratio = theta(p) / theta(REFERENCE["pH"])
    return {name: float(ratio) for name in ACID_REGULATORS}


#: osmolarity of the porin switch (OmpF -> OmpC, EnvZ/OmpR half-activated), Osm/L: between
#: low-osmolarity medium and medium + 0.3 M NaCl (Pratt, Hsing, Gibson & Silhavy 1996 Mol
#: Microbiol 20:911; Cayley & Record 2003 Biochemistry 42:12596 for M9's ~0.3 Osm/L)
OMPR_HALF_OSMOLARITY = 0.4


def osmotic(osmolarity: float, *, half=OMPR_HALF_OSMOLARITY) -> dict:
    """``ompR`` (OmpR-P) activity at ``osmolarity`` (Osm/L) relative to 0.3 Osm/L.

    EnvZ's kinase/phosphatase balance turns with the osmolarity (Cai & Inouye 2002 JBC
    277:24155); OmpR-P fraction ``phi = c / (c + half)``, activity ``phi(c) / phi(0.3)``:
    it represses ompF and activates ompC through the TRN.
    """
    c = check_range("osmolarity", osmolarity)
    ref = REFERENCE["osmolarity"]
    return {"ompR": float((c / (c + half)) / (ref / (ref + half)))}


#: paraquat giving half of SoxR oxidised, uM (soxS induction by paraquat half-maximal at
#: tens of uM; Gu & Imlay 2011 PNAS 108:13378, Fig. 1)
SOXR_HALF_OXIDANT = 50.0
#: SoxR oxidised in aerobic glucose medium without a redox-cycling drug (small: soxS is
#: barely expressed; Gu & Imlay 2011 found aerobic superoxide alone does not activate SoxR)
SOXR_BASAL_OXIDISED = 0.01


def superoxide(oxidant_um: float, *, half=SOXR_HALF_OXIDANT,
               basal=SOXR_BASAL_OXIDISED) -> dict:
    """``soxR`` activity (oxidised SoxR, the soxS activator) at ``oxidant_um`` paraquat (uM).

    Redox-cycling drugs oxidise SoxR's [2Fe-2S] cluster directly (Gu & Imlay 2011; Hidalgo &
    Demple 1994 EMBO J 13:138): oxidised fraction ``basal + (1 - basal) P / (P + half)``,
    activity relative to no oxidant.
    """
    p = check_range("oxidant", oxidant_um)
    return {"soxR": float((basal + (1.0 - basal) * p / (p + half)) / basal)}


#: glucose uptake of the reference (glucose in excess), mmol/gDW/h: the cell's maximal
#: uptake (Varma & Palsson 1994; the metabolism's default, metabolism/uptake.py)
REFERENCE_GLUCOSE_UPTAKE = 10.5
#: EIIA-Glc phosphorylated in cells growing on glucose (~20 %, Hogema et al. 1998 Mol
#: Microbiol 30:487; Bettenbrock et al. 2007 J Bacteriol 189:6891)
EIIA_P_ON_GLUCOSE = 0.2


def crp_camp(glucose_uptake: float, *, reference=REFERENCE_GLUCOSE_UPTAKE,
             eiia_p=EIIA_P_ON_GLUCOSE) -> dict:
    """``crp`` (Crp-cAMP) activity at ``glucose_uptake`` (mmol/gDW/h, > 0 is uptake).

    PTS flux drains phosphate from EIIA-Glc; EIIA-Glc~P activates adenylate cyclase
    (Kremling et al. 2007 FEBS J; Bettenbrock et al. 2007). Phosphorylated fraction
    ``phi = K / (K + r)`` with ``K`` such that ``phi(reference) = eiia_p``
    (``K = reference * eiia_p / (1 - eiia_p)``); cAMP and Crp-cAMP follow, activity
    ``phi(r) / phi(reference)``.
    """
    r = float(glucose_uptake)
    if not (math.isfinite(r) and r >= 0):
        raise ValueError(f"glucose uptake must be finite and >= 0 mmol/gDW/h, got {r!r}")
    k = reference * eiia_p / (1.0 - eiia_p)
    return {"crp": float((k + reference) / (k + r))}


#: growth rate of MG1655 on M9 glucose at 37 C, 1/min (0.69 /h, PRECISE's wild type on M9
#: glucose, Sastry et al. 2019 sample table)
REFERENCE_GROWTH_RATE = 0.69 / 60.0


def growth_ppgpp(growth_rate: float, *, reference=REFERENCE_GROWTH_RATE) -> dict:
    """ppGpp-driven activities at ``growth_rate`` (1/min) relative to the reference.

    Basal ppGpp falls inversely with the growth rate (Bremer & Dennis 2008 EcoSal Plus;
    Potrykus et al. 2011 Environ Microbiol 13:563): ``g = reference / growth_rate``. ppGpp
    raises RpoS and its share of RNA polymerase (Gentry et al. 1993 J Bacteriol 175:7982):
    ``rpoS`` activity ``g``; it represses fis transcription (Mallik et al. 2004 Mol Microbiol
    53:1093): ``fis`` activity ``1 / g``. A cell that does not grow is at the largest ppGpp
    the model allows, that of 1/10 of the reference rate.
    """
    mu = float(growth_rate)
    if not math.isfinite(mu):
        raise ValueError(f"growth rate must be finite (1/min), got {growth_rate!r}")
    g = reference / max(mu, 0.1 * reference)
    return {"rpoS": float(g), "fis": float(1.0 / g)}


#: Yildirim-Mackey allolactose binding to LacI, 1/mM^2 and Hill coefficient: read from the
#: vendored BIOMD0000000065 that the lac process uses, so the two cannot drift apart
_YM = LacParameters.from_sbml()
LAC_K1, LAC_HILL = float(_YM.K_1), float(_YM.n)


def lac_repressor(allolactose_mm: float, *, k1=LAC_K1, hill=LAC_HILL) -> dict:
    """``lacI`` activity: the fraction of LacI free of allolactose (``allolactose_mm``, mM).

    ``1 / (1 + K1 A^n)`` (Yildirim & Mackey 2003 Biophys J 84:2841, the lac process's
    constants); 1 with no allolactose (the reference, glucose).
    """
    a = float(allolactose_mm)
    if not (math.isfinite(a) and a >= 0):
        raise ValueError(f"allolactose must be finite and >= 0 mM, got {allolactose_mm!r}")
    return {"lacI": float(1.0 / (1.0 + k1 * a ** hill))}
