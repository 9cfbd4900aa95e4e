"""Flux balance of a whole population in a shared medium, with far fewer LPs than cells.

Every cell of a well-mixed batch culture solves the same flux balance LP; cells differ only in
the uptake bounds of a few tracked exchanges (k of them, e.g. glucose and lactose), set by
the shared medium (Michaelis-Menten, :mod:`.uptake`) and by each cell's own enzymes (lactose
through its LacY count, :mod:`.lac`). Solving one LP per cell per step does not scale to
thousands of cells on a genome-scale model. :func:`solve_population` gives each cell exactly
what its own LP gives (to solver tolerance), from the LP's structure:

1. **Identical rows.** Cells share the medium, so their bound rows repeat (the glucose bound
   is the same for all; the lactose bound takes one value per LacY count). Each distinct row
   is solved at most once (``numpy.unique``).
2. **One bound varying: parametric in that bound.** The optimal growth ``g(b)`` as a function
   of one uptake bound ``b`` (the others fixed) is the value function of an LP in its
   right-hand side: concave and piecewise linear (and non-decreasing, since a larger bound
   only relaxes the LP). Along the sorted distinct values of ``b`` we solve the LP at the
   two ends ``a < c`` of an interval and read the slope ``s`` of ``g`` at ``a`` from the
   LP's dual (the reduced cost of the exchange's uptake variable). By concavity the tangent
   bounds ``g`` from above and the chord from below on ``[a, c]``::

       g(a) + (x-a)(g(c)-g(a))/(c-a)  <=  g(x)  <=  g(a) + s (x-a)

   If the tangent meets the chord at ``c`` (``g(a) + s (c-a) = g(c)``), both are the same
   line, so ``g`` *is* that line on ``[a, c]`` and every interior value is exact by
   interpolation. The same holds with the tangent at ``c`` meeting ``g(a)``, which is tried
   too: at a degenerate vertex the solver's dual may be the slope on the other side of a
   kink at an end, which only one end's tangent shows. Otherwise there is a breakpoint
   inside, and the interval is split at a distinct value near the intersection of the
   tangents at ``a`` and ``c`` (where a single breakpoint must lie), and each half is
   treated the same way. A typical population step
   then costs a handful of LPs (two per linear piece the values span, plus one or two per
   breakpoint), whatever the number of cells.
3. **Several bounds varying** (e.g. glucose and lactose both differ between cells): rows are
   grouped by every column but the one with the most distinct values, and step 2 runs along
   that column within each group. If every group has one row this is one LP per distinct
   row (step 1 only), which is still exact.

**Which solution.** Growth is unique, but the fluxes at the optimum generally are not
(alternative optima), so "the cell's LP solution" is made unique by lexicographic stages,
each solved with the earlier optima held (to a relative ``1e-9``, as :mod:`.dfba` does):
maximal growth; then (``min_uptake``) the least carbon uptake from the tracked exchanges
(dfba.py's second objective); then (``unique_fluxes``) each tracked exchange's flux made as
large as possible (least uptake) in turn. The tracked fluxes are then the optimal values of
the last stages, which are unique, so the shared method and per-cell LPs can be compared to
solver tolerance whatever vertex the solver picks. Each stage's value along the varying
bound is again concave piecewise linear on an interval where the earlier stages are linear
(its right-hand side moves along a line), and the same tangent test is applied stage by
stage, with the slope from the duals of the bound and of the earlier stages' constraints.
A later stage's optimum is fixed only up to what the earlier stages' hold gaps allow (hold
dual times gap), and different start bases land anywhere within that; the tangent test
allows that much besides ``tol``, so it is exact to the precision of the per-cell LP itself
(GLPK's bound tolerance is set no looser than the gap, so that a violated bound cannot
widen it).

**Solving.** On optlang's GLPK interface (cobra's default) the stages are solved on private
copies of the model's GLPK problem, one per stage (:class:`_GlpkStages`): each stage then
starts from its own optimal basis at the previous point, which neighbouring points mostly
share (0-30 simplex iterations instead of ~500 on iJO1366), and optlang's per-solve
re-scaling and bookkeeping are skipped. The model's bounds, objective and constraints are
left as they were; its GLPK basis is replaced by the last growth-optimal one, so that the
next call starts warm. Other solvers go through optlang on the model (:class:`_OptlangStages`,
same stages, same duals).

**Dual sign.** For a maximisation, GLPK (through optlang) reports a variable's ``dual`` as
the derivative of the optimum with respect to the bound it sits at, and a constraint's
``dual`` as the derivative with respect to its active bound. An uptake bound ``b`` is the
upper bound of the exchange's *reverse* variable, so the slope is
``reverse_variable.dual`` (>= 0: raising an upper bound cannot lower a maximum); cobra's
``solution.reduced_costs[ex]`` is ``forward.dual - reverse.dual``, i.e. minus the slope.
A slope the solver cannot give (NaN) only costs LPs: the interval is then split.

Cells whose LP is infeasible (e.g. too little carbon for the non-growth ATP maintenance) are
found by bisection (feasibility is monotone in an uptake bound) and either raise
:class:`~.errors.InfeasibleError` (``on_infeasible='raise'``, the default) or get status -1
(``'status'``): growth 0, fluxes NaN (there is no solution to report). Status 0 is a
feasible optimum at zero growth, 1 growth, as in :data:`.dfba.STATUS`.

**Recorded fluxes.** ``record`` adds linear read-outs of the whole flux vector (for example
the carbon and nitrogen leaving through the exchanges that are not tracked, which the
population's element ledger needs): ``{reaction id: weights}`` gives, per cell,
``sum_r flux_r * weights_r`` of the optimal flux vector of the last stage. At interpolated
cells it is the read-out of the interpolated flux vector, itself an optimum there (see
:func:`_interpolated`), so it is the read-out of an optimal solution of that cell's LP. It
is one of possibly many where untracked fluxes have alternative optima, but any read-out
that mass balance fixes (an element total, in a model whose internal reactions are balanced)
is the same for all of them.

Units: uptake bounds and fluxes in mmol/gDW/h (flux < 0 is uptake); growth in 1/h.
"""
from __future__ import annotations

import logging
import math
import weakref
from dataclasses import dataclass, field

import numpy as np

from .errors import InfeasibleError
from .media import check_exchanges
from .population_lp import _held, _LexicographicLP, _Point

__all__ = ["PopulationFBA", "solve_population", "solve_each_cell"]

logger = logging.getLogger(__name__)

#: Growth rates (1/h) at or below this are "not growing" (status 0), as in dfba.py.
_TINY = 1e-12
#: per cobra model, the tracked exchange ids that passed check_exchanges (see _check_tracked)
_CHECKED_EXCHANGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class PopulationFBA:
    """Per-cell optima of a population's flux balance LPs.

    Attributes
    ----------
    exchanges : ids of the tracked exchanges (the columns of ``fluxes``).
    growth : (n_cells,) optimal growth rate, 1/h (0 where infeasible).
    fluxes : (n_cells, k) tracked exchange fluxes, mmol/gDW/h, < 0 uptake (NaN where
        infeasible).
    status : (n_cells,) 1 growing, 0 optimum at zero growth, -1 infeasible.
    lp_count : number of LPs solved (every stage of every solved point counts).
    points_solved : number of bound rows whose LPs were solved.
    distinct_rows : number of distinct bound rows among the cells.
    recorded : (n_cells, m) read-outs of ``record`` (NaN where infeasible; m = 0 without).
    """

    exchanges: tuple
    growth: np.ndarray
    fluxes: np.ndarray
    status: np.ndarray
    lp_count: int
    points_solved: int
    distinct_rows: int
    recorded: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


# -- input ----------------------------------------------------------------------------------
def _validated_bounds(model, exchanges, uptake_bounds):
    """(exchange ids, float array (n_cells, k)); raises ValueError/UnknownExchangeError."""
    exchanges = tuple(str(e) for e in exchanges)
    if not exchanges:
        raise ValueError("give at least one tracked exchange (the columns of uptake_bounds)")
    if len(set(exchanges)) != len(exchanges):
        raise ValueError(f"tracked exchanges must be distinct, got {list(exchanges)}")
    _check_tracked(model, exchanges)
    for ex in exchanges:
        stoichiometry = list(model.reactions.get_by_id(ex).metabolites.values())
        if stoichiometry != [-1]:
            # the uptake bound is the reverse variable's upper bound only for 'A_e <=>'
            raise ValueError(f"exchange {ex!r} must consume one metabolite ('A_e <=>'), so that "
                             f"uptake is its negative flux; it has coefficients {stoichiometry}")
    bounds = np.asarray(uptake_bounds, dtype=float)
    if bounds.ndim != 2 or bounds.shape[1] != len(exchanges):
        raise ValueError(f"uptake_bounds must have shape (n_cells, {len(exchanges)}) for the "
                         f"exchanges {list(exchanges)}, got {bounds.shape}")
    if np.any(np.isnan(bounds)) or np.any(bounds < 0):
        raise ValueError("uptake bounds must be >= 0 mmol/gDW/h (inf: keep the model's own "
                         f"bound); got {int((bounds < 0).sum())} negative and "
                         f"{int(np.isnan(bounds).sum())} NaN")
    return exchanges, bounds


def _check_tracked(model, exchanges) -> None:
    """:func:`.media.check_exchanges` once per model and id (UnknownExchangeError).

    cobra finds a model's exchanges by scanning every reaction (~60 ms on iJO1366), and a
    population calls this every step with the same ids; an id checked before is only
    looked up again (a removed reaction is checked afresh).
    """
    checked = _CHECKED_EXCHANGES.setdefault(model, set())
    if all(e in checked and e in model.reactions for e in exchanges):
        return
    check_exchanges(model, exchanges, "tracked exchange")
    checked.update(exchanges)


def _linear_between(left: _Point, right: _Point, width: float, tol: float) -> bool:
    """True when every stage's optimum is proven linear between the two points.

    Stage by stage: the tangent at ``left`` (slope from the duals: the varying bound's, plus
    each earlier stage's hold times that stage's slope, which is its chord once that stage
    is proven linear) must meet the optimum at ``right``, or the tangent at ``right`` the
    optimum at ``left``. By concavity of the stage's value along the line a tangent (from
    any optimal dual) is an upper bound and the chord a lower bound, so either meeting makes
    them one line (see the module docstring). Both ends are tried because a degenerate LP's
    dual at a kink-free end can still be a one-sided slope that points the wrong way.
    """
    chords = (right.values - left.values) / width
    for stage in range(len(left.values)):
        scale = 1.0 + abs(left.values[stage]) + abs(right.values[stage])
        slack = max(_slack_effect(end, stage) for end in (left, right))
        ends = ((left, right.values[stage], width), (right, left.values[stage], -width))
        if not any(_tangent_meets(end, stage, chords, other, step, tol * scale + slack)
                   for end, other, step in ends):
            return False
    return True


def _slack_effect(point: _Point, stage: int) -> float:
    """How much ``stage``'s optimum can move within the earlier stages' hold gaps."""
    gaps = np.array([point.values[i] - _held(point.values[i]) for i in range(stage)])
    return float(np.abs(point.hold_dual[stage, :stage]) @ gaps) if stage else 0.0


def _tangent_meets(end: _Point, stage: int, chords, other: float, step: float,
                   tol: float) -> bool:
    """Whether ``stage``'s tangent at ``end`` reaches ``other`` (to ``tol``) after ``step``."""
    slope = end.bound_dual[stage] + float(np.dot(end.hold_dual[stage, :stage], chords[:stage]))
    return math.isfinite(slope) and abs(end.values[stage] + slope * step - other) <= tol


def _interpolated(left: _Point, right: _Point, lam: float):
    """(stage values, fluxes) at the fraction ``lam`` of the way from ``left`` to ``right``.

    Why the fluxes are an optimum there: ``v = (1-lam) v_left + lam v_right`` satisfies the
    mass balance and every fixed bound (both ends do and the feasible set is convex), and
    its uptake is at most ``(1-lam) a + lam c = x``, the interpolated bound, so it is
    feasible at ``x``; its growth is ``(1-lam) g(a) + lam g(c)``, which is ``g(x)`` because
    ``g`` is linear on ``[a, c]``, so it is optimal at ``x`` (and likewise stage by stage for
    the held stages). With ``unique_fluxes`` the fluxes are stage optima, themselves linear.
    """
    values = (1.0 - lam) * left.values + lam * right.values
    fluxes = (1.0 - lam) * left.fluxes + lam * right.fluxes
    return values, fluxes


def _split_index(left: _Point, right: _Point, xs, i: int, j: int) -> int:
    """An interior index of ``xs[i:j+1]`` at which to split an interval that is not linear.

    A single breakpoint of the concave growth lies where the tangents at the two ends cross,
    so the distinct value nearest that crossing is taken (both halves are then usually
    linear); if the slopes give no crossing inside, the middle index.
    """
    a, c = xs[i], xs[j]
    s_a, s_c = left.bound_dual[0], right.bound_dual[0]
    if math.isfinite(s_a) and math.isfinite(s_c) and s_a - s_c > 0:
        crossing = (right.values[0] - left.values[0] + s_a * a - s_c * c) / (s_a - s_c)
        if a < crossing < c:
            k = int(np.searchsorted(xs[i:j + 1], crossing)) + i
            k = k if abs(xs[k] - crossing) <= abs(xs[k - 1] - crossing) else k - 1
            return min(max(k, i + 1), j - 1)
    return (i + j) // 2


def _first_feasible(solve, n: int, points: dict) -> int:
    """Index of the first feasible point of ``n`` sorted by one uptake bound (n: none).

    Feasibility is monotone in an uptake bound (a larger bound only relaxes the LP), so
    bisection finds the boundary with log2(n) LPs; solved points are kept in ``points``.
    """
    def feasible(index):
        if index not in points:
            points[index] = solve(index)
        return points[index] is not None

    if not feasible(n - 1):
        return n
    if feasible(0):
        return 0
    infeasible, good = 0, n - 1
    while good - infeasible > 1:
        middle = (infeasible + good) // 2
        if feasible(middle):
            good = middle
        else:
            infeasible = middle
    return good


def _solve_along(lp: _LexicographicLP, rows: np.ndarray, vary: int | None, tol: float):
    """Optimum (values, fluxes) or None for each of ``rows`` (distinct, sorted by ``vary``)."""
    n = len(rows)
    results: list = [None] * n
    if vary is None or n == 1:
        for index, row in enumerate(rows):
            point = lp.solve(row)
            results[index] = None if point is None else (point.values, point.fluxes)
        return results
    xs = rows[:, vary]
    finite = int(np.searchsorted(xs, np.inf))  # inf (the model's own bound) sorts last
    for index in range(finite, n):
        point = lp.solve(rows[index], vary)
        results[index] = None if point is None else (point.values, point.fluxes)
    if finite == 0:
        return results
    points: dict = {}
    start = _first_feasible(lambda index: lp.solve(rows[index], vary), finite, points)
    for index, point in points.items():
        if point is not None:
            results[index] = (point.values, point.fluxes)
    intervals = [(start, finite - 1)] if start < finite - 1 else []
    while intervals:
        i, j = intervals.pop()
        for end in (i, j):
            if points.get(end) is None:
                points[end] = lp.solve(rows[end], vary)
                if points[end] is not None:
                    results[end] = (points[end].values, points[end].fluxes)
        if points[i] is None or points[j] is None:
            # In exact arithmetic feasibility is monotone in the bound, so this cannot happen
            # above the boundary; near it (a barely feasible LP, e.g. maintenance met with
            # nothing to spare) the solver's tolerance can flip a row. Interpolation would then
            # be unfounded: solve every row of the interval as its own cell would.
            lp.note_fallback(("rows one by one",),
                             "population FBA (%s): an LP infeasible at a larger uptake bound "
                             "than a feasible one (bounds %.6g..%.6g, near the feasibility "
                             "boundary); solving its %d rows one by one", lp.model.id, xs[i],
                             xs[j], j - i + 1)
            for m in range(i, j + 1):
                point = points[m] if m in points else lp.solve(rows[m], vary)
                points[m] = point
                results[m] = None if point is None else (point.values, point.fluxes)
            continue
        if j - i <= 1:
            continue
        left, right = points[i], points[j]
        if _linear_between(left, right, xs[j] - xs[i], tol):
            for m in range(i + 1, j):
                results[m] = _interpolated(left, right, (xs[m] - xs[i]) / (xs[j] - xs[i]))
        else:
            m = _split_index(left, right, xs, i, j)
            intervals.extend([(i, m), (m, j)])
    return results


# -- grouping of distinct rows --------------------------------------------------------------
def _varying_column(distinct: np.ndarray) -> int | None:
    """The column with the most distinct values (None for a single row)."""
    if len(distinct) < 2:
        return None
    counts = [len(np.unique(distinct[:, c])) for c in range(distinct.shape[1])]
    return int(np.argmax(counts))


def _groups(distinct: np.ndarray, vary: int | None) -> list:
    """Indices of ``distinct`` grouped by every column but ``vary``, each sorted by ``vary``."""
    if vary is None:
        return [np.arange(len(distinct))]
    others = np.delete(distinct, vary, axis=1)
    _, label = np.unique(others, axis=0, return_inverse=True)
    label = np.asarray(label).reshape(-1)
    groups = []
    for g in range(int(label.max()) + 1):
        members = np.flatnonzero(label == g)
        groups.append(members[np.argsort(distinct[members, vary], kind="stable")])
    return groups


# -- assembly -------------------------------------------------------------------------------
def _assemble(exchanges, bounds, inverse, per_row, on_infeasible, lp, model_id):
    """Per-cell arrays from the per-distinct-row results; the infeasible-row policy."""
    n_cells, k = bounds.shape
    infeasible_rows = np.array([r is None for r in per_row], dtype=bool)
    infeasible_cells = np.flatnonzero(infeasible_rows[inverse]) if len(per_row) else []
    if len(infeasible_cells) and on_infeasible == "raise":
        first = [int(c) for c in infeasible_cells[:5]]
        raise InfeasibleError(
            f"population FBA ({model_id}): {len(infeasible_cells)} of {n_cells} cells have no "
            f"feasible LP (cells {first}{'...' if len(infeasible_cells) > 5 else ''}, e.g. "
            f"uptake bounds {dict(zip(exchanges, bounds[first[0]].tolist()))} mmol/gDW/h): the "
            "medium cannot cover the non-growth maintenance. Fix: add a carbon source, or pass "
            "on_infeasible='status' to record status -1", status="infeasible")
    width = k + lp.n_record
    row_growth = np.array([0.0 if r is None else max(float(r[0][0]), 0.0) for r in per_row])
    row_fluxes = np.array([np.full(width, np.nan) if r is None else r[1] for r in per_row])
    row_fluxes = row_fluxes.reshape(-1, width)[inverse]
    row_status = np.where(infeasible_rows, -1.0, np.where(row_growth > _TINY, 1.0, 0.0))
    return PopulationFBA(exchanges=exchanges, growth=row_growth[inverse],
                         fluxes=row_fluxes[:, :k], status=row_status[inverse],
                         lp_count=lp.lp_count, points_solved=lp.points_solved,
                         distinct_rows=len(per_row), recorded=row_fluxes[:, k:])


def _record(model, record):
    """``record`` checked: known reaction ids, weights of one common length (ValueError)."""
    if not record:
        return None
    record = {str(rid): np.atleast_1d(np.asarray(w, dtype=float)) for rid, w in record.items()}
    unknown = [rid for rid in record if rid not in model.reactions]
    if unknown:
        raise ValueError(f"record names reaction(s) {unknown[:5]} that are not in model "
                         f"{model.id!r}")
    sizes = {w.shape for w in record.values()}
    if len(sizes) != 1 or len(next(iter(sizes))) != 1:
        raise ValueError(f"record weights must be 1-d vectors of one length, got shapes {sizes}")
    return record


def _check_policy(on_infeasible):
    if on_infeasible not in ("raise", "status"):
        raise ValueError(f"on_infeasible must be 'raise' or 'status', got {on_infeasible!r}")


def solve_population(model, exchanges, uptake_bounds, *, min_uptake: bool = True,
                     unique_fluxes: bool = True, on_infeasible: str = "raise",
                     tol: float = 1e-9, record=None, fallbacks: dict | None = None
                     ) -> PopulationFBA:
    """Each cell's flux balance optimum, from few LPs (identical rows, parametric in a bound).

    Parameters
    ----------
    model : cobra model, used inside ``with model:`` (left unchanged); its other bounds
        (medium, maintenance, enzyme caps) are the same for all cells.
    exchanges : the k tracked exchange ids (``'A_e <=>'``), the columns of ``uptake_bounds``.
    uptake_bounds : (n_cells, k) maximal uptake per cell, mmol/gDW/h, >= 0 (``inf`` keeps
        the model's own bound).
    min_uptake : after growth, take the least carbon uptake from the tracked exchanges
        (dfba.py's ``min_uptake``).
    unique_fluxes : then make each tracked flux as large (least uptake) as possible in turn,
        so the tracked fluxes are unique; without it, interior cells get the convex
        combination of two optimal solutions (optimal, but one of possibly many).
    on_infeasible : ``'raise'`` (:class:`InfeasibleError` naming the cells) or ``'status'``.
    tol : relative tolerance of the tangent test (besides the earlier stages' hold gaps, see
        the module docstring); a looser one risks interpolation errors of about ``tol``
        (1/h, mmol/gDW/h), a tighter one only costs LPs.
    record : ``{reaction id: weights (m,)}``: also return ``sum_r flux_r * weights_r`` per
        cell (``recorded``; see the module docstring), e.g. element counts of the untracked
        exchanges.
    fallbacks : a dict counting the numerical fallbacks taken (loosened holds, rows solved one
        by one), updated in place; the first of each kind is a WARNING, repeats are DEBUG.
        Pass the same dict on every call of a run to warn once per run (PopulationMetabolism
        does); default: a fresh one per call.

    Returns
    -------
    PopulationFBA : growth (1/h), tracked fluxes (mmol/gDW/h), status, LP counts.
    """
    _check_policy(on_infeasible)
    exchanges, bounds = _validated_bounds(model, exchanges, uptake_bounds)
    distinct, inverse = np.unique(bounds, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    vary = _varying_column(distinct)
    per_row: list = [None] * len(distinct)
    with model:
        lp = _LexicographicLP(model, exchanges, min_uptake, unique_fluxes, _record(model, record))
        if fallbacks is not None:
            lp.fallbacks = fallbacks
        try:
            for members in _groups(distinct, vary):
                for member, result in zip(members, _solve_along(lp, distinct[members], vary,
                                                                tol)):
                    per_row[member] = result
        finally:
            lp.close()
    logger.debug("population FBA (%s): %d cells, %d distinct rows, %d points, %d LPs",
                 model.id, len(bounds), len(distinct), lp.points_solved, lp.lp_count)
    return _assemble(exchanges, bounds, inverse, per_row, on_infeasible, lp, model.id)


def solve_each_cell(model, exchanges, uptake_bounds, *, min_uptake: bool = True,
                    unique_fluxes: bool = True, on_infeasible: str = "raise",
                    record=None) -> PopulationFBA:
    """The reference: every cell's staged LP solved on its own (same LP as
    :func:`solve_population`, one solve per cell; for tests and benchmarks)."""
    _check_policy(on_infeasible)
    exchanges, bounds = _validated_bounds(model, exchanges, uptake_bounds)
    with model:
        lp = _LexicographicLP(model, exchanges, min_uptake, unique_fluxes, _record(model, record))
        try:
            per_cell = [None if (p := lp.solve(row)) is None else (p.values, p.fluxes)
                        for row in bounds]
        finally:
            lp.close()
    return _assemble(exchanges, bounds, np.arange(len(bounds)), per_cell, on_infeasible, lp,
                     model.id)
