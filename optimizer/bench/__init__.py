"""Benchmark suites, their history and the regression report.

``optimizer bench SUITE`` solves every instance of a suite, each in a fresh process
(``optimizer solve --json``) so that its peak memory is its own, and appends one run to a
history store (SQLite). Every run starts with a reference solve (the pilot program and a
generated 2,000-project program): times are compared as ratios to it, which absorbs most
of a shared machine's noise. ``optimizer bench report`` compares the newest run with the
one before it and with the published values, writes a Markdown report (a table per set
and per instance) with charts of per-set aggregates over the runs, and exits 1 when
something regressed.

The OR-Library sets are found through the package (:mod:`optimizer.program.shipped`), so an
installed copy benchmarks from any folder.

The stages, one module each, imported in this order (each only from the ones before it):
:mod:`~optimizer.bench.suites` (what a suite solves), :mod:`~optimizer.bench.solves` (one
instance in its own process), :mod:`~optimizer.bench.history` (the SQLite store),
:mod:`~optimizer.bench.compare` (per-set aggregates, regressions),
:mod:`~optimizer.bench.charts` and :mod:`~optimizer.bench.report`. :func:`run_suite` is
here: it runs the stages through this package's names (``bench._solve``,
``bench._migrate``), the ones a test replaces. Every name of the former module
``optimizer/bench.py`` is still ``optimizer.bench.NAME``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from optimizer.bench.charts import _charts, _png
from optimizer.bench.compare import (
    MIN_SLOWER,
    REACHED,
    SLOWER,
    Regression,
    SetStats,
    find_regressions,
    set_name,
    set_stats,
)
from optimizer.bench.history import (
    _RESULT_COLUMNS,
    DEFAULT_HISTORY,
    SCHEMA,
    _migrate,
    _no_history,
    _open_history,
    _results,
    _runs,
    check_history,
)
from optimizer.bench.report import _num, _options_changed, _pct, _write_report, report
from optimizer.bench.solves import ROOT, _git_commit, _machine, _solve
from optimizer.bench.suites import SUITES, Options, _instances, _names, _set_of
from optimizer.errors import UsageError
from optimizer.program.shipped import programs
from optimizer.units import money

__all__ = [
    "DEFAULT_HISTORY", "MIN_SLOWER", "REACHED", "ROOT", "SCHEMA", "SLOWER", "SUITES",
    "Options", "Regression", "SetStats", "UsageError", "check_history", "find_regressions",
    "report", "run_suite", "set_name", "set_stats",
    # the former module's own names, which tests use and replace
    "_RESULT_COLUMNS", "_charts", "_git_commit", "_instances", "_machine", "_migrate",
    "_names", "_no_history", "_num", "_open_history", "_options_changed", "_pct", "_png",
    "_results", "_run", "_runs", "_set_of", "_solve", "_write_report",
]


def run_suite(suite: str, history: Path = DEFAULT_HISTORY,
              opts: Options = Options(),  # noqa: B008 - a frozen dataclass
              echo: bool = True, only: str | None = None) -> int:
    """Solve every instance of ``suite`` (or those matching ``only``) and append the run to
    ``history``; the run's id."""
    history = Path(history)
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r}; choose from {', '.join(SUITES)}")
    check_history(history, must_exist=False)
    created = not os.path.lexists(history)
    work = Path(tempfile.mkdtemp(prefix=f"bench-{suite}-"))
    try:
        return _run(suite, history, opts, echo, only, work)
    except UsageError:  # a failed write: a history made by this run goes with it
        if created:
            for leftover in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(f"{history}{leftover}")
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(suite: str, history: Path, opts: Options, echo: bool, only: str | None,
         work: Path) -> int:
    from optimizer.program.generate import generate, write
    from optimizer.results.result import write_errors

    instances = _instances(suite, work, only)
    reference = [programs()["pilot"], write(generate(2000, seed=7), work / "reference-2000")]
    t = time.perf_counter()
    for path in reference:
        _solve(path, Options(time_limit=120, threads=1, gap=1e-4))
    reference_seconds = time.perf_counter() - t
    with write_errors(history):
        db = sqlite3.connect(history)
    try:
        with write_errors(history):
            _migrate(db)
            cur = db.execute("INSERT INTO runs (started, suite, git_commit, machine, options, "
                             "reference_seconds) VALUES (?, ?, ?, ?, ?, ?)",
                             (time.strftime("%Y-%m-%dT%H:%M:%S"),
                              suite if only is None else f"{suite}[{only}]", _git_commit(),
                              _machine(), json.dumps(vars(opts)), reference_seconds))
            db.commit()
        run_id = int(cur.lastrowid or 0)
        insert = (f"INSERT INTO results ({', '.join(_RESULT_COLUMNS)}) VALUES "
                  f"({', '.join('?' * len(_RESULT_COLUMNS))})")
        for instance_set, path in instances:
            data, peak, code = _solve(path, opts)
            inst = data.get("instance", {})
            known = data.get("known_optimum")
            objective = data.get("objective")
            gap_known = (None if known in (None, 0) or objective is None
                         else (known - objective) / abs(known))
            timings = data.get("timings", {})
            row = (run_id, inst.get("name", path.parent.name), inst.get("sha256"),
                   data["status"], data["termination"], objective, data.get("bound"),
                   data.get("gap"), known, data.get("known_optimum_proven"), gap_known,
                   timings.get("load"), timings.get("build"), timings.get("solve"),
                   timings.get("total"), peak, data.get("solver", {}).get("version"), code,
                   instance_set)
            with write_errors(history):
                db.execute(insert, row)
                db.commit()
            if echo:
                shown = "-" if gap_known is None else f"{gap_known:.4%}"
                print(f"{path.parent.name:<16} {data['status']:<11} {data['termination']:<11} "
                      f"objective {money(objective)} gap-to-known {shown} "
                      f"{timings.get('total', 0):.2f}s {peak:.0f}MB", flush=True)
    finally:
        db.close()
    return run_id
