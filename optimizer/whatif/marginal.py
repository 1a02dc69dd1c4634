"""Marginal values: what one more unit of a limit is worth, three ways, side by side.

For each limit of the program (the total budget, each capped year's disbursement cap and
labor capacity, each sector floor and ceiling, the hurdle) and a step (one $B, 1,000
specialists, ...):

* ``lp_value``: the dual price of the limit in the LP relaxation (integrality dropped),
  times the step. What a continuous model would say;
* ``fixed_value``: the dual price with the integer choices fixed at the optimal plan,
  times the step. What MIP solvers report as "the duals" of a MIP. With every choice
  fixed, the prices are degenerate and usually 0;
* ``mip_value``: the true change of the best return when the limit moves by the step,
  from re-solving the MIP (warm-started from the plan, on the same model).

The three can differ widely: a billion of budget is worth nothing in the MIP until a
whole project fits, and then worth that project's return. ``mip_value`` is the answer;
the others show how far a linear reading is from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from formulations.family import Marginal
from formulations.registry import FAMILIES
from optimizer.pipeline import solve
from optimizer.program.instance import Instance
from optimizer.results.result import Result, label
from optimizer.solving.highs import SolveOptions
from optimizer.solving.quiet import match_thread_scheduler, quiet_stdout
from optimizer.whatif.scenarios import derive
from optimizer.whatif.sweeps import ParametricModel

__all__ = ["marginal_values", "STEPS"]

#: Default step per kind of limit, in the program's units, family by family.
STEPS: dict[str, float] = {k: v for family in FAMILIES for k, v in family.steps.items()}


def limits_of(instance: Instance, steps: Mapping[str, float]) -> list[Marginal]:
    """Every limit the program sets, with its step and change, from every family."""
    return [m for family in FAMILIES for m in family.marginal(instance, steps)]


def _duals(model: Any, units: np.ndarray | None) -> np.ndarray | None:
    """Row duals of the loaded model as an LP: relaxed, or with the columns fixed at
    ``units`` (the plan's column values) when given."""
    import highspy


    h = model.session.highs
    n_cols = h.getNumCol()
    cols = np.arange(n_cols, dtype=np.int32)
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    kinds = list(h.getLp().integrality_)  # restored after: continuous columns stay so
    with quiet_stdout():
        h.changeColsIntegrality(n_cols, cols,
                                np.full(n_cols, highspy.HighsVarType.kContinuous))
        if units is not None:
            h.changeColsBounds(n_cols, cols, units, units)
        h.setOptionValue("presolve", "off")  # duals of the model as written
        match_thread_scheduler(model.session.options.get("threads"))
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        duals = np.array(h.getSolution().row_dual, dtype=float) if ok else None
        h.changeColsIntegrality(n_cols, cols, np.array(kinds))
        h.changeColsBounds(n_cols, cols, lower, upper)
        h.setOptionValue("presolve", model.session.options["presolve"])
    return duals


def marginal_values(instance: Instance, result: Result | None = None,
                    options: SolveOptions | None = None,
                    steps: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per limit the program sets: the rule, the step, and the change of the best
    return that step buys by the LP relaxation's price (``lp_value``), the fixed-choice
    LP's price (``fixed_value``) and re-solving the MIP (``mip_value``; with the status
    of that re-solve). ``result`` is the program's solve (solved here when not given)."""
    options = dataclasses.replace(options or SolveOptions(), progress=None)
    steps = {**STEPS, **(steps or {})}
    if result is None:
        result = solve(instance, options)
    limits = limits_of(instance, steps)
    columns = ["rule", "step", "binding", "lp_value", "fixed_value", "mip_value",
               "mip_status", "objective", "new_objective"]
    if not limits:
        return pd.DataFrame(columns=columns)
    points = [derive(instance, **item.change) for item in limits]
    model = ParametricModel([instance, *points], options)
    model.move_to(instance)
    start = model.column_values(result)
    relaxed = _duals(model, None)
    fixed = _duals(model, start) if start is not None else None
    binding = set(result.binding_rules())
    out = []
    for item, point in zip(limits, points, strict=True):
        row = model.row(item.ref)
        step = item.step
        if item.row_scale is not None:
            step = step * item.row_scale(result)  # the row's right-hand side moves

        def value(duals: np.ndarray | None, row: int | None = row, step: float = step
                  ) -> float | None:
            if duals is None:
                return None
            if row is None:  # no project uses this limit: it has no row, and no price
                return 0.0
            return float(duals[row] * step) + 0.0  # + 0.0: no negative zeros

        resolved = model.solve(point, start)
        gain = (None if resolved.objective is None or result.objective is None
                else resolved.objective - result.objective)
        out.append({"rule": label(item.ref), "step": item.step,
                    "binding": item.ref in binding,
                    "lp_value": value(relaxed), "fixed_value": value(fixed),
                    "mip_value": gain, "mip_status": resolved.status,
                    "objective": result.objective, "new_objective": resolved.objective})
    return pd.DataFrame(out, columns=columns)
