"""E. coli's TRN (pymodulon 0.2.1 trn.csv) read as a GRN: counts, signs, cycles, steady state."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greybox_processes.errors import NetworkFormatError
from greybox_processes.grn import (GRNParams, network_steady_state, perturbed_steady_state,
                                   read_trn, simulate, steady_state)
from greybox_processes.grn.ecoli_trn import (DEFAULT_K, TRN_PATH, derive_name_tables,
                                             read_name_tables)
from greybox_processes.grn.steady_state import edge_production

GENE_TABLE = Path(__file__).resolve().parents[3] / "shared/refdata/transcriptome/" \
    "precise_gene_table.csv"


@pytest.fixture(scope="module")
def trn():
    return read_trn()


@pytest.fixture(scope="module")
def rows():
    return pd.read_csv(TRN_PATH, dtype=str, keep_default_na=False)


def _edges(net):
    names = np.asarray(net.names)
    return pd.DataFrame({"regulator": names[net.edge_regulator],
                         "target": names[net.edge_target], "k": net.edge_k,
                         **{k: np.asarray(v) for k, v in net.edge_annotations.items()}})


def test_counts_equal_the_file(trn, rows):
    """Every gene and regulator of the file is a node, every row an edge with its sign."""
    regs, _ = read_name_tables()
    kind = regs["kind"]
    names = trn.names
    node_kind = dict(zip(names, trn.var_annotations["kind"]))
    # genes: the file's genes plus the genes that encode its regulators, nothing else
    encoding = {b for r in set(rows.regulator) for b in regs.at[r, "b_numbers"].split(";") if b}
    assert {n for n in names if node_kind[n] == "gene"} == set(rows.gene_id) | encoding
    assert all(node_kind[g] == "gene" for g in rows.gene_id)
    # regulators: one node per regulator name, two names of one gene share it
    node_of = {r: (regs.at[r, "b_numbers"] if kind[r] == "gene" else r) for r in set(rows.regulator)}
    edges = _edges(trn)
    from_file = edges[edges.source == "trn"]
    assert set(from_file.regulator) == set(node_of.values())
    assert {n for n in names if node_kind[n] != "gene"} == {r for r in set(rows.regulator)
                                                           if kind[r] != "gene"}
    # edges: one per (regulator node, gene); rows that name the same pair are merged
    pairs = {(node_of[r], g) for r, g in zip(rows.regulator, rows.gene_id)}
    assert set(zip(from_file.regulator, from_file.target)) == pairs
    assert len(from_file) == len(pairs)
    merged = len(rows) - len(pairs)
    assert merged == sum(n - 1 for n in rows.assign(node=rows.regulator.map(node_of))
                         .groupby(["node", "gene_id"]).size() if n > 1)
    assert merged < 5  # only synonyms (cecR/ybiH) merge
    # subunit edges: each gene of a complex makes it
    subunit = edges[edges.source == "subunit"]
    expected = {(b, r) for r in set(rows.regulator) if kind[r] == "complex"
                for b in regs.at[r, "b_numbers"].split(";")}
    assert set(zip(subunit.regulator, subunit.target)) == expected
    assert (subunit.k == DEFAULT_K).all()


def test_signs_follow_the_effect_column(trn, rows):
    regs, _ = read_name_tables()
    node = {r: (regs.at[r, "b_numbers"] if regs.at[r, "kind"] == "gene" else r)
            for r in set(rows.regulator)}
    edges = _edges(trn)
    joined = rows.assign(node=rows.regulator.map(node)).merge(
        edges, left_on=["node", "gene_id"], right_on=["regulator", "target"], how="left",
        suffixes=("_file", ""))
    assert len(joined) == len(rows) and joined.k.notna().all()
    # an edge keeps its row's effect, unless rows were merged into it (synonyms)
    merged = joined.duplicated(["node", "gene_id"], keep=False)
    assert (joined.effect_file == joined.effect)[~merged].all()
    signed = joined.effect.isin(["+", "-"])
    expected = np.where(joined.effect[signed] == "+", 1.0, -1.0)
    np.testing.assert_array_equal(np.sign(joined.k[signed]), expected)
    # default: dual and unknown edges act as activations
    assert (joined.k[~signed] == DEFAULT_K).all()
    assert set(edges.effect[edges.source == "trn"]) == {"+", "-", "+-", "?"}


def test_known_lac_edges(trn):
    """LacI (lacI, b0345) represses lacZ (b0344); CRP (b3357) is a dual regulator of lacZ."""
    e = _edges(trn).set_index(["regulator", "target"])
    assert e.loc[("b0345", "b0344")].k == -DEFAULT_K
    assert e.loc[("b3357", "b0344")].effect == "+-"
    assert e.loc[("b3357", "b0344")].k > 0
    as_repression = _edges(read_trn(dual="repression")).set_index(["regulator", "target"])
    assert as_repression.loc[("b3357", "b0344")].k == -DEFAULT_K
    unknown_neg = _edges(read_trn(unknown="repression", k=1.5, hill=3.0))
    assert (unknown_neg.k[unknown_neg.effect == "?"] == -1.5).all()
    assert (unknown_neg.k[unknown_neg.effect == "+-"] == 1.5).all()
    assert set(np.abs(unknown_neg.k)) == {1.5}
    assert set(read_trn(hill=3.0).edge_hill) == {3.0}
    dropped = _edges(read_trn(dual="drop", unknown="drop"))
    assert ("b3357", "b0344") not in set(zip(dropped.regulator, dropped.target))
    assert set(dropped.effect) == {"+", "-", "subunit"}
    names = trn.var_annotations["gene_name"]
    assert names[trn.names.index("b0345")] == "lacI" and names[trn.names.index("b0344")] == "lacZ"


def test_complexes_signals_and_basal_rates(trn):
    kind = dict(zip(trn.names, trn.var_annotations["kind"]))
    edges = _edges(trn)
    assert set(edges.regulator[edges.target == "ihf"]) == {"b1712", "b0912"}  # ihfA, ihfB
    assert set(edges.regulator[edges.target == "flhD;flhC"]) == {"b1892", "b1891"}
    signals = [n for n, k in kind.items() if k == "signal"]
    assert "TPP" in signals and "his-tRNA" in signals
    sig = np.array([trn.names.index(s) for s in signals])
    assert not np.isin(sig, trn.edge_target).any()  # inputs: nothing regulates them
    assert np.all(trn.basal[0, sig] == 1.0)
    # a node regulated only by itself gets the basal rate, the SERGIO fixed point x = h is
    # then a stable one (F'(x) < 1); other regulated nodes have no basal rate
    ss, h = network_steady_state(trn)
    only_self = [t for t in set(trn.edge_target.tolist())
                 if set(trn.edge_regulator[trn.edge_target == t].tolist()) == {t}]
    assert only_self and np.all(trn.basal[0, only_self] == 1.0)
    for t in only_self:
        e = np.flatnonzero(trn.edge_target == t)[0]
        x, k, n = ss[0, t], trn.edge_k[e], trn.edge_hill[e]
        slope = abs(k) * n * x ** (n - 1) * h[e] ** n / (h[e] ** n + x ** n) ** 2 / 0.8
        assert slope < 1.0
    regulated = np.setdiff1d(np.unique(trn.edge_target), only_self)
    assert np.all(trn.basal[0, regulated] == 0.0)
    more = read_trn(extra_genes=["b0001", "b0344"], basal=0.5)
    assert more.n_genes == trn.n_genes + ("b0001" not in trn.names)
    assert more.basal[0, more.names.index("b0001")] == 0.5


def test_cycles_are_named_where_a_dag_is_needed(trn):
    assert not trn.is_acyclic
    on_cycle = [trn.names[i] for i in trn.cycle_genes()]
    assert "b3357" in on_cycle  # crp regulates its own gene
    with pytest.raises(NetworkFormatError, match="regulatory cycles") as err:
        steady_state(trn)
    assert on_cycle[0] in str(err.value) and "simulate" in str(err.value)
    with pytest.raises(NetworkFormatError, match="regulatory cycles"):
        GRNParams.from_network(trn, [0])


def test_fixed_point_steady_state_solves_sergio_equations(trn):
    """x = (b + sum p(x; h)) / lambda with h the regulator's own level (one cell type)."""
    ss, h = network_steady_state(trn, decay=0.8)
    x = ss[0]
    np.testing.assert_allclose(h, x[trn.edge_regulator], rtol=1e-9)
    prod = trn.basal[0].copy()
    np.add.at(prod, trn.edge_target, edge_production(x[trn.edge_regulator], trn.edge_k, h,
                                                     trn.edge_hill))
    np.testing.assert_allclose(x, prod / 0.8, rtol=1e-8)
    assert np.all(x > 0)


def test_lacI_knockout_derepresses_lacZ_by_the_lost_repression(trn):
    """LacI regulates only lacZYA, none of them a regulator, so its knockout moves only the
    lac genes, and lacZ loses LacI's repression term: |K|(1 - H) goes from |K|/2 (H = 1/2
    at x = h) to |K|, i.e. x rises by |K| / (2 lambda)."""
    lac_z = trn.names.index("b0344")
    wt = network_steady_state(trn)[0][0]
    ko = perturbed_steady_state(trn, {"lacI": 0.0})[0]
    assert ko[trn.names.index("b0345")] == 0.0
    assert ko[lac_z] - wt[lac_z] == pytest.approx(0.5 * DEFAULT_K / 0.8, rel=1e-9)
    moved = np.flatnonzero(np.abs(ko - wt) > 1e-6 * wt)  # solver tolerance: 1e-10
    assert set(trn.names[i] for i in moved) == {"b0345", "b0342", "b0343", "b0344"}


def test_sde_runs_the_cyclic_trn_with_a_knockout(trn):
    a = simulate(trn, 8, perturbations={"KO_lacI": {"lacI": 0.0}}, steps=100, protein=False,
                 seed=0)
    assert a.shape == (16, trn.n_genes)
    assert np.all(np.isfinite(a.X)) and np.all(a.X >= 0)
    assert a.uns["grn"]["acyclic"] is False
    ko = (a.obs["perturbation"] == "KO_lacI").to_numpy()
    assert np.all(a[ko, "b0345"].X == 0.0) and np.all(a[~ko, "b0345"].X > 0)
    assert list(a.var["kind"].unique()) == ["gene", "complex", "signal"]


def test_unknown_gene_names_close_matches(trn):
    with pytest.raises(ValueError, match="close matches: .*lacI"):
        simulate(trn, 1, perturbations={"KO": {"lacJ": 0.0}})


def test_malformed_trn_files(tmp_path):
    bad = tmp_path / "trn.csv"
    bad.write_text("regulator,gene_id,effect\nlacI,b0344,-\nlacI,b0343,x\n")
    with pytest.raises(NetworkFormatError, match="line 3"):
        read_trn(bad)
    bad.write_text("regulator,gene_id,effect\nlacI,lacZ,-\n")
    with pytest.raises(NetworkFormatError, match="not a b-number"):
        read_trn(bad)
    bad.write_text("regulator,gene_id,effect\nnoSuchTF,b0344,-\n")
    with pytest.raises(NetworkFormatError, match="noSuchTF"):
        read_trn(bad)
    with pytest.raises(ValueError, match="dual"):
        read_trn(dual="both")


@pytest.mark.skipif(not GENE_TABLE.is_file(), reason="PRECISE gene table (shared refdata) absent")
def test_shipped_name_tables_are_derived_from_the_gene_table(tmp_path):
    regs, genes = derive_name_tables(GENE_TABLE, out_dir=tmp_path)
    shipped_regs, shipped_genes = read_name_tables()
    pd.testing.assert_frame_equal(regs.set_index("regulator"), shipped_regs)
    assert genes.set_index("b_number")["gene_name"].to_dict() == shipped_genes.to_dict()
    # read_trn reads the tables it is given
    table = pd.read_csv(tmp_path / "trn_regulators.csv", dtype=str, keep_default_na=False)
    table.loc[table.regulator == "lacI", "kind"] = "signal"
    table.loc[table.regulator == "lacI", ["b_numbers", "gene_names"]] = ""
    table.to_csv(tmp_path / "trn_regulators.csv", index=False)
    net = read_trn(regulators_path=tmp_path / "trn_regulators.csv",
                   gene_names_path=tmp_path / "trn_gene_names.csv")
    assert dict(zip(net.names, net.var_annotations["kind"]))["lacI"] == "signal"
