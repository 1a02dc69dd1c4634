"""`optimizer explain`: arithmetic, the solve and HiGHS's LP IIS; and node and solution
limits, which end a solve like the time limit does (a checked plan, or exit 4)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import program, write

from optimizer import check_plan, load
from optimizer.diagnosis.diagnose import arithmetic_checks, diagnose
from optimizer.solving.highs import SolveOptions

ROOT = Path(__file__).resolve().parents[1]
ONE = SolveOptions(threads=1, gap=0.0)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optimizer", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


# (program, the arithmetic conflict, what the IIS must hold, words the text must hold)
CASES = {
    "floor above the budget": (
        {"budget": {"total": 50}, "sectors": {"energy": {"min": 80}}, "projects": [
            {"id": "E1", "capital": 30, "return": 3}, {"id": "E2", "capital": 40, "return": 5},
            {"id": "E3", "capital": 50, "return": 4}]},
        ("sectors.min", "energy"),
        {("budget.total", "total"), ("sectors.min", "energy")},
        ["energy floor of 80", "whole budget of 50"]),
    "forced labor": (
        {"labor": {"capacity": {2027: 50000}}, "projects": [
            {"id": "P03", "capital": 30, "return": 3, "start": 2027, "labor": 40000,
             "force": "in"},
            {"id": "P09", "capital": 40, "return": 5, "start": 2027, "labor": 45000,
             "force": "in"},
            {"id": "P10", "capital": 40, "return": 5, "start": 2026, "labor": 45000}]},
        ("labor.capacity", "2027"),
        {("labor.capacity", "2027"), ("force_in", "P03"), ("force_in", "P09")},
        ["labor in 2027 is 35,000 specialists short", "P03, P09"]),
    "hurdle out of reach": (
        {"hurdle_rate": 0.5, "sectors": {"energy": {"min": 10}}, "projects": [
            {"id": "A", "capital": 30, "return": 3}, {"id": "B", "capital": 40, "return": 5}]},
        ("hurdle_rate", "hurdle"),
        {("hurdle_rate", "hurdle"), ("sectors.min", "energy")},
        ["hurdle rate of 0.5", "0.125 (B)"]),
    "forced against a ceiling": (
        {"sectors": {"energy": {"max": 50}}, "projects": [
            {"id": "A", "capital": 30, "return": 3, "force": "in"},
            {"id": "B", "capital": 40, "return": 5, "force": "in"},
            {"id": "C", "capital": 5, "return": 1}]},
        ("sectors.max", "energy"),
        {("sectors.max", "energy"), ("force_in", "A"), ("force_in", "B")},
        ["energy ceiling of 50.00 $B", "70.00 $B"]),
}


@pytest.mark.solver
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_explain_names_the_conflict_three_ways(tmp_path, name):
    case, arithmetic, iis_members, words = CASES[name]
    case = dict(case)
    path = write(tmp_path, program(case.pop("projects"), **case))
    proc = _cli("explain", str(path), "--json")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "infeasible"
    found = {(c["rule"], c["key"]) for c in data["checks"] if c["kind"] == "conflict"}
    assert arithmetic in found, data["checks"]
    assert data["conflicts"], "the elastic relaxation names the rules too"
    assert data["iis"]["status"] == "found"
    assert {(m["rule"], m["key"]) for m in data["iis"]["members"]} >= iis_members
    text = _cli("explain", str(path))
    assert text.returncode == 3
    folded = " ".join(text.stdout.split())
    for word in words:
        assert word in folded, text.stdout
    assert "irreducible infeasible subset" in text.stdout


@pytest.mark.solver
def test_a_conflict_of_whole_units_has_no_lp_iis(tmp_path):
    """Floor 35 with projects of 30 and 40 and a budget of 36: fractions would do."""
    doc = program([{"id": "A", "capital": 30, "return": 3},
                   {"id": "B", "capital": 40, "return": 5}],
                  budget={"total": 36}, sectors={"energy": {"min": 35}})
    story = diagnose(write(tmp_path, doc), ONE)
    assert story.exit_code == 3
    assert not [f for f in story.findings if f.kind == "conflict"]
    assert story.iis is not None and story.iis.status == "lp_feasible"
    assert {c.rule for c in story.result.conflicts} >= {"budget.total"}
    assert "whole units alone" in story.text()


@pytest.mark.solver
def test_explain_on_a_feasible_program_tells_the_binding_rules():
    story = diagnose(ROOT / "instances/pilot-v1/program.yaml", ONE)
    assert story.exit_code == 0 and story.iis is None
    assert story.result.status == "optimal"
    assert check_plan(story.instance, story.result.units).valid
    assert not [f for f in story.findings if f.kind == "conflict"]
    data = json.loads(story.to_json())
    assert data["binding"] == story.result.binding() and data["binding"]
    text = " ".join(story.text().split())  # long lines are folded
    assert "Rules at their limit in this plan: " + ", ".join(data["binding"]) in text


@pytest.mark.solver
@pytest.mark.parametrize("kind", ["excludes", "requires", "per_year", "floors", "supply",
                                  "cycle"])
def test_arithmetic_checks(tmp_path, kind):
    projects = [{"id": "A", "capital": 10, "return": 1}, {"id": "B", "capital": 20, "return": 2},
                {"id": "C", "capital": 5, "return": 1, "sector": "shipbuilding"}]
    fields: dict = {"sectors": {"energy": None, "shipbuilding": None}}
    expected: tuple[str, str, str]
    if kind == "excludes":
        projects[0]["force"] = projects[1]["force"] = "in"
        fields["dependencies"] = [{"type": "excludes", "projects": ["A", "B"]}]
        expected = ("conflict", "dependencies.excludes", "A, B")
    elif kind == "requires":
        projects[0]["force"], projects[1]["force"] = "in", "out"
        fields["dependencies"] = [{"type": "requires", "project": "A", "on": "B"}]
        expected = ("conflict", "dependencies.requires", "A->B")
    elif kind == "per_year":
        projects[0]["force"] = projects[1]["force"] = "in"
        fields["budget"] = {"per_year": {2026: 25}}
        expected = ("conflict", "budget.per_year", "2026")
    elif kind == "floors":
        fields["sectors"] = {"energy": {"min": 20}, "shipbuilding": {"min": 5}}
        fields["budget"] = {"total": 24}
        expected = ("conflict", "sectors.min", "all")
    elif kind == "supply":
        fields["sectors"] = {"energy": {"min": 31}, "shipbuilding": None}
        expected = ("conflict", "sectors.min", "energy")
    else:
        fields["dependencies"] = [{"type": "requires", "project": "A", "on": "B"},
                                  {"type": "requires", "project": "B", "on": "A"}]
        expected = ("note", "dependencies.requires", "A, B")
    instance = load(write(tmp_path, program(projects, **fields)))
    found = {(f.kind, f.rule, f.key) for f in arithmetic_checks(instance)}
    assert expected in found, found
    if kind == "cycle":  # the loader says so too, from the same helper
        assert any("projects A, B require each other in a cycle" in w
                   for w in instance.warnings), instance.warnings
    result = diagnose(instance, ONE).result
    assert result.status == ("optimal" if kind == "cycle" else "infeasible")


# ------------------------------------------------------------ node and solution limits
@pytest.fixture(scope="module")
def hard(tmp_path_factory) -> Path:
    """mknapcb4 problem 0 (100 items, 10 constraints): no solve proves it in a few nodes."""
    from optimizer.program.orlib import convert

    out = tmp_path_factory.mktemp("cb4")
    paths = convert(ROOT / "instances/orlib/mknapcb4.txt", out, None)
    return next(p for p in paths if "mknapcb4-00" in str(p))


@pytest.mark.solver
@pytest.mark.slow
@pytest.mark.parametrize("flags, termination", [
    (["--node-limit", "30"], "node_limit"),
    (["--solution-limit", "1"], "solution_limit"),
])
def test_a_node_or_solution_limit_returns_a_checked_plan(hard, tmp_path, flags, termination):
    out = tmp_path / "result.json"
    proc = _cli("solve", str(hard), "--json", "--threads", "1", "--out", str(out), *flags)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "feasible" and data["termination"] == termination
    assert data["gap"] is not None and data["gap"] > 0
    assert json.loads(out.read_text()) == data
    instance = load(hard)
    units = {s["id"]: s["units"] for s in data["selected"]}
    report = check_plan(instance, [units.get(str(i), 0) for i in instance.ids])
    assert report.valid and report.total_return == pytest.approx(data["objective"])
    option = "mip_max_nodes" if termination == "node_limit" else "mip_max_improving_sols"
    assert data["manifest"]["options"][option] == int(flags[1])
    nodes = data["solver"]["nodes"]  # the branch-and-bound nodes HiGHS reports
    assert isinstance(nodes, int) and nodes >= 0  # 0: the first plan came at the root
    if termination == "node_limit":
        assert 1 <= nodes <= 30


@pytest.mark.solver
@pytest.mark.parametrize("flags", [["--node-limit", "0"], ["--time-limit", "0"]])
def test_a_limit_before_any_plan_exits_4(hard, tmp_path, flags):
    out = tmp_path / "result.json"
    proc = _cli("solve", str(hard), "--json", "--threads", "1", "--out", str(out), *flags)
    assert proc.returncode == 4, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "no_solution" and data["selected"] == []
    assert data["termination"] in ("node_limit", "time_limit")
    assert json.loads(out.read_text()) == data


@pytest.mark.parametrize("value", ["-1", "1.5", "many"])
def test_bad_limits_are_usage_errors(hard, value):
    proc = _cli("solve", str(hard), "--node-limit", value)
    assert proc.returncode == 2 and "--node-limit" in proc.stderr and proc.stdout == ""


# ------------------------------------------------- the explanation's time budget
def test_explain_budget_follows_the_time_limit():
    from optimizer.diagnosis.explain import EXPLAIN_FLOOR, EXPLAIN_SECONDS, explain_budget

    assert explain_budget(None) == EXPLAIN_SECONDS
    assert explain_budget(None, 100.0) == EXPLAIN_SECONDS
    assert explain_budget(100.0, 10.0) == 90.0  # what the limit leaves
    assert explain_budget(1.0, 0.9) == EXPLAIN_FLOOR  # never below the floor
    assert explain_budget(1.0, 50.0) == EXPLAIN_FLOOR


def test_the_time_limit_help_states_the_explanation_budget(capsys):
    from optimizer.cli.main import main
    from optimizer.diagnosis.explain import EXPLAIN_FLOOR, EXPLAIN_SECONDS

    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"at least {EXPLAIN_FLOOR:g} s ({EXPLAIN_SECONDS:g} s without a limit)" in out


@pytest.mark.solver
def test_an_explanation_cut_short_keeps_what_it_found_and_says_so(tmp_path, monkeypatch):
    import highspy

    from formulations import build
    from optimizer.diagnosis.explain import explain_infeasible

    doc, _, _, _ = CASES["floor above the budget"]
    pm = build(load(write(tmp_path, program(**doc))))
    calls = []

    def timed_out(self):  # every solve reports that its time ran out
        calls.append(1)
        return highspy.HighsModelStatus.kTimeLimit

    monkeypatch.setattr(highspy.Highs, "getModelStatus", timed_out)
    conflicts = explain_infeasible(pm, 5.0)
    assert len(calls) == 1, "the conflicts' other sides were still searched"
    assert any(c.rule != "program" for c in conflicts), conflicts  # what it found
    last = conflicts[-1]
    assert (last.rule, last.key) == ("program", "explanation")
    assert "stopped early" in last.message and "5 s" in last.message


def test_an_explanation_with_no_time_left_solves_nothing(tmp_path, monkeypatch):
    """No HiGHS run at all (counted, not timed: this program solves in milliseconds, so
    a time bound would pass whether it solved or not)."""
    import highspy

    from formulations import build
    from optimizer.diagnosis.explain import explain_infeasible

    doc, _, _, _ = CASES["floor above the budget"]
    pm = build(load(write(tmp_path, program(**doc))))
    runs = []
    for name in ("run", "solve", "startSolve"):
        if hasattr(highspy.Highs, name):
            monkeypatch.setattr(highspy.Highs, name,
                                lambda self, *a, _name=name, **k: runs.append(_name))
    conflicts = explain_infeasible(pm, 0.0)
    assert runs == [], runs
    assert conflicts and "did not finish in time" in conflicts[0].message


@pytest.mark.solver
@pytest.mark.slow
def test_a_large_infeasible_program_is_explained_within_the_time_limit(tmp_path):
    """2,000 projects, budgets x0.3 (the acceptance test's case: 80 s of explanation with
    --time-limit 1): the explanation keeps to the floor left after the limit."""
    from optimizer import derive, solve
    from optimizer.diagnosis.explain import EXPLAIN_FLOOR
    from optimizer.program.generate import generate
    from optimizer.program.generate import write as write_generated

    base = load(write_generated(generate(2000, seed=1), tmp_path / "g"))
    tight = derive(base, budget_scale=0.3)
    result = solve(tight, SolveOptions(time_limit=1.0))
    assert result.status == "infeasible"
    assert result.timings["explain"] <= EXPLAIN_FLOOR + 1.5, result.timings
    keys = [(c.rule, c.key) for c in result.conflicts]
    assert len(keys) == len(set(keys)), keys
    assert "budget.total" in {rule for rule, _ in keys}


@pytest.mark.solver
@pytest.mark.parametrize("name", sorted(CASES))
def test_conflicts_are_named_once_and_never_zero(tmp_path, name):
    from optimizer import solve

    doc = CASES[name][0]
    result = solve(load(write(tmp_path, program(**doc))))
    assert result.status == "infeasible"
    keys = [(c.rule, c.key) for c in result.conflicts]
    assert len(keys) == len(set(keys)), keys
    for c in result.conflicts:
        assert not re.search(r"(\(| is )0(\.00)?( \$B| specialists)? (short|over)",
                             c.message), c.message
        assert "total total" not in c.message and "hurdle hurdle" not in c.message
