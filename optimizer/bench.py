"""Benchmark suites, their history and the regression report.

``optimizer bench SUITE`` solves every instance of a suite, each in a fresh process
(``optimizer solve --json``) so that its peak memory is its own, and appends one run to a
history store (SQLite). Every run starts with a reference solve (the pilot program and a
generated 2,000-project program): times are compared as ratios to it, which absorbs most
of a shared machine's noise. ``optimizer bench report`` compares the newest run with the
one before it and with the published values, writes a Markdown report (a table per set
and per instance) with charts of per-set aggregates over the runs, and exits 1 when
something regressed.

The OR-Library sets are found through the package (:mod:`optimizer.shipped`), so an
installed copy benchmarks from any folder.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import UsageError
from optimizer.shipped import natural_order
from optimizer.units import money

#: The folder that holds the ``optimizer`` package (the checkout, or site-packages): the
#: solves run there so that they import this very package.
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HISTORY = Path("bench-history.sqlite")

#: suite -> list of (kind, argument): ("orlib", file) or ("generated", projects)
SUITES: dict[str, list[tuple[str, Any]]] = {
    "tiny": [("orlib", "mknap1.txt"), ("generated", 20)],  # for the tests of this module
    "smoke": [("orlib", "mknap1.txt"), ("orlib", "mknap2.txt"), ("generated", 20),
              ("generated", 200), ("generated", 2000)],
    "nightly": [("orlib", "mknap1.txt"), ("orlib", "mknap2.txt"), ("orlib", "mknapcb1.txt"),
                ("orlib", "mknapcb4.txt"), ("orlib", "mknapcb7.txt"), ("generated", 20),
                ("generated", 2000), ("generated", 20000), ("generated", 100000)],
    "full": [("orlib", "mknap1.txt"), ("orlib", "mknap2.txt")]
    + [("orlib", f"mknapcb{k}.txt") for k in range(1, 10)]
    + [("orlib", f"gk/gk{i:02d}.dat") for i in range(1, 12)],
}

#: A run is slower than the one before when its time, as a ratio to the run's reference
#: solve, grows by more than this factor (and by more than MIN_SLOWER seconds).
SLOWER = 1.5
MIN_SLOWER = 0.5
#: A solve reaches the published value when it is at most this far below it (relative).
REACHED = 1e-9

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


@dataclass(frozen=True)
class Options:
    time_limit: float = 60.0
    threads: int = 1
    gap: float = 1e-4


# ----------------------------------------------------------------- path checks
def _no_history(history: Path) -> UsageError:
    return UsageError(f"no benchmark history at {history} yet; run `optimizer bench SUITE` "
                      "first")


def check_history(history: Path, *, must_exist: bool) -> None:
    """Before any work: ``history`` is a SQLite file (or, when it need not exist yet, can
    be made in a writable folder). Raises :class:`UsageError` naming ``--history``."""
    from optimizer.results import check_output

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


# ------------------------------------------------------------------------- runs
def _git_commit() -> str:
    if not (ROOT / ".git").exists():  # an installed copy: its version stands for it
        from optimizer import __version__

        return f"v{__version__}"
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus " \
           f"python {platform.python_version()}"


def _solve(path: Path, opts: Options) -> tuple[dict[str, Any], float, int]:
    cmd = [sys.executable, "-m", "optimizer", "solve", str(path), "--json", "--threads",
           str(opts.threads), "--gap", str(opts.gap), "--time-limit", str(opts.time_limit)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    data = json.loads(out) if out.strip() else {"status": "error", "termination": "error"}
    return data, usage.ru_maxrss / 1024, code


def _set_of(kind: str, arg: Any) -> str:
    """The set an instance of a suite belongs to: the OR-Library file's stem (``mknap1``,
    ``mknapcb4``; every GK file is ``gk``) or ``generated-N``."""
    if kind == "orlib":
        parts = Path(arg).parts
        return parts[0] if len(parts) > 1 else Path(arg).stem
    return f"generated-{arg}"


def _instances(suite: str, work: Path, only: str | None = None) -> list[tuple[str, Path]]:
    """The suite's programs, written under ``work``, with their sets; with ``only``, those
    whose set (``mknap2``, ``generated-200``) or bench name (the program's folder:
    ``mknapcb4-07``, ``WEISH12``, ``generated-200``) matches that shell pattern. Raises
    :class:`UsageError` listing the names when none matches."""
    from optimizer.generate import generate, write
    from optimizer.orlib import convert
    from optimizer.shipped import orlib

    every: list[tuple[str, Path]] = []
    for kind, arg in SUITES[suite]:
        set_ = _set_of(kind, arg)
        if kind == "orlib":
            every += [(set_, p) for p in convert(orlib() / arg, work / Path(arg).stem)]
        elif only is None or fnmatch.fnmatchcase(set_, only):  # its set's name is its own
            every.append((set_, write(generate(int(arg), seed=2026), work / set_)))
        else:
            every.append((set_, work / set_ / "program.yaml"))  # named, never written
    if only is None:
        return every
    found = [(s, p) for s, p in every
             if fnmatch.fnmatchcase(s, only) or fnmatch.fnmatchcase(p.parent.name, only)]
    if not found:
        raise UsageError(f"no instance of suite {suite!r} matches {only!r}; --only matches a "
                         f"set or an instance by name: {_names(every)}")
    return found


def _names(instances: list[tuple[str, Path]]) -> str:
    """The sets of ``instances`` with their instances' names: ``mknap1 (mknap1-00 ...
    mknap1-06)``, ``generated-20``."""
    sets: dict[str, list[str]] = {}
    for set_, path in instances:
        sets.setdefault(set_, []).append(path.parent.name)
    out = []
    for set_, names in sets.items():
        if names == [set_]:
            out.append(set_)
        else:
            shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"
            out.append(f"{set_} ({len(names)} instances: {shown})")
    return "; ".join(out)


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a history written by an older version up to :data:`SCHEMA`."""
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(results)")}
    if "instance_set" not in columns:
        db.execute("ALTER TABLE results ADD COLUMN instance_set TEXT")


def run_suite(suite: str, history: Path = DEFAULT_HISTORY, opts: Options = Options(),
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
    from optimizer.generate import generate, write
    from optimizer.results import write_errors
    from optimizer.shipped import programs

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
        for set_name, path in instances:
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
                   set_name)
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


# ------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Regression:
    instance: str
    kind: str  # objective | proof | status | time
    detail: str


def _runs(db: sqlite3.Connection, suite: str | None) -> list[sqlite3.Row]:
    query = "SELECT * FROM runs" + (" WHERE suite = ?" if suite else "") + " ORDER BY id"
    return db.execute(query, (suite,) if suite else ()).fetchall()


def _results(db: sqlite3.Connection, run_id: int) -> dict[str, sqlite3.Row]:
    rows = db.execute("SELECT * FROM results WHERE run_id = ?", (run_id,)).fetchall()
    return {r["instance"]: r for r in rows}


def set_name(row: sqlite3.Row | dict[str, Any]) -> str:
    """The set of a result row: as recorded, or, in a history from before sets were
    recorded, read off the instance's name."""
    keys = row.keys()
    if "instance_set" in keys and row["instance_set"]:
        return str(row["instance_set"])
    name = str(row["instance"])
    m = re.match(r"OR-Library (\S+)", name)
    if m:
        return re.sub(r"-\d+$", "", m.group(1))
    m = re.search(r"synthetic: (\d+) projects", name)
    return f"generated-{m.group(1)}" if m else name


def find_regressions(old_run: sqlite3.Row, new_run: sqlite3.Row,
                     old: dict[str, sqlite3.Row], new: dict[str, sqlite3.Row]
                     ) -> list[Regression]:
    """What got worse from ``old`` to ``new`` (instances present in both)."""
    found = []
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if a["status"] != b["status"]:
            found.append(Regression(name, "status", f"{a['status']} -> {b['status']}"))
        if a["objective"] is not None and (b["objective"] is None or b["objective"] <
                                           a["objective"] - 1e-6 * max(1, abs(a["objective"]))):
            found.append(Regression(name, "objective",
                                    f"{money(a['objective'])} -> {money(b['objective'])}"))
        if a["termination"] == "optimal" and b["termination"] != "optimal":
            found.append(Regression(name, "proof", f"optimal -> {b['termination']}"))
        if a["total"] and b["total"] and old_run["reference_seconds"] and \
                new_run["reference_seconds"]:
            ratio = (b["total"] / new_run["reference_seconds"]) / \
                    (a["total"] / old_run["reference_seconds"])
            if ratio > SLOWER and b["total"] - a["total"] > MIN_SLOWER:
                found.append(Regression(name, "time", f"{a['total']:.2f}s -> {b['total']:.2f}s"
                                        f" ({ratio:.2f}x after the reference solve)"))
    return found


@dataclass(frozen=True)
class SetStats:
    """One set's aggregates in one run."""

    instances: int
    published: int  # instances with a published value
    reached: int  # of those, how many the run reached
    mean_gap: float | None  # mean gap to the published value (a fraction), where known
    total: float  # seconds, file to checked plan, over the set
    total_ratio: float | None  # total / the run's reference solve
    median_ratio: float | None  # median instance time / the run's reference solve

    @property
    def share(self) -> float | None:
        return self.reached / self.published if self.published else None


def set_stats(rows: dict[str, sqlite3.Row], reference_seconds: float | None
              ) -> dict[str, SetStats]:
    """Per-set aggregates of one run's results."""
    groups: dict[str, list[sqlite3.Row]] = {}
    for row in rows.values():
        groups.setdefault(set_name(row), []).append(row)
    out = {}
    ref = reference_seconds if reference_seconds and reference_seconds > 0 else None
    for name, members in groups.items():
        gaps = [max(0.0, r["gap_to_known"]) for r in members if r["gap_to_known"] is not None]
        times = [r["total"] for r in members if r["total"] is not None]
        total = float(sum(times))
        median = statistics.median(times) if times else None
        out[name] = SetStats(
            instances=len(members), published=len(gaps),
            reached=sum(1 for g in gaps if g <= REACHED),
            mean_gap=sum(gaps) / len(gaps) if gaps else None, total=total,
            total_ratio=total / ref if ref and times else None,
            median_ratio=median / ref if ref and median is not None else None)
    return dict(sorted(out.items(), key=lambda kv: natural_order(kv[0])))


def _options_changed(old: sqlite3.Row, new: sqlite3.Row) -> list[str]:
    """The options that differ between two runs, as ``name old -> new``."""
    def parse(text: Any) -> dict[str, Any]:
        try:
            value = json.loads(text or "{}")
        except (TypeError, ValueError):
            return {"options": text}
        return value if isinstance(value, dict) else {"options": value}

    a, b = parse(old["options"]), parse(new["options"])
    return [f"{k} {a.get(k, '-')} -> {b.get(k, '-')}" for k in sorted(a.keys() | b.keys())
            if a.get(k) != b.get(k)]


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _charts(runs: list[sqlite3.Row], stats: list[dict[str, SetStats]], out: Path,
            suite: str) -> list[Path]:
    """gap.png and time.png: per-set aggregates over the runs, with axis labels, units,
    legends and titles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.results import atomic_write, write_errors

    xs = list(range(len(runs)))
    labels = [f"{r['id']}: {r['git_commit']}" for r in runs]
    step = max(1, math.ceil(len(runs) / 20))  # at most 20 labelled ticks
    sets = sorted({name for s in stats for name in s}, key=natural_order)
    cmap = plt.get_cmap("tab20" if len(sets) > 10 else "tab10")
    colours = {name: cmap(k % cmap.N) for k, name in enumerate(sets)}
    markers = "osD^v<>phX*"

    def series(name: str, value: Any) -> list[float]:
        ys = []
        for s in stats:
            v = value(s[name]) if name in s else None
            ys.append(math.nan if v is None else float(v))
        return ys

    def panel(ax: Any, value: Any, ylabel: str, names: list[str], log: bool = False) -> None:
        """One line per set; a log scale (labelled in plain numbers) only where the sets
        lie more than 20x apart, else a linear one from 0."""
        from matplotlib.ticker import FuncFormatter, NullFormatter

        drawn: list[float] = []
        for k, name in enumerate(names):
            ys = series(name, value)
            if all(math.isnan(y) for y in ys):
                continue
            count = max((s[name].instances for s in stats if name in s), default=0)
            ax.plot(xs, ys, marker=markers[k % len(markers)], linewidth=1.4, markersize=5,
                    color=colours[name],
                    label=f"{name} ({count} instance{'s' if count != 1 else ''})")
            drawn += [y for y in ys if not math.isnan(y)]
        if not drawn:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                    color="grey")
        ax.set_ylabel(ylabel)
        positive = [y for y in drawn if y > 0]
        if log and positive and len(positive) == len(drawn) and \
                max(positive) > 20 * min(positive):
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            top = max(drawn, default=0.0)
            ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
        ax.grid(True, alpha=0.3)
        ax.set_xticks(xs[::step], labels[::step], rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))

    def finish(fig: Any, top: Any, path: Path) -> Path:
        """The sets' legend beside the panels (from the top one), then the PNG written."""
        handles, names = top.get_legend_handles_labels()
        if handles:
            fig.legend(handles, names, title="set", loc="center left",
                       bbox_to_anchor=(0.78, 0.5), fontsize=8)
        fig.tight_layout(rect=(0, 0, 0.78 if handles else 1, 1))
        try:
            with write_errors(path):
                return atomic_write(path, _png(fig))
        finally:
            plt.close(fig)

    written = []
    published = [n for n in sets if any(n in s and s[n].published for s in stats)]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    panel(top, lambda s: None if s.mean_gap is None else 100 * s.mean_gap,
          "mean gap to published value (%)", published)
    top.set_title("Mean gap of the plan's return below the published value (0 = reached)",
                  fontsize=10)
    panel(bottom, lambda s: None if s.share is None else 100 * s.share,
          "instances reaching it (%)", published)
    bottom.set_ylim(0, 105)
    bottom.set_title("Share of the set's instances whose plan reaches the published value",
                     fontsize=10)
    bottom.set_xlabel("benchmark run (id: commit)")
    fig.suptitle(f"Suite {suite}: per-set results against the published values, "
                 f"{len(runs)} run{'s' if len(runs) != 1 else ''}")
    written.append(finish(fig, top, out / "gap.png"))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    panel(top, lambda s: s.total_ratio, "total time / reference solve (x)", sets, log=True)
    top.set_title("Time over the whole set, file to checked plan, in multiples of the "
                  "run's reference solve", fontsize=10)
    panel(bottom, lambda s: s.median_ratio, "median time / reference solve (x)", sets,
          log=True)
    bottom.set_title("Median time of one instance, in multiples of the run's reference "
                     "solve", fontsize=10)
    bottom.set_xlabel("benchmark run (id: commit)")
    fig.suptitle(f"Suite {suite}: per-set solve times ({len(runs)} "
                 f"run{'s' if len(runs) != 1 else ''}; reference solve: the pilot and a "
                 "2,000-project program)", fontsize=11)
    written.append(finish(fig, top, out / "time.png"))
    return written


def _num(x: Any, spec: str = ".10g") -> str:
    return "-" if x is None else format(x, spec)


def _pct(x: float | None, spec: str = ".4%") -> str:
    return "-" if x is None else format(x, spec)


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


def report(history: Path = DEFAULT_HISTORY, out: Path = Path("bench-report"),
           suite: str | None = None) -> tuple[int, Path]:
    """Write the Markdown report of the newest run; (exit code, report path)."""
    from optimizer.results import check_output_dir, write_errors

    history, out = Path(history), Path(out)
    db = _open_history(history)
    try:
        check_output_dir(out, "--out")
        runs = _runs(db, suite)
        if not runs:
            if suite:
                raise UsageError(f"--history {history}: no benchmark run recorded for suite "
                                 f"{suite!r}")
            raise _no_history(history)
        newest = runs[-1]
        same = [r for r in runs if r["suite"] == newest["suite"]]
        previous = same[-2] if len(same) > 1 else None
        new = _results(db, newest["id"])
        old = _results(db, previous["id"]) if previous is not None else {}
        regressions = find_regressions(previous, newest, old, new) \
            if previous is not None else []
        stats = [set_stats(_results(db, r["id"]), r["reference_seconds"]) for r in same]
    finally:
        db.close()
    made = [d for d in (out, *out.parents) if not os.path.lexists(d)]  # the folders made
    try:
        with write_errors(out):
            out.mkdir(parents=True, exist_ok=True)
        return _write_report(out, history, newest, previous, same, stats, new, old,
                             regressions)
    except BaseException:  # a failed write: the folders made here go, with what was put
        for folder in made:  # in them (deepest first); nothing that was there before
            for name in ("gap.png", "time.png", "report.md"):
                with contextlib.suppress(OSError):
                    (folder / name).unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _write_report(out: Path, history: Path, newest: sqlite3.Row,
                  previous: sqlite3.Row | None, same: list[sqlite3.Row],
                  stats: list[dict[str, SetStats]], new: dict[str, sqlite3.Row],
                  old: dict[str, sqlite3.Row], regressions: list[Regression]
                  ) -> tuple[int, Path]:
    """report.md and its charts in the folder ``out``; (exit code, report path)."""
    from optimizer.results import atomic_write, write_errors

    charts = _charts(same, stats, out, newest["suite"])
    lines = [f"# Benchmark report: suite {newest['suite']}, run {newest['id']}",
             "",
             f"commit {newest['git_commit']}, {newest['started']}, {newest['machine']}; "
             f"options {newest['options']}; reference solve {newest['reference_seconds']:.2f} s",
             "",
             "Compared with " + (f"run {previous['id']} (commit {previous['git_commit']}, "
                                 f"{previous['started']}; options {previous['options']})"
                                 if previous else "nothing: this is the first run") + "."]
    if previous is not None:
        changed = _options_changed(previous, newest)
        if changed:
            lines += ["", "**Warning: the two runs compared used different options** ("
                      + "; ".join(changed) + "). Differences in time, proof and objective "
                      "may come from the options, not from the code."]
        if previous["machine"] != newest["machine"]:
            lines += ["", f"Note: the two runs ran on different machines "
                          f"({previous['machine']} -> {newest['machine']}); times are "
                          "compared as ratios to each run's reference solve."]
    lines += ["", "## Regressions", ""]
    lines += [f"- **{r.kind}** {r.instance}: {r.detail}" for r in regressions] or ["none"]
    known = [r for r in new.values() if r["gap_to_known"] is not None]
    hit = sum(1 for r in known if r["gap_to_known"] <= REACHED)
    mean = sum(max(0.0, r["gap_to_known"]) for r in known) / len(known) if known else 0
    now, before = stats[-1], (stats[-2] if previous is not None else {})
    lines += ["", "## Against the published values", "",
              f"{hit} of {len(known)} instances with a published value reach it; mean gap "
              f"to it {mean:.4%}.", "",
              "## Per set", "",
              "Times are seconds from file to checked plan, and multiples of the run's "
              f"reference solve ({newest['reference_seconds']:.2f} s); in brackets, the "
              "previous run.", "",
              "| set | instances | with a published value | reaching it | mean gap to it | "
              "total s | total / reference | median / reference |",
              "|---|---|---|---|---|---|---|---|"]

    def was(name: str, value: Any) -> str:
        return f" ({value(before[name])})" if name in before else ""

    for name, s in now.items():
        lines.append(
            f"| {name} | {s.instances} | {s.published} | "
            f"{s.reached if s.published else '-'}{was(name, lambda b: b.reached)} | "
            f"{_pct(s.mean_gap)}{was(name, lambda b: _pct(b.mean_gap))} | "
            f"{s.total:.2f}{was(name, lambda b: f'{b.total:.2f}')} | "
            f"{_num(s.total_ratio, '.3f')}{was(name, lambda b: _num(b.total_ratio, '.3f'))} | "
            f"{_num(s.median_ratio, '.3f')}"
            f"{was(name, lambda b: _num(b.median_ratio, '.3f'))} |")
    lines += ["", f"## Per instance ({len(new)})", "",
              "| instance | set | status | termination | objective | published | gap to it | "
              "bound gap | seconds | previous s | peak MB |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in sorted(new.items(), key=lambda kv: (natural_order(set_name(kv[1])),
                                                       natural_order(kv[0]))):
        g = _pct(r["gap_to_known"])
        bg = "-" if r["gap"] is None else f"{r['gap']:.2e}"
        prev = old.get(name)
        ps = "-" if prev is None or prev["total"] is None else f"{prev['total']:.2f}"
        lines.append(f"| {name} | {set_name(r)} | {r['status']} | {r['termination']} | "
                     f"{money(r['objective'])} | {money(r['known'])} | {g} | {bg} | "
                     f"{(r['total'] or 0):.2f} | {ps} | {(r['peak_mb'] or 0):.0f} |")
    lines += ["", "## Trends over the runs, per set", ""] + \
        [f"![{p.stem}]({p.name})" for p in charts]
    with write_errors(out / "report.md"):
        path = atomic_write(out / "report.md", "\n".join(lines) + "\n")
    return (1 if regressions else 0), path
