"""Hand-solvable programs, one per rule family: in each the rule binds and changes the
answer (the comment gives the answer without the rule, then with it)."""

from __future__ import annotations

import pytest
from helpers import chosen, program, solve_checked, write


def p(pid: str, capital: float, ret: float, **kw):
    return {"id": pid, "capital": capital, "return": ret, **kw}


CASES = {
    # without the cap: A+B+C = 14; with total 10: B+C = 8 (greedy by return picks A = 6)
    "budget_total": (program([p("A", 6, 6), p("B", 5, 4), p("C", 5, 4)], budget={"total": 10}),
                     8, {"B": 1, "C": 1}),
    # A and B disburse in 2026, capped at 6: A+C = 10 (without: 14)
    "budget_per_year": (program([p("A", 6, 6), p("B", 5, 4), p("C", 5, 4, start=2027)],
                                budget={"per_year": {2026: 6}}), 10, {"A": 1, "C": 1}),
    # a floor forces the poor semiconductor project in: 1 (without: 5)
    "sector_min": (program([p("A", 10, 1, sector="semiconductors"), p("B", 10, 5)],
                           budget={"total": 10},
                           sectors={"semiconductors": {"min": 10}, "energy": None}),
                   1, {"A": 1}),
    # a ceiling keeps energy to one project: A+C = 6 (without: 10)
    "sector_max": (program([p("A", 10, 5), p("B", 10, 4), p("C", 10, 1, sector="shipbuilding")],
                           sectors={"energy": {"max": 10}, "shipbuilding": None}),
                   6, {"A": 1, "C": 1}),
    # 120 specialists in 2026: B+C = 6 beats A = 5 (without: 11)
    "labor": (program([p("A", 1, 5, labor=100), p("B", 1, 3, labor=60), p("C", 1, 3, labor=60)],
                      labor={"capacity": {2026: 120}}), 6, {"B": 1, "C": 1}),
    # hurdle 10%: A+B returns 1.7 on 20 (< 2), so only A: 1.2 (without: 1.7)
    "hurdle": (program([p("A", 10, 1.2), p("B", 10, 0.5)], hurdle_rate=0.10),
               1.2, {"A": 1}),
    # A needs B (a loss); budget for two: A+B = 4 (without: A+C = 8)
    "requires": (program([p("A", 10, 5), p("B", 10, -1), p("C", 10, 3)], budget={"total": 20},
                         dependencies=[{"type": "requires", "project": "A", "on": "B"}]),
                 4, {"A": 1, "B": 1}),
    # at most one of A, B: A+C = 6 (without: 10)
    "excludes": (program([p("A", 1, 5), p("B", 1, 4), p("C", 1, 1)],
                         dependencies=[{"type": "excludes", "projects": ["A", "B"]}]),
                 6, {"A": 1, "C": 1}),
    # a forced loss-maker fills the budget: -1 (without: 5)
    "force_in": (program([p("A", 10, -1, force="in"), p("B", 10, 5)], budget={"total": 10}),
                 -1, {"A": 1}),
    # the best project forced out: 4 (without: 5)
    "force_out": (program([p("A", 10, 5, force="out"), p("B", 10, 4)], budget={"total": 10}),
                  4, {"B": 1}),
    # three units allowed, the budget pays for two: 6 (with max_units 1: 3 + 1)
    "max_units": (program([p("A", 10, 3, max_units=3), p("B", 10, 1)], budget={"total": 25}),
                  6, {"A": 2}),
    # refreshed every 2 years inside 2026-2030: 10 + 2 x 5 = 20 > 15, so only B: 1 (without: 2)
    "reinvestment": (program([p("A", 10, 2, reinvest_every=2, reinvest_capital=5),
                              p("B", 12, 1, start=2027)], budget={"total": 15}),
                     1, {"B": 1}),
    # build years spread 9 over 3 years: 3 in 2026 fits the cap of 3 next to nothing else;
    # B's 4 in one year does not fit: A = 2 (spread ignored: B = 3)
    "build_years": (program([p("A", 9, 2, build_years=3), p("B", 4, 3)],
                            budget={"per_year": {2026: 3}}), 2, {"A": 1}),
    # modular project requires another on its funded indicator: A (2 units) needs B
    "requires_modular": (program([p("A", 5, 3, max_units=2), p("B", 5, -0.5), p("C", 5, 2)],
                                 budget={"total": 15},
                                 dependencies=[{"type": "requires", "project": "A", "on": "B"}]),
                         5.5, {"A": 2, "B": 1}),
}


@pytest.mark.solver
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("csv", [False, True], ids=["inline", "csv"])
def test_known_answer(tmp_path, name, csv):
    doc, objective, plan = CASES[name]
    result = solve_checked(write(tmp_path, doc, csv=csv))
    assert result.status == "optimal"
    assert result.objective == pytest.approx(objective, abs=1e-9)
    assert chosen(result) == plan


@pytest.mark.solver
def test_rule_changes_answer(tmp_path):
    """Each rule matters: removing it changes the optimum (so the cases above can fail)."""
    drop = {"budget_total": "budget", "budget_per_year": "budget", "sector_min": "sectors",
            "sector_max": "sectors", "labor": "labor", "hurdle": "hurdle_rate",
            "requires": "dependencies", "excludes": "dependencies"}
    for name, key in drop.items():
        doc, objective, _ = CASES[name]
        loose = dict(doc)
        if key == "sectors":
            loose["sectors"] = {s: None for s in doc["sectors"]}
        else:
            loose.pop(key)
        folder = tmp_path / name
        folder.mkdir()
        result = solve_checked(write(folder, loose))
        assert result.objective > objective + 1e-6, name


@pytest.mark.solver
def test_profile_years_after_horizon_count_in_total_only(tmp_path):
    """Profile rows after the horizon count toward the total but meet no per-year cap."""
    doc = program([{"id": "A", "return": 5}, p("B", 4, 1)], horizon=[2026, 2027],
                  budget={"total": 10, "per_year": {2026: 3, 2027: 3}})
    profiles = [{"project": "A", "year": 2027, "capital": 2, "labor": 0},
                {"project": "A", "year": 2029, "capital": 7, "labor": 0}]
    result = solve_checked(write(tmp_path, doc, csv=True, profiles=profiles))
    # A: 2 in 2027 (fits the cap) + 7 later = 9 of the total; B (4 in 2026) breaks 2026's cap
    assert chosen(result) == {"A": 1}
    assert result.check.total_capital == pytest.approx(9)
    assert result.capital_by_year()["used"].to_dict() == {2026: 0.0, 2027: 2.0}


@pytest.mark.solver
def test_infeasible_names_the_rule(tmp_path):
    doc = program([p("A", 10, 1, sector="shipbuilding"), p("B", 10, 2)], budget={"total": 50},
                  sectors={"shipbuilding": {"min": 20}, "energy": None})
    result = solve_checked(write(tmp_path, doc))
    assert result.status == "infeasible"
    assert result.exit_code == 3
    assert result.conflicts[0].rule == "sectors.min"
    assert result.conflicts[0].key == "shipbuilding"
    assert result.conflicts[0].achievable == pytest.approx(10)


def test_empty_sector_floor_is_infeasible(tmp_path):
    doc = program([p("A", 10, 1)], sectors={"energy": None, "shipbuilding": {"min": 5}})
    result = solve_checked(write(tmp_path, doc))
    assert result.status == "infeasible"
    assert "shipbuilding" in result.message


@pytest.mark.solver
def test_labor_conflict_with_forced_project(tmp_path):
    doc = program([p("A", 10, 1, labor=50_000, force="in"), p("B", 10, 2)],
                  labor={"capacity": {2026: 35_000}})
    result = solve_checked(write(tmp_path, doc))
    assert result.status == "infeasible"
    (conflict,) = result.conflicts
    assert (conflict.rule, conflict.key) == ("labor.capacity", "2026")
    assert "A" in conflict.message and "15,000" in conflict.message


@pytest.mark.solver
def test_hurdle_conflict(tmp_path):
    doc = program([p("A", 10, 0.5, force="in"), p("B", 10, 0.6)], hurdle_rate=0.2)
    result = solve_checked(write(tmp_path, doc))
    assert result.status == "infeasible"
    assert result.conflicts[0].rule == "hurdle_rate"


def test_column_bounds_match_the_variables(tmp_path):
    """The translation takes column bounds from arrays: they must equal the Pyomo bounds."""
    import numpy as np

    from formulations import build
    from optimizer import load

    doc = program([p("A", 1, 1, force="in", max_units=3), p("B", 1, 1, force="out"),
                   p("C", 1, 1, max_units=2, force="out"), p("D", 1, 1), p("E", 1, 1,
                                                                         force="in")],
                  dependencies=[{"type": "requires", "project": "A", "on": "C"}])
    pm = build(load(write(tmp_path, doc)))
    cols = pm.pyomo.columns
    assert np.array_equal(pm.columns.lower, [c.lb for c in cols])
    assert np.array_equal(pm.columns.upper, [c.ub for c in cols])


@pytest.mark.solver
def test_heuristic_effort_follows_the_time_limit():
    """A short time limit raises HiGHS's heuristic effort (as measured, see
    ``solver.SHORT_LIMIT``); a long one or none leaves HiGHS's own; an explicit effort
    always wins. The plan is the same proven optimum either way."""
    from pathlib import Path

    from optimizer import SolveOptions, solve
    from optimizer.solving.highs import SHORT_LIMIT, SHORT_LIMIT_EFFORT

    pilot = Path(__file__).resolve().parents[1] / "instances" / "pilot-v1" / "program.yaml"
    seen = {}
    for name, options in {
        "short": SolveOptions(threads=1, gap=0.0, time_limit=SHORT_LIMIT),
        "long": SolveOptions(threads=1, gap=0.0, time_limit=SHORT_LIMIT + 1),
        "none": SolveOptions(threads=1, gap=0.0),
        "explicit": SolveOptions(threads=1, gap=0.0, time_limit=5, heuristic_effort=0.1),
    }.items():
        result = solve(pilot, options)
        assert result.status == "optimal" and result.valid
        seen[name] = (result.solver["options"].get("mip_heuristic_effort"), result.objective)
    assert seen["short"][0] == SHORT_LIMIT_EFFORT
    assert seen["long"][0] is None and seen["none"][0] is None
    assert seen["explicit"][0] == 0.1
    assert len({objective for _, objective in seen.values()}) == 1


@pytest.mark.solver
def test_local_search_is_an_option():
    """Local search is off by default, with a time limit or without (as measured, see
    ``solver.LOCAL_SEARCH_SHARE``); ``on`` runs it; the plan is the same proven optimum
    every way. (That the search keeps to its share of the limit is tested on a fake clock
    in test_local_search.py: the pilot solves far inside any such bound.)"""
    from pathlib import Path

    from optimizer import SolveOptions, solve
    from optimizer.errors import UsageError

    pilot = Path(__file__).resolve().parents[1] / "instances" / "pilot-v1" / "program.yaml"
    seen = {}
    for name, options in {
        "limit": SolveOptions(threads=1, gap=0.0, time_limit=30),
        "none": SolveOptions(threads=1, gap=0.0),
        "on": SolveOptions(threads=1, gap=0.0, local_search="on"),
        "on, limit": SolveOptions(threads=1, gap=0.0, time_limit=30, local_search="on"),
    }.items():
        result = solve(pilot, options)
        assert result.status == "optimal" and result.valid
        seen[name] = (result.solver["options"].get("local_search"), result.objective)
    assert seen["none"][0] is None and seen["limit"][0] is None
    for name in ("on", "on, limit"):
        report = seen[name][0]
        assert report["failure"] is None
        assert report["plans"] >= 0 and report["gain"] >= 0
    assert len({objective for _, objective in seen.values()}) == 1
    with pytest.raises(UsageError):
        SolveOptions(local_search="auto")


@pytest.mark.solver
@pytest.mark.slow
def test_local_search_hands_back_better_plans_on_a_hard_knapsack(tmp_path):
    """On a Chu-Beasley problem HiGHS's first plans are poor: the climb improves them, its
    plans reach HiGHS, and what comes back is a checked plan of the whole problem."""
    from pathlib import Path

    from optimizer import SolveOptions, solve
    from optimizer.program.orlib import convert

    orlib = Path(__file__).resolve().parents[1] / "instances" / "orlib" / "mknapcb4.txt"
    program = next(p for p in convert(orlib, tmp_path) if p.parent.name == "mknapcb4-00")
    result = solve(program, SolveOptions(threads=1, time_limit=2, local_search="on",
                                         heuristic="off"))  # HiGHS's own plans
    report = result.solver["options"]["local_search"]
    assert result.valid and result.objective > 0
    assert report["plans"] >= 1 and report["gain"] > 0 and report["failure"] is None
