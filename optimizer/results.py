"""Results: the immutable answer of a solve, and its renderings (table, JSON, CSV).

Every usage figure in a :class:`Result` comes from the independent checker's
recomputation (:mod:`optimizer.check`), not from the solver's row activities.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.check import CheckReport
from optimizer.instance import Instance

__all__ = ["Result", "Conflict", "EXIT_CODES", "build_result", "atomic_write",
           "check_not_inputs", "check_output", "check_output_dir",
           "current_umask", "write_errors"]

#: Exit code of the command line for each status (docs/format.md, "Exit codes").
EXIT_CODES = {"optimal": 0, "feasible": 0, "infeasible": 3, "no_solution": 4, "invalid": 1}


@dataclass(frozen=True)
class Conflict:
    """A rule that cannot be met, in the program's own terms."""

    rule: str
    key: str
    required: float | None
    achievable: float | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "required": self.required,
                "achievable": self.achievable, "message": self.message}


#: The columns of :meth:`Result.selected`, and of ``--out FILE.csv``.
SELECTED_COLUMNS = ("id", "name", "sector", "units", "capital", "return")
_SELECTED = "\u0000selected\u0000"  # a placeholder no program's text can hold


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _threshold(smallest: Any, tol: Any) -> Any:
    """Slack below which a limit binds: too little room left for one more unit of any
    project that uses it (or, for a floor, to drop one), or none at all."""
    return np.where(np.isfinite(smallest), np.maximum(smallest, tol), tol)


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
        """Funded projects: id, name, sector, units, capital and return (for those units)."""
        p = self.instance.projects
        units = self.units.to_numpy()
        mask = units > 0
        frame = pd.DataFrame(dict(zip(SELECTED_COLUMNS, (
            p["id"].to_numpy()[mask],
            p["name"].to_numpy()[mask],
            p["sector"].to_numpy()[mask],
            units[mask].astype(int),
            (self.instance.total_capital * units)[mask],
            (p["return"].to_numpy() * units)[mask],
        ), strict=True)))
        return frame.reset_index(drop=True)

    def capital_by_year(self) -> pd.DataFrame:
        """Capital disbursed per horizon year ($B) against the year's cap, with slack."""
        inst = self.instance
        return self._yearly(self.check.capital_by_year if self.check else None,
                            inst.budget_per_year, inst.capital_by_year)

    def labor_by_year(self) -> pd.DataFrame:
        """Specialists employed per horizon year against the year's capacity, with slack."""
        inst = self.instance
        return self._yearly(self.check.labor_by_year if self.check else None,
                            inst.labor_capacity, inst.labor_by_year)

    def _yearly(self, usage: pd.Series | None, limit: np.ndarray, coefs: Any) -> pd.DataFrame:
        years = self.instance.years
        used = (usage.reindex(years, fill_value=0.0).to_numpy() if usage is not None
                else np.zeros(len(years)))
        return self._against(pd.Index(years, name="year"), used, limit, coefs)

    def capital_by_sector(self) -> pd.DataFrame:
        """Committed capital per sector ($B) against its floor and ceiling."""
        inst = self.instance
        used = (self.check.capital_by_sector.reindex(list(inst.sectors), fill_value=0.0)
                .to_numpy() if self.check else np.zeros(len(inst.sectors)))
        frame = pd.DataFrame({"used": used, "min": inst.sector_min, "max": inst.sector_max},
                             index=pd.Index(inst.sectors, name="sector"))
        units = self.units.to_numpy()
        smallest_in = np.full(len(inst.sectors), np.inf)
        smallest_out = np.full(len(inst.sectors), np.inf)
        room = (units < inst.max_units) & ~inst.force_out
        removable = (units > 0) & ~(inst.force_in & (units == 1))
        np.minimum.at(smallest_in, inst.sector_index[room], inst.total_capital[room])
        np.minimum.at(smallest_out, inst.sector_index[removable],
                      inst.total_capital[removable])
        tol = 1e-6 * np.maximum(1.0, np.abs(used))
        floor_binds = np.isfinite(frame["min"]) & (frame["min"] > 0) & (
            used - frame["min"].to_numpy() < _threshold(smallest_out, tol))
        ceiling_binds = np.isfinite(frame["max"]) & (
            frame["max"].to_numpy() - used < _threshold(smallest_in, tol))
        frame["binding"] = np.where(floor_binds, "min", np.where(ceiling_binds, "max", ""))
        return frame

    def _against(self, index: pd.Index, used: np.ndarray, limit: np.ndarray,
                 coefs: Any) -> pd.DataFrame:
        units = self.units.to_numpy()
        room = (units < self.instance.max_units) & ~self.instance.force_out
        # the smallest amount one more unit of any project with room would add in each year
        sub = coefs[room] if room.any() else None
        smallest = np.full(len(index), np.inf)
        if sub is not None and sub.nnz:
            sub = sub.tocsc()
            for j in range(sub.shape[1]):
                col = sub.data[sub.indptr[j]:sub.indptr[j + 1]]
                col = col[col > 0]
                if len(col):
                    smallest[j] = col.min()
        slack = limit - used
        tol = 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(limit)))
        binding = np.isfinite(limit) & (slack < _threshold(smallest, tol))
        return pd.DataFrame({"used": used, "limit": limit, "slack": slack, "binding": binding},
                            index=index)

    def binding(self) -> list[str]:
        """Rules the plan presses against: no further unit of any project fits under them
        (or, for a floor, none can be dropped)."""
        out: list[str] = []
        if not self.has_plan or self.check is None:
            return out
        inst = self.instance
        if inst.budget_total is not None:
            units = self.units.to_numpy()
            room = (units < inst.max_units) & ~inst.force_out
            smallest = inst.total_capital[room].min() if room.any() else np.inf
            tol = 1e-6 * max(1.0, inst.budget_total)
            if inst.budget_total - self.check.total_capital < _threshold(smallest, tol):
                out.append("budget.total")
        frame = self.capital_by_year()
        out += [f"budget.per_year[{y}]" for y in frame.index[frame["binding"]]]
        sectors = self.capital_by_sector()
        out += [f"sectors.{s}.{kind}" for s, kind in sectors["binding"].items() if kind]
        frame = self.labor_by_year()
        out += [f"labor.capacity[{y}]" for y in frame.index[frame["binding"]]]
        if inst.hurdle_rate is not None:
            need = inst.hurdle_rate * self.check.total_capital
            if self.check.total_return - need <= 1e-6 * max(1.0, abs(need)):
                out.append("hurdle_rate")
        return out

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
                "violations": [vars(v) for v in self.check.violations] if self.check else [],
            },
            "binding": self.binding(),
            "conflicts": [c.as_dict() for c in self.conflicts],
            "message": self.message,
            "manifest": manifest(digest, self.solver),
        }
        if inst.known_optimum is not None:
            out["known_optimum"] = inst.known_optimum
            if inst.known_optimum_proven is not None:
                out["known_optimum_proven"] = inst.known_optimum_proven
        if inst.warnings:
            out["warnings"] = list(inst.warnings)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON object, indented, with one funded project per line: Python's indenting
        encoder is five times slower than its compact one, and ``selected`` is most of
        the object at scale."""
        data = self.to_dict()
        if indent is None or not data["selected"]:
            return json.dumps(data, indent=indent, allow_nan=False)
        selected, data["selected"] = data["selected"], _SELECTED
        pad = " " * (2 * indent)
        encode = json.JSONEncoder(allow_nan=False).encode  # one encoder: dumps makes one a row
        rows = f",\n{pad}".join(map(encode, selected))
        text = json.dumps(data, indent=indent, allow_nan=False)
        # the first occurrence: "selected" precedes every field that holds program text
        return text.replace(json.dumps(_SELECTED), f"[\n{pad}{rows}\n{' ' * indent}]", 1)

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
            from optimizer.errors import UsageError

            raise UsageError(f"--out {path}: the file must end in .json or .csv")
        return atomic_write(path, text)

    def summary(self) -> str:
        """A readable report: status, objective, the plan and its use of every limit."""
        from optimizer.report import render_summary

        return render_summary(self)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("capital-portfolio-optimizer", "highspy", "pyomo", "numpy", "pandas",
                 "scipy", "pyyaml"):
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


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-mode creation mask, read without changing it where the system
    tells it (Linux's ``/proc/self/status``), else by setting and restoring it under a
    lock (the mask is process-wide: another thread creating a file in that instant would
    get mask 0)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def check_output(path: str | Path, flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Check, before any work starts, that ``path`` can be written: its suffix is one of
    ``suffixes`` (any when empty), it is not a folder, and its folder exists and is a
    writable folder. Raises :class:`~optimizer.errors.UsageError` naming ``flag``, the
    path and the reason."""
    from optimizer.errors import UsageError

    path = Path(path)
    where = f"{flag} {path}"
    if path.is_dir():
        raise UsageError(f"{where}: is a folder; name a file in it")
    if suffixes and path.suffix.lower() not in suffixes:
        names = " or ".join(", ".join(suffixes).rsplit(", ", 1))
        raise UsageError(f"{where}: the file must end in {names}")
    if path.exists() and not path.is_file():
        raise UsageError(f"{where}: exists and is not a regular file")
    folder = path.parent
    if not folder.exists():
        raise UsageError(f"{where}: the folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{where}: {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder {str(folder)!r} is not writable")
    return path


def check_output_dir(path: str | Path, flag: str) -> Path:
    """Check, before any work starts, that the folder ``path`` can be written into: it is a
    writable folder, or it does not exist yet and its nearest existing ancestor is one (it
    will be created). Raises :class:`~optimizer.errors.UsageError` naming ``flag``."""
    from optimizer.errors import UsageError

    path = Path(path)
    where = f"{flag} {path}"
    if path.exists() and not path.is_dir():
        raise UsageError(f"{where}: exists and is not a folder")
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{where}: {str(ancestor)!r} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder {str(ancestor)!r} is not writable")
    return path


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place: the
    file is complete or absent, never half-written. A new file gets the mode any other
    program would give it, ``0o666`` less the process's umask (the temporary file is made
    0600). An existing file keeps its mode, and a symbolic link stays a link: the file it
    points to is the one replaced (the temporary file is made beside that file). Raises
    :class:`OSError` when the write fails (no space, folder gone), leaving no temporary
    file behind."""
    path = Path(path)
    target, mode = path, None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # follows a link to the file it names
    except OSError:  # a new file (or a dangling link: replaced, as before)
        pass
    else:
        target = Path(os.path.realpath(path))
    if mode is None:
        mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        try:
            view = memoryview(data.encode("utf-8") if isinstance(data, str) else data)
            while view:
                view = view[os.write(fd, view):]
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):  # pragma: no cover - Windows before Python 3.13
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:  # name the file, not tmp
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return path


def _same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same file where both exist (links and
    hard links included), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them missing (or a path no system can hold)
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_not_inputs(outputs: Sequence[tuple[str, str | Path | None]], program: str | Path,
                     tables: Sequence[str | Path] = ()) -> None:
    """Refuse an output path that is the program file or one of its ``tables``: writing it
    would replace the run's own input. ``outputs`` are (flag, path or None). Raises
    :class:`~optimizer.errors.UsageError` naming the flag and the input."""
    from optimizer.errors import UsageError
    from optimizer.shipped import resolve

    inputs = [("the program file", resolve(program))] + [("a table of the program", Path(t))
                                                         for t in tables]
    for flag, out in outputs:
        if out is None:
            continue
        for what, path in inputs:
            if _same_file(out, path):
                raise UsageError(f"{flag} {out}: is {what} ({path}); writing there would "
                                 "replace the run's own input: name another file")


@contextlib.contextmanager
def write_errors(path: str | Path) -> Iterator[None]:
    """A failed write inside (no space, permission lost, a folder gone, a database that
    cannot be written) as a :class:`~optimizer.errors.UsageError` naming the file (the
    one the error names, else ``path``) and the reason: the command exits 2."""
    import sqlite3

    from optimizer.errors import UsageError

    try:
        yield
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) else path
        raise UsageError(f"could not write {where}: {exc.strerror or exc}") from None
    except sqlite3.DatabaseError as exc:  # OperationalError too: disk full, read-only
        raise UsageError(f"could not write {path}: {exc}") from None


def build_result(instance: Instance, *, status: str, termination: str,
                 objective: float | None, bound: float | None, gap: float | None,
                 units: np.ndarray | None, check: CheckReport | None,
                 timings: dict[str, float], solver: dict[str, Any],
                 conflicts: tuple[Conflict, ...] = (), message: str = "") -> Result:
    ids = instance.projects["id"].to_numpy()
    values = np.zeros(len(ids), dtype=np.int64) if units is None else units.astype(np.int64)
    series = pd.Series(values, index=pd.Index(ids, name="id"), name="units")
    series.flags.allows_duplicate_labels = False
    return Result(instance, status, termination, objective, bound, gap, series, check,
                  dict(timings), dict(solver), tuple(conflicts), message)
