"""Labor rule: specialists needed in each capped year within that year's capacity.

    sum_i l_it u_i <= labor.capacity[t]      for every capped year t
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from formulations.columns import Columns
from formulations.family import (
    Conflict,
    Family,
    Finding,
    Marginal,
    Rule,
    RuleRef,
    Usage,
    Violation,
    Words,
)
from formulations.rows import RowBlock, row_block
from formulations.shared import check_years, forced_years
from formulations.tables import yearly_table
from formulations.whatif import bounded_array, caps_within, open_where_any, yearly
from optimizer.limits import PEOPLE
from optimizer.program.terms import Field, Section
from optimizer.units import people, table

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "Labor", "NAME"]

NAME = "labor_year"
CAPACITY = "labor.capacity"



#: The keys this family reads (its part of the format's vocabulary).
LABOR = Section("labor", "`labor`: specialists available", (
    Field("capacity", "year_map", "cap on the specialists needed in each year it names "
          "(every funded unit's labor in that year); a year it does not name has no cap",
          unit="specialists in that year", bound=PEOPLE, default_text="no cap"),
))


class Labor(Family):
    name = "labor"
    rules = (Rule(CAPACITY, "labor_year", amount="people"),)
    fields = (
        Field("labor", "mapping", "specialists available (below)", section=LABOR,
              default_text="no caps"),
    )
    changes = {"labor_capacity": "{year: specialists or None}",
               "labor_scale": "multiplies every yearly capacity (after labor_capacity)"}
    parameters = {"labor_scale": "factor on every yearly labor capacity",
                  "labor": "labor:YEAR, that year's capacity (specialists)"}
    keyed_parameters = frozenset({"labor"})
    axis_labels = {"labor_scale": "labor capacity scale (x program capacity)",
                   "labor": "labor capacity {key} ({staff})"}
    steps = {"labor": 1000.0}

    # ----------------------------------------------------------------- reading
    def read(self, values: Mapping[str, Any], years: np.ndarray) -> dict[str, Any]:
        capacity = (values.get("labor") or {}).get("capacity") or {}
        return {"labor_capacity": np.array([capacity.get(int(y), np.nan) for y in years])}

    # ------------------------------------------------------------------- model
    def limits(self, instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
        cap = np.where(np.isfinite(instance.labor_capacity), instance.labor_capacity, np.inf)
        return {NAME: (tuple(int(y) for y in instance.years), np.full(len(cap), -np.inf), cap)}

    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        keys, lower, upper = self.limits(instance)[NAME]
        capped = np.flatnonzero(np.isfinite(upper))
        if not len(capped):
            return []
        matrix, cols = columns.place(instance.options.labor_by_year[:, capped].T)
        return [row_block(NAME, matrix, cols, columns.n_columns, lower[capped], upper[capped],
                          tuple(keys[k] for k in capped), family=self.name,
                          upper_rule=CAPACITY)]

    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        return {"labor_capacity": open_where_any([p.labor_capacity for p in points])}

    def restricts(self, b: Instance, a: Instance) -> bool:
        return caps_within(b.labor_capacity, a.labor_capacity)

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        bad: list[Violation] = []
        check_years(bad, self.rule(CAPACITY), instance.years, instance.labor_capacity,
                    usage.labor_by_year, rtol)
        return bad

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        if not np.asarray(instance.force_in, dtype=bool).any():
            return []
        return forced_years(instance, "labor_by_year", instance.labor_capacity,
                            CAPACITY, "labor", people, instance.labor_unit)

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        short = abs(limit - reached)
        msg = (f"labor in {ref.key} is {people(short, words.staff)} short{words.with_forced}: "
               f"the plan needs {people(reached)} against a capacity of {people(limit)}")
        return Conflict(CAPACITY, str(ref.key), limit, reached, msg, ref)

    # ------------------------------------------------------------------ report
    def table(self, result: Result) -> pd.DataFrame:
        """Specialists employed per horizon year against the year's capacity, with slack."""
        inst, check = result.instance, result.check
        return yearly_table(inst, result.units.to_numpy(),
                            check.labor_by_year if check is not None else None,
                            inst.labor_capacity, inst.options.labor_by_year)

    def binding(self, result: Result) -> list[RuleRef]:
        if result.check is None:
            return []
        frame = self.table(result)
        return [RuleRef(CAPACITY, int(y)) for y in frame.index[frame["binding"]]]

    def report(self, result: Result) -> list[str]:
        inst = result.instance
        frame = self.table(result)
        if not (inst.labor_capacity.size and (frame["used"] > 0).any()):
            return []
        return ["", f"labor by year ({inst.labor_unit}):",
                table(frame, people_columns=("used", "limit", "slack"))]

    # ------------------------------------------------------------------ what-if
    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        scale = changes.get("labor_scale")
        labor = yearly(instance, instance.labor_capacity, changes.get("labor_capacity"), scale,
                       "labor_capacity", "labor_scale", labels)
        if labor is instance.labor_capacity:
            return {}
        bounded_array("labor_capacity", instance.years.tolist(), labor, PEOPLE,
                      by=f"labor_scale={scale:g}" if scale is not None else "")
        return {"labor_capacity": labor}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind == "labor_scale":
            return {"labor_scale": value}
        if kind == "labor":
            return {"labor_capacity": {key: value}}
        raise KeyError(kind)

    def marginal(self, instance: Instance, steps: Mapping[str, float]) -> list[Marginal]:
        step = steps["labor"]
        return [Marginal(RuleRef(CAPACITY, year), step, {"labor_capacity": {year: cap + step}})
                for year, cap in zip(instance.years.tolist(), instance.labor_capacity.tolist(),
                                     strict=True) if np.isfinite(cap)]


FAMILY = Labor()
