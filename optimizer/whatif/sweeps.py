"""Sweeps: one or two program parameters over a grid, one solve per point.

    >>> from optimizer import load, sweep
    >>> base = load("pilot")
    >>> s = sweep(base, {"budget": [60, 90, 120, 550]})
    >>> list(s.frame["status"])
    ['optimal', 'optimal', 'optimal', 'optimal']
    >>> bool(s.frame["objective"].is_monotonic_increasing)
    True

How a sweep avoids solving each point cold (:class:`ParametricModel`):

* the model is built and loaded into HiGHS once per *chunk* of successive points, from a
  program holding every row any point of the chunk needs (each rule family's
  :meth:`~formulations.family.Family.superset`); each point then only moves what its
  families say moves: row bounds (limits), objective costs (returns), the coefficients of
  rate rows (the hurdle, the supplier share) and column bounds (forced choices);
* each point hands HiGHS the previous point's plan as a starting solution (HiGHS keeps it
  only if it is feasible at the new point, as it is when a limit loosens);
* when a chunk's points tighten one another (a budget sweep, a rising floor), they are
  solved loosest first, and a point at which the previous point's optimal plan still
  meets every limit takes that plan without a solve: the previous bound holds for a
  tighter program, so the plan is optimal within the same gap ("implied");
* after all points, a plan found at one point that the independent checker finds feasible
  at another point, with more return, replaces that point's plan ("shared"): a better
  incumbent is a better incumbent, whichever point found it. The bound stays the point's
  own, so gaps only shrink.

Chunks are fixed by the grid and ``chunk_size``, never by the number of workers, and each
chunk runs the same way wherever it runs, so a sweep returns the same points serially, on
local processes (``workers``) or on a Dask cluster (``client``). Every point's plan goes
through the independent checker against that point's program; a point the persistent
model cannot represent (a floor on a sector with no project) or whose plan the checker
rejects is solved cold with :func:`optimizer.pipeline.solve`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from optimizer.check import check_plan
from optimizer.errors import UsageError
from optimizer.pipeline import solve
from optimizer.program.instance import Instance
from optimizer.results.result import Result, build_result
from optimizer.solving.highs import SolveOptions, relative_gap
from optimizer.whatif.grid import grid_points, parse_range
from optimizer.whatif.parametric import ParametricModel, restricts
from optimizer.whatif.points import Point, Sweep
from optimizer.whatif.progress import TICK_SECONDS, Reporter, SweepProgress
from optimizer.whatif.scenarios import derive, parameter_changes

__all__ = ["ParametricModel", "Point", "Sweep", "SweepProgress", "sweep", "grid_points",
           "parse_range", "restricts", "TICK_SECONDS"]

#: At most this many other points' plans are tried, best first, at each point.
SHARE_TRIES = 8
#: Default number of chunks a sweep is cut into (each reuses one model), with at least
#: MIN_CHUNK points in a chunk.
DEFAULT_CHUNKS = 8
MIN_CHUNK = 4


# ------------------------------------------------------------------ the chunks
def _adopt(point: Instance, units: pd.Series, starts: np.ndarray | None = None, *,
           status: str, termination: str,
           bound: float | None, solver: dict[str, Any], timings: dict[str, float] | None,
           message: str) -> Result | None:
    """Another point's plan as ``point``'s answer, if the checker finds it feasible at
    ``point`` (None otherwise), with ``point``'s valid ``bound``."""
    t = time.perf_counter()
    report = check_plan(point, units, starts=starts)
    if not report.valid:
        return None
    if bound is not None:
        bound = max(bound, report.objective)
    if timings is None:
        timings = {"check": time.perf_counter() - t, "total": time.perf_counter() - t}
    return build_result(
        point, status=status, termination=termination, objective=report.objective,
        bound=bound, gap=relative_gap(report.objective, bound), units=units.to_numpy(),
        starts=starts,
        check=report, timings=timings, solver=solver, message=message)


def _implied(point: Instance, before: Result, label: str) -> Result | None:
    """``before``'s plan as ``point``'s answer, when ``point`` only tightens the program
    ``before`` answered, ``before`` is optimal (within its gap) and its plan passes the
    checker at ``point``: no plan of ``point`` can beat ``before``'s bound."""
    if before.status != "optimal" or before.bound is None:
        return None
    return _adopt(point, before.units, before.starts, status="optimal",
                  termination=before.termination,
                  bound=before.bound, solver={**before.solver, "implied_by": label},
                  timings=None,
                  message=f"implied by the point {label}: this point only tightens its "
                          f"limits, its plan meets them, and its bound holds here; not "
                          f"re-solved")


def _order(instances: list[Instance]) -> list[int]:
    """The chunk's solving order: loosest first when the points tighten one another in
    one direction (so that a plan still feasible at the next point settles it), else
    as given."""
    k = len(instances)
    if k > 1 and all(restricts(instances[i], instances[i + 1]) for i in range(k - 1)):
        return list(range(k - 1, -1, -1))
    return list(range(k))


def _detached(run: Point) -> Point:
    """``run`` without its program (and the checker's long usage table), to cross a
    process boundary light; :func:`_attached` gives it back."""
    result = run.result
    check = None if result.check is None else dataclasses.replace(result.check, usage=None)
    light = dataclasses.replace(result, instance=None, check=check)  # type: ignore[arg-type]
    return dataclasses.replace(run, result=light)


def _attached(base: Instance, run: Point) -> Point:
    """A point come back from a worker, with its program derived here again."""
    if run.result.instance is not None:
        return run
    point = derive(base, **parameter_changes(run.parameters))
    return dataclasses.replace(run, result=dataclasses.replace(run.result, instance=point))


def _solve_chunk(base: Instance, points: list[dict[str, float]], options: dict[str, Any],
                 reuse: bool = True, on_point: Callable[[Point], None] | None = None,
                 detach: bool = False) -> list[Point]:
    """Solve successive points on one parametric model, each from the previous plan.

    Module-level and fed plain data, so that it runs the same in this process, in a local
    worker process or on a Dask worker (``detach``: the points come back without their
    programs, which the parent derives again). When the points tighten one another, they
    are solved loosest first, and a point whose predecessor's optimal plan still meets
    its limits takes that plan without a solve (see :func:`_implied`). ``on_point`` (in
    this process only) is called with each point as it is done."""
    opts = SolveOptions(**options)
    instances = [derive(base, **parameter_changes(p)) for p in points]
    runs: list[Point | None] = [None] * len(points)
    model: ParametricModel | None = None
    start: np.ndarray | None = None
    t = time.perf_counter()
    if reuse:
        model = ParametricModel(instances, opts)
    setup = time.perf_counter() - t
    previous: tuple[int, Result] | None = None
    for k in (_order(instances) if reuse else range(len(points))):
        point = instances[k]
        t = time.perf_counter()
        result = None
        if reuse and previous is not None and restricts(point, instances[previous[0]]):
            result = _implied(point, previous[1], str(points[previous[0]]))
        how = "implied"
        if result is None and model is not None and model.fits(point):
            result = model.solve(point, start)
            how = "reused"
        elif result is None:
            result = solve(point, opts)
            how = "cold"
        if result.has_plan:
            start = model.column_values(result) if model is not None else None
        previous = (k, result)
        run = Point(points[k], result, time.perf_counter() - t + setup, how)
        runs[k] = run
        setup = 0.0
        if on_point is not None:
            on_point(run)
        if result.termination == "interrupted":
            break  # Ctrl-C or SIGTERM: the rest of the chunk is not run
    done = [r for r in runs if r is not None]
    return [_detached(r) for r in done] if detach else done


def _chunks(points: list[dict[str, float]], chunk_size: int) -> list[list[dict[str, float]]]:
    return [points[k:k + chunk_size] for k in range(0, len(points), chunk_size)]


# ------------------------------------------------------------------- the sweep
def _worker_init() -> None:
    """A local worker process: Ctrl-C is the parent's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While local worker processes run, SIGTERM in this process raises KeyboardInterrupt
    (as Ctrl-C does), so that the workers are stopped with it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    saved = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved)


def _share_plans(base: Instance, runs: list[Point]) -> None:
    """Give each point the best plan found anywhere in the sweep that the checker finds
    feasible at that point, if it has more return than the point's own."""
    found = [(r.result.objective, k) for k, r in enumerate(runs)
             if r.result.status in ("optimal", "feasible") and r.result.valid
             and r.result.objective is not None]
    found.sort(key=lambda t: (-t[0], t[1]))
    for k, run in enumerate(runs):
        res = run.result
        if res.status not in ("optimal", "feasible", "no_solution"):
            continue  # proven infeasible (nothing is feasible) or invalid (reported as is)
        own = res.objective if res.objective is not None else -math.inf
        point: Instance | None = None
        tries = 0
        for objective, j in found:
            if objective <= own + 1e-9 * max(1.0, abs(own)) or tries >= SHARE_TRIES:
                break
            if j == k:
                continue
            tries += 1
            point = point or res.instance
            shared = _adopt(
                point, pd.Series(runs[j].result.units.to_numpy(), index=point.ids),
                runs[j].result.starts,
                status="optimal" if res.status == "optimal" else "feasible",
                termination=res.termination, bound=res.bound, solver=res.solver,
                timings=res.timings,
                message=f"the plan found at point {j} {runs[j].parameters} is feasible "
                        f"here and returns more than this point's own "
                        f"({'none' if own == -math.inf else f'{own:g}'})")
            # the plan's value here, not where it was found: a point that values plans
            # otherwise (a return multiplier, a discount rate) may value it less
            if shared is None or shared.objective is None or \
                    shared.objective <= own + 1e-9 * max(1.0, abs(own)):
                continue
            runs[k] = dataclasses.replace(run, result=shared, shared_from=j)
            break


def sweep(instance: Instance, grid: Mapping[str, Sequence[float]],
          options: SolveOptions | None = None, *, workers: int = 1, client: Any = None,
          chunk_size: int | None = None, reuse: bool = True, share: bool = True,
          progress: Callable[[SweepProgress], None] | None = None) -> Sweep:
    """Solve ``instance`` at every point of ``grid`` ({parameter: values}; one or two
    parameters named as in :data:`optimizer.whatif.scenarios.PARAMETERS`, e.g. ``"budget"``,
    ``"labor_scale"``, ``"sector_min:energy"``, ``"labor:2028"``).

    ``workers`` > 1 runs chunks on that many local processes; ``client`` (a
    ``dask.distributed.Client``) runs them on its cluster. ``reuse=False`` solves every
    point cold (for comparison); ``share=False`` keeps each point's own plan.
    ``progress`` is called with a :class:`SweepProgress` as points are done (after each
    point when the sweep runs in this process, after each chunk on workers or Dask) and,
    while they run, at least every :data:`TICK_SECONDS` with the elapsed time (from a
    thread of this process when the points run here).
    """
    options = options or SolveOptions()
    if options.progress is not None:
        options = dataclasses.replace(options, progress=None)
    if workers < 1:
        raise UsageError(f"workers must be >= 1, got {workers}")
    points = grid_points(grid)
    for p in points:  # every point's changes (and the bounds of the values they make,
        # see optimizer.limits) are checked before any solve starts
        try:
            derive(instance, **parameter_changes(p))
        except UsageError as error:
            at = ", ".join(f"{k}={v:g}" for k, v in p.items())
            raise UsageError(f"sweep point {at}: {error}") from None
    if chunk_size is None:
        chunk_size = max(math.ceil(len(points) / DEFAULT_CHUNKS), min(len(points), MIN_CHUNK))
    if chunk_size < 1:
        raise UsageError(f"chunk size must be >= 1, got {chunk_size}")
    chunks = _chunks(points, chunk_size)
    opts = options.as_dict()
    t = time.perf_counter()
    reporter = Reporter(progress, len(points), t)
    report = reporter.done
    reporter.tick()  # 0 of N at once, then at least every TICK_SECONDS

    if client is not None:
        [shared] = client.scatter([instance], broadcast=True, hash=False)
        futures = client.map(_solve_chunk, [shared] * len(chunks), chunks,
                             [opts] * len(chunks), [reuse] * len(chunks), pure=False,
                             detach=True)
        if progress is not None:
            waiting = list(futures)
            while waiting:  # polled, so that the elapsed time ticks between chunks
                for future in [f for f in waiting if f.done()]:
                    waiting.remove(future)
                    if future.status == "finished":
                        report(future.result())
                    else:
                        waiting.clear()  # an error or a cancel: gather raises it
                reporter.tick()
                if waiting:
                    time.sleep(0.1)
        parts = client.gather(futures)
        used = len(client.scheduler_info().get("workers", {})) or 1
    elif workers > 1 and len(chunks) > 1:
        import multiprocessing

        # in a worker process a signal ends the process (the parent decides what to
        # report), instead of stopping the solve and carrying on
        worker_opts = {**opts, "handle_signals": False}
        tasks = [(instance, chunk, worker_opts, reuse, None, True) for chunk in chunks]
        pool = multiprocessing.get_context("spawn").Pool(min(workers, len(chunks)),
                                                         initializer=_worker_init)
        try:
            with _sigterm_as_interrupt():
                # timed waits: Ctrl-C and SIGTERM get through to this thread
                pending = [pool.apply_async(_solve_chunk, task) for task in tasks]
                parts = [[] for _ in tasks]
                waiting = list(range(len(tasks)))
                while waiting:
                    pending[waiting[0]].wait(0.1)
                    for k in [k for k in waiting if pending[k].ready()]:
                        parts[k] = pending[k].get()  # a worker's exception is raised here
                        waiting.remove(k)
                        report(parts[k])
                    reporter.tick()  # the elapsed time moves while chunks run
            pool.close()
        except BaseException:
            # Ctrl-C, SIGTERM or a failure: stop the workers now rather than after their
            # running solves, and report nothing
            pool.terminate()
            raise
        finally:
            pool.join()
        used = min(workers, len(chunks))
    else:
        parts = []
        with reporter.ticking():  # the elapsed time moves while a point solves
            for chunk in chunks:
                parts.append(_solve_chunk(instance, chunk, opts, reuse,
                                          None if progress is None else lambda r: report([r])))
                if parts[-1] and parts[-1][-1].result.termination == "interrupted":
                    break  # Ctrl-C or SIGTERM: no further chunk starts
        used = 1
    runs = [_attached(instance, run) for part in parts for run in part]
    complete = len(runs) == len(points) and not any(
        r.result.termination == "interrupted" for r in runs)
    if share:
        _share_plans(instance, runs)
    seconds = time.perf_counter() - t
    return Sweep(instance, tuple(grid), tuple(runs), seconds, used, chunk_size, complete,
                 len(points))
