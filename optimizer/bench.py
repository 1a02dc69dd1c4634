"""Benchmark suites, their history and the regression report.

``optimizer bench SUITE`` solves every instance of a suite, each in a fresh process
(``optimizer solve --json``) so that its peak memory is its own, and appends one run to a
history store (SQLite). Every run starts with a reference solve (the pilot program and a
generated 2,000-project program): times are compared as ratios to it, which absorbs most
of a shared machine's noise. ``optimizer bench report`` compares the newest run with the
one before it and with the published values, writes a Markdown report with trend charts,
and exits 1 when something regressed.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORLIB = ROOT / "instances" / "orlib"
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT, suite TEXT, git_commit TEXT, machine TEXT,
    options TEXT, reference_seconds REAL);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER REFERENCES runs(id), instance TEXT, sha256 TEXT, status TEXT,
    termination TEXT, objective REAL, bound REAL, gap REAL, known REAL, known_proven INTEGER,
    gap_to_known REAL, load REAL, build REAL, solve REAL, total REAL, peak_mb REAL,
    solver_version TEXT, exit_code INTEGER);
"""


@dataclass(frozen=True)
class Options:
    time_limit: float = 60.0
    threads: int = 1
    gap: float = 1e-4


def _git_commit() -> str:
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


def _instances(suite: str, work: Path, only: str | None = None) -> list[Path]:
    """The suite's programs, written under ``work``; with ``only``, those whose directory
    name matches that shell pattern (``mknapcb4-*``, ``generated-*``)."""
    from optimizer.generate import generate, write
    from optimizer.orlib import convert

    paths: list[Path] = []
    for kind, arg in SUITES[suite]:
        if kind == "orlib":
            stem = Path(arg).stem
            if only is not None and not fnmatch.filter(
                    [f"{stem}-{i:02d}" for i in range(1000)], only):
                continue
            paths += convert(ORLIB / arg, work / stem)
        elif only is None or fnmatch.fnmatch(f"generated-{arg}", only):
            paths.append(write(generate(int(arg), seed=2026), work / f"generated-{arg}"))
    if only is not None:
        paths = [p for p in paths if fnmatch.fnmatch(p.parent.name, only)]
    return paths


def run_suite(suite: str, history: Path = DEFAULT_HISTORY, opts: Options = Options(),
              echo: bool = True, only: str | None = None) -> int:
    """Solve every instance of ``suite`` (or those matching ``only``) and append the run to
    ``history``; the run's id."""
    from optimizer.generate import generate, write

    if suite not in SUITES:
        from optimizer.errors import UsageError

        raise UsageError(f"unknown suite {suite!r}; choose from {', '.join(SUITES)}")
    work = Path(tempfile.mkdtemp(prefix=f"bench-{suite}-"))
    instances = _instances(suite, work, only)
    if not instances:
        from optimizer.errors import UsageError

        raise UsageError(f"no instance of suite {suite!r} matches {only!r}")
    reference = [ROOT / "instances" / "pilot" / "program.yaml",
                 write(generate(2000, seed=7), work / "reference-2000")]
    t = time.perf_counter()
    for path in reference:
        _solve(path, Options(time_limit=120, threads=1, gap=1e-4))
    reference_seconds = time.perf_counter() - t
    db = sqlite3.connect(history)
    db.executescript(SCHEMA)
    cur = db.execute("INSERT INTO runs (started, suite, git_commit, machine, options, "
                     "reference_seconds) VALUES (?, ?, ?, ?, ?, ?)",
                     (time.strftime("%Y-%m-%dT%H:%M:%S"),
                      suite if only is None else f"{suite}[{only}]", _git_commit(), _machine(),
                      json.dumps(vars(opts)), reference_seconds))
    run_id = int(cur.lastrowid or 0)
    for path in instances:
        data, peak, code = _solve(path, opts)
        inst = data.get("instance", {})
        known = data.get("known_optimum")
        objective = data.get("objective")
        gap_known = (None if known in (None, 0) or objective is None
                     else (known - objective) / abs(known))
        timings = data.get("timings", {})
        row = (run_id, inst.get("name", path.parent.name), inst.get("sha256"), data["status"],
               data["termination"], objective, data.get("bound"), data.get("gap"), known,
               data.get("known_optimum_proven"), gap_known, timings.get("load"),
               timings.get("build"), timings.get("solve"), timings.get("total"), peak,
               data.get("solver", {}).get("version"), code)
        db.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?)", row)
        db.commit()
        if echo:
            shown = "-" if gap_known is None else f"{gap_known:.4%}"
            print(f"{row[1][:48]:<48} {data['status']:<11} {data['termination']:<11} "
                  f"objective {objective} gap-to-known {shown} {timings.get('total', 0):.2f}s "
                  f"{peak:.0f}MB", flush=True)
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
            found.append(Regression(name, "objective", f"{a['objective']} -> {b['objective']}"))
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


def _charts(db: sqlite3.Connection, runs: list[sqlite3.Row], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = [r["id"] for r in runs]
    labels = [f"{r['id']}:{r['git_commit']}" for r in runs]
    by_instance: dict[str, dict[int, sqlite3.Row]] = {}
    for run_id in ids:
        for name, row in _results(db, run_id).items():
            by_instance.setdefault(name, {})[run_id] = row
    written = []
    for column, title, fname in (("gap_to_known", "gap to the published value", "gap.png"),
                                 ("total", "seconds, file to checked plan", "time.png")):
        fig, ax = plt.subplots(figsize=(9, 4.5))
        for name, rows in sorted(by_instance.items())[:40]:
            ys = [rows[i][column] if i in rows else math.nan for i in ids]
            ax.plot(range(len(ids)), [math.nan if y is None else y for y in ys], marker="o",
                    linewidth=1, markersize=3, label=name[:30])
        ax.set_xticks(range(len(ids)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_title(title)
        ax.set_xlabel("run:commit")
        fig.tight_layout()
        path = out / fname
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def report(history: Path = DEFAULT_HISTORY, out: Path = Path("bench-report"),
           suite: str | None = None) -> tuple[int, Path]:
    """Write the Markdown report of the newest run; (exit code, report path)."""
    db = sqlite3.connect(history)
    db.row_factory = sqlite3.Row
    runs = _runs(db, suite)
    if not runs:
        from optimizer.errors import UsageError

        raise UsageError(f"{history}: no benchmark run recorded" +
                         (f" for suite {suite!r}" if suite else ""))
    newest = runs[-1]
    same = [r for r in runs if r["suite"] == newest["suite"]]
    previous = same[-2] if len(same) > 1 else None
    new = _results(db, newest["id"])
    regressions = find_regressions(previous, newest, _results(db, previous["id"]), new) \
        if previous is not None else []
    out.mkdir(parents=True, exist_ok=True)
    charts = _charts(db, same, out)
    lines = [f"# Benchmark report: suite {newest['suite']}, run {newest['id']}",
             "",
             f"commit {newest['git_commit']}, {newest['started']}, {newest['machine']}; "
             f"options {newest['options']}; reference solve {newest['reference_seconds']:.2f} s",
             "",
             "Compared with " + (f"run {previous['id']} (commit {previous['git_commit']})"
                                 if previous else "nothing: this is the first run") + ".",
             "", "## Regressions", ""]
    lines += [f"- **{r.kind}** {r.instance}: {r.detail}" for r in regressions] or ["none"]
    reached = [r for r in new.values() if r["gap_to_known"] is not None]
    hit = sum(1 for r in reached if r["gap_to_known"] <= 1e-9)
    mean = sum(max(0.0, r["gap_to_known"]) for r in reached) / len(reached) if reached else 0
    lines += ["", "## Against the published values", "",
              f"{hit} of {len(reached)} instances with a published value reach it; mean gap "
              f"to it {mean:.4%}.", "",
              "| instance | status | termination | objective | published | gap to it | "
              "bound gap | seconds | peak MB |", "|---|---|---|---|---|---|---|---|---|"]
    for name, r in sorted(new.items()):
        g = "-" if r["gap_to_known"] is None else f"{r['gap_to_known']:.4%}"
        bg = "-" if r["gap"] is None else f"{r['gap']:.2e}"
        lines.append(f"| {name} | {r['status']} | {r['termination']} | {r['objective']} | "
                     f"{r['known'] if r['known'] is not None else '-'} | {g} | {bg} | "
                     f"{(r['total'] or 0):.2f} | {(r['peak_mb'] or 0):.0f} |")
    lines += ["", "## Trends", ""] + [f"![{p.stem}]({p.name})" for p in charts]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db.close()
    return (1 if regressions else 0), path
