"""The compiled dual simplex of the tree's node LPs (``optimizer.solving.simplex``),
against HiGHS on the same LPs.

Random LPs whose rows only limit (non-negative coefficients, bounded columns, returns of
either sign) are solved node after node from the basis the last one left, with columns
fixed at random as the tree's branchings do: each answer must be HiGHS's (the same
optimum, or infeasible), its solution must fit, and its Lagrangian bound must hold
above HiGHS's optimum and come within 1e-6 of it.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.solving import kernels, simplex
from optimizer.solving.highs import integer_lp
from optimizer.solving.quiet import match_thread_scheduler


def highs_optimum(a, b, cost, lower, upper) -> float | None:
    """HiGHS's LP optimum (None: infeasible)."""
    n = len(cost)
    lp = integer_lp(cost, lower, upper, sp.csc_array(a), np.full(len(b), -np.inf), b,
                    minimize=False)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * n
    match_thread_scheduler(1)  # HiGHS's scheduler is global: say what it runs with
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    assert status == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


@pytest.fixture(scope="module", autouse=True)
def compiled():
    if not kernels.COMPILED:
        pytest.skip("numba is not installed")
    kernels.compile_all()


@pytest.mark.parametrize("seed", range(6))
def test_node_after_node_it_agrees_with_highs(seed):
    rng = np.random.default_rng(seed)
    answers = {"optimal": 0, "infeasible": 0, "failed": 0}
    for _ in range(25):
        m, n = int(rng.integers(1, 15)), int(rng.integers(1, 60))
        a = rng.integers(0, 50, (m, n)) * (rng.random((m, n)) < 0.7).astype(float)
        cost = rng.integers(-10, 60, n).astype(float)
        upper = rng.integers(1, 4, n).astype(float)
        lower = np.zeros(n)
        b = rng.integers(0, 40 * n, m).astype(float)
        assert simplex.takes(a, lower, upper)
        node_lp = simplex.NodeLP(a, b, np.ones(m, dtype=bool), cost)
        for node in range(12):
            lo, hi = lower.copy(), upper.copy()
            fixed = rng.choice(n, int(rng.integers(0, n // 3 + 1)), replace=False)
            if node:
                lo[fixed] = hi[fixed] = rng.integers(0, upper[fixed].astype(int) + 1)
            solved = node_lp.solve(lo, hi)
            expected = highs_optimum(a, b, cost, lo, hi)
            if isinstance(solved, int):
                assert solved in (simplex.INFEASIBLE, simplex.FAILED)
                if solved == simplex.INFEASIBLE:
                    assert expected is None
                    answers["infeasible"] += 1
                else:
                    answers["failed"] += 1
                continue
            bound, x, d, y = solved
            assert expected is not None
            assert abs(cost @ x - expected) <= 1e-7 * (1 + abs(expected))
            assert expected - 1e-9 <= bound <= expected + 1e-6 * (1 + abs(expected))
            assert np.all(a @ x <= b + 1e-7 * (1 + b)) and np.all((lo - 1e-9 <= x) &
                                                                   (x <= hi + 1e-9))
            assert np.all(y >= 0) and d.shape == (n,)
            answers["optimal"] += 1
    assert answers["optimal"] >= 100 and answers["failed"] <= 3, answers


def test_the_shape_it_takes():
    a = np.array([[1.0, 2.0]])
    assert simplex.takes(a, np.zeros(2), np.ones(2))
    assert not simplex.takes(-a, np.zeros(2), np.ones(2))  # a negative coefficient
    assert not simplex.takes(a, np.zeros(2), np.array([1.0, 1e30]))  # unbounded
    assert not simplex.takes(np.zeros((0, 2)), np.zeros(2), np.ones(2))  # no row
