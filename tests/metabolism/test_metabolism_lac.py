"""lac operon regulation (Yildirim & Mackey 2003) and the expression layer's constraints."""
from __future__ import annotations

import pytest

from greybox_processes.metabolism.expression import DEFAULT_KCAT, ExpressionLayer
from greybox_processes.metabolism.lac import LAC_VARIABLES, LacParameters, lac_steady_state


def test_parameters_come_from_the_vendored_sbml():
    p = LacParameters.from_sbml()
    assert (p.alpha_L, p.K_Le, p.gamma_P, p.K) == (2880.0, 0.26, 0.65, 7200.0)


def test_lactose_induces_and_glucose_excludes():
    """0.02% lactose induces the operon alone; with glucose, inducer exclusion keeps it off."""
    p = LacParameters.from_sbml()
    mu = 0.87 / 60
    alone = lac_steady_state(mu, 0.584, 0.0, p)
    with_glucose = lac_steady_state(mu, 0.584, 0.28, p)
    b = LAC_VARIABLES.index("B")
    assert alone[b] > 500 * with_glucose[b]
    induced = lac_steady_state(mu, 0.584, 0.28, p, iptg=True)
    assert induced[b] > 0.9 * alone[b]  # IPTG induces whatever the glucose


def test_flux_capacity_is_kcat_times_enzyme():
    layer = ExpressionLayer(0.8)
    y = layer.initial_state(0.584, 0.0)
    caps = layer.flux_capacity(y, 0.584, 0.0)
    enzymes = layer.enzyme_mmol_per_gdw(y)
    assert caps["LACZ"] == pytest.approx(DEFAULT_KCAT["LACZ"] * 3600 * enzymes["LacZ"])
    assert caps["LCTSt"] == pytest.approx(DEFAULT_KCAT["LCTSt"] * 3600 * enzymes["LacY"])
    assert DEFAULT_KCAT["SOME_OTHER_REACTION"] == DEFAULT_KCAT.default == 13.7


def test_ribosome_capacity_caps_growth():
    layer = ExpressionLayer(0.8)
    off = layer.initial_state(0.584, 0.28)
    on = layer.initial_state(0.584, 0.0)
    assert layer.growth_cap(off) == pytest.approx(0.8, rel=1e-3)  # nothing else to make
    assert layer.growth_cap(on) < layer.growth_cap(off)  # lac synthesis takes ribosomes
    proteome = layer.proteome(on, 0.5)
    assert 0 < proteome[0] < 0.05 and 0 < proteome[1] < 0.5 and 0 < proteome[2] <= 1
