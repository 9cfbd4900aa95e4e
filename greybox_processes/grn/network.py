"""Gene regulatory networks in SERGIO's file format.

SERGIO (Dibaeinia & Sinha 2020) describes a network with two comma separated
files (its "v1" format, also used by the published data sets DS1..DS8):

* the *interactions* file, one row per non-master-regulator (target) gene::

      target_id, n_regs, reg_id_1..reg_id_n, K_1..K_n, hill_1..hill_n

  ``K > 0`` is an activation of strength ``K``, ``K < 0`` a repression of
  strength ``|K|``;
* the *regulators* file, one row per master regulator (MR)::

      mr_id, basal_rate_celltype_1..basal_rate_celltype_C

Gene ids are written as floats (``53.0``). Genes are indexed ``0..G-1`` in
increasing order of their id; in every SERGIO data set the ids are exactly
``0..G-1`` so that index == id (checked by the tests on DS1-DS3).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
from pathlib import Path

import numpy as np

from greybox_processes.errors import NetworkFormatError

__all__ = ["GRNNetwork", "read_sergio", "compute_levels"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
class GRNNetwork:
    """A SERGIO gene regulatory network (immutable; numpy arrays).

    Attributes
    ----------
    gene_ids : (n_genes,) int64
        Original ids of the genes, sorted increasingly; gene ``i`` of every array
        below is ``gene_ids[i]``.
    master_regulators : (n_mr,) int64
        Indices of the master regulators (genes without regulators).
    basal : (n_cell_types, n_genes) float64
        Basal production rate ``b_i`` per cell type; zero for non-MR genes.
    edge_target, edge_regulator : (n_edges,) int64
        Indices of the regulated and the regulating gene of each edge, in the
        order of the interactions file.
    edge_k : (n_edges,) float64
        Signed interaction strength ``K`` (``<0``: repression).
    edge_hill : (n_edges,) float64
        Hill coefficient ``n`` of each edge.
    level : (n_genes,) int64
        SERGIO's level of each gene: 0 for genes without targets, otherwise
        ``1 + max(level of its targets)`` (longest-path layering). Steady
        states are computed from the highest level down. ``-1`` marks a gene
        that has no level because it lies on, or regulates into, a regulatory
        cycle (only networks built with ``allow_cycles=True``, e.g. E. coli's
        TRN); :attr:`levels` then raises, naming the cycle genes.
    interactions_file, regs_file : str or None
        Files the network was read from.
    gene_names : tuple of str or None
        Names of the genes (e.g. b-numbers); ``None``: ``str(gene_id)``.
    var_annotations : dict or None
        Extra per-gene columns ``name -> (n_genes,) array`` (copied into
        ``AnnData.var`` by :func:`~greybox_processes.grn.simulate`).
    edge_annotations : dict or None
        Extra per-edge columns ``name -> (n_edges,) array`` (copied into the
        ground-truth edge table ``uns['grn_edges']``).
    """

    gene_ids: np.ndarray
    master_regulators: np.ndarray
    basal: np.ndarray
    edge_target: np.ndarray
    edge_regulator: np.ndarray
    edge_k: np.ndarray
    edge_hill: np.ndarray
    level: np.ndarray
    interactions_file: str | None = None
    regs_file: str | None = None
    gene_names: tuple | None = None
    var_annotations: dict | None = None
    edge_annotations: dict | None = None

    @property
    def names(self) -> list[str]:
        """Name of every gene: ``gene_names`` or the id written as an integer."""
        if self.gene_names is not None:
            return [str(n) for n in self.gene_names]
        return [str(int(g)) for g in self.gene_ids]

    @property
    def is_acyclic(self) -> bool:
        """True when every gene has a SERGIO level (no regulatory cycle)."""
        return bool((self.level >= 0).all())

    def cycle_genes(self) -> np.ndarray:
        """Indices of the genes that lie on a directed regulatory cycle (self loops included)."""
        targets_of = [[] for _ in range(self.n_genes)]
        for t, r in zip(self.edge_target, self.edge_regulator):
            targets_of[int(r)].append(int(t))
        return np.asarray(_genes_on_cycles(targets_of), dtype=np.int64)

    def require_acyclic(self, what: str) -> None:
        """Raise :class:`NetworkFormatError` naming the cycle genes if ``what`` needs a DAG."""
        if self.is_acyclic:
            return
        on_cycle = self.cycle_genes()
        names = self.names
        shown = ", ".join(names[i] for i in on_cycle[:12])
        more = f" and {on_cycle.size - 12} more" if on_cycle.size > 12 else ""
        raise NetworkFormatError(
            f"{what} needs an acyclic network (SERGIO's level-by-level steady state), but "
            f"{on_cycle.size} genes lie on regulatory cycles: {shown}{more}",
            file=self.interactions_file, line=None,
            fix="use greybox_processes.grn.simulate, which solves a cyclic network's steady "
                "state by fixed-point iteration, or remove an edge of every cycle "
                "(e.g. the self loops) to get a DAG")

    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return int(self.gene_ids.shape[0])

    @property
    def n_cell_types(self) -> int:
        """Number of cell types (rows of ``basal``)."""
        return int(self.basal.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of regulatory edges."""
        return int(self.edge_target.shape[0])

    @property
    def is_master_regulator(self) -> np.ndarray:
        """(n_genes,) bool mask of the master regulators."""
        mask = np.zeros(self.n_genes, dtype=bool)
        mask[self.master_regulators] = True
        return mask

    @property
    def levels(self) -> tuple[np.ndarray, ...]:
        """Gene indices grouped by level, in processing order (highest level first).

        This is a topological order: every regulator sits in an earlier group
        than all of its targets. Raises :class:`NetworkFormatError` naming the
        cycle genes when the network has a cycle.
        """
        self.require_acyclic("the level order (steady_state, half_responses, GRNParams)")
        return tuple(np.flatnonzero(self.level == lv)
                     for lv in range(int(self.level.max()), -1, -1))

    @classmethod
    def from_arrays(cls, basal, edge_target=(), edge_regulator=(), edge_k=(), edge_hill=(),
                    gene_ids=None, *, allow_cycles: bool = False, **metadata) -> "GRNNetwork":
        """Build a network directly from arrays (genes indexed ``0..G-1``).

        Parameters
        ----------
        basal : (n_cell_types, n_genes) array
            Basal rates; the genes with no incoming edge are the master regulators.
        edge_target, edge_regulator, edge_k, edge_hill : (n_edges,) arrays
        gene_ids : (n_genes,) ints, optional (default ``arange(n_genes)``)
        allow_cycles : bool
            If False (default) a cycle is a ``ValueError``; if True the genes
            without a level get ``level = -1`` (see the class docstring).
        **metadata
            ``interactions_file``, ``regs_file``, ``gene_names``,
            ``var_annotations``, ``edge_annotations`` (see the class docstring).
        """
        basal = np.atleast_2d(np.asarray(basal, dtype=np.float64))
        n_genes = basal.shape[1]
        tgt = np.asarray(edge_target, dtype=np.int64).reshape(-1)
        reg = np.asarray(edge_regulator, dtype=np.int64).reshape(-1)
        targets_of = [[] for _ in range(n_genes)]
        for t, r in zip(tgt, reg):
            targets_of[r].append(t)
        level = compute_levels(targets_of, partial=allow_cycles)
        if level is None:
            raise ValueError("the edges contain a regulatory cycle; SERGIO needs an acyclic "
                             "network. Remove an edge of the cycle (or pass "
                             "allow_cycles=True and simulate it with grn.simulate).")
        is_target = np.zeros(n_genes, dtype=bool)
        is_target[tgt] = True
        return cls(
            gene_ids=np.arange(n_genes, dtype=np.int64) if gene_ids is None
            else np.asarray(gene_ids, dtype=np.int64),
            master_regulators=np.flatnonzero(~is_target).astype(np.int64),
            basal=np.where(is_target[None, :], 0.0, basal),
            edge_target=tgt, edge_regulator=reg,
            edge_k=np.asarray(edge_k, dtype=np.float64).reshape(-1),
            edge_hill=np.asarray(edge_hill, dtype=np.float64).reshape(-1),
            level=level, **metadata)


def compute_levels(targets_of: list[list[int]], partial: bool = False) -> np.ndarray | None:
    """SERGIO's longest-path layering, bottom up.

    Parameters
    ----------
    targets_of : list (n_genes) of lists of target indices
    partial : bool
        What a cycle gives: ``None`` (False) or levels with ``-1`` for the
        genes that cannot be levelled (True).

    Returns
    -------
    (n_genes,) int64 levels, or ``None`` when a cycle prevents layering.
    """
    n = len(targets_of)
    # Kahn's algorithm on the reversed graph: a gene gets its level once all of
    # its targets have one (this is exactly SERGIO's U/Z/V loop, in O(E)).
    remaining = np.array([len(set(t)) for t in targets_of], dtype=np.int64)
    regulators_of = [[] for _ in range(n)]
    for r, tars in enumerate(targets_of):
        for t in set(tars):
            regulators_of[t].append(r)
    level = np.full(n, -1, dtype=np.int64)
    frontier = [g for g in range(n) if remaining[g] == 0]
    for g in frontier:
        level[g] = 0
    while frontier:
        nxt = []
        for t in frontier:
            for r in regulators_of[t]:
                level[r] = max(level[r], level[t] + 1)
                remaining[r] -= 1
                if remaining[r] == 0:
                    nxt.append(r)
        frontier = nxt
    if (remaining > 0).any():
        if not partial:
            return None
        level[remaining > 0] = -1
    return level


def _parse_float(field: str, file: str, line: int, what: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise NetworkFormatError(
            f"{what} is not a number: {field.strip()!r}", file=file, line=line,
            fix="every field of a SERGIO network file must be a number") from None
    if not math.isfinite(value):
        raise NetworkFormatError(f"{what} is not finite: {field.strip()!r}", file=file,
                                 line=line, fix="use finite numbers")
    return value


def _parse_id(field: str, file: str, line: int, what: str) -> int:
    value = _parse_float(field, file, line, what)
    if value != int(value) or value < 0:
        raise NetworkFormatError(f"{what} must be a non-negative integer, got {field.strip()!r}",
                                 file=file, line=line,
                                 fix="gene ids are integers 0..G-1 (written e.g. as 12 or 12.0)")
    return int(value)


def _rows(path: str):
    """Yield (1-based line number, fields) of the non-blank lines of a CSV file."""
    with open(path, "r", encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text:
                continue
            yield lineno, [f.strip() for f in text.split(",")]


def _read_interactions(path: str, shared_coop_state):
    rows = {}  # target id -> (line, regs, ks, hills)
    for lineno, fields in _rows(path):
        if len(fields) < 2:
            raise NetworkFormatError(
                f"expected at least 2 fields (target, n_regs), got {len(fields)}",
                file=path, line=lineno,
                fix="rows are: target, n_regs, reg ids, K values, hill coefficients")
        target = _parse_id(fields[0], path, lineno, "target id")
        n_regs = _parse_float(fields[1], path, lineno, "number of regulators")
        if n_regs != int(n_regs) or n_regs < 1:
            raise NetworkFormatError(
                f"number of regulators must be a positive integer, got {fields[1]!r}",
                file=path, line=lineno,
                fix="master regulators belong in the regulators file, not here")
        n = int(n_regs)
        allowed = {2 + 3 * n}
        if shared_coop_state is not None and shared_coop_state > 0:
            allowed.add(2 + 2 * n)  # hill columns optional when they are overridden
        if len(fields) not in allowed:
            raise NetworkFormatError(
                f"target {target} declares {n} regulators, so the row needs "
                f"{2 + 3 * n} fields, but it has {len(fields)}",
                file=path, line=lineno,
                fix="write target, n_regs, then n regulator ids, n K values and n hill "
                    "coefficients")
        regs = [_parse_id(f, path, lineno, "regulator id") for f in fields[2:2 + n]]
        ks = [_parse_float(f, path, lineno, "K") for f in fields[2 + n:2 + 2 * n]]
        if shared_coop_state is not None and shared_coop_state > 0:
            hills = [float(shared_coop_state)] * n
        else:
            hills = [_parse_float(f, path, lineno, "hill coefficient")
                     for f in fields[2 + 2 * n:2 + 3 * n]]
            if any(h <= 0 for h in hills):
                raise NetworkFormatError("hill coefficients must be > 0", file=path,
                                         line=lineno, fix="use e.g. 2.0")
        if len(set(regs)) != len(regs):
            raise NetworkFormatError(f"target {target} lists a regulator twice", file=path,
                                     line=lineno, fix="merge the duplicated interaction")
        if target in regs:
            raise NetworkFormatError(f"gene {target} regulates itself", file=path, line=lineno,
                                     fix="SERGIO needs an acyclic network; drop the self loop")
        if target in rows:
            raise NetworkFormatError(
                f"target {target} already has a row (line {rows[target][0]})",
                file=path, line=lineno, fix="give each target gene one row")
        rows[target] = (lineno, regs, ks, hills)
    return rows


def _read_regs(path: str):
    rows = {}  # mr id -> (line, basal rates)
    n_types = None
    first_line = None
    for lineno, fields in _rows(path):
        if len(fields) < 2:
            raise NetworkFormatError(
                "a master regulator row needs an id and at least one basal rate",
                file=path, line=lineno, fix="rows are: mr_id, basal_1..basal_C")
        mr = _parse_id(fields[0], path, lineno, "master regulator id")
        rates = [_parse_float(f, path, lineno, "basal rate") for f in fields[1:]]
        if any(r < 0 for r in rates):
            raise NetworkFormatError("basal rates must be >= 0", file=path, line=lineno,
                                     fix="production rates cannot be negative")
        if n_types is None:
            n_types, first_line = len(rates), lineno
        elif len(rates) != n_types:
            raise NetworkFormatError(
                f"{len(rates)} cell types in this row but {n_types} on line {first_line}",
                file=path, line=lineno,
                fix="give every master regulator one basal rate per cell type")
        if mr in rows:
            raise NetworkFormatError(f"master regulator {mr} already has a row "
                                     f"(line {rows[mr][0]})", file=path, line=lineno,
                                     fix="give each master regulator one row")
        rows[mr] = (lineno, rates)
    if not rows:
        raise NetworkFormatError("no master regulator found", file=path, line=None,
                                 fix="a SERGIO network needs at least one master regulator")
    return rows, n_types


def read_sergio(interactions_path, regs_path=None, shared_coop_state=None) -> GRNNetwork:
    """Read a network in SERGIO's (v1) file format.

    Parameters
    ----------
    interactions_path : str or path
        The interactions file, or the name of a vendored data set (``'DS1'``,
        ``'DS2'``, ``'DS3'``, ``'DS6'``, see :func:`dataset_path`) in which
        case ``regs_path`` must be ``None``.
    regs_path : str or path
        The master-regulator file.
    shared_coop_state : float, optional
        As in SERGIO: if ``> 0`` it replaces every hill coefficient (and the
        hill columns of the interactions file become optional).

    Returns
    -------
    GRNNetwork

    Raises
    ------
    NetworkFormatError
        Naming the file and 1-based line of the first problem found.
    """
    if regs_path is None:
        from greybox_processes.grn.datasets import dataset_path  # local: avoid a cycle
        interactions_path, regs_path = dataset_path(str(interactions_path))[:2]
    ipath, rpath = os.fspath(interactions_path), os.fspath(regs_path)
    for p in (ipath, rpath):
        if not Path(p).is_file():
            raise NetworkFormatError("file not found", file=p, line=None,
                                     fix="check the path (or use a data set name like 'DS1')")
    targets = _read_interactions(ipath, shared_coop_state)
    mrs, n_types = _read_regs(rpath)

    for mr, (lineno, _) in mrs.items():
        if mr in targets:
            raise NetworkFormatError(
                f"gene {mr} is a master regulator but also a target "
                f"(line {targets[mr][0]} of {ipath})",
                file=rpath, line=lineno,
                fix="a gene is either a master regulator (regulators file) or a target "
                    "(interactions file), not both")
    known = set(targets) | set(mrs)
    for t, (lineno, regs, _, _) in targets.items():
        for r in regs:
            if r not in known:
                raise NetworkFormatError(
                    f"regulator {r} of target {t} is not a known gene: it has no row in "
                    f"the interactions file and is not a master regulator",
                    file=ipath, line=lineno,
                    fix=f"add gene {r} to the regulators file or fix the id")

    gene_ids = np.array(sorted(known), dtype=np.int64)
    index = {int(g): i for i, g in enumerate(gene_ids)}
    if not np.array_equal(gene_ids, np.arange(gene_ids.size)):
        logger.info("gene ids of %s are not 0..G-1; genes are indexed by sorted id", ipath)
    n_genes = gene_ids.size

    tgt, reg, ks, hills, lines = [], [], [], [], []
    for t, (lineno, regs, kk, hh) in sorted(targets.items(), key=lambda kv: kv[1][0]):
        for r, k, h in zip(regs, kk, hh):
            tgt.append(index[t])
            reg.append(index[r])
            ks.append(k)
            hills.append(h)
            lines.append(lineno)
    targets_of = [[] for _ in range(n_genes)]
    for t, r in zip(tgt, reg):
        targets_of[r].append(t)
    level = compute_levels(targets_of)
    if level is None:
        # Report a target that lies on a cycle: such genes never get a level.
        unlevelled = _genes_on_cycles(targets_of)
        g = min(unlevelled, key=lambda i: targets[int(gene_ids[i])][0])
        raise NetworkFormatError(
            f"regulatory cycle through gene {int(gene_ids[g])} prevents levelling",
            file=ipath, line=targets[int(gene_ids[g])][0],
            fix="SERGIO simulates acyclic networks only; remove an edge of the cycle")

    basal = np.zeros((n_types, n_genes), dtype=np.float64)
    for mr, (_, rates) in mrs.items():
        basal[:, index[mr]] = rates
    return GRNNetwork(
        gene_ids=gene_ids,
        master_regulators=np.array(sorted(index[m] for m in mrs), dtype=np.int64),
        basal=basal,
        edge_target=np.array(tgt, dtype=np.int64),
        edge_regulator=np.array(reg, dtype=np.int64),
        edge_k=np.array(ks, dtype=np.float64),
        edge_hill=np.array(hills, dtype=np.float64),
        level=level,
        interactions_file=ipath,
        regs_file=rpath,
    )


def _genes_on_cycles(targets_of: list[list[int]]) -> list[int]:
    """Genes that lie on a directed cycle (repeatedly strip sinks and sources)."""
    alive = set(range(len(targets_of)))
    out = {g: set(t) for g, t in enumerate(targets_of)}
    changed = True
    while changed:
        changed = False
        has_in = {t for g in alive for t in out[g] if t in alive}
        for g in list(alive):
            if not (out[g] & alive) or g not in has_in:
                alive.discard(g)
                changed = True
    return sorted(alive)
