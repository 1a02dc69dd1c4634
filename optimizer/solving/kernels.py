"""The tree search's inner loops, compiled by numba when it is installed.

:func:`fill` and :func:`climb` run at every node of :mod:`optimizer.solving.tree`: the
greedy fill of a rounded plan and the climb from it (fund a unit that fits, drop a
losing unit, exchange one unit for another); so does the node LP's dual simplex
(:func:`optimizer.solving.simplex.dual_simplex`), compiled and cached with them. In
numpy each of the first two is a few dozen array calls per move; compiled, a whole
climb takes microseconds, so every node's plan can be climbed. Numba is optional
(``pip install numba``): without it, :data:`COMPILED` is False and the tree falls back
to numpy (:func:`fill_numpy`, and :class:`optimizer.solving.heuristics.SwapSearch` on
the plans near the best) and to HiGHS for its node LPs.

Numba compiles on the first call and keeps the machine code on disk (``cache=True``).
A search with a time limit must not spend its budget compiling, so :func:`ready` says
whether the compiled code is at hand: it is when it was loaded from that cache or
compiled earlier in this process. When it is not, :func:`warm_in_background` compiles
it in a separate process for the next run, and this run uses numpy.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from optimizer.solving.simplex import dual_simplex

try:  # pragma: no cover - depends on the environment
    import numba

    COMPILED = True
except ImportError:  # pragma: no cover
    numba = None  # type: ignore[assignment]
    COMPILED = False

__all__ = ["COMPILED", "fill", "fill_numpy", "climb", "dual_simplex", "ready",
           "compile_all", "warm_in_background"]


def _fill(a: np.ndarray, slack: np.ndarray, x: np.ndarray, up: np.ndarray,
          order: np.ndarray) -> None:
    """Add to ``x``, in ``order``, as many units of each column as fit ``slack`` (row
    room left, reduced in place); ``a`` is the dense matrix (rows x columns)."""
    m = a.shape[0]
    for j in order:
        many = up[j] - x[j]
        if many < 0.5:
            continue
        for r in range(m):
            if a[r, j] > 0:
                fit = np.floor(slack[r] / a[r, j])
                if fit < many:
                    many = fit
        if many < 0.5:
            continue
        x[j] += many
        for r in range(m):
            slack[r] -= many * a[r, j]


def _climb(a: np.ndarray, slack: np.ndarray, x: np.ndarray, lo: np.ndarray,
           up: np.ndarray, cost: np.ndarray, by_cost: np.ndarray, scale: float,
           max_moves: int) -> float:
    """Climb from ``x`` (in place, with ``slack`` its row room, kept in step) by moves of
    one unit of the columns ``by_cost`` (the movable ones, by falling return), within
    ``lo`` and ``up``: fund the best unit that fits, else drop the unit that loses most,
    else make the best exchange of one unit for another; until no move gains more than
    ``scale`` or ``max_moves`` were made. Returns what the moves gained."""
    m = a.shape[0]
    gained = 0.0
    for _ in range(max_moves):
        best_j, best_gain = -1, scale
        for j in by_cost:  # fund one unit
            if x[j] < up[j] - 0.5 and cost[j] > best_gain:
                ok = True
                for r in range(m):
                    if a[r, j] > slack[r]:
                        ok = False
                        break
                if ok:
                    best_j, best_gain = j, cost[j]
        if best_j >= 0:
            x[best_j] += 1.0
            for r in range(m):
                slack[r] -= a[r, best_j]
            gained += best_gain
            continue
        best_i, best_gain = -1, scale
        for i in by_cost:  # drop a losing unit
            if x[i] > lo[i] + 0.5 and -cost[i] > best_gain:
                ok = True
                for r in range(m):
                    if -a[r, i] > slack[r]:
                        ok = False
                        break
                if ok:
                    best_i, best_gain = i, -cost[i]
        if best_i >= 0:
            x[best_i] -= 1.0
            for r in range(m):
                slack[r] += a[r, best_i]
            gained += best_gain
            continue
        best_i, best_j, best_gain = -1, -1, scale
        for i in by_cost:  # exchange one unit of i for one of j
            if x[i] < lo[i] + 0.5:
                continue
            for j in by_cost:
                gain = cost[j] - cost[i]
                if gain <= best_gain:
                    break  # by falling return: no later j gains more
                if j == i or x[j] > up[j] - 0.5:
                    continue
                ok = True
                for r in range(m):
                    if a[r, j] - a[r, i] > slack[r]:
                        ok = False
                        break
                if ok:
                    best_i, best_j, best_gain = i, j, gain
        if best_i < 0:
            break
        x[best_i] -= 1.0
        x[best_j] += 1.0
        for r in range(m):
            slack[r] -= a[r, best_j] - a[r, best_i]
        gained += best_gain
    return gained


def fill_numpy(a: np.ndarray, slack: np.ndarray, x: np.ndarray, up: np.ndarray,
               order: np.ndarray) -> None:
    """:func:`fill` in numpy: the same plan, a few array calls per column added."""
    cols = a[:, order]
    while len(order):
        fits = np.all(cols <= slack[:, None], axis=0)
        if not fits.any():
            break
        k = int(np.argmax(fits))  # the first candidate that fits
        j, col = order[k], cols[:, k]
        many = up[j] - x[j]
        positive = col > 0
        if positive.any():
            many = min(many, float(np.floor(np.min(slack[positive] / col[positive]))))
        if many >= 0.5:
            x[j] += many
            slack -= many * col
        order, cols = order[k + 1:], cols[:, k + 1:]


if numba is not None:
    _F8, _I8 = numba.float64, numba.int64
    _SIGNATURES = {
        "fill": numba.void(_F8[:, :], _F8[:], _F8[:], _F8[:], _I8[:]),
        "climb": _F8(_F8[:, :], _F8[:], _F8[:], _F8[:], _F8[:], _F8[:], _I8[:], _F8, _I8),
        "dual_simplex": _I8(_F8[:, :], _F8[:], _F8[:], _F8[:], _F8[:], _I8[:], _I8[:],
                            _F8[:, :], _F8[:], _F8[:], _F8[:], _I8, _I8, _I8, _F8[:]),
    }
    # compiled on demand (ready), not on import: a cold compile takes seconds
    fill = numba.njit(cache=True, nogil=True)(_fill)
    climb = numba.njit(cache=True, nogil=True)(_climb)
else:  # pragma: no cover
    _SIGNATURES = {}
    fill, climb = _fill, _climb

_READY: list[bool] = []


def ready() -> bool:
    """Whether the compiled kernels can run now without compiling: loaded from numba's
    on-disk cache (or compiled before in this process). When they cannot, a separate
    process is started to compile them for later runs (:func:`warm_in_background`)."""
    if not COMPILED:
        return False
    if _READY:
        return _READY[0]
    ok = True
    for name, signature in _SIGNATURES.items():
        dispatcher = globals()[name]
        if signature.args in dispatcher.overloads:
            continue
        try:  # numba's own cache lookup, as its compile step does it
            loaded = dispatcher._cache.load_overload(signature, dispatcher.targetctx)
        except Exception:  # noqa: BLE001  (a broken or foreign cache: compile anew)
            loaded = None
        if loaded is None:
            ok = False
            break
        dispatcher.add_overload(loaded)
    if ok:  # run what was loaded: arrays of any layout convert to its signature
        for name in _SIGNATURES:
            globals()[name].disable_compile()
    else:
        warm_in_background()
    _READY.append(ok)
    return ok


def compile_all() -> None:
    """Compile the kernels for their signatures and keep them in numba's cache."""
    for name, signature in _SIGNATURES.items():
        if signature.args not in globals()[name].overloads:
            globals()[name].compile(signature)


def warm_in_background() -> subprocess.Popen | None:
    """Compile the kernels in a separate, detached process (its output discarded), so
    that a later run finds them in numba's cache."""
    try:
        return subprocess.Popen([sys.executable, "-m", "optimizer.solving.kernels"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:  # pragma: no cover
        return None


if __name__ == "__main__":  # python -m optimizer.solving.kernels: compile and cache
    compile_all()
