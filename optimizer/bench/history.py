"""The history store: one SQLite file of runs (suite, commit, machine, options, the
reference solve's time) and their results, one row per instance; checked before any
work, brought up to date when an older version wrote it, opened read-only to report."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from optimizer.errors import UsageError

DEFAULT_HISTORY = Path("bench-history.sqlite")


SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT, suite TEXT, git_commit TEXT, machine TEXT,
    options TEXT, reference_seconds REAL);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER REFERENCES runs(id), instance TEXT, sha256 TEXT, status TEXT,
    termination TEXT, objective REAL, bound REAL, gap REAL, known REAL, known_proven INTEGER,
    gap_to_known REAL, load REAL, build REAL, solve REAL, total REAL, peak_mb REAL,
    solver_version TEXT, exit_code INTEGER, instance_set TEXT);
"""
_RESULT_COLUMNS = ("run_id", "instance", "sha256", "status", "termination", "objective",
                   "bound", "gap", "known", "known_proven", "gap_to_known", "load", "build",
                   "solve", "total", "peak_mb", "solver_version", "exit_code", "instance_set")


def _no_history(history: Path) -> UsageError:
    return UsageError(f"no benchmark history at {history} yet; run `optimizer bench SUITE` "
                      "first")


def check_history(history: Path, *, must_exist: bool) -> None:
    """Before any work: ``history`` is a SQLite file (or, when it need not exist yet, can
    be made in a writable folder). Raises :class:`UsageError` naming ``--history``."""
    from optimizer.results.result import check_output

    where = f"--history {history}"
    if must_exist and not history.exists():
        raise _no_history(history)
    if not must_exist:  # a file that can be written, in a writable folder
        check_output(history, "--history")
    elif not history.is_file():
        raise UsageError(f"{where}: exists and is not a regular file")
    if history.exists():
        try:
            with open(history, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise UsageError(f"{where}: cannot be read ({exc.strerror or exc})") from None
        if head and head != b"SQLite format 3\x00":
            raise UsageError(f"{where}: is not a benchmark history (not a SQLite file)")
        if not must_exist and not os.access(history, os.W_OK):
            raise UsageError(f"{where}: is not writable")


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a history written by an older version up to :data:`SCHEMA`."""
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(results)")}
    if "instance_set" not in columns:
        db.execute("ALTER TABLE results ADD COLUMN instance_set TEXT")


def _open_history(history: Path) -> sqlite3.Connection:
    """The history opened read-only (nothing is created); a :class:`UsageError` when there
    is none yet."""
    check_history(history, must_exist=True)
    try:
        db = sqlite3.connect(history.resolve().as_uri() + "?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE "
                                           "type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"--history {history}: is not a benchmark history ({exc})") from None
    if not {"runs", "results"} <= tables:
        db.close()
        raise _no_history(history)
    return db


def _runs(db: sqlite3.Connection, suite: str | None) -> list[sqlite3.Row]:
    query = "SELECT * FROM runs" + (" WHERE suite = ?" if suite else "") + " ORDER BY id"
    return db.execute(query, (suite,) if suite else ()).fetchall()


def _results(db: sqlite3.Connection, run_id: int) -> dict[str, sqlite3.Row]:
    rows = db.execute("SELECT * FROM results WHERE run_id = ?", (run_id,)).fetchall()
    return {r["instance"]: r for r in rows}
