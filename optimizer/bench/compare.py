"""What the report compares: the set of a result row, per-set aggregates of a run
(:class:`SetStats`), and what got worse from one run to the next (:class:`Regression`)."""

from __future__ import annotations

import re
import sqlite3
import statistics
from dataclasses import dataclass
from typing import Any

from optimizer.program.shipped import natural_order
from optimizer.units import money

#: A run is slower than the one before when its time, as a ratio to the run's reference
#: solve, grows by more than this factor (and by more than MIN_SLOWER seconds).
SLOWER = 1.5
MIN_SLOWER = 0.5
#: A solve reaches the published value when it is at most this far below it (relative).
REACHED = 1e-9


@dataclass(frozen=True)
class Regression:
    instance: str
    kind: str  # objective | proof | status | time
    detail: str


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
