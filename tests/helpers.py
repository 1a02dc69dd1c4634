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


def solve_checked(path_or_instance: Any, options: SolveOptions = EXACT) -> Result:
    """Solve, then re-check the plan with the independent checker (never trust the solver)."""
    instance = load(path_or_instance) if not hasattr(path_or_instance, "projects") else \
        path_or_instance
    result = solve(instance, options)
    if result.has_plan:
        report = check_plan(instance, result.units)
        assert report.valid, report.violations
        assert result.valid
        assert abs(report.total_return - result.objective) <= 1e-6 * max(1, abs(result.objective))
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
