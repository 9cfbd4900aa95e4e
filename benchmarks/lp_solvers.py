"""LP solvers for the population metabolism: GLPK vs HiGHS, and the shared LPs before/after.

Two measurements on iJO1366, each printed as a Markdown table:

1. **One single-cell FBA** (``load_model('iJO1366')``, its own medium, growth maximised):
   GLPK through cobra/optlang (``slim_optimize``), cold (from GLPK's standard basis,
   ``glp_std_basis``) and warm (re-solved after a 1% change of the glucose bound);
   HiGHS through optlang's ``hybrid`` interface (cobra's ``model.solver = 'hybrid'``), and HiGHS
   driven directly (``highspy``: the GLPK problem's matrix passed once; cold = a fresh
   ``Highs``, warm = re-run after the same bound change). Median wall time of ``--repeats``.
2. **The population's shared LPs** (``solve_population``) on the bound rows of real updates:
   the grey-box E. coli population (``ecoli_grey_box``: iJO1366, ``method: etfl``) is run for
   ``--minutes`` at ``--cells`` cells, and every update's call of the metabolism's
   ``solve_population`` is captured (the process's own model, bounds and ``record``). Each
   captured call is then solved by:

   * ``before``: ``solve_population`` of git revision ``--baseline`` (optlang, one problem);
   * ``GLPK copies``: this tree's ``solve_population`` (one private GLPK copy per stage);
   * ``GLPK optlang``: this tree's method through optlang on the model itself (the path other
     solvers take), which separates the copies' gain from the tangent test's;
   * ``HiGHS direct``: this tree's method with the stages solved by ``highspy`` (one ``Highs``
     per stage, each warm-started from its previous basis; building the LP from the model, a
     Python loop over columns, is timed apart as "build");
   * ``HiGHS optlang``: through optlang's ``hybrid`` interface (first ``--hybrid-calls`` calls
     only: it rebuilds the whole matrix at every solve).

   It prints LPs and wall time per call (mean over the calls of each phase, glucose and
   lactose) and the largest differences of growth, tracked fluxes and recorded read-outs from
   ``before``, plus a check of HiGHS's dual signs against a finite difference.

It also prints, for one glucose-phase update, each GLPK method's LPs, simplex iterations and
time per LP (a point's first stage apart from its later stages), and the time spent outside
the solver. Needs ``highspy`` (``pip install highspy==1.11.0``; not a dependency of the
package) and, for the optlang ``hybrid`` rows, ``osqp`` (left out with a note without it).

Usage::

    python benchmarks/lp_solvers.py                          # 1000 cells, 30 min
    python benchmarks/lp_solvers.py --cells 100 --minutes 10 --repeats 3   # quick
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time as wallclock
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FBA_PATH = "greybox_processes/metabolism/population_fba.py"
#: the last commit before the per-stage GLPK copies (the "before" of RESULTS.md)
DEFAULT_BASELINE = "ee7aa22"
#: HiGHS's simplex_strategy values (HiGHS options reference): its choice, and primal
CHOOSE_SIMPLEX, PRIMAL_SIMPLEX = 0, 4


def baseline_module(revision: str):
    """``population_fba`` as of git ``revision``, imported beside this tree's (for timing)."""
    done = subprocess.run(["git", "show", f"{revision}:{FBA_PATH}"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"git show {revision}:{FBA_PATH} failed ({done.stderr.strip()}); pass a "
                 "revision of this repository that has the file (--baseline)")
    import greybox_processes.metabolism  # noqa: F401  (the package its relative imports need)

    name = f"greybox_processes.metabolism._population_fba_{revision}"
    module = types.ModuleType(name)
    module.__package__ = "greybox_processes.metabolism"
    sys.modules[name] = module  # dataclasses look their module up here
    exec(compile(done.stdout, f"{revision}:{FBA_PATH}", "exec"), module.__dict__)
    return module


# -- HiGHS ------------------------------------------------------------------------------------
def highs_lp(problem):
    """A ``highspy.HighsLp`` with the matrix and bounds of a GLPK problem (no objective)."""
    import highspy
    import swiglpk as glpk

    n_rows, n_cols = glpk.glp_get_num_rows(problem), glpk.glp_get_num_cols(problem)
    index, value = glpk.intArray(n_rows + 1), glpk.doubleArray(n_rows + 1)
    starts, rows, values = [0], [], []
    for j in range(1, n_cols + 1):
        n = glpk.glp_get_mat_col(problem, j, index, value)
        rows.extend(index[k] - 1 for k in range(1, n + 1))
        values.extend(value[k] for k in range(1, n + 1))
        starts.append(len(rows))

    def bounds(kind, lower, upper, n):
        out = np.empty((n, 2))
        for i in range(1, n + 1):
            t = kind(problem, i)
            out[i - 1] = (lower(problem, i) if t in (glpk.GLP_LO, glpk.GLP_DB, glpk.GLP_FX)
                          else -highspy.kHighsInf,
                          upper(problem, i) if t in (glpk.GLP_UP, glpk.GLP_DB, glpk.GLP_FX)
                          else highspy.kHighsInf)
        return out

    columns = bounds(glpk.glp_get_col_type, glpk.glp_get_col_lb, glpk.glp_get_col_ub, n_cols)
    row_bounds = bounds(glpk.glp_get_row_type, glpk.glp_get_row_lb, glpk.glp_get_row_ub, n_rows)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.zeros(n_cols)
    lp.col_lower_, lp.col_upper_ = columns[:, 0], columns[:, 1]
    lp.row_lower_, lp.row_upper_ = row_bounds[:, 0], row_bounds[:, 1]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(rows, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(values)
    lp.sense_ = highspy.ObjSense.kMaximize
    return lp


def new_highs(lp, presolve="choose"):
    import highspy

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("presolve", presolve)
    highs.passModel(lp)
    return highs


class HighsStages:
    """population_fba's stage interface (see ``_GlpkStages``) solved by highspy directly.

    As fair to HiGHS as the GLPK copies are to GLPK: the LP is built once per model (the
    captured calls share one model) and stage 0's last basis is carried to the next call."""

    build_s = 0.0  # wall time spent building the LPs
    _lps: dict = {}     # id(model) -> HighsLp
    _bases: dict = {}   # id(model) -> stage 0's last HighsBasis

    def __init__(self, model, reactions, objectives, record):
        import highspy

        from greybox_processes.metabolism import population_fba as fba

        started = wallclock.perf_counter()
        self.fba, self.inf = fba, highspy.kHighsInf
        self.optimal = highspy.HighsModelStatus.kOptimal
        self.infeasible = (highspy.HighsModelStatus.kInfeasible,
                           highspy.HighsModelStatus.kUnboundedOrInfeasible)
        self.objectives = [{v._index - 1: float(c) for v, c in t.items()} for t in objectives]
        if id(model) not in self._lps:
            self._lps[id(model)] = highs_lp(model.solver.problem)
        self.lp, self.key = self._lps[id(model)], id(model)
        n_rows = self.lp.num_row_
        self.hold_rows = list(range(n_rows, n_rows + len(objectives) - 1))
        self.reactions = reactions
        self.columns = [tuple(c - 1 for c in fba._columns(model, r)) for r in reactions]
        self.own = [tuple((self.lp.col_lower_[j], self.lp.col_upper_[j]) for j in pair)
                    for pair in self.columns]
        pairs = [tuple(c - 1 for c in fba._columns(model, r)) for r, _ in record]
        self.record = (np.array([p[0] for p in pairs], dtype=int),
                       np.array([p[1] for p in pairs], dtype=int))
        self.weights = np.array([w for _, w in record])
        self.highs = [self._instance(0, None)]
        if self.key in self._bases:
            self.highs[0].setBasis(self._bases[self.key])
        self.solutions = [None] * len(objectives)
        HighsStages.build_s += wallclock.perf_counter() - started

    def _instance(self, stage, previous):
        highs = new_highs(self.lp, presolve="off")  # a warm start needs the full LP
        for terms in self.objectives[:-1]:  # hold rows, free until a stage holds them
            highs.addRow(-self.inf, self.inf, len(terms), np.array(list(terms), dtype=np.int32),
                         np.array(list(terms.values())))
        costs = self.objectives[stage]
        highs.changeColsCost(len(costs), np.array(list(costs), dtype=np.int32),
                             np.array(list(costs.values())))
        if previous is not None:  # the current bounds and the previous stage's basis
            for column, (lower, upper) in self.settings:
                highs.changeColBounds(column, lower, upper)
            highs.setBasis(previous.getBasis())
            # that basis is primal feasible for the new objective (the earlier optima hold),
            # not dual feasible: the primal simplex continues from it, the dual would restart
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        return highs

    def set_uptake(self, row):
        self.settings = []
        for reaction, pair, own, bound in zip(self.reactions, self.columns, self.own, row):
            bounds = self.fba._uptake_bounds(reaction, bound) if np.isfinite(bound) else own
            self.settings.extend(zip(pair, bounds))
        for highs in self.highs:
            for column, (lower, upper) in self.settings:
                highs.changeColBounds(column, lower, upper)

    def optimize(self, stage, held):
        while len(self.highs) <= stage:
            self.highs.append(self._instance(len(self.highs), self.highs[-1]))
        highs = self.highs[stage]
        for row, value in zip(self.hold_rows, held):
            highs.changeRowBounds(row, self.fba._held(value), self.inf)
        highs.run()
        highs.setOptionValue("simplex_strategy", CHOOSE_SIMPLEX)  # bounds change from now on
        status = highs.getModelStatus()
        if status != self.optimal:
            return ("infeasible" if status in self.infeasible else str(status)), float("nan")
        self.solutions[stage] = highs.getSolution()
        return "optimal", highs.getInfo().objective_function_value

    def uptake_dual(self, stage, column):
        return self.solutions[stage].col_dual[self.columns[column][1]]

    def hold_dual(self, stage, index):
        return self.solutions[stage].row_dual[self.hold_rows[index]]

    def fluxes(self):
        primal = np.asarray(self.solutions[-1].col_value)
        return np.array([primal[f] - primal[r] for f, r in self.columns])

    def read_out(self, n_record):
        if not len(self.weights):
            return np.zeros(n_record)
        primal = np.asarray(self.solutions[-1].col_value)
        return (primal[self.record[0]] - primal[self.record[1]]) @ self.weights

    def close(self):
        if self.highs:
            self._bases[self.key] = self.highs[0].getBasis()
        self.highs.clear()


def hybrid_copy(model):
    """A copy of ``model`` on optlang's ``hybrid`` (HiGHS) interface; None (and a note) where
    optlang cannot load it (it needs ``osqp`` besides ``highspy``)."""
    from cobra.exceptions import SolverNotFound

    copy = model.copy()
    try:
        copy.solver = "hybrid"
    except SolverNotFound as error:
        print(f"(optlang hybrid interface unavailable, left out: {error}; it needs the osqp "
              "package besides highspy)\n")
        return None
    return copy


# -- 1. single-cell FBA -----------------------------------------------------------------------
def median_time(function, repeats):
    times, value = [], None
    for _ in range(repeats):
        started = wallclock.perf_counter()
        value = function()
        times.append(wallclock.perf_counter() - started)
    return statistics.median(times), value


def single_cell(repeats: int) -> None:
    from greybox_processes.metabolism import load_model
    from greybox_processes.metabolism.models import biomass_reaction

    import swiglpk as glpk

    base = load_model("iJO1366")
    glucose = base.reactions.EX_glc__D_e

    def glpk_cold():
        glpk.glp_std_basis(base.solver.problem)  # all slacks basic: GLPK from scratch
        return base.slim_optimize()

    warm = load_model("iJO1366")
    warm.slim_optimize()

    def glpk_warm():
        warm.reactions.EX_glc__D_e.lower_bound *= 1.01
        return warm.slim_optimize()

    rows = [("GLPK (cobra/optlang), cold", *median_time(glpk_cold, repeats))]
    rows.append(("GLPK (cobra/optlang), warm", *median_time(glpk_warm, repeats)))
    hybrid = hybrid_copy(base)
    if hybrid is not None:
        rows.append(("HiGHS (optlang hybrid)", *median_time(hybrid.slim_optimize, repeats)))
    lp = highs_lp(base.solver.problem)
    biomass = biomass_reaction(base)
    cost = np.zeros(lp.num_col_)  # (lp.col_cost_ hands out a copy: assign it whole)
    cost[biomass.forward_variable._index - 1] = 1.0
    cost[biomass.reverse_variable._index - 1] = -1.0
    lp.col_cost_ = cost

    def highs_cold():
        highs = new_highs(lp)
        highs.run()
        return highs.getInfo().objective_function_value

    rows.append(("HiGHS direct (highspy), cold", *median_time(highs_cold, repeats)))
    highs = new_highs(lp)
    highs.run()
    column = glucose.reverse_variable._index - 1
    bound = [float(lp.col_upper_[column])]

    def highs_warm():
        bound[0] *= 1.01
        highs.changeColBounds(column, 0.0, bound[0])
        highs.run()
        return highs.getInfo().objective_function_value

    rows.append(("HiGHS direct (highspy), warm", *median_time(highs_warm, repeats)))
    reference = rows[0][2]
    print(f"### One single-cell FBA, iJO1366 (median of {repeats})\n")
    print("| solver | wall per LP (ms) | time / GLPK cold | growth (1/h) |")
    print("|---|---|---|---|")
    for label, seconds, growth in rows:
        note = f"{growth:.12f}" + ("" if "warm" in label else
                                    f" (diff {abs(growth - reference):.1e})")
        print(f"| {label} | {seconds * 1e3:.1f} | {seconds / rows[0][1]:.2f}x | {note} |")
    print()


# -- 2. the population's shared LPs ----------------------------------------------------------
def capture_calls(cells, minutes, capacity, biomass, seed):
    """(the metabolism's model, [(exchanges, bounds, kwargs)]) of a grey-box run's updates."""
    import greybox_processes as gb
    import greybox_processes.metabolism.population_process as process_module
    from greybox_processes.ecoli.cells import ecoli_grey_box

    calls, models = [], []
    solve = process_module.solve_population

    def capturing(model, exchanges, bounds, **kwargs):
        if len(bounds) > 1:  # the updates (not the one-row pre-culture checks)
            if not models:
                models.append(model.copy())
            calls.append((tuple(exchanges), np.array(bounds), kwargs))
        return solve(model, exchanges, bounds, **kwargs)

    process_module.solve_population = capturing
    try:
        document = ecoli_grey_box(capacity=capacity, initial_cells=cells,
                                  initial_biomass=biomass, model="iJO1366", method="etfl",
                                  seed=seed)
        gb.run(document, minutes, progress=False)
    finally:
        process_module.solve_population = solve
    return models[0], calls


def replay(methods, calls):
    """{label: [(result, wall s)]} of every method on every captured call.

    Each method solves on its own copy of the model (so that what one leaves in its solver,
    e.g. a basis, does not help or hinder another) after one warm-up call; the calls are
    interleaved, method by method within a call, so that a changing load on the machine
    falls on all methods alike."""
    copies = {label: model.copy() for label, (_, model, _) in methods.items()}
    for label, (solve, _, chosen) in methods.items():
        exchanges, bounds, kwargs = chosen[0]
        solve(copies[label], exchanges, bounds, **kwargs)
    out = {label: [] for label in methods}
    for index in range(len(calls)):
        for label, (solve, _, chosen) in methods.items():
            if index >= len(chosen):
                continue
            exchanges, bounds, kwargs = chosen[index]
            started = wallclock.perf_counter()
            result = solve(copies[label], exchanges, bounds, **kwargs)
            out[label].append((result, wallclock.perf_counter() - started))
    return out


def with_stages(stages_class, solve_population):
    """``solve_population`` with its stage solver replaced by ``stages_class``."""
    from greybox_processes.metabolism import population_fba as fba

    def solve(*args, **kwargs):
        original = fba._stages_class
        fba._stages_class = lambda model: stages_class
        try:
            return solve_population(*args, **kwargs)
        finally:
            fba._stages_class = original
    return solve


def max_diff(results, reference, attribute):
    diffs = [np.abs(getattr(r, attribute) - getattr(ref, attribute))
             for (r, _), (ref, _) in zip(results, reference)]
    finite = [d[np.isfinite(d)] for d in diffs]
    return max((float(d.max()) for d in finite if d.size), default=0.0)


def population(args) -> None:
    from greybox_processes.metabolism import population_fba as fba

    model, calls = capture_calls(args.cells, args.minutes, args.capacity, args.biomass,
                                 args.seed)
    # lactose phase: the glucose uptake bound (Michaelis-Menten in the medium's glucose,
    # column 0) under 1% of the first update's
    lactose_phase = np.array([b[0, 0] < 0.01 * calls[0][1][0, 0] for _, b, _ in calls])
    before = baseline_module(args.baseline).solve_population
    optlang = with_stages(fba._OptlangStages, fba.solve_population)
    methods = {f"before ({args.baseline}, optlang)": (before, model, calls),
               "GLPK copies (this tree)": (fba.solve_population, model, calls),
               "GLPK optlang (this tree)": (optlang, model, calls),
               "HiGHS direct (this tree)": (with_stages(HighsStages, fba.solve_population),
                                            model, calls)}
    hybrid = hybrid_copy(model)
    if hybrid is not None:
        some = calls[:args.hybrid_calls]
        methods[f"HiGHS optlang hybrid (first {len(some)} calls)"] = (optlang, hybrid, some)
    results = replay(methods, calls)
    reference = results[f"before ({args.baseline}, optlang)"]
    print(f"### Shared LPs of the grey-box population, {args.cells} cells, {args.minutes:g} min "
          f"({len(calls)} updates: {int((~lactose_phase).sum())} glucose phase, "
          f"{int(lactose_phase.sum())} lactose phase; mean distinct rows "
          f"{np.mean([r.distinct_rows for r, _ in reference]):.0f})\n")
    print("| method | LPs per update (glucose / lactose phase) | wall per update, ms, median "
          "(glucose / lactose phase) | mean wall per update, ms | speed-up vs before (means) "
          "| max diff growth (1/h) | fluxes (mmol/gDW/h) | recorded |")
    print("|---|---|---|---|---|---|---|---|")
    for label, res in results.items():
        phase = lactose_phase[:len(res)]
        lps = np.array([r.lp_count for r, _ in res])
        wall = np.array([t for _, t in res]) * 1e3
        base_wall = np.mean([t for _, t in reference[:len(res)]]) * 1e3

        def middle(values, mask, spec):
            return format(np.median(values[mask]), spec) if mask.any() else "-"
        print(f"| {label} | {middle(lps, ~phase, '.0f')} / {middle(lps, phase, '.0f')} | "
              f"{middle(wall, ~phase, '.1f')} / {middle(wall, phase, '.1f')} | "
              f"{wall.mean():.1f} | {base_wall / wall.mean():.1f}x"
              f"{' (on its calls)' if len(res) < len(calls) else ''} | "
              f"{max_diff(res, reference, 'growth'):.1e} | "
              f"{max_diff(res, reference, 'fluxes'):.1e} | "
              f"{max_diff(res, reference, 'recorded'):.1e} |")
    print(f"\nHiGHS direct: building its LP from the model (once) and its per-stage "
          f"instances took {HighsStages.build_s:.2f} s in all "
          f"({HighsStages.build_s / (len(calls) + 1) * 1e3:.0f} ms per update), included above."
          " LPs per update: median.")
    profile_update(model, calls, lactose_phase,
                   {label: methods[label][0] for label in list(methods)[:3]})
    dual_check(model, calls)


def profile_update(model, calls, phase_mask, methods):
    """Where one glucose-phase update's time goes: each method's simplex calls (GLPK's
    ``glp_simplex``, timed and its iterations counted by wrapping it where optlang and
    population_fba call it) and the time outside the solver."""
    import optlang.glpk_interface as optlang_glpk
    import swiglpk

    index = int(np.flatnonzero(~phase_mask)[int((~phase_mask).sum()) // 2])
    exchanges, bounds, kwargs = calls[index]
    print(f"\nOne glucose-phase update (update {index}, {len(np.unique(bounds, axis=0))} "
          "distinct rows), GLPK's simplex calls:\n")
    print("| method | LPs | points | simplex iterations per LP (first stage of a point / the "
          "others) | ms per LP (same split) | in glp_simplex (ms) | outside the solver (ms) | "
          "total (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    for label, solve in methods.items():
        copy = model.copy()
        solve(copy, exchanges, bounds, **kwargs)  # warm-up, as in the replay
        log = []

        def timed(problem, params, _inner=swiglpk.glp_simplex):
            before = swiglpk.glp_get_it_cnt(problem)
            started = wallclock.perf_counter()
            code = _inner(problem, params)
            log.append((wallclock.perf_counter() - started,
                        swiglpk.glp_get_it_cnt(problem) - before, code))
            return code
        saved = swiglpk.glp_simplex, optlang_glpk.glp_simplex
        swiglpk.glp_simplex = optlang_glpk.glp_simplex = timed
        try:
            started = wallclock.perf_counter()
            result = solve(copy, exchanges, bounds, **kwargs)
            total = wallclock.perf_counter() - started
        finally:
            swiglpk.glp_simplex, optlang_glpk.glp_simplex = saved
        stages = result.lp_count // max(result.points_solved, 1)
        # a failed call (e.g. optlang's first solve after rows were added: invalid basis) and
        # its retry are one LP
        lps, pending = [], np.zeros(2)
        for seconds_, iterations_, code in log:
            pending += (seconds_, iterations_)
            if code == 0:
                lps.append(pending)
                pending = np.zeros(2)
        seconds, iterations = np.array(lps).T
        first = np.arange(len(lps)) % max(stages, 1) == 0  # each point's first stage
        print(f"| {label} | {result.lp_count} | {result.points_solved} | "
              f"{iterations[first].mean():.0f} / {iterations[~first].mean():.0f} | "
              f"{seconds[first].mean() * 1e3:.1f} / {seconds[~first].mean() * 1e3:.1f} | "
              f"{seconds.sum() * 1e3:.0f} | {(total - seconds.sum()) * 1e3:.0f} | "
              f"{total * 1e3:.0f} |")


def dual_check(model, calls):
    """Each solver's duals as used (the GLPK/optlang signs of the module docstring 'Dual
    sign') vs finite differences: growth in the lactose bound, and the least-carbon stage in
    the held growth."""
    from greybox_processes.metabolism import population_fba as fba

    exchanges, bounds, _ = calls[0]  # glucose phase: both stages move
    row = bounds[np.argmax(bounds[:, 1])].copy()
    step = 1e-4 * max(row[1], 1e-3)
    print("\nDuals vs finite differences at one bound row of the first update:\n")
    for label, stages_class in (("GLPK copies", fba._GlpkStages), ("HiGHS direct", HighsStages)):
        lp = with_stages(stages_class, fba._LexicographicLP)(model, exchanges, True, False)
        try:
            point = lp.solve(row, vary=1)
            above = lp.solve(row + np.array([0.0, step]), vary=1)
            stages = lp.stages  # the held-growth derivative, on the same stage LPs
            stages.set_uptake(row)
            growth = stages.optimize(0, [])[1]
            hold = stages.optimize(1, [growth])[1]
            raw_hold_dual = stages.hold_dual(1, 0)
            shift = 1e-6 * (1 + abs(growth))
            lower = stages.optimize(1, [growth - shift])[1]
        finally:
            lp.close()
        bound_fd = (above.values[0] - point.values[0]) / step
        # the hold's lower bound moves by the same amount as the held value
        hold_fd = (hold - lower) / shift
        print(f"* {label}: d growth / d lactose bound: dual {point.bound_dual[0]:.6g}, finite "
              f"difference {bound_fd:.6g}; d(stage 2) / d(held growth): dual "
              f"{raw_hold_dual:.6g}, finite difference {hold_fd:.6g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--capacity", type=int, default=2000)
    parser.add_argument("--biomass", type=float, default=0.09,
                        help="initial biomass, gDW/L (glucose runs out inside 30 min at 0.09)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hybrid-calls", type=int, default=3)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE,
                        help="git revision whose solve_population is 'before'")
    parser.add_argument("--skip-single-cell", action="store_true")
    args = parser.parse_args()
    if not args.skip_single_cell:
        single_cell(args.repeats)
    population(args)


if __name__ == "__main__":
    main()
