"""The tree search (``optimizer.solving.tree``) and its kernels, against enumeration.

Random small models whose rows only limit (non-negative coefficients in the integer
columns, lower limits no activity can break), with binary, general integer and fixed
columns and returns of either sign, are drawn by Hypothesis. Searched to the end, the
tree must find the enumeration's optimum and say it searched every node; stopped early,
its plan must fit and its bound must not fall below the optimum; with a neighbourhood
search after every node that brings no better plan, the same; and with two trees in
turn (two branching rules), the same. The kernels, compiled
and in numpy, must agree with their plain Python reading, and the climb must end where
no single move gains. Through ``optimizer solve``, ``--heuristic tree`` proves the same
optima as HiGHS alone, and says why when the rows do not allow it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.solving import kernels, simplex, tree
from optimizer.solving.highs import SolveOptions, integer_lp
from optimizer.solving.options import TREE_AUTO_LIMIT
from optimizer.solving.shape import why_not_tree
from optimizer.solving.tree import tree_search
from tests.helpers import solve_checked

ONE_THREAD = {"threads": 1, "random_seed": 0}


@st.composite
def limited(draw):
    """(lp, a, upper, cost, lower, upper bounds, minimize) with rows that only limit."""
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 8))
    a = np.array(draw(st.lists(st.lists(st.integers(0, 9), min_size=n, max_size=n),
                               min_size=m, max_size=m)), dtype=float)
    kinds = draw(st.lists(st.sampled_from(["binary"] * 4 + ["integer", "fixed"]),
                          min_size=n, max_size=n))
    col_lower = np.array([1.0 if k == "fixed" else 0.0 for k in kinds])
    col_upper = np.array([3.0 if k == "integer" else 1.0 for k in kinds])
    smallest = a @ col_lower
    upper = smallest + np.array(draw(st.lists(st.integers(0, 25), min_size=m, max_size=m)))
    # a lower limit no plan can break (or none)
    lower = np.where(draw(st.lists(st.booleans(), min_size=m, max_size=m)),
                     smallest - 1.0, -np.inf)
    cost = np.array(draw(st.lists(st.integers(-3, 20), min_size=n, max_size=n)), dtype=float)
    minimize = draw(st.booleans())
    lp = integer_lp(-cost if minimize else cost, col_lower, col_upper, sp.csc_array(a),
                    lower, upper, minimize=minimize)
    return lp, a, upper, cost, col_lower, col_upper


def optimum(a, upper, cost, col_lower, col_upper) -> float:
    """The best return of any plan, by trying every one."""
    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(col_lower, col_upper,
                                                               strict=True)]
    plans = np.array(list(itertools.product(*ranges)), dtype=float)
    ok = np.all(plans @ a.T <= upper + 1e-9, axis=1)
    return float((plans[ok] @ cost).max())


@pytest.fixture(params=["compiled", "numpy"])
def path(request, monkeypatch):
    """Each test runs with the kernels compiled (numba) and with numpy alone."""
    if request.param == "compiled":
        if not kernels.COMPILED:
            pytest.skip("numba is not installed")
        kernels.compile_all()
        monkeypatch.setattr(kernels, "ready", lambda: True)
    else:
        monkeypatch.setattr(kernels, "COMPILED", False)
    return request.param


@pytest.mark.parametrize("branching", ["largest", "pseudocost"])
def test_searched_to_the_end_the_tree_finds_the_optimum(path, branching):
    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(limited())
    def check(model):
        lp, a, upper, cost, col_lower, col_upper = model
        assert why_not_tree(lp) is None
        best = optimum(a, upper, cost, col_lower, col_upper)
        found = tree_search(lp, ONE_THREAD, budget=30.0, branching=branching)
        assert found.exhausted
        assert found.compiled_lp == (path == "compiled")  # its node LPs in numba
        assert found.values is not None
        x = found.values
        assert np.all(a @ x <= upper + 1e-9)
        assert np.all(x >= col_lower) and np.all(x <= col_upper)
        assert np.array_equal(x, np.round(x))
        assert float(cost @ x) == pytest.approx(best)
        # the search maximises the return, however the model states it
        assert found.objective == pytest.approx(best)
        assert found.bound == pytest.approx(best)

    check()


def test_neighbourhoods_keep_the_optimum_and_the_bound(path, monkeypatch):
    """A neighbourhood after every node without a better plan, of a few nodes each: the
    tree, searched to the end, still finds and proves the enumeration's optimum."""
    monkeypatch.setattr(tree, "STALL_NODES", 1)
    monkeypatch.setattr(tree, "NEIGHBOURHOOD_NODES", 3)
    searched = []

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(limited())
    def check(model):
        lp, a, upper, cost, col_lower, col_upper = model
        best = optimum(a, upper, cost, col_lower, col_upper)
        found = tree_search(lp, ONE_THREAD, budget=30.0)
        assert found.exhausted
        assert found.values is not None
        assert np.all(a @ found.values <= upper + 1e-9)
        assert np.all(found.values >= col_lower) and np.all(found.values <= col_upper)
        assert float(cost @ found.values) == pytest.approx(best)
        assert found.bound == pytest.approx(best)
        assert found.improved_by_neighbourhoods <= found.neighbourhoods
        searched.append(found.neighbourhoods)
        off = tree_search(lp, ONE_THREAD, budget=30.0, neighbourhoods=False)
        assert off.neighbourhoods == 0 and off.objective == pytest.approx(best)

    check()
    assert sum(n > 0 for n in searched) >= 10  # the neighbourhoods did run


def test_several_trees_in_turn_keep_the_optimum_and_the_bound(path, monkeypatch):
    """Two trees (largest, then pseudo-costs), the second joining after one turn of a
    node without a better plan: searched to the end, the enumeration's optimum, proven;
    stopped after a few nodes, a plan that fits and a bound at or above the optimum."""
    monkeypatch.setattr(tree, "STALL_NODES", 1)
    monkeypatch.setattr(tree, "RIVAL_TURNS", 1)
    joined = []

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(limited(), st.booleans())
    def check(model, neighbourhoods):
        lp, a, upper, cost, col_lower, col_upper = model
        best = optimum(a, upper, cost, col_lower, col_upper)
        found = tree_search(lp, ONE_THREAD, budget=30.0, neighbourhoods=neighbourhoods,
                            branching=("largest", "pseudocost"))
        assert found.exhausted and found.values is not None
        assert np.all(a @ found.values <= upper + 1e-9)
        assert np.all(found.values >= col_lower) and np.all(found.values <= col_upper)
        assert float(cost @ found.values) == pytest.approx(best)
        assert found.objective == pytest.approx(best)
        assert found.bound == pytest.approx(best)
        joined.append(found.trees)
        calls = iter(range(4))
        early = tree_search(lp, ONE_THREAD, budget=30.0, neighbourhoods=neighbourhoods,
                            branching=("largest", "pseudocost"),
                            stop=lambda: next(calls, 4) >= 3)
        if early.values is not None:
            assert np.all(a @ early.values <= upper + 1e-9)
            assert early.objective <= best + 1e-9
        if early.bound is not None:
            assert early.bound >= best - 1e-6
        if early.exhausted:
            assert early.objective == pytest.approx(best)

    check()
    assert set(joined) == {1, 2}  # the second tree joined where the first stalled


def test_an_unknown_branching_rule_is_refused():
    lp = integer_lp(np.ones(2), np.zeros(2), np.ones(2), sp.csc_array(np.ones((1, 2))),
                    np.array([-np.inf]), np.array([1.0]), minimize=False)
    with pytest.raises(ValueError):
        tree_search(lp, ONE_THREAD, budget=1.0, branching=("largest", "widest"))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(limited(), st.sampled_from([0.0, 0.002, 0.02]))
def test_stopped_early_its_plan_fits_and_its_bound_holds(model, budget):
    lp, a, upper, cost, col_lower, col_upper = model
    best = optimum(a, upper, cost, col_lower, col_upper)
    found = tree_search(lp, ONE_THREAD, budget=budget)
    if found.values is not None:
        assert np.all(a @ found.values <= upper + 1e-9)
        assert float(cost @ found.values) == pytest.approx(found.objective)
        assert found.objective <= best + 1e-9
    if found.bound is not None:  # on the return, however the model states it
        assert found.bound >= best - 1e-6
    if found.exhausted:
        assert found.objective == pytest.approx(best)


def test_the_rows_must_only_limit():
    eye = sp.csc_array(np.array([[1.0, -1.0]]))  # x0 <= x1: a dependency
    ones, zeros = np.ones(2), np.zeros(2)
    lp = integer_lp(ones, zeros, ones, eye, np.array([-np.inf]), np.array([0.0]))
    assert "negative coefficient" in why_not_tree(lp)
    floor = integer_lp(ones, zeros, ones, sp.csc_array(np.ones((1, 2))), np.array([1.0]),
                       np.array([2.0]))
    assert "lower limit" in why_not_tree(floor)
    loose = integer_lp(ones, zeros, ones, sp.csc_array(np.ones((1, 2))), np.array([-1.0]),
                       np.array([1.0]))
    assert why_not_tree(loose) is None  # a floor no plan can break
    none = integer_lp(ones, zeros, ones, sp.csc_array(np.ones((1, 2))), np.array([-np.inf]),
                      np.array([1.0]), integer=np.zeros(2, dtype=bool))
    assert "no integer column" in why_not_tree(none)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_the_kernels_agree_with_their_plain_reading(data):
    if not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.compile_all()
    m, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 10))
    a = np.array(data.draw(st.lists(st.lists(st.integers(0, 9), min_size=n, max_size=n),
                                    min_size=m, max_size=m)), dtype=float)
    up = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), float)
    lo = np.zeros(n)
    x = np.zeros(n)
    slack = np.array(data.draw(st.lists(st.integers(0, 30), min_size=m, max_size=m)), float)
    cost = np.array(data.draw(st.lists(st.integers(-3, 20), min_size=n, max_size=n)), float)
    order = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    runs = []
    for fill in (kernels._fill, kernels.fill, kernels.fill_numpy):
        xs, ss = x.copy(), slack.copy()
        fill(a, ss, xs, up, order)
        runs.append((xs, ss))
    for xs, ss in runs[1:]:
        assert np.array_equal(xs, runs[0][0]) and np.allclose(ss, runs[0][1])
    xs, ss = runs[0]
    assert np.all(ss >= -1e-9) and np.all(xs <= up)
    by_cost = np.argsort(-cost, kind="stable").astype(np.int64)
    climbs = []
    for climb in (kernels._climb, kernels.climb):
        xc, sc = xs.copy(), ss.copy()
        gained = climb(a, sc, xc, lo, up, cost, by_cost, 1e-9, 100)
        climbs.append((xc, sc, gained))
    assert np.array_equal(climbs[0][0], climbs[1][0])
    xc, sc, gained = climbs[1]
    assert float(cost @ xc) == pytest.approx(float(cost @ xs) + gained)
    assert np.allclose(sc, slack - a @ xc) and np.all(sc >= -1e-9)
    # no single move gains: fund a unit, drop a unit, or exchange one for another
    for j in range(n):
        if xc[j] < up[j] and cost[j] > 1e-9:
            assert np.any(a[:, j] > sc + 1e-9)
        if xc[j] > 0:
            assert cost[j] >= -1e-9
        for i in range(n):
            if i != j and xc[i] > 0 and xc[j] < up[j] and cost[j] - cost[i] > 1e-9:
                assert np.any(a[:, j] - a[:, i] > sc + 1e-9)


def test_mknap1_optima_are_proven_with_the_tree(tmp_path):
    from optimizer.program.orlib import best_known, convert
    from tests.helpers import ROOT

    table = best_known(ROOT / "instances" / "orlib" / "best_known.csv")
    for k, program in enumerate(convert(ROOT / "instances" / "orlib" / "mknap1.txt",
                                        tmp_path)):
        result = solve_checked(program, SolveOptions(threads=1, gap=0.0, time_limit=30,
                                                     heuristic="tree"))
        assert result.status == "optimal" and result.gap == 0
        assert result.objective == pytest.approx(table[("mknap1.txt", k)][0])
        tree = result.solver["options"]["tree"]
        assert tree["applied"] and tree["objective"] <= result.objective + 1e-9


def test_where_the_rows_do_not_allow_it_the_result_says_why():
    from tests.helpers import ROOT

    for pilot in ("pilot", "pilot-v1"):
        result = solve_checked(ROOT / "instances" / pilot / "program.yaml",
                               SolveOptions(threads=1, heuristic="tree"))
        tree = result.solver["options"]["tree"]
        assert tree["applied"] is False and "row" in tree["reason"], tree
        assert result.status == "optimal"


def test_auto_runs_the_tree_with_a_short_time_limit_where_it_applies(tmp_path):
    from optimizer.program.orlib import convert
    from tests.helpers import ROOT

    program = convert(ROOT / "instances" / "orlib" / "mknap1.txt", tmp_path)[3]
    short = solve_checked(program, SolveOptions(threads=1, gap=0.0, time_limit=5))
    assert short.solver["options"]["heuristic"] == "tree"
    assert short.solver["options"]["tree"]["applied"]
    unlimited = solve_checked(program, SolveOptions(threads=1, gap=0.0))
    assert "heuristic" not in unlimited.solver["options"]
    assert short.objective == pytest.approx(unlimited.objective)
    # on up to TREE_AUTO_LIMIT (the tree proves this small optimum at once), off above it
    at = solve_checked(program, SolveOptions(threads=1, gap=0.0, time_limit=TREE_AUTO_LIMIT))
    assert at.solver["options"]["heuristic"] == "tree"
    assert at.objective == pytest.approx(unlimited.objective)
    above = solve_checked(program, SolveOptions(threads=1, gap=0.0,
                                                time_limit=TREE_AUTO_LIMIT + 1))
    assert "heuristic" not in above.solver["options"]
    pilot = solve_checked(ROOT / "instances" / "pilot" / "program.yaml",
                          SolveOptions(threads=1, time_limit=5))
    assert "heuristic" not in pilot.solver["options"]  # its rows do not allow it


def test_the_cli_takes_the_tree_and_prints_one_json_object(tmp_path):
    from optimizer.program.orlib import convert
    from tests.helpers import ROOT

    program = convert(ROOT / "instances" / "orlib" / "mknap1.txt", tmp_path)[6]
    out = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(program),
                          "--json", "--threads", "1", "--time-limit", "5",
                          "--heuristic", "tree"], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["check"]["valid"] and data["solver"]["options"]["heuristic"] == "tree"


def test_node_lps_the_compiled_simplex_gives_up_are_solved_by_highs(monkeypatch):
    """Every third node LP handed to HiGHS (as on an iteration limit): the optima stay."""
    if not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.compile_all()
    monkeypatch.setattr(kernels, "ready", lambda: True)
    solve, calls = simplex.NodeLP.solve, itertools.count()

    def flaky(self, lo, hi):
        if next(calls) % 3 == 2:
            self.failed += 1
            self.reset()
            return simplex.FAILED
        return solve(self, lo, hi)

    monkeypatch.setattr(simplex.NodeLP, "solve", flaky)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(limited())
    def check(model):
        lp, a, upper, cost, col_lower, col_upper = model
        found = tree_search(lp, ONE_THREAD, budget=30.0)
        assert found.exhausted and found.compiled_lp
        assert found.objective == pytest.approx(optimum(a, upper, cost, col_lower,
                                                        col_upper))

    check()
