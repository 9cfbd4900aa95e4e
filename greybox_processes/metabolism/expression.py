"""ETFL-style expression layer: enzymes as state, v_j <= kcat_j E_j, ribosome-limited synthesis.

Design (why constraints inside the FBA process, not a separate process): in ETFL (Salvy &
Hatzimanikatis 2020, Nat Commun 11:30) the enzyme and ribosome constraints are rows of the
*same* optimisation as the fluxes; splitting them into two processes would make each flux
bound lag one interval behind the enzyme level and make the result depend on process order.
So :class:`~.dfba.DynamicFBA` owns one :class:`ExpressionLayer`, which

1. turns the enzyme levels held in a store into flux capacities ``v_j <= kcat_j E_j``
   (:meth:`ExpressionLayer.flux_capacity`), added as bounds inside ``with model:``;
2. caps growth by the ribosome capacity: all protein synthesis, the growth-coupled proteome
   (``mu * P_aa``) plus the regulated enzymes (``sum_j L_j v_syn,j``), must fit in
   ``k_elong * R_total`` (:meth:`ExpressionLayer.growth_cap`), the ETFL constraint
   ``sum_j v_syn,j / kcat_ribo,j <= R_total`` with ``kcat_ribo,j = k_elong / L_j``;
3. advances the enzyme levels: synthesis set by regulation (lac.py), scaled down if it would
   exceed the ribosomes left after growth, dilution by growth ``mu E`` and degradation
   (:meth:`ExpressionLayer.advance`);
4. reports the proteome allocation this implies (:meth:`ExpressionLayer.proteome`).

Enzymes modelled as state here: the lac operon products LacY (permease, reaction ``LCTSt``)
and LacZ (beta-galactosidase, ``LACZ``), whose synthesis the lac operon model regulates. By
default (``enzymes: lac``) all other enzymes are taken to be at their steady-state levels
(their capacity is not binding). With ``enzymes: all`` every other gene-catalysed reaction
gets an enzyme level too, with in-vivo turnover numbers and synthesis chosen by the LP under
the same ribosome budget (:mod:`.enzymes`).

Units: enzyme concentrations in mM of cytoplasm (the lac model's units), converted to
mmol/gDW with :data:`~.lac.CYTOPLASM_L_PER_GDW`; fluxes in mmol/gDW/h; time in hours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .lac import (CYTOPLASM_L_PER_GDW, LAC_VARIABLES, LacParameters, integrate_lac,
                  lac_steady_state)

__all__ = ["KcatTable", "DEFAULT_KCAT", "RibosomeParameters", "ExpressionLayer",
           "PROTEOME_FIELDS"]

#: Fields of the proteome-allocation output.
PROTEOME_FIELDS = ("lac_enzymes", "ribosomal_protein", "ribosome_utilisation")


@dataclass(frozen=True)
class KcatTable:
    """Turnover numbers (1/s) per reaction, with a documented default and sources."""

    #: Median kcat of 1882 enzyme-substrate pairs from BRENDA, 13.7 1/s (Bar-Even et al. 2011,
    #: Biochemistry 50:4402), the customary default of enzyme-constrained models.
    default: float = 13.7
    values: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)

    def __getitem__(self, reaction_id: str) -> float:
        return float(self.values.get(reaction_id, self.default))

    def with_overrides(self, overrides: dict) -> "KcatTable":
        """A copy with ``{reaction id: kcat (1/s)}`` overrides, their source recorded as 'config
        override'.
        """
        values = {**self.values, **{k: float(v) for k, v in (overrides or {}).items()}}
        sources = {**self.sources, **{k: "config override" for k in (overrides or {})}}
        return KcatTable(self.default, values, sources)


def _default_kcat() -> KcatTable:
    p = LacParameters.from_sbml()
    return KcatTable(values={
        # lactose permease turnover: alpha_L = 2880 /min per permease (Yildirim & Mackey 2003)
        "LCTSt": p.alpha_L / 60.0,
        # beta-galactosidase turnover on lactose: alpha_A = 17600 /min (Yildirim & Mackey 2003,
        # from Huber et al. 1975); lactose is cleaved via allolactose, whose cleavage
        # (beta_A = 21500 /min) is faster, so alpha_A limits the net flux.
        "LACZ": p.alpha_A / 60.0,
    }, sources={"LCTSt": "Yildirim & Mackey 2003 alpha_L",
                "LACZ": "Yildirim & Mackey 2003 alpha_A"})


DEFAULT_KCAT = _default_kcat()


@dataclass(frozen=True)
class RibosomeParameters:
    """Proteome and ribosome constants (each with its source)."""

    #: Protein per dry mass 0.55 g/gDW (Neidhardt, Ingraham & Schaechter 1990, Physiology of
    #: the Bacterial Cell, Table 1) over a mean residue mass of 110 g/mol: mmol amino acid/gDW.
    protein_aa_mmol_per_gdw: float = 0.55 / 110.0 * 1000.0
    #: Translational capacity kappa_t = 4.5 /h and inactive RNA/protein r0 = 0.087
    #: (Scott et al. 2010, Science 330:1099): active ribosomes make protein at
    #: kappa_t * (r - r0) proteome per hour.
    kappa_t_per_h: float = 4.5
    r0: float = 0.087
    #: Ribosomal protein fraction per RNA/protein ratio, rho = 0.76 (Scott et al. 2010).
    rho: float = 0.76
    #: Chain lengths (aa): LacZ monomer 1024 (UniProt P00722), counted as the tetramer;
    #: LacY 417 (UniProt P02920).
    lacz_aa: float = 4 * 1024.0
    lacy_aa: float = 417.0


class ExpressionLayer:
    """Enzyme state, flux capacities, ribosome limit and proteome of the lac enzymes.

    Parameters
    ----------
    mu0 : growth rate (1/h) of the pre-culture; sets the ribosome content (Scott et al.
        2010 growth law ``r = r0 + mu0/kappa_t``), kept constant over the run.
    kcat : reaction -> kcat (1/s) overrides of :data:`DEFAULT_KCAT`.
    iptg : saturating IPTG (lac repressor released).
    k_glucose : K_m (mM) of glucose uptake, used for inducer exclusion.
    """

    enzyme_reactions = {"LCTSt": "P", "LACZ": "B"}

    def __init__(self, mu0: float, *, kcat=None, iptg: bool = False, k_glucose: float = 0.015,
                 volume_l_per_gdw: float = CYTOPLASM_L_PER_GDW,
                 ribosomes: RibosomeParameters | None = None):
        self.params = LacParameters.from_sbml()
        self.kcat = DEFAULT_KCAT.with_overrides(kcat or {})
        self.iptg = bool(iptg)
        self.k_glucose = float(k_glucose)
        self.volume = float(volume_l_per_gdw)
        self.ribo = ribosomes or RibosomeParameters()
        self.mu0 = max(float(mu0), 0.0)
        self.r = self.ribo.r0 + self.mu0 / self.ribo.kappa_t_per_h
        # translation capacity, mmol aa/gDW/h
        self.capacity_aa = self.ribo.kappa_t_per_h * (self.r - self.ribo.r0) * \
            self.ribo.protein_aa_mmol_per_gdw

    # -- state ---------------------------------------------------------------------------
    def initial_state(self, lactose_mM: float, glucose_mM: float) -> np.ndarray:
        """Lac state of cells pre-grown at ``mu0`` in the given medium (mM, order LAC_VARIABLES)."""
        return lac_steady_state(self.mu0 / 60.0, lactose_mM, glucose_mM, self.params,
                                iptg=self.iptg, k_glucose=self.k_glucose)

    def _index(self, name):
        return LAC_VARIABLES.index(name)

    def enzyme_mmol_per_gdw(self, y) -> dict:
        """LacY and LacZ in mmol/gDW."""
        return {"LacY": y[self._index("P")] * self.volume,
                "LacZ": y[self._index("B")] * self.volume}

    # -- constraints ---------------------------------------------------------------------
    def flux_capacity(self, y, lactose_mM: float, glucose_mM: float) -> dict:
        """``{reaction: upper bound (mmol/gDW/h)}``: ``kcat * E`` for each enzyme in state.

        LacY is also subject to inducer exclusion (the fraction ``G/(K_G+G)`` is inhibited).
        """
        exclusion = self.k_glucose / (self.k_glucose + max(glucose_mM, 0.0))
        caps = {}
        for reaction, variable in self.enzyme_reactions.items():
            enzyme = max(float(y[self._index(variable)]), 0.0) * self.volume  # mmol/gDW
            cap = self.kcat[reaction] * 3600.0 * enzyme
            if reaction == "LCTSt":
                cap *= exclusion
            caps[reaction] = cap
        return caps

    def synthesis_aa(self, y, mu_per_h: float) -> float:
        """Amino acids per hour (mmol/gDW/h) that regulation asks for to make LacZ and LacY."""
        p = self.params
        mu = max(mu_per_h, 0.0) / 60.0
        m = y[self._index("M")]
        rate_b = p.alpha_B * m * math.exp(-mu * p.tau_B)  # mM/min
        rate_p = p.alpha_P * m * math.exp(-mu * (p.tau_B + p.tau_P))
        return (rate_b * self.ribo.lacz_aa + rate_p * self.ribo.lacy_aa) * self.volume * 60.0

    def growth_cap(self, y, active: float = 1.0) -> float:
        """Largest growth rate (1/h) the ribosomes allow next to the lac enzymes' synthesis.

        ``active``: the share of ribosomes free to translate (1 - the share a translation
        inhibitor occupies).
        """
        left = self.capacity_aa * active - self.synthesis_aa(y, 0.0)
        return max(left, 0.0) / self.ribo.protein_aa_mmol_per_gdw

    # -- dynamics ------------------------------------------------------------------------
    def advance(self, y, hours: float, mu_per_h: float, lactose_mM: float,
                glucose_mM: float) -> np.ndarray:
        """Lac state after ``hours`` at growth rate ``mu_per_h`` (synthesis, dilution, decay)."""
        used = mu_per_h * self.ribo.protein_aa_mmol_per_gdw
        wanted = self.synthesis_aa(y, mu_per_h)
        free = max(self.capacity_aa - used, 0.0)
        scale = 1.0 if wanted <= free or wanted == 0 else free / wanted
        return integrate_lac(y, hours * 60.0, mu_per_h / 60.0, lactose_mM, glucose_mM,
                             self.params, iptg=self.iptg, k_glucose=self.k_glucose,
                             synthesis_scale=scale)

    def proteome(self, y, mu_per_h: float) -> np.ndarray:
        """``[lac enzymes, ribosomal protein, ribosome utilisation]`` (fractions).

        Lac enzymes and ribosomal protein as mass fractions of total protein; utilisation is
        the fraction of translation capacity used by growth plus lac synthesis.
        """
        enzymes = self.enzyme_mmol_per_gdw(y)
        lac_aa = enzymes["LacZ"] * self.ribo.lacz_aa + enzymes["LacY"] * self.ribo.lacy_aa
        used = max(mu_per_h, 0.0) * self.ribo.protein_aa_mmol_per_gdw + \
            self.synthesis_aa(y, mu_per_h)
        utilisation = used / self.capacity_aa if self.capacity_aa > 0 else 0.0
        return np.array([lac_aa / self.ribo.protein_aa_mmol_per_gdw, self.ribo.rho * self.r,
                         utilisation])
