"""The rule families: the Japanese-supplier share (format version 2, section B4) as the
proof that a family added in one module reaches every stage, and the Pyomo form as the
extension form (a rule added to it is honoured, named and reported as not checked).

Every solve here is compared with an independent brute force written in this file (all
subsets of a small program, the rules recomputed in plain Python) or re-checked by the
independent checker.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from formulations import build
from formulations.registry import FAMILIES
from optimizer import check_plan, derive, load, marginal_values, solve, sweep
from optimizer.diagnosis.diagnose import diagnose
from tests.helpers import EXACT, error_object, run, solve_checked, write

pytestmark = pytest.mark.solver


def v2(projects, **fields):
    """A version-2 program: horizon 2026-2030, one sector, projects inline."""
    doc = {"format": "capital-portfolio/2", "name": "v2", "horizon": [2026, 2030],
           "sectors": {"energy": None, "chips": None}}
    doc.update(fields)
    doc["projects"] = [{"sector": "energy", "start": 2026, **p} for p in projects]
    return doc


def brute_force(projects, budget, beta, floor=None, chips_floor=None):
    """The best total return over every subset of single-unit projects: capital within
    the budget, capital with Japanese suppliers at least beta x capital, and the chips
    sector's floor; None when no subset is feasible. Independent of the package."""
    best = None
    for picks in itertools.product((0, 1), repeat=len(projects)):
        chosen = [p for p, x in zip(projects, picks, strict=True) if x]
        capital = sum(p["capital"] for p in chosen)
        japanese = sum(p["capital"] * p.get("japan_share", 0.0) for p in chosen)
        if capital > budget + 1e-9:
            continue
        if beta is not None and japanese < beta * capital - 1e-9:
            continue
        chips = sum(p["capital"] for p in chosen if p["sector"] == "chips")
        if chips_floor is not None and chips < chips_floor - 1e-9:
            continue
        value = sum(p["return"] for p in chosen)
        best = value if best is None or value > best else best
    return best


def random_projects(rng, n):
    return [{"id": f"P{k}", "capital": float(rng.integers(1, 20)),
             "return": float(rng.integers(-2, 15)),
             "japan_share": float(rng.choice([0.0, 0.1, 0.25, 0.5, 0.8, 1.0])),
             "sector": "chips" if rng.random() < 0.3 else "energy"} for k in range(n)]


@pytest.mark.parametrize("seed", range(24))
def test_the_supplier_share_matches_a_brute_force(tmp_path, seed):
    rng = np.random.default_rng(seed)
    projects = random_projects(rng, int(rng.integers(3, 10)))
    budget = float(rng.integers(10, 60))
    beta = float(rng.choice([0.0, 0.2, 0.35, 0.5, 0.7, 0.9]))
    doc = v2(projects, budget={"total": budget}, min_japan_share=beta)
    result = solve_checked(write(tmp_path, doc))
    best = brute_force(projects, budget, beta)
    assert best is not None  # the empty plan is always feasible here
    assert result.status == "optimal"
    assert result.objective == pytest.approx(max(best, 0.0) if best is not None else 0.0,
                                             abs=1e-6)
    # the plan keeps the share, recomputed here from the file's own numbers
    units = result.units
    capital = sum(p["capital"] * units[p["id"]] for p in projects)
    japanese = sum(p["capital"] * p["japan_share"] * units[p["id"]] for p in projects)
    assert japanese >= beta * capital - 1e-6


def test_a_version_2_file_without_the_rule_means_version_1(tmp_path):
    projects = [{"id": "A", "capital": 6, "return": 6}, {"id": "B", "capital": 5, "return": 4},
                {"id": "C", "capital": 5, "return": 4}]
    one = solve_checked(write(tmp_path, {**v2(projects, budget={"total": 10}),
                                         "format": "capital-portfolio/1"}, name="a.yaml"))
    two = solve_checked(write(tmp_path, v2(projects, budget={"total": 10}), name="b.yaml"))
    assert one.objective == two.objective == 8
    assert list(one.units) == list(two.units)


def _binding_program(tmp_path, beta=0.5):
    """B and C (return 8 together) beat A with either (7), but only A buys Japanese: with
    a share of 0.5 the best plan is A and one of B, C, exactly at the share."""
    projects = [{"id": "A", "capital": 5, "return": 3, "japan_share": 1.0},
                {"id": "B", "capital": 5, "return": 4}, {"id": "C", "capital": 5, "return": 4}]
    return write(tmp_path, v2(projects, budget={"total": 10}, min_japan_share=beta))


def test_the_rule_binds_reports_and_prices(tmp_path):
    path = _binding_program(tmp_path)
    instance = load(path)
    result = solve(instance, EXACT)
    assert result.status == "optimal" and result.valid
    assert result.objective == pytest.approx(7.0)  # A and one of B, C: 5 of 10 Japanese
    assert "min_japan_share" in result.binding()
    data = json.loads(result.to_json())
    assert "min_japan_share" in data["binding"]
    assert "capital with Japanese suppliers" in result.summary()
    # marginal values: one step of the share down (0.5 -> 0.49) frees nothing here
    frame = marginal_values(instance, result, EXACT)
    row = frame[frame["rule"] == "min_japan_share"].iloc[0]
    assert row["binding"] and row["step"] == pytest.approx(-0.01)
    assert row["mip_status"] == "optimal"
    cold = solve(derive(instance, min_japan_share=0.49), EXACT)
    assert row["new_objective"] == pytest.approx(cold.objective)


def test_the_checker_finds_a_plan_that_breaks_the_share(tmp_path):
    instance = load(_binding_program(tmp_path))
    report = check_plan(instance, {"B": 1, "C": 1})
    assert [v.rule for v in report.violations] == ["min_japan_share"]
    v = report.violations[0]
    assert v.value == pytest.approx(0.0) and v.limit == pytest.approx(5.0)
    assert check_plan(instance, {"A": 1, "B": 1}).valid


def test_derive_and_sweep_move_the_share(tmp_path):
    instance = load(_binding_program(tmp_path))
    assert derive(instance, min_japan_share=0.2).params["min_japan_share"] == 0.2
    assert derive(instance, min_japan_share=None).params["min_japan_share"] is None
    from optimizer import UsageError

    with pytest.raises(UsageError, match="min_japan_share"):
        derive(instance, min_japan_share=1.5)
    values = [0.0, 0.3, 0.5, 0.6, 0.9]
    s = sweep(instance, {"min_japan_share": values}, EXACT)
    for value, result in zip(values, s.results, strict=True):
        cold = solve(derive(instance, min_japan_share=value), EXACT)
        assert result.status == cold.status
        assert result.objective == pytest.approx(cold.objective)
        assert result.valid
    # tighter shares never return more
    objectives = [r.objective for r in s.results]
    assert objectives == sorted(objectives, reverse=True)


def test_an_impossible_share_is_explained_three_ways(tmp_path):
    """A project forced in with no Japanese supplier and a share of 0.5: the arithmetic,
    the elastic relaxation and the IIS each name the rule."""
    projects = [{"id": "A", "capital": 6, "return": 6, "japan_share": 0.1, "force": "in"},
                {"id": "B", "capital": 5, "return": 4, "japan_share": 0.2}]
    path = write(tmp_path, v2(projects, min_japan_share=0.5))
    story = diagnose(path, EXACT)
    assert story.result.status == "infeasible"
    assert any(f.rule == "min_japan_share" and f.kind == "conflict" for f in story.findings)
    assert any(c.rule == "min_japan_share" for c in story.result.conflicts)
    assert story.iis is not None and story.iis.status == "found"
    assert any(m.rule == "min_japan_share" for m in story.iis.members)
    member = next(m for m in story.iis.members if m.rule == "min_japan_share")
    assert member.limit == pytest.approx(0.5)  # the share, not the row's 0


def test_the_command_line_knows_the_rule(tmp_path):
    path = _binding_program(tmp_path)
    out = run("solve", str(path), "--json")
    assert out.returncode == 0, out.stderr
    assert "min_japan_share" in json.loads(out.stdout)["binding"]
    out = run("sweep", str(path), "--param", "min_japan_share=0.2,0.6", "--json")
    assert out.returncode == 0, out.stderr
    assert [p["status"] for p in json.loads(out.stdout)["points"]] == ["optimal", "optimal"]
    bad = write(tmp_path, {**v2([{"id": "A", "capital": 1, "return": 1,
                                  "japan_share": 1.5}])}, name="bad.yaml")
    out = run("validate", str(bad), "--json")
    assert out.returncode == 2
    error = error_object(out.stdout, 2)
    assert "japan_share" in out.stdout and error["problems"]


# ------------------------------------------------------------------ the registry
def test_every_rule_has_one_family_and_every_row_a_rule_or_a_role(tmp_path):
    names = [r.name for f in FAMILIES for r in f.rules]
    assert len(names) == len(set(names))
    path = _binding_program(tmp_path)
    pm = build(load(path))
    for block in pm.blocks:
        assert block.family in {f.name for f in FAMILIES}, block.name
        if block.role == "rule":
            assert block.lower_rule in names or block.upper_rule in names, block.name
            for rule in (block.lower_rule, block.upper_rule):
                assert rule is None or rule in names
        else:
            assert block.role == "definition"


def test_the_plan_is_read_by_column_block(tmp_path):
    pm = build(load(_binding_program(tmp_path)))
    values = np.zeros(pm.n_columns)
    values[pm.columns.positions("units")] = [1, 0, 1]
    plan = pm.plan(values)
    assert plan.units.tolist() == [1, 0, 1]


# -------------------------------------------------------------- the Pyomo form
def test_a_rule_added_to_the_pyomo_form_is_honoured_and_reported(tmp_path):
    """B and C together win without the added rule; the rule 'not both B and C' makes A
    part of the best plan. The checker says it did not check that rule."""
    import pyomo.core as pyo

    projects = [{"id": "A", "capital": 6, "return": 6}, {"id": "B", "capital": 5, "return": 4},
                {"id": "C", "capital": 5, "return": 4}]
    pm = build(load(write(tmp_path, v2(projects, budget={"total": 11}))))
    columns = pm.pyomo.columns
    pm.model.not_both = pyo.Constraint(expr=columns[1] + columns[2] <= 1)
    result = solve(pm, EXACT)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(10.0)
    assert result.units["B"] + result.units["C"] == 1
    assert result.check.unchecked == ("not_both",)
    assert json.loads(result.to_json())["check"]["unchecked"] == ["not_both"]
    assert "not checked independently" in result.summary()
    assert result.solver["interface"].startswith("pyomo")


def test_a_rule_added_to_the_pyomo_form_is_named_when_it_conflicts(tmp_path):
    import pyomo.core as pyo

    projects = [{"id": "A", "capital": 6, "return": 6, "force": "in"},
                {"id": "B", "capital": 5, "return": 4}]
    pm = build(load(write(tmp_path, v2(projects))))
    pm.model.no_a = pyo.Constraint(expr=pm.pyomo.columns[0] <= 0)
    result = solve(pm, EXACT)
    assert result.status == "infeasible"
    assert any(c.rule == "no_a" for c in result.conflicts), result.conflicts


def test_a_variable_added_to_the_pyomo_form_is_a_decision_of_the_plan(tmp_path):
    """A continuous variable the caller adds (capital left over, priced at 0.01 per $B)
    is solved with the model and read back by name."""
    import pyomo.core as pyo

    projects = [{"id": "A", "capital": 6, "return": 6}, {"id": "B", "capital": 5, "return": 4}]
    pm = build(load(write(tmp_path, v2(projects))))
    m, cols = pm.model, pm.pyomo.columns
    m.spare = pyo.Var(bounds=(0, None))
    m.spare_def = pyo.Constraint(expr=m.spare + 6 * cols[0] + 5 * cols[1] == 10)
    m.total_return.set_value(m.total_return.expr + 0.01 * m.spare)
    result = solve(pm, EXACT)
    assert result.status == "optimal"
    assert result.units.tolist() == [1, 0]  # A with 4 spare beats B with 5
    assert result.decisions["pyomo"]["spare"] == pytest.approx(4.0)
    assert json.loads(result.to_json())["decisions"]["pyomo"]["spare"] == pytest.approx(4.0)
    # the caller's objective is the solver's to report; the checker's total return beside
    assert result.objective == pytest.approx(6.04)
    assert result.check.total_return == pytest.approx(6.0)


def test_the_pyomo_forms_own_bounds_and_fixed_values_are_honoured(tmp_path):
    """A caller who tightens a bound or fixes a variable of the model's own columns in the
    Pyomo form gets a plan that keeps them."""
    projects = [{"id": "A", "capital": 6, "return": 6}, {"id": "B", "capital": 5, "return": 4},
                {"id": "C", "capital": 5, "return": 4}]
    path = write(tmp_path, v2(projects, budget={"total": 11}))
    pm = build(load(path))
    pm.pyomo.columns[0].setub(0)  # A out
    result = solve(pm, EXACT)
    assert result.units.tolist() == [0, 1, 1] and result.objective == pytest.approx(8.0)
    pm = build(load(path))
    pm.pyomo.columns[1].fix(1)  # B in
    result = solve(pm, EXACT)
    assert result.units["B"] == 1 and result.valid
    assert result.objective == pytest.approx(10.0)  # B with A: 11 of 11


def test_a_minimising_objective_in_the_pyomo_form_is_refused(tmp_path):
    import pyomo.core as pyo

    from optimizer import UsageError

    projects = [{"id": "A", "capital": 6, "return": 6}]
    pm = build(load(write(tmp_path, v2(projects))))
    pm.model.total_return.sense = pyo.minimize
    with pytest.raises(UsageError, match="maximise its negative"):
        solve(pm, EXACT)


def test_an_unknown_sweep_parameter_is_refused_with_every_familys(tmp_path):
    """The command line lists no parameter by hand: an unknown one is refused (exit 2)
    with the list the families offer, the supplier share among them."""
    out = run("sweep", str(_binding_program(tmp_path)), "--param", "min_japan_shar=0.1",
              "--json")
    assert out.returncode == 2
    error = error_object(out.stdout, 2)
    assert "min_japan_share" in error["message"] and "hurdle_rate" in error["message"]


@pytest.mark.parametrize("extra", [
    {"p": [{"id": "A", "sector": "s", "capital": 12, "return": 1, "start": 2026,
            "japan_share": 0},
           {"id": "B", "sector": "s", "capital": 16, "return": 1, "start": 2026,
            "japan_share": 1}], "sectors": {"s": {"min": 10}}},
    {"p": [{"id": "A", "sector": "s", "capital": 10, "return": 1, "start": 2026},
           {"id": "B", "sector": "t", "capital": 10, "return": 1, "start": 2026,
            "japan_share": 1}], "sectors": {"s": {"min": 10}, "t": None}},
])
def test_the_share_is_named_when_only_it_and_two_others_conflict(tmp_path, extra):
    """The budget and a floor meet each other, and so do the share and either: only all
    three conflict. The explanation names the share too (found by a held-out check)."""
    doc = {"format": "capital-portfolio/2", "name": "three-way", "horizon": [2026, 2026],
           "budget": {"total": 15}, "min_japan_share": 0.5, "sectors": extra["sectors"],
           "projects": extra["p"]}
    result = solve(load(write(tmp_path, doc)), EXACT)
    assert result.status == "infeasible"
    assert {c.rule for c in result.conflicts} >= {"budget.total", "sectors.min",
                                                  "min_japan_share"}, result.conflicts
