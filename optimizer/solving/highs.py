"""The solver boundary: Pyomo model -> HiGHS, and HiGHS's answer -> our statuses.

Translation stacks the model's row blocks into one sparse matrix, or, once the model's
Pyomo form exists, compiles that with Pyomo's standard-form compiler; either is handed to
highspy in one ``passModel`` call. HiGHS's outcome is
mapped through one table, :data:`CONDITION_MAP`, into *why it stopped* (termination)
and *what it found* (status) kept apart, with the incumbent, the best bound and the gap.

HiGHS prints a banner to standard output when it starts; every call into it runs with
file descriptor 1 pointed at standard error, so machine-readable output stays clean.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from formulations import PortfolioModel
from formulations.columns import Plan
from optimizer.solving.heuristics import SwapSearch
from optimizer.solving.options import (  # noqa: F401  (the boundary's names, re-exported)
    HEURISTIC_SHARE,
    HEURISTICS,
    LOCAL_SEARCH_MAX_ENTRIES,
    LOCAL_SEARCH_SHARE,
    OWNED_OPTIONS,
    PRESOLVE_OFF_FROM,
    SHORT_LIMIT,
    SHORT_LIMIT_EFFORT,
    Progress,
    SolveOptions,
    highs_option,
    owned_option_error,
)
from optimizer.solving.quiet import match_thread_scheduler, quiet_stdout  # noqa: F401
from optimizer.solving.translate import (  # noqa: F401
    ROUTES,
    Translation,
    integer_lp,
    lp_matrix,
    translate,
    translate_with_rows,
    translation_of,
)

__all__ = ["SolveOptions", "SolverOutcome", "CONDITION_MAP", "HighsSession", "translate",
           "translate_with_rows", "open_highs", "solve_session", "relative_gap"]


@dataclass(frozen=True)
class SolverOutcome:
    """What the solver reported, before any checking."""

    status: str  # optimal | feasible | infeasible | no_solution
    termination: str  # optimal | gap_limit | time_limit | infeasible | interrupted | ...
    objective: float | None
    bound: float | None
    gap: float | None
    values: np.ndarray | None  # column values in model column order
    translate_seconds: float
    solve_seconds: float
    solver_version: str
    options: dict[str, Any]
    message: str = ""
    nodes: int | None = None  # branch-and-bound nodes HiGHS explored (None: no MIP search)
    plan: Plan | None = None  # the solution in the program's terms (None: no solution)



# --------------------------------------------------------------- status mapping
def _condition_map() -> dict[Any, tuple[str, str | None]]:
    import highspy

    s = highspy.HighsModelStatus
    # termination, and the status to report when no solution is at hand (None: depends on
    # whether an incumbent exists)
    return {
        s.kOptimal: ("optimal", None),
        s.kInfeasible: ("infeasible", "infeasible"),
        # every variable is bounded, so "unbounded or infeasible" can only be infeasible
        s.kUnboundedOrInfeasible: ("infeasible", "infeasible"),
        s.kUnbounded: ("unbounded", None),
        s.kTimeLimit: ("time_limit", None),
        s.kIterationLimit: ("iteration_limit", None),
        s.kSolutionLimit: ("solution_limit", None),
        s.kInterrupt: ("interrupted", None),
        s.kObjectiveBound: ("objective_limit", None),
        s.kObjectiveTarget: ("objective_limit", None),
        s.kMemoryLimit: ("memory_limit", None),
        s.kModelEmpty: ("optimal", None),
        s.kUnknown: ("unknown", None),
        s.kNotset: ("error", None),
        s.kLoadError: ("error", None),
        s.kModelError: ("error", None),
        s.kPresolveError: ("error", None),
        s.kSolveError: ("error", None),
        s.kPostsolveError: ("error", None),
    }


CONDITION_MAP: dict[Any, tuple[str, str | None]] = {}


def _classify(model_status: Any, has_solution: bool, gap: float | None) -> tuple[str, str]:
    """(status, termination) from HiGHS's model status and whether an incumbent exists."""
    if not CONDITION_MAP:
        CONDITION_MAP.update(_condition_map())
    termination, fixed = CONDITION_MAP.get(model_status, ("unknown", None))
    if fixed is not None:
        return fixed, termination
    if termination == "optimal":
        if not has_solution:
            return "no_solution", "error"
        if gap is not None and gap > 1e-9:
            return "optimal", "gap_limit"
        return "optimal", "optimal"
    return ("feasible" if has_solution else "no_solution"), termination



# ------------------------------------------------------------------------- run
def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) and abs(x) < 1e30 else None


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    diff = max(0.0, bound - objective)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9) if objective != 0 else math.inf


def _set_options(h: Any, options: SolveOptions, n_projects: int) -> dict[str, Any]:
    presolve = options.presolve
    if presolve == "auto":
        presolve = "off" if n_projects >= PRESOLVE_OFF_FROM else "on"
    chosen: dict[str, Any] = {
        "output_flag": False,
        "mip_rel_gap": float(options.gap),
        "random_seed": int(options.seed),
        "presolve": presolve,
    }
    if options.time_limit is not None:
        chosen["time_limit"] = float(options.time_limit)
    if options.threads is not None:
        chosen["threads"] = int(options.threads)
    if options.node_limit is not None:
        chosen["mip_max_nodes"] = int(options.node_limit)
    if options.solution_limit is not None:
        chosen["mip_max_improving_sols"] = int(options.solution_limit)
    effort = options.heuristic_effort
    if effort is None and options.time_limit is not None and options.time_limit <= SHORT_LIMIT:
        effort = SHORT_LIMIT_EFFORT
    if effort is not None:
        chosen["mip_heuristic_effort"] = float(effort)
    if options.feasibility_tolerance is not None:
        for name in ("primal_feasibility_tolerance", "mip_feasibility_tolerance"):
            chosen[name] = float(options.feasibility_tolerance)
    if options.log:  # HiGHS's own log, on standard error (see quiet_stdout)
        chosen.update(output_flag=True, log_to_console=True)
    # the user's, checked by HiGHS; none of them is one of the above (OWNED_OPTIONS)
    chosen.update(options.highs_options)
    for name, value in chosen.items():
        h.setOptionValue(name, value)
    if "threads" not in chosen:  # report what HiGHS will use (0: its own choice)
        value = h.getOptionValue("threads")
        chosen["threads"] = int(value[-1] if isinstance(value, tuple) else value)
    return chosen



class _StopOnSignal:
    """Turn SIGINT/SIGTERM into a request to stop the solver, keeping its incumbent."""

    def __init__(self, h: Any, handle: bool = True, counts: bool = True) -> None:
        self.h = h  # anything with a cancelSolve()
        self.handle = handle
        self.counts = counts  # whether the run it guards counts in runs_finished
        self.received: int | None = None
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignal:
        if self.handle and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum: int, _frame: Any) -> None:
        self.received = signum
        self.h.cancelSolve()

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        if self.counts:
            _RUNS_FINISHED[0] += 1


_RUNS_FINISHED = [0]


def runs_finished() -> int:
    """How many solver runs this process has finished (interrupted ones included)."""
    return _RUNS_FINISHED[0]


@dataclass
class HighsSession:
    """A model loaded into HiGHS, kept for more solves after its bounds or costs change
    (sweeps). ``rows[k]`` names HiGHS row k: (block name, key)."""

    highs: Any
    rows: list[tuple[str, Any]]
    options: dict[str, Any]
    translate_seconds: float
    model: PortfolioModel | None = None
    #: the variables a caller added to the model's Pyomo form (columns after its own)
    added: tuple[str, ...] = ()

    def plan(self, values: np.ndarray | None) -> Plan | None:
        """The typed plan of a solution of this session's model."""
        if values is None or self.model is None:
            return None
        return self.model.plan(values, self.added)


def open_highs(pm: PortfolioModel, options: SolveOptions) -> HighsSession:
    """Translate ``pm`` and load it into a new ``highspy.Highs`` with ``options``."""
    import highspy

    with quiet_stdout(to_stderr=options.log):
        t0 = time.perf_counter()
        translation = translation_of(pm)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        chosen = _set_options(h, options, pm.instance.n_projects)
        h.passModel(translation.lp)
        return HighsSession(h, translation.rows, chosen, time.perf_counter() - t0, pm,
                            translation.added)


def solve_session(session: HighsSession, options: SolveOptions,
                  start: np.ndarray | None = None) -> SolverOutcome:
    """Solve the model loaded in ``session`` (as it stands now), handing HiGHS ``start``
    (column values) as a starting solution when given; HiGHS keeps it only if feasible."""
    import highspy

    h, chosen, translate_seconds = session.highs, session.options, session.translate_seconds
    with quiet_stdout(to_stderr=options.log):
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = np.asarray(start, dtype=float)
            solution.value_valid = True
            h.setSolution(solution)
        h.HandleUserInterrupt = True
        match_thread_scheduler(chosen.get("threads"))
        h.cbMipLogging.clear()
        h.cbMipImprovingSolution.clear()
        h.cbMipUserSolution.clear()
        search = None
        if options.local_search == "on" \
                and 0 < h.getNumRow() * h.getNumCol() <= LOCAL_SEARCH_MAX_ENTRIES:
            limit = options.time_limit
            search = SwapSearch(h.getLp(), LOCAL_SEARCH_SHARE * limit if limit is not None else 1.0)
            search.attach(h)
        if options.progress is not None:
            # HiGHS calls its MIP logging callback only while logging is on: log, but to
            # nowhere (not the console, not a file, unless asked); the callback gets the
            # figures
            h.setOptionValue("log_to_console", options.log)
            h.setOptionValue("output_flag", True)
            report = options.progress

            def on_log(event: Any) -> None:
                out = event.data_out
                report(Progress(out.running_time, _finite(out.mip_primal_bound),
                                _finite(out.mip_dual_bound), _finite(out.mip_gap)))

            h.cbMipLogging.subscribe(on_log)
        t1 = time.perf_counter()
        with _StopOnSignal(h, options.handle_signals) as stop:
            thread = h.startSolve()
            while thread.is_alive():
                thread.join(0.05)
        solve_seconds = time.perf_counter() - t1

        model_status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
        empty = model_status == highspy.HighsModelStatus.kModelEmpty
        if empty:  # no column (every start ruled out): the empty plan, whose rows the
            has_solution = True  # model holds only where 0 meets them (else infeasible
            #                      before any solve: PortfolioModel.trivially_infeasible)
        objective = _finite(info.objective_function_value) if has_solution else None
        if empty:
            objective = 0.0
        nodes = int(info.mip_node_count) if info.mip_node_count >= 0 else None  # None: no MIP
        bound = _finite(info.mip_dual_bound) if nodes is not None else None
        if bound is None and has_solution and model_status == highspy.HighsModelStatus.kOptimal:
            bound = objective
        if bound is not None and objective is not None:
            bound = max(bound, objective)
        gap = relative_gap(objective, bound)
        status, termination = _classify(model_status, has_solution, gap)
        if stop.received is not None and termination not in ("optimal", "gap_limit",
                                                              "infeasible"):
            termination = "interrupted"
        elif termination == "solution_limit" and options.node_limit is not None and \
                nodes is not None and nodes >= options.node_limit:
            termination = "node_limit"  # HiGHS reports both limits as one status
        values = np.asarray(h.getSolution().col_value) if has_solution else None
        if empty:
            values = np.zeros(h.getNumCol())
        if status == "infeasible":
            objective = bound = gap = None
        version = f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}." \
                  f"{highspy.HIGHS_VERSION_PATCH}"
        message = h.modelStatusToString(model_status)
        if termination == "node_limit":
            message = f"Node limit reached ({nodes} nodes)"
        if search is not None:
            chosen = {**chosen, "local_search": {
                "plans": search.plans, "gain": float(search.gain),
                "seconds": round(search.seconds, 6),
                "failure": None if search.failure is None else repr(search.failure)}}
    return SolverOutcome(status, termination, objective, bound, gap, values,
                         translate_seconds, solve_seconds, version, chosen, message, nodes,
                         session.plan(values))

