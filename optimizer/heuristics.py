"""A primal heuristic and reduced-cost fixing, run before HiGHS's own branch and bound.

Both work on the model as HiGHS receives it (a ``HighsLp`` with every column integer),
so they serve every program, the pilot's rules and the OR-Library knapsacks alike.

**Core search.** The LP relaxation is solved once. Its reduced costs rank the columns:
a fractional column first, then the columns whose reduced cost is smallest in size (the
ones the LP is least sure of). A *core* of the first k columns is left free and every
other column is fixed at its LP value (which is at one of its bounds), and that
restricted MIP is solved with a short time limit; then the core doubles. Cores nest, so
each one starts from the best plan so far, which stays feasible in it. This is the core
problem idea of Balas and Zemel, as the multidimensional knapsack literature uses it
(Puchinger, Raidl and Pferschy, 2010) and kernel search generalises it (Angelelli,
Mansini and Speranza, 2010), with HiGHS solving each core. Every core plan is a plan of
the whole program: only bounds were tightened.

**Reduced-cost fixing.** With an incumbent of value z* and the LP bound z_LP, a column
at a bound in the LP solution whose reduced cost d has |d| > z_LP - z* cannot move off
that bound in any plan better than z* (moving it one unit lowers the LP bound by |d|):
its bound is fixed for the final solve. No plan better than the incumbent is lost, so
the optimum, and a proof of it, are those of the whole program; the bound HiGHS reports
on the reduced model is a bound for the whole program once the incumbent is counted,
and HiGHS starts from the incumbent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CoreResult", "core_search", "reduced_cost_fixing"]


@dataclass
class CoreResult:
    """What the heuristic found: the best plan (column values) and its objective, the LP
    relaxation's value, solution and reduced costs, and how many cores were solved."""

    values: np.ndarray | None
    objective: float | None
    lp_objective: float
    lp_values: np.ndarray
    reduced_costs: np.ndarray
    seconds: float
    cores: int = 0


def _highs(lp: Any, options: dict[str, Any]) -> Any:
    import highspy

    h = highspy.Highs()
    for name, value in options.items():
        h.setOptionValue(name, value)
    h.passModel(lp)
    return h


def _objective(h: Any) -> float | None:
    import highspy

    info = h.getInfo()
    if info.primal_solution_status != highspy.kSolutionStatusFeasible:
        return None
    return float(info.objective_function_value)


def core_search(lp: Any, options: dict[str, Any], budget: float,
                first_core: float = 0.2, growth: float = 2.0) -> CoreResult | None:
    """Solve nested cores of ``lp`` (a maximisation ``HighsLp``) for at most ``budget``
    seconds. ``options`` are the HiGHS options of the main solve (threads, seed, gap...).
    None when the LP relaxation has no optimal solution (infeasible programs go straight
    to the full solve, which proves it)."""
    import highspy

    started = time.perf_counter()
    n = lp.num_col_
    opts = {k: v for k, v in options.items() if k not in ("time_limit", "mip_max_nodes",
                                                          "mip_max_improving_sols")}
    h = _highs(lp, {**opts, "time_limit": max(budget, 0.01)})
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.full(n, highspy.HighsVarType.kContinuous))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    solution = h.getSolution()
    x_lp = np.asarray(solution.col_value, dtype=float)
    rc = np.asarray(solution.col_dual, dtype=float)
    z_lp = float(h.getInfo().objective_function_value)
    lower = np.asarray(lp.col_lower_, dtype=float)
    upper = np.asarray(lp.col_upper_, dtype=float)
    at_bound = np.isclose(x_lp, np.round(x_lp), atol=1e-9)
    fixed_value = np.clip(np.round(x_lp), lower, upper)
    # fractional columns first, then by how little the LP cares where the column sits
    score = np.where(at_bound, np.abs(rc), -1.0)
    order = np.argsort(score, kind="stable")
    result = CoreResult(None, None, z_lp, x_lp, rc, 0.0)
    free_cols = int((upper > lower).sum())
    k = max(int(first_core * n), int((~at_bound).sum()) * 2, 1)
    while k < free_cols:
        remaining = budget - (time.perf_counter() - started)
        if remaining <= 0.05:
            break
        fix = order[k:]
        h = _highs(lp, {**opts, "time_limit": remaining,
                        "mip_rel_gap": 0.0})
        h.changeColsBounds(len(fix), fix.astype(np.int32), fixed_value[fix], fixed_value[fix])
        if result.values is not None:
            start = highspy.HighsSolution()
            start.col_value = result.values
            start.value_valid = True
            h.setSolution(start)
        h.run()
        result.cores += 1
        value = _objective(h)
        if value is not None and (result.objective is None or value > result.objective):
            result.values = np.asarray(h.getSolution().col_value, dtype=float)
            result.objective = value
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal and \
                h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
            break  # out of time in this core: a bigger one would not finish either
        k = int(k * growth)
    result.seconds = time.perf_counter() - started
    return result


def reduced_cost_fixing(found: CoreResult, lower: np.ndarray, upper: np.ndarray,
                        incumbent: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns that no plan better than ``incumbent`` can move off their LP bound, and the
    value each is fixed at: (columns, new lower, new upper)."""
    x, d = found.lp_values, found.reduced_costs
    slack = found.lp_objective - incumbent
    tolerance = 1e-6 * max(1.0, abs(incumbent))  # above the duals' own tolerance
    at_upper = np.isclose(x, upper) & (d > 0) & (d > slack + tolerance)
    at_lower = np.isclose(x, lower) & (d < 0) & (-d > slack + tolerance)
    cols = np.flatnonzero((at_upper | at_lower) & (upper > lower))
    value = np.where(at_upper[cols], upper[cols], lower[cols])
    return cols.astype(np.int32), value, value
