"""Start years and the commitment deadline (format version 2, A1).

A project's units may start in any year of ``earliest_start .. latest_start`` (project
columns, both defaulting to ``start``); the units of a modular project may start in
different years, each following the profile from its own start
(:mod:`formulations.starts` lays out one model column per project and start year).
``commitment_deadline: Y`` forbids any start after Y: those columns are fixed to zero
(so a sweep of the deadline moves bounds only), and every place that explains a plan
says which projects and start years the deadline rules out.

This family owns the two columns, the field, the rule ``commitment_deadline`` (its
check, its words in an explanation, its what-if change) and the check that every start
lies in its project's window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from formulations.family import Conflict, Family, Finding, Rule, RuleRef, Usage, Violation, Words
from formulations.starts import EXCLUDED_DEADLINE
from formulations.whatif import KEEP, number
from optimizer.errors import UsageError
from optimizer.limits import YEAR
from optimizer.program.terms import Field

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "Timing", "DEADLINE", "WINDOW"]

DEADLINE = "commitment_deadline"
WINDOW = "start_window"

RowProblems = list[tuple[str, np.ndarray, Callable[[int], str]]]


def _outside(years: np.ndarray, first: int, last: int) -> Callable[[int], str]:
    def message(i: int) -> str:
        return f"year {int(years[i])} is outside the horizon [{first}, {last}]"
    return message


class Timing(Family):
    name = "timing"
    rules = (Rule(DEADLINE, DEADLINE, amount="count",
                  key_text=lambda key: "" if key is None else str(key)),
             Rule(WINDOW, WINDOW, amount="count"))
    fields = (Field(DEADLINE, "year", "no unit of any project may start after this year "
                    "(the memorandum asks Japan to allocate by 19 January 2029: 2028)",
                    bound=YEAR, default_text="no deadline", since=2),)
    columns = (
        Field("earliest_start", "year", "first year in which a unit of the project may "
              "start, inside the horizon; a unit starting in year s has the capital and "
              "labor of nominal year t in year t + (s - start)", bound=YEAR,
              default_text="`start`", since=2),
        Field("latest_start", "year", "last year in which a unit may start, inside the "
              "horizon, at least earliest_start; the units of a modular project may start "
              "in different years", bound=YEAR, default_text="`start`", since=2),
    )
    params = {DEADLINE: None}
    changes = {DEADLINE: "the last year in which a unit may start (None removes it)"}
    parameters = {DEADLINE: "the last year in which a unit may start"}
    axis_labels = {DEADLINE: "commitment deadline (last start year)"}

    # ----------------------------------------------------------------- reading
    def read(self, values: Mapping[str, Any], years: np.ndarray) -> dict[str, Any]:
        deadline = values.get(DEADLINE)
        return {DEADLINE: None if deadline is None else int(deadline)}

    def complete(self, projects: pd.DataFrame, values: Mapping[str, Any],
                 tables: Mapping[str, pd.DataFrame], first: int, last: int
                 ) -> tuple[dict[str, np.ndarray], RowProblems, list[tuple[str, str]]]:
        start = projects["start"].to_numpy(dtype=float)
        out: dict[str, np.ndarray] = {}
        problems: RowProblems = []
        for name in ("earliest_start", "latest_start"):
            given = projects[name].to_numpy(dtype=float)
            blank = np.isnan(given)
            value = np.where(blank, start, given)
            outside = ~blank & ((given < first) | (given > last))
            problems.append((name, outside, _outside(given, first, last)))
            out[name] = value
        early, late = out["earliest_start"], out["latest_start"]
        wrong = np.isfinite(early) & np.isfinite(late) & (early > late)
        problems.append(("latest_start", wrong, lambda i: f"{int(late[i])} is before "
                         f"earliest_start {int(early[i])}"))
        return out, problems, []

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        bad: list[Violation] = []
        starts = usage.starts
        if not len(starts):
            return bad
        projects = usage.projects
        early = projects["earliest_start"].reindex(starts["project"]).to_numpy(dtype=float)
        late = projects["latest_start"].reindex(starts["project"]).to_numpy(dtype=float)
        s = starts["start"].to_numpy(dtype=float)
        for k in np.flatnonzero((s < early) | (s > late)):
            pid = starts["project"].iloc[k]
            limit = early[k] if s[k] < early[k] else late[k]
            bad.append(Violation(WINDOW, f"{pid} starting {int(s[k])}", s[k], limit,
                                 abs(s[k] - limit), RuleRef(WINDOW, pid)))
        deadline = instance.params.get(DEADLINE)
        if deadline is not None:
            for k in np.flatnonzero(s > deadline):
                pid = starts["project"].iloc[k]
                bad.append(Violation(DEADLINE, f"{pid} starting {int(s[k])}", s[k],
                                     float(deadline), s[k] - deadline,
                                     RuleRef(DEADLINE, f"{pid}@{int(s[k])}")))
        return bad

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """Forced projects every start of which the deadline rules out."""
        deadline = instance.params.get(DEADLINE)
        if deadline is None:
            return []
        options = instance.options
        open_ = np.zeros(instance.n_projects, dtype=bool)
        open_[options.project[options.excluded != EXCLUDED_DEADLINE]] = True
        out = []
        for i in np.flatnonzero(instance.force_in & ~open_):
            pid = instance.ids[i]
            early = int(instance.projects["earliest_start"].iloc[i])
            out.append(Finding("conflict", DEADLINE, str(pid),
                               f"project {pid} is forced in but its earliest start, {early}, "
                               f"is after the commitment deadline {int(deadline)}",
                               RuleRef(DEADLINE)))
        return out

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        deadline = words.instance.params.get(DEADLINE)
        msg = (f"the commitment deadline {deadline} rules out the later starts the other "
               f"rules need{words.with_forced}")
        return Conflict(DEADLINE, "", deadline, None, msg, ref)

    def excluded_reason(self, instance: Instance, option: int) -> tuple[str, str] | None:
        return self.excluded_reasons(instance, np.array([option])).get(option)

    def excluded_reasons(self, instance: Instance, options: np.ndarray
                         ) -> dict[int, tuple[str, str]]:
        """Each option the deadline rules out: "P14 starting 2030: after the commitment
        deadline 2028"."""
        o = instance.options
        mine = np.asarray(options)[o.excluded[np.asarray(options)] == EXCLUDED_DEADLINE]
        ids, deadline = instance.ids, instance.params.get(DEADLINE)
        return {k: (DEADLINE, f"{ids[p]} starting {s}: after the commitment deadline "
                              f"{deadline}")
                for k, p, s in zip(mine.tolist(), o.project[mine].tolist(),
                                   o.start[mine].tolist(), strict=True)}

    # ------------------------------------------------------------------ report
    def report(self, result: Result) -> list[str]:
        deadline = result.instance.params.get(DEADLINE)
        if deadline is None:
            return []
        return ["", f"commitment deadline: {deadline} (no unit starts after it)"]

    # ------------------------------------------------------------------ what-if
    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        return {"params": {DEADLINE: None}}  # every start open; a point closes its own

    def restricts(self, b: Instance, a: Instance) -> bool:
        da, db = a.params.get(DEADLINE), b.params.get(DEADLINE)
        return da is None or (db is not None and db <= da)

    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        value = changes.get(DEADLINE, KEEP)
        if value is KEEP:
            return {}
        if instance.version < 2:
            raise UsageError(f"{DEADLINE} is a field of format version 2; this program is "
                             "version 1")
        if value is not None:
            year = number(DEADLINE, value)
            if year != int(year) or not YEAR.low <= year <= YEAR.high:
                raise UsageError(f"{DEADLINE}: {value!r} is not a year")
            value = int(year)
        labels.append(f"{DEADLINE}={value}")
        return {"params": {**instance.params, DEADLINE: value}}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind == DEADLINE:
            return {DEADLINE: int(round(value))}
        raise KeyError(kind)


FAMILY = Timing()
