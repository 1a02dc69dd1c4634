"""What-if studies: derived programs, comparisons, sweeps, frontiers, marginal values.

The sweep is checked against brute-force enumeration (the same independent reading of the
format as tests/test_brute_force.py) with the swept parameter applied to the program
*document*, not through :func:`optimizer.derive`: both the derivation and the persistent
model are under test. Every point's plan also passes the independent checker against the
program loaded from that edited document.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import EXACT, chosen, error_object, solve_checked, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_brute_force import SECTORS, brute_force, programs

from optimizer import check_plan, compare, derive, load
from optimizer.errors import UsageError
from optimizer.whatif.marginal import marginal_values
from optimizer.whatif.sweeps import grid_points, parse_range, sweep

PILOT = "instances/pilot-v1/program.yaml"


@pytest.fixture(scope="module")
def pilot():
    return load(PILOT)


# ------------------------------------------------------------------- derive
def test_derive_leaves_the_original_untouched(pilot):
    before = pilot.digest()
    new = derive(pilot, budget_total=400, budget_per_year={2027: 50},
                 sector_min={"energy": 80}, sector_max={"shipbuilding": None},
                 labor_capacity={2028: 300_000}, hurdle_rate=0.05,
                 return_multiplier={"energy": 1.1, "P09": 2}, force_in=["P04"],
                 force_out=["P01"])
    assert pilot.digest() == before
    assert new.digest() != before
    assert pilot.budget_total == 550 and new.budget_total == 400
    k = 2027 - pilot.first_year
    assert new.budget_per_year[k] == 50 and pilot.budget_per_year[k] != 50
    e = pilot.sectors.index("energy")
    assert new.sector_min[e] == 80
    assert np.isnan(new.sector_max[pilot.sectors.index("shipbuilding")])
    assert new.labor_capacity[2028 - pilot.first_year] == 300_000
    assert new.hurdle_rate == 0.05
    energy = (pilot.projects["sector"] == "energy").to_numpy()
    ratio = new.returns / pilot.returns
    assert np.allclose(ratio[energy & (pilot.ids != "P09")], 1.1)
    assert ratio[list(pilot.ids).index("P09")] == pytest.approx(2.0)  # P09 is not energy
    assert new.force_in[list(pilot.ids).index("P04")]
    assert new.force_out[list(pilot.ids).index("P01")]
    assert new.capital_by_year is pilot.capital_by_year  # prepared arrays shared


def test_scales_multiply_every_limit(pilot):
    new = derive(pilot, budget_scale=0.5, labor_scale=2)
    assert new.budget_total == pytest.approx(275)
    assert np.allclose(new.budget_per_year, pilot.budget_per_year * 0.5, equal_nan=True)
    assert np.allclose(new.labor_capacity, pilot.labor_capacity * 2, equal_nan=True)


@pytest.mark.parametrize("changes, words", [
    ({"sector_min": {"fishing": 3}}, "unknown sector 'fishing'"),
    ({"labor_capacity": {2090: 1}}, "outside the horizon"),
    ({"budget_per_year": {"soon": 1}}, "is not a year"),
    ({"budget_total": -5}, "must be >= 0"),
    ({"budget_total": float("nan")}, "must be finite"),
    ({"labor_scale": 0}, "must be > 0"),
    ({"hurdle_rate": "high"}, "must be a number"),
    ({"force_in": ["P99"]}, "unknown project id(s) 'P99'"),
    ({"force_in": ["P01"], "force_out": ["P01"]}, "both name 'P01'"),
    ({"return_multiplier": {"P01": -1}}, "must be >= 0"),
])
def test_derive_rejects_bad_changes(pilot, changes, words):
    with pytest.raises(UsageError, match=None) as err:
        derive(pilot, **changes)
    assert words in str(err.value)


@pytest.mark.solver
def test_derived_program_solves_like_the_edited_file(pilot, tmp_path):
    """derive() means what the same change written into the program file means."""
    doc = yaml.safe_load(open(PILOT))
    doc["budget"]["total"] = 420
    doc["labor"]["capacity"][2028] = 250_000
    doc["sectors"]["energy"] = {**(doc["sectors"].get("energy") or {}), "min": 90}
    for name in ("projects", "profiles"):
        doc[name] = str((Path(PILOT).parent / doc[name]).resolve())
    for dep in doc.get("dependencies", []):  # YAML 1.1 reads the key `on` as True
        if True in dep:
            dep["on"] = dep.pop(True)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    from_file = solve_checked(load(path))
    derived = derive(pilot, budget_total=420, labor_capacity={2028: 250_000},
                     sector_min={"energy": 90})
    from_derive = solve_checked(derived)
    assert from_derive.status == from_file.status == "optimal"
    assert from_derive.objective == pytest.approx(from_file.objective, abs=1e-9)


@pytest.mark.solver
def test_compare_names_what_moved(pilot):
    a = solve_checked(pilot)
    b = solve_checked(derive(pilot, budget_total=400))
    diff = compare(a, b)
    before, after = chosen(a), chosen(b)
    assert sorted(diff.added) == sorted(set(after) - set(before))
    assert sorted(diff.dropped) == sorted(set(before) - set(after))
    assert diff.objective_change == pytest.approx(b.objective - a.objective)
    moved = diff.capital_by_sector
    assert moved["change"].sum() == pytest.approx(b.check.total_capital - a.check.total_capital)
    assert set(diff.labor_by_year.index) == set(pilot.years.tolist())
    assert "return change" in diff.summary()
    json.dumps(diff.to_dict())


# -------------------------------------------------------------------- grids
def test_parse_range():
    assert parse_range("400:550:50") == [400, 450, 500, 550]
    assert parse_range("1:0:-0.25") == [1, 0.75, 0.5, 0.25, 0]
    assert parse_range("0.1:0.3:0.1") == [0.1, 0.2, 0.3]  # the end survives rounding
    assert parse_range("3,1,2") == [3, 1, 2]
    for bad in ("1:2", "1:2:0", "2:1:1", "a:b:c", "", "1:1e9:1e-3"):
        with pytest.raises(UsageError):
            parse_range(bad)


def test_grid_points_and_names():
    assert grid_points({"budget": [1, 2], "labor_scale": [3]}) == [
        {"budget": 1.0, "labor_scale": 3.0}, {"budget": 2.0, "labor_scale": 3.0}]
    for bad in ({}, {"budgets": [1]}, {"sector_min": [1]}, {"budget:x": [1]},
                {"a": [1], "b": [1], "c": [1]}):
        with pytest.raises(UsageError):
            grid_points(bad)


# ------------------------------------------------------- sweep vs brute force
def _edit(doc, projects, parameter, value):
    """The swept change applied to the document itself (not via derive)."""
    doc, projects = copy.deepcopy(doc), copy.deepcopy(projects)
    kind, _, key = parameter.partition(":")
    if kind == "budget":
        doc.setdefault("budget", {})["total"] = value
    elif kind == "labor_scale":
        caps = doc["labor"]["capacity"]
        doc["labor"]["capacity"] = {y: c * value for y, c in caps.items()}
    elif kind == "sector_min":
        doc["sectors"][key] = {**(doc["sectors"][key] or {}), "min": value}
    elif kind == "hurdle_rate":
        doc["hurdle_rate"] = value
    elif kind == "return_multiplier":
        for row in projects:
            if row["sector"] == key:
                row["return"] = row["return"] * value
    return doc, projects


@st.composite
def swept_programs(draw):
    doc, projects, profiles = draw(programs())
    choices = ["budget", "hurdle_rate", f"sector_min:{draw(st.sampled_from(SECTORS))}",
               f"return_multiplier:{draw(st.sampled_from(SECTORS))}"]
    if "labor" in doc:
        choices.append("labor_scale")
    parameter = draw(st.sampled_from(choices))
    kind = parameter.partition(":")[0]
    pool = {"budget": range(0, 70, 5), "hurdle_rate": [0, 0.05, 0.1, 0.2, 0.4],
            "sector_min": range(0, 20, 2), "return_multiplier": [0, 0.5, 1, 2],
            "labor_scale": [0.25, 0.5, 1, 1.5, 3]}[kind]
    values = draw(st.lists(st.sampled_from(list(pool)), min_size=2, max_size=5, unique=True))
    return doc, projects, profiles, parameter, sorted(values), draw(st.integers(1, 3))


@pytest.mark.solver
@pytest.mark.slow
@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=swept_programs())
def test_sweep_matches_brute_force_at_every_point(tmp_path, data):
    doc, projects, profiles, parameter, values, chunk = data
    path = write(tmp_path, {**doc, "projects": projects}, csv=True, profiles=profiles or None)
    s = sweep(load(path), {parameter: values}, EXACT, chunk_size=chunk)
    assert list(s.frame[parameter]) == [float(v) for v in values]
    for k, value in enumerate(values):
        edited, rows = _edit(doc, projects, parameter, value)
        expected = brute_force(edited, rows, profiles)
        point = s.points[k]
        if expected is None:
            assert point["status"] == "infeasible", (parameter, value, point["status"])
            continue
        assert point["status"] == "optimal", (parameter, value, point["message"])
        assert point["objective"] == pytest.approx(expected, abs=1e-6), (parameter, value)
        # the plan against the edited document, loaded by the ordinary loader
        sub = tmp_path / f"point{k}"
        sub.mkdir(exist_ok=True)
        instance = load(write(sub, {**edited, "projects": rows}, csv=True,
                              profiles=profiles or None))
        units = pd.Series({p["id"]: p["units"] for p in point["selected"]}, dtype=np.int64)
        report = check_plan(instance, units.reindex(instance.ids, fill_value=0))
        assert report.valid, report.violations
        assert report.total_return == pytest.approx(expected, abs=1e-6)


# ------------------------------------------------------------ sweep behaviour
BUDGETS = [300, 325, 350, 400, 450, 500, 550]


@pytest.fixture(scope="module")
def budget_sweep(pilot):
    return sweep(pilot, {"budget": BUDGETS}, EXACT, chunk_size=4)


@pytest.mark.solver
def test_budget_sweep_is_monotone_and_checked(pilot, budget_sweep):
    frame = budget_sweep.frame
    assert (frame["status"] == "optimal").all()
    assert frame["objective"].is_monotonic_increasing
    assert (frame["committed"] <= frame["budget"] + 1e-6).all()
    for budget, point in zip(BUDGETS, budget_sweep.points, strict=True):
        instance = derive(pilot, budget_total=budget)
        units = pd.Series({p["id"]: p["units"] for p in point["selected"]})
        report = check_plan(instance, units.reindex(instance.ids, fill_value=0))
        assert report.valid, report.violations
    assert [p["reused_model"] for p in budget_sweep.points] == [True] * len(BUDGETS)


@pytest.mark.solver
def test_reused_model_gives_the_cold_answers(pilot, budget_sweep):
    cold = sweep(pilot, {"budget": BUDGETS}, EXACT, reuse=False, share=False)
    assert [p["reused_model"] for p in cold.points] == [False] * len(BUDGETS)
    assert np.allclose(cold.frame["objective"], budget_sweep.frame["objective"], atol=1e-9)
    for budget, objective in zip(BUDGETS, budget_sweep.frame["objective"], strict=True):
        alone = solve_checked(derive(pilot, budget_total=budget))
        assert alone.objective == pytest.approx(objective, abs=1e-9)


@pytest.mark.solver
@pytest.mark.parametrize("parameter, values", [
    ("return_multiplier:energy", [0.25, 1.0, 3.0, 6.0]),
    ("return_multiplier:P09", [0.0, 1.0, 4.0]),
    ("hurdle_rate", [0.0, 0.12, 0.135, 0.15]),
    ("sector_min:ai_infrastructure", [0.0, 60.0, 120.0]),
    ("sector_max:energy", [160.0, 200.0, 1000.0]),
    pytest.param("labor:2029", [150_000.0, 250_000.0, 400_000.0], marks=pytest.mark.slow),
    ("budget_year:2030", [20.0, 60.0, 120.0]),
    ("budget_scale", [0.6, 0.8, 1.2]),
    pytest.param("labor_scale", [0.5, 1.0, 2.0], marks=pytest.mark.slow),
])
def test_every_parameter_on_one_model_equals_cold_solves(pilot, parameter, values):
    """All points on one model (one chunk), against each point solved alone."""
    from optimizer.whatif.scenarios import parameter_changes

    s = sweep(pilot, {parameter: values}, EXACT, chunk_size=len(values), share=False)
    assert all(p["reused_model"] for p in s.points)
    for value, point in zip(values, s.points, strict=True):
        alone = solve_checked(derive(pilot, **parameter_changes({parameter: value})))
        assert point["status"] == alone.status, (parameter, value)
        if alone.has_plan:
            assert point["objective"] == pytest.approx(alone.objective, abs=1e-9), value
            assert point["check"]["valid"]


@pytest.mark.solver
def test_two_parameter_sweep_and_its_frame(pilot):
    s = sweep(pilot, {"labor_scale": [0.8, 1.2], "sector_min:energy": [0, 150]}, EXACT)
    assert len(s.frame) == 4
    assert list(s.frame["labor_scale"]) == [0.8, 0.8, 1.2, 1.2]
    assert (s.frame["status"] == "optimal").any()
    for _, row in s.frame.iterrows():
        if row["status"] == "optimal":
            assert row["capital.energy"] >= row["sector_min:energy"] - 1e-6
    table = s.table()
    assert "selected" in table and table["selected"].map(type).eq(str).all()


@pytest.mark.solver
def test_infeasible_points_are_answers(pilot):
    s = sweep(pilot, {"sector_min:shipbuilding": [10, 1000]}, EXACT, chunk_size=2)
    assert list(s.frame["status"]) == ["optimal", "infeasible"]
    assert "shipbuilding" in s.points[1]["message"]
    assert s.points[1]["conflicts"]


@pytest.mark.solver
@pytest.mark.slow
def test_a_better_plan_from_another_point_is_shared_only_where_feasible(pilot):
    """Point 1 (budget 400) stopped with a poor plan; point 0's plan (budget 300) is
    feasible there and better, so it replaces it. Point 2 (budget 250) has a poor plan
    too, but no other point's plan fits under 250: it keeps its own."""
    import dataclasses

    from optimizer.whatif.sweeps import Point, _share_plans

    def record(budget, plan_budget, status):
        own = solve_checked(derive(pilot, budget_total=plan_budget))
        true = solve_checked(derive(pilot, budget_total=budget))
        res = dataclasses.replace(own, instance=derive(pilot, budget_total=budget),
                                  status=status, termination="time_limit",
                                  bound=true.objective)
        return Point({"budget": budget}, res, 0.0, "reused")

    runs = [record(300, 300, "optimal"), record(400, 200, "feasible"),
            record(250, 150, "feasible")]
    poor_250 = runs[2].result.objective
    _share_plans(pilot, runs)
    best_300 = runs[0].result.objective
    shared = runs[1]
    assert shared.shared_from == 0
    assert shared.result.objective == pytest.approx(best_300)
    assert shared.result.valid and shared.result.status == "feasible"
    assert shared.result.gap == pytest.approx((shared.result.bound - best_300) / best_300)
    assert "found at point 0" in shared.result.message
    assert runs[2].shared_from is None
    assert runs[2].result.objective == poor_250
    assert runs[0].shared_from is None


@pytest.mark.solver
def test_frequency_and_charts(pilot, budget_sweep, tmp_path):
    freq = budget_sweep.frequency()
    assert set(freq.index) == set(pilot.ids)
    n = len(BUDGETS)
    for pid, row in freq.iterrows():
        count = sum(pid in sel for sel in budget_sweep.frame["selected"])
        assert row["chosen"] == count
        assert row["verdict"] == ("robust" if count == n else "never" if count == 0
                                  else "marginal")
    from optimizer.whatif.frontiers import plot_frequency

    for path in (budget_sweep.plot(tmp_path / "f.png"),
                 plot_frequency(budget_sweep, tmp_path / "q.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(UsageError):
        budget_sweep.plot(tmp_path / "f.svg")


@pytest.mark.solver
@pytest.mark.slow
def test_local_processes_return_the_serial_points(pilot, budget_sweep):
    parallel = sweep(pilot, {"budget": BUDGETS}, EXACT, chunk_size=4, workers=2)
    assert parallel.workers == 2
    _same_points(budget_sweep, parallel)


def _same_points(a, b):
    assert len(a.points) == len(b.points)
    for p, q in zip(a.points, b.points, strict=True):
        for key in ("parameters", "status", "termination", "objective", "bound", "selected",
                    "capital", "labor", "shared_from"):
            assert p[key] == q[key], key


# ------------------------------------------------------------ marginal values
@pytest.mark.solver
@pytest.mark.slow
def test_marginal_values_against_resolving(pilot):
    table = marginal_values(pilot, options=EXACT)
    assert {"budget.total", "sectors.shipbuilding.min", "hurdle_rate"} <= set(table["rule"])
    base = solve_checked(pilot).objective
    one = table.set_index("rule")
    # the MIP value is the re-solved optimum's change
    solved = solve_checked(derive(pilot, labor_capacity={
        2029: pilot.labor_capacity[2029 - pilot.first_year] + 1000}))
    assert one.loc["labor.capacity[2029]", "mip_value"] == pytest.approx(
        solved.objective - base, abs=1e-9)
    assert one.loc["budget.total", "mip_value"] >= -1e-9
    assert table["lp_value"].notna().any()
    assert (table.loc[table["rule"].str.startswith("labor"), "lp_value"] >= -1e-9).all()


@pytest.mark.solver
def test_lp_prices_match_the_lp_relaxation(pilot):
    """lp_value = the LP relaxation's optimum change for the step (for a step small enough
    to keep the basis: here, a thousandth of the default)."""
    import highspy

    from formulations import build
    from optimizer.solving.highs import quiet_stdout, translate

    steps = {"budget": 1e-3, "labor": 1.0, "sector": 1e-3, "hurdle": 1e-6}
    table = marginal_values(pilot, options=EXACT, steps=steps)

    def lp_optimum(instance):
        with quiet_stdout():
            lp = translate(build(instance))
            lp.integrality_ = []
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.passModel(lp)
            h.run()
            return h.getInfo().objective_function_value

    base = lp_optimum(pilot)
    k = 2029 - pilot.first_year
    for rule, changed in (
            ("budget.total", derive(pilot, budget_total=pilot.budget_total + 1e-3)),
            ("labor.capacity[2029]", derive(pilot, labor_capacity={
                2029: pilot.labor_capacity[k] + 1.0}))):
        expected = lp_optimum(changed) - base
        got = table.set_index("rule").loc[rule, "lp_value"]
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-9), rule


# ------------------------------------------------------------------ the CLI
def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "optimizer", *args], capture_output=True,
                          text=True, timeout=600, **kw)


@pytest.mark.solver
@pytest.mark.slow
def test_cli_sweep_json_plot_and_out(tmp_path):
    proc = run("sweep", PILOT, "--budget", "300:550:125", "--json", "--gap", "0",
               "--plot", str(tmp_path / "f.png"), "--out", str(tmp_path / "s.csv"),
               "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [p["parameters"]["budget"] for p in data["points"]] == [300, 425, 550]
    objectives = [p["objective"] for p in data["points"]]
    assert objectives == sorted(objectives)
    for p in data["points"]:
        assert p["status"] == "optimal" and p["check"]["valid"]
        assert p["capital"]["total"] <= p["parameters"]["budget"] + 1e-6
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(tmp_path / "s.csv")) == 3


@pytest.mark.parametrize("args, words", [
    (["--budget", "1:2"], "START:STOP:STEP"),
    (["--sector-min", "fishing=0:10:5"], "unknown sector 'fishing'"),
    (["--sector-min", "0:10:5"], "SECTOR=START:STOP:STEP"),
    (["--param", "budgetz=1:2:1"], "unknown sweep parameter"),
    (["--param", "labor:2090=1:2:1"], "outside the horizon"),
    ([], "name a parameter"),
    (["--budget", "400:500:100", "--plot", "x.svg"], ".png"),
    (["--budget", "400:500:100", "--param", "budget=1:2:1"], "already swept"),
])
def test_cli_sweep_bad_usage(args, words):
    proc = run("sweep", PILOT, *args, "--json")
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr
    assert error_object(proc.stdout)
    assert "Traceback" not in proc.stderr


@pytest.mark.solver
def test_cli_marginal(tmp_path):
    proc = run("marginal", PILOT, "--json", "--gap", "0")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rules = {row["rule"] for row in data["limits"]}
    assert "budget.total" in rules and any(r.startswith("labor.capacity") for r in rules)


@pytest.mark.solver
def test_thread_count_can_change_between_solves(pilot):
    """HiGHS's thread scheduler is global to the process: a solve on 2 threads, then LPs
    on 1, must still run (they failed before the scheduler was restarted on a change)."""
    from optimizer.solving.highs import SolveOptions

    assert solve_checked(pilot, SolveOptions(threads=2, gap=0.0)).status == "optimal"
    table = marginal_values(pilot, options=SolveOptions(threads=1, gap=0.0))
    assert table["lp_value"].notna().all() and table["fixed_value"].notna().all()


@pytest.mark.solver
def test_a_point_the_model_cannot_hold_is_solved_cold(pilot):
    """A ceiling below the floor: no bound move expresses it; that point is solved cold
    (and found infeasible, naming the sector), the next is back on the shared model."""
    s = sweep(pilot, {"sector_max:energy": [100.0, 1000.0]}, EXACT, chunk_size=2)
    first, second = s.points
    assert (first["status"], first["reused_model"]) == ("infeasible", False)
    assert "energy" in first["message"]
    assert (second["status"], second["reused_model"]) == ("optimal", True)


def test_restricts(pilot):
    from optimizer.whatif.sweeps import restricts

    tight = derive(pilot, budget_total=400, sector_min={"energy": 160},
                   labor_capacity={2029: 600_000}, hurdle_rate=0.1, force_out=["P04"])
    assert restricts(tight, pilot) and not restricts(pilot, tight)
    assert restricts(pilot, pilot)
    for looser in (dict(budget_total=None), dict(sector_min={"energy": 0}),
                   dict(labor_capacity={2026: None}), dict(release=["P03"]),
                   dict(budget_per_year={2030: 1e6})):
        assert not restricts(derive(pilot, **looser), pilot), looser
    assert not restricts(derive(pilot, return_multiplier={"P01": 0.5}), pilot)


@pytest.mark.solver
def test_points_implied_by_a_looser_point_are_not_resolved(pilot):
    """Budgets 400..550 on one model: solved from 550 down; 500 and 450 take 550's plan
    (it spends 435.2 and its bound still holds), 400 is solved."""
    budgets = [400.0, 450.0, 500.0, 550.0]
    s = sweep(pilot, {"budget": budgets}, EXACT, chunk_size=4)
    assert [p["how"] for p in s.points] == ["reused", "implied", "implied", "reused"]
    assert "implied by the point {'budget': 550.0}" in s.points[2]["message"]
    assert "implied by the point {'budget': 500.0}" in s.points[1]["message"]
    for budget, point in zip(budgets, s.points, strict=True):
        alone = solve_checked(derive(pilot, budget_total=budget))
        assert point["status"] == "optimal" and point["check"]["valid"]
        assert point["objective"] == pytest.approx(alone.objective, abs=1e-9)
        assert point["bound"] >= alone.objective - 1e-9


# ------------------------------------------- derived values within the format's bounds
@pytest.mark.parametrize("changes, words", [
    ({"return_multiplier": {"P01": 1e20}}, ["return_multiplier[P01]", "P01", "1e+09"]),
    ({"return_multiplier": {"energy": 1e12}}, ["return_multiplier[energy]", "1e+09"]),
    ({"sector_min": {"energy": 1e300}}, ["sector_min[energy]", "1e+09"]),
    ({"sector_max": {"energy": 2e9}}, ["sector_max[energy]", "1e+09"]),
    ({"budget_total": 1e12}, ["budget_total", "1e+09"]),
    ({"budget_per_year": {2027: 1e10}}, ["budget_per_year[2027]", "1e+09"]),
    ({"budget_scale": 1e300}, ["budget_scale=1e+300", "1e+09"]),
    ({"labor_capacity": {2027: 1e11}}, ["labor_capacity[2027]", "1e+10", "specialists"]),
    ({"labor_scale": 1e20}, ["labor_scale=1e+20", "1e+10"]),
    ({"hurdle_rate": 50}, ["hurdle_rate", "between -1 and 10"]),
])
def test_derive_refuses_values_outside_the_format_bounds(pilot, changes, words):
    from optimizer.limits import MONEY, PEOPLE, RATE

    bounds = {"1e+09": MONEY.describe(), "1e+10": PEOPLE.describe(),
              "between -1 and 10": RATE.describe()}
    with pytest.raises(UsageError) as caught:
        derive(pilot, **changes)
    for word in words:
        assert bounds.get(word, word) in str(caught.value), caught.value


def test_derive_keeps_values_at_the_bounds(pilot):
    at = derive(pilot, budget_total=1e9, hurdle_rate=10.0, sector_max={"energy": 1e9})
    assert at.budget_total == 1e9 and at.hurdle_rate == 10.0


@pytest.mark.parametrize("grid", [
    {"return_multiplier:P01": [1.0, 1e20]},
    {"sector_min:energy": [1e300, 100.0]},
    {"hurdle_rate": [0.1, 50.0]},
    {"budget": [1e12, 1e15]},
    {"labor_scale": [1.0, 1e20]},
    {"budget_scale": [1e300]},
])
def test_sweep_checks_the_whole_grid_before_any_solve(pilot, monkeypatch, grid):
    import optimizer.whatif.sweeps as sweeps

    def no_solve(*_args, **_kwargs):
        raise AssertionError("a point was solved before the grid was checked")

    monkeypatch.setattr(sweeps, "_solve_chunk", no_solve)
    with pytest.raises(UsageError) as caught:
        sweep(pilot, grid)
    assert "sweep point" in str(caught.value) and "between" in str(caught.value)


@pytest.mark.parametrize("flags", [
    ["--param", "return_multiplier:P01=1e20"],
    ["--sector-min", "energy=1e300,100"],
    ["--hurdle", "50,100"],
    ["--budget", "1e12,1e15"],
    ["--labor-scale", "1e20"],
    ["--budget-scale", "1e300"],
])
def test_sweep_cli_refuses_points_outside_the_bounds(capsys, flags):
    from optimizer.cli.main import main

    assert main(["sweep", PILOT, *flags, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "sweep point" in err and "internal error" not in err, err


def test_a_sweep_flag_given_twice_is_refused(capsys):
    from optimizer.cli.main import main

    assert main(["sweep", PILOT, "--budget", "400,500", "--budget", "300"]) == 2
    assert "--budget: given twice" in capsys.readouterr().err


def test_one_file_for_two_charts_is_refused(tmp_path, capsys):
    from optimizer.cli.main import main

    chart = str(tmp_path / "x.png")
    assert main(["sweep", PILOT, "--budget", "400,500", "--plot", chart,
                 "--frequency-plot", chart]) == 2
    assert "--plot and --frequency-plot both name" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("flag, value", [("--budget", "-100:0:50"), ("--hurdle", "-.5,0.1"),
                                         ("--param", "-1")])
def test_a_value_beginning_with_a_dash_says_how_to_write_it(capsys, flag, value):
    from optimizer.cli.main import main

    if value == "-1":  # a plain negative number argparse takes as a value: no hint
        assert main(["sweep", PILOT, flag, value]) == 2
        assert "write --param=" not in capsys.readouterr().err
        return
    assert main(["sweep", PILOT, flag, value]) == 2
    assert f"write {flag}={value}" in capsys.readouterr().err
