"""Format version 2, part A (the version-2 contract, A1-A3: flexible starts, the commitment
deadline, lagged dependencies, cash flows and the memorandum's split, the NPV objective, the
per-project hurdle, the recycled budget), checked against ``tests/v2_reference.py``: an
independent reading of the contract in plain Python, with no import from the package.

- the contract's worked example of the split (one unit, D = 100, C = 60 x 4), by the
  reference alone;
- six tiny programs whose answers are derived by hand in the comments, first by the
  reference alone (they pass without the optimizer), then solved;
- seeded random programs drawn from the contract, solved and compared with the reference's
  enumeration of every plan;
- version-1 files keep their results when they say ``capital-portfolio/2``.
"""

from __future__ import annotations

import copy
import csv
import random
import shutil

import pytest
import yaml
from v2_reference import (
    V1,
    V2,
    Reference,
    enumerate_best,
    evaluate,
    irr,
    present_value,
    waterfall,
    write_program,
)

from optimizer import SolveOptions, solve

EXACT = SolveOptions(gap=0.0, threads=1)
ONE_TO_ONE = {"before": 1.0, "after": 1.0}  # Japan receives all cash: J_t = C_t


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


# ---------------------------------------------------------------- the worked example
def _example(latest_start: int = 2026, **fields) -> dict:
    """The contract's worked example of the split as a program: D = 100 in the unit's start
    year, C = 60 in each of the next 4 years, r = 0.06, split 0.5 / 0.1, rho = 0.06, base
    year 2026 (= its year 0); it may start from 2026 to ``latest_start``."""
    prog = {"horizon": [2026, 2030], "sectors": {"energy": {}},
            "economics": {"base_year": 2026, "discount_rate": 0.06, "deemed_rate": 0.06,
                          "split": {"before": 0.5, "after": 0.1}, "objective": "npv"},
            "projects": [{"id": "W", "sector": "energy", "capital": 100, "start": 2026,
                          "latest_start": latest_start, "annual_cash": 60,
                          "operating_years": 4}]}
    prog.update(fields)
    return prog


def test_worked_example_waterfall_table():
    steps = waterfall({0: 100.0}, {t: 60.0 for t in range(1, 5)}, 0.06, 0.5, 0.1)
    table = [(st.year, st.D, st.C, st.owed, st.paid, st.J, st.B) for st in steps]
    want = [(0, 100, 0, 100.0, 0.0, 0.0, 100.0), (1, 0, 60, 106.0, 30.0, 30.0, 76.0),
            (2, 0, 60, 80.56, 30.0, 30.0, 50.56), (3, 0, 60, 53.5936, 30.0, 30.0, 23.5936),
            (4, 0, 60, 25.0092, 25.0092, 26.0074, 0.0)]
    for got, row in zip(table, want, strict=True):
        assert got == pytest.approx(row, abs=1e-4)
    assert sum(st.J for st in steps) == pytest.approx(116.0074, abs=1e-4)
    net = {st.year: st.J - st.D for st in steps}
    assert present_value(net, 0.06, 0) == pytest.approx(0.7906, abs=1e-4)
    assert present_value(net, 0.10, 0) == pytest.approx(-7.6311, abs=1e-4)
    assert present_value(net, 0.05, 0) == pytest.approx(3.0938, abs=1e-4)
    rate = irr(net)  # between 0.06 (NPV > 0) and 0.10 (NPV < 0), NPV 0 there
    assert 0.06 < rate < 0.10 and abs(present_value(net, rate, 0)) < 1e-8


def test_worked_example_as_a_program():
    ref = Reference(_example(latest_start=2028))
    unit = ref.unit("W", 2026)
    assert [round(v, 4) for v in unit.J.values()] == [0.0, 30.0, 30.0, 30.0, 26.0074]
    assert unit.recovered_in == 2030  # year 4 of the example
    assert unit.npv == pytest.approx(0.7906, abs=1e-4)
    late = ref.unit("W", 2028)  # the same flows two years later, base year still 2026
    assert late.npv == pytest.approx(0.7037, abs=1e-4)
    assert late.recovered_in == 2032 and max(late.J) == 2032  # never cut at the horizon
    assert enumerate_best(_example(latest_start=2028)) == pytest.approx(0.7906, abs=1e-4)


@pytest.mark.parametrize(("hurdle", "fails"), [({"irr": 0.10}, ["irr"]), ({"irr": 0.05}, []),
                                               ({"recover_within": 3}, ["recover_within"]),
                                               ({"recover_within": 4}, [])])
def test_worked_example_per_project_hurdle(hurdle, fails):
    # irr 0.10: NPV -7.6311 < 0, refused; 0.05: 3.0938 >= 0. Recovered 4 years after start.
    ref = Reference(_example(project_hurdle=hurdle))
    assert ref.hurdle_failures("W", 2026) == fails
    best = enumerate_best(_example(project_hurdle=hurdle))
    assert best == (0.0 if fails else pytest.approx(0.7906, abs=1e-4))


# ------------------------------------------------------------------- reference basics
def test_shifted_units_profiles_reinvestments_and_cash_forms():
    prog = {"horizon": [2026, 2030], "sectors": {"energy": {}},
            "economics": {"deemed_rate": 0.0, "split": ONE_TO_ONE, "discount_rate": 0.0},
            "projects": [
                {"id": "P", "sector": "energy", "latest_start": 2029, "annual_cash": 2,
                 "operating_years": 2, "loss_rate": 0.25, "reinvest_every": 2,
                 "reinvest_capital": 1},
                {"id": "S", "sector": "energy", "capital": 6, "start": 2027, "build_years": 3,
                 "labor": 5, "earliest_start": 2026, "latest_start": 2028},
                {"id": "F", "sector": "energy", "capital": 3, "start": 2026}],
            "profiles": [{"project": "P", "year": 2026, "capital": 4, "labor": 7},
                         {"project": "P", "year": 2027, "capital": 2, "labor": 3}],
            "cash_flows": [{"project": "F", "offset": 0, "cash": 1},
                           {"project": "F", "offset": 6, "cash": 5}]}
    ref = Reference(prog)
    assert ref.window("P") == (2026, 2029)  # nominal start: the first profile year
    p = ref.unit("P", 2029)  # profile 2029, 2030 (past the horizon, counted); no reinvestment
    assert p.D == {2029: 4.0, 2030: 2.0} and p.labor == {2029: 7.0, 2030: 3.0}
    assert p.capital == 6.0 and p.C == {2031: 1.5, 2032: 1.5}  # (1 - 0.25) * 2
    p = ref.unit("P", 2027)  # reinvestment at 2029 only (2031 is outside)
    assert p.D == {2027: 4.0, 2028: 2.0, 2029: 1.0} and p.capital == 7.0
    assert ref.unit("P", 2026).capital == 8.0  # reinvestments 2028 and 2030
    s = ref.unit("S", 2028)
    assert s.D == {2028: 2.0, 2029: 2.0, 2030: 2.0} and s.C is None and s.npv == -6.0
    assert ref.unit("S", 2026).labor == {2026: 5.0, 2027: 5.0, 2028: 5.0}
    f = ref.unit("F", 2026)  # cash by offset from the start, past the horizon
    assert f.C == {2026: 1.0, 2032: 5.0} and f.J == {t: 0.0 for t in range(2026, 2033)} | {
        2026: 1.0, 2032: 5.0}
    assert f.recovered_in == 2032 and f.npv == 3.0 and f.irr is not None


def test_recovery_is_sought_at_or_after_the_last_disbursement():
    # D 10 in 2026 and a reinvestment of 1 in 2029; split 1/1, r 0: the cash of 20 in 2027
    # clears the balance (B_2027 = 0), but 2029's reinvestment owes again: B_2029 = 1, and
    # the cash of 5 in 2030 clears it: recovered in 2030, not 2027.
    prog = {"horizon": [2026, 2030], "sectors": {"energy": {}},
            "economics": {"deemed_rate": 0.0, "split": ONE_TO_ONE},
            "projects": [{"id": "R", "sector": "energy", "capital": 10, "start": 2026,
                          "reinvest_every": 3, "reinvest_capital": 1}],
            "cash_flows": [{"project": "R", "offset": 1, "cash": 20},
                           {"project": "R", "offset": 4, "cash": 5}]}
    unit = Reference(prog).unit("R", 2026)
    assert [st.B for st in unit.steps] == [10.0, 0.0, 0.0, 1.0, 0.0]
    assert unit.recovered_in == 2030
    prog["cash_flows"].pop()
    assert Reference(prog).unit("R", 2026).recovered_in is None


def test_no_cash_unit_is_minus_its_present_value_and_fails_the_project_hurdle():
    prog = _example(project_hurdle={"recover_within": 30})
    prog["projects"].append({"id": "N", "sector": "energy", "capital": 10, "start": 2027,
                             "build_years": 2})
    ref = Reference(prog)
    assert ref.unit("N", 2027).npv == pytest.approx(-5 / 1.06 - 5 / 1.06 ** 2)
    assert ref.hurdle_failures("N", 2027) == ["recover_within"]
    assert not evaluate(prog, {("N", 2027): 1})[0]


def test_lag_counts_units_started_by_each_year():
    # A (max_units 2) requires B with lag 1: units of A started by t <= 2 x units of B
    # started by t - 1.
    prog = {"horizon": [2026, 2030], "sectors": {"energy": {}},
            "dependencies": [{"type": "requires", "project": "A", "on": "B", "lag": 1}],
            "projects": [{"id": "A", "sector": "energy", "capital": 1, "return": 1,
                          "start": 2026, "latest_start": 2030, "max_units": 2},
                         {"id": "B", "sector": "energy", "capital": 1, "return": 1,
                          "start": 2026, "latest_start": 2030}]}
    assert evaluate(prog, {("B", 2027): 1, ("A", 2028): 2})[0]
    assert evaluate(prog, {("B", 2027): 1, ("A", 2027): 1})[2] == ["requires[0].lag[2027]"]
    assert evaluate(prog, {("A", 2030): 1})[2] == ["requires[0]", "requires[0].lag[2030]"]
    prog["dependencies"][0]["lag"] = 0  # lag 0: not before B
    assert evaluate(prog, {("B", 2027): 1, ("A", 2027): 2})[0]
    assert not evaluate(prog, {("B", 2027): 1, ("A", 2026): 1})[0]


@pytest.mark.parametrize("inline", [False, True], ids=["csv", "inline"])
def test_the_writer_writes_what_the_reference_reads(tmp_path, inline):
    prog = _random_program(3)
    path = write_program(tmp_path, prog, inline=inline)
    doc = yaml.safe_load(path.read_text())
    for dep in doc.get("dependencies") or []:  # PyYAML reads the key `on` as YAML 1.1's true
        if True in dep:
            dep["on"] = dep.pop(True)
    assert doc["format"] == V2 and doc["horizon"] == prog["horizon"]
    for key, file in (("projects", "projects.csv"), ("profiles", "profiles.csv"),
                      ("cash_flows", "cash.csv")):
        if not prog.get(key):
            assert key not in doc
            continue
        if inline:
            rows = doc[key]
        else:
            assert doc[key] == file
            with (tmp_path / file).open() as fh:
                rows = [{k: yaml.safe_load(v) for k, v in r.items() if v != ""}
                        for r in csv.DictReader(fh)]
        assert rows == [{k: v for k, v in r.items() if v is not None} for r in prog[key]]


# ------------------------------------------------------------------- programs by hand
def _hand(projects, **fields) -> dict:
    prog = {"horizon": [2026, 2030], "sectors": {"energy": {}}}
    prog.update(fields)
    prog["projects"] = [{"sector": "energy", "start": 2026, **p} for p in projects]
    return prog


def deadline_program(deadline: int | None = 2026) -> dict:
    # A (capital 5, return 4) and B (capital 4, return 3) may each start 2026-2028; C
    # (capital 1, return 1) only in 2027; budget.per_year caps 2026 at 6. Without a deadline
    # all three fit (one of A, B in 2026, the other later, C in 2027): 8. With
    # commitment_deadline 2026 every unit starts in 2026: C (earliest 2027) is out, and
    # A + B = 9 > 6 leaves one of them, A (4 > 3): objective 4, A in 2026.
    prog = _hand([{"id": "A", "capital": 5, "return": 4, "latest_start": 2028},
                  {"id": "B", "capital": 4, "return": 3, "latest_start": 2028},
                  {"id": "C", "capital": 1, "return": 1, "start": 2027}],
                 budget={"per_year": {2026: 6}})
    if deadline is not None:
        prog["commitment_deadline"] = deadline
    return prog


def lag_program(lag: int | None = 2) -> dict:
    # J_t = C_t (split 1/1), rho 0.1, base 2026. B: D 10 in s, C 12 in s + 1: NPV
    # (-10 + 12/1.1) / 1.1^(s-2026) = 0.909091 / 1.1^(s-2026). A: C 13.2: NPV 2 / 1.1^(s-2026).
    # Both are worth most started early. A requires B with lag 2: A starts at least 2 years
    # after B, so B in 2026 and A in 2028: 0.909091 + 2 / 1.21 = 2.561983. (B later only
    # delays A too; A alone breaks requires.) Without the lag both start in 2026: 2.909091.
    prog = _hand([{"id": "A", "capital": 10, "latest_start": 2030, "annual_cash": 13.2,
                   "operating_years": 1},
                  {"id": "B", "capital": 10, "latest_start": 2028, "annual_cash": 12,
                   "operating_years": 1}],
                 economics={"discount_rate": 0.1, "deemed_rate": 0.05, "split": ONE_TO_ONE,
                            "objective": "npv"},
                 dependencies=[{"type": "requires", "project": "A", "on": "B"}])
    if lag is not None:
        prog["dependencies"][0]["lag"] = lag
    return prog


def hurdle_program(per_project: bool = True) -> dict:
    # Portfolio hurdle_rate 0.1; budget 20. A: capital 10, return 5, cash 12 a year later:
    # NPV at 10% = -10 + 12/1.1 = 0.909 >= 0. B: capital 10, return 0.5 (5% alone, below the
    # hurdle), cash 10.5: NPV at 10% = -10 + 10.5/1.1 = -0.455 < 0. Without project_hurdle
    # A + B: 5.5 >= 0.1 * 20, so A's return carries B: 5.5. With project_hurdle {irr: 0.1}
    # B is fixed out: A alone, 5.
    prog = _hand([{"id": "A", "capital": 10, "return": 5, "annual_cash": 12,
                   "operating_years": 1},
                  {"id": "B", "capital": 10, "return": 0.5, "annual_cash": 10.5,
                   "operating_years": 1}],
                 budget={"total": 20}, hurdle_rate=0.1,
                 economics={"deemed_rate": 0.05, "split": ONE_TO_ONE})
    if per_project:
        prog["project_hurdle"] = {"irr": 0.1}
    return prog


def recycle_program(recycle: bool = True) -> dict:
    # budget.total 10. A: capital 10 in 2026, return 3, cash 12 in 2027 (J = 12). B:
    # capital 10, return 2, no cash, may start 2027 or 2028. Recycled rows (spent by t <=
    # 10 + J before t): B in 2028: 10, 10, 20 <= 22, 20 <= 22, 20 <= 22: both, return 5.
    # B in 2027: 20 > 10 + 0 in 2027 (2027's receipt counts from 2028). Without recycle
    # the total 10 holds one project: A (3 > 2).
    prog = _hand([{"id": "A", "capital": 10, "return": 3, "annual_cash": 12,
                   "operating_years": 1},
                  {"id": "B", "capital": 10, "return": 2, "start": 2027, "latest_start": 2028}],
                 budget={"total": 10}, economics={"deemed_rate": 0.05, "split": ONE_TO_ONE})
    if recycle:
        prog["budget"]["recycle"] = True
    return prog


def npv_program() -> dict:
    # rho 0.05, r 0.06, split 0.5/0.1; no `return` column (optional under npv). A: D 10 in s,
    # C 12 in s+1 and s+2: owed 10.6, paid 6, J 6, B 4.6; owed 4.876, paid 4.876,
    # J = 4.876 + 0.1 (12 - 9.752) = 5.1008, B 0. NPV(2026) = -10 + 6/1.05 + 5.1008/1.1025
    # = 0.340862, and NPV(s) = 0.340862 / 1.05^(s-2026): the earliest start wins. B: C 5
    # twice: J 2.5, 2.5: NPV -10 + 2.5/1.05 + 2.5/1.1025 = -5.351 < 0: not funded.
    return _hand([{"id": "A", "capital": 10, "latest_start": 2028, "annual_cash": 12,
                   "operating_years": 2},
                  {"id": "B", "capital": 10, "latest_start": 2028, "annual_cash": 5,
                   "operating_years": 2}],
                 economics={"discount_rate": 0.05, "deemed_rate": 0.06,
                            "split": {"before": 0.5, "after": 0.1}, "objective": "npv"})


def modular_npv_program() -> dict:
    # A: 4 units of capital 4, each worth (-4 + 5/1.1) / 1.1^(s-2026) = 0.545455 / 1.1^(s-2026)
    # (split 1/1, rho 0.1). budget.per_year: 2026 <= 8 (two units), 2027 <= 4 (one), 2028
    # uncapped: 2 + 1 + 1 started 2026, 2027, 2028: 0.545455 (2 + 1/1.1 + 1/1.21) = 2.037566.
    return _hand([{"id": "A", "capital": 4, "max_units": 4, "latest_start": 2028,
                   "annual_cash": 5, "operating_years": 1}],
                 budget={"per_year": {2026: 8, 2027: 4}},
                 economics={"discount_rate": 0.1, "deemed_rate": 0.05, "split": ONE_TO_ONE,
                            "objective": "npv"})


def modular_return_program() -> dict:
    # A: up to 3 units of capital 4 (return 3 each), starts 2026-2028, one build year;
    # per-year caps of 4 in 2026-2028 hold one unit a year: one unit in each, 9.
    return _hand([{"id": "A", "capital": 4, "return": 3, "max_units": 3,
                   "latest_start": 2028}],
                 budget={"per_year": {2026: 4, 2027: 4, 2028: 4}})


HAND = {  # name: (program, objective, the one optimal plan)
    "deadline": (deadline_program, 4.0, {("A", 2026): 1}),
    "lag": (lag_program, 10 / 11 + 2 / 1.21, {("B", 2026): 1, ("A", 2028): 1}),
    "project_hurdle": (hurdle_program, 5.0, {("A", 2026): 1}),
    "recycle": (recycle_program, 5.0, {("A", 2026): 1, ("B", 2028): 1}),
    "npv_early": (npv_program, -10 + 6 / 1.05 + 5.1008 / 1.1025, {("A", 2026): 1}),
    "modular_npv": (modular_npv_program, (-4 + 5 / 1.1) * (2 + 1 / 1.1 + 1 / 1.21),
                    {("A", 2026): 2, ("A", 2027): 1, ("A", 2028): 1}),
    "modular_return": (modular_return_program, 9.0,
                       {("A", 2026): 1, ("A", 2027): 1, ("A", 2028): 1}),
    "worked_example": (lambda: _example(latest_start=2028), 0.7906336762, {("W", 2026): 1}),
    "worked_example_hurdle": (lambda: _example(latest_start=2028,
                                               project_hurdle={"irr": 0.10}), 0.0, {}),
}


def _unique_best(prog: dict) -> dict:
    found = Reference(prog).search()
    ref = Reference(prog)
    best = [k for k in range(len(found["ok"])) if found["ok"][k]
            and _close(sum(n * ref.value(p, s) for p, menu, j in
                           zip(ref.projects, found["menus"], found["picks"][k], strict=True)
                           for s, n in menu[j].items()), found["best"], 1e-9)]
    assert len(best) == 1, "the hand program has more than one optimal plan"
    return found


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_programs_by_the_reference(name):
    build, objective, plan = HAND[name]
    prog = build()
    ok, value, broken = evaluate(prog, plan)
    assert ok, broken
    assert value == pytest.approx(objective, rel=1e-6, abs=1e-9)
    found = _unique_best(prog)
    assert found["plan"] == plan and found["best"] == pytest.approx(objective, abs=1e-9)


@pytest.mark.parametrize(("build", "plan", "rules"), [
    (deadline_program, {("A", 2026): 1, ("C", 2027): 1}, ["commitment_deadline"]),
    (deadline_program, {("A", 2026): 1, ("B", 2026): 1}, ["budget.per_year[2026]"]),
    (lag_program, {("B", 2026): 1, ("A", 2027): 1}, ["requires[0].lag[2027]"]),
    (hurdle_program, {("A", 2026): 1, ("B", 2026): 1}, ["project_hurdle"]),
    (lambda: hurdle_program(False), {("B", 2026): 1}, ["hurdle_rate"]),
    (recycle_program, {("A", 2026): 1, ("B", 2027): 1}, ["budget.recycle[2027]"]),
    (lambda: recycle_program(False), {("A", 2026): 1, ("B", 2028): 1}, ["budget.total"]),
    (modular_npv_program, {("A", 2026): 3}, ["budget.per_year[2026]"]),
    (modular_return_program, {("A", 2029): 1}, ["start_window"]),
])
def test_hand_programs_refuse_the_alternatives(build, plan, rules):
    assert evaluate(build(), plan)[2] == rules


def test_hand_programs_without_their_rule():
    """The rule each hand program is about is what changes its answer."""
    assert enumerate_best(deadline_program(None)) == 8.0
    assert enumerate_best(lag_program(None)) == pytest.approx(10 / 11 + 2)
    assert enumerate_best(lag_program(0)) == pytest.approx(10 / 11 + 2)
    assert enumerate_best(hurdle_program(False)) == 5.5
    assert enumerate_best(recycle_program(False)) == 3.0


def _plan_of(result: dict) -> dict:
    """The plan {(id, start): units} of a result, strictly: every selected entry carries
    ``starts`` (year strings -> positive whole units) adding up to its ``units``."""
    plan = {}
    for entry in result["selected"]:
        starts = entry["starts"]
        assert all(isinstance(y, str) and y.isdigit() for y in starts), starts
        assert all(type(n) is int and n > 0 for n in starts.values()), starts
        assert sum(starts.values()) == entry["units"], entry
        for y, n in starts.items():
            assert (entry["id"], int(y)) not in plan, entry
            plan[(entry["id"], int(y))] = n
    return plan


def _solve(tmp_path, prog: dict, inline: bool = False) -> dict:
    return solve(write_program(tmp_path, prog, inline=inline), EXACT).to_dict()


def _agrees(prog: dict, result: dict, best: float | None) -> None:
    if best is None:
        assert result["status"] == "infeasible", result["status"]
        return
    assert result["status"] == "optimal", result["status"]
    assert _close(result["objective"], best), (result["objective"], best)
    plan = _plan_of(result)
    ok, value, broken = evaluate(prog, plan)
    assert ok, (plan, broken)
    assert _close(value, result["objective"]), (value, result["objective"])


def _check_economics(prog: dict, result: dict) -> None:
    """The result's ``economics`` against the reference's, for the plan it reports: floats
    within 1e-6 (relative), irr within 1e-6, years and units exactly. Checked where a
    funded unit has cash flows (A3: "with cash flows"); the yearly sums only where every
    funded unit has them."""
    ref = Reference(prog)
    want = ref.economics(_plan_of(result))
    cash = [e for e in want["projects"] if e["has_cash"]]
    if not cash:
        return
    got = result["economics"]
    entries = {(e["id"], int(e["start"])): e for e in got["projects"]}
    assert len(entries) == len(got["projects"]), "an entry given twice"
    assert set(entries) <= {(e["id"], e["start"]) for e in want["projects"]}
    for e in want["projects"]:
        g = entries.get((e["id"], e["start"]))
        if g is None:
            assert not e["has_cash"], f"no economics entry for {e['id']} {e['start']}"
            continue
        assert g["units"] == e["units"]
        if e["npv"] is not None:
            assert _close(g["npv"], e["npv"]), (g, e)
        assert (g["irr"] is None) == (e["irr"] is None), (g, e)
        if e["irr"] is not None:
            assert abs(g["irr"] - e["irr"]) <= 1e-6, (g, e)
        assert g["recovered_in"] == e["recovered_in"], (g, e)
    if len(cash) < len(want["projects"]):
        return
    if want["npv"] is not None:
        assert _close(got["npv"], want["npv"]), (got["npv"], want["npv"])
    for key in ("receipts_by_year", "disbursed_by_year"):
        have = {int(y): v for y, v in got[key].items()}
        for year in set(have) | set(want[key]):
            assert _close(have.get(year, 0.0), want[key].get(year, 0.0)), (key, year)


@pytest.mark.solver
@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_programs_solved(tmp_path, name):
    build, objective, plan = HAND[name]
    prog = build()
    result = _solve(tmp_path, prog)
    assert result["status"] == "optimal"
    assert _close(result["objective"], objective), result["objective"]
    assert _plan_of(result) == plan
    _agrees(prog, result, objective)
    _check_economics(prog, result)



# ------------------------------------------------------------------ random programs
SPLITS = [(0.5, 0.1), (0.5, 0.5), (1.0, 0.1), (0.6, 0.2), (1.0, 1.0), (0.4, 0.4)]
MAX_PLANS = 20000  # plans the reference enumerates per program


def _draw(rng: random.Random) -> dict:
    """A small program drawn from the contract's part A (and version 1's rules)."""
    first, last = 2026, 2026 + rng.randint(3, 5)
    years = list(range(first, last + 1))
    sectors = ["energy", "chips"][: rng.randint(1, 2)]
    npv = rng.random() < 0.5
    before, after = rng.choice(SPLITS)
    projects, profiles, cash_rows = [], [], []
    for k in range(rng.randint(3, 6)):
        pid = f"P{k + 1}"
        p: dict = {"id": pid, "sector": rng.choice(sectors)}
        nominal = rng.choice(years)
        if rng.random() < 0.25:  # a profile, which may run past the horizon
            year, capital = nominal, 0
            for _ in range(rng.randint(1, 3)):
                row = {"project": pid, "year": year, "capital": rng.randint(1, 9),
                       "labor": rng.randint(0, 30)}
                profiles.append(row)
                capital += row["capital"]
                year += rng.choice([1, 1, 2])
        else:
            capital = round(rng.uniform(1, 15), 1)
            p.update(capital=capital, start=nominal)
            if rng.random() < 0.4:
                p["build_years"] = rng.randint(2, 3)
            if rng.random() < 0.4:
                p["labor"] = rng.randint(1, 30)
        lo = rng.randint(max(first, nominal - 2), min(last, nominal + 1))
        hi = min(last, lo + rng.choice([0, 1, 1, 2]))  # up to 3 start years
        if lo != nominal:
            p["earliest_start"] = lo
        if hi != nominal:
            p["latest_start"] = hi
        if rng.random() < 0.3:
            p["max_units"] = rng.choice([2, 3])
        if rng.random() < 0.15:
            p["reinvest_every"] = rng.randint(1, 3)
            p["reinvest_capital"] = round(rng.uniform(0.5, 4), 1)
        p["return"] = round(rng.uniform(-1, 5), 2)
        r = rng.random()
        if r < 0.03:
            p["force"] = "in"
        elif r < 0.08:
            p["force"] = "out"
        r, total = rng.random(), capital * rng.uniform(1.0, 2.5) / before
        if r < 0.4:
            n = rng.randint(1, 6)
            p.update(annual_cash=round(total / n, 2), operating_years=n)
        elif r < 0.75:
            offsets = sorted(rng.sample(range(9), rng.randint(1, 5)))
            cash_rows += [{"project": pid, "offset": o,
                           "cash": round(total / len(offsets) * rng.uniform(0, 2), 2)}
                          for o in offsets]
        if r < 0.75 and rng.random() < 0.3:
            p["loss_rate"] = round(rng.uniform(0, 0.3), 2)
        if r < 0.75 and rng.random() < 0.25:
            p["deemed_rate"] = round(rng.uniform(0.01, 0.09), 3)
        projects.append(p)
    prog: dict = {"horizon": [first, last], "sectors": {s: {} for s in sectors},
                  "projects": projects, "profiles": profiles, "cash_flows": cash_rows}
    econ: dict = {}
    if cash_rows or any("annual_cash" in p for p in projects) or rng.random() < 0.3:
        econ.update(deemed_rate=round(rng.uniform(0.02, 0.08), 3),
                    split={"before": before, "after": after})
    if npv or rng.random() < 0.5:
        econ["discount_rate"] = round(rng.uniform(0.02, 0.1), 3)
    if npv or rng.random() < 0.2:
        econ["objective"] = "npv" if npv else "return"
    if rng.random() < 0.3:
        econ["base_year"] = rng.choice(years[:3])
    if econ:
        prog["economics"] = econ
    ref = Reference(prog)
    per_unit = {p["id"]: ref.max_units(p["id"]) * max(
        ref.unit(p["id"], s).capital for s in range(*ref.window(p["id"])[:1],
                                                      ref.window(p["id"])[1] + 1))
        for p in projects}
    full = sum(per_unit.values())
    budget: dict = {}
    if rng.random() < 0.7:
        budget["total"] = round(full * rng.uniform(0.3, 0.9), 1)
        if rng.random() < 0.45:
            budget.update(total=round(full * rng.uniform(0.2, 0.6), 1), recycle=True)
    for y in years:
        if rng.random() < 0.25:
            budget.setdefault("per_year", {})[y] = round(full * rng.uniform(0.08, 0.4), 1)
    if rng.random() < 0.1:  # outside the horizon: ignored (with a warning)
        budget.setdefault("per_year", {})[last + 1] = 0.1
    if budget:
        prog["budget"] = budget
    if any(p.get("labor") for p in projects) or any(r["labor"] for r in profiles):
        cap = {y: rng.randint(5, 40) for y in years if rng.random() < 0.25}
        if cap:
            prog["labor"] = {"capacity": cap}
    for s in sectors:
        inside = sum(v for p, v in per_unit.items() if ref.projects[p]["sector"] == s)
        if rng.random() < 0.15:
            prog["sectors"][s]["min"] = round(inside * rng.uniform(0.05, 0.2), 1)
        if rng.random() < 0.25:
            prog["sectors"][s]["max"] = round(inside * rng.uniform(0.3, 0.9), 1)
    if rng.random() < 0.25:
        prog["hurdle_rate"] = round(rng.uniform(0, 0.15), 3)
    elif npv:  # `return` is optional under objective npv
        for p in projects:
            if rng.random() < 0.3:
                del p["return"]
    if rng.random() < 0.4:
        prog["commitment_deadline"] = rng.choice(years[len(years) // 2:-1])
    if rng.random() < 0.35:
        hurdle = {"irr": round(rng.uniform(0, 0.09), 3)} if rng.random() < 0.7 else {}
        if not hurdle or rng.random() < 0.5:
            hurdle["recover_within"] = rng.randint(3, 10)
        prog["project_hurdle"] = hurdle
    ids, deps = [p["id"] for p in projects], []
    for chance in (0.7, 0.25):
        if rng.random() < chance:
            a, b = rng.sample(ids, 2)
            deps.append({"type": "requires", "project": a, "on": b})
            if rng.random() < 0.75:
                deps[-1]["lag"] = rng.randint(0, 2)
    if rng.random() < 0.2:
        deps.append({"type": "excludes", "projects": rng.sample(ids, 2)})
    if deps:
        prog["dependencies"] = deps
    return prog


def _random_program(seed: int) -> dict:
    """The first draw for ``seed`` small enough to enumerate and with no plan or unit
    within a solver's tolerance of a limit (where the two could honestly differ)."""
    for attempt in range(200):
        prog = _draw(random.Random(seed * 1000 + attempt))
        ref = Reference(prog)
        if ref.space() <= MAX_PLANS and not ref.search()["near"]:
            return prog
    raise AssertionError(f"no usable program for seed {seed}")


@pytest.mark.parametrize("seed", range(8))
def test_reference_search_agrees_with_evaluate_on_every_plan(seed):
    """The vectorised enumeration and the rule-by-rule evaluation, two codings of the same
    rules, agree on every plan's feasibility and value."""
    prog = _random_program(seed)
    ref = Reference(prog)
    found = ref.search()
    for k in range(found["plans"]):
        plan = {(p, s): n for p, menu, j in zip(ref.projects, found["menus"],
                                                found["picks"][k], strict=True)
                for s, n in menu[j].items()}
        ok, _, broken = ref.evaluate(plan)
        assert ok == bool(found["ok"][k]), (plan, broken)
    if found["best"] is not None:
        ok, value, _ = ref.evaluate(found["plan"])
        assert ok and value == pytest.approx(found["best"], abs=1e-9)


SEEDS = range(40)


@pytest.mark.solver
@pytest.mark.parametrize("seed", SEEDS)
def test_random_programs_against_enumeration(tmp_path, seed):
    prog = _random_program(seed)
    result = _solve(tmp_path, prog, inline=seed % 2 == 1)
    _agrees(prog, result, enumerate_best(prog))


@pytest.mark.solver
@pytest.mark.parametrize("seed", SEEDS)
def test_random_programs_economics(tmp_path, seed):
    prog = _random_program(seed)
    result = _solve(tmp_path, prog, inline=seed % 2 == 0)
    if result["status"] in ("optimal", "feasible"):
        _check_economics(prog, result)


# -------------------------------------------------------------- version 1 is unchanged
def _as_v1(prog: dict) -> dict:
    """The program with every part-A field taken out, as a version-1 file."""
    out = copy.deepcopy(prog)
    for key in ("economics", "project_hurdle", "commitment_deadline", "cash_flows"):
        out.pop(key, None)
    out.get("budget", {}).pop("recycle", None)
    for dep in out.get("dependencies", []):
        dep.pop("lag", None)
    for p in out["projects"]:
        for col in ("earliest_start", "latest_start", "annual_cash", "operating_years",
                    "loss_rate", "deemed_rate"):
            p.pop(col, None)
        p.setdefault("return", 1.0)
    out["format"] = V1
    return out


def _read_program(path) -> dict:
    """A program's files read back into the reference's dict (numbers as numbers)."""
    def number(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    doc = yaml.safe_load(path.read_text())
    for dep in doc.get("dependencies") or []:  # PyYAML reads the key `on` as YAML 1.1's true
        if True in dep:
            dep["on"] = dep.pop(True)
    for key in ("projects", "profiles"):
        if isinstance(doc.get(key), str):
            with (path.parent / doc[key]).open() as fh:
                doc[key] = [{k: number(v) for k, v in row.items() if v != ""}
                            for row in csv.DictReader(fh)]
    return doc


def _same_results(tmp_path, files) -> tuple[dict, dict]:
    """Solve the program in ``files`` (a function writing it into a folder and returning
    its path) as version 1 and as version 2: the same status, objective and selection,
    every unit started in its nominal year."""
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    one = files(tmp_path / "v1", V1)
    two = files(tmp_path / "v2", V2)
    a, b = solve(one, EXACT).to_dict(), solve(two, EXACT).to_dict()
    assert a["status"] == b["status"]
    if a["objective"] is None:
        assert b["objective"] is None
    else:
        assert _close(a["objective"], b["objective"], 1e-9)
    assert [(s["id"], s["units"]) for s in a["selected"]] == \
        [(s["id"], s["units"]) for s in b["selected"]]
    prog = _read_program(two)
    ref = Reference(prog)
    assert _plan_of(b) == {(s["id"], ref.nominal(s["id"])): s["units"] for s in b["selected"]}
    if b["status"] == "optimal":
        ok, value, broken = evaluate(prog, _plan_of(b))
        assert ok and _close(value, b["objective"]), broken
    return b, prog


@pytest.mark.solver
@pytest.mark.parametrize("seed", range(4))
def test_version_1_programs_keep_their_results(tmp_path, seed):
    base = _as_v1(_random_program(100 + seed))

    def files(folder, version):
        return write_program(folder, dict(base, format=version), inline=seed % 2 == 0)

    b, prog = _same_results(tmp_path, files)
    best = enumerate_best(prog)
    assert (b["objective"] is None) if best is None else _close(b["objective"], best)


@pytest.mark.solver
def test_the_pilot_keeps_its_result_as_version_2(tmp_path):
    from helpers import ROOT

    def files(folder, version):
        for f in (ROOT / "instances" / "pilot-v1").iterdir():
            shutil.copy(f, folder / f.name)
        path = folder / "program.yaml"
        text = path.read_text()
        assert f"format: {V1}\n" in text
        path.write_text(text.replace(f"format: {V1}\n", f"format: {version}\n"))
        return path

    b, _ = _same_results(tmp_path, files)
    assert b["status"] == "optimal"
