"""The Python API: load a program, solve it with options, read the result.

    >>> from optimizer import load, solve, SolveOptions
    >>> instance = load("pilot")
    >>> result = solve(instance, SolveOptions(time_limit=60, threads=1))
    >>> result.status, result.valid
    ('optimal', True)

Every plan is passed through the independent checker before it is returned; a plan the
checker rejects is retried once with tighter solver tolerances and, if it still breaks a
rule, returned with status ``invalid`` and the broken rules listed, never as a plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from formulations import PortfolioModel, build
from formulations.family import Conflict
from optimizer.check import check_plan
from optimizer.diagnosis.explain import explain_budget, explain_infeasible
from optimizer.program.instance import Instance
from optimizer.program.loading import load
from optimizer.results.result import Result, build_result
from optimizer.solving.highs import SolveOptions, SolverOutcome, relative_gap
from optimizer.solving.strategies import run_highs

__all__ = ["load", "solve"]

#: Tolerance used for the one retry after the checker rejects a plan.
TIGHT_TOLERANCE = 1e-9


def _units(outcome: SolverOutcome) -> np.ndarray | None:
    """The units per project of the solver's plan (its typed plan, never a slice of the
    column vector)."""
    return None if outcome.plan is None else outcome.plan.units


def _starts(outcome: SolverOutcome) -> np.ndarray | None:
    """The units per option (project and start year) of the solver's plan."""
    return None if outcome.plan is None else outcome.plan.starts


def solve(program: Instance | PortfolioModel | str | Path,
          options: SolveOptions | None = None) -> Result:
    """Choose the units to fund that maximise total return under every rule.

    ``program`` is an :class:`Instance`, a path to a program file, or a built
    :class:`~formulations.PortfolioModel` (whose Pyomo form a caller may have extended
    with rules and variables: they are honoured, named in explanations, and reported by
    the checker as not checked independently). Returns a :class:`Result` for every
    outcome, infeasible and stopped-at-a-limit included.
    Raises :class:`~optimizer.errors.InstanceError` for an invalid program file and
    :class:`~optimizer.errors.UsageError` for invalid options.
    """
    options = options or SolveOptions()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    given_model = isinstance(program, PortfolioModel)
    if isinstance(program, PortfolioModel):
        pm, instance = program, program.instance
        timings["load"] = timings["build"] = 0.0
    else:
        if isinstance(program, Instance):
            instance = program
            timings["load"] = 0.0
        else:
            instance = load(program)
            timings["load"] = time.perf_counter() - start
        t = time.perf_counter()
        pm = build(instance)
        timings["build"] = time.perf_counter() - t

    extended = given_model and pm.has_pyomo_form
    info = solver_info(options, "pyomo-standard-form+highspy" if extended
                       else "row-blocks+highspy")
    unchecked = added_rules(pm) if extended else ()
    # the program's objective is the total return, which the checker recomputes; an
    # objective a caller set in the Pyomo form is the solver's to report
    own_objective = not (extended and pm.pyomo.objective_changed)
    if pm.trivially_infeasible:
        impossible = explain_infeasible(pm)
        timings["total"] = time.perf_counter() - start
        return build_result(instance, status="infeasible", termination="infeasible",
                            objective=None, bound=None, gap=None, units=None, check=None,
                            timings=timings, solver=info, conflicts=impossible,
                            message="; ".join(c.message for c in impossible))

    outcome = run_highs(pm, options)
    return finish(instance, outcome, options, timings, start, info,
                  resolve=lambda tight: run_highs(pm, tight),
                  explain=lambda seconds: explain_infeasible(pm, seconds),
                  unchecked=unchecked, own_objective=own_objective)


def added_rules(pm: PortfolioModel) -> tuple[str, ...]:
    """The constraints of ``pm``'s Pyomo form that are not the model's own row blocks:
    rules a caller added, which no family checks independently."""
    import pyomo.core as pyo

    own = set(pm.pyomo.constraints)
    return tuple(c.local_name for c in pm.model.component_objects(pyo.Constraint,
                                                                  active=True)
                 if c.local_name not in own)


def solver_info(options: SolveOptions, interface: str) -> dict[str, Any]:
    """The result's ``solver`` entry before the solve: what was asked for."""
    return {"name": "highs", "interface": interface, "threads": options.threads,
            "gap_tolerance": options.gap, "time_limit": options.time_limit,
            "seed": options.seed}


def finish(instance: Instance, outcome: SolverOutcome, options: SolveOptions,
           timings: dict[str, float], start: float, solver_info: dict[str, Any],
           resolve: Callable[[SolveOptions], SolverOutcome],
           explain: Callable[[float], tuple[Conflict, ...]],
           unchecked: tuple[str, ...] = (), own_objective: bool = True) -> Result:
    """Check the solver's plan, retry once (``resolve``) with tighter tolerances if the
    checker rejects it, explain an infeasible program (``explain`` is given the seconds
    it may take, :func:`optimizer.diagnosis.explain.explain_budget`), and assemble the
    :class:`Result`.

    Shared by :func:`solve` and the warm-started points of a sweep.
    """
    timings["translate"] = timings.get("translate", 0.0) + outcome.translate_seconds
    timings["solve"] = timings.get("solve", 0.0) + outcome.solve_seconds
    t = time.perf_counter()
    units, starts = _units(outcome), _starts(outcome)
    report = check_plan(instance, units, unchecked=unchecked, starts=starts) \
        if units is not None else None
    message = outcome.message
    if report is not None and not report.valid:
        tight = TIGHT_TOLERANCE if options.feasibility_tolerance is None else \
            min(TIGHT_TOLERANCE, options.feasibility_tolerance)  # never looser than asked
        retry = resolve(replace(options, feasibility_tolerance=tight))
        timings["solve"] += retry.solve_seconds
        retry_units, retry_starts = _units(retry), _starts(retry)
        retry_report = check_plan(instance, retry_units, unchecked=unchecked,
                                  starts=retry_starts) if retry_units is not None else None
        broken = "; ".join(map(str, report.violations[:5]))
        if retry_report is not None and retry_report.valid:
            outcome, units, starts, report = retry, retry_units, retry_starts, retry_report
            message = (f"the first plan broke a rule ({broken}); re-solved with feasibility "
                       f"tolerance {tight:g}")
        else:
            outcome = replace(outcome, status="invalid")
            message = (f"the solver's plan breaks rules beyond tolerance, also after a retry "
                       f"with tolerance {tight:g}: {broken}")
    timings["check"] = time.perf_counter() - t

    conflicts: tuple[Conflict, ...] = ()
    if outcome.status == "infeasible":
        t = time.perf_counter()
        # the explanation's solves share a budget: what the time limit leaves (at least
        # a floor), or a default cap without one (see optimizer.diagnosis.explain.explain_budget)
        conflicts = explain(explain_budget(options.time_limit, t - start))
        timings["explain"] = time.perf_counter() - t
        message = "; ".join(c.message for c in conflicts)

    objective, bound, gap = outcome.objective, outcome.bound, outcome.gap
    if report is not None and outcome.status in ("optimal", "feasible") and own_objective:
        objective = report.objective  # the checker's recomputation, not the solver's
        if bound is not None:
            bound = max(bound, objective)
            gap = relative_gap(objective, bound)
    solver_info = {**solver_info, "version": outcome.solver_version, "options": outcome.options,
                   "threads": outcome.options.get("threads", options.threads),
                   "nodes": outcome.nodes,
                   # HiGHS's own value of its plan, beside the checker's recomputation
                   "objective": outcome.objective}
    timings["total"] = time.perf_counter() - start
    return build_result(instance, status=outcome.status, termination=outcome.termination,
                        objective=objective, bound=bound, gap=gap, units=units, starts=starts,
                        check=report,
                        timings=timings, solver=solver_info, conflicts=conflicts,
                        message=message,
                        decisions=outcome.plan.decisions if outcome.plan is not None else None)
