"""E. coli's transcriptome (3923 PRECISE genes) driven by its TRN, calibrated to M9 glucose.

Model
-----
SERGIO's deterministic steady state on E. coli's TRN (:func:`~.ecoli_trn.read_trn`: 2643
nodes, 7945 edges, with complexes and signals), ``x_i = (b_i + sum_e p_e) / lambda_i`` with
``p_e = K_e H(a_r x_r; h_e)`` for an activation and ``|K_e| (1 - H(a_r x_r; h_e))`` for a
repression, ``H(x; h) = x^n / (h^n + x^n)``. ``a_r`` is the *activity* of regulator node
``r`` (1 = the reference condition: M9 glucose, 37 C, pH 7, aerobic): it multiplies the
regulator's level in its outgoing Hill terms, so its targets respond, and through them the
rest of the network (the solve is of the whole network, cycles included).

What is generic and what is calibrated
--------------------------------------
* Generic, from :mod:`.ecoli_trn` (not fitted): ``|K| = 3`` and ``n = 2`` for every edge, the
  basal rate 1 of every node without an outside regulator (0 for every other node),
  ``lambda = 0.8`` (cancels out of the steady state, see below).
* Half responses ``h_e`` are promoter constants fixed at the regulator's level in the
  reference steady state (:func:`~.perturbation.network_steady_state`: SERGIO's ``h = x``), so
  at activities 1 every Hill term is 1/2.
* Calibrated, on ``control__wt_glc__1`` and ``control__wt_glc__2`` of PRECISE only (their mean,
  :func:`reference_expression`): one scale per gene, ``TPM_i = TPM_ref_i * x_i / x_ref_i``
  (TPM = 2**log2(TPM+1) - 1), so that the steady state at activities 1 *is* the reference.
  One number per gene is all a single reference sample pins down; a second per-gene parameter
  (e.g. a basal rate) would be unidentifiable from it, so basal rates stay generic.
  Nothing else is fitted; no stress sample or other PRECISE sample is read.
* The 1343 PRECISE genes the TRN does not regulate are constitutive: constant at the
  reference. The 21 genes with reference TPM 0 stay at 0 (the linear map has scale 0).

Since ``h_e = x_ref_r`` the model is solved in normalised units ``y = x / x_ref``:
``y_i = P_i(a * y) / P_i(1)``, ``P_i(y) = b_i + sum_e p_e(y_r)`` (``lambda`` cancels), by
Newton's method on a sparse Jacobian, warm-started from the previous solution.

Relaxation
----------
:meth:`EcoliExpression.relax`: each gene's TPM relaxes towards its steady state at the mRNA
decay rate ``ln 2 / t_half`` (first order, exact exponential step for any ``dt`` in
minutes). Default ``t_half = 5 min``: a typical E. coli mRNA half-life (Bernstein et al. 2002,
PNAS 99:9697, genome-wide half-lives of 3-8 min for 80 % of the mRNAs, about 5 min typical).

Reference data: ``data/ecoli/precise_wt_glc_reference.csv`` (see SOURCES.md), written by
:func:`derive_reference`.
"""
from __future__ import annotations

import difflib
import functools
import logging
import math

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from greybox_processes.errors import SimulationError
from greybox_processes.grn.ecoli_trn import _DATA, read_name_tables, read_trn
from greybox_processes.grn.perturbation import network_steady_state

__all__ = ["REFERENCE_PATH", "REFERENCE_SAMPLES", "MRNA_HALF_LIFE_MIN", "EcoliExpression",
           "derive_reference", "reference_expression", "regulator_names", "steady_expression",
           "default_model"]

logger = logging.getLogger(__name__)

REFERENCE_PATH = _DATA / "precise_wt_glc_reference.csv"
#: PRECISE's wild-type M9 glucose samples (37 C, pH 7, aerobic): the only calibration data
REFERENCE_SAMPLES = ("control__wt_glc__1", "control__wt_glc__2")
#: typical E. coli mRNA half-life, minutes (Bernstein et al. 2002 PNAS 99:9697)
MRNA_HALF_LIFE_MIN = 5.0

_NEWTON_TOL = 1e-12   # max |y - F(y)| in normalised units (y = 1 at the reference)
_NEWTON_MAX = 60
_FIXED_POINT_MAX = 20_000


def derive_reference(log_tpm_path, out=None) -> pd.Series:
    """The reference vector: mean log2(TPM+1) of :data:`REFERENCE_SAMPLES`, 4 decimals.

    Parameters
    ----------
    log_tpm_path : PRECISE's ``precise_log_tpm.csv.gz`` (genes x samples, log2(TPM+1);
        ``../shared/refdata/transcriptome/`` on the development machines). Only the index
        column and the two reference columns are read.
    out : path to write the csv (``b_number,log2_tpm``) to, or None.
    """
    columns = pd.read_csv(log_tpm_path, nrows=0).columns
    missing = [s for s in REFERENCE_SAMPLES if s not in columns]
    if missing:
        raise ValueError(f"{log_tpm_path}: no column(s) {missing}; pass PRECISE's "
                         "precise_log_tpm.csv.gz (log2(TPM+1), genes x samples)")
    table = pd.read_csv(log_tpm_path, index_col=0,
                        usecols=[columns[0], *REFERENCE_SAMPLES])
    reference = table[list(REFERENCE_SAMPLES)].mean(axis=1).round(4)
    reference.index.name, reference.name = "b_number", "log2_tpm"
    if out is not None:
        reference.to_csv(out, float_format="%.4f")
    return reference


@functools.lru_cache(maxsize=1)
def _reference() -> pd.Series:
    if not REFERENCE_PATH.is_file():
        raise FileNotFoundError(f"{REFERENCE_PATH} is missing; rebuild it with greybox_processes."
                                "grn.ecoli_expression.derive_reference(precise_log_tpm.csv.gz, "
                                "out=...)")
    return pd.read_csv(REFERENCE_PATH, index_col=0)["log2_tpm"]


def reference_expression() -> pd.Series:
    """PRECISE's M9-glucose wild type, log2(TPM+1), indexed by b-number (3923 genes)."""
    return _reference().copy()


def regulator_names() -> list[str]:
    """The regulator names of ``trn.csv`` (e.g. ``'crp'``, ``'flhD;flhC'``, ``'TPP'``)."""
    regs, _ = read_name_tables()
    return sorted(regs.index)


class EcoliExpression:
    """The calibrated expression model (build once: reading the TRN takes seconds).

    Attributes
    ----------
    genes : (3923,) b-numbers, the order of every expression vector.
    regulators : sorted valid regulator names.
    """

    def __init__(self, net=None, reference: pd.Series | None = None):
        self.net = read_trn() if net is None else net
        ref = reference_expression() if reference is None else reference
        self.genes = np.asarray(ref.index, dtype=str)
        self.reference = np.asarray(ref.to_numpy(), dtype=np.float64)
        self.reference_tpm = np.exp2(self.reference) - 1.0
        net = self.net
        x_ref, h = network_steady_state(net)
        x_ref = x_ref[0]
        # SERGIO's h = x: every Hill term is 1/2 at the reference, so y = x / x_ref has h = 1
        if not np.allclose(h, x_ref[net.edge_regulator], rtol=1e-9):
            raise SimulationError("half responses differ from the reference regulator levels")
        self._reg, self._tgt = net.edge_regulator, net.edge_target
        self._k, self._n = net.edge_k, net.edge_hill
        self._basal = net.basal[0]
        self._p_ref = self._basal + np.bincount(self._tgt, 0.5 * np.abs(self._k),
                                                minlength=net.n_genes)
        node_of = {name: i for i, name in enumerate(net.names)}
        self._gene_node = np.array([node_of.get(g, -1) for g in self.genes])
        self._regulated = self._gene_node >= 0
        regs, _ = read_name_tables()
        self.regulators = sorted(regs.index)
        self._reg_node = {}
        for name, row in regs.iterrows():
            key = row["b_numbers"] if row["kind"] == "gene" else name
            self._reg_node[name] = node_of[key]
        self._y = np.ones(net.n_genes)

    # ------------------------------------------------------------------ activities
    def node_activity(self, activities) -> np.ndarray:
        """(n_nodes,) activity of every TRN node from ``{regulator name: activity}``."""
        a = np.ones(self.net.n_genes)
        for name, value in (activities or {}).items():
            if name not in self._reg_node:
                close = difflib.get_close_matches(str(name), self.regulators, n=5, cutoff=0.6)
                raise ValueError(
                    f"unknown regulator {name!r}; "
                    + (f"close matches: {', '.join(close)}" if close else
                       "valid names are those of data/ecoli/trn.csv (regulator_names())"))
            v = float(value)
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"activity of regulator {name!r} must be finite and >= 0 "
                                 f"(1 = the M9-glucose reference), got {value!r}")
            a[self._reg_node[name]] *= v  # two names of one node (cecR, ybiH) both act
        return a

    # ------------------------------------------------------------------ solve
    def _residual(self, y, a, jacobian=False):
        z = np.maximum(a[self._reg] * y[self._reg], 0.0)
        zn = np.power(z, self._n)
        r = zn / (1.0 + zn)
        prod = np.where(self._k < 0, -self._k * (1.0 - r), self._k * r)
        fy = (self._basal + np.bincount(self._tgt, prod, minlength=y.size)) / self._p_ref
        if not jacobian:
            return y - fy, None
        with np.errstate(divide="ignore", invalid="ignore"):
            dr = np.where(z > 0, self._n * zn / z / (1.0 + zn) ** 2, 0.0)
        d = self._k * dr * a[self._reg] / self._p_ref[self._tgt]  # dF_t / dy_r
        jac = sp.identity(y.size, format="csc") - sp.csc_matrix(
            (d, (self._tgt, self._reg)), shape=(y.size, y.size))
        return y - fy, jac

    def _solve(self, a, y0):
        y = y0.copy()
        g, _ = self._residual(y, a)
        err = np.abs(g).max()
        for _ in range(_NEWTON_MAX):
            if err <= _NEWTON_TOL:
                return y
            _, jac = self._residual(y, a, jacobian=True)
            step = spsolve(jac, -g)
            t = 1.0
            while t > 1e-4:  # backtracking keeps the step on the branch it started from
                trial = np.maximum(y + t * step, 0.0)
                g_trial, _ = self._residual(trial, a)
                if np.abs(g_trial).max() < (1.0 - 1e-4 * t) * err:
                    break
                t *= 0.5
            else:
                break
            y, g, err = trial, g_trial, np.abs(g_trial).max()
        logger.debug("Newton stalled (residual %.3g); damped fixed-point iteration", err)
        for _ in range(_FIXED_POINT_MAX):
            y = y - 0.5 * g  # damping: loops with gain near 1 oscillate undamped
            g, _ = self._residual(y, a)
            if np.abs(g).max() <= _NEWTON_TOL:
                return y
        worst = np.argsort(np.abs(g))[::-1][:5]
        raise SimulationError(
            f"no steady state of E. coli's TRN at these activities (residual "
            f"{np.abs(g).max():.3g}; nodes {', '.join(self.net.names[i] for i in worst)} move "
            "most); a positive feedback loop may be bistable here: change the activities in "
            "smaller steps (the solve warm-starts from the previous one)")

    def solve(self, activities=None, start=None) -> tuple[np.ndarray, np.ndarray]:
        """(log2(TPM+1) of :attr:`genes`, normalised node levels ``y``) at the steady state.

        ``start``: the ``y`` of a previous solve (warm start), or None for the reference.
        """
        a = self.node_activity(activities)
        y = self._solve(a, np.ones(self.net.n_genes) if start is None else start)
        return self._log2(y), y

    def steady_state(self, activities=None, warm_start=True) -> np.ndarray:
        """Steady-state log2(TPM+1) of :attr:`genes` at ``{regulator: activity}``.

        ``warm_start``: start from this model's previous solution (faster for small changes).
        """
        expression, self._y = self.solve(activities, self._y if warm_start else None)
        return expression

    def _log2(self, y) -> np.ndarray:
        out = self.reference.copy()
        nodes = self._gene_node[self._regulated]
        tpm = self.reference_tpm[self._regulated] * y[nodes]
        out[self._regulated] = np.log2(np.maximum(tpm, 0.0) + 1.0)
        return out

    @staticmethod
    def relax(current, target, dt, half_life=MRNA_HALF_LIFE_MIN) -> np.ndarray:
        """Expression after ``dt`` minutes of first-order relaxation towards ``target``.

        ``current``, ``target`` in log2(TPM+1); the relaxation acts on TPM (mRNA amount) at
        rate ``ln 2 / half_life`` (minutes): ``TPM(dt) = TPM* + (TPM - TPM*) exp(-rate dt)``.
        """
        if not (half_life > 0 and math.isfinite(half_life)) or dt < 0:
            raise ValueError(f"need half_life > 0 and dt >= 0 (minutes), got {half_life}, {dt}")
        now = np.exp2(np.asarray(current, dtype=np.float64)) - 1.0
        goal = np.exp2(np.asarray(target, dtype=np.float64)) - 1.0
        tpm = goal + (now - goal) * math.exp(-math.log(2.0) / half_life * dt)
        return np.log2(np.maximum(tpm, 0.0) + 1.0)


@functools.lru_cache(maxsize=1)
def default_model() -> EcoliExpression:
    """The model on the shipped TRN and reference (built once per interpreter)."""
    return EcoliExpression()


def steady_expression(activities: dict | None = None) -> pd.Series:
    """Steady-state log2(TPM+1) per b-number at ``{regulator name: activity}`` (missing: 1).

    Solved from the reference state (no warm start), so the result does not depend on calls
    made before.
    """
    model = default_model()
    return pd.Series(model.solve(activities)[0], index=pd.Index(model.genes,
                                                                     name="b_number"),
                     name="log2_tpm")
