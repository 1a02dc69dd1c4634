"""``optimizer bench report``: the newest run against the one before it and the published
values, as report.md with its charts; exit 1 when something regressed."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from optimizer.bench.charts import _charts
from optimizer.bench.compare import (
    REACHED,
    Regression,
    SetStats,
    find_regressions,
    set_name,
    set_stats,
)
from optimizer.bench.history import DEFAULT_HISTORY, _no_history, _open_history, _results, _runs
from optimizer.errors import UsageError
from optimizer.program.shipped import natural_order
from optimizer.units import money


def report(history: Path = DEFAULT_HISTORY, out: Path = Path("bench-report"),
           suite: str | None = None) -> tuple[int, Path]:
    """Write the Markdown report of the newest run; (exit code, report path)."""
    from optimizer.results.result import check_output_dir, write_errors

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
    from optimizer.results.result import atomic_write, write_errors

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


def _num(x: Any, spec: str = ".10g") -> str:
    return "-" if x is None else format(x, spec)


def _pct(x: float | None, spec: str = ".4%") -> str:
    return "-" if x is None else format(x, spec)
