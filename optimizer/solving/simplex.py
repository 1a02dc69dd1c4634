"""A bounded dual simplex for the tree search's node LPs, compiled by numba.

The tree (:mod:`optimizer.solving.tree`) re-solves one LP at every node after a bound
change. Through highspy each re-solve costs about 0.35 ms on a 30 x 250 knapsack, most
of it the call's own overhead. On the shape the tree takes most often (every
coefficient non-negative, every column bounded, every row a limit from above) the LP is

    max c.x  subject to  A x + s = b,  lower <= x <= upper,  s >= 0,

and a dense dual simplex over the m x m inverse of its basis does a node in a few
microseconds: a node's bound change keeps the last basis dual feasible (a column
nonbasic at a bound that moved stays at it; one freed from a fixing goes to the bound
its reduced cost prefers), so the dual simplex goes on from it.

- **pricing**: the basic variable farthest outside its bounds leaves;
- **ratio test**: Harris's two passes (the largest pivot among the ratios within a
  tolerance of the smallest);
- **updates**: of the inverse by the pivot's elementary matrix, of the duals and the
  basic values by the pivot row and column; all recomputed from a fresh inverse every
  :data:`REFACTOR` pivots, and the duals and basic values at the start of every solve.

What the tree relies on does not rest on this arithmetic being exact: the node's bound
is the Lagrangian value of its row duals (clipped at zero), y.b plus the best of each
column's reduced cost over its bounds, which bounds the node whatever y is; and an
infeasible node is one whose columns at their lower bounds already break a row (exact,
with non-negative coefficients). Anything else it cannot settle (an iteration limit, a
singular basis, a ratio test that finds nothing on a feasible LP) it reports as
:data:`FAILED`, and the tree asks HiGHS.
"""

from __future__ import annotations

import numpy as np

try:  # pragma: no cover - depends on the environment
    import numba

    _jit = numba.njit(cache=True, nogil=True)
except ImportError:  # pragma: no cover
    numba = None  # type: ignore[assignment]

    def _jit(function):
        return function

__all__ = ["OPTIMAL", "INFEASIBLE", "FAILED", "REFACTOR", "NodeLP", "dual_simplex", "takes"]

OPTIMAL, INFEASIBLE, FAILED = 0, 1, 2
_BASIC, _LOWER, _UPPER = 0, 1, 2
#: Pivots between two fresh inversions of the basis.
REFACTOR = 64
#: The largest number of rows the dense inverse is kept for.
MAX_ROWS = 400
_INF = 1e30


def takes(dense: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
    """Whether the LP (rows ``dense`` x <= b) has the shape :func:`dual_simplex` solves:
    no negative coefficient, every column bounded, at most :data:`MAX_ROWS` rows."""
    return bool(0 < dense.shape[0] <= MAX_ROWS and (dense.size == 0 or dense.min() >= 0)
                and np.all(np.abs(lower) < _INF) and np.all(np.abs(upper) < _INF))


@_jit
def _invert(f, head, binv):  # pragma: no cover - compiled
    """``binv`` = the inverse of the basis ``f[:, head]`` (Gauss-Jordan, partial
    pivoting); False when it is singular."""
    m = head.shape[0]
    w = np.zeros((m, 2 * m))
    for i in range(m):
        for k in range(m):
            w[i, k] = f[i, head[k]]
        w[i, m + i] = 1.0
    for c in range(m):
        piv, big = c, abs(w[c, c])
        for i in range(c + 1, m):
            if abs(w[i, c]) > big:
                piv, big = i, abs(w[i, c])
        if big < 1e-11:
            return False
        if piv != c:
            for k in range(2 * m):
                w[c, k], w[piv, k] = w[piv, k], w[c, k]
        inv = 1.0 / w[c, c]
        for k in range(2 * m):
            w[c, k] *= inv
        for i in range(m):
            t = w[i, c]
            if i != c and t != 0.0:
                for k in range(2 * m):
                    w[i, k] -= t * w[c, k]
    binv[:, :] = w[:, m:]
    return True


@_jit
def _duals(f, cost, head, binv, y, d):  # pragma: no cover - compiled
    """y = c_B B^-1 and d = c - y F (zero on the basis)."""
    m, big_n = f.shape
    for i in range(m):
        s = 0.0
        for k in range(m):
            s += cost[head[k]] * binv[k, i]
        y[i] = s
    for j in range(big_n):
        s = cost[j]
        for i in range(m):
            s -= y[i] * f[i, j]
        d[j] = s
    for k in range(m):
        d[head[k]] = 0.0


@_jit
def _primal(f, b, head, status, binv, x):  # pragma: no cover - compiled
    """The basic values B^-1 (b - N x_N) for the nonbasic values in ``x``."""
    m, big_n = f.shape
    rest = b.copy()
    for j in range(big_n):
        if status[j] != _BASIC and x[j] != 0.0:
            for i in range(m):
                rest[i] -= f[i, j] * x[j]
    for k in range(m):
        s = 0.0
        for i in range(m):
            s += binv[k, i] * rest[i]
        x[head[k]] = s


@_jit
def dual_simplex(f, b, cost, lower, upper, head, status, binv, x, y, d, n,
                 max_iter, fresh, out):  # pragma: no cover - compiled
    """Solve max cost.x, f x = b, lower <= x <= upper from the basis ``head`` (its
    inverse ``binv``, unless ``fresh``) and the nonbasic ``status``; ``f`` is [A | I]
    and the last m columns are the slacks. The first ``n`` columns are the LP's.
    Returns :data:`OPTIMAL` (``x``, ``y``, ``d`` set; out[0] the Lagrangian bound of y
    clipped at zero, d the reduced costs of that y), :data:`INFEASIBLE` or
    :data:`FAILED`; out[1] holds the pivots made."""
    m, big_n = f.shape
    scale = 1.0
    for j in range(n):
        scale = max(scale, abs(cost[j]))
    tol_d, tol_p, tol_piv = 1e-9 * scale, 1e-9, 1e-9
    if fresh != 0 and not _invert(f, head, binv):
        return FAILED
    _duals(f, cost, head, binv, y, d)
    for j in range(big_n):  # nonbasic columns at the bound their reduced cost prefers
        if status[j] == _BASIC:
            continue
        if upper[j] <= lower[j]:
            status[j] = _LOWER
        elif d[j] > tol_d and upper[j] < _INF:
            status[j] = _UPPER
        elif d[j] < -tol_d or upper[j] >= _INF:
            status[j] = _LOWER
        x[j] = lower[j] if status[j] == _LOWER else upper[j]
    _primal(f, b, head, status, binv, x)
    alpha, ratio = np.zeros(big_n), np.zeros(big_n)
    w = np.zeros(m)
    since, done = 0, False
    for it in range(max_iter):
        out[1] = it
        r, worst = -1, 0.0
        for i in range(m):
            p = head[i]
            v = x[p]
            if v < lower[p] - tol_p * (1.0 + abs(lower[p])):
                gap = lower[p] - v
            elif v > upper[p] + tol_p * (1.0 + abs(upper[p])):
                gap = v - upper[p]
            else:
                continue
            if gap > worst:
                r, worst = i, gap
        if r < 0:
            done = True
            break
        p = head[r]
        to_lower = x[p] < lower[p]
        theta_max = np.inf
        for j in range(big_n):
            alpha[j], ratio[j] = 0.0, np.inf
            if status[j] == _BASIC or upper[j] <= lower[j]:
                continue
            a = 0.0
            for i in range(m):
                a += binv[r, i] * f[i, j]
            alpha[j] = a
            at_lower = status[j] == _LOWER
            if to_lower:
                ok = (at_lower and a < -tol_piv) or (not at_lower and a > tol_piv)
            else:
                ok = (at_lower and a > tol_piv) or (not at_lower and a < -tol_piv)
            if ok:
                ratio[j] = abs(d[j]) / abs(a)
                theta_max = min(theta_max, (abs(d[j]) + tol_d) / abs(a))
        if theta_max == np.inf:  # no entering column: infeasible, if the lower bounds say so
            for i in range(m):
                s = 0.0
                for j in range(n):
                    s += f[i, j] * lower[j]
                if s > b[i] + 1e-9 * (1.0 + abs(b[i])):
                    return INFEASIBLE
            return FAILED
        q, best = -1, 0.0
        for j in range(big_n):  # the largest pivot among the candidates within theta_max
            if ratio[j] <= theta_max and abs(alpha[j]) > best:
                q, best = j, abs(alpha[j])
        for i in range(m):
            s = 0.0
            for k in range(m):
                s += binv[i, k] * f[k, q]
            w[i] = s
        if abs(w[r] - alpha[q]) > 1e-7 * (1.0 + abs(alpha[q])):  # the inverse drifted
            if since == 0 or not _invert(f, head, binv):
                return FAILED
            _duals(f, cost, head, binv, y, d)
            _primal(f, b, head, status, binv, x)
            since = 0
            continue
        target = lower[p] if to_lower else upper[p]
        step = (x[p] - target) / w[r]
        x[q] += step
        for i in range(m):
            x[head[i]] -= w[i] * step
        x[p] = target
        theta = d[q] / alpha[q]
        for j in range(big_n):
            if alpha[j] != 0.0:
                d[j] -= theta * alpha[j]
        for i in range(m):
            y[i] += theta * binv[r, i]
        d[q], d[p] = 0.0, -theta
        pivot = w[r]
        for k in range(m):
            binv[r, k] /= pivot
        for i in range(m):
            if i != r and w[i] != 0.0:
                for k in range(m):
                    binv[i, k] -= w[i] * binv[r, k]
        head[r] = q
        status[q] = _BASIC
        status[p] = _LOWER if to_lower else _UPPER
        since += 1
        if since >= REFACTOR:
            if not _invert(f, head, binv):
                return FAILED
            _duals(f, cost, head, binv, y, d)
            _primal(f, b, head, status, binv, x)
            since = 0
    if not done:
        return FAILED
    # the bound: y clipped at zero, each column at the bound its reduced cost prefers
    bound = 0.0
    for i in range(m):
        y[i] = max(y[i], 0.0)
        bound += y[i] * b[i]
    for j in range(n):
        s = cost[j]
        for i in range(m):
            s -= y[i] * f[i, j]
        d[j] = s
        bound += s * (upper[j] if s > 0 else lower[j])
    out[0] = bound + 1e-9 * (1.0 + abs(bound))
    return OPTIMAL


class NodeLP:
    """The LP of a program whose rows only limit, for :func:`dual_simplex`: ``dense``
    the rows (those with an upper limit kept), ``cost`` the return to maximise. The
    basis is kept from one :meth:`solve` to the next."""

    def __init__(self, dense: np.ndarray, row_upper: np.ndarray, has_upper: np.ndarray,
                 cost: np.ndarray) -> None:
        self.rows = np.flatnonzero(has_upper)
        a = dense[self.rows]
        m, n = a.shape
        self.m, self.n, self.num_row = m, n, dense.shape[0]
        self.f = np.ascontiguousarray(np.hstack([a, np.eye(m)]), dtype=float)
        self.b = np.ascontiguousarray(row_upper[self.rows], dtype=float)
        self.cost = np.concatenate([np.asarray(cost, dtype=float), np.zeros(m)])
        self.lower = np.zeros(n + m)
        self.upper = np.full(n + m, _INF)
        self.x, self.d = np.zeros(n + m), np.zeros(n + m)
        self.y, self.out = np.zeros(m), np.zeros(2)
        self.failed = 0  # solves handed back (iteration limit, numerical trouble)
        self.reset()

    def reset(self) -> None:
        """Start again from the slack basis."""
        m, n = self.m, self.n
        self.head = np.arange(n, n + m, dtype=np.int64)
        self.status = np.full(n + m, _LOWER, dtype=np.int64)
        self.status[n:] = _BASIC
        self.binv = np.eye(m)
        self.fresh = 1

    def solve(self, lo: np.ndarray, hi: np.ndarray
              ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | int:
        """The LP within column bounds ``lo``, ``hi``: (bound, solution, reduced costs,
        sizes of the row duals, over every row of ``dense``), :data:`INFEASIBLE` or
        :data:`FAILED`."""
        n = self.n
        self.lower[:n], self.upper[:n] = lo, hi
        status = dual_simplex(self.f, self.b, self.cost, self.lower, self.upper,
                              self.head, self.status, self.binv, self.x, self.y, self.d,
                              n, 50 * (self.m + 10), self.fresh, self.out)
        self.fresh = 0
        if status != OPTIMAL:
            if status == FAILED:
                self.failed += 1
                self.reset()
            return int(status)
        y = np.zeros(self.num_row)
        y[self.rows] = self.y
        return float(self.out[0]), self.x[:n].copy(), self.d[:n].copy(), y
