"""Version 2, part A, downstream of the solve: malformed files, the explanation of an
infeasible program (the deadline, a lag, a recycled year, a start the hurdle rules out),
what-if changes and sweep parameters, compare, the report, the CSV, the JSON and the
charts. The answers are small enough to be derived by hand in each test's comment."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import EXACT, error_object, run, solve_checked, write

from optimizer import InstanceError, check_plan, compare, derive, load, solve, sweep
from optimizer.errors import UsageError

V2 = "capital-portfolio/2"
ECON = {"discount_rate": 0.06, "deemed_rate": 0.06, "split": {"before": 0.5, "after": 0.1},
        "objective": "npv", "base_year": 2026}


def _doc(projects: list[dict], **fields) -> dict:
    doc = {"format": V2, "name": "v2", "horizon": [2026, 2035],
           "sectors": {"energy": {}}}
    doc.update(fields)
    doc["projects"] = [{"sector": "energy", "start": 2026, **p} for p in projects]
    return doc


def _problems(tmp_path, doc, **kw) -> list:
    with pytest.raises(InstanceError) as err:
        load(write(tmp_path, doc, **kw))
    return [(p.field, p.row, p.message) for p in err.value.problems]


# the worked example: one unit of 100 in its start year, 60 a year for four years
UNIT = {"id": "A", "capital": 100, "annual_cash": 60, "operating_years": 4}


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("project,field,words", [
    ({"earliest_start": 2025}, "earliest_start", "outside the horizon"),
    ({"latest_start": 2036}, "latest_start", "outside the horizon"),
    ({"earliest_start": 2029, "latest_start": 2027}, "latest_start", "before earliest_start"),
    ({"annual_cash": 5}, "operating_years", "required where annual_cash is given"),
    ({"operating_years": 5}, "annual_cash", "required where operating_years is given"),
    ({"loss_rate": 1}, "loss_rate", "below 1"),
    ({"deemed_rate": -0.1}, "deemed_rate", "at least 0"),
    ({"operating_years": 2.5, "annual_cash": 1}, "operating_years", "whole number"),
])
def test_a_bad_project_cell_is_named_with_its_row(tmp_path, project, field, words):
    doc = _doc([{"id": "A", "capital": 10, "return": 1, **project}], economics=ECON)
    found = _problems(tmp_path, doc)
    assert any(f == field and r == "projects[0]" and words in m for f, r, m in found), found


@pytest.mark.parametrize("change,field,words", [
    ({"economics": {**ECON, "split": {"before": 0.1, "after": 0.5}}}, "economics.split.after",
     "after <= before"),
    ({"economics": {**ECON, "discount_rate": None}}, "economics.discount_rate",
     "required under `objective: npv`"),
    ({"economics": {"objective": "return"}}, "economics.deemed_rate",
     "required when a project has cash flows"),
    ({"economics": {**ECON, "objective": "most"}}, "economics.objective", "must be"),
    ({"budget": {"recycle": True}}, "budget.recycle", "needs budget.total"),
    ({"commitment_deadline": 2028.5}, "commitment_deadline", "whole"),
    ({"project_hurdle": {"irr": 0.1, "recover_in": 3}}, "project_hurdle.recover_in",
     "unknown"),
    ({"dependencies": [{"type": "requires", "project": "A", "on": "B", "lag": -1}]},
     "dependencies.lag", "at least 0"),
])
def test_a_bad_program_field_is_named(tmp_path, change, field, words):
    doc = _doc([dict(UNIT), {"id": "B", "capital": 5, "return": 1}], economics=ECON)
    doc.update(change)
    found = _problems(tmp_path, doc)
    assert any(f == field and words in m for f, _r, m in found), found


def test_cash_flows_table_rows_are_checked_by_line(tmp_path):
    doc = _doc([{"id": "A", "capital": 10, "annual_cash": 2, "operating_years": 3},
                {"id": "B", "capital": 10}], economics=ECON)
    pd.DataFrame({"project": ["A", "B", "B", "Z"], "offset": [1, 1, 1, -1],
                  "cash": [1, 1, 2, 1]}).to_csv(tmp_path / "cash.csv", index=False)
    doc["cash_flows"] = "cash.csv"
    found = _problems(tmp_path, doc)
    fields = {(f, r) for f, r, _m in found}
    assert ("annual_cash", "projects[0]") in fields  # both forms for A
    assert any(f == "offset" and "more than one row" in m for f, _r, m in found)  # B twice
    assert any(f == "project" and "unknown project id 'Z'" in m for f, _r, m in found)
    assert any(f == "offset" and "at least 0" in m for f, _r, m in found)
    assert all(r is None or "line" in r or r.startswith("projects") for _f, r, _m in found)


def test_version_2_fields_in_a_version_1_file_exit_2_naming_them(tmp_path):
    doc = _doc([{"id": "A", "capital": 10, "return": 1, "earliest_start": 2026}],
               commitment_deadline=2028)
    doc["format"] = "capital-portfolio/1"
    path = write(tmp_path, doc)
    out = run("validate", str(path), "--json")
    assert out.returncode == 2
    problems = error_object(out.stdout)["problems"]
    named = {p["field"] for p in problems}
    assert {"commitment_deadline", "projects.earliest_start"} <= named, problems
    assert all("capital-portfolio/2" in p["message"] for p in problems)


# ------------------------------------------------------------------ explanation
def test_explain_names_a_lag(tmp_path):
    # A is forced in and may start only in 2026-2027; it needs B two years before, and B
    # cannot start before 2026: A's first possible start is 2028, outside its window
    doc = _doc([{"id": "A", "capital": 10, "return": 2, "latest_start": 2027, "force": "in"},
                {"id": "B", "capital": 10, "return": 1, "latest_start": 2029}],
               dependencies=[{"type": "requires", "project": "A", "on": "B", "lag": 2}])
    result = solve(load(write(tmp_path, doc)), EXACT)
    assert result.status == "infeasible"
    rules = {c.rule for c in result.conflicts}
    assert "dependencies.lag" in rules, result.conflicts
    assert "2 years after B" in result.message


def test_explain_names_the_deadline_and_the_summary_lists_what_it_rules_out(tmp_path):
    # the floor of 15 needs both projects; B can start only in 2029-2030, after 2028
    doc = _doc([{"id": "A", "capital": 10, "return": 2, "latest_start": 2027},
                {"id": "B", "capital": 10, "return": 1, "start": 2029, "latest_start": 2030}],
               commitment_deadline=2028, sectors={"energy": {"min": 15}})
    result = solve(load(write(tmp_path, doc)), EXACT)
    assert result.status == "infeasible"
    assert "commitment_deadline" in {c.rule for c in result.conflicts}
    assert "B starting 2029: after the commitment deadline 2028" in result.message
    excluded = result.to_dict()["excluded"]
    assert [(e["id"], e["start"], e["rule"]) for e in excluded] == [
        ("B", 2029, "commitment_deadline"), ("B", 2030, "commitment_deadline")]
    assert "ruled out before the solve (2 project starts)" in result.summary()


def test_explain_names_the_per_project_hurdle(tmp_path):
    # the worked unit has NPV -7.63 at 10%: the hurdle rules out both its starts, and the
    # floor needs it
    doc = _doc([{**UNIT, "latest_start": 2027}], economics=ECON,
               project_hurdle={"irr": 0.10}, sectors={"energy": {"min": 50}})
    result = solve(load(write(tmp_path, doc)), EXACT)
    assert result.status == "infeasible"
    assert "project_hurdle" in {c.rule for c in result.conflicts}
    assert "A starting 2026: Japan's flows have NPV -7.63 at 10%" in result.message


def test_explain_names_a_recycled_year(tmp_path):
    # A (100 in 2026) is forced in and the cap is 90: the 2026 row of the recycled cap
    # (nothing received before 2026) cannot hold
    doc = _doc([{**UNIT, "force": "in"}], economics=ECON,
               budget={"total": 90, "recycle": True})
    result = solve(load(write(tmp_path, doc)), EXACT)
    assert result.status == "infeasible"
    assert "budget.recycle" in {c.rule for c in result.conflicts}, result.conflicts


# ------------------------------------------------------------------ what-if
def _two_starts(tmp_path):
    # A may start 2026-2029 (NPV 0.79, 0.75, 0.70, 0.66 at 6%): the earliest start is best
    doc = _doc([{**UNIT, "latest_start": 2029}], economics=ECON)
    return load(write(tmp_path, doc))


def test_derive_moves_the_plan_and_compare_says_where(tmp_path):
    base = _two_starts(tmp_path)
    a = solve_checked(base)
    assert a.start_years() == {"A": {"2026": 1}}
    # no start in 2026 or 2027 by hand: force the later years with a per-year cap
    later = derive(base, budget_per_year={2026: 0, 2027: 0})
    b = solve_checked(later)
    assert b.start_years() == {"A": {"2028": 1}}
    diff = compare(a, b)
    assert diff.moved.to_dict("records") == [{"id": "A", "starts_a": "2026:1",
                                              "starts_b": "2028:1"}]
    assert "moved: A from 2026:1 to 2028:1" in diff.summary()
    assert diff.to_dict()["moved"] == [{"id": "A", "starts_a": "2026:1", "starts_b": "2028:1"}]


def test_derive_the_economics_and_the_deadline(tmp_path):
    base = _two_starts(tmp_path)
    cheaper = derive(base, discount_rate=0.05)
    assert solve_checked(cheaper).objective == pytest.approx(3.0938, abs=1e-4)
    closed = derive(base, commitment_deadline=2025)
    assert solve(closed, EXACT).objective == 0.0  # every start is after the deadline
    strict = derive(base, project_hurdle_irr=0.10)
    assert solve(strict, EXACT).objective == 0.0
    with pytest.raises(UsageError):
        derive(base, split_after=0.9, split_before=0.5)
    assert base.params["commitment_deadline"] is None  # the original is untouched


@pytest.mark.parametrize("parameter,values", [
    ("commitment_deadline", [2025, 2026, 2030]),
    ("discount_rate", [0.03, 0.06, 0.09]),
    ("deemed_rate", [0.02, 0.06]),
    ("split_after", [0.05, 0.1]),
    ("project_hurdle_irr", [0.0, 0.05, 0.2]),
])
def test_a_sweep_agrees_with_solving_each_point_on_its_own(tmp_path, parameter, values):
    base = _two_starts(tmp_path)
    swept = sweep(base, {parameter: values}, EXACT)
    for value, result in zip(values, swept.results, strict=True):
        own = solve(derive(base, **{parameter: value}), EXACT)
        assert result.status == own.status
        assert result.objective == pytest.approx(own.objective, abs=1e-9)
        assert result.start_years() == own.start_years()


# ------------------------------------------------------------------ outputs
def test_the_json_csv_report_and_charts_of_a_version_2_plan(tmp_path):
    base = _two_starts(tmp_path)
    result = solve_checked(base)
    data = json.loads(result.to_json())
    assert data["selected"] == [{"id": "A", "units": 1, "starts": {"2026": 1}}]
    econ = data["economics"]
    assert econ["npv"] == pytest.approx(0.7906, abs=1e-4)
    assert econ["receipts_by_year"] == pytest.approx(
        {"2026": 0.0, "2027": 30.0, "2028": 30.0, "2029": 30.0, "2030": 26.0074}, abs=1e-4)
    assert econ["disbursed_by_year"]["2026"] == 100.0
    [entry] = econ["projects"]
    assert (entry["id"], entry["start"], entry["units"], entry["recovered_in"]) == \
        ("A", 2026, 1, 2030)
    assert 0.06 < entry["irr"] < 0.10
    csv = result.write(tmp_path / "plan.csv").read_text()
    assert csv.splitlines()[0].endswith(",starts,npv") and "2026:1" in csv
    text = result.summary()
    assert "objective (NPV to Japan, $B): 0.79" in text
    assert "A x1 from 2026: receipts 116.01 $B, NPV 0.79 $B" in text
    assert "recovered 2030" in text
    written = result.plot(tmp_path / "charts")
    assert [p.name for p in written] == ["capital.png", "labor.png", "cash.png"]


def test_check_plan_takes_starts_and_refuses_a_plan_without_them(tmp_path):
    base = _two_starts(tmp_path)
    with pytest.raises(UsageError, match="several years"):
        check_plan(base, {"A": 1})
    late = check_plan(base, starts={"A": {2029: 1}})
    assert late.valid and late.objective == pytest.approx(0.7906 / 1.06 ** 3, abs=1e-4)
    outside = check_plan(base, starts={"A": {2031: 1}})
    assert [v.rule for v in outside.violations] == ["start_window"]


# ------------------------------------------------------------------ ruled-out starts
def test_a_ruled_out_start_has_no_column_and_a_dependency_on_it_still_holds(tmp_path):
    # B may start only after the deadline: it has no column, so it is never funded; A
    # requires B, so A cannot be funded either (its row holds A alone: z_A <= 0)
    doc = _doc([{"id": "A", "capital": 10, "return": 2},
                {"id": "B", "capital": 10, "return": 1, "start": 2030}],
               commitment_deadline=2028,
               dependencies=[{"type": "requires", "project": "A", "on": "B"}])
    instance = load(write(tmp_path, doc))
    from formulations import build

    pm = build(instance)
    assert pm.n_columns == 1  # A's only start; none for B
    result = solve_checked(instance)
    assert result.status == "optimal" and result.objective == 0.0
    # without the rule A is funded
    assert solve_checked(derive(instance, commitment_deadline=None)).objective == 3.0


def test_a_forced_project_with_no_start_left_is_explained(tmp_path):
    doc = _doc([{"id": "A", "capital": 10, "return": 2, "start": 2030, "force": "in"}],
               commitment_deadline=2028)
    result = solve(load(write(tmp_path, doc)), EXACT)
    assert result.status == "infeasible"
    assert "project A is forced in, but every start year of it is ruled out" in result.message
    assert "commitment_deadline" in {c.rule for c in result.conflicts}


def test_a_row_on_no_model_column_is_refused_before_highs_sees_it():
    import numpy as np
    import scipy.sparse as sp

    from formulations.rows import row_block

    with pytest.raises(ValueError, match="no model column"):
        row_block("bad", sp.csr_array(np.array([[1.0, 1.0]])), np.array([0, -1]), 2,
                  np.array([-np.inf]), np.array([0.0]), ("x",))
