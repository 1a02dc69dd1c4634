"""Shared helpers for the tests: writing small programs and solving them checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from optimizer import Result, SolveOptions, check_plan, load, solve

EXACT = SolveOptions(gap=0.0, threads=1, seed=0)
#: The checkout's root folder.
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``optimizer ARGS`` in a fresh process, from the checkout's root."""
    return subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def program(projects: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A program mapping with sensible defaults: horizon 2026-2030, one sector per name used."""
    sectors = fields.pop("sectors", None)
    if sectors is None:
        sectors = {p.get("sector", "energy"): None for p in projects}
    doc = {"format": "capital-portfolio/1", "name": fields.pop("name", "test"),
           "horizon": fields.pop("horizon", [2026, 2030]), "sectors": sectors}
    doc.update(fields)
    doc["projects"] = [{"sector": "energy", "start": 2026, **p} for p in projects]
    return doc


def write(tmp_path: Path, doc: dict[str, Any], csv: bool = False, name: str = "program.yaml",
          profiles: list[dict[str, Any]] | None = None) -> Path:
    """Write a program (projects inline, or as projects.csv when ``csv``) and return its path."""
    doc = dict(doc)
    if csv:
        pd.DataFrame(doc["projects"]).to_csv(tmp_path / "projects.csv", index=False)
        doc["projects"] = "projects.csv"
    if profiles is not None:
        pd.DataFrame(profiles).to_csv(tmp_path / "profiles.csv", index=False)
        doc["profiles"] = "profiles.csv"
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def plan_return(instance: Any, units: Any) -> float:
    """The total return of a plan, worked out here from the program's own table: the sum,
    over the funded projects, of units x the project's ``return`` column (no optimizer
    code: neither the checker nor the model)."""
    table = instance.projects
    per_unit = dict(zip(table["id"].astype(str), table["return"].astype(float), strict=True))
    funded = {str(pid): float(u) for pid, u in dict(units).items() if float(u) > 0}
    unknown = sorted(set(funded) - set(per_unit))
    assert not unknown, f"the plan funds projects the program does not have: {unknown}"
    return sum(u * per_unit[pid] for pid, u in funded.items())


def _close(a: float, b: float) -> bool:
    """``a`` and ``b`` agree to 1e-6, relative (absolute below 1)."""
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def solve_checked(path_or_instance: Any, options: SolveOptions = EXACT) -> Result:
    """Solve, then re-check the plan (never trust the solver): the independent checker
    must pass it, and its total return, recomputed here from the program's table, must
    be both the result's objective and the objective HiGHS itself reported
    (``result.solver["objective"]``, where the result carries it). ``solve`` sets the
    result's objective from the checker, so comparing the two of them alone would prove
    nothing."""
    instance = load(path_or_instance) if not hasattr(path_or_instance, "projects") else \
        path_or_instance
    result = solve(instance, options)
    if result.has_plan:
        report = check_plan(instance, result.units, starts=result.starts_by_year())
        assert report.valid, report.violations
        assert result.valid
        if instance.params.get("objective") == "npv":  # the checker's own waterfall
            assert _close(report.objective, result.objective), (report.objective,
                                                                 result.objective)
            highs = (result.solver or {}).get("objective")
            assert highs is None or _close(report.objective, float(highs))
            return result
        total = plan_return(instance, result.units)
        assert result.objective is not None and _close(total, result.objective), \
            (total, result.objective)
        highs = (result.solver or {}).get("objective")
        if highs is not None:
            assert _close(total, float(highs)), (total, highs)
    return result


def small(tmp_path: Path) -> Path:
    """A program solved in a moment: three projects under a budget of 10 (B and C, return
    8, beat A, return 6)."""
    doc = program([{"id": "A", "capital": 6, "return": 6}, {"id": "B", "capital": 5, "return": 4},
                   {"id": "C", "capital": 5, "return": 4}], budget={"total": 10})
    return write(tmp_path, doc)


def chosen(result: Result) -> dict[str, int]:
    return {pid: int(u) for pid, u in result.units.items() if u > 0}


def error_object(out: str | bytes, code: int = 2) -> dict[str, Any]:
    """The standard output of a ``--json`` run that ended without a result: exactly one
    JSON object, status ``error``, with the run's exit code (an empty output fails)."""
    text = out.decode("utf-8") if isinstance(out, bytes) else out
    data, end = json.JSONDecoder().raw_decode(text)
    assert text[end:].strip() == "", f"more than one JSON object: {text[:300]}"
    assert data["status"] == "error" and data["exit_code"] == code, data
    return data


def patch_atomic_write(monkeypatch: Any, fake: Any) -> None:
    """Replace :func:`optimizer.files.atomic_write` with ``fake`` everywhere a module of
    the package holds it (each writer imports it by name), for the rest of the test."""
    import optimizer.files

    real = optimizer.files.atomic_write
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "optimizer" and getattr(module, "atomic_write", None) is real:
            monkeypatch.setattr(module, "atomic_write", fake)
