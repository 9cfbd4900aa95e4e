"""The lexicographic LP of one bound row, solved stage by stage (for :mod:`.population_fba`).

A population's cells share one flux balance LP that differs between cells only in the uptake
bounds of the tracked exchanges. :func:`~.population_fba.solve_population` needs, at a bound
row, the optimum of each lexicographic stage (growth; least carbon uptake; each tracked flux
made unique) and the duals of the varying bound and of the earlier stages' holds, which give
the slopes of its tangent test. :class:`_LexicographicLP` provides them:

* on optlang's GLPK interface (cobra's default), :class:`_GlpkStages` keeps one private copy
  of the model's GLPK problem per stage, so that each stage re-solves from its own optimal
  basis at the next point (a handful of simplex iterations instead of hundreds), and writes
  the last growth-optimal basis back into the model's problem (the next update starts warm);
* on any other solver, :class:`_OptlangStages` sets each stage's objective on the model
  itself through optlang (the same stages, without the basis reuse).

Units: uptake bounds and fluxes in mmol/gDW/h; growth in 1/h.
"""
from __future__ import annotations

import logging
import math
import weakref
from dataclasses import dataclass

import numpy as np
import swiglpk as glpk
from cobra.util.solver import linear_reaction_coefficients

from .errors import InfeasibleError
from .models import biomass_reaction

logger = logging.getLogger(__name__)

#: An earlier stage's optimum is held to within this relative amount in the later stages
#: (exact equality can make the next LP numerically infeasible; dfba.py holds growth so too).
_HOLD_RELATIVE = 1e-9
#: ... and if that still makes a later stage infeasible, the stage is retried with the holds
#: loosened step by step to these (relative), with a warning. Seen on iJO1366 near starvation:
#: warm-started GLPK reported a growth optimum 4.5e-5 above what the same LP attains from
#: scratch (within its feasibility tolerance), so no later stage could hold it. The earlier
#: stages' values are then reported at their loosened holds: the later stages (least uptake)
#: sit on those holds, so the point's growth is the growth its fluxes pay for
#: (PopulationMetabolism checks that balance).
_HOLD_RETRIES = (1e-6, 1e-5, 1e-4, 1e-3)
#: wall-time limit of one GLPK simplex call (ms): a normal stage takes milliseconds
_SIMPLEX_TIME_LIMIT_MS = 20000
#: the optlang interface whose GLPK problem :class:`_GlpkStages` copies (not glpk_exact)
_GLPK_INTERFACE = "optlang.glpk_interface"
_HAS_LOWER = (glpk.GLP_LO, glpk.GLP_DB, glpk.GLP_FX)
_HAS_UPPER = (glpk.GLP_UP, glpk.GLP_DB, glpk.GLP_FX)


@dataclass
class _Point:
    """The lexicographic optimum at one bound row, with what the tangent test needs."""

    values: np.ndarray       # (stages,) optimal value of each stage
    fluxes: np.ndarray       # (k + m,) tracked exchange fluxes, then the m recorded read-outs
    bound_dual: np.ndarray   # (stages,) d(stage optimum)/d(varying uptake bound)
    hold_dual: np.ndarray    # (stages, stages) d(stage s optimum)/d(held value of stage i<s)



def _held(value: float) -> float:
    """The lower bound that holds a stage at its optimum ``value`` in later stages."""
    return value - _HOLD_RELATIVE * (1.0 + abs(value))


# -- the parametric method along one bound --------------------------------------------------
def _carbon_weight(reaction) -> float:
    """Carbon atoms of an exchange's metabolite (1 without carbon or formula), as dfba.py."""
    metabolite = next(iter(reaction.metabolites))
    return float(metabolite.elements.get("C", 0) or 1)


def _growth_reaction(model):
    """:func:`.models.biomass_reaction`, examining only the reactions in the objective.

    cobra's check runs over every reaction (~70 ms on iJO1366, paid every step); a reaction
    with a non-zero forward coefficient has its forward variable, named by its id, in the
    objective, so the candidates below hold every reaction that check can count.
    """
    names = {variable.name for variable in model.solver.objective.variables}
    candidates = [model.reactions.get_by_id(n) for n in names if n in model.reactions]
    found = linear_reaction_coefficients(model, candidates) if candidates else {}
    return next(iter(found)) if len(found) == 1 else biomass_reaction(model)


def _stage_objectives(model, reactions, min_uptake, unique_fluxes):
    """The lexicographic objectives (all maximised), as ``{optlang variable: coefficient}``."""
    biomass = _growth_reaction(model)
    stages = [{biomass.forward_variable: 1.0, biomass.reverse_variable: -1.0}]
    if min_uptake:
        stages.append({r.reverse_variable: -_carbon_weight(r) for r in reactions})
    if unique_fluxes:
        stages.extend({r.forward_variable: 1.0, r.reverse_variable: -1.0} for r in reactions)
    return stages


def _uptake_bounds(reaction, bound: float):
    """((lb, ub) forward, (lb, ub) reverse) once ``reaction.lower_bound = -bound``, as cobra
    splits a reaction's bounds over its two variables (ValueError as cobra's for lb > ub)."""
    lower, upper = -float(bound), reaction.upper_bound
    if lower > upper:
        raise ValueError(f"uptake bound {bound} mmol/gDW/h of {reaction.id!r} exceeds what its "
                         f"upper bound {upper} allows (lower bound {lower} > upper bound)")
    return (max(lower, 0.0), max(upper, 0.0)), (max(-upper, 0.0), max(-lower, 0.0))


# -- one point: the lexicographic LPs -------------------------------------------------------
def _dual(value) -> float:
    """A dual value as a float, NaN where the solver gave none (then intervals are split)."""
    value = float(value)
    return value if math.isfinite(value) else float("nan")


class _OptlangStages:
    """The staged LPs through optlang on the model itself (inside the caller's ``with
    model:``): any solver optlang drives. Hold constraints are added once and relaxed
    (lb None) at every new point."""

    def __init__(self, model, reactions, objectives, record):
        self.model, self.reactions = model, reactions
        self.own_lower = [r.lower_bound for r in reactions]
        self.objectives = [sum(c * v for v, c in terms.items()) for terms in objectives]
        self.terms = [{v.name: float(c) for v, c in terms.items()} for terms in objectives]
        self.holds = [model.problem.Constraint(expr, lb=None, name=f"_population_hold_{i}")
                      for i, expr in enumerate(self.objectives[:-1])]
        model.add_cons_vars(self.holds)
        #: (variable names forward/reverse, weights (m,)) of every recorded reaction
        self.record = [(r.forward_variable.name, r.reverse_variable.name, weights)
                       for r, weights in record]

    def set_uptake(self, row):
        for reaction, bound, own in zip(self.reactions, row, self.own_lower):
            reaction.lower_bound = -float(bound) if math.isfinite(bound) else own
        for hold in self.holds:
            hold.lb = None

    def optimize(self, stage, held):
        """(solver status, optimum) of ``stage`` with the earlier stages held at ``held``."""
        for hold, value in zip(self.holds, held):
            hold.lb = _held(value)
        model = self.model
        model.objective = model.problem.Objective(self.objectives[stage], direction="max")
        model.slim_optimize()
        status = model.solver.status
        return status, (model.solver.objective.value if status == "optimal" else math.nan)

    def uptake_dual(self, stage, column):
        return _optlang_dual(self.reactions[column].reverse_variable)

    def hold_dual(self, stage, index):
        return _optlang_dual(self.holds[index])

    def fluxes(self):
        return np.array([r.forward_variable.primal - r.reverse_variable.primal
                         for r in self.reactions])

    def realised(self):
        """Every stage's objective at the last solve's fluxes (what those fluxes achieve)."""
        primal = self.model.solver.primal_values
        return np.array([sum(c * primal[name] for name, c in terms.items())
                         for terms in self.terms])

    def read_out(self, n_record):
        out = np.zeros(n_record)
        if self.record:
            primal = self.model.solver.primal_values
            for forward, reverse, weights in self.record:
                out += (primal[forward] - primal[reverse]) * weights
        return out

    def close(self):
        """Nothing to free: the caller's ``with model:`` reverts bounds and constraints."""


def _optlang_dual(variable_or_constraint) -> float:
    try:
        return float(variable_or_constraint.dual)
    except Exception:  # optlang interfaces without duals raise various types
        return float("nan")


class _GlpkStages:
    """The staged LPs on private copies of the model's GLPK problem, one copy per stage.

    Why copies: each stage then starts from its own optimal basis at the previous point. On
    one problem, growth at a new point starts from the last tie-break stage's basis, far from
    a growth optimum (~500 simplex iterations, ~40 ms on iJO1366); from the previous point's
    growth basis it needs ~0-30, since neighbouring points mostly share the optimal basis.
    Working on copies (``glp_copy_prob`` keeps the matrix, bounds, scaling and basis) leaves
    the cobra model untouched and skips optlang's re-scaling and bookkeeping per solve.
    Stage ``s``'s copy is made from stage ``s-1``'s on first use, and holds stages ``< s``.
    Duals are GLPK's own (``glp_get_col_dual``/``glp_get_row_dual``), which optlang's
    ``dual`` returns unchanged: the module's sign convention holds as is.
    """

    _STATUS = {glpk.GLP_OPT: "optimal", glpk.GLP_NOFEAS: "infeasible",
               glpk.GLP_INFEAS: "infeasible", glpk.GLP_UNBND: "unbounded",
               glpk.GLP_FEAS: "feasible", glpk.GLP_UNDEF: "undefined"}

    def __init__(self, model, reactions, objectives, record):
        self.objectives = [{v._index: float(c) for v, c in terms.items()} for terms in objectives]
        self.model_problem = model.solver.problem
        if not _is_scaled(self.model_problem):  # never solved: scale as optlang does
            glpk.glp_scale_prob(self.model_problem, glpk.GLP_SF_AUTO)
        self.problems = [glpk.glp_create_prob()]
        # freed with this object even if close() is never called (GLPK memory is not Python's)
        self._finalizer = weakref.finalize(self, _delete_problems, self.problems)
        template = self.problems[0]
        glpk.glp_copy_prob(template, self.model_problem, glpk.GLP_OFF)
        for variable in model.solver.objective.variables:
            glpk.glp_set_obj_coef(template, variable._index, 0.0)
        glpk.glp_set_obj_coef(template, 0, 0.0)  # the constant term
        glpk.glp_set_obj_dir(template, glpk.GLP_MAX)
        self._set_objective(template, self.objectives[0])
        # (the copy keeps the model's scale factors: re-scaling per call would cost more than
        # an LP here, and invalidate the basis factorisation)
        self.hold_rows = [self._add_row(template, terms) for terms in self.objectives[:-1]]
        self.reactions = reactions
        self.columns = [_columns(model, r) for r in reactions]
        self.own_bounds = [tuple(_column_bounds(template, j) for j in pair) for pair in self.columns]
        forward, reverse = zip(*(_columns(model, r) for r, _ in record)) if record else ((), ())
        #: 0-based column positions of the recorded reactions, and their weights (n, m)
        self.record = (np.array(forward, dtype=int) - 1, np.array(reverse, dtype=int) - 1)
        self.weights = np.array([w for _, w in record])
        self.params = glpk.glp_smcp()
        glpk.glp_init_smcp(self.params)
        self.params.msg_lev = glpk.GLP_MSG_OFF
        self.params.presolve = glpk.GLP_OFF  # presolve would discard the warm basis
        # GLPK accepts bound violations up to tol_bnd (relative; optlang's default 1e-7); no
        # looser than the holds' gap, or a tie-break stage may buy its objective with a
        # violated uptake bound instead (fluxes then differ by ~1e-7 with the start basis)
        self.params.tol_bnd = min(float(model.solver.configuration.tolerances.feasibility),
                                  _HOLD_RELATIVE)
        # A warm basis at such a tight tolerance was seen to stall one simplex for minutes on
        # iJO1366 near starvation; past this limit `optimize` restarts from an advanced basis
        self.params.tm_lim = _SIMPLEX_TIME_LIMIT_MS

    @staticmethod
    def _add_row(problem, terms):
        row = glpk.glp_add_rows(problem, 1)
        index, value = glpk.intArray(len(terms) + 1), glpk.doubleArray(len(terms) + 1)
        for k, (column, coefficient) in enumerate(terms.items(), start=1):
            index[k], value[k] = column, coefficient
        glpk.glp_set_mat_row(problem, row, len(terms), index, value)
        glpk.glp_set_row_bnds(problem, row, glpk.GLP_FR, 0.0, 0.0)
        return row

    @staticmethod
    def _set_objective(problem, terms, previous=()):
        for column in previous:
            glpk.glp_set_obj_coef(problem, column, 0.0)
        for column, coefficient in terms.items():
            glpk.glp_set_obj_coef(problem, column, coefficient)

    def _problem(self, stage):
        while len(self.problems) <= stage:
            # a copy of the previous stage's, just solved at this point: its bounds, and its
            # optimal basis to start from
            previous = len(self.problems) - 1
            copy = glpk.glp_create_prob()
            glpk.glp_copy_prob(copy, self.problems[previous], glpk.GLP_OFF)
            self.problems.append(copy)
            self._set_objective(copy, self.objectives[previous + 1],
                                previous=self.objectives[previous])
        return self.problems[stage]

    def set_uptake(self, row):
        settings = []
        for reaction, pair, own, bound in zip(self.reactions, self.columns, self.own_bounds, row):
            bounds = _uptake_bounds(reaction, bound) if math.isfinite(bound) else own
            settings.extend(zip(pair, bounds))
        for problem in self.problems:
            for column, (lower, upper) in settings:
                _set_column_bounds(problem, column, lower, upper)

    def optimize(self, stage, held):
        problem = self._problem(stage)
        for row, value in zip(self.hold_rows, held):
            glpk.glp_set_row_bnds(problem, row, glpk.GLP_LO, _held(value), 0.0)
        code = glpk.glp_simplex(problem, self.params)
        if code != 0:  # a singular basis or the time limit: restart from an advanced one
            glpk.glp_adv_basis(problem, 0)
            code = glpk.glp_simplex(problem, self.params)
        if code != 0:
            return f"undefined (GLPK glp_simplex error code {code})", math.nan
        status = self._STATUS.get(glpk.glp_get_status(problem), "undefined")
        return status, glpk.glp_get_obj_val(problem)

    def uptake_dual(self, stage, column):
        return glpk.glp_get_col_dual(self.problems[stage], self.columns[column][1])

    def hold_dual(self, stage, index):
        return glpk.glp_get_row_dual(self.problems[stage], self.hold_rows[index])

    def _flux(self, forward, reverse):
        problem = self.problems[len(self.objectives) - 1]  # the last stage's
        return glpk.glp_get_col_prim(problem, forward) - glpk.glp_get_col_prim(problem, reverse)

    def fluxes(self):
        return np.array([self._flux(*pair) for pair in self.columns])

    def realised(self):
        """Every stage's objective at the last stage's fluxes (what those fluxes achieve)."""
        primal = np.array(glpk.get_col_primals(self.problems[len(self.objectives) - 1]))
        return np.array([sum(c * primal[column - 1] for column, c in terms.items())
                         for terms in self.objectives])

    def read_out(self, n_record):
        if not len(self.weights):
            return np.zeros(n_record)
        last = self.problems[len(self.objectives) - 1]
        primal = np.array(glpk.get_col_primals(last))  # all columns in one call
        forward, reverse = self.record
        return (primal[forward] - primal[reverse]) @ self.weights

    def close(self):
        """Free the copies, leaving stage 0's last basis in the model's own problem."""
        if self.problems:
            self._return_basis()
        self._finalizer()

    def _return_basis(self):
        """Stage 0's basis (the growth optimum at the last point) into the model's problem, so
        that the next call's copies start warm, as after optlang's own solves; it holds the
        only solver state the model keeps between calls (bounds and objective are not
        touched). Without it every call would start from the model's initial basis (~0.5 s
        a call on iJO1366 instead of ~0.05 s)."""
        problem, template = self.model_problem, self.problems[0]
        for count, get, put in ((glpk.glp_get_num_rows, glpk.glp_get_row_stat,
                                 glpk.glp_set_row_stat),
                                (glpk.glp_get_num_cols, glpk.glp_get_col_stat,
                                 glpk.glp_set_col_stat)):
            for i in range(1, count(problem) + 1):
                status = get(template, i)
                if get(problem, i) != status:  # (setting costs more than reading)
                    put(problem, i, status)


def _is_scaled(problem) -> bool:
    """Whether GLPK has scale factors for ``problem`` (all 1 until it is first scaled)."""
    return any(glpk.glp_get_sjj(problem, j) != 1.0
               for j in range(1, glpk.glp_get_num_cols(problem) + 1)) or \
        any(glpk.glp_get_rii(problem, i) != 1.0
            for i in range(1, glpk.glp_get_num_rows(problem) + 1))


def _delete_problems(problems):
    for problem in problems:
        glpk.glp_delete_prob(problem)
    problems.clear()


def _columns(model, reaction):
    """GLPK columns (1-based; the same in the copies) of a reaction's forward and reverse
    variables, found by name in the model's problem (cobra names them ``id``, ``reverse_id``)."""
    problem = model.solver.problem
    columns = (glpk.glp_find_col(problem, reaction.id),
               glpk.glp_find_col(problem, reaction.reverse_id))
    if 0 in columns:
        raise ValueError(f"reaction {reaction.id!r} has no variables in the model's GLPK problem")
    return columns


def _column_bounds(problem, column):
    """(lb, ub) of a GLPK column, with -inf/inf where unbounded."""
    kind = glpk.glp_get_col_type(problem, column)
    lower = glpk.glp_get_col_lb(problem, column) if kind in _HAS_LOWER else -math.inf
    upper = glpk.glp_get_col_ub(problem, column) if kind in _HAS_UPPER else math.inf
    return lower, upper


def _set_column_bounds(problem, column, lower, upper):
    if lower == upper:
        kind = glpk.GLP_FX  # GLPK rejects a double bound with lb == ub
    else:
        kind = {(True, True): glpk.GLP_DB, (True, False): glpk.GLP_LO,
                (False, True): glpk.GLP_UP, (False, False): glpk.GLP_FR}[
            (math.isfinite(lower), math.isfinite(upper))]
    glpk.glp_set_col_bnds(problem, column, kind, lower if math.isfinite(lower) else 0.0,
                          upper if math.isfinite(upper) else 0.0)


def _stages_class(model):
    """:class:`_GlpkStages` on optlang's GLPK interface, else :class:`_OptlangStages`."""
    return _GlpkStages if model.solver.interface.__name__ == _GLPK_INTERFACE else _OptlangStages


class _LexicographicLP:
    """Solves the staged LP of one bound row on ``model`` (inside the caller's ``with model:``);
    :meth:`close` frees what the solver copy holds."""

    def __init__(self, model, exchanges, min_uptake, unique_fluxes, record=None):
        self.model = model
        self.reactions = [model.reactions.get_by_id(e) for e in exchanges]
        record = dict(record or {})
        self.n_record = len(next(iter(record.values()))) if record else 0
        record = [(model.reactions.get_by_id(rid), np.asarray(w, dtype=float))
                  for rid, w in record.items()]
        objectives = _stage_objectives(model, self.reactions, min_uptake, unique_fluxes)
        self.n_stages = len(objectives)
        self.stages = _stages_class(model)(model, self.reactions, objectives, record)
        self.flux_stages = self.n_stages - len(self.reactions) if unique_fluxes else None
        self.lp_count = 0
        self.points_solved = 0
        #: how often each numerical fallback was taken ({(kind, detail): count}); the first
        #: of each kind is logged at WARNING, repeats at DEBUG (a long run takes them hundreds
        #: of times near the shift and starvation, and the same line repeated says nothing new);
        #: solve_population(fallbacks=...) shares one dict over a run's calls
        self.fallbacks: dict = {}

    def note_fallback(self, key, message, *args):
        """Log a numerical fallback: WARNING the first time ``key`` happens, DEBUG after."""
        count = self.fallbacks.get(key, 0) + 1
        self.fallbacks[key] = count
        if count == 1:
            logger.warning(message + " (repeats of this are logged at DEBUG; counted in "
                           "fallbacks)", *args)
        else:
            logger.debug(message + " (%d times)", *args, count)

    def close(self):
        self.stages.close()

    def _retry_looser(self, stage, optima):
        """``(status, values)`` of ``stage`` with the earlier ``optima`` held ever looser
        (:data:`_HOLD_RETRIES`); ``values`` holds those stages at the holds that worked (:meth:`solve`
        then reports them as the last stage's fluxes achieve them)."""
        status, value, held = "infeasible", math.nan, optima
        for slack in _HOLD_RETRIES:
            held = optima - slack * (1.0 + np.abs(optima))
            # `optimize` holds each stage at _held(value): undo that so the hold is `held`
            status, value = self.stages.optimize(
                stage, held + _HOLD_RELATIVE * (1.0 + np.abs(held)))
            self.lp_count += 1
            if status != "infeasible":
                break
        self.note_fallback(("loosened hold", stage, slack, status),
                           "population FBA (%s): stage %d infeasible with the earlier optima "
                           "held to %g; held to %g instead (%s)", self.model.id, stage,
                           _HOLD_RELATIVE, slack, status)
        return status, np.append(held, value)

    def solve(self, row, vary=None) -> _Point | None:
        """The optimum at bound row ``row`` (None: infeasible); duals of column ``vary``."""
        n_stages, stages = self.n_stages, self.stages
        values = np.empty(n_stages)
        bound_dual = np.zeros(n_stages)
        hold_dual = np.zeros((n_stages, n_stages))
        self.points_solved += 1
        stages.set_uptake(row)
        loosened = False
        for stage in range(n_stages):
            status, values[stage] = stages.optimize(stage, values[:stage])
            self.lp_count += 1
            if status == "infeasible" and stage > 0:
                status, values[:stage + 1] = self._retry_looser(stage, values[:stage])
                loosened = True
            if status != "optimal":
                if stage == 0 and status == "infeasible":
                    return None
                raise InfeasibleError(
                    f"population FBA ({self.model.id}): stage {stage} of the LP at uptake "
                    f"bounds {dict(zip((r.id for r in self.reactions), row))} ended "
                    f"with solver status {status!r}", status=status)
            if vary is not None:
                # >= 0 / <= 0: the sign a dual of an upper / lower bound must have in a
                # maximisation (a fixed variable's dj mixes both bounds; see the module)
                bound_dual[stage] = max(_dual(stages.uptake_dual(stage, vary)), 0.0)
                hold_dual[stage, :stage] = [min(_dual(stages.hold_dual(stage, i)), 0.0)
                                            for i in range(stage)]
        if loosened:
            # a loosened hold lets the last stage's fluxes sit anywhere above it: report every
            # earlier stage (the growth among them) as those fluxes achieve it, so that the
            # growth is exactly what the reported exchanges pay for
            values[:-1] = stages.realised()[:-1]
        if self.flux_stages is not None:  # the unique optimum, not the solver's vertex
            fluxes = values[self.flux_stages:].copy()
        else:
            fluxes = stages.fluxes()
        recorded = stages.read_out(self.n_record)
        return _Point(values, np.concatenate([fluxes, recorded]), bound_dual, hold_dual)
