"""Essentiality screen: exact vs cobra, no side effects, GPR logic, scoring vs Monk 2017."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greybox_processes.metabolism import (InfeasibleError, UnknownGeneError, essentiality_screen,
                                          reference_essentiality, score_essentiality)


def test_single_reaction_gene_vs_isozyme(textbook, dask_client):
    """eno (b2779) is the model's only enolase: essential. pfkA (b3916) has pfkB: not."""
    screen = essentiality_screen(textbook, genes=["b2779", "b3916", "b1723"], client=dask_client,
                                 progress=False).set_index("gene")
    assert screen.loc["b2779", "essential"]
    assert screen.loc["b2779", "growth"] < 1e-6
    assert not screen.loc["b3916", "essential"]
    assert screen.loc["b3916", "relative_growth"] == pytest.approx(1.0)
    assert not screen.loc["b1723", "essential"]
    assert set(screen.columns) >= {"growth", "relative_growth", "essential", "status"}


def test_same_growth_as_cobra_single_gene_deletion(textbook, dask_client):
    """Skipping LPs whose knocked-out reactions carry no wild-type flux changes no result."""
    from cobra.flux_analysis import single_gene_deletion

    ours = essentiality_screen(textbook, client=dask_client, progress=False).set_index("gene")
    theirs = single_gene_deletion(textbook, processes=1)
    theirs = pd.Series(theirs["growth"].to_numpy(), index=[next(iter(i)) for i in theirs["ids"]])
    theirs = theirs.fillna(0.0).reindex(ours.index)
    np.testing.assert_allclose(ours["growth"], theirs, atol=1e-7)
    assert ours.attrs["lps_solved"] < len(ours) / 2  # most genes never needed an LP


def test_model_unchanged_after_screen(textbook, dask_client):
    from metabolism_helpers import model_state

    before = model_state(textbook)
    essentiality_screen(textbook, medium={"EX_glc__D_e": 5.0, "EX_o2_e": 1000.0,
                                          "EX_nh4_e": 1000.0, "EX_pi_e": 1000.0,
                                          "EX_h2o_e": 1000.0, "EX_h_e": 1000.0,
                                          "EX_co2_e": 1000.0},
                        method="etfl", client=dask_client, progress=False)
    assert model_state(textbook) == before


def test_unknown_gene_and_bad_arguments(textbook, dask_client):
    with pytest.raises(UnknownGeneError, match="b9999"):
        essentiality_screen(textbook, genes=["b9999"], client=dask_client, progress=False)
    with pytest.raises(ValueError, match="method"):
        essentiality_screen(textbook, method="magic", client=dask_client)
    with pytest.raises(InfeasibleError):
        essentiality_screen(textbook, medium={"EX_o2_e": 1000.0}, client=dask_client,
                            progress=False)


def test_scoring_counts():
    reference = pd.DataFrame({"essential": [True, True, False, False]},
                             index=pd.Index(["a", "b", "c", "d"], name="gene"))
    calls = pd.DataFrame({"gene": ["a", "c", "d"], "essential": [True, True, False]})
    score = score_essentiality(calls, reference)
    assert (score["tp"], score["fp"], score["fn"], score["tn"]) == (1, 1, 1, 1)
    assert score["f1"] == pytest.approx(0.5) and score["missing"] == 1


def test_reference_table_is_vendored():
    table = reference_essentiality()
    assert len(table) == 1354 and table["essential"].sum() == 234


def test_sampled_ijo1366_screen_reproduces_plain_fba(ijo1366, dask_client):
    """On 150 reference genes our calls equal the table's plain-iJO1366 FBA column."""
    table = reference_essentiality()
    genes = table.sample(150, random_state=0).index.tolist()
    screen = essentiality_screen(ijo1366, genes=genes, client=dask_client, progress=False)
    expected = table.loc[genes, "ess.curated.model"].eq("yes").to_numpy()
    np.testing.assert_array_equal(screen.set_index("gene").loc[genes, "essential"].to_numpy(),
                                  expected)


@pytest.mark.slow
def test_full_ijo1366_screen_f1_is_0723(ijo1366):
    """Genome-wide plain FBA on iJO1366 (default LocalCluster): F1 0.723 (P 0.772, R 0.680)."""
    screen = essentiality_screen(ijo1366, progress=False)
    score = score_essentiality(screen)
    assert score["f1"] == pytest.approx(0.723, abs=5e-4)
    assert score["precision"] == pytest.approx(0.772, abs=5e-4)
    assert score["recall"] == pytest.approx(0.680, abs=1e-3)
