"""Bad input, field by field: exit code 2, a message naming the file, the field and the
row, every problem in one run, never a traceback and nothing on standard output."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import error_object

from optimizer import InstanceError, load
from optimizer.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "format": "capital-portfolio/1",
    "name": "bad",
    "horizon": [2026, 2030],
    "budget": {"total": 100, "per_year": {2026: 50}},
    "hurdle_rate": 0.1,
    "sectors": {"energy": {"min": 1, "max": 90}, "shipbuilding": None},
    "labor": {"capacity": {2026: 1000}},
    "dependencies": [{"type": "requires", "project": "B", "on": "A"},
                     {"type": "excludes", "projects": ["B", "D"]}],
}
PROJECTS = [
    {"id": "A", "sector": "energy", "capital": 10, "return": 2, "start": 2026},
    {"id": "B", "sector": "energy", "capital": 5, "return": 1, "start": 2027, "build_years": 2,
     "labor": 100, "max_units": 2},
    {"id": "C", "sector": "shipbuilding", "capital": 5, "return": 1, "start": 2026,
     "reinvest_every": 2, "reinvest_capital": 1, "force": "in"},
    {"id": "D", "sector": "shipbuilding", "return": 1},
]
PROFILES = [{"project": "D", "year": 2027, "capital": 3, "labor": 50},
            {"project": "D", "year": 2028, "capital": 2, "labor": 50}]


def write(tmp_path: Path, doc=None, projects=None, profiles=None, csv=True,
          name="program.yaml") -> Path:
    doc = copy.deepcopy(BASE if doc is None else doc)
    projects = copy.deepcopy(PROJECTS if projects is None else projects)
    profiles = copy.deepcopy(PROFILES if profiles is None else profiles)
    if csv:
        pd.DataFrame(projects).to_csv(tmp_path / "projects.csv", index=False)
        doc.setdefault("projects", "projects.csv")
        pd.DataFrame(profiles).to_csv(tmp_path / "profiles.csv", index=False)
        doc.setdefault("profiles", "profiles.csv")
    else:
        doc.setdefault("projects", projects)
        doc.setdefault("profiles", "profiles.csv")
        pd.DataFrame(profiles).to_csv(tmp_path / "profiles.csv", index=False)
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(doc))
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_cli(path: Path, capsys) -> tuple[int, str, str]:
    code = main(["solve", str(path), "--json"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.solver
def test_the_base_program_is_valid(tmp_path, capsys):
    code, out, err = run_cli(write(tmp_path), capsys)
    assert code == 0, err
    assert json.loads(out)["check"]["valid"]


def _set(doc, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        doc = doc[k]
    if value is _DELETE:
        del doc[keys[-1]]
    else:
        doc[keys[-1]] = value


_DELETE = object()

PROGRAM_CASES = [
    ("format", "capital-portfolio/3", "format"),
    ("format", _DELETE, "format"),
    ("name", ["x"], "name"),
    ("horizon", [2030, 2026], "horizon"),
    ("horizon", [2026], "horizon"),
    ("horizon", "2026-2030", "horizon"),
    ("horizon", _DELETE, "horizon"),
    ("budget", 550, "budget"),
    ("budget.total", -1, "budget.total"),
    ("budget.total", "lots", "budget.total"),
    ("budget.total", float("nan"), "budget.total"),
    ("budget.total", True, "budget.total"),
    ("budget.per_year", [50], "budget.per_year"),
    ("budget.per_year", {"soon": 5}, "budget.per_year"),
    ("budget.per_year", {2026: -5}, "budget.per_year.2026"),
    ("hurdle_rate", "ten percent", "hurdle_rate"),
    ("hurdle_rate", float("inf"), "hurdle_rate"),
    ("sectors", _DELETE, "sectors"),
    ("sectors", [], "sectors"),
    ("sectors.energy", 5, "sectors.energy"),
    ("sectors.energy", {"min": -1}, "sectors.energy.min"),
    ("sectors.energy", {"max": "x"}, "sectors.energy.max"),
    ("labor", 1000, "labor"),
    ("labor.capacity", {2026: "many"}, "labor.capacity.2026"),
    ("dependencies", {"type": "requires"}, "dependencies"),
    ("dependencies", [{"type": "needs", "project": "A", "on": "B"}], "dependencies.type"),
    ("dependencies", [{"type": "requires", "project": "A"}], "dependencies.on"),
    ("dependencies", [{"type": "requires", "project": "Z", "on": "A"}], "dependencies.project"),
    ("dependencies", [{"type": "excludes", "projects": ["A"]}], "dependencies.projects"),
    ("dependencies", [{"type": "excludes", "projects": ["A", "A"]}], "dependencies.projects"),
    ("dependencies", [{"type": "excludes", "projects": ["A", "Q"]}], "dependencies.projects"),
    ("known_optimum", "high", "known_optimum"),
    ("projects", 7, "projects"),
    ("projects", "missing.csv", "projects"),
    ("projects", _DELETE, "projects"),
]


@pytest.mark.parametrize("field,value,named", PROGRAM_CASES,
                         ids=[f"{c[0]}={c[1]!r}"[:40] for c in PROGRAM_CASES])
def test_program_field(tmp_path, capsys, field, value, named):
    doc = copy.deepcopy(BASE)
    doc["projects"], doc["profiles"] = "projects.csv", "profiles.csv"
    _set(doc, field, value)
    path = write(tmp_path)  # the tables, then the broken program over it
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, out, err = run_cli(path, capsys)
    assert code == 2
    assert error_object(out)
    assert f"'{named}'" in err, err
    assert str(tmp_path / "program.yaml") in err
    assert "Traceback" not in err


PROJECT_CASES = [
    ("id", 1, "", "id"), ("id", 1, "A", "id"),
    ("sector", 0, "", "sector"), ("sector", 0, "space", "sector"),
    ("capital", 0, "", "capital"), ("capital", 0, 0, "capital"), ("capital", 0, -3, "capital"),
    ("capital", 0, "ten", "capital"), ("capital", 0, "nan", "capital"),
    ("capital", 0, "inf", "capital"), ("capital", 3, 4, "capital"),
    ("return", 0, "", "return"), ("return", 0, "high", "return"),
    ("start", 0, "", "start"), ("start", 0, 2025, "start"), ("start", 0, 2031, "start"),
    ("start", 0, 2026.5, "start"),
    ("build_years", 0, 0, "build_years"), ("build_years", 0, 1.5, "build_years"),
    ("labor", 0, -1, "labor"),
    ("reinvest_every", 0, 2, "reinvest_every"), ("reinvest_capital", 0, 2, "reinvest_capital"),
    ("reinvest_every", 2, 0, "reinvest_every"), ("reinvest_capital", 2, -1, "reinvest_capital"),
    ("max_units", 0, 0, "max_units"), ("max_units", 0, 1.5, "max_units"),
    ("force", 0, "maybe", "force"),
]


@pytest.mark.parametrize("csv", [True, False], ids=["csv", "inline"])
@pytest.mark.parametrize("column,row,value,named", PROJECT_CASES,
                         ids=[f"{c[0]}[{c[1]}]={c[2]!r}" for c in PROJECT_CASES])
def test_project_column(tmp_path, capsys, csv, column, row, value, named):
    projects = copy.deepcopy(PROJECTS)
    projects[row][column] = value
    code, out, err = run_cli(write(tmp_path, projects=projects, csv=csv), capsys)
    assert code == 2 and error_object(out)
    assert f"field '{named}'" in err, err
    where = f"row {row + 1} (line {row + 2})" if csv else f"projects[{row}]"
    assert where in err, err
    assert ("projects.csv" if csv else "program.yaml") in err
    assert "Traceback" not in err


PROFILE_CASES = [
    ("project", 0, "Z", "project"), ("year", 0, 2025, "year"), ("year", 0, 2027.5, "year"),
    ("year", 1, 2027, "year"), ("capital", 0, -1, "capital"), ("labor", 0, -1, "labor"),
    ("capital", 0, "x", "capital"),
]


@pytest.mark.parametrize("column,row,value,named", PROFILE_CASES,
                         ids=[f"{c[0]}[{c[1]}]={c[2]!r}" for c in PROFILE_CASES])
def test_profile_column(tmp_path, capsys, column, row, value, named):
    profiles = copy.deepcopy(PROFILES)
    profiles[row][column] = value
    code, out, err = run_cli(write(tmp_path, profiles=profiles), capsys)
    assert code == 2 and error_object(out)
    assert f"field '{named}'" in err and "profiles.csv" in err, err
    assert f"row {row + 1} (line {row + 2})" in err, err


def test_profile_summing_to_zero(tmp_path, capsys):
    profiles = [{"project": "D", "year": 2027, "capital": 0, "labor": 0}]
    code, _, err = run_cli(write(tmp_path, profiles=profiles), capsys)
    assert code == 2 and "sum to 0" in err


def test_every_problem_is_listed_at_once(tmp_path):
    projects = copy.deepcopy(PROJECTS)
    projects[0]["capital"] = -1
    projects[1]["sector"] = "space"
    projects[2]["force"] = "sometimes"
    doc = copy.deepcopy(BASE)
    doc["hurdle_rate"] = "x"
    with pytest.raises(InstanceError) as exc:
        load(write(tmp_path, doc, projects=projects))
    fields = {p.field for p in exc.value.problems}
    assert {"capital", "sector", "force", "hurdle_rate"} <= fields


def test_json_program(tmp_path, capsys):
    doc = copy.deepcopy(BASE)
    doc["budget"]["total"] = "a lot"
    path = write(tmp_path, doc, name="program.json")
    code, out, err = run_cli(path, capsys)
    assert code == 2 and "'budget.total'" in err and "program.json" in err


@pytest.mark.parametrize("content,expected", [
    (b"format: [unclosed\n", "not valid YAML"),
    (b"- just\n- a list\n", "must hold a mapping"),
    (b"format: capital-portfolio/1\nname: \xff\xfe\n", "not UTF-8"),
    (b"", "must hold a mapping"),
])
def test_unreadable_program(tmp_path, capsys, content, expected):
    path = tmp_path / "program.yaml"
    path.write_bytes(content)
    code, out, err = run_cli(path, capsys)
    assert code == 2 and error_object(out) and expected in err, err


def test_yaml_on_key_is_text_not_a_boolean(tmp_path):
    """YAML 1.1 reads `on` as true; the format's `requires` dependency uses it as a key."""
    text = (write(tmp_path).read_text()
            .replace("'on': A", "on: A").replace("\"on\": A", "on: A"))
    assert "on: A" in text
    (tmp_path / "program.yaml").write_text(text)
    instance = load(tmp_path / "program.yaml")
    assert instance.requires.tolist() == [[1, 0]]


def test_empty_projects_table(tmp_path, capsys):
    path = write(tmp_path)
    (tmp_path / "projects.csv").write_text("id,sector,capital,return,start\n")
    code, _, err = run_cli(path, capsys)
    assert code == 2 and "no rows" in err


def test_missing_required_column(tmp_path, capsys):
    projects = [{k: v for k, v in p.items() if k != "return"} for p in PROJECTS]
    code, _, err = run_cli(write(tmp_path, projects=projects), capsys)
    assert code == 2 and "field 'return'" in err and "(header)" in err


@pytest.mark.parametrize("case", ["capital", "dependency", "utf8"])
def test_end_to_end_no_traceback(tmp_path, case):
    projects = copy.deepcopy(PROJECTS)
    path = write(tmp_path, projects=projects)
    if case == "capital":
        text = (tmp_path / "projects.csv").read_text().replace(",10.0,", ",ten,", 1)
        assert ",ten," in text
        (tmp_path / "projects.csv").write_text(text)
    elif case == "dependency":
        path.write_text(path.read_text().replace("project: B", "project: NOPE"))
    else:
        (tmp_path / "projects.csv").write_bytes(b"id,sector\n\xff,energy\n")
    proc = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(path), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert error_object(proc.stdout)
    # every case, the unreadable byte included: never a traceback (``A and B or C`` here
    # once let the "UTF-8" case skip this check)
    assert "Traceback" not in proc.stderr, proc.stderr
    expected = "UTF-8" if case == "utf8" else "invalid instance"
    assert expected in proc.stderr, proc.stderr


def test_limits_outside_the_horizon_warn(tmp_path):
    """The format applies per-year limits inside the horizon only: a year outside it is
    reported as a warning, not an error, and caps nothing."""
    doc = copy.deepcopy(BASE)
    doc["budget"]["per_year"] = {2026: 50, 2040: 5}
    doc["labor"]["capacity"] = {2026: 1000, 2020: 10}
    instance = load(write(tmp_path, doc))
    assert any("budget.per_year.2040" in w for w in instance.warnings)
    assert any("labor.capacity.2020" in w for w in instance.warnings)
    assert list(instance.budget_per_year[:1]) == [50]


@pytest.mark.solver
def test_json_program_with_string_year_keys_is_valid(tmp_path, capsys):
    path = write(tmp_path, name="program.json")
    assert '"2026"' in path.read_text()
    code, out, err = run_cli(path, capsys)
    assert code == 0, err
    assert json.loads(out)["capital"]["by_year"]["2026"] > 0
