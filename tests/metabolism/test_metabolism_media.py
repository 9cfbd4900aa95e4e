"""Named media: the vitamin-trace hypothesis rescues exactly the auxotrophies it can.

Genes (iJO1366): thiC b3994 (thiamine), bioB b0775 (biotin), panC b0133 (pantothenate),
ribB b3041 (riboflavin: E. coli has no riboflavin uptake, nor has the model).
"""
from __future__ import annotations

import pytest

from greybox_processes.metabolism import apply_medium
from greybox_processes.metabolism.errors import UnknownExchangeError
from greybox_processes.metabolism.media import MEDIA, VITAMIN_TRACE_UPTAKE, WOLFE_VITAMINS


def _growth(model, medium, knockout=None):
    with model:
        apply_medium(model, medium)
        if knockout:
            model.genes.get_by_id(knockout).knock_out()
        return model.slim_optimize(error_value=0.0)


def test_wolfe_vitamins_map_to_exchanges_the_model_has(ijo1366):
    exchanges = {r.id for r in ijo1366.exchanges}
    for name, exchange in WOLFE_VITAMINS.items():
        if exchange is not None:
            assert exchange in exchanges, name
    # the three without an entry have no uptake route in iJO1366 (nor in E. coli)
    for absent in ("EX_ribflv_e", "EX_fol_e", "EX_4abz_e"):
        assert absent not in exchanges
    medium = MEDIA["m9_glucose_vitamin_traces"]
    assert {ex for ex in WOLFE_VITAMINS.values() if ex} <= set(medium)
    assert {k: v for k, v in medium.items() if k not in MEDIA["m9_glucose_ijo1366"]} == {
        ex: VITAMIN_TRACE_UPTAKE for ex in WOLFE_VITAMINS.values() if ex}


def test_vitamin_traces_rescue_only_importable_vitamins(ijo1366):
    plain, traces = "m9_glucose_ijo1366", "m9_glucose_vitamin_traces"
    wild_type = _growth(ijo1366, plain)
    for gene in ("b3994", "b0775", "b0133"):  # thiamine, biotin, pantothenate synthesis
        assert _growth(ijo1366, plain, gene) < 1e-6 * wild_type
        assert _growth(ijo1366, traces, gene) > 0.99 * wild_type
    # riboflavin cannot be taken up: its synthesis stays essential
    assert _growth(ijo1366, traces, "b3041") < 1e-6 * wild_type


def test_vitamin_traces_are_traces(ijo1366):
    wild_type = _growth(ijo1366, "m9_glucose_ijo1366")
    assert _growth(ijo1366, "m9_glucose_vitamin_traces") == pytest.approx(wild_type, rel=1e-3)
    # without glucose the vitamins feed no growth: they are no carbon or energy source
    no_glucose = {**MEDIA["m9_glucose_vitamin_traces"], "EX_glc__D_e": 0.0}
    assert _growth(ijo1366, no_glucose) < 1e-3 * wild_type


def test_named_medium_on_a_model_without_its_exchanges(textbook):
    with pytest.raises(UnknownExchangeError, match="EX_btn_e"):
        apply_medium(textbook, "m9_glucose_vitamin_traces")
