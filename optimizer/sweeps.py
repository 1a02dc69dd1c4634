"""Sweeps: one or two program parameters over a grid, one solve per point.

    >>> from optimizer import load, sweep
    >>> base = load("pilot")
    >>> s = sweep(base, {"budget": [400, 450, 500, 550]})
    >>> list(s.frame["status"])
    ['optimal', 'optimal', 'optimal', 'optimal']
    >>> bool(s.frame["objective"].is_monotonic_increasing)
    True

How a sweep avoids solving each point cold (:class:`ParametricModel`):

* the model is built and loaded into HiGHS once per *chunk* of successive points, from a
  program holding every row any point of the chunk needs; each point then only moves row
  bounds (budget, per-year caps, sector limits, labor), objective costs (return
  multipliers), hurdle-row coefficients and column bounds (forced choices) in HiGHS;
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
rejects is solved cold with :func:`optimizer.api.solve`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import UsageError
from optimizer.instance import Instance
from optimizer.results import Result
from optimizer.scenarios import derive, parameter_changes
from optimizer.solver import SolveOptions

__all__ = ["ParametricModel", "Sweep", "SweepProgress", "sweep", "grid_points", "parse_range",
           "restricts"]

#: A limit large enough to be no limit, small enough to keep a row in the model.
_OPEN = 1e15
#: At most this many other points' plans are tried, best first, at each point.
SHARE_TRIES = 8
#: Default number of chunks a sweep is cut into (each reuses one model), with at least
#: MIN_CHUNK points in a chunk.
DEFAULT_CHUNKS = 8
MIN_CHUNK = 4


# ------------------------------------------------------------------- the grid
def parse_range(text: str, what: str = "range") -> list[float]:
    """``START:STOP:STEP`` (STOP included when the steps reach it) or ``a,b,c``."""
    text = text.strip()
    if "," in text or ":" not in text:
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise UsageError(f"{what}: {text!r} is not START:STOP:STEP or a,b,c") from None
    else:
        parts = text.split(":")
        try:
            start, stop, step = (float(p) for p in parts) if len(parts) == 3 else (None,) * 3
        except ValueError:
            start = stop = step = None
        if start is None or stop is None or step is None:
            raise UsageError(f"{what}: {text!r} is not START:STOP:STEP")
        if not all(map(math.isfinite, (start, stop, step))) or step == 0:
            raise UsageError(f"{what}: {text!r}: finite numbers and a non-zero step needed")
        if (stop - start) / step < 0:
            raise UsageError(f"{what}: {text!r}: the step goes away from STOP")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > 10_000:
            raise UsageError(f"{what}: {text!r} makes {count} points (at most 10,000)")
        values = [round(start + k * step, 12) for k in range(count)]
    if not values or not all(map(math.isfinite, values)):
        raise UsageError(f"{what}: {text!r} gives no finite value")
    return values


def grid_points(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of the parameters' values, the first parameter varying slowest."""
    if not grid:
        raise UsageError("a sweep needs at least one parameter")
    if len(grid) > 2:
        raise UsageError(f"a sweep varies one or two parameters, got {len(grid)}")
    names = list(grid)
    for name in names:
        parameter_changes({name: 0.0})  # validates the name
        if len(grid[name]) == 0:
            raise UsageError(f"sweep parameter {name!r} has no values")
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(list(map(float, grid[n])) for n in names))]


# --------------------------------------------------------- the parametric model
def _first_finite(arrays: list[np.ndarray], fill: float) -> np.ndarray:
    stacked = np.vstack(arrays)
    return np.where(np.isfinite(stacked).any(axis=0), fill, np.nan)


def _superset(points: list[Instance]) -> Instance:
    """A program with every limit row any of ``points`` has, at no-limit values."""
    base = points[0]
    return dataclasses.replace(
        base,
        budget_total=_OPEN if any(p.budget_total is not None for p in points) else None,
        budget_per_year=_first_finite([p.budget_per_year for p in points], _OPEN),
        labor_capacity=_first_finite([p.labor_capacity for p in points], _OPEN),
        sector_min=np.where(np.vstack([p.sector_min for p in points]).max(axis=0) > 0,
                            1.0 / _OPEN, np.nan),
        sector_max=_first_finite([p.sector_max for p in points], _OPEN),
        hurdle_rate=0.0 if any(p.hurdle_rate is not None for p in points) else None,
        projects=base.projects.assign(force=""),
    )


class ParametricModel:
    """One model in HiGHS, re-solved at programs that differ from each other only in
    program-level values (limits, returns, hurdle, forced choices)."""

    def __init__(self, points: list[Instance], options: SolveOptions) -> None:
        from formulations import build, row_limits
        from formulations.hurdle import NAME as HURDLE
        from optimizer.solver import open_highs

        self.options = options
        self.pm = build(_superset(points))
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
        self.hurdle_row = int(self.rows[HURDLE][0][0]) if HURDLE in self.rows else None
        h = self.session.highs
        lp = h.getLp()
        self.row_lower = np.array(lp.row_lower_, dtype=float)
        self.row_upper = np.array(lp.row_upper_, dtype=float)
        self.cost = np.array(lp.col_cost_, dtype=float)
        self.col_lower = np.array(lp.col_lower_, dtype=float)
        self.col_upper = np.array(lp.col_upper_, dtype=float)
        self.hurdle = np.zeros(self.pm.instance.n_projects)
        if self.hurdle_row is not None:
            from formulations.hurdle import coefficients

            self.hurdle = coefficients(self.pm.instance)

    def fits(self, point: Instance) -> bool:
        """Whether the model can represent ``point`` by moving bounds: every limit it sets
        has a row here, or admits the empty plan, and no row's floor exceeds its ceiling."""
        from formulations import row_limits

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
        from formulations import row_limits
        from formulations.hurdle import coefficients
        from formulations.variables import column_bounds

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
        n = point.n_projects
        cost = self.cost.copy()
        cost[:n] = point.returns
        moved = np.flatnonzero(cost != self.cost)
        if len(moved):
            h.changeColsCost(len(moved), moved.astype(np.int32), cost[moved])
            self.cost = cost
        col_lower, col_upper = column_bounds(point, self.pm.variables.indicator_of)
        moved = np.flatnonzero((col_lower != self.col_lower) | (col_upper != self.col_upper))
        if len(moved):
            h.changeColsBounds(len(moved), moved.astype(np.int32), col_lower[moved],
                               col_upper[moved])
            self.col_lower, self.col_upper = col_lower, col_upper
        if self.hurdle_row is not None:
            coefs = coefficients(point)
            for j in np.flatnonzero(coefs != self.hurdle).tolist():
                h.changeCoeff(self.hurdle_row, j, float(coefs[j]))
            self.hurdle = coefs

    def solve(self, point: Instance, start: np.ndarray | None = None) -> Result:
        """Move to ``point``, solve from ``start`` (column values), check and explain."""
        from formulations import build
        from optimizer.api import finish, solver_info
        from optimizer.explain import explain_infeasible
        from optimizer.solver import run_highs, solve_session

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
        """The model's column values for ``result``'s plan (units, then the indicators)."""
        if not result.has_plan:
            return None
        units = result.units.to_numpy(dtype=float)
        linked = self.pm.variables.indicator_of
        return np.concatenate([units, (units[linked] > 0).astype(float)])


# ------------------------------------------------------------------ the chunks
def restricts(b: Instance, a: Instance) -> bool:
    """Whether program ``b`` only tightens program ``a``: the same projects and returns,
    and every limit of ``b`` at least as tight as ``a``'s (caps no higher, floors and the
    hurdle no lower, forced choices kept). Then every plan feasible for ``b`` is feasible
    for ``a``, and a bound on ``a``'s best return bounds ``b``'s."""
    if b.n_projects != a.n_projects or not np.array_equal(b.returns, a.returns):
        return False

    def caps(tight: np.ndarray, loose: np.ndarray) -> bool:  # NaN: no cap
        return bool(np.all(np.isnan(loose) | (tight <= loose)))

    total_ok = a.budget_total is None or (b.budget_total is not None
                                          and b.budget_total <= a.budget_total)
    hurdle_ok = a.hurdle_rate is None or (b.hurdle_rate is not None
                                          and b.hurdle_rate >= a.hurdle_rate)
    return (total_ok and hurdle_ok
            and caps(b.budget_per_year, a.budget_per_year)
            and caps(b.labor_capacity, a.labor_capacity)
            and caps(b.sector_max, a.sector_max)
            and bool(np.all(np.nan_to_num(b.sector_min) >= np.nan_to_num(a.sector_min)))
            and bool(np.all(b.force_in | ~a.force_in))
            and bool(np.all(b.force_out | ~a.force_out)))


def _adopt(point: Instance, units: pd.Series, *, status: str, termination: str,
           bound: float | None, solver: dict[str, Any], timings: dict[str, float] | None,
           message: str) -> Result | None:
    """Another point's plan as ``point``'s answer, if the checker finds it feasible at
    ``point`` (None otherwise), with ``point``'s valid ``bound``."""
    from optimizer.check import check_plan
    from optimizer.results import build_result
    from optimizer.solver import relative_gap

    t = time.perf_counter()
    report = check_plan(point, units)
    if not report.valid:
        return None
    if bound is not None:
        bound = max(bound, report.total_return)
    if timings is None:
        timings = {"check": time.perf_counter() - t, "total": time.perf_counter() - t}
    return build_result(
        point, status=status, termination=termination, objective=report.total_return,
        bound=bound, gap=relative_gap(report.total_return, bound), units=units.to_numpy(),
        check=report, timings=timings, solver=solver, message=message)


def _implied(point: Instance, before: Result, label: str) -> Result | None:
    """``before``'s plan as ``point``'s answer, when ``point`` only tightens the program
    ``before`` answered, ``before`` is optimal (within its gap) and its plan passes the
    checker at ``point``: no plan of ``point`` can beat ``before``'s bound."""
    if before.status != "optimal" or before.bound is None:
        return None
    return _adopt(point, before.units, status="optimal", termination=before.termination,
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


def _solve_chunk(base: Instance, points: list[dict[str, float]], options: dict[str, Any],
                 reuse: bool = True,
                 on_point: Callable[[dict[str, Any]], None] | None = None
                 ) -> list[dict[str, Any]]:
    """Solve successive points on one parametric model, each from the previous plan.

    Module-level and fed plain data, so that it runs the same in this process, in a local
    worker process or on a Dask worker. When the points tighten one another, they are
    solved loosest first, and a point whose predecessor's optimal plan still meets its
    limits takes that plan without a solve (see :func:`_implied`). ``on_point`` (in this
    process only) is called with each point's record as it is done."""
    from optimizer.api import solve

    opts = SolveOptions(**options)
    instances = [derive(base, **parameter_changes(p)) for p in points]
    records: list[dict[str, Any] | None] = [None] * len(points)
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
        record = {"parameters": points[k], "result": result.to_dict(),
                  "units": result.units.to_numpy(dtype=np.int64),
                  "seconds": time.perf_counter() - t + setup,
                  "reused": how != "cold", "how": how}
        records[k] = record
        setup = 0.0
        if on_point is not None:
            on_point(record)
        if result.termination == "interrupted":
            break  # Ctrl-C or SIGTERM: the rest of the chunk is not run
    return [r for r in records if r is not None]


def _chunks(points: list[dict[str, float]], chunk_size: int) -> list[list[dict[str, float]]]:
    return [points[k:k + chunk_size] for k in range(0, len(points), chunk_size)]


# ------------------------------------------------------------------- the sweep
def _worker_init() -> None:
    """A local worker process: Ctrl-C is the parent's to handle (it stops the workers),
    and SIGTERM ends the worker at once, mid-solve."""
    import signal

    from optimizer import solver

    solver.HANDLE_SIGNALS = False
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While local worker processes run, SIGTERM in this process raises KeyboardInterrupt
    (as Ctrl-C does), so that the workers are stopped with it."""
    import signal
    import threading

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


@dataclass(frozen=True)
class SweepProgress:
    """A live report from a running sweep: ``done`` of ``total`` points solved after
    ``elapsed`` seconds, and the status and parameters of the last point done."""

    done: int
    total: int
    elapsed: float
    last_status: str | None
    last_parameters: dict[str, float] | None


#: Seconds between two progress reports while points run (elapsed time refreshed even
#: when no point finishes).
TICK_SECONDS = 0.5


class _Reporter:
    """The sweep's progress: a report when points are done (:meth:`done`) and, between
    them, at least every :data:`TICK_SECONDS` (:meth:`tick`, called by the wait loops or
    by :meth:`ticking`'s thread), so that the elapsed time moves while points run."""

    def __init__(self, progress: Callable[[SweepProgress], None] | None, total: int,
                 started: float) -> None:
        import threading

        self.progress, self.total, self.started = progress, total, started
        self.count = 0
        self.status: str | None = None
        self.parameters: dict[str, float] | None = None
        self.last = -math.inf
        self.lock = threading.Lock()

    def _send(self) -> None:
        assert self.progress is not None
        self.last = time.perf_counter()
        self.progress(SweepProgress(self.count, self.total, self.last - self.started,
                                    self.status, self.parameters))

    def done(self, records: list[dict[str, Any]]) -> None:
        if self.progress is None or not records:
            return
        with self.lock:
            self.count += len(records)
            self.status = records[-1]["result"]["status"]
            self.parameters = dict(records[-1]["parameters"])
            self._send()

    def tick(self) -> None:
        if self.progress is None:
            return
        with self.lock:
            if time.perf_counter() - self.last >= TICK_SECONDS:
                self._send()

    @contextlib.contextmanager
    def ticking(self) -> Iterator[None]:
        """A daemon thread calling :meth:`tick` while the block runs (the serial path,
        whose solves hold this thread)."""
        import threading

        if self.progress is None:
            yield
            return
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(TICK_SECONDS / 2):
                self.tick()

        thread = threading.Thread(target=run, name="sweep-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


@dataclass(frozen=True)
class Sweep:
    """The points of a sweep: ``points`` as JSON-ready dicts (each a solve's JSON object
    with its ``parameters``), ``frame`` one row per point."""

    instance: Instance = field(repr=False)
    parameters: tuple[str, ...]
    points: list[dict[str, Any]] = field(repr=False)
    frame: pd.DataFrame = field(repr=False)
    seconds: float = 0.0
    workers: int = 1
    chunk_size: int = 1
    complete: bool = True  # False when Ctrl-C or SIGTERM stopped it: ``points`` are those run
    grid_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"program": self.instance.name, "parameters": list(self.parameters),
                "points": self.points, "complete": self.complete,
                "grid_size": self.grid_size, "seconds": round(self.seconds, 6),
                "workers": self.workers, "chunk_size": self.chunk_size}

    def to_json(self, indent: int | None = 2) -> str:
        import json

        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def table(self) -> pd.DataFrame:
        """``frame`` with the chosen set as text (``P01;P04x2``), for CSV and printing."""
        out = self.frame.drop(columns=["selected", "units"]).copy()
        out.insert(len(self.parameters) + 5, "selected", [
            ";".join(f"{i}x{u}" if u > 1 else i for i, u in units.items())
            for units in self.frame["units"]])
        return out

    def write(self, path: str | Path) -> Path:
        """The points as JSON (``.json``) or one CSV row per point (``.csv``), atomically."""
        from optimizer.results import atomic_write

        path = Path(path)
        if path.suffix.lower() == ".json":
            return atomic_write(path, self.to_json() + "\n")
        if path.suffix.lower() == ".csv":
            return atomic_write(path, self.table().to_csv(index=False, lineterminator="\n"))
        raise UsageError(f"--out {path}: the file must end in .json or .csv")

    def summary(self) -> str:
        """One line per point: parameters, status, return, bound, gap, projects funded."""
        from optimizer.units import money

        lines = [f"{self.instance.name}: {len(self.points)} points in {self.seconds:.2f} s "
                 f"({self.workers} worker{'s' if self.workers > 1 else ''}); return, bound "
                 f"and committed capital in {self.instance.money_unit}"]
        head = "  ".join(f"{p:>14}" for p in self.parameters)
        lines.append(f"{head}  {'status':<11} {'return':>10} {'bound':>10} {'gap':>8} "
                     f"{'committed':>10} {'funded':>6}  how")
        for row in self.frame.itertuples(index=False):
            values = "  ".join(f"{v:>14g}" for v in row[:len(self.parameters)])
            objective, bound, committed = (money(v) for v in
                                           (row.objective, row.bound, row.committed))
            gap = "-" if row.gap is None or row.gap != row.gap else f"{row.gap:.3%}"
            how = row.how + (f", plan of point {int(row.shared_from)}"
                             if pd.notna(row.shared_from) else "")
            lines.append(f"{values}  {row.status:<11} {objective:>10} {bound:>10} {gap:>8} "
                         f"{committed:>10} {len(row.selected):>6}  {how}")
        return "\n".join(lines)

    def frequency(self) -> pd.DataFrame:
        """How often each project is chosen across the points with a plan."""
        from optimizer.frontiers import selection_frequency

        return selection_frequency(self)

    def plot(self, path: str | Path) -> Path:
        from optimizer.frontiers import plot_sweep

        return plot_sweep(self, path)


def _frame(instance: Instance, records: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for rec in records:
        res = rec["result"]
        row: dict[str, Any] = dict(rec["parameters"])
        row.update({k: res[k] for k in ("status", "termination", "objective", "bound", "gap")})
        row["valid"] = res["check"]["valid"]
        row["committed"] = res["capital"]["total"]
        row["selected"] = tuple(s["id"] for s in res["selected"])
        row["units"] = {s["id"]: s["units"] for s in res["selected"]}
        for sector in instance.sectors:
            row[f"capital.{sector}"] = res["capital"]["by_sector"].get(sector, 0.0) \
                if res["capital"]["total"] is not None else None
        row["seconds"] = rec["seconds"]
        row["how"] = rec["how"]
        row["shared_from"] = rec.get("shared_from")
        rows.append(row)
    return pd.DataFrame(rows)


def _share_plans(base: Instance, records: list[dict[str, Any]]) -> None:
    """Give each point the best plan found anywhere in the sweep that the checker finds
    feasible at that point, if it has more return than the point's own."""
    found = [(r["result"]["objective"], k) for k, r in enumerate(records)
             if r["result"]["status"] in ("optimal", "feasible") and r["result"]["check"]["valid"]]
    found.sort(key=lambda t: (-t[0], t[1]))
    for k, rec in enumerate(records):
        res = rec["result"]
        if res["status"] not in ("optimal", "feasible", "no_solution"):
            continue  # proven infeasible (nothing is feasible) or invalid (reported as is)
        own = res["objective"] if res["objective"] is not None else -math.inf
        point: Instance | None = None
        tries = 0
        for objective, j in found:
            if objective <= own + 1e-9 * max(1.0, abs(own)) or tries >= SHARE_TRIES:
                break
            if j == k:
                continue
            tries += 1
            point = point or derive(base, **parameter_changes(rec["parameters"]))
            shared = _adopt(
                point, pd.Series(records[j]["units"], index=point.ids),
                status="optimal" if res["status"] == "optimal" else "feasible",
                termination=res["termination"], bound=res["bound"], solver=res["solver"],
                timings=res["timings"],
                message=f"the plan found at point {j} {records[j]['parameters']} is feasible "
                        f"here and returns more than this point's own "
                        f"({'none' if own == -math.inf else f'{own:g}'})")
            if shared is None:
                continue
            rec["result"] = shared.to_dict()
            rec["units"] = records[j]["units"]
            rec["shared_from"] = j
            break


def sweep(instance: Instance, grid: Mapping[str, Sequence[float]],
          options: SolveOptions | None = None, *, workers: int = 1, client: Any = None,
          chunk_size: int | None = None, reuse: bool = True, share: bool = True,
          progress: Callable[[SweepProgress], None] | None = None) -> Sweep:
    """Solve ``instance`` at every point of ``grid`` ({parameter: values}; one or two
    parameters named as in :data:`optimizer.scenarios.PARAMETERS`, e.g. ``"budget"``,
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
    reporter = _Reporter(progress, len(points), t)
    report = reporter.done
    reporter.tick()  # 0 of N at once, then at least every TICK_SECONDS

    if client is not None:
        [shared] = client.scatter([instance], broadcast=True, hash=False)
        futures = client.map(_solve_chunk, [shared] * len(chunks), chunks,
                             [opts] * len(chunks), [reuse] * len(chunks), pure=False)
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

        tasks = [(instance, chunk, opts, reuse) for chunk in chunks]
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
                if parts[-1] and parts[-1][-1]["result"]["termination"] == "interrupted":
                    break  # Ctrl-C or SIGTERM: no further chunk starts
        used = 1
    records = [rec for part in parts for rec in part]
    complete = len(records) == len(points) and not any(
        r["result"]["termination"] == "interrupted" for r in records)
    if share:
        _share_plans(instance, records)
    seconds = time.perf_counter() - t
    points_json = [{"parameters": r["parameters"], **r["result"],
                    "reused_model": r["reused"], "how": r["how"],
                    "shared_from": r.get("shared_from")} for r in records]
    return Sweep(instance, tuple(grid), points_json, _frame(instance, records),
                 seconds, used, chunk_size, complete, len(points))
