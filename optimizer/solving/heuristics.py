"""Primal heuristics and reduced-cost fixing around HiGHS's own branch and bound.

All three work on the model as HiGHS receives it (a ``HighsLp``, every column integer),
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

**Local search.** Run inside HiGHS's branch and bound, through its callbacks: each plan
HiGHS finds is climbed by funding the best project that fits, dropping a losing one and
the best exchange of one funded project for one unfunded one (the add and one-for-one
exchange moves of local search for the multidimensional knapsack), and the better plan
goes back to HiGHS as a user solution. HiGHS's bound is untouched, and every plan handed
back fits every row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.solving.quiet import match_thread_scheduler
from optimizer.solving.translate import lp_matrix

__all__ = ["CoreResult", "SwapSearch", "core_search", "reduced_cost_fixing"]


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


    match_thread_scheduler(options.get("threads"))  # else HiGHS refuses another count

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


def integer_columns(lp: Any) -> np.ndarray:
    """Which columns of ``lp`` are integer (binary or general integer); an LP without
    integrality information has none."""
    import highspy

    kinds = list(lp.integrality_)
    if len(kinds) != lp.num_col_:
        return np.zeros(lp.num_col_, dtype=bool)
    continuous = highspy.HighsVarType.kContinuous
    return np.array([k != continuous for k in kinds], dtype=bool)


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
    whole = integer_columns(lp)
    at_bound = whole & np.isclose(x_lp, np.round(x_lp), atol=1e-9)
    fixed_value = np.clip(np.where(whole, np.round(x_lp), x_lp), lower, upper)
    # fractional columns first (a continuous column is never fixed: it is always in the
    # core), then by how little the LP cares where the column sits
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


def reduced_cost_fixing(x: np.ndarray, d: np.ndarray, z_lp: float, lower: np.ndarray,
                        upper: np.ndarray, incumbent: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns that no plan better than ``incumbent`` can move off their bound in the LP
    solution ``x`` (reduced costs ``d``, value ``z_lp``), and the value each is fixed at:
    (columns, new lower, new upper)."""
    slack = z_lp - incumbent
    tolerance = 1e-6 * max(1.0, abs(incumbent))  # above the duals' own tolerance
    at_upper = np.isclose(x, upper) & (d > 0) & (d > slack + tolerance)
    at_lower = np.isclose(x, lower) & (d < 0) & (-d > slack + tolerance)
    cols = np.flatnonzero((at_upper | at_lower) & (upper > lower))
    value = np.where(at_upper[cols], upper[cols], lower[cols])
    return cols.astype(np.int32), value, value


#: The exchanges of one round are weighed in chunks of at most this many (out, in) pairs.
SWAP_CHUNK = 1_000_000


class SwapSearch:
    """Local search from HiGHS's own plans, run inside its branch and bound.

    Each time HiGHS finds a better plan, this search takes it and climbs: fund the best
    unfunded project that fits every row, else drop the funded project that loses most
    (where the rows allow it), else make the best exchange of one funded project for one
    unfunded one, until no move raises the return or its time is spent.
    The result goes back to HiGHS as a user solution at its next opportunity, so its
    search goes on from the better plan, without a restart. Only binary columns (free
    between 0 and 1) move; every other column keeps the value HiGHS gave it. A move must
    keep every row within both its limits, so every plan it hands back is a plan of the
    whole program; HiGHS checks it again before it takes it, and its bound, and so any
    proof of optimality, is untouched.

    ``budget`` is the time (seconds) the search may take over the whole solve.
    """

    def __init__(self, lp: Any, budget: float = 1.0) -> None:
        import highspy

        self.a = lp_matrix(lp).toarray()
        lower = np.asarray(lp.row_lower_, dtype=float)
        upper = np.asarray(lp.row_upper_, dtype=float)
        # a row's limits, loosened by a relative 1e-9; an infinite limit is no limit
        # (HiGHS writes it as +-inf or beyond +-1e30)
        self.has_upper = np.isfinite(upper) & (upper < 1e30)
        self.has_lower = np.isfinite(lower) & (lower > -1e30)
        upper = np.where(self.has_upper, upper, 0.0)
        lower = np.where(self.has_lower, lower, 0.0)
        self.upper = upper + 1e-9 * np.maximum(1.0, np.abs(upper))
        self.lower = lower - 1e-9 * np.maximum(1.0, np.abs(lower))
        sense = -1.0 if lp.sense_ == highspy.ObjSense.kMinimize else 1.0
        self.cost = sense * np.asarray(lp.col_cost_, dtype=float)
        col_lower = np.asarray(lp.col_lower_, dtype=float)
        col_upper = np.asarray(lp.col_upper_, dtype=float)
        self.whole = integer_columns(lp)
        # the binary columns the climb moves (a continuous column keeps its value)
        self.movable = (col_lower == 0) & (col_upper == 1) & self.whole
        self.budget = float(budget)
        self.seconds = 0.0  # time spent climbing
        self.plans = 0  # better plans handed back to HiGHS
        self.gain = 0.0  # what they added, in all
        self.failure: BaseException | None = None

    def _slack(self, activity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How far each row may still rise and fall (inf where it has no such limit)."""
        up = np.where(self.has_upper, self.upper - activity, np.inf)
        down = np.where(self.has_lower, activity - self.lower, np.inf)
        return up, down

    def _fits(self, activity: np.ndarray) -> bool:
        """Whether row activities ``activity`` are within their (loosened) limits."""
        up, down = self._slack(activity)
        return bool(np.all(up >= 0) and np.all(down >= 0))

    def improve(self, x: np.ndarray, deadline: float = np.inf) -> tuple[np.ndarray, float]:
        """The plan the climb reaches from ``x`` (column values) by ``deadline`` (a
        ``time.perf_counter`` reading), and the return it adds over ``x``."""
        x = np.asarray(x, dtype=float)
        if x.shape != (self.a.shape[1],):
            return x, 0.0
        x = np.where(self.whole, np.round(x), x)
        activity = self.a @ x
        if not self._fits(activity):
            return x, 0.0  # not a plan at these tolerances: leave it to HiGHS
        scale = 1e-9 * max(1.0, float(np.abs(self.cost).max(initial=0.0)))
        gained = 0.0
        while time.perf_counter() < deadline:
            up, down = self._slack(activity)
            zeros = np.flatnonzero(self.movable & (x < 0.5))
            gainful = zeros[self.cost[zeros] > scale]
            cols = self.a[:, gainful]
            fits = np.all((cols <= up[:, None]) & (-cols <= down[:, None]), axis=0)
            if fits.any():  # fund the best project that fits
                j = gainful[fits][np.argmax(self.cost[gainful[fits]])]
                x[j] = 1.0
                activity += self.a[:, j]
                gained += self.cost[j]
                continue
            losing = np.flatnonzero(self.movable & (x > 0.5) & (self.cost < -scale))
            cols = self.a[:, losing]
            fits = np.all((-cols <= up[:, None]) & (cols <= down[:, None]), axis=0)
            if fits.any():  # drop the project that loses most, where the rows allow it
                i = losing[fits][np.argmin(self.cost[losing[fits]])]
                x[i] = 0.0
                activity -= self.a[:, i]
                gained -= self.cost[i]
                continue
            move = self._best_swap(x, zeros, up, down, scale)
            if move is None:
                break
            i, j, gain = move
            x[i], x[j] = 0.0, 1.0
            activity += self.a[:, j] - self.a[:, i]
            gained += gain
        return x, gained

    def _best_swap(self, x: np.ndarray, zeros: np.ndarray, up: np.ndarray,
                   down: np.ndarray, scale: float) -> tuple[int, int, float] | None:
        """The exchange (out, in, gain) that raises the return most and keeps every row
        within its limits, or None. Candidates come in by falling return, in chunks, and
        the weighing stops once no later one could beat the best found."""
        ones = np.flatnonzero(self.movable & (x > 0.5))
        if not len(ones):
            return None
        ones = ones[np.argsort(self.cost[ones], kind="stable")]
        cheapest = self.cost[ones[0]]
        zeros = zeros[self.cost[zeros] > cheapest + scale]
        zeros = zeros[np.argsort(-self.cost[zeros], kind="stable")]
        if not len(zeros):
            return None
        # only a row that some exchange could take past a limit needs weighing
        into, out = self.a[:, zeros], self.a[:, ones]
        rows_up = np.flatnonzero(into.max(axis=1) - out.min(axis=1) > up)
        rows_down = np.flatnonzero(out.max(axis=1) - into.min(axis=1) > down)
        # exchange (out i, in j) keeps row r within its limits when
        # a[r, i] >= a[r, j] - up[r] and a[r, i] <= a[r, j] + down[r]
        need = [(out[r], into[r] - up[r], True) for r in rows_up]
        need += [(out[r], into[r] + down[r], False) for r in rows_down]
        cost_out, cost_in = self.cost[ones], self.cost[zeros]
        most = max(8, SWAP_CHUNK // max(1, len(ones)))
        best: tuple[int, int, float] | None = None
        at, step = 0, min(8, most)  # chunks grow, so the weighing can stop early
        while at < len(zeros):
            span = slice(at, at + step)
            at, step = at + step, min(2 * step, most)
            if best is not None and cost_in[span.start] - cheapest <= best[2]:
                break
            gain = cost_in[span][None, :] - cost_out[:, None]
            ok = gain > (scale if best is None else best[2])
            for column, limit, is_upper in need:
                if is_upper:
                    ok &= column[:, None] >= limit[None, span]
                else:
                    ok &= column[:, None] <= limit[None, span]
            if not ok.any():
                continue
            k = int(np.argmax(np.where(ok, gain, -np.inf)))
            a, b = divmod(k, gain.shape[1])
            best = (int(ones[a]), int(zeros[span.start + b]), float(gain[a, b]))
        return best

    def attach(self, h: Any) -> None:
        """Subscribe to ``h``'s improving-solution and user-solution callbacks. A failure
        inside the search stops the search (kept in ``failure``), never the solve."""
        pending: list[np.ndarray] = []

        def on_improving(event: Any) -> None:
            if self.failure is not None or self.seconds >= self.budget:
                return
            started = time.perf_counter()
            try:
                x, gained = self.improve(np.asarray(event.data_out.mip_solution),
                                         started + self.budget - self.seconds)
            except Exception as exc:  # noqa: BLE001
                self.failure = exc
                return
            finally:
                self.seconds += time.perf_counter() - started
            if gained > 0:
                pending[:] = [x]
                self.gain += gained

        def on_user(event: Any) -> None:
            if not pending or self.failure is not None:
                return
            x = pending.pop()
            try:
                event.data_in.setSolution(np.ascontiguousarray(x, dtype=np.float64))
            except Exception as exc:  # noqa: BLE001
                self.failure = exc
                return
            self.plans += 1

        h.cbMipImprovingSolution.subscribe(on_improving)
        h.cbMipUserSolution.subscribe(on_user)
