"""The eight WCM-Hard tiers (seed 000, section 6.1), one module each, in Algorithm 1's order."""
from .base import ERROR, FAIL, NOT_APPLICABLE, PASS, TierResult, TierStep
from .t1_conservation import ConservationTier
from .t2_essentiality import EssentialityTier
from .t3_diauxie import DiauxieTier
from .t4_stress import StressTier
from .t5_synergy import SynergyTier
from .t6_dephasing import DephasingTier
from .t7_ablation import AblationTier
from .t8_robustness import RobustnessTier

#: tier number -> Step class
TIERS = {cls.tier: cls for cls in (ConservationTier, EssentialityTier, DiauxieTier, StressTier,
                                   SynergyTier, DephasingTier, AblationTier, RobustnessTier)}

__all__ = ["TIERS", "TierResult", "TierStep", "PASS", "FAIL", "NOT_APPLICABLE", "ERROR",
           "ConservationTier", "EssentialityTier", "DiauxieTier", "StressTier", "SynergyTier",
           "DephasingTier", "AblationTier", "RobustnessTier"]
