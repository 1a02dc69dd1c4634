"""The independent checker catches every kind of broken rule, with its amount."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import program, write

from optimizer import UsageError, check_plan, load


@pytest.fixture
def instance(tmp_path):
    doc = program(
        [
            {"id": "A", "capital": 10, "return": 1, "sector": "energy", "labor": 100,
             "build_years": 2},
            {"id": "B", "capital": 6, "return": 2, "sector": "shipbuilding", "max_units": 2,
             "reinvest_every": 2, "reinvest_capital": 1},
            {"id": "C", "capital": 4, "return": 0.1, "sector": "energy", "force": "in"},
            {"id": "D", "capital": 4, "return": 3, "sector": "energy", "force": "out"},
            {"id": "E", "capital": 2, "return": 1, "sector": "shipbuilding"},
        ],
        budget={"total": 30, "per_year": {2026: 12, 2027: 8}},
        sectors={"energy": {"min": 4, "max": 12}, "shipbuilding": {"min": 1}},
        labor={"capacity": {2026: 150, 2027: 50}},
        hurdle_rate=0.1,
        dependencies=[{"type": "requires", "project": "E", "on": "A"},
                      {"type": "excludes", "projects": ["B", "E"]}],
    )
    return load(write(tmp_path, doc))


def plan(**units):
    return pd.Series({k: units.get(k, 0) for k in "ABCDE"})


def rules(report):
    return sorted({v.rule for v in report.violations})


def test_a_valid_plan_passes(instance):
    report = check_plan(instance, plan(B=1, C=1))
    assert report.valid, report.violations
    # B: 6 in 2026 + reinvestments of 1 in 2028 and 2030; C: 4 in 2026
    assert report.total_capital == pytest.approx(12)
    assert report.capital_by_year.to_dict() == {2026: 10.0, 2027: 0.0, 2028: 1.0,
                                                2029: 0.0, 2030: 1.0}
    assert report.total_return == pytest.approx(2.1)


@pytest.mark.parametrize("units,expected", [
    (plan(C=1), ["sector_min"]),                       # shipbuilding floor of 1 missed
    (plan(A=1, B=1, C=0), ["force_in"]),
    (plan(B=1, C=1, D=1), ["force_out"]),
    (plan(B=1, C=1, E=1), ["excludes", "requires"]),
    (plan(A=1, B=2, C=1), ["budget_year", "labor_year"]),   # 2026: 5+12+4 > 12; labor 2027
    (plan(B=3, C=1), ["units"]),                        # above max_units
])
def test_each_broken_rule_is_named(instance, units, expected):
    found = rules(check_plan(instance, units))
    for rule in expected:
        assert rule in found


def test_amounts_are_reported(instance):
    report = check_plan(instance, plan(A=1, B=2, C=1))
    year = next(v for v in report.violations if v.rule == "budget_year" and v.key == "2026")
    assert year.value == pytest.approx(5 + 12 + 4) and year.limit == 12
    assert year.excess == pytest.approx(9)
    labor = next(v for v in report.violations if v.rule == "labor_year")
    assert (labor.key, labor.value, labor.limit) == ("2027", 100, 50)


def test_sector_ceiling_total_and_hurdle(tmp_path):
    doc = program([{"id": "A", "capital": 10, "return": 0.5, "max_units": 5}],
                  budget={"total": 25}, sectors={"energy": {"max": 20}}, hurdle_rate=0.1)
    inst = load(write(tmp_path, doc))
    assert rules(check_plan(inst, pd.Series({"A": 3}))) == ["budget_total", "hurdle",
                                                            "sector_max"]
    assert check_plan(inst, pd.Series({"A": 0})).valid


def test_tolerance_is_relative(tmp_path):
    doc = program([{"id": "A", "capital": 1000.0000005, "return": 1}], budget={"total": 1000})
    inst = load(write(tmp_path, doc))
    assert check_plan(inst, pd.Series({"A": 1})).valid          # 5e-10 relative: within
    doc = program([{"id": "A", "capital": 1000.01, "return": 1}], budget={"total": 1000})
    inst = load(write(tmp_path, doc))
    assert not check_plan(inst, pd.Series({"A": 1})).valid      # 1e-5 relative: broken


def test_a_plan_as_a_mapping_a_series_or_an_array(instance):
    by_array = check_plan(instance, [0, 1, 1, 0, 0])
    for given in ({"B": 1, "C": 1}, pd.Series({"C": 1, "B": 1}), pd.Series({"B": 1.0, "C": 1.0}),
                  np.array([0, 1, 1, 0, 0]), np.array([0.0, 1.0, 1.0, 0.0, 0.0]),
                  {"A": 0, "B": np.int64(1), "C": 1.0}):
        report = check_plan(instance, given)  # ids left out have 0 units
        assert report.valid, given
        assert report.total_capital == by_array.total_capital
        assert report.total_return == by_array.total_return


@pytest.mark.parametrize("units,words", [
    ({"B": 1, "C": 1, "P99": 1}, ["unknown project id 'P99'"]),
    (pd.Series({"C": 1, "X": 2, "Y": 0}), ["unknown project ids 'X', 'Y'"]),
    ({"B": -1, "C": 1}, ["project 'B'", "whole number >= 0", "-1"]),
    ({"B": 1.5, "C": 1}, ["project 'B'", "1.5"]),
    ({"B": float("nan"), "C": 1}, ["project 'B'", "nan"]),
    ({"B": float("inf"), "C": 1}, ["project 'B'", "inf"]),
    ({"B": "1", "C": 1}, ["project 'B'", "'1'"]),
    ({"B": True, "C": 1}, ["project 'B'", "True"]),
    (pd.Series([1, 1], index=["C", "C"]), ["given twice", "'C'"]),
    ([0, 1, 1], ["one count for each of the 5 projects", "got 3"]),
    (np.zeros((5, 2)), ["shape (5, 2)"]),
    ([0, 1, 1, 0, -2], ["project 'E' (position 4)", "-2"]),
    (np.array([0, 0.5, 1, 0, 0]), ["project 'B' (position 1)", "0.5"]),
    ("B", ["mapping"]),
    (3, ["mapping"]),
])
def test_a_malformed_plan_is_a_usage_error_naming_it(instance, units, words):
    with pytest.raises(UsageError) as caught:
        check_plan(instance, units)
    message = str(caught.value)
    assert message.startswith("check_plan: ")
    for word in words:
        assert word in message, message


def test_more_than_max_units_stays_a_violation(instance):
    report = check_plan(instance, {"B": 3, "C": 1})  # B's max_units is 2
    units = [v for v in report.violations if v.rule == "units"]
    assert [(v.key, v.value, v.limit) for v in units] == [("B", 3.0, 2.0)]
