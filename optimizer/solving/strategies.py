"""How a model is solved: HiGHS alone, or a search of the project's own first and HiGHS
from its best plan for the rest of the time (``SolveOptions.heuristic``).

- ``auto`` (the default): ``tree`` where it applies with a time limit of at most
  ``TREE_AUTO_LIMIT``, else ``off``;
- ``off``: HiGHS's branch and bound, with the swap search inside it when asked
  (``local_search``);
- ``core``, ``core+fixing``: the core search of :mod:`optimizer.solving.heuristics`, and
  reduced-cost fixing from its plan;
- ``tree``: the LP tree with rounding at every node (:mod:`optimizer.solving.tree`),
  where the rows allow it (:func:`optimizer.solving.shape.why_not_tree`; where they do
  not, HiGHS alone, and the result says why), then reduced-cost fixing from its plan.

Fixing only removes plans worse than the plan HiGHS is handed as its incumbent, so the
optimum, and the bound HiGHS reports, are those of the whole program.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from formulations import PortfolioModel
from optimizer.solving.heuristics import core_search, reduced_cost_fixing
from optimizer.solving.highs import (
    HighsSession,
    SolverOutcome,
    _StopOnSignal,
    open_highs,
    relative_gap,
    solve_session,
)
from optimizer.solving.options import (
    HEURISTIC_SHARE,
    LOCAL_SEARCH_MAX_ENTRIES,
    TREE_AUTO_LIMIT,
    TREE_SHARE,
    Progress,
    SolveOptions,
)
from optimizer.solving.quiet import match_thread_scheduler, quiet_stdout

if TYPE_CHECKING:  # the module itself is imported only when the tree runs (numba)
    from optimizer.solving.tree import TreeResult

__all__ = ["run_highs"]


def run_highs(pm: PortfolioModel, options: SolveOptions) -> SolverOutcome:
    """Translate and solve; never raises for infeasible, limits or interruptions."""
    session = open_highs(pm, options)
    heuristic = options.heuristic
    limit = options.time_limit
    if heuristic == "auto" and (limit is None or limit > TREE_AUTO_LIMIT):
        heuristic = "off"
    if heuristic in ("auto", "tree"):
        with quiet_stdout():
            lp = session.highs.getLp()  # a copy of the model, taken once
        reason = _tree_refusal(lp)
        if heuristic == "tree" or reason is None:
            return _solve_with_tree(session, options, lp, reason)
        heuristic = "off"
    if heuristic == "off":
        return solve_session(session, options)
    return _solve_with_core(session, options)


def _tree_refusal(lp: Any) -> str | None:
    """Why the tree search does not apply to ``lp`` (None: it does)."""
    from optimizer.solving.shape import why_not_tree

    reason = why_not_tree(lp)
    if reason is None and lp.num_row_ * lp.num_col_ > LOCAL_SEARCH_MAX_ENTRIES:
        reason = (f"the model has {lp.num_row_:,} rows x {lp.num_col_:,} columns, more "
                  f"than the {LOCAL_SEARCH_MAX_ENTRIES:,} entries the search keeps dense")
    return reason


def _rest(session: HighsSession, options: SolveOptions, started: float,
          start: np.ndarray | None, notes: dict[str, Any],
          stop_now: bool = False, bound: float | None = None) -> SolverOutcome:
    """HiGHS on the whole program from ``start`` for what is left of the time limit (no
    time at all when ``stop_now``: it returns its start); the reported options keep the
    whole limit (the only limit: time_limit is refused as a HiGHS option, see
    OWNED_OPTIONS) and add ``notes``. Its progress reports count the seconds from
    ``started`` and hold the lower of HiGHS's bound and ``bound`` (one already known for
    the whole program, which maximises, as translate.py makes every model do)."""
    used = time.perf_counter() - started
    if stop_now:
        session.highs.setOptionValue("time_limit", 0.0)
    elif options.time_limit is not None:
        session.highs.setOptionValue("time_limit", max(0.0, options.time_limit - used))
    if options.progress is not None:
        options = dataclasses.replace(options, progress=_shifted(options.progress, used,
                                                                 bound))
    outcome = solve_session(session, options, start)
    return dataclasses.replace(outcome, solve_seconds=outcome.solve_seconds + used,
                               options={**outcome.options, **notes})


def _shifted(report: Callable[[Progress], None], seconds: float, known: float | None
             ) -> Callable[[Progress], None]:
    """``report``, hearing HiGHS's progress ``seconds`` later than HiGHS counts and with
    the lower of its bound and ``known``."""

    def shifted(progress: Progress) -> None:
        bound, gap = progress.bound, progress.gap
        if known is not None:
            bound = known if bound is None else min(bound, known)
            if progress.incumbent is not None:
                gap = abs(bound - progress.incumbent) / max(abs(progress.incumbent), 1e-12)
        report(Progress(seconds + progress.elapsed, progress.incumbent, bound, gap))

    return shifted


def _fix(session: HighsSession, lp: Any, x: np.ndarray, d: np.ndarray, z_lp: float,
         incumbent: float) -> int:
    """Reduced-cost fixing in HiGHS's model from an LP solution; how many were fixed."""
    cols, low, high = reduced_cost_fixing(
        x, d, z_lp, np.asarray(lp.col_lower_, dtype=float),
        np.asarray(lp.col_upper_, dtype=float), incumbent)
    if len(cols):
        session.highs.changeColsBounds(len(cols), cols, low, high)
    return int(len(cols))


def _solve_with_core(session: HighsSession, options: SolveOptions) -> SolverOutcome:
    """Core search within a share of the time limit, then HiGHS from its best plan."""
    started = time.perf_counter()
    total = options.time_limit
    budget = HEURISTIC_SHARE * (total if total is not None else 10.0)
    with quiet_stdout():
        lp = session.highs.getLp()
        match_thread_scheduler(session.options.get("threads"))
        found = core_search(lp, session.options, budget)
    start = None
    notes: dict[str, Any] = {"heuristic": options.heuristic}
    if found is not None and found.values is not None and found.objective is not None:
        start = found.values
        notes.update(heuristic_objective=found.objective, heuristic_lp_bound=found.lp_objective,
                     heuristic_seconds=round(found.seconds, 3), heuristic_cores=found.cores)
        if options.heuristic == "core+fixing":
            notes["reduced_cost_fixed"] = _fix(session, lp, found.lp_values,
                                               found.reduced_costs, found.lp_objective,
                                               found.objective)
    return _rest(session, options, started, start, notes)


class _Cancel:
    """What a signal during the tree search sets (as HiGHS's cancelSolve would)."""

    def __init__(self) -> None:
        self.asked = False

    def cancelSolve(self) -> None:  # noqa: N802  (HiGHS's name, for _StopOnSignal)
        self.asked = True


def _solve_with_tree(session: HighsSession, options: SolveOptions, lp: Any,
                     reason: str | None) -> SolverOutcome:
    """The tree search on ``lp`` (the session's model) within :data:`TREE_SHARE` of the
    time limit (of 10 s without a limit), reduced-cost fixing from its plan, then HiGHS
    from it for the rest; HiGHS alone where ``reason`` says the search does not apply. A
    signal during the search stops it and HiGHS returns its plan at once, as
    interrupted."""
    started = time.perf_counter()
    notes: dict[str, Any] = {"heuristic": "tree"}
    if reason is not None:
        notes["tree"] = {"applied": False, "reason": reason}
        return _rest(session, options, started, None, notes)
    from optimizer.solving.tree import tree_search

    total = options.time_limit
    budget = TREE_SHARE * (total if total is not None else 10.0)
    report = options.progress
    on_plan = None if report is None else (
        lambda seconds, value: report(Progress(seconds, value, None, None)))
    cancel = _Cancel()
    with quiet_stdout(), _StopOnSignal(cancel, options.handle_signals, counts=False):
        found = tree_search(lp, session.options, budget, climb=True,
                            stop=lambda: cancel.asked, on_plan=on_plan)
    notes["tree"] = {
        "applied": True, "objective": found.objective, "lp_bound": found.lp_objective,
        "bound": found.bound, "exhausted": found.exhausted, "nodes": found.nodes,
        "plans": found.plans, "compiled": found.compiled,
        "compiled_lp": found.compiled_lp, "lp_failed": found.lp_failed,
        "neighbourhoods": found.neighbourhoods,
        "improved_by_neighbourhoods": found.improved_by_neighbourhoods,
        "seconds": round(found.seconds, 3)}
    start = found.values
    if start is not None and found.objective is not None:
        notes["tree"]["reduced_cost_fixed"] = _fix(
            session, lp, found.lp_values, found.reduced_costs, found.lp_objective,
            found.objective)
    outcome = _rest(session, options, started, start, notes, stop_now=cancel.asked,
                    bound=found.bound)
    if cancel.asked and outcome.termination not in ("optimal", "gap_limit", "infeasible"):
        outcome = dataclasses.replace(outcome, termination="interrupted")
    return _with_tree_bound(_keep_tree_plan(outcome, found, session), found.bound,
                            options.gap)


def _keep_tree_plan(outcome: SolverOutcome, found: TreeResult, session: HighsSession
                    ) -> SolverOutcome:
    """The outcome, with the tree's plan where HiGHS came back with none or a worse one
    (HiGHS may stop before it takes its start: a signal, no time left): a plan once found
    is never lost."""
    if found.values is None or found.objective is None or outcome.status == "infeasible":
        return outcome
    if outcome.objective is not None and \
            outcome.objective >= found.objective - 1e-9 * max(1.0, abs(found.objective)):
        return outcome
    bound = outcome.bound if outcome.bound is not None else found.bound
    if bound is not None:
        bound = max(bound, found.objective)
    return dataclasses.replace(
        outcome, status="feasible", objective=found.objective, bound=bound,
        gap=relative_gap(found.objective, bound), values=found.values,
        plan=session.plan(found.values),
        message=f"{outcome.message} (the tree search's plan kept)")


def _with_tree_bound(outcome: SolverOutcome, tree_bound: float | None,
                     gap_tolerance: float) -> SolverOutcome:
    """The outcome with the lower of HiGHS's bound and the tree's (the best bound of the
    nodes it left open, or its best plan's value once it searched every node): each is
    proven for the whole program. When that closes the gap, the plan is optimal."""
    if tree_bound is None or outcome.objective is None or \
            (outcome.bound is not None and tree_bound >= outcome.bound):
        return outcome  # (HiGHS has no bound when it stopped before its search)
    bound = max(tree_bound, outcome.objective)
    gap = relative_gap(outcome.objective, bound)
    changes: dict[str, Any] = {"bound": bound, "gap": gap}
    if gap is not None and gap <= gap_tolerance and outcome.termination != "interrupted":
        changes.update(status="optimal", termination="optimal" if gap == 0 else "gap_limit",
                       message="Optimal (the tree search's bound closes the gap)")
    return dataclasses.replace(outcome, **changes)
