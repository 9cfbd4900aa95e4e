"""Translation from charged tRNAs (method='etfl'): the synthetases become necessary."""
from __future__ import annotations

import pytest

from greybox_processes.metabolism import (essentiality_screen, reference_essentiality,
                                          score_essentiality)
from greybox_processes.metabolism.models import biomass_reaction
from greybox_processes.metabolism.translation import (charging_reactions,
                                                      couple_translation_to_trna,
                                                      coupled_charged_trnas, mean_chain_length)

# ileS, metG, pheS (one subunit of PheRS), fmt (initiator formylation), lysS/lysU (isozymes),
# pfkA (glycolysis, has pfkB)
_GENES = ["b0026", "b2114", "b1713", "b3288", "b2890", "b4129", "b3916"]


def _biomass(model):
    return {m.id: c for m, c in biomass_reaction(model).metabolites.items()}


def test_every_tRNA_cycle_closes_and_reverts(ijo1366):
    """Each amino acid is taken as its charged tRNA, the tRNA returns, and nothing else moves."""
    from metabolism_helpers import model_state

    before, state = _biomass(ijo1366), model_state(ijo1366)
    charging = charging_reactions(ijo1366)
    assert len(charging) == 20  # the 20 proteinogenic amino acids of iJO1366's biomass
    with ijo1366:
        coupled = couple_translation_to_trna(ijo1366)
        after = _biomass(ijo1366)
        assert set(coupled) == set(charging)
        for aa, entry in coupled.items():
            assert after.get(aa, 0.0) == 0.0  # no free amino acid is consumed any more
            charged = -after[entry.charged] - after.get("fmettrna_c", 0.0) * (aa == "met__L_c")
            assert charged == pytest.approx(-before[aa], rel=1e-12)
            assert after[entry.trna] == pytest.approx(-before[aa], rel=1e-12)  # cycle closes
        # one initiator per chain, its formyl released as formate
        residues = sum(-before[aa] for aa in coupled)
        assert -after["fmettrna_c"] == pytest.approx(residues / mean_chain_length())
        assert after["for_c"] - before.get("for_c", 0.0) == pytest.approx(-after["fmettrna_c"])
        untouched = set(before) - set(coupled) - {"for_c"}
        assert all(after[m] == before[m] for m in untouched)
        # calling again changes nothing (no double counting)
        assert couple_translation_to_trna(ijo1366) == {}
        assert _biomass(ijo1366) == after
        assert len(coupled_charged_trnas(ijo1366)) == 21  # 20 + fMet-tRNA
    assert _biomass(ijo1366) == before and model_state(ijo1366) == state


def test_charging_costs_growth(ijo1366):
    """Charging spends ATP -> AMP + PPi per residue on top of the fitted maintenance."""
    wild_type = ijo1366.slim_optimize()
    with ijo1366:
        couple_translation_to_trna(ijo1366)
        coupled = ijo1366.slim_optimize()
    assert 0.0 < coupled < wild_type


def test_model_without_tRNA_chemistry_is_left_alone(textbook):
    before = _biomass(textbook)
    assert charging_reactions(textbook) == {}
    with textbook:
        assert couple_translation_to_trna(textbook) == {}
        assert _biomass(textbook) == before


def test_synthetases_are_essential_only_when_translation_uses_them(ijo1366, dask_client):
    """Plain FBA lets the dead-end synthetases go; translation from charged tRNAs needs each
    one, and fmt for initiation, while lysS and lysU still stand in for each other."""
    fba = essentiality_screen(ijo1366, genes=_GENES, client=dask_client, progress=False)
    etfl = essentiality_screen(ijo1366, genes=_GENES, method="etfl", client=dask_client,
                               progress=False)
    fba, etfl = fba.set_index("gene")["essential"], etfl.set_index("gene")["essential"]
    for gene in ("b0026", "b2114", "b1713", "b3288"):
        assert not fba[gene] and etfl[gene], gene
    for gene in ("b2890", "b4129", "b3916"):
        assert not fba[gene] and not etfl[gene], gene
    reference = reference_essentiality()  # Monk et al.: the same calls
    assert all(reference.loc[g, "essential"] == etfl[g] for g in _GENES)


@pytest.mark.slow
def test_full_ijo1366_etfl_screen_adds_only_true_essentials(ijo1366):
    """Genome-wide method='etfl' on iJO1366: every call it changes from plain FBA is right."""
    fba = essentiality_screen(ijo1366, progress=False).set_index("gene")["essential"]
    etfl = essentiality_screen(ijo1366, method="etfl", progress=False)
    score = score_essentiality(etfl)
    calls = etfl.set_index("gene")["essential"]
    reference = reference_essentiality()["essential"]
    changed = calls.index[calls != fba]
    assert len(changed) == 21  # 20 synthetase genes (gltX was already: heme) and fmt
    assert all(calls[g] == reference[g] for g in changed if g in reference.index)
    assert score["f1"] == pytest.approx(0.781, abs=1e-3)
    assert score_essentiality(fba.reset_index())["fp"] == score["fp"]


def test_etfl_screen_skips_only_what_it_may(ijo1366, dask_client):
    """With tRNA coupling and the ribosome cap, inferring unsolved knockouts from the
    wild-type optimum still gives exactly the growth of solving every LP."""
    genes = reference_essentiality().sample(80, random_state=1).index.tolist() + _GENES
    fast = essentiality_screen(ijo1366, genes=genes, method="etfl", client=dask_client,
                               progress=False).set_index("gene")
    full = essentiality_screen(ijo1366, genes=genes, method="etfl", client=dask_client,
                               skip_unused=False, progress=False).set_index("gene")
    assert fast.attrs["lps_solved"] < full.attrs["lps_solved"]
    assert (fast["essential"] == full["essential"]).all()
    assert abs(fast["growth"] - full["growth"]).max() < 1e-7
