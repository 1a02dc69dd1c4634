"""Trust: hostile documents, size limits, and reproducible runs with a manifest."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import program, write

from optimizer import load, loading
from optimizer.errors import InstanceError

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
    assert proc.returncode == 2 and proc.stdout == ""
    assert "YAML aliases" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_harmless_aliases_still_load(tmp_path):
    doc = program([{"id": "A", "capital": 2, "return": 1}, {"id": "B", "capital": 3,
                                                            "return": 2}])
    path = write(tmp_path, doc)
    text = path.read_text().replace("sectors:\n  energy: null",
                                    "limits: &floor {min: 1}\nsectors:\n  energy: *floor")
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


def test_two_single_thread_runs_agree_and_carry_a_manifest(tmp_path):
    from optimizer.generate import generate
    from optimizer.generate import write as write_program

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
