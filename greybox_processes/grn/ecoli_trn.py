"""E. coli K-12 MG1655's transcriptional regulatory network (TRN) as a :class:`GRNNetwork`.

Data (see SOURCES.md)
---------------------
* ``data/ecoli/trn.csv``: verbatim from the PyPI wheel pymodulon 0.2.1 (MIT);
  7,918 rows ``regulator, gene_id, effect``. ``gene_id`` is the regulated gene's
  b-number (12 rows name a part of a gene split in MG1655, e.g. ``b4490_2``);
  ``effect`` is ``+`` (activation), ``-`` (repression), ``+-`` (both reported:
  dual) or ``?`` (unknown). Regulators are named by protein (``crp``, ``lacI``),
  by complex (``flhD;flhC``, ``ihf``) or are not proteins (``TPP``, ``his-tRNA``).
* ``data/ecoli/trn_regulators.csv`` and ``trn_gene_names.csv``: derived by
  :func:`derive_name_tables` from PRECISE's gene table (Sastry et al. 2019,
  MIT): each regulator's kind and b-numbers, and each gene's name.

Nodes (``var_annotations['kind']``)
-----------------------------------
* ``gene``: one per b-number (every regulated gene and every gene that encodes a
  regulator); a regulator encoded by one gene *is* that gene's node.
* ``complex``: a regulator encoded by several genes: a protein complex
  (``flhD;flhC``, IHF = ``ihfA;ihfB``, HU, toxin-antitoxin pairs) or a regulator
  whose gene is split in two by an insertion in MG1655 (``gatR``, ``glpR``).
  It is a node of its own (named as in the file), activated by each encoding
  gene (one ``subunit`` edge per gene). SERGIO's production is a *sum* of Hill
  terms, so a complex is made when either subunit is expressed (an OR, not the
  AND of a binding equilibrium): knocking out one subunit halves its production.
* ``signal``: a regulator that is not a protein: a small molecule (riboswitch or
  effector: ``FMN``, ``TPP``, ``L-tryptophan``...) or a charged tRNA
  (attenuation: ``his-tRNA``...). An input node with a constant basal rate and
  no regulator; the cell's metabolic state would set it (issue 17 point 3).

Sigma factors (rpoD, rpoS, rpoH, rpoN, rpoE, fliA, fecI) are genes whose edges
are activations. Their competition for the RNA polymerase core is not modelled
here: each acts as an independent activator.

Edges
-----
One edge per file row, regulator node -> regulated gene, ``K = +k`` for ``+``
and ``-k`` for ``-``. ``+-`` and ``?`` follow ``dual`` and ``unknown``:
``'activation'`` (default, so that the edge stays in the ground-truth graph and
acts), ``'repression'`` or ``'drop'``. The file's code stays in
``edge_annotations['effect']``, so a benchmark can leave out unsigned edges.
Two rows that name the same regulator node and gene (``cecR`` and ``ybiH`` are
two names of b0796; both list b0796) merge into one edge whose effect combines
theirs (``+`` with ``-`` gives ``+-``; ``?`` adds nothing).

Parameters: generic, not fitted
-------------------------------
Nothing in this file gives rates, so every edge gets ``k = 3`` (the median
``|K|`` of SERGIO's published networks DS1-DS3: 3.07, 2.86, 3.00, measured with
``read_sergio``) and Hill coefficient ``n = 2`` (SERGIO's value in all of them),
and every node without a regulator other than itself (master regulator,
signal, a gene that only regulates itself) a basal rate ``1`` (per unit time, SERGIO's arbitrary units; the DS1-DS3 medians are 0.49,
2.02, 1.14). Calibrating them to PRECISE's wild type is a later step of issue 17.

Cycles
------
The TRN has autoregulation and feedback loops, so SERGIO's level order does not
exist: :func:`~greybox_processes.grn.steady_state.steady_state`,
``half_responses``, ``GRNParams.from_network`` (hence the ``GRN`` process) and
``simulate_differentiation`` raise an error naming the cycle genes.
:func:`~greybox_processes.grn.simulate` runs it: it solves SERGIO's steady state
(``x = (b + sum p(x)) / lambda`` with half responses ``h = mean x``) by
fixed-point iteration, with and without perturbations.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from greybox_processes.errors import NetworkFormatError
from greybox_processes.grn.network import GRNNetwork

__all__ = ["read_trn", "read_name_tables", "derive_name_tables", "TRN_PATH", "REGULATORS_PATH",
           "GENE_NAMES_PATH", "DEFAULT_K", "DEFAULT_HILL", "DEFAULT_BASAL", "EFFECT_POLICIES",
           "NODE_KINDS"]

logger = logging.getLogger(__name__)

_DATA = Path(__file__).resolve().parent.parent / "data" / "ecoli"
TRN_PATH = _DATA / "trn.csv"
REGULATORS_PATH = _DATA / "trn_regulators.csv"
GENE_NAMES_PATH = _DATA / "trn_gene_names.csv"

DEFAULT_K = 3.0      # median |K| of SERGIO's DS1-DS3 (see the module docstring)
DEFAULT_HILL = 2.0   # SERGIO's Hill coefficient in every published data set
DEFAULT_BASAL = 1.0  # basal rate of a node without regulator (order of DS1-DS3's medians)
EFFECT_POLICIES = ("activation", "repression", "drop")
NODE_KINDS = ("gene", "complex", "signal")
_EFFECTS = ("+", "-", "+-", "?")
_B_NUMBER = re.compile(r"^b\d{4}(_\d+)?$")

# Regulators that are not proteins (resolved to kind 'signal').
_SMALL_MOLECULES = frozenset({"FMN", "L-tryptophan", "TPP", "adenosylcobalamin", "manganese",
                              "molybdopterin", "spermidine"})
# Regulator names of trn.csv that are not gene names of PRECISE's gene table, as the gene
# name(s) the table uses (EcoCyc synonyms; the table's operon column names most of them,
# e.g. yehT lies in operon 'btsSR', ybiH in 'cecR-ybhGFSR').
_SYNONYMS = {
    "h-NS": "hns", "hU": "hupA;hupB", "ihf": "ihfA;ihfB", "hipAB": "hipA;hipB",
    "ntrC": "glnG", "bCCP": "accB", "btsR": "yehT", "cecR": "ybiH", "comR": "ycfQ",
    "csqR": "yihW", "dpiA": "citB", "envR": "acrS", "gutM": "srlM", "hprR": "yedW",
    "matA": "ecpR", "nimR": "yeaM", "pdeL": "yahA", "sutR": "ydcN",
}


def _read_trn_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise NetworkFormatError("file not found", file=path,
                                 fix="pass the path of a TRN csv (regulator,gene_id,effect) or "
                                     "None for the shipped E. coli TRN")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(table.columns) != ["regulator", "gene_id", "effect"]:
        raise NetworkFormatError(f"columns are {list(table.columns)}", file=path, line=1,
                                 fix="the header must be: regulator,gene_id,effect")
    for row, (reg, gene, effect) in enumerate(table.itertuples(index=False), start=2):
        if not reg:
            raise NetworkFormatError("empty regulator", file=path, line=row,
                                     fix="name the regulator")
        if not _B_NUMBER.match(gene):
            raise NetworkFormatError(f"gene_id {gene!r} is not a b-number", file=path, line=row,
                                     fix="use b-numbers such as b0344 (or b4490_2 for a part)")
        if effect not in _EFFECTS:
            raise NetworkFormatError(f"effect {effect!r} is not one of {_EFFECTS}", file=path,
                                     line=row, fix="'+' activation, '-' repression, '+-' dual, "
                                                   "'?' unknown")
    return table


def read_name_tables(regulators_path=None, gene_names_path=None):
    """The derived tables: regulators (indexed by the file's name) and gene names.

    Returns
    -------
    regulators : DataFrame with ``kind`` (one of :data:`NODE_KINDS`), ``b_numbers``
        (';'-joined, empty for a signal), ``gene_names`` and ``resolved_by``.
    gene_names : Series b-number -> gene name.
    """
    rpath = Path(regulators_path or REGULATORS_PATH)
    gpath = Path(gene_names_path or GENE_NAMES_PATH)
    for p in (rpath, gpath):
        if not p.is_file():
            raise NetworkFormatError("file not found", file=p,
                                     fix="rebuild it with greybox_processes.grn.ecoli_trn."
                                         "derive_name_tables(gene_table, out_dir=...)")
    regs = pd.read_csv(rpath, dtype=str, keep_default_na=False).set_index("regulator")
    bad = sorted(set(regs["kind"]) - set(NODE_KINDS))
    if bad:
        raise NetworkFormatError(f"unknown regulator kinds {bad}", file=rpath,
                                 fix=f"kinds are {NODE_KINDS}")
    names = pd.read_csv(gpath, dtype=str, keep_default_na=False).set_index("b_number")
    return regs, names["gene_name"]


def _combine(effects) -> str:
    """Effect of rows merged into one edge: '+' and '-' give '+-'; '?' adds nothing."""
    signs = set()
    for e in effects:
        signs.update({"+": "+", "-": "-", "+-": "+-", "?": ""}[e])
    return {frozenset(): "?", frozenset("+"): "+", frozenset("-"): "-"}.get(frozenset(signs),
                                                                            "+-")


def _edge_sign(effect: str, dual: str, unknown: str) -> float:
    if effect in ("+", "-"):
        return 1.0 if effect == "+" else -1.0
    policy = dual if effect == "+-" else unknown
    return {"activation": 1.0, "repression": -1.0, "drop": 0.0}[policy]


def read_trn(path=None, *, regulators_path=None, gene_names_path=None, dual: str = "activation",
             unknown: str = "activation", k: float = DEFAULT_K, hill: float = DEFAULT_HILL,
             basal: float = DEFAULT_BASAL, extra_genes=()) -> GRNNetwork:
    """Read the E. coli TRN (or a file of the same layout) as a one-cell-type GRN.

    Parameters
    ----------
    path : path or None
        ``regulator,gene_id,effect`` csv; None: the shipped ``data/ecoli/trn.csv``.
    regulators_path, gene_names_path : path or None
        Name tables (see :func:`read_name_tables`); None: the shipped ones.
    dual, unknown : 'activation', 'repression' or 'drop'
        Sign given to ``+-`` and to ``?`` edges.
    k : float > 0, ``|K|`` of every edge (production rate, per unit time).
    hill : float > 0, Hill coefficient of every edge.
    basal : float >= 0, basal rate (per unit time) of every node without a regulator
        other than itself (see :func:`_input_free`); the other nodes have none (SERGIO).
    extra_genes : iterable of b-numbers
        Genes to add without any edge (master regulators at ``basal``), e.g. the
        PRECISE genes that the TRN does not name.

    Returns
    -------
    GRNNetwork with ``gene_names`` (b-numbers, complex and signal names),
    ``var_annotations`` ``kind`` and ``gene_name``, ``edge_annotations``
    ``effect`` (file code, ``subunit`` for complex formation), ``source``
    (``trn`` or ``subunit``) and ``trn_regulator`` (the file's name(s)).
    Its ``level`` is ``-1`` for the genes on or above a cycle (see module docstring).
    """
    for name, policy in (("dual", dual), ("unknown", unknown)):
        if policy not in EFFECT_POLICIES:
            raise ValueError(f"{name} must be one of {EFFECT_POLICIES}, got {policy!r}")
    if not (np.isfinite(k) and k > 0 and np.isfinite(hill) and hill > 0):
        raise ValueError(f"k and hill must be finite and > 0, got k={k!r}, hill={hill!r}")
    if not (np.isfinite(basal) and basal >= 0):
        raise ValueError(f"basal must be finite and >= 0, got {basal!r}")
    tpath = Path(path) if path is not None else TRN_PATH
    table = _read_trn_table(tpath)
    regs, gene_name = read_name_tables(regulators_path, gene_names_path)
    unknown_regs = sorted(set(table["regulator"]) - set(regs.index))
    if unknown_regs:
        raise NetworkFormatError(
            f"{len(unknown_regs)} regulators have no entry in the regulator table: "
            f"{', '.join(unknown_regs[:10])}", file=tpath,
            fix="rebuild the name tables for this file with derive_name_tables(gene_table, trn)")
    extra = [str(g) for g in extra_genes]
    bad = [g for g in extra if not _B_NUMBER.match(g)]
    if bad:
        raise ValueError(f"extra_genes must be b-numbers, got {bad[:5]}")

    kind = regs["kind"].to_dict()
    subunits = {r: [b for b in regs.at[r, "b_numbers"].split(";") if b]
                for r in set(table["regulator"])}
    genes = set(table["gene_id"]) | set(extra)
    for r, bs in subunits.items():
        genes.update(bs)
    complexes = sorted(r for r in subunits if kind[r] == "complex")
    signals = sorted(r for r in subunits if kind[r] == "signal")
    names = sorted(genes) + complexes + signals
    index = {n: i for i, n in enumerate(names)}

    def node_of(reg):
        return subunits[reg][0] if kind[reg] == "gene" else reg

    # one edge per (regulator node, gene); rows naming one node twice are merged
    merged: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for reg, gene, effect in table.itertuples(index=False):
        merged.setdefault((node_of(reg), gene), []).append((reg, effect))
    rows = []
    for (node, gene), found in merged.items():
        effect = _combine(e for _, e in found)
        rows.append((node, gene, effect, "trn", "|".join(r for r, _ in found),
                     _edge_sign(effect, dual, unknown)))
    for c in complexes:
        rows.extend((b, c, "subunit", "subunit", c, 1.0) for b in subunits[c])
    rows = [r for r in rows if r[5] != 0.0]
    if len(merged) < len(table):
        logger.info("%s: %d rows merged into edges they duplicate (synonymous regulator names)",
                    tpath, len(table) - len(merged))

    kinds = np.array(["gene"] * (len(names) - len(complexes) - len(signals))
                     + ["complex"] * len(complexes) + ["signal"] * len(signals))
    net = GRNNetwork.from_arrays(
        np.zeros((1, len(names))),
        edge_target=[index[r[1]] for r in rows], edge_regulator=[index[r[0]] for r in rows],
        edge_k=[k * r[5] for r in rows], edge_hill=[float(hill)] * len(rows),
        allow_cycles=True, interactions_file=str(tpath),
        regs_file=str(Path(regulators_path or REGULATORS_PATH)), gene_names=tuple(names),
        var_annotations={"kind": kinds,
                         "gene_name": np.array([gene_name.get(n, n) for n in names])},
        edge_annotations={"effect": np.array([r[2] for r in rows], dtype=object),
                          "source": np.array([r[3] for r in rows], dtype=object),
                          "trn_regulator": np.array([r[4] for r in rows], dtype=object)})
    return dataclasses.replace(net, basal=np.where(_input_free(net), float(basal), 0.0)[None, :])


def _input_free(net: GRNNetwork) -> np.ndarray:
    """(n_genes,) bool: nodes whose strongly connected component has no regulator outside it.

    These are the master regulators and the nodes whose only regulator is themselves (7 in
    the TRN). Those get the basal rate too: with production ``K H(x)`` alone a self-activated
    node has ``x = 0`` as an absorbing state and its SERGIO steady state ``x = h`` is a
    saddle-node (``F'(h) = 1``), so noise would switch it off for good.
    """
    g = net.n_genes
    adjacency = sp.csr_matrix((np.ones(net.n_edges), (net.edge_regulator, net.edge_target)),
                              shape=(g, g))
    _, component = connected_components(adjacency, directed=True, connection="strong")
    fed = np.zeros(int(component.max()) + 1, dtype=bool)
    outside = component[net.edge_regulator] != component[net.edge_target]
    fed[component[net.edge_target[outside]]] = True
    return ~fed[component]


def _resolve(reg: str, by_name: dict[str, list[str]]) -> tuple[str, list[str], str]:
    """(kind, b-numbers, how) of a regulator name; ValueError if it names no gene."""
    if reg in _SMALL_MOLECULES:
        return "signal", [], "small molecule"
    if reg.endswith("-tRNA"):
        return "signal", [], "charged tRNA (attenuation)"
    how = f"synonym of {_SYNONYMS[reg]} (EcoCyc)" if reg in _SYNONYMS else "gene name"
    found = []
    for part in _SYNONYMS.get(reg, reg).split(";"):
        hits = by_name.get(part.lower(), [])
        if not hits:  # a gene split by an insertion: name_1, name_2 in the table
            hits = [b for i in range(1, 10) for b in by_name.get(f"{part.lower()}_{i}", [])]
            how = "gene split in MG1655 (parts _1, _2)" if hits else how
            if len(hits) < 2:
                hits = []
        elif len(hits) > 1:
            raise ValueError(f"regulator {reg!r}: gene name {part!r} is ambiguous ({hits})")
        if not hits:
            raise ValueError(f"regulator {reg!r}: no gene named {part!r} in the gene table; "
                             "add it to ecoli_trn._SYNONYMS or _SMALL_MOLECULES")
        found.extend(hits)
    return ("gene" if len(found) == 1 else "complex"), found, how


def derive_name_tables(gene_table, trn=None, out_dir=None):
    """Build the regulator and gene-name tables from PRECISE's gene table.

    Parameters
    ----------
    gene_table : path of ``precise_gene_table.csv`` (index b-number, column ``gene_name``;
        ``../shared/refdata/transcriptome/`` on the development machines).
    trn : path of the TRN csv (default: the shipped one).
    out_dir : folder to write ``trn_regulators.csv`` and ``trn_gene_names.csv`` to, or None.

    Returns
    -------
    (regulators DataFrame, gene names DataFrame), as written.
    """
    genes = pd.read_csv(gene_table, index_col=0, dtype=str, keep_default_na=False)
    by_name: dict[str, list[str]] = {}
    for b, name in genes["gene_name"].items():
        by_name.setdefault(name.lower(), []).append(b)
    table = _read_trn_table(Path(trn) if trn is not None else TRN_PATH)
    rows = []
    for reg in sorted(set(table["regulator"])):
        kind, bs, how = _resolve(reg, by_name)
        rows.append({"regulator": reg, "kind": kind, "b_numbers": ";".join(bs),
                     "gene_names": ";".join(genes.at[b, "gene_name"] for b in bs),
                     "resolved_by": how})
    regulators = pd.DataFrame(rows)
    named = sorted(set(table["gene_id"]) | {b for r in rows for b in r["b_numbers"].split(";")
                                            if b})
    missing = [b for b in named if b not in genes.index]
    if missing:
        raise ValueError(f"{len(missing)} b-numbers of the TRN are not in {gene_table}: "
                         f"{missing[:5]}")
    gene_names = pd.DataFrame({"b_number": named,
                               "gene_name": [genes.at[b, "gene_name"] for b in named]})
    if out_dir is not None:
        regulators.to_csv(Path(out_dir) / "trn_regulators.csv", index=False)
        gene_names.to_csv(Path(out_dir) / "trn_gene_names.csv", index=False)
    return regulators, gene_names
