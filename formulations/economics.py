"""Cash flows, the memorandum's split, present values and the per-project hurdle (format
version 2, A2).

A project's units pay out cash: ``annual_cash`` over ``operating_years`` from the year
after the last build year, or rows of the ``cash_flows`` table by offset from the
start; ``loss_rate`` takes a share of every year's cash away. Under the memorandum's
split (``economics.split``: Japan's share ``before`` until its principal plus deemed
interest at ``deemed_rate`` is recovered, ``after`` once it is) each unit's receipts J
and NPV to Japan are computed per start year before the model
(:mod:`formulations.waterfall`); ``economics.objective: npv`` maximises the funded
units' NPV. ``project_hurdle`` tests each unit on its own, as Japanese law tests each
loan: a start whose flows have a negative NPV at ``irr``, or that recovers later than
``recover_within`` years after it starts, cannot be funded (its column is fixed to
zero, and every explanation of a plan names it with its reason).

The waterfall and the options' tables are prepared with the program
(:func:`optimizer.program.prepare.prepare`); this family owns the keys, the rule
``project_hurdle`` (check, words, what-if), the economics of the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from formulations.family import Family, Finding, Rule, RuleRef, Usage, Violation
from formulations.starts import (
    EXCLUDED_DEADLINE,
    EXCLUDED_NO_CASH,
    EXCLUDED_NPV,
    EXCLUDED_RECOVERY,
)
from formulations.waterfall import economics_of
from formulations.whatif import KEEP, number
from optimizer.errors import InstanceError, Problem, UsageError
from optimizer.limits import BUILD_YEARS, MONEY, RATE, YEAR, Bound
from optimizer.program.terms import Field, Section
from optimizer.units import money

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "Economics", "HURDLE", "CASH_FLOWS"]

HURDLE = "project_hurdle"
#: A rate of the economics: 0 <= rate < 1.
UNIT_RATE = Bound(0.0, 1.0, "rates as fractions, 0.06 being 6%")
SHARE = Bound(0.0, 1.0, "a share of cash (0.5 is half)")
RECOVERY_YEARS = Bound(0, 200, "years after a unit's start")

SPLIT = Section("economics.split", "`economics.split`: Japan's share of each unit's cash", (
    Field("before", "number", "Japan's share of cash until its balance (principal plus "
          "deemed interest) is recovered", required=True, unit="fraction of cash",
          bound=SHARE, low_exclusive=True, since=2),
    Field("after", "number", "Japan's share once it is recovered, at most `before`",
          required=True, unit="fraction of cash", bound=SHARE, low_exclusive=True, since=2),
), since=2)

ECONOMICS = Section("economics", "`economics`: present values and the memorandum's split", (
    Field("base_year", "year", "year to which present values are discounted", bound=YEAR,
          default_text="the horizon's first year", since=2),
    Field("discount_rate", "number", "rho, for present values; required under "
          "`objective: npv`", unit="fraction a year", bound=UNIT_RATE, high_exclusive=True,
          since=2),
    Field("deemed_rate", "number", "r, the deemed interest on Japan's outstanding balance "
          "(benchmark plus spread); required when a project has cash flows",
          unit="fraction a year", bound=UNIT_RATE, high_exclusive=True, since=2),
    Field("split", "mapping", "Japan's share of cash before / after its balance is "
          "recovered (the memorandum's is 0.5 / 0.1); required when a project has cash "
          "flows", section=SPLIT, default_text="none", since=2),
    Field("objective", "text", "`return`: version 1's objective; `npv`: the funded units' "
          "NPV to Japan", values=("return", "npv"), default_text="`return`", since=2),
), since=2)

HURDLE_KEYS = Section(HURDLE, "`project_hurdle`: each unit tested on its own", (
    Field("irr", "number", "a unit may be funded only if its flows J - D have NPV >= 0 at "
          "this rate", unit="fraction a year", bound=RATE, since=2),
    Field("recover_within", "integer", "and only if its recovery year is at most its start "
          "plus this", unit="years", bound=RECOVERY_YEARS, since=2),
), since=2)

CASH_FLOWS = Section("cash_flows", "`cash_flows`: a project's cash by year offset", (
    Field("project", "text", "id of a project in `projects` (one without `annual_cash`)",
          required=True, since=2),
    Field("offset", "integer", "years from the unit's start (0: the start year); may run "
          "past the horizon", required=True, unit="years", bound=Bound(0, 400, "years "
          "after a start"), since=2),
    Field("cash", "number", "distributable cash of one unit in that year, before "
          "`loss_rate`", required=True, unit="$B per unit in that year", bound=MONEY,
          since=2),
), kind="table", since=2)

#: The params this family keeps, by name (None where the program sets none).
PARAMS = {"base_year": None, "discount_rate": None, "deemed_rate": None,
          "split_before": None, "split_after": None, "objective": None,
          "project_hurdle_irr": None, "project_hurdle_recover_within": None}

RowProblems = list[tuple[str, np.ndarray, Callable[[int], str]]]


class Economics(Family):
    name = "economics"
    rules = (Rule(HURDLE, HURDLE, amount="count", key_text=lambda key: str(key)),)
    fields = (
        Field("cash_flows", "table", "cash of some projects by year offset from a unit's "
              "start: a CSV path or an inline list", section=CASH_FLOWS,
              default_text="none", since=2),
        Field("economics", "mapping", "present values, the deemed rate and the split "
              "(below)", section=ECONOMICS, default_text="none", since=2),
        Field(HURDLE, "mapping", "the per-unit tests of a start year (below)",
              section=HURDLE_KEYS, default_text="no test", since=2),
    )
    columns = (
        Field("annual_cash", "number", "distributable cash of one unit in each operating "
              "year (give operating_years too)", unit="$B per unit and year", bound=MONEY,
              default_text="no cash", since=2),
        Field("operating_years", "integer", "operating years, from the year after the "
              "unit's last build year (for a profile, its last profile year, shifted)",
              unit="years", bound=BUILD_YEARS, default_text="no cash", since=2),
        Field("loss_rate", "number", "expected share of each year's cash not received",
              default=0.0, unit="fraction", bound=UNIT_RATE, high_exclusive=True, since=2),
        Field("deemed_rate", "number", "this project's deemed interest rate, overriding "
              "`economics.deemed_rate`", unit="fraction a year", bound=UNIT_RATE,
              high_exclusive=True, default_text="`economics.deemed_rate`", since=2),
    )
    params = PARAMS
    changes = {
        "discount_rate": "economics.discount_rate (rho)",
        "deemed_rate": "economics.deemed_rate (r)",
        "split_after": "Japan's share of cash after recovery (economics.split.after)",
        "split_before": "Japan's share of cash before recovery (economics.split.before)",
        "project_hurdle_irr": "project_hurdle.irr (None removes the test)",
        "project_hurdle_recover_within": "project_hurdle.recover_within (None removes it)",
    }
    parameters = {k: v for k, v in changes.items()}
    axis_labels = {"discount_rate": "discount rate", "deemed_rate": "deemed rate",
                   "split_after": "Japan's share after recovery",
                   "split_before": "Japan's share before recovery",
                   "project_hurdle_irr": "per-project hurdle rate",
                   "project_hurdle_recover_within": "recovery within (years)"}

    # ----------------------------------------------------------------- reading
    def read(self, values: Mapping[str, Any], years: np.ndarray) -> dict[str, Any]:
        econ = values.get("economics") or {}
        split = econ.get("split") or {}
        hurdle = values.get(HURDLE) or {}
        base = econ.get("base_year")
        within = hurdle.get("recover_within")
        out = {"base_year": None if base is None else int(base),
               "discount_rate": econ.get("discount_rate"),
               "deemed_rate": econ.get("deemed_rate"), "split_before": split.get("before"),
               "split_after": split.get("after"),
               "objective": econ.get("objective") if "objective" in econ else None,
               "project_hurdle_irr": hurdle.get("irr"),
               "project_hurdle_recover_within": None if within is None else int(within)}
        problems = []
        if out["split_before"] is not None and out["split_after"] is not None \
                and out["split_after"] > out["split_before"]:
            problems.append(Problem("", "economics.split.after", None,
                                    f"{out['split_after']:g} is above before "
                                    f"({out['split_before']:g}); after <= before"))
        if out["objective"] == "npv" and out["discount_rate"] is None:
            problems.append(Problem("", "economics.discount_rate", None,
                                    "is required under `objective: npv`"))
        if problems:
            raise InstanceError(problems)
        return out

    def complete(self, projects: pd.DataFrame, values: Mapping[str, Any],
                 tables: Mapping[str, pd.DataFrame], first: int, last: int
                 ) -> tuple[dict[str, np.ndarray], RowProblems, list[tuple[str, str]]]:
        annual = projects["annual_cash"].to_numpy(dtype=float)
        years = projects["operating_years"].to_numpy(dtype=float)
        problems: RowProblems = [
            ("operating_years", np.isfinite(annual) & ~np.isfinite(years),
             lambda i: "is required where annual_cash is given"),
            ("annual_cash", ~np.isfinite(annual) & np.isfinite(years),
             lambda i: "is required where operating_years is given")]
        flows = tables.get("cash_flows")
        tabled = np.zeros(len(projects), dtype=bool)
        if flows is not None and len(flows):
            tabled = projects["id"].isin(set(flows["project"])).to_numpy()
            problems.append(("annual_cash", tabled & np.isfinite(annual),
                             lambda i: "is given for a project with cash_flows rows: "
                                       "give one or the other"))
        program: list[tuple[str, str]] = []
        if (tabled | np.isfinite(annual)).any():
            econ = values.get("economics") or {}
            if econ.get("deemed_rate") is None and \
                    np.isnan(projects["deemed_rate"].to_numpy(dtype=float)).any():
                program.append(("economics.deemed_rate",
                                "is required when a project has cash flows"))
            if not econ.get("split"):
                program.append(("economics.split", "is required when a project has cash "
                                "flows (the memorandum's is {before: 0.5, after: 0.1})"))
        return {}, problems, program

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        econ = economics_of(instance)
        if econ["irr"] is None and econ["recover_within"] is None:
            return []
        bad = []
        frame = usage.economics
        for row in frame.itertuples(index=False):
            why = hurdle_failure(row.hurdle_npv, row.recovered_in, int(row.start), econ)
            if why:
                key = f"{row.project}@{int(row.start)}"
                bad.append(Violation(HURDLE, f"{row.project} starting {int(row.start)}",
                                     float(row.units), 0.0, float(row.units),
                                     RuleRef(HURDLE, key)))
        return bad

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """Forced projects whose every start the per-project hurdle rules out."""
        o = instance.options
        hurdle = (o.excluded != 0) & (o.excluded != EXCLUDED_DEADLINE)
        if not hurdle.any():
            return []
        open_ = np.zeros(instance.n_projects, dtype=bool)
        open_[o.project[o.excluded == 0]] = True
        out = []
        for i in np.flatnonzero(instance.force_in & ~open_):
            mine = np.flatnonzero((o.project == i) & hurdle)
            if not len(mine):
                continue
            reasons = "; ".join(self.excluded(instance, int(k)) for k in mine[:3])
            out.append(Finding("conflict", HURDLE, str(instance.ids[i]),
                               f"project {instance.ids[i]} is forced in but the per-project "
                               f"hurdle rules out every start: {reasons}",
                               RuleRef(HURDLE, f"{instance.ids[i]}@{int(o.start[mine[0]])}")))
        return out

    # ------------------------------------------------------------------ wording
    def excluded_reason(self, instance: Instance, option: int) -> tuple[str, str] | None:
        if instance.options.excluded[option] in (0, EXCLUDED_DEADLINE):
            return None
        return HURDLE, self.excluded(instance, option)

    def excluded(self, instance: Instance, k: int) -> str:
        """Why option ``k`` fails the per-project hurdle, in words."""
        o, econ = instance.options, economics_of(instance)
        head = f"{instance.ids[o.project[k]]} starting {int(o.start[k])}"
        code = int(o.excluded[k])
        if code == EXCLUDED_NO_CASH:
            return f"{head}: it has no cash flows, so Japan is never repaid"
        if code == EXCLUDED_NPV:
            assert o.hurdle_npv is not None
            return (f"{head}: Japan's flows have NPV {o.hurdle_npv[k]:.2f} at "
                    f"{round(econ['irr'] * 100, 6):g}%")
        if code == EXCLUDED_RECOVERY:
            assert o.recovered is not None
            rec = int(o.recovered[k])
            when = f"recovers in {rec}" if rec >= 0 else "never recovers Japan's balance"
            return (f"{head}: {when}, later than {econ['recover_within']} years after its "
                    "start")
        return head

    # ------------------------------------------------------------------ report
    def report(self, result: Result) -> list[str]:
        check = result.check
        if check is None or check.usage is None or not len(check.usage.economics):
            return []
        frame = check.usage.economics
        cash = result.instance.money_unit
        econ = economics_of(result.instance)
        lines = ["", f"Japan's economics (split {econ['before']:g}/{econ['after']:g}, deemed "
                     f"rate {econ['deemed_rate']}, discounted at {econ['discount_rate']} to "
                     f"{econ['base_year']}):"]
        for row in frame.itertuples(index=False):
            irr = "n/a" if row.irr is None or not np.isfinite(row.irr) else f"{row.irr:.1%}"
            rec = "never" if row.recovered_in is None or row.recovered_in < 0 \
                else str(int(row.recovered_in))
            lines.append(f"  {row.project} x{int(row.units)} from {int(row.start)}: receipts "
                         f"{money(row.received, cash)}, NPV {money(row.npv, cash)}, irr "
                         f"{irr}, recovered {rec}")
        lines.append(f"  total NPV to Japan: {money(float(frame['npv'].sum()), cash)}")
        return lines

    # ------------------------------------------------------------------ what-if
    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        # the hurdle rules out starts by their columns' bounds: every start open
        return {"params": {"project_hurdle_irr": None, "project_hurdle_recover_within": None}}

    def restricts(self, b: Instance, a: Instance) -> bool:
        """The same valuation (rates, split, objective) and a hurdle at least as strict."""
        ea, eb = economics_of(a), economics_of(b)
        same = all(ea[k] == eb[k] for k in ("base_year", "discount_rate", "deemed_rate",
                                             "before", "after", "objective"))
        irr = ea["irr"] is None or (eb["irr"] is not None and eb["irr"] >= ea["irr"])
        within = ea["recover_within"] is None or (
            eb["recover_within"] is not None and eb["recover_within"] <= ea["recover_within"])
        return same and irr and within

    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        params = dict(instance.params)
        for name, value in changes.items():
            if value is KEEP:
                continue
            if instance.version < 2:
                raise UsageError(f"{name} is a field of format version 2; "
                                 f"{instance.name!r} is a version-1 program")
            v = number(name, value)
            if v is not None:
                if name == "project_hurdle_recover_within":
                    if v != int(v) or not RECOVERY_YEARS.low <= v <= RECOVERY_YEARS.high:
                        raise UsageError(f"{name}: {value!r} is not a whole number of years "
                                         "from 0 to 200")
                    v = int(v)
                elif name == "project_hurdle_irr":
                    if not RATE.low <= v <= RATE.high:
                        raise UsageError(f"{name}: {value!r} is outside {RATE.describe()}")
                elif name in ("split_after", "split_before"):
                    if not 0 < v <= 1:
                        raise UsageError(f"{name}: {value!r} must be more than 0, at most 1")
                elif not 0 <= v < 1:
                    raise UsageError(f"{name}: {value!r} must be at least 0 and below 1")
            elif name not in ("project_hurdle_irr", "project_hurdle_recover_within"):
                raise UsageError(f"{name}: give a number")
            params[name] = v
            labels.append(f"{name}={value}")
        before, after = params.get("split_before"), params.get("split_after")
        if before is not None and after is not None and after > before:
            raise UsageError(f"split_after {after:g} is above split_before {before:g}")
        if params.get("objective") == "npv" and params.get("discount_rate") is None:
            raise UsageError("discount_rate is required under objective npv")
        return {"params": params}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind in self.changes:
            return {kind: value}
        raise KeyError(kind)


def hurdle_failure(npv_at_irr: float, recovered: Any, start: int,
                   econ: Mapping[str, Any]) -> int:
    """The reason code a unit fails the per-project hurdle (0: it passes), from its NPV
    at the hurdle's rate (NaN: no cash flows) and its recovery year (None or < 0:
    never)."""
    never = recovered is None or not np.isfinite(recovered) or recovered < 0
    if econ["irr"] is not None and (not np.isfinite(npv_at_irr) or npv_at_irr < -1e-9):
        return EXCLUDED_NPV
    if econ["recover_within"] is not None and (never
                                               or recovered > start + econ["recover_within"]):
        return EXCLUDED_RECOVERY
    return 0


FAMILY = Economics()
