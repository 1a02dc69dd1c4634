"""The solver against brute-force enumeration on random small programs.

Programs of up to 8 projects with integer units and every rule family (total and per-year
budget, sector floors and ceilings, labor, hurdle, requires, excludes, forced choices,
reinvestments, profiles) are drawn by Hypothesis. The enumeration below reads the format
on its own (it shares no code with the loader, the model or the checker) and tries every
plan. Infeasible draws must come back infeasible, feasible ones optimal with the same
objective, and every plan must pass the independent checker.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import write
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from optimizer import SolveOptions, check_plan, load, solve
from optimizer.solving.highs import lp_matrix

pytestmark = pytest.mark.slow

FIRST, LAST = 2026, 2029
YEARS = list(range(FIRST, LAST + 1))
SECTORS = ["semiconductors", "energy", "shipbuilding"]


@st.composite
def programs(draw):
    n = draw(st.integers(1, 8))
    projects, profiles = [], []
    for i in range(n):
        pid = f"P{i}"
        row = {"id": pid, "sector": draw(st.sampled_from(SECTORS)),
               "return": draw(st.integers(-3, 12)) / 2}
        if draw(st.integers(0, 5)) == 0:  # profile rows instead of an even spread
            years = draw(st.lists(st.integers(FIRST, LAST + 2), min_size=1, max_size=3,
                                  unique=True))
            for y in years:
                profiles.append({"project": pid, "year": y,
                                 "capital": draw(st.integers(1, 8)),
                                 "labor": draw(st.integers(0, 3)) * 10})
        else:
            row["capital"] = draw(st.integers(1, 12))
            row["start"] = draw(st.integers(FIRST, LAST))
            row["build_years"] = draw(st.integers(1, 3))
            row["labor"] = draw(st.integers(0, 4)) * 10
        if draw(st.integers(0, 4)) == 0:
            row["reinvest_every"] = draw(st.integers(1, 3))
            row["reinvest_capital"] = draw(st.integers(0, 4))
        row["max_units"] = draw(st.sampled_from([1, 1, 1, 2, 3]))
        row["force"] = draw(st.sampled_from(["", "", "", "", "", "in", "out"]))
        projects.append(row)
    doc = {"format": "capital-portfolio/1", "name": "random", "horizon": [FIRST, LAST],
           "sectors": {}}
    for s in SECTORS:
        limits = {}
        if draw(st.booleans()):
            limits["min"] = draw(st.integers(0, 15))
        if draw(st.integers(0, 2)) == 0:
            limits["max"] = draw(st.integers(5, 40))
        doc["sectors"][s] = limits or None
    budget = {}
    if draw(st.booleans()):
        budget["total"] = draw(st.integers(5, 60))
    if draw(st.booleans()):
        budget["per_year"] = {y: draw(st.integers(2, 20))
                              for y in draw(st.lists(st.sampled_from(YEARS), unique=True))}
    if budget:
        doc["budget"] = budget
    if draw(st.booleans()):
        doc["labor"] = {"capacity": {y: draw(st.integers(0, 8)) * 10
                                     for y in draw(st.lists(st.sampled_from(YEARS),
                                                            unique=True, min_size=1))}}
    if draw(st.booleans()):
        doc["hurdle_rate"] = draw(st.sampled_from([0.0, 0.05, 0.1, 0.2]))
    deps = []
    ids = [p["id"] for p in projects]
    if n >= 2:
        for _ in range(draw(st.integers(0, 2))):
            a, b = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True))
            deps.append({"type": "requires", "project": a, "on": b})
        if n >= 3 and draw(st.booleans()):
            group = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True))
            deps.append({"type": "excludes", "projects": group})
    if deps:
        doc["dependencies"] = deps
    profiled = {r["project"] for r in profiles}
    for row in projects:
        if row["id"] in profiled:
            row.setdefault("capital", "")
            row.setdefault("start", "")
            row.setdefault("build_years", "")
            row.setdefault("labor", "")
    return doc, projects, profiles


def brute_force(doc, projects, profiles):
    """Best objective over all plans, or None when no plan keeps every rule."""
    n = len(projects)
    cap_year = np.zeros((n, len(YEARS)))
    lab_year = np.zeros((n, len(YEARS)))
    total = np.zeros(n)
    for i, row in enumerate(projects):
        rows = [r for r in profiles if r["project"] == row["id"]]
        if rows:
            start = min(r["year"] for r in rows)
            for r in rows:
                total[i] += r["capital"]
                if r["year"] <= LAST:
                    cap_year[i, r["year"] - FIRST] += r["capital"]
                    lab_year[i, r["year"] - FIRST] += r["labor"]
        else:
            start = row["start"]
            total[i] += row["capital"]
            for k in range(row["build_years"]):
                y = start + k
                if y <= LAST:
                    cap_year[i, y - FIRST] += row["capital"] / row["build_years"]
                    lab_year[i, y - FIRST] += row["labor"]
        every = row.get("reinvest_every")
        if every:
            y = start + every
            while y <= LAST:
                cap_year[i, y - FIRST] += row["reinvest_capital"]
                total[i] += row["reinvest_capital"]
                y += every
    ret = np.array([row["return"] for row in projects])
    ranges = []
    for row in projects:
        if row["force"] == "out":
            ranges.append([0])
        elif row["force"] == "in":
            ranges.append(list(range(1, row["max_units"] + 1)))
        else:
            ranges.append(list(range(0, row["max_units"] + 1)))
    plans = np.array(list(itertools.product(*ranges)), dtype=float).reshape(-1, n)
    ok = np.ones(len(plans), dtype=bool)
    eps = 1e-7
    committed = plans @ total
    budget = doc.get("budget", {})
    if "total" in budget:
        ok &= committed <= budget["total"] + eps
    for y, cap in budget.get("per_year", {}).items():
        ok &= plans @ cap_year[:, y - FIRST] <= cap + eps
    for y, cap in doc.get("labor", {}).get("capacity", {}).items():
        ok &= plans @ lab_year[:, y - FIRST] <= cap + eps
    for s, limits in doc["sectors"].items():
        member = np.array([row["sector"] == s for row in projects], dtype=float)
        used = plans @ (total * member)
        if limits and "min" in limits:
            ok &= used >= limits["min"] - eps
        if limits and "max" in limits:
            ok &= used <= limits["max"] + eps
    value = plans @ ret
    if "hurdle_rate" in doc:
        ok &= value >= doc["hurdle_rate"] * committed - eps
    index = {row["id"]: i for i, row in enumerate(projects)}
    funded = plans > 0
    for dep in doc.get("dependencies", []):
        if dep["type"] == "requires":
            ok &= ~funded[:, index[dep["project"]]] | funded[:, index[dep["on"]]]
        else:
            ok &= funded[:, [index[x] for x in dep["projects"]]].sum(axis=1) <= 1
    if not ok.any():
        return None
    return float(value[ok].max())


@pytest.mark.solver
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=programs())
def test_solver_matches_brute_force(tmp_path, data):
    doc, projects, profiles = data
    path = write(tmp_path, {**doc, "projects": projects}, csv=True,
                 profiles=profiles or None)
    expected = brute_force(doc, projects, profiles)
    instance = load(path)
    result = solve(instance, SolveOptions(gap=0.0, threads=1))
    if expected is None:
        assert result.status == "infeasible", (result.status, result.objective)
        assert result.exit_code == 3
        assert result.conflicts
    else:
        assert result.status == "optimal", result.message
        assert result.objective == pytest.approx(expected, abs=1e-6)
        report = check_plan(instance, result.units)
        assert report.valid, report.violations
        assert report.total_return == pytest.approx(expected, abs=1e-6)


@pytest.mark.solver
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=programs())
def test_explain_is_sound_against_brute_force(tmp_path, data):
    """An arithmetic conflict is a proof of infeasibility (of the LP relaxation too), and
    HiGHS's LP IIS exists only
    where the enumeration finds no plan; every infeasible program gets an IIS or the word
    that its LP relaxation is feasible (the conflict is one of whole units)."""
    from formulations import build
    from optimizer.diagnosis.diagnose import arithmetic_checks
    from optimizer.diagnosis.explain import lp_iis

    doc, projects, profiles = data
    path = write(tmp_path, {**doc, "projects": projects}, csv=True,
                 profiles=profiles or None)
    expected = brute_force(doc, projects, profiles)
    instance = load(path)
    conflicts = [f for f in arithmetic_checks(instance) if f.kind == "conflict"]
    iis = lp_iis(build(instance))
    if conflicts:  # each arithmetic condition holds for fractional units too
        assert expected is None, conflicts
        assert iis.status == "found", conflicts
    event(f"{'feasible' if expected is not None else 'infeasible'}, IIS {iis.status}, "
          f"arithmetic {'conflict' if conflicts else 'silent'}")
    if expected is not None:
        assert iis.status == "lp_feasible"
    else:
        assert iis.status in ("found", "lp_feasible")
        if iis.status == "found":
            assert iis.members


@pytest.mark.solver
@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=programs())
def test_core_search_and_reduced_cost_fixing_keep_the_optimum(tmp_path, data):
    """The heuristic only hands HiGHS a start and fixes columns no better plan can move:
    the proven optimum is the enumeration's, on every rule family."""
    options = _proves_the_enumerations_optimum(
        tmp_path, data, SolveOptions(gap=0.0, threads=1, heuristic="core+fixing"))
    event(f"core plan {'found' if 'heuristic_objective' in options else 'none'}, "
          f"{'some' if options.get('reduced_cost_fixed') else 'no'} columns fixed")


@pytest.mark.solver
@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=programs())
def test_local_search_keeps_the_optimum(tmp_path, data):
    """Local search hands HiGHS plans of the whole program and nothing else: the proven
    optimum is the enumeration's, on every rule family."""
    options = _proves_the_enumerations_optimum(
        tmp_path, data, SolveOptions(gap=0.0, threads=1, local_search="on"))
    report = options.get("local_search")
    event(f"local search {'ran' if report else 'not attached'}, "
          f"{'some' if report and report['plans'] else 'no'} plans handed back")
    if report:
        assert report["failure"] is None


def _proves_the_enumerations_optimum(tmp_path, data, options: SolveOptions) -> dict:
    """Solve the drawn program with ``options``: infeasible where the enumeration finds
    no plan, else the enumeration's optimum, checked and proven. The solver's options."""
    doc, projects, profiles = data
    path = write(tmp_path, {**doc, "projects": projects}, csv=True,
                 profiles=profiles or None)
    expected = brute_force(doc, projects, profiles)
    instance = load(path)
    result = solve(instance, options)
    if expected is None:
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal", result.message
        assert result.objective == pytest.approx(expected, abs=1e-6)
        assert check_plan(instance, result.units).valid
        assert result.bound == pytest.approx(expected, abs=1e-6)
    return result.solver.get("options", {})


@pytest.mark.solver
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=programs())
def test_reduced_cost_fixing_never_cuts_off_an_optimum(tmp_path, data):
    """Fixing with the incumbent at the true optimum (the most it can ever fix) leaves a
    model whose optimum is still the enumeration's."""
    import highspy

    from formulations import build
    from optimizer.solving.heuristics import core_search, reduced_cost_fixing
    from optimizer.solving.highs import quiet_stdout, translate

    doc, projects, profiles = data
    path = write(tmp_path, {**doc, "projects": projects}, csv=True,
                 profiles=profiles or None)
    expected = brute_force(doc, projects, profiles)
    instance = load(path)
    pm = build(instance)
    if expected is None or pm.trivially_infeasible:
        return
    options = {"output_flag": False, "threads": 1, "mip_rel_gap": 0.0, "random_seed": 0}
    with quiet_stdout():
        lp = translate(pm)
        found = core_search(lp, options, budget=0.0)  # the LP relaxation only
        assert found is not None and found.values is None
        cols, low, high = reduced_cost_fixing(
            found.lp_values, found.reduced_costs, found.lp_objective,
            np.asarray(lp.col_lower_), np.asarray(lp.col_upper_), expected)
        event("some columns fixed" if len(cols) else "none fixed")
        h = highspy.Highs()
        for name, value in options.items():
            h.setOptionValue(name, value)
        h.passModel(lp)
        if len(cols):
            h.changeColsBounds(len(cols), cols, low, high)
        h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(expected, abs=1e-6)


def _lp_arrays(lp):
    return lp_matrix(lp), {name: np.asarray(getattr(lp, name), dtype=float) for name in
                    ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")}


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=programs())
def test_array_translation_equals_pyomo_compilation(tmp_path, data):
    """The row blocks handed to HiGHS directly and the Pyomo model compiled by Pyomo's
    standard-form compiler are the same program: same matrix, bounds, costs, integrality
    and row names, on every rule family."""
    from formulations import build
    from optimizer.solving.highs import translate_with_rows

    doc, projects, profiles = data
    path = write(tmp_path, {**doc, "projects": projects}, csv=True,
                 profiles=profiles or None)
    pm = build(load(path))
    direct, direct_names = translate_with_rows(pm, "arrays")
    assert not pm.has_pyomo_form  # the direct route never builds the Pyomo form
    compiled, compiled_names = translate_with_rows(pm, "pyomo")
    assert pm.has_pyomo_form
    assert direct_names == compiled_names
    a, a_vectors = _lp_arrays(direct)
    b, b_vectors = _lp_arrays(compiled)
    assert a.shape == b.shape
    assert (abs(a - b) > 0).nnz == 0
    for name, values in a_vectors.items():
        assert np.array_equal(values, b_vectors[name]), name
    assert direct.integrality_ == compiled.integrality_
    assert direct.sense_ == compiled.sense_ and direct.offset_ == compiled.offset_
    event(f"{direct.num_row_} rows, {direct.num_col_} columns")
