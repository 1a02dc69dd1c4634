"""The tests' own helpers can fail: ``solve_checked`` rejects a result whose objective, or
the objective HiGHS reported, is not the return of the plan it holds."""

from __future__ import annotations

import dataclasses

import helpers
import pytest
from helpers import plan_return, small, solve_checked

from optimizer import load


def test_plan_return_is_worked_out_from_the_table(tmp_path):
    instance = load(small(tmp_path))  # A: return 6, B and C: 4 each
    assert plan_return(instance, {"B": 1, "C": 1}) == 8
    assert plan_return(instance, {"A": 1, "B": 0, "C": 0}) == 6
    assert plan_return(instance, {"A": 2, "C": 1}) == 16
    assert plan_return(instance, {}) == 0
    with pytest.raises(AssertionError, match="does not have"):
        plan_return(instance, {"Z": 1})


@pytest.mark.solver
def test_solve_checked_passes_a_true_result(tmp_path):
    result = solve_checked(small(tmp_path))
    assert result.objective == pytest.approx(8)


@pytest.mark.solver
@pytest.mark.parametrize("tamper", ["objective", "solver objective"])
def test_solve_checked_rejects_an_objective_that_is_not_the_plans_return(tmp_path,
                                                                          monkeypatch, tamper):
    real = helpers.solve

    def tampered(instance, options):
        result = real(instance, options)
        if tamper == "objective":
            return dataclasses.replace(result, objective=result.objective + 1)
        return dataclasses.replace(result, solver={**result.solver,
                                                   "objective": result.objective + 1})

    monkeypatch.setattr(helpers, "solve", tampered)
    with pytest.raises(AssertionError):
        solve_checked(small(tmp_path))
