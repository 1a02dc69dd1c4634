"""Local search (``optimizer.solving.heuristics.SwapSearch``) against enumeration.

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

from optimizer.solving.heuristics import SwapSearch
from optimizer.solving.highs import integer_lp


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


class _Clock:
    """A fake ``time`` module: each reading of ``perf_counter`` is ``step`` seconds after
    the one before, whatever the machine's speed."""

    def __init__(self, step: float = 1.0) -> None:
        self.now, self.step, self.readings = 0.0, step, 0

    def perf_counter(self) -> float:
        self.now += self.step
        self.readings += 1
        return self.now


class _Callback:
    def __init__(self) -> None:
        self.subscribers = []

    def subscribe(self, fn) -> None:
        self.subscribers.append(fn)

    def __call__(self, event) -> None:
        for fn in self.subscribers:
            fn(event)


def test_the_search_keeps_to_its_time_budget_on_a_fake_clock(monkeypatch):
    """Attached to a solve (HiGHS stood in for by its two callbacks), the search spends at
    most its budget in all: on a clock that moves a second per reading, a budget of 3 s
    ends the first climb part way (each step of the climb reads the clock once), and no
    later plan HiGHS finds is climbed from, or read the clock for, at all."""
    from types import SimpleNamespace

    from optimizer.solving import heuristics

    n = 20  # one row, room for every column: the full climb funds all 20, one a step
    lp = make_lp(np.ones((1, n)), np.array([-np.inf]), np.array([float(n)]),
                 np.arange(1.0, n + 1), np.zeros(n), np.ones(n))
    _, full = SwapSearch(lp).improve(np.zeros(n))
    assert full == n * (n + 1) / 2  # without a deadline, the climb goes all the way

    clock = _Clock()
    monkeypatch.setattr(heuristics, "time", clock)
    search = SwapSearch(lp, budget=3.0)
    improving, user = _Callback(), _Callback()
    search.attach(SimpleNamespace(cbMipImprovingSolution=improving, cbMipUserSolution=user))
    handed = []
    user_event = SimpleNamespace(data_in=SimpleNamespace(setSolution=handed.append))

    improving(SimpleNamespace(data_out=SimpleNamespace(mip_solution=np.zeros(n))))
    assert 0 < search.seconds and search.seconds >= search.budget  # the budget is spent
    assert search.seconds <= search.budget + 2 * clock.step  # a step over, at most
    user(user_event)
    assert len(handed) == 1 and search.plans == 1
    first = handed[0]
    assert 0 < first.sum() < n  # part way: stopped by the clock, not by the model
    assert search.gain == pytest.approx(float(np.arange(1.0, n + 1) @ first))
    assert search.gain < full

    readings = clock.readings
    improving(SimpleNamespace(data_out=SimpleNamespace(mip_solution=np.zeros(n))))
    user(user_event)
    assert clock.readings == readings, "a climb ran after the budget was spent"
    assert len(handed) == 1 and search.plans == 1
