"""What a sweep returns: a :class:`Point` per grid point (its checked :class:`Result`)
and the :class:`Sweep` of them, with their JSON, their table, their summary and charts."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import UsageError
from optimizer.files import atomic_write
from optimizer.program.instance import Instance
from optimizer.results.result import Result
from optimizer.units import money
from optimizer.whatif.charts import plot_sweep, selection_frequency

__all__ = ["Point", "Sweep"]


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its parameters, its checked :class:`Result`, the seconds it
    took, how it was answered (``reused``: on the chunk's model; ``cold``: a fresh solve;
    ``implied``: a looser point's optimal plan, not re-solved) and, when another point's
    plan replaced its own, that point's position."""

    parameters: dict[str, float]
    result: Result
    seconds: float
    how: str
    shared_from: int | None = None

    @property
    def reused(self) -> bool:
        return self.how != "cold"

    def to_dict(self) -> dict[str, Any]:
        """The point's JSON object: its parameters, then the result's JSON, then how."""
        return {"parameters": self.parameters, **self.result.to_dict(),
                "reused_model": self.reused, "how": self.how,
                "shared_from": self.shared_from}


@dataclass(frozen=True)
class Sweep:
    """The points of a sweep: ``runs`` (a :class:`Point` each, holding its checked
    :class:`Result`), their JSON objects (``points``) and one row per point (``frame``)."""

    instance: Instance = field(repr=False)
    parameters: tuple[str, ...]
    runs: tuple[Point, ...] = field(repr=False)
    seconds: float = 0.0
    workers: int = 1
    chunk_size: int = 1
    complete: bool = True  # False when Ctrl-C or SIGTERM stopped it: ``runs`` are those run
    grid_size: int = 0

    @property
    def results(self) -> list[Result]:
        """Every point's checked result, in grid order."""
        return [run.result for run in self.runs]

    @cached_property
    def points(self) -> list[dict[str, Any]]:
        """Every point's JSON object (its parameters, the result's JSON, how it ran)."""
        return [run.to_dict() for run in self.runs]

    @cached_property
    def frame(self) -> pd.DataFrame:
        """One row per point: parameters, status, termination, objective, bound, gap,
        valid, committed capital, the chosen set, capital by sector, seconds and how."""
        return _frame(self.instance, self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {"program": self.instance.name, "parameters": list(self.parameters),
                "points": self.points, "complete": self.complete,
                "grid_size": self.grid_size, "seconds": round(self.seconds, 6),
                "workers": self.workers, "chunk_size": self.chunk_size}

    def to_json(self, indent: int | None = 2) -> str:
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
        path = Path(path)
        if path.suffix.lower() == ".json":
            return atomic_write(path, self.to_json() + "\n")
        if path.suffix.lower() == ".csv":
            return atomic_write(path, self.table().to_csv(index=False, lineterminator="\n"))
        raise UsageError(f"--out {path}: the file must end in .json or .csv")

    def summary(self) -> str:
        """One line per point: parameters, status, return, bound, gap, projects funded."""
        lines = [f"{self.instance.name}: {len(self.runs)} points in {self.seconds:.2f} s "
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
        return selection_frequency(self)

    def plot(self, path: str | Path) -> Path:
        return plot_sweep(self, path)


def _frame(instance: Instance, runs: Sequence[Point]) -> pd.DataFrame:
    rows = []
    for run in runs:
        res = run.result
        plan = res.has_plan and res.check is not None
        row: dict[str, Any] = dict(run.parameters)
        row.update(status=res.status, termination=res.termination,
                   objective=_num(res.objective), bound=_num(res.bound), gap=_num(res.gap))
        row["valid"] = res.valid
        row["committed"] = res.check.total_capital if plan and res.check else None
        funded = res.units[res.units > 0] if plan else res.units[:0]
        ids = funded.index.to_numpy().astype(str).tolist()
        row["selected"] = tuple(ids)
        row["units"] = dict(zip(ids, funded.to_numpy().tolist(), strict=True))
        by_sector = res.capital_by_sector()["used"] if plan else None
        for sector in instance.sectors:
            row[f"capital.{sector}"] = float(by_sector.get(sector, 0.0)) \
                if by_sector is not None else None
        row["seconds"] = run.seconds
        row["how"] = run.how
        row["shared_from"] = run.shared_from
        rows.append(row)
    return pd.DataFrame(rows)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)
