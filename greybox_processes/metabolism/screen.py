"""Genome-wide single-gene knockout screens on Dask.

:func:`essentiality_screen` knocks each gene out through the model's gene-protein-reaction
rules and asks whether the cell still grows. It solves far fewer LPs than a plain screen
without approximating anything: if none of the reactions a knockout disables carries flux in
the wild-type optimum the solver returns, that flux distribution stays feasible after the
knockout, so the knockout's optimum equals the wild type's. Genes that disable the same set of
reactions (subunits of one complex) share one LP. Only those LPs are solved, in chunks on Dask
workers, each of which unpickles the model once and changes bounds only inside ``with model:``.

Methods
-------
``'fba'``  growth by flux balance (Orth et al. 2011's iJO1366 screen is this method).
``'etfl'`` flux balance with the expression layer's constraints: protein is made from
    charged tRNAs, so translation needs the aminoacyl-tRNA synthetases (translation.py; in
    models that have them, such as iJO1366); growth is capped by the ribosome capacity of the
    wild type (growth law of Scott et al. 2010); and, where the model has them, the lac
    enzymes are capped at kcat x their level (expression.py). On iJO1366 / M9 glucose this
    makes essential the 20 synthetase genes and ``fmt`` that plain FBA calls non-essential,
    all 21 rightly (F1 0.723 -> 0.781, RESULTS.md).
"""
from __future__ import annotations

import contextlib
import math
import time as wallclock

import pandas as pd

from .errors import InfeasibleError, UnknownGeneError
from .media import apply_medium
from .models import biomass_reaction, load_model

__all__ = ["essentiality_screen", "reactions_lost", "METHODS"]

METHODS = ("fba", "etfl")
_FLUX_TOL = 1e-9


def reactions_lost(model, gene_id: str) -> list[str]:
    """Ids of the reactions whose gene rule is false once ``gene_id`` is knocked out."""
    gene = model.genes.get_by_id(gene_id)
    return sorted(r.id for r in gene.reactions if not r.gpr.eval(knockouts={gene_id}))


def _prepare(model, medium, method):
    """Apply the medium and the method's constraints.

    Returns (wild-type growth, solver status, ids of the charged tRNAs the biomass consumes).
    """
    apply_medium(model, medium)
    coupled = []
    if method == "etfl":
        from .expression import RibosomeParameters
        from .translation import couple_translation_to_trna, coupled_charged_trnas
        couple_translation_to_trna(model)  # inside the screen's 'with model:'
        coupled = coupled_charged_trnas(model)
        mu = model.slim_optimize(error_value=float("nan"))
        if math.isfinite(mu) and mu > 0:
            # ribosomes of the wild type at its growth rate cap every mutant's growth
            ribo = RibosomeParameters()
            r = ribo.r0 + mu / ribo.kappa_t_per_h
            biomass_reaction(model).upper_bound = ribo.kappa_t_per_h * (r - ribo.r0)
    mu = model.slim_optimize(error_value=float("nan"))
    return mu, model.solver.status, coupled


def _local_cluster(n_workers: int = 2):
    """A ``LocalCluster(n_workers, threads_per_worker=1, processes=True)`` and its client.

    Workers are forked where the platform allows it and no JAX/torch threads run in this
    process (0.4 s to start instead of 3 s with 'spawn' on the 2-core development machine): they inherit the imported modules and the
    prepared model (``_worker.FORKED``), and their tasks run no threads of their own.
    Returns ``(cluster, client, forked)``.
    """
    import multiprocessing
    import sys

    import dask
    from distributed import Client, LocalCluster

    # fork lets workers inherit the prepared model (fast start), but forking a process
    # that has started JAX's (or torch's) threads can deadlock: then use forkserver,
    # whose server is a fresh interpreter
    threaded = any(name in sys.modules for name in ("jax", "torch"))
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if "fork" in methods and not threaded else (
        "forkserver" if "forkserver" in methods else "spawn")
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
    return cluster, Client(cluster), method == "fork"


def _active_reactions(model) -> set:
    """Ids of reactions with non-zero flux in the model's current (just solved) optimum."""
    values = model.solver.primal_values
    return {r.id for r in model.reactions
            if abs(values[r.forward_variable.name] - values[r.reverse_variable.name]) > _FLUX_TOL}


def essentiality_screen(model, *, medium=None, method: str = "fba", threshold: float = 0.01,
                        genes=None, client=None, skip_unused: bool = True,
                        progress: bool = True, chunks_per_worker: int = 4) -> pd.DataFrame:
    """Single-gene knockout screen: which genes does the cell need to grow?

    Parameters
    ----------
    model : a :class:`cobra.Model` (not modified) or a bundled name / file path (models.py).
    medium : a medium name (media.py), a mapping ``{exchange: max uptake}``, or None (model's).
    method : ``'fba'`` or ``'etfl'`` (see module docstring).
    threshold : a gene is essential when knockout growth < ``threshold`` x wild-type growth
        (default 1%; the calls on iJO1366 / M9 glucose are the same for any threshold from
        1e-6 to 0.1).
    genes : gene ids to screen (default: all genes of the model).
    client : a :class:`distributed.Client`; default a ``LocalCluster(n_workers=2,
        threads_per_worker=1, processes=True)`` (forked workers) that is closed afterwards.
    skip_unused : infer (exactly) the growth of knockouts that disable no reaction carrying
        flux in the parsimonious wild-type optimum, instead of solving their LP.
    progress : show a tqdm progress bar over the LPs solved.

    Returns
    -------
    DataFrame with one row per gene: ``gene``, ``growth`` (1/h; 0 when infeasible),
    ``relative_growth``, ``essential``, ``status`` (solver status), ``solved`` (False when
    inferred from the wild-type optimum), ``reactions_lost``. ``attrs`` holds the wild-type
    growth, the method, the number of LPs solved, the wall time and (``'etfl'``) the charged
    tRNAs the biomass consumes (``trna_coupled``).

    Raises
    ------
    UnknownGeneError : a gene id not in the model.
    InfeasibleError : the wild type does not grow in this medium.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not (isinstance(threshold, (int, float)) and 0 <= threshold < 1):
        raise ValueError(f"threshold is a fraction of wild-type growth in [0, 1), got "
                         f"{threshold!r}")
    started = wallclock.perf_counter()
    stages = {}
    tick = wallclock.perf_counter()

    def stage(name):
        nonlocal tick
        now = wallclock.perf_counter()
        stages[name] = now - tick
        tick = now

    from cobra import Model

    with contextlib.ExitStack() as stack:
        if isinstance(model, Model):
            work = model
            stack.enter_context(work)  # every change below reverts on exit
        else:
            work = load_model(model)
        return _screen(work, medium, method, threshold, genes, client, skip_unused, progress,
                       chunks_per_worker, stage, stages, started)


def _screen(work, medium, method, threshold, genes, client, skip_unused, progress,
            chunks_per_worker, stage, stages, started):
    from tqdm.auto import tqdm

    wt, status, trna_coupled = _prepare(work, medium, method)
    stage("wild_type")
    if status != "optimal" or not (wt > 0):
        raise InfeasibleError(f"the wild type does not grow on this medium (solver status "
                              f"{status!r}, growth {wt}); an essentiality screen needs a "
                              "medium that supports growth", status=status)
    gene_ids = [g.id for g in work.genes] if genes is None else [str(g) for g in genes]
    missing = [g for g in gene_ids if g not in work.genes]
    if missing:
        raise UnknownGeneError(f"unknown gene id(s) {missing[:10]} for model {work.id!r}")
    lost = {g: reactions_lost(work, g) for g in gene_ids}
    active = set()
    if skip_unused:  # reactions carrying flux in the wild-type optimum just solved
        active = _active_reactions(work)
    stage("gene_rules_and_active_set")
    results = {}
    by_set = {}  # one LP per distinct set of lost reactions
    for g in gene_ids:
        if not lost[g]:
            results[g] = (wt, "optimal", False)  # no reaction lost: the model is unchanged
        elif skip_unused and not (set(lost[g]) & active):
            results[g] = (wt, "optimal", False)  # wild-type optimum stays feasible
        else:
            by_set.setdefault(tuple(lost[g]), []).append(g)
    to_solve = [(i, list(key)) for i, key in enumerate(by_set)]
    members = list(by_set.values())
    own_cluster = None
    if to_solve:
        import hashlib
        import pickle

        from . import _worker

        payload = pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL)
        token = hashlib.sha1(payload).hexdigest()
        forked = False
        if client is None:
            # our own cluster forks after the model is ready: workers inherit it unpickled
            _worker.FORKED[token] = work
            try:
                own_cluster, client, forked = _local_cluster()
            finally:
                _worker.FORKED.pop(token, None)
        try:
            n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
            n_chunks = min(len(to_solve), n_workers * max(int(chunks_per_worker), 1))
            chunks = [to_solve[i::n_chunks] for i in range(n_chunks)]
            if forked:
                payload = None
            else:
                # any other client: the model travels pickled with each chunk (2.4 MB for
                # iJO1366, cheaper than a broadcast scatter) and is unpickled once per worker;
                # the task module goes by value, so workers need not import greybox
                import cloudpickle
                cloudpickle.register_pickle_by_value(_worker)
            futures = [client.submit(_worker.solve_chunk, payload, token, chunk, pure=False)
                       for chunk in chunks]
            stage("cluster_and_submit")
            from distributed import as_completed
            with tqdm(total=len(to_solve), disable=not progress, desc="knockout LPs",
                      unit="gene") as bar:
                for future in as_completed(futures):
                    part = future.result()
                    for index, value, st in part:
                        for gene in members[index]:
                            results[gene] = (value, st, True)
                    bar.update(len(part))
            stage("knockout_lps")
        finally:
            if own_cluster is not None:
                client.close()
                own_cluster.close()
    rows = []
    for g in gene_ids:
        value, st, solved = results[g]
        rel = value / wt
        rows.append({"gene": g, "growth": value, "relative_growth": rel,
                     "essential": bool(st != "optimal" or rel < threshold), "status": st,
                     "solved": solved, "reactions_lost": ",".join(lost[g])})
    frame = pd.DataFrame(rows)
    frame.attrs.update({"wild_type_growth": wt, "method": method, "threshold": threshold,
                        "lps_solved": len(to_solve), "genes_solved": sum(map(len, members)),
                        "stages_s": stages, "wall_time_s": wallclock.perf_counter() - started,
                        "trna_coupled": trna_coupled,
                        "model": work.id})
    return frame
