"""``optimizer solve FILE``: solve a program, check the plan, report it; and what a signal
does before, during and after the solver's run (:class:`_Signals`)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from optimizer.cli.common import (
    _check_outputs,
    _emit,
    _LiveProgress,
    _options,
    _refuse_inputs,
    _Writes,
)


def _solve(args: argparse.Namespace) -> int:
    _check_outputs(args, [("--out", (".json", ".csv"))])
    if args.plot is not None:
        _check_plot_dir(args.plot)
    _refuse_inputs(args, ["--out"], tables=True)
    started = time.perf_counter()
    with _Signals() as signals:
        try:
            return _solve_and_report(args, signals)
        except KeyboardInterrupt:
            return _no_plan(args, time.perf_counter() - started)


def _check_plot_dir(path: str) -> None:
    """``--plot DIR`` can be written into (a folder, made if missing), and is not a chart's
    file name (``optimizer sweep --plot`` takes one: here it would become a folder)."""
    from pathlib import Path

    from optimizer.errors import UsageError
    from optimizer.results.result import check_output_dir

    if Path(path).suffix.lower() == ".png" and not Path(path).is_dir():
        raise UsageError(f"--plot {path}: names the folder the charts go into (capital.png, "
                         "labor.png, cash.png), not a file; give a folder")
    check_output_dir(path, "--plot")


def _solve_and_report(args: argparse.Namespace, signals: _Signals) -> int:
    from optimizer.pipeline import solve
    from optimizer.solving.highs import runs_finished

    signals.runs_finished = runs_finished  # from now on, a signal after a run is noted
    live = _LiveProgress() if (not args.json and not args.log and sys.stderr.isatty()) \
        else None
    options = _options(args, presolve=args.presolve, progress=live, heuristic=args.heuristic,
                       heuristic_effort=args.heuristic_effort,
                       local_search=args.local_search)
    try:
        result = solve(args.path, options)
    finally:
        if live is not None:
            live.close()
    for warning in result.instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    writes = _Writes()
    if args.out is not None:
        writes.run(args.out, lambda: result.write(args.out))
    plots: list[Any] = []
    if args.plot is not None:
        from optimizer.results.plots import write_plots

        writes.run(args.plot, lambda: plots.extend(write_plots(result, args.plot)))
    if args.json:
        _emit(result.to_json() + "\n")
    else:
        _emit(result.summary() + "\n")
        for path in plots:
            print(f"optimizer: wrote {path}", file=sys.stderr)
        if args.plot is not None and not result.has_plan:
            print(f"optimizer: --plot {args.plot}: no plan, no charts", file=sys.stderr)
    if result.status in ("infeasible", "no_solution", "invalid"):
        print(f"optimizer: {result.status}: {result.message}", file=sys.stderr)
    return writes.exit_code(result.exit_code)


class _Signals:
    """SIGINT and SIGTERM in ``optimizer solve`` outside the solver's own run (where they
    stop HiGHS and keep its incumbent). Before any solver run has finished they end the
    run with no plan (exit 4); after, they are noted and the checked result is still
    reported and written in full.

    ``runs_finished`` says how many solver runs have finished
    (:func:`optimizer.solving.highs.runs_finished`); the solve sets it once it has imported
    the solver, and until then none has. The handler itself imports nothing: a signal can
    arrive while that very module is being imported.
    """

    def __init__(self) -> None:
        self.saved: dict[int, Any] = {}
        self.runs_finished: Callable[[], int] | None = None

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, _signum: int, _frame: object) -> None:
        if self.runs_finished is None or not self.runs_finished():
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def _no_plan(args: argparse.Namespace, seconds: float) -> int:
    """Report a solve stopped by a signal before the solver ran: no plan, exit 4."""
    from optimizer.results.result import SELECTED_COLUMNS, atomic_write

    message = ("interrupted before the solver ran (while reading the program or building "
               "the model): no plan")
    data: dict[str, Any] = {
        "status": "no_solution", "termination": "interrupted", "objective": None,
        "bound": None, "gap": None, "selected": [],
        "capital": {"total": None, "by_year": {}, "by_sector": {}},
        "labor": {"by_year": {}}, "timings": {"total": round(seconds, 6)},
        "solver": {"name": "highs", "threads": args.threads, "gap_tolerance": args.gap,
                   "time_limit": args.time_limit, "seed": args.seed},
        "instance": {"source": args.path}, "check": {"valid": False, "violations": []},
        "binding": [], "conflicts": [], "message": message}
    text = json.dumps(data, indent=2)
    writes = _Writes()
    if args.out is not None:
        writes.run(args.out, lambda: atomic_write(
            args.out, text + "\n" if args.out.lower().endswith(".json") else
            ",".join(SELECTED_COLUMNS) + "\n"))
    if args.json:
        _emit(text + "\n")
    print(f"optimizer: no_solution: {message}", file=sys.stderr)
    return writes.exit_code(4)
