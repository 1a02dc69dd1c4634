"""The shape of program the tree search (:mod:`optimizer.solving.tree`) works on, and the
test of it: every row a limit from above that rounding an integer column down can only
ease."""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.solving.heuristics import integer_columns
from optimizer.solving.translate import lp_matrix

__all__ = ["Shape", "why_not_tree", "INF", "INTEGRALITY"]

#: A column value within this of a whole number counts as whole.
INTEGRALITY = 1e-6
#: HiGHS's "infinite": a bound beyond it is no bound.
INF = 1e30


def why_not_tree(lp: Any) -> str | None:
    """Why the tree search does not apply to ``lp`` (None: it applies). It needs every
    row to be a limit from above that rounding an integer column down can only ease:
    non-negative coefficients in the integer columns and no lower limit that the smallest
    activity could break; and at least one integer column."""
    whole = integer_columns(lp)
    if not whole.any():
        return "the model has no integer column"
    a = lp_matrix(lp).tocsc()
    if a.shape[0] == 0:
        return None
    ints = a[:, np.flatnonzero(whole)]
    if ints.nnz and ints.data.min() < 0:
        rows = np.unique(ints.tocoo().row[ints.tocoo().data < 0])
        return (f"{len(rows)} row(s) have a negative coefficient in an integer column "
                f"(rounding down could break them)")
    lower = np.asarray(lp.col_lower_, dtype=float)
    upper = np.asarray(lp.col_upper_, dtype=float)
    if np.any(~np.isfinite(lower[whole])) or np.any(lower[whole] <= -INF):
        return "an integer column has no lower bound"
    # the smallest activity each row can reach, every column at its best bound for it
    pos, neg = a.maximum(0), a.minimum(0)
    low = np.where(np.abs(lower) >= INF, 0.0, lower)
    up = np.where(np.abs(upper) >= INF, 0.0, upper)
    unbounded = (neg @ (np.abs(upper) >= INF).astype(float)) < 0
    unbounded |= (pos @ (np.abs(lower) >= INF).astype(float)) > 0
    smallest = pos @ low + neg @ up
    row_lower = np.asarray(lp.row_lower_, dtype=float)
    binding = (row_lower > -INF) & (unbounded | (row_lower > smallest + 1e-9))
    if binding.any():
        return (f"{int(binding.sum())} row(s) have a lower limit (a floor, or an "
                f"equality) that rounding down could break")
    return None


class Shape:
    """The model as the search needs it: max c.x, A x <= b, bounds, integrality."""

    def __init__(self, lp: Any) -> None:
        import highspy

        self.sign = -1.0 if lp.sense_ == highspy.ObjSense.kMinimize else 1.0
        self.cost = self.sign * np.asarray(lp.col_cost_, dtype=float)
        self.offset = self.sign * float(lp.offset_)
        self.a = lp_matrix(lp).tocsc()
        self.dense = self.a.toarray()
        row_upper = np.asarray(lp.row_upper_, dtype=float)
        self.has_upper = row_upper < INF
        self.row_upper = np.where(self.has_upper, row_upper, INF)
        self.slack_tol = 1e-9 * np.maximum(1.0, np.abs(np.where(self.has_upper, row_upper,
                                                                  0.0)))
        self.lower = np.asarray(lp.col_lower_, dtype=float)
        self.upper = np.asarray(lp.col_upper_, dtype=float)
        self.whole = integer_columns(lp)
        self.ints = np.flatnonzero(self.whole)
        # whole returns on whole columns only: a node must beat the best plan by one
        conts = ~self.whole
        self.integral = bool(np.all(self.cost[self.whole] == np.round(self.cost[self.whole]))
                             and not np.any(self.cost[conts] != 0) and
                             self.offset == round(self.offset))

    def value(self, x: np.ndarray) -> float:
        return float(self.cost @ x) + self.offset

    def fits(self, x: np.ndarray) -> bool:
        activity = self.a @ x
        return bool(np.all(activity <= self.row_upper + self.slack_tol) and
                    np.all(x >= self.lower - 1e-9) and np.all(x <= self.upper + 1e-9))
