"""Results: the immutable answer of a solve, and its renderings (table, JSON, CSV).

Every usage figure in a :class:`Result` comes from the independent checker's
recomputation (:mod:`optimizer.check`), not from the solver's row activities.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from formulations import registry
from formulations.family import Conflict, RuleRef
from optimizer.check import CheckReport
from optimizer.errors import UsageError
from optimizer.program.instance import Instance
from optimizer.results.economics import version_2_parts
from optimizer.results.outputs import (  # noqa: F401  (re-exported: the result's writers)
    atomic_write,
    check_not_inputs,
    check_output,
    check_output_dir,
    current_umask,
    write_errors,
)
from optimizer.results.report import render_summary

__all__ = ["Result", "Conflict", "EXIT_CODES", "build_result", "atomic_write",
           "check_not_inputs", "check_output", "check_output_dir",
           "current_umask", "write_errors"]

#: Exit code of the command line for each status (docs/format.md, "Exit codes").
EXIT_CODES = {"optimal": 0, "feasible": 0, "infeasible": 3, "no_solution": 4, "invalid": 1}


#: The columns of :meth:`Result.selected`, and of ``--out FILE.csv``.
SELECTED_COLUMNS = ("id", "name", "sector", "units", "capital", "return")
#: the lists of the JSON written one entry per line (by their keys from the top)
_LONG_LISTS = (("selected",), ("excluded",), ("economics", "projects"))


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True, eq=False)
class Result:
    """The answer to one solve. Never changes after it is returned.

    ``status`` is what was found (optimal, feasible, infeasible, no_solution, or invalid
    when the checker rejected the solver's plan); ``termination`` why the solver stopped.
    ``objective`` is the plan's total return in $B (recomputed by the checker), ``bound``
    the solver's best bound on it, ``gap`` their relative difference.
    """

    instance: Instance = field(repr=False)
    status: str
    termination: str
    objective: float | None
    bound: float | None
    gap: float | None
    units: pd.Series = field(repr=False)  # project id -> units funded (all projects)
    check: CheckReport | None = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()
    message: str = ""
    #: the plan's decisions besides the units, by name (continuous or auxiliary columns
    #: of the model, variables added to its Pyomo form as ``pyomo``): a Series each
    decisions: Mapping[str, pd.Series] = field(default_factory=dict, repr=False)
    #: units per option (project and start year, :attr:`Instance.options` order): the
    #: plan's start years; the units per project where each has one start
    starts: np.ndarray | None = field(default=None, repr=False)

    # --------------------------------------------------------------- verdicts
    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def valid(self) -> bool:
        """True when there is a plan and the independent checker found no broken rule."""
        return self.has_plan and self.check is not None and self.check.valid

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 1)

    # ----------------------------------------------------------------- tables
    def selected(self) -> pd.DataFrame:
        """Funded projects: id, name, sector, units, capital and return (for those units);
        in version 2 also their start years (``starts``: "2027:2 2028:1") and, with
        cash flows, their NPV to Japan."""
        p = self.instance.projects
        units = self.units.to_numpy()
        mask = units > 0
        usage = self.check.usage if self.check is not None else None
        capital = (usage.capital_by_project.reindex(p["id"].to_numpy()[mask], fill_value=0.0)
                   .to_numpy() if usage is not None else
                   (self.instance.total_capital * units)[mask])
        frame = pd.DataFrame(dict(zip(SELECTED_COLUMNS, (
            p["id"].to_numpy()[mask],
            p["name"].to_numpy()[mask],
            p["sector"].to_numpy()[mask],
            units[mask].astype(int),
            capital,
            (p["return"].to_numpy() * units)[mask],
        ), strict=True)))
        if self.instance.version >= 2:
            starts = self.start_years()
            frame["starts"] = [" ".join(f"{y}:{n}" for y, n in starts.get(pid, {}).items())
                               for pid in frame["id"]]
            if usage is not None and len(usage.economics):
                npv = usage.economics.groupby("project")["npv"].sum()
                frame["npv"] = npv.reindex(frame["id"], fill_value=0.0).to_numpy()
        return frame.reset_index(drop=True)

    def starts_by_year(self) -> dict[str, dict[int, int]]:
        """{project id: {start year: units}} of the funded projects, as
        :func:`~optimizer.check.check_plan` takes a plan's starts."""
        return {pid: {int(y): n for y, n in years.items()}
                for pid, years in self.start_years().items()}

    def start_years(self) -> dict[str, dict[str, int]]:
        """{project id: {start year (text): units started}} of the funded projects."""
        usage = self.check.usage if self.check is not None else None
        if usage is None or usage.starts is None:
            return {}
        out: dict[str, dict[str, int]] = {}
        for pid, start, n in usage.starts[["project", "start", "units"]].itertuples(
                index=False):
            out.setdefault(str(pid), {})[str(int(start))] = int(n)
        return out

    def capital_by_year(self) -> pd.DataFrame:
        """Capital disbursed per horizon year ($B) against the year's cap, with slack."""
        return self.table("budget")

    def labor_by_year(self) -> pd.DataFrame:
        """Specialists employed per horizon year against the year's capacity, with slack."""
        return self.table("labor")

    def capital_by_sector(self) -> pd.DataFrame:
        """Committed capital per sector ($B) against its floor and ceiling."""
        return self.table("sectors")

    def table(self, family: str) -> pd.DataFrame:
        """The report table of rule family ``family`` (its limits against the plan)."""
        return registry.family(family).table(self)  # type: ignore[attr-defined]

    def binding_rules(self) -> list[RuleRef]:
        """Rules the plan presses against: no further unit of any project fits under them
        (or, for a floor, none can be dropped), family by family."""
        if not self.has_plan or self.check is None:
            return []
        return [ref for family in registry.FAMILIES for ref in family.binding(self)]

    def binding(self) -> list[str]:
        """:meth:`binding_rules` as the results name them (``budget.per_year[2027]``)."""
        return [label(ref) for ref in self.binding_rules()]

    # -------------------------------------------------------------- rendering
    def to_dict(self) -> dict[str, Any]:
        """The JSON object of docs/format.md ("The result"), with extra fields after it."""
        inst = self.instance
        digest = inst.digest()
        plan = self.has_plan and self.check is not None
        years = [str(int(y)) for y in inst.years]
        if plan:
            assert self.check is not None
            capital = {
                "total": self.check.total_capital,
                "by_year": dict(zip(years, self.capital_by_year()["used"].tolist(), strict=True)),
                "by_sector": {s: float(v) for s, v in self.capital_by_sector()["used"].items()},
            }
            labor = {"by_year": dict(zip(years, self.labor_by_year()["used"].tolist(),
                                         strict=True))}
            units = self.units.to_numpy()
            funded = units > 0
            selected = [{"id": pid, "units": u} for pid, u in
                        zip(self.units.index.to_numpy()[funded].astype(str).tolist(),
                            units[funded].tolist(), strict=True)]
            if inst.version >= 2:
                starts = self.start_years()
                for entry in selected:
                    entry["starts"] = starts.get(entry["id"], {})
        else:
            capital = {"total": None, "by_year": {}, "by_sector": {}}
            labor = {"by_year": {}}
            selected = []
        out: dict[str, Any] = {
            "status": self.status,
            "termination": self.termination,
            "objective": _num(self.objective),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "selected": selected,
            "capital": capital,
            "labor": labor,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "solver": self.solver,
            "instance": {"name": inst.name, "source": inst.source, "sha256": digest,
                         "projects": inst.n_projects},
            "check": {
                "valid": self.valid,
                "violations": [v.as_dict() for v in self.check.violations]
                if self.check else [],
            },
            "binding": self.binding(),
            "conflicts": [c.as_dict() for c in self.conflicts],
            "message": self.message,
            "manifest": manifest(digest, self.solver),
        }
        if inst.version >= 2:
            out.update(version_2_parts(self, plan))
        if self.decisions and plan:
            out["decisions"] = {name: {str(k): float(v) for k, v in values.items()}
                                for name, values in self.decisions.items()}
        if self.check is not None and self.check.unchecked:
            out["check"]["unchecked"] = list(self.check.unchecked)
        if inst.known_optimum is not None:
            out["known_optimum"] = inst.known_optimum
            if inst.known_optimum_proven is not None:
                out["known_optimum_proven"] = inst.known_optimum_proven
        if inst.warnings:
            out["warnings"] = list(inst.warnings)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON object, indented, with one entry per line in its long lists (the
        funded projects, version 2's ruled-out starts and funded starts' economics):
        Python's indenting encoder is five times slower than its compact one, and those
        lists are most of the object at scale."""
        data = self.to_dict()
        if indent is None:
            return json.dumps(data, indent=indent, allow_nan=False)
        encode = json.JSONEncoder(allow_nan=False).encode  # one encoder: dumps makes one a row
        long: list[tuple[str, list, int]] = []
        for path in _LONG_LISTS:
            holder: Any = data
            for key in path[:-1]:
                holder = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(holder, dict) and holder.get(path[-1]):
                mark = f"\u0000{'.'.join(path)}\u0000"  # no program's text holds a NUL
                long.append((mark, holder[path[-1]], len(path)))
                holder[path[-1]] = mark
        text = json.dumps(data, indent=indent, allow_nan=False)
        for mark, rows, depth in long:
            pad = " " * ((depth + 1) * indent)
            body = f",\n{pad}".join(map(encode, rows))
            text = text.replace(json.dumps(mark), f"[\n{pad}{body}\n{' ' * (depth * indent)}]",
                                1)
        return text

    def write(self, path: str | Path) -> Path:
        """Write the result as JSON (``.json``) or the funded projects as CSV (``.csv``).

        The file is written to a temporary name beside it and renamed into place, so it is
        complete or absent, never half-written.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            text = self.to_json() + "\n"
        elif suffix == ".csv":
            text = self.selected().to_csv(index=False, lineterminator="\n")
        else:
            raise UsageError(f"--out {path}: the file must end in .json or .csv")
        return atomic_write(path, text)

    def plot(self, directory: str | Path) -> list[Path]:
        """Write the plan's charts as PNGs into ``directory`` (capital by year stacked by
        sector against the caps, labor against capacity, and with cash flows Japan's
        cumulative position with its recovery year): the paths written, [] without a
        plan (:func:`optimizer.results.plots.plot_result`)."""
        from optimizer.results.plots import plot_result

        return plot_result(self, directory)

    def summary(self) -> str:
        """A readable report: status, objective, the plan and its use of every limit."""
        return render_summary(self)


def label(ref: RuleRef) -> str:
    """A rule as the results name a binding limit: its family's words, or the rule's own
    name for a row no family owns (one added to the Pyomo form)."""
    rule = registry.rule(ref.rule)
    return rule.binding_label(ref.key) if rule is not None else str(ref)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("capital-portfolio-optimizer", "highspy", "pyomo", "numpy", "pandas",
                 "scipy", "pyyaml", "numba"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


_VERSIONS: dict[str, str] = {}


def manifest(sha256: str, solver: dict[str, Any]) -> dict[str, Any]:
    """What produced a result: the program's hash, the solver and its options (seed
    included), the versions of Python and every library in the chain, and the machine.
    Two runs with equal manifests and one thread give the same plan."""
    if not _VERSIONS:
        _VERSIONS.update(_versions())
    return {"instance_sha256": sha256, "solver": solver.get("name"),
            "solver_version": solver.get("version"), "options": solver.get("options", {}),
            "seed": solver.get("seed"), "threads": solver.get("threads"),
            "versions": dict(_VERSIONS),
            "machine": {"system": platform.system(), "release": platform.release(),
                        "machine": platform.machine(), "cpus": os.cpu_count()}}


def build_result(instance: Instance, *, status: str, termination: str,
                 objective: float | None, bound: float | None, gap: float | None,
                 units: np.ndarray | None, check: CheckReport | None,
                 timings: dict[str, float], solver: dict[str, Any],
                 conflicts: tuple[Conflict, ...] = (), message: str = "",
                 decisions: Mapping[str, pd.Series] | None = None,
                 starts: np.ndarray | None = None) -> Result:
    """The one constructor of a :class:`Result`: every solve, sweep point and adopted
    plan is assembled here."""
    ids = instance.projects["id"].to_numpy()
    values = np.zeros(len(ids), dtype=np.int64) if units is None else units.astype(np.int64)
    series = pd.Series(values, index=pd.Index(ids, name="id"), name="units")
    series.flags.allows_duplicate_labels = False
    if starts is None and units is not None and instance.options is not None \
            and instance.options.identity:
        starts = values
    return Result(instance, status, termination, objective, bound, gap, series, check,
                  dict(timings), dict(solver), tuple(conflicts), message,
                  dict(decisions or {}), None if starts is None else np.asarray(starts))
