"""Every metabolic enzyme as state (``enzymes: all``): turnover table, balanced growth, limits."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import greybox_processes as gb
from greybox_processes.metabolism import (DynamicFBA, InvalidConcentrationError, diauxic_lag,
                                          load_model)
from greybox_processes.metabolism.composites import diauxie
from greybox_processes.metabolism.enzymes import EnzymeSector, kapp_table, protein_lengths
from greybox_processes.metabolism.expression import ExpressionLayer

SHARED_REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata"


@pytest.fixture(scope="module")
def lactose_model():
    return load_model("textbook_lactose")


@pytest.fixture(scope="module")
def sector(lactose_model):
    return EnzymeSector.from_model(lactose_model,
                                   exclude=tuple(ExpressionLayer.enzyme_reactions))


def enzyme_cell(core, **config):
    cfg = diauxie(enzymes="all")["state"]["dfba"]["config"]
    cfg.update(config)
    return DynamicFBA(cfg, core=core)


def test_vendored_tables_are_sane():
    table = kapp_table()
    assert len(table) > 1500 and (table["kapp_per_s"] > 0).all()
    assert set(table["direction"]) == {"forward", "reverse"}
    lengths = protein_lengths()
    # UniProt lengths: LacZ P00722 1024 aa, PGI P0A6T1 549 aa, LacY P02920 417 aa
    assert lengths["b0344"] == 1024 and lengths["b4025"] == 549 and lengths["b0343"] == 417


@pytest.mark.skipif(not SHARED_REFDATA.is_dir(), reason="../shared/refdata not beside the repo")
def test_protein_lengths_rederive_from_the_shared_gene_table(tmp_path):
    import pandas as pd

    # the table builder is a developer tool beside the package (tools/), not part of it
    tool = Path(__file__).resolve().parents[2] / "tools" / "build_enzyme_tables.py"
    spec = importlib.util.spec_from_file_location("build_enzyme_tables", tool)
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    out = builder.derive_protein_lengths(SHARED_REFDATA, tmp_path)
    rederived = pd.read_csv(out)
    assert dict(zip(rederived["gene"], rederived["length_aa"].astype(float))) == \
        protein_lengths()


def test_sector_covers_gene_catalysed_reactions_only(sector, lactose_model):
    ids = set(sector.reactions)
    # spontaneous alternatives ("... or s0001") need no enzyme; lac enzymes belong to lac.py
    assert "H2Ot" not in ids and "NH4t" not in ids
    assert "LCTSt" not in ids and "LACZ" not in ids
    assert not any(lactose_model.reactions.get_by_id(r).boundary for r in ids)
    assert {"PGI", "GAPD", "CYTBD", "GALLELOIR", "HEX1"} <= ids
    assert sector.tabulated.sum() >= 50


def test_turnover_of_lumped_and_isozyme_reactions(sector):
    table = {(r, d): v for r, d, v in zip(kapp_table()["reaction"], kapp_table()["direction"],
                                           kapp_table()["kapp_per_s"])}
    j = sector.reactions.index("GALLELOIR")
    series = 1.0 / sum(1.0 / table[(p, "forward")] for p in ("GALKr", "UGLT", "UDPG4E", "PGMT"))
    assert sector.k_forward_per_h[j] == pytest.approx(series * 3600.0)
    j = sector.reactions.index("CYTBD")
    assert sector.k_forward_per_h[j] == pytest.approx(table[("CYTBO3_4pp", "forward")] * 3600)
    j = sector.reactions.index("PGI")
    assert sector.k_forward_per_h[j] == pytest.approx(table[("PGI", "forward")] * 3600)
    assert sector.k_reverse_per_h[j] == pytest.approx(table[("PGI", "reverse")] * 3600)


def test_bad_sector_input_is_rejected(lactose_model, metabolism_core):
    with pytest.raises(ValueError, match="kcat values must be positive"):
        EnzymeSector.from_model(lactose_model, kcat={"PGI": -1.0})
    with pytest.raises(ValueError, match="degradation"):
        EnzymeSector.from_model(lactose_model, degradation_per_h=float("nan"))
    with pytest.raises(ValueError, match="enzymes must be 'lac'"):
        enzyme_cell(metabolism_core, enzymes="every")
    with pytest.raises(ValueError, match="needs the expression layer"):
        enzyme_cell(metabolism_core, expression=False)
    with pytest.raises(ValueError, match="of the proteome"):
        enzyme_cell(metabolism_core, kcat={"GAPD": 1e-4})  # GAPD would need > all protein


def test_balanced_growth_is_a_steady_state(metabolism_core):
    """In the pre-culture's medium, the pre-culture's enzymes and growth stay as they are."""
    cell = enzyme_cell(metabolism_core)
    state = cell.initial_state()
    layer = cell.expression
    levels0 = state["enzymes"].copy()
    share = cell.sector.protein_aa(levels0) / layer.ribo.protein_aa_mmol_per_gdw
    assert 0.05 < share < 0.5  # central metabolism and transport: a fraction of the proteome
    state["growth_rate"] = layer.mu0
    update = cell.update(state, 1.0 / 60.0)
    mu = state["growth_rate"] + update["growth_rate"]
    assert mu == pytest.approx(layer.mu0, rel=1e-6)
    new = levels0 + update["enzymes"]
    # enzymes are remade as fast as growth dilutes them (up to the LP's choice among equal
    # optima: its tie-breaks, least uptake then least synthesis, are not the pre-culture's)
    np.testing.assert_allclose(new, levels0, rtol=1e-4, atol=1e-5 * levels0.max())
    assert cell.sector.protein_aa(new) == pytest.approx(cell.sector.protein_aa(levels0),
                                                        rel=1e-5)
    # and the ribosomes are used up (the growth law's ribosome content at mu0), up to the
    # interval: synthesis replaces the exact dilution E (1 - exp(-mu dt)) / dt = mu E (1 - mu dt/2)
    utilisation = state["proteome"][2] + update["proteome"][2]
    dt_share = layer.mu0 / 60.0 / 2 * share
    assert 1.0 - 2 * dt_share < utilisation <= 1.0 + 1e-9


def test_the_lp_never_makes_more_than_the_ribosomes_allow(metabolism_core):
    """Over the glucose-lactose shift: levels stay >= 0, utilisation <= 1, fluxes within k E."""
    data = gb.run(diauxie(enzymes="all", initial_biomass=0.02), 2.5, core=metabolism_core,
                  progress=False)
    levels = data["cell.enzymes"].values
    assert levels.shape[1] == len(data["enzyme"]) and np.all(levels >= 0)
    assert np.all(data["cell.proteome"].values[:, 2] <= 1 + 1e-9)
    glucose = data["env.concentrations"].values[:, 0]
    assert glucose[-1] < 0.01 * glucose[0]  # the shift happened in the run
    # enzymes barely needed on glucose are made after the shift (the Leloir pathway)
    leloir = data["cell.enzymes"].sel(enzyme="GALLELOIR").values
    assert leloir[-1] > 10 * leloir[0]  # basal lac lets a little lactose in before the shift
    total = data["env.biomass"].values
    assert np.all(np.diff(total) >= -1e-15)


def test_yaml_and_builder_agree_and_engines_agree(composites_dir, metabolism_core):
    spec = composites_dir / "diauxie_enzymes.yaml"
    assert gb.build_document(spec, core=metabolism_core)["state"] == \
        gb.build_document(diauxie(enzymes="all"), core=metabolism_core)["state"]
    pbg = gb.run(spec, 0.1, engine="pbg", core=metabolism_core, progress=False)
    viv = gb.run(spec, 0.1, engine="vivarium", core=metabolism_core, progress=False)
    for name in ("env.biomass", "cell.enzymes", "cell.growth_rate"):
        np.testing.assert_array_equal(pbg[name].values, viv[name].values)


def test_a_corrupted_enzyme_store_is_an_error(metabolism_core):
    cell = enzyme_cell(metabolism_core)
    state = cell.initial_state()
    state["enzymes"] = -np.ones_like(state["enzymes"])
    with pytest.raises(InvalidConcentrationError, match="enzymes"):
        cell.update(state, 1.0 / 60.0)
    state["enzymes"] = np.full_like(state["enzymes"], 1.0)  # 1 mmol chains/gDW each: too much
    with pytest.raises(InvalidConcentrationError, match="more than all protein"):
        cell.update(state, 1.0 / 60.0)


@pytest.mark.slow
def test_lag_with_every_enzyme_as_state(metabolism_core):
    runs = [gb.run(diauxie(enzymes="all", iptg=iptg), 8.5, core=metabolism_core,
                   progress=False) for iptg in (False, True)]
    lag = diauxic_lag(*runs)
    assert lag.lag_min > 20 and lag.arrest_min > 15
    assert math.isfinite(lag.delay_start_min)
