"""The exact SSA of the lac kernel: Gillespie's direct method, all cells at once (pure JAX).

Each pass of a loop draws one waiting time and one reaction per cell still active, from the
counter-based words of the RDME kernel (one counter per cell, one stream pair per pass), so
a cell's draws do not depend on the other rows. The cells' state lives in ``rows``, a dict
of arrays whose first axis is the cell (counts ``x``, the time ``t``, per-cell constants,
the cell's counter ``cells``), so that the loop can carry on with fewer rows.

Why fewer rows: a pass costs the same for every row, active or done, and the loop runs
until the busiest cell is done, so its cost is the number of rows times the *most* events
any cell has. The events of cells are spread (an uninduced cell with a burst of LacY makes
~3x the median's), so once at most 1/8 of the rows are active they are gathered into 1/8
of the rows (and again at 1/64), which leaves every cell's law and draws as they were.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .network import CHANGE
from .sampling import cell_uniforms

__all__ = ["COMPACTION", "choose", "while_compacting", "ssa_step", "ssa_while_all_slow"]

#: The loop carries on with ``n // c`` rows for each ``c`` here, once that many are active.
COMPACTION = (8, 64)
#: Fewest rows worth gathering into.
_MIN_ROWS = 8


def choose(a, target):
    """Index of the reaction whose cumulative-propensity bin holds ``target`` (per cell).

    Never a reaction of zero propensity, even when rounding puts ``target`` at the top.
    """
    n_j = a.shape[1]
    cumulative = jnp.cumsum(a, axis=1)
    hit = (cumulative > target[:, None]) & (a > 0)
    positive = a > 0
    last_positive = n_j - 1 - jnp.argmax(positive[:, ::-1], axis=1)
    return jnp.where(jnp.any(hit, axis=1), jnp.argmax(hit, axis=1), last_positive)


def _draw(a, seeds, cells, it):
    """One direct-method draw per cell: (any propensity, waiting time, chosen reaction)."""
    n, fdt = a.shape[0], a.dtype
    a0 = jnp.sum(a, axis=1)
    stream = (2 * it).astype(jnp.uint32)
    u1 = cell_uniforms((seeds, cells), stream, (n,), fdt)
    u2 = cell_uniforms((seeds, cells), stream + np.uint32(1), (n,), fdt)
    pos = a0 > 0
    wait = jnp.where(pos, -jnp.log(u1) / jnp.where(pos, a0, 1.0), jnp.inf)
    return pos, wait, choose(a, u2 * a0)


def while_compacting(body, rows, active, limit):
    """``body(rows, active, it) -> (rows, active)`` while a row is active and ``it < limit``.

    The rows of the active cells are gathered into fewer rows (:data:`COMPACTION`) once no
    more are active, and scattered back at the end. Returns ``(rows, active)``.
    """
    n = active.shape[0]
    widths = tuple(n // c for c in COMPACTION if n // c >= _MIN_ROWS)
    rows, active, _ = _run(body, rows, active, jnp.zeros((), jnp.int32), limit, widths)
    return rows, active


def _run(body, rows, active, it, limit, widths):
    n = active.shape[0]
    floor = widths[0] if widths else 0

    def going(carry):
        _, active, it = carry
        return (jnp.sum(active) > floor) & (it.astype(limit.dtype) < limit)

    def step(carry):
        rows, active, it = carry
        rows, active = body(rows, active, it)
        return rows, active, it + 1

    rows, active, it = lax.while_loop(going, step, (rows, active, it))
    if not widths:
        return rows, active, it
    index = jnp.nonzero(active, size=widths[0], fill_value=n)[0]   # n: a padding row

    def gather(values):
        return jnp.take(values, index, axis=0, mode="fill", fill_value=0)

    sub, sub_active, it = _run(body, jax.tree.map(gather, rows),
                               jnp.take(active, index, mode="fill", fill_value=False), it,
                               limit, widths[1:])
    rows = jax.tree.map(lambda values, part: values.at[index].set(part, mode="drop"), rows, sub)
    return rows, active.at[index].set(sub_active, mode="drop"), it


def ssa_step(rates, rows, alive, h, seeds, max_events):
    """The direct method for the reactions ``rows['slow']`` over ``h`` minutes from ``t = 0``.

    ``rates(rows) -> (n, J)`` propensities; ``rows`` holds ``x``, ``slow`` (n, J) and the
    per-cell inputs ``rates`` needs, and ``cells``. A cell whose next event falls beyond the
    step is done (memoryless). Returns ``(x, hit_cap)``.
    """
    change = jnp.asarray(CHANGE, rows["x"].dtype)
    rows = {**rows, "t": jnp.zeros(alive.shape, rows["x"].dtype)}

    def body(rows, active, it):
        a = jnp.where(rows["slow"], rates(rows), 0.0)
        pos, wait, chosen = _draw(a, seeds, rows["cells"], it)
        fire = active & pos & (rows["t"] + wait < h)
        x = rows["x"] + jnp.where(fire[:, None], change[chosen], 0.0)
        return {**rows, "x": x, "t": rows["t"] + wait}, fire

    rows, active = while_compacting(body, rows, alive, jnp.asarray(max_events, h.dtype))
    return rows["x"], jnp.any(active)


def ssa_while_all_slow(rates, rows, live, dt, h, n_steps, threshold, seeds, max_iterations):
    """The exact SSA of every reaction over ``dt``, per cell while its steps would leap nothing.

    A cell's boundaries ``k h`` are checked as the hybrid scheme would: at ``t = 0``, and
    whenever the next event falls beyond a boundary, the partition of the current state
    (constant until that event) is tested; if a reaction would be leaped there (``a_j h >
    threshold``), the cell stops at that boundary and joins the stepped scheme from step
    ``k``. Until then all its reactions are exact, so this is the hybrid's law. Returns
    ``(x, first_step, bad, capped)``: ``first_step`` is ``n_steps`` for cells done (and dead
    ones), ``bad`` whether a propensity was not finite, ``capped`` whether
    ``max_iterations`` passes did not finish.
    """
    change = jnp.asarray(CHANGE, rows["x"].dtype)
    steps = n_steps.astype(h.dtype)
    n = live.shape[0]
    rows = {**rows, "t": jnp.zeros((n,), h.dtype), "first": jnp.full((n,), n_steps, jnp.int32),
            "bad": jnp.zeros((n,), bool)}

    def body(rows, active, it):
        a = jnp.where(active[:, None], rates(rows), 0.0)
        bad = rows["bad"] | ~jnp.all(jnp.isfinite(a), axis=1)
        pos, wait, chosen = _draw(a, seeds, rows["cells"], it)
        t = rows["t"]
        t_next = t + wait
        would_leap = jnp.any(a * h > threshold, axis=1)
        at_start = t <= 0.0
        boundary = jnp.where(at_start, 0.0, jnp.floor(t / h) + 1.0)   # next boundary, in steps
        stop = active & would_leap & (boundary < steps) & (at_start | (t_next >= boundary * h))
        fire = active & ~stop & pos & (t_next < dt)
        done = active & ~stop & ~fire
        first = jnp.where(stop, boundary.astype(jnp.int32), rows["first"])
        first = jnp.where(done, n_steps, first)
        x = rows["x"] + jnp.where(fire[:, None], change[chosen], 0.0)
        return {**rows, "x": x, "t": jnp.where(fire, t_next, t), "first": first,
                "bad": bad}, fire

    rows, active = while_compacting(body, rows, live, max_iterations)
    return rows["x"], rows["first"], jnp.any(rows["bad"]), jnp.any(active)
