"""One model in HiGHS for many programs: a sweep's points (or a marginal value's steps)
differ only in program-level values, so the model is built and loaded once and each point
moves row bounds, costs, coefficients and column bounds, each family saying which
(:meth:`~formulations.family.Family.limits`, :meth:`~formulations.family.Family.coefficients`,
:meth:`~formulations.family.Family.superset`, :meth:`~formulations.family.Family.restricts`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from formulations import build, build_columns, row_coefficients, row_limits
from formulations.family import RuleRef
from formulations.registry import FAMILIES
from optimizer.diagnosis.explain import explain_infeasible
from optimizer.pipeline import finish, solver_info
from optimizer.program.instance import Instance
from optimizer.program.prepare import prepare_options
from optimizer.results.result import Result
from optimizer.solving.highs import SolveOptions, open_highs, solve_session
from optimizer.solving.strategies import run_highs

__all__ = ["ParametricModel", "superset", "restricts"]


def superset(points: list[Instance]) -> Instance:
    """A program with every limit row any of ``points`` has, at no-limit values: each
    family's :meth:`~formulations.family.Family.superset`."""
    changes: dict[str, Any] = {}
    params = dict(points[0].params)
    for family in FAMILIES:
        made = dict(family.superset(points))
        params.update(made.pop("params", {}))  # each family's own values, merged
        changes.update(made)
    fresh = dataclasses.replace(points[0], **changes, params=params)
    # the options' bounds (the deadline, the per-project hurdle) follow the params
    return prepare_options(fresh) if params != dict(points[0].params) else fresh


def every_column(point: Instance) -> Instance:
    """``point`` with a column for every start, those it rules out fixed at 0: the
    layout of a model built for programs that rule out different starts."""
    options = point.options
    if options is None or options.keep_excluded:
        return point
    return dataclasses.replace(point, options=dataclasses.replace(options,
                                                                  keep_excluded=True))


class ParametricModel:
    """One model in HiGHS, re-solved at programs that differ from each other only in
    program-level values (limits, returns, rates, forced choices)."""

    def __init__(self, points: list[Instance], options: SolveOptions) -> None:
        self.options = options
        self.pm = build(superset(points))
        self.session = open_highs(self.pm, options)
        limits = row_limits(points[0])
        self.rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (HiGHS rows, keys)
        self.row_of: dict[tuple[str, Any], int] = {}  # (row name, key) -> HiGHS row
        found: dict[str, list[tuple[int, int]]] = {}
        for r, name_key in enumerate(self.session.rows):
            if name_key[0] in limits:
                name, key = name_key
                self.row_of[name_key] = r
                found.setdefault(name, []).append((r, limits[name][0].index(key)))
        for name, pairs in found.items():
            rows, keys = zip(*pairs, strict=True)
            self.rows[name] = (np.array(rows), np.array(keys))
        h = self.session.highs
        lp = h.getLp()
        self.row_lower = np.array(lp.row_lower_, dtype=float)
        self.row_upper = np.array(lp.row_upper_, dtype=float)
        self.cost = np.array(lp.col_cost_, dtype=float)
        self.col_lower = np.array(lp.col_lower_, dtype=float)
        self.col_upper = np.array(lp.col_upper_, dtype=float)
        # single-row blocks whose coefficients move (the hurdle, the supplier share):
        # their HiGHS row, the model columns they hold, and the coefficients now there
        self.moving: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        cols, _owner = self.pm.columns.unit_columns()
        for name, coefs in row_coefficients(self.pm.instance).items():
            if name in self.rows:
                members = self.pm.columns.members
                self.moving[name] = (int(self.rows[name][0][0]), cols,
                                     coefs if members is None else coefs[members])

    def row(self, ref: RuleRef) -> int | None:
        """The HiGHS row whose limit is the rule ``ref`` (None: the model has none)."""
        for r, (block, key) in enumerate(self.session.rows):
            if key == ref.key and ref in (self.pm.ref(block, key, "lower"),
                                          self.pm.ref(block, key, "upper")):
                return r
        return None

    def fits(self, point: Instance) -> bool:
        """Whether the model can represent ``point`` by moving bounds: every limit it sets
        has a row here, or admits the empty plan, and no row's floor exceeds its ceiling."""
        if not all(f.same_rows(point, self.pm.instance) for f in FAMILIES):
            return False
        for name, (keys, lower, upper) in row_limits(point).items():
            lower, upper = np.asarray(lower), np.asarray(upper)
            if (lower > upper).any():
                return False
            present = np.zeros(len(keys), dtype=bool)
            if name in self.rows:
                present[self.rows[name][1]] = True
            if ((~present) & ((lower > 0) | (upper < 0))).any():
                return False
        return True

    def move_to(self, point: Instance) -> None:
        """Set the loaded model's bounds, costs and coefficients to those of ``point``."""
        h = self.session.highs
        lower, upper = self.row_lower.copy(), self.row_upper.copy()
        for name, (_keys, lo, hi) in row_limits(point).items():
            if name in self.rows:
                rows, k = self.rows[name]
                lower[rows] = np.asarray(lo, dtype=float)[k]
                upper[rows] = np.asarray(hi, dtype=float)[k]
        moved = np.flatnonzero((lower != self.row_lower) | (upper != self.row_upper))
        if len(moved):
            h.changeRowsBounds(len(moved), moved.astype(np.int32), lower[moved], upper[moved])
            self.row_lower, self.row_upper = lower, upper
        columns = build_columns(every_column(point))  # its costs and bounds, same layout
        cost = self.cost.copy()
        cost[:columns.n_columns] = columns.cost
        moved = np.flatnonzero(cost != self.cost)
        if len(moved):
            h.changeColsCost(len(moved), moved.astype(np.int32), cost[moved])
            self.cost = cost
        col_lower, col_upper = self.col_lower.copy(), self.col_upper.copy()
        col_lower[:columns.n_columns], col_upper[:columns.n_columns] = \
            columns.lower, columns.upper
        moved = np.flatnonzero((col_lower != self.col_lower) | (col_upper != self.col_upper))
        if len(moved):
            h.changeColsBounds(len(moved), moved.astype(np.int32), col_lower[moved],
                               col_upper[moved])
            self.col_lower, self.col_upper = col_lower, col_upper
        if self.moving:
            now = row_coefficients(point)
            for name, (row, cols, coefs) in list(self.moving.items()):
                fresh = now[name] if columns.members is None else now[name][columns.members]
                for j in np.flatnonzero(fresh != coefs).tolist():
                    h.changeCoeff(row, int(cols[j]), float(fresh[j]))
                self.moving[name] = (row, cols, fresh)

    def solve(self, point: Instance, start: np.ndarray | None = None) -> Result:
        """Move to ``point``, solve from ``start`` (column values), check and explain."""
        t0 = time.perf_counter()
        self.move_to(point)
        outcome = solve_session(self.session, self.options, start=start)
        outcome = dataclasses.replace(outcome, translate_seconds=0.0)
        timings = {"load": 0.0, "build": time.perf_counter() - t0 - outcome.solve_seconds}
        info = {**solver_info(self.options, "row-blocks+highspy (parametric)"),
                "warm_start": start is not None}
        return finish(point, outcome, self.options, timings, t0, info,
                      resolve=lambda tight: run_highs(build(point), tight),
                      explain=lambda seconds: explain_infeasible(build(point), seconds))

    def column_values(self, result: Result) -> np.ndarray | None:
        """The model's column values for ``result``'s plan (a warm start), from the
        families that own the columns."""
        if not result.has_plan:
            return None
        return self.pm.start(result.units.to_numpy(dtype=np.int64), result.starts)


def restricts(b: Instance, a: Instance) -> bool:
    """Whether program ``b`` only tightens program ``a``: the same projects, and every
    rule family finds ``b``'s rules at least as tight as ``a``'s (caps no higher, floors
    and rates no lower, forced choices kept, the same returns). Then every plan feasible
    for ``b`` is feasible for ``a``, and a bound on ``a``'s best return bounds ``b``'s."""
    if b.n_projects != a.n_projects:
        return False
    return all(family.restricts(b, a) for family in FAMILIES)
