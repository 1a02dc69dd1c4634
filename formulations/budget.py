"""Budget rules: the cap on all capital committed, and the cap on each year's disbursement.

    sum_i C_i u_i <= budget.total
    sum_i c_it u_i <= budget.per_year[t]     for every capped year t

C_i is a unit's capital over the whole plan (build years after the horizon included,
reinvestments inside it), c_it what it disburses in year t (per start year in version 2:
:class:`~formulations.starts.Options`).

Version 2: ``budget.recycle: true`` replaces the total row by one row per horizon year t,

    sum_i (capital of i disbursed in years <= t - Japan's receipts J_i in years < t) u_i
        <= budget.total

the last year counting every disbursement, after the horizon too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

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
from formulations.shared import check_years, exceeds, forced_years, names, over
from formulations.tables import option_room, threshold, yearly_table
from formulations.whatif import (
    KEEP,
    OPEN,
    bounded,
    bounded_array,
    caps_within,
    number,
    open_where_any,
    yearly,
)
from optimizer.errors import InstanceError, Problem
from optimizer.limits import MONEY
from optimizer.program.terms import MONEY_AT_LEAST_0, Field, Section
from optimizer.units import money, table

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "Budget", "NAME_TOTAL", "NAME_YEARS"]

NAME_TOTAL = "budget_total"
NAME_YEARS = "budget_year"
TOTAL, PER_YEAR = "budget.total", "budget.per_year"
#: the param that says the total cap recycles Japan's receipts (version 2)
RECYCLE = "budget_recycle"
RECYCLED, NAME_RECYCLED = "budget.recycle", "budget_recycled"







#: The keys this family reads (its part of the format's vocabulary).
BUDGET = Section("budget", "`budget`: caps on capital", (
    Field("total", "number", "cap on the capital of every funded unit together (its "
          "profile or spread, build years after the horizon included, plus its "
          "reinvestments)", unit="$B over the plan", bound=MONEY_AT_LEAST_0,
          default_text="no cap"),
    Field("per_year", "year_map", "cap on the capital disbursed in each year it names; a "
          "year it does not name has no cap; a year outside the horizon caps nothing "
          "(a warning)", unit="$B in that year", bound=MONEY_AT_LEAST_0,
          default_text="no cap"),
    Field("recycle", "boolean", "`true`: the total cap becomes one row per horizon year t: "
          "capital disbursed in years <= t (in the last year: every disbursement, after "
          "the horizon too) <= total + Japan's receipts in years < t (needs `total`)",
          default_text="`false`", since=2),
))


class Budget(Family):
    name = "budget"
    rules = (Rule(TOTAL, "budget_total", single=True, key_text=lambda key: "total"),
             Rule(PER_YEAR, "budget_year"), Rule(RECYCLED, NAME_RECYCLED))
    fields = (
        Field("budget", "mapping", "caps on capital (below)", section=BUDGET,
              default_text="no caps"),
    )
    changes = {
        "budget_total": "the cap on all capital ($B; None removes it)",
        "budget_per_year": "{year: cap or None}",
        "budget_scale": "multiplies the total and every per-year cap the program (after "
                        "the other budget changes) sets",
    }
    parameters = {
        "budget": "budget_total ($B)",
        "budget_scale": "factor on the total and every per-year cap",
        "budget_year": "budget_year:YEAR, that year's disbursement cap ($B)",
    }
    keyed_parameters = frozenset({"budget_year"})
    params = {RECYCLE: None}
    axis_labels = {"budget": "budget cap ({cash})", "budget_scale": "budget scale (x program caps)",
                   "budget_year": "disbursement cap {key} ({cash})"}
    steps = {"budget": 1.0}

    # ----------------------------------------------------------------- reading
    def read(self, values: Mapping[str, Any], years: np.ndarray) -> dict[str, Any]:
        budget = values.get("budget") or {}
        per_year = budget.get("per_year") or {}
        recycle = budget.get("recycle")
        if recycle and budget.get("total") is None:
            raise InstanceError([Problem("", "budget.recycle", None,
                                         "needs budget.total: the receipts recycle into it")])
        return {"budget_total": budget.get("total"),
                "budget_per_year": np.array([per_year.get(int(y), np.nan) for y in years]),
                RECYCLE: True if recycle else None}

    # ------------------------------------------------------------------- model
    def limits(self, instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
        total = np.inf if instance.budget_total is None else float(instance.budget_total)
        recycle = bool(instance.params.get(RECYCLE))
        per_year = np.where(np.isfinite(instance.budget_per_year), instance.budget_per_year,
                            np.inf)
        years = tuple(int(y) for y in instance.years)
        return {
            NAME_TOTAL: ((None,), np.array([-np.inf]), np.array([np.inf if recycle else total])),
            NAME_YEARS: (years, np.full(len(per_year), -np.inf), per_year),
            NAME_RECYCLED: (years, np.full(len(years), -np.inf),
                            np.full(len(years), total if recycle else np.inf)),
        }

    def recycled(self, instance: Instance) -> np.ndarray:
        """Per option and horizon year t (dense): capital disbursed in years <= t (the
        last year: all of it) less Japan's receipts in years < t, per unit."""
        o = instance.options
        spent = np.cumsum(o.capital_by_year.toarray(), axis=1)
        spent[:, -1] = o.total_capital
        if o.receipts_by_year is not None:
            got = np.cumsum(o.receipts_by_year.toarray(), axis=1)
            spent[:, 1:] -= got[:, :-1]
        return spent

    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        blocks = []
        m = columns.n_columns
        rows = self.limits(instance)
        keys, lower, upper = rows[NAME_TOTAL]
        if np.isfinite(upper[0]):
            cols, coefs = columns.project_columns(instance.options.total_capital)
            row = sp.csr_array(coefs.reshape(1, -1))
            blocks.append(row_block(NAME_TOTAL, row, cols, m, lower, upper, (None,),
                                    family=self.name, upper_rule=TOTAL))
        keys, lower, upper = rows[NAME_YEARS]
        capped = np.flatnonzero(np.isfinite(upper))
        if len(capped):
            matrix, cols = columns.place(instance.options.capital_by_year[:, capped].T)
            blocks.append(row_block(NAME_YEARS, matrix, cols, m, lower[capped], upper[capped],
                                    tuple(keys[k] for k in capped), family=self.name,
                                    upper_rule=PER_YEAR))
        keys, lower, upper = rows[NAME_RECYCLED]
        if np.isfinite(upper).any():
            matrix, cols = columns.place(sp.csr_array(self.recycled(instance).T))
            blocks.append(row_block(NAME_RECYCLED, matrix, cols, m, lower, upper, keys,
                                    family=self.name, upper_rule=RECYCLED))
        return blocks

    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        return {"budget_total": OPEN if any(p.budget_total is not None for p in points)
                else None,
                "budget_per_year": open_where_any([p.budget_per_year for p in points])}

    def same_rows(self, b: Instance, a: Instance) -> bool:
        if not (a.params.get(RECYCLE) or b.params.get(RECYCLE)):
            return True
        return bool(np.array_equal(self.recycled(b), self.recycled(a)))

    def restricts(self, b: Instance, a: Instance) -> bool:
        total_ok = a.budget_total is None or (b.budget_total is not None
                                              and b.budget_total <= a.budget_total)
        return total_ok and caps_within(b.budget_per_year, a.budget_per_year)

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        bad: list[Violation] = []
        if instance.params.get(RECYCLE):
            self._check_recycled(instance, usage, rtol, bad)
        elif instance.budget_total is not None:
            e = over(usage.total_capital, instance.budget_total, rtol)
            if e:
                bad.append(Violation("budget_total", "total", usage.total_capital,
                                     instance.budget_total, e, RuleRef(TOTAL)))
        check_years(bad, self.rule(PER_YEAR), instance.years, instance.budget_per_year,
                    usage.capital_by_year, rtol)
        return bad

    def _check_recycled(self, instance: Instance, usage: Usage, rtol: float,
                        bad: list[Violation]) -> None:
        """Every horizon year t: capital disbursed in years <= t (the last year: all of
        it) <= total + Japan's receipts in years < t, from the checker's own tables."""
        total = float(instance.budget_total or 0.0)
        spent = usage.capital_by_year
        received = usage.cash.groupby("year")["received"].sum() if len(usage.cash) else \
            pd.Series(dtype=float)
        for t in instance.years.tolist():
            used = float(spent.sum()) if t == instance.last_year else \
                float(spent[spent.index <= t].sum())
            limit = total + float(received[received.index < t].sum())
            e = over(used, limit, rtol)
            if e:
                bad.append(Violation(NAME_RECYCLED, str(t), used, limit, e,
                                     RuleRef(RECYCLED, t)))

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """The forced projects, one unit each, against the total and each year's cap."""
        out: list[Finding] = []
        forced = np.asarray(instance.force_in, dtype=bool)
        if not forced.any():
            return out
        ids, cash = instance.ids, instance.money_unit
        least = instance.options.smallest(instance.options.total_capital)
        forced = forced & np.isfinite(least)  # one with no start left: its own conflict
        if not forced.any():
            return out
        need = float(least[forced].sum())
        if instance.budget_total is not None and exceeds(need, instance.budget_total):
            out.append(Finding("conflict", TOTAL, "total",
                               f"the forced projects {names(ids, forced)} need "
                               f"{money(need, cash)}, above the total budget of "
                               f"{money(instance.budget_total, cash)}", RuleRef(TOTAL)))
        out += forced_years(instance, "capital_by_year", instance.budget_per_year,
                            PER_YEAR, "capital", money, cash)
        return out

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        cash, short = words.cash, abs(limit - reached)
        if ref.rule == TOTAL:
            msg = (f"the total budget of {money(limit, cash)} cannot cover the program's "
                   f"other rules{words.with_forced}: they need at least "
                   f"{money(reached, cash)} ({money(short)} over)")
            return Conflict(TOTAL, "total", limit, reached, msg, ref)
        if ref.rule == RECYCLED:
            msg = (f"the total budget of {money(limit, cash)}, recycling Japan's receipts, "
                   f"runs {money(short, cash)} short by {ref.key}{words.with_forced}: the "
                   f"plan has disbursed {money(reached, cash)} more than it received by then")
            return Conflict(RECYCLED, str(ref.key), limit, reached, msg, ref)
        msg = (f"the {ref.key} disbursement cap of {money(limit, cash)} is "
               f"{money(short, cash)} short{words.with_forced}: the plan needs "
               f"{money(reached, cash)} in {ref.key}")
        return Conflict(PER_YEAR, str(ref.key), limit, reached, msg, ref)

    # ------------------------------------------------------------------ report
    def table(self, result: Result) -> pd.DataFrame:
        """Capital disbursed per horizon year against the year's cap, with slack."""
        inst, check = result.instance, result.check
        return yearly_table(inst, result.units.to_numpy(),
                            check.capital_by_year if check is not None else None,
                            inst.budget_per_year, inst.options.capital_by_year)

    def binding(self, result: Result) -> list[RuleRef]:
        inst = result.instance
        out: list[RuleRef] = []
        if result.check is None:
            return out
        if inst.budget_total is not None and inst.params.get(RECYCLE):
            out += self._binding_recycled(result)
        elif inst.budget_total is not None:
            free = option_room(inst, result.units.to_numpy())
            smallest = inst.options.total_capital[free].min() if free.any() else np.inf
            tol = 1e-6 * max(1.0, inst.budget_total)
            if inst.budget_total - result.check.total_capital < threshold(smallest, tol):
                out.append(RuleRef(TOTAL))
        frame = self.table(result)
        out += [RuleRef(PER_YEAR, int(y)) for y in frame.index[frame["binding"]]]
        return out

    def _binding_recycled(self, result: Result) -> list[RuleRef]:
        """The recycled rows a plan presses against: too little room left in a year for
        one more unit of any start with room."""
        inst = result.instance
        assert result.check is not None and result.check.usage is not None
        coefs = self.recycled(inst)
        free = option_room(inst, result.units.to_numpy())
        starts = np.asarray(result.starts, dtype=float)
        used = starts @ coefs
        total = float(inst.budget_total or 0.0)
        out = []
        for t, u in zip(inst.years.tolist(), used.tolist(), strict=True):
            column = coefs[free, t - inst.first_year]
            positive = column[column > 0]
            smallest = float(positive.min()) if len(positive) else np.inf
            if total - u < threshold(smallest, 1e-6 * max(1.0, total)):
                out.append(RuleRef(RECYCLED, int(t)))
        return out

    def report(self, result: Result) -> list[str]:
        inst, cash = result.instance, result.instance.money_unit
        committed = result.check.total_capital if result.check else None
        return ["", f"capital committed: {money(committed, cash)}"
                + (f" of {money(inst.budget_total)}" if inst.budget_total is not None else ""),
                "", f"capital by year ({cash}):", table(self.table(result))]

    # ------------------------------------------------------------------ what-if
    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        scale = changes.get("budget_scale")
        total = instance.budget_total
        if changes.get("budget_total", KEEP) is not KEEP:
            total = number("budget_total", changes["budget_total"])
            labels.append(f"budget_total={changes['budget_total']}")
        if scale is not None and total is not None:
            total = total * number("budget_scale", scale, allow_none=False, positive=True)
        per_year = yearly(instance, instance.budget_per_year, changes.get("budget_per_year"),
                          scale, "budget_per_year", "budget_scale", labels)
        scaled = f"budget_scale={scale:g}" if scale is not None else ""
        if total is not instance.budget_total:
            if total is not None:
                bounded("budget_total", total, MONEY, by=scaled)
            out["budget_total"] = total
        if per_year is not instance.budget_per_year:
            bounded_array("budget_per_year", instance.years.tolist(), per_year, MONEY,
                          by=scaled)
            out["budget_per_year"] = per_year
        return out

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind == "budget":
            return {"budget_total": value}
        if kind == "budget_scale":
            return {"budget_scale": value}
        if kind == "budget_year":
            return {"budget_per_year": {key: value}}
        raise KeyError(kind)

    def marginal(self, instance: Instance, steps: Mapping[str, float]) -> list[Marginal]:
        step = steps["budget"]
        out = []
        if instance.budget_total is not None:
            out.append(Marginal(RuleRef(TOTAL), step,
                                {"budget_total": instance.budget_total + step}))
        for year, cap in zip(instance.years.tolist(), instance.budget_per_year.tolist(),
                             strict=True):
            if np.isfinite(cap):
                out.append(Marginal(RuleRef(PER_YEAR, year), step,
                                    {"budget_per_year": {year: cap + step}}))
        return out



FAMILY = Budget()
