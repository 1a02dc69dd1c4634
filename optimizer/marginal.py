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
from typing import Any

import numpy as np
import pandas as pd

from optimizer.instance import Instance
from optimizer.results import Result
from optimizer.solver import SolveOptions

__all__ = ["marginal_values", "STEPS"]

#: Default step per kind of limit, in the program's units.
STEPS = {"budget": 1.0, "labor": 1000.0, "sector": 1.0, "hurdle": 0.001}


def _limits(instance: Instance, steps: dict[str, float]) -> list[dict[str, Any]]:
    """(rule, row name, key, step, parameter change) for every limit the program sets."""
    from formulations.budget import NAME_TOTAL, NAME_YEARS
    from formulations.hurdle import NAME as HURDLE
    from formulations.labor import NAME as LABOR
    from formulations.sectors import NAME as SECTORS

    out: list[dict[str, Any]] = []
    if instance.budget_total is not None:
        out.append({"rule": "budget.total", "row": NAME_TOTAL, "key": "total",
                    "step": steps["budget"],
                    "change": {"budget_total": instance.budget_total + steps["budget"]}})
    for caps, rule, row, step, field in (
            (instance.budget_per_year, "budget.per_year", NAME_YEARS, steps["budget"],
             "budget_per_year"),
            (instance.labor_capacity, "labor.capacity", LABOR, steps["labor"],
             "labor_capacity")):
        for year, cap in zip(instance.years.tolist(), caps.tolist(), strict=True):
            if np.isfinite(cap):
                out.append({"rule": f"{rule}[{year}]", "row": row, "key": year,
                            "step": step,
                            "change": {field: {year: cap + step}}})
    for k, sector in enumerate(instance.sectors):
        low, high = instance.sector_min[k], instance.sector_max[k]
        if np.isfinite(low) and low > 0:
            out.append({"rule": f"sectors.{sector}.min", "row": SECTORS, "key": sector,
                        "step": -min(steps["sector"], float(low)),
                        "change": {"sector_min": {sector: max(0.0, low - steps["sector"])}}})
        if np.isfinite(high):
            out.append({"rule": f"sectors.{sector}.max", "row": SECTORS, "key": sector,
                        "step": steps["sector"],
                        "change": {"sector_max": {sector: high + steps["sector"]}}})
    if instance.hurdle_rate is not None:
        step = min(steps["hurdle"], instance.hurdle_rate)
        # the row is sum (r_i - h C_i) u_i >= 0: lowering h by d moves the row by d * C(plan)
        out.append({"rule": "hurdle_rate", "row": HURDLE, "key": "hurdle",
                    "step": -step, "change": {"hurdle_rate": instance.hurdle_rate - step}})
    return out


def _duals(model: Any, units: np.ndarray | None) -> np.ndarray | None:
    """Row duals of the loaded model as an LP: relaxed, or with the columns fixed at
    ``units`` (the plan's column values) when given."""
    import highspy

    from optimizer.solver import match_thread_scheduler, quiet_stdout

    h = model.session.highs
    n_cols = h.getNumCol()
    cols = np.arange(n_cols, dtype=np.int32)
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
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
        h.changeColsIntegrality(n_cols, cols,
                                np.full(n_cols, highspy.HighsVarType.kInteger))
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
    from optimizer.api import solve
    from optimizer.scenarios import derive
    from optimizer.sweeps import ParametricModel

    options = dataclasses.replace(options or SolveOptions(), progress=None)
    steps = {**STEPS, **(steps or {})}
    if result is None:
        result = solve(instance, options)
    limits = _limits(instance, steps)
    columns = ["rule", "step", "binding", "lp_value", "fixed_value", "mip_value",
               "mip_status", "objective", "new_objective"]
    if not limits:
        return pd.DataFrame(columns=columns)
    points = [derive(instance, **item["change"]) for item in limits]
    model = ParametricModel([instance, *points], options)
    model.move_to(instance)
    start = model.column_values(result)
    relaxed = _duals(model, None)
    fixed = _duals(model, start) if start is not None else None
    binding = set(result.binding())
    out = []
    for item, point in zip(limits, points, strict=True):
        row = model.row_of.get((item["row"], item["key"]))
        step = item["step"]
        if item["rule"] == "hurdle_rate" and result.check is not None:
            step = step * result.check.total_capital  # the row's right-hand side moves

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
        out.append({"rule": item["rule"], "step": item["step"],
                    "binding": item["rule"] in binding,
                    "lp_value": value(relaxed), "fixed_value": value(fixed),
                    "mip_value": gain, "mip_status": resolved.status,
                    "objective": result.objective, "new_objective": resolved.objective})
    return pd.DataFrame(out, columns=columns)
