"""Trust: hostile documents, size limits, and reproducible runs with a manifest."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import error_object, program, write

from optimizer import load
from optimizer.errors import InstanceError
from optimizer.program import loading

ROOT = Path(__file__).resolve().parents[1]


def _bomb(levels: int = 9) -> str:
    lines = ['format: capital-portfolio/1', 'name: bomb', 'horizon: [2026, 2030]',
             'sectors: {energy: null}', 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol",'
             '"lol","lol","lol"]']
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 10)}]")
    lines.append(f"projects: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())  # 10**9 values once expanded
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(path), "--json"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert time.monotonic() - started < 60
    assert proc.returncode == 2 and error_object(proc.stdout)
    assert "YAML aliases" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_harmless_aliases_still_load(tmp_path):
    doc = program([{"id": "A", "capital": 2, "return": 1}, {"id": "B", "capital": 3,
                                                            "return": 2}])
    path = write(tmp_path, doc)
    text = path.read_text().replace("sectors:\n  energy: null",
                                    "x_limits: &floor {min: 1}\nsectors:\n  energy: *floor")
    path.write_text(text)
    instance = load(path)
    assert instance.sector_min[instance.sectors.index("energy")] == 1


def test_oversized_files_are_refused(tmp_path, monkeypatch):
    doc = program([{"id": "A", "capital": 2, "return": 1}])
    path = write(tmp_path, doc, csv=True)
    monkeypatch.setattr(loading, "MAX_TABLE_BYTES", 10)
    with pytest.raises(InstanceError) as err:
        load(path)
    assert "projects.csv" in str(err.value) and "a table may be at most 10" in str(err.value)
    monkeypatch.setattr(loading, "MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(InstanceError) as err:
        load(path)
    assert "a program file may be at most 10" in str(err.value)


@pytest.mark.solver
@pytest.mark.slow
def test_two_single_thread_runs_agree_and_carry_a_manifest(tmp_path):
    from optimizer.program.generate import generate
    from optimizer.program.generate import write as write_program

    path = write_program(generate(1500, seed=11), tmp_path / "p")
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                               "--threads", "1", "--seed", "3"], capture_output=True,
                              text=True, timeout=600, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout))
    for run in runs:
        run.pop("timings")
    assert runs[0] == runs[1]
    manifest = runs[0]["manifest"]
    assert manifest["instance_sha256"] == runs[0]["instance"]["sha256"]
    assert manifest["seed"] == 3 and manifest["threads"] == 1
    assert manifest["options"]["random_seed"] == 3
    assert {"python", "highspy", "pyomo", "numpy", "pandas"} <= set(manifest["versions"])
    assert manifest["machine"]["cpus"] >= 1


@pytest.mark.solver
@pytest.mark.parametrize("case, rules", [
    # a sector floor above the whole budget (enough energy projects, too little money)
    ({"budget": {"total": 50}, "sectors": {"energy": {"min": 80}}, "projects": [
        {"id": "E1", "capital": 30, "return": 3}, {"id": "E2", "capital": 40, "return": 5},
        {"id": "E3", "capital": 50, "return": 4}]},
     {("sectors.min", "energy"), ("budget.total", "total")}),
    # forced projects needing more specialists than a year has
    ({"labor": {"capacity": {2027: 50000}}, "projects": [
        {"id": "P03", "capital": 30, "return": 3, "start": 2027, "labor": 40000,
         "force": "in"},
        {"id": "P09", "capital": 40, "return": 5, "start": 2027, "labor": 45000,
         "force": "in"}]},
     {("labor.capacity", "2027")}),
    # a hurdle above what any plan reaches, with a floor that needs some plan
    ({"hurdle_rate": 0.5, "sectors": {"energy": {"min": 10}}, "projects": [
        {"id": "A", "capital": 30, "return": 3}, {"id": "B", "capital": 40, "return": 5}]},
     {("hurdle_rate", "hurdle"), ("sectors.min", "energy")}),
])
def test_infeasible_programs_name_their_conflict(tmp_path, case, rules):
    case = dict(case)
    doc = program(case.pop("projects"), **case)
    path = write(tmp_path, doc)
    proc = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(path), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "infeasible"
    named = {(c["rule"], c["key"]) for c in data["conflicts"]}
    assert rules <= named, named
    for rule, key in rules:
        assert key.split(".")[0] in proc.stderr or rule.split(".")[0] in proc.stderr


@pytest.mark.solver
def test_extreme_magnitudes_are_warned_about(tmp_path):
    doc = program([{"id": "A", "capital": 1e-7, "return": 1}, {"id": "B", "capital": 5e4,
                                                               "return": 2}])
    path = write(tmp_path, doc)
    proc = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(path), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "capital and labor per unit" in proc.stderr
    assert "tolerances may not hold" in proc.stderr
    assert json.loads(proc.stdout)["warnings"]
    assert not load(write(tmp_path, program([{"id": "A", "capital": 2, "return": 1}]),
                          name="plain.yaml")).warnings
