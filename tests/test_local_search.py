"""Local search (``optimizer.heuristics.SwapSearch``) against enumeration.

Random small integer models, with rows of either sign, limits on one side, both or
neither, and columns that are binary, general integer or fixed, are drawn by Hypothesis
around a plan that fits them. From that plan the climb must end at a plan that fits
every row, that only moved binary columns, whose return is the start's plus the gain it
reports, and that no single funding, drop or exchange can improve, each checked here by
trying every one.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.heuristics import SwapSearch
from optimizer.solver import integer_lp


def make_lp(a: np.ndarray, lower: np.ndarray, upper: np.ndarray, cost: np.ndarray,
            col_lower: np.ndarray, col_upper: np.ndarray, minimize: bool = False):
    """The model maximising ``cost`` (stated as minimising ``-cost`` when ``minimize``)."""
    return integer_lp(-cost if minimize else cost, col_lower, col_upper, sp.csc_array(a),
                      lower, upper, minimize=minimize)


@st.composite
def models(draw):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 9))
    a = np.array(draw(st.lists(st.lists(st.integers(-4, 9), min_size=n, max_size=n),
                               min_size=m, max_size=m)), dtype=float)
    kinds = draw(st.lists(st.sampled_from(["binary", "binary", "binary", "integer",
                                           "fixed"]), min_size=n, max_size=n))
    col_lower = np.array([1.0 if k == "fixed" else 0.0 for k in kinds])
    col_upper = np.array([3.0 if k == "integer" else 1.0 for k in kinds])
    x = np.array([draw(st.integers(int(lo), int(hi))) for lo, hi in
                  zip(col_lower, col_upper, strict=True)], dtype=float)
    activity = a @ x
    lower, upper = np.full(m, -np.inf), np.full(m, np.inf)
    for i in range(m):  # limits around the start's activity, so the start fits
        side = draw(st.sampled_from(["upper", "upper", "lower", "both", "none"]))
        if side in ("upper", "both"):
            upper[i] = activity[i] + draw(st.integers(0, 6))
        if side in ("lower", "both"):
            lower[i] = activity[i] - draw(st.integers(0, 6))
    cost = np.array(draw(st.lists(st.integers(-3, 20), min_size=n, max_size=n)), dtype=float)
    minimize = draw(st.booleans())
    return make_lp(a, lower, upper, cost, col_lower, col_upper, minimize), a, lower, upper, \
        cost, x


def fits(a, lower, upper, x) -> bool:
    activity = a @ x
    return bool(np.all(activity <= upper + 1e-9) and np.all(activity >= lower - 1e-9))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=models())
def test_the_climb_ends_at_a_local_optimum_that_fits(data):
    lp, a, lower, upper, cost, start = data
    search = SwapSearch(lp)
    x, gained = search.improve(start.copy())
    assert fits(a, lower, upper, x)
    assert gained >= 0
    assert cost @ x == pytest.approx(cost @ start + gained)
    movable = (np.asarray(lp.col_lower_) == 0) & (np.asarray(lp.col_upper_) == 1)
    assert np.array_equal(x[~movable], start[~movable])
    assert set(np.unique(x[movable])) <= {0.0, 1.0}
    ones, zeros = np.flatnonzero(movable & (x == 1)), np.flatnonzero(movable & (x == 0))
    for j in zeros:  # no single funding that fits adds to the return
        y = x.copy()
        y[j] = 1
        assert not (cost[j] > 0 and fits(a, lower, upper, y)), j
    for i in ones:  # nor any single drop
        y = x.copy()
        y[i] = 0
        assert not (cost[i] < 0 and fits(a, lower, upper, y)), i
    for i in ones:  # nor any single exchange
        for j in zeros:
            y = x.copy()
            y[i], y[j] = 0, 1
            assert not (cost[j] > cost[i] and fits(a, lower, upper, y)), (i, j)


def test_a_start_that_does_not_fit_is_left_alone():
    a = np.array([[1.0, 1.0]])
    lp = make_lp(a, np.array([-np.inf]), np.array([1.0]), np.array([1.0, 2.0]),
                 np.zeros(2), np.ones(2))
    x, gained = SwapSearch(lp).improve(np.array([1.0, 1.0]))
    assert gained == 0 and np.array_equal(x, [1.0, 1.0])
    x, gained = SwapSearch(lp).improve(np.array([1.0]))  # not a plan of these columns
    assert gained == 0


def test_the_deadline_stops_the_climb():
    a = np.ones((1, 5))
    lp = make_lp(a, np.array([-np.inf]), np.array([5.0]), np.arange(1.0, 6.0),
                 np.zeros(5), np.ones(5))
    x, gained = SwapSearch(lp).improve(np.zeros(5), deadline=0.0)
    assert gained == 0 and not x.any()
    x, gained = SwapSearch(lp).improve(np.zeros(5))
    assert gained == 15 and x.all()
