"""Dask worker tasks of the essentiality screen.

Deliberately free of package imports: :func:`~.screen.essentiality_screen` ships these
functions to the workers by value (cloudpickle), so that a worker imports only cobra (to
unpickle the model), not the whole greybox package.
"""
import math
import pickle
import threading

_LOCAL = threading.local()
#: Models placed here before a LocalCluster forks its workers are inherited by them (no
#: pickling); keyed by token.
FORKED = {}


def worker_model(payload, token):
    """The model pickled in ``payload``, unpickled once per worker thread (cached by ``token``)."""
    cache = getattr(_LOCAL, "models", None)
    if cache is None or token not in cache:
        _LOCAL.models = cache = {token: pickle.loads(payload)}  # keep one model per thread
    return cache[token]


def solve_chunk(payload, token, chunk):
    """Growth and solver status for each ``(key, [reaction ids])`` of ``chunk``.

    ``payload`` is a pickled cobra model (or the model itself); bounds change only inside
    ``with model:``.
    """
    if payload is None:
        work = FORKED[token]  # inherited from the parent process at fork time
    elif isinstance(payload, bytes):
        work = worker_model(payload, token)
    else:
        work = payload
    out = []
    for key, reactions in chunk:
        with work:
            for rid in reactions:
                work.reactions.get_by_id(rid).bounds = (0.0, 0.0)
            value = work.slim_optimize(error_value=float("nan"))
            status = work.solver.status
        out.append((key, float(value) if math.isfinite(value) else 0.0, status))
    return out
