"""Growth media as ``{exchange id: maximal uptake (mmol/gDW/h)}``, applied inside ``with model:``.

A medium lists the exchanges that may take up; every other exchange can only secrete (the
convention of :attr:`cobra.Model.medium`).
"""
from __future__ import annotations

from typing import Mapping

from .errors import UnknownExchangeError

__all__ = ["MEDIA", "WOLFE_VITAMINS", "get_medium", "apply_medium", "check_exchanges"]

_M9_SALTS = ("EX_ca2_e", "EX_cl_e", "EX_co2_e", "EX_cobalt2_e", "EX_cu2_e", "EX_fe2_e",
             "EX_fe3_e", "EX_h_e", "EX_h2o_e", "EX_k_e", "EX_mg2_e", "EX_mn2_e", "EX_mobd_e",
             "EX_na1_e", "EX_nh4_e", "EX_ni2_e", "EX_o2_e", "EX_pi_e", "EX_sel_e", "EX_slnt_e",
             "EX_so4_e", "EX_tungs_e", "EX_zn2_e")

_M9_GLUCOSE = {**{ex: 1000.0 for ex in _M9_SALTS}, "EX_glc__D_e": 10.0}

#: The ten vitamins of Wolfe's vitamin solution (Wolin, Wolin & Wolfe 1963, J Biol Chem
#: 238:2882; ATCC MD-VS) mapped to iJO1366's exchanges; ``None`` where the model has no
#: uptake route for it (E. coli has none for folate or riboflavin).
WOLFE_VITAMINS: dict[str, str | None] = {
    "biotin": "EX_btn_e", "folic acid": None, "pyridoxine": "EX_pydxn_e",
    "thiamine": "EX_thm_e", "riboflavin": None, "nicotinic acid": "EX_nac_e",
    "D-pantothenate": "EX_pnto__R_e", "vitamin B12": "EX_cbl1_e",
    "4-aminobenzoate": None, "lipoic acid": "EX_lipoate_e",
}
#: Uptake allowed for each vitamin in ``m9_glucose_vitamin_traces`` (mmol/gDW/h): iJO1366's
#: own cobalamin bound, "arbitrary and never actually constraining" (Orth et al. 2011).
#: Vitamins are needed at <= 2e-3 mmol/gDW, so at <= 2e-3 mmol/gDW/h at 1/h: the bound lets
#: a trace cover the whole demand, and is too small to feed the cell carbon or energy.
VITAMIN_TRACE_UPTAKE = 0.01

#: Named media. ``m9_glucose_ijo1366`` is iJO1366's own default medium (aerobic M9 salts,
#: glucose 10 mmol/gDW/h; Orth et al. 2011) *without* cobalamin: M9 as used by Monk et al.
#: 2017 (the essentiality reference) contains no vitamin B12, while the model's default
#: medium allows 0.01 mmol/gDW/h of it. ``m9_glucose_vitamin_traces`` adds traces of the
#: Wolfe vitamins iJO1366 can take up: the hypothesis (Bernstein et al. 2023, Mol Syst Biol
#: 19:e11566) that knockout mutants reach vitamins absent from the recipe (carry-over from
#: the pre-culture, impurities); it is a hypothesis to test, not the medium of the
#: experiment. ``cobra_default`` leaves the model's medium as is.
MEDIA: dict[str, dict[str, float] | None] = {
    "cobra_default": None,
    "m9_glucose_ijo1366": _M9_GLUCOSE,
    "m9_glucose_vitamin_traces": {**_M9_GLUCOSE, **{
        ex: VITAMIN_TRACE_UPTAKE for ex in WOLFE_VITAMINS.values() if ex is not None}},
}


def get_medium(medium) -> dict | None:
    """A medium mapping from a name in :data:`MEDIA`, a mapping, or ``None`` (model default)."""
    if medium is None:
        return None
    if isinstance(medium, str):
        if medium not in MEDIA:
            raise ValueError(f"unknown medium {medium!r}; named media are {sorted(MEDIA)}, or "
                             "pass a mapping {exchange id: max uptake}")
        return MEDIA[medium]
    if isinstance(medium, Mapping):
        return {str(k): float(v) for k, v in medium.items()}
    raise TypeError(f"medium must be a name, a mapping or None, got {type(medium).__name__}")


def check_exchanges(model, ids, what="exchange") -> None:
    """Raise :class:`UnknownExchangeError` listing ids that are not exchanges of ``model``."""
    exchanges = {r.id for r in model.exchanges}
    missing = [i for i in ids if i not in exchanges]
    if missing:
        import difflib
        hints = {m: difflib.get_close_matches(m, sorted(exchanges), n=2) for m in missing}
        detail = "; ".join(f"{m!r} (did you mean {', '.join(h)}?)" if h else repr(m)
                           for m, h in hints.items())
        raise UnknownExchangeError(f"unknown {what} reaction(s) in model {model.id!r}: {detail}")


def apply_medium(model, medium) -> None:
    """Set ``model.medium`` (call inside ``with model:`` so that it reverts)."""
    medium = get_medium(medium)
    if medium is None:
        return
    check_exchanges(model, medium, "medium exchange")
    model.medium = medium
