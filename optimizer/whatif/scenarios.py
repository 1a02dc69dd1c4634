"""What-if scenarios: new programs derived from an :class:`Instance`, and comparisons.

    >>> from optimizer import load, solve, derive, compare
    >>> base = load("pilot")
    >>> tighter = derive(base, budget_total=100, commitment_deadline=2026)
    >>> tighter.budget_total, base.budget_total
    (100.0, 550.0)
    >>> diff = compare(solve(base), solve(tighter))
    >>> diff.objective_change < 0
    True

:func:`derive` never touches the instance it is given; changes that leave the project
table's capital and labor as they are (every change here) reuse its prepared arrays, so
deriving a scenario from a 100,000-project program costs milliseconds. Every value is
checked: an unknown year, sector or project id, a negative limit, a scale that is not a
positive number, and a value the change makes that is outside the format's documented
bounds (:mod:`optimizer.limits`: ``MONEY`` for budgets, sector limits and returns after
multipliers, ``PEOPLE`` for labor capacity, ``RATE`` for the hurdle) raise
:class:`~optimizer.errors.UsageError` naming the change and the bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from formulations.registry import FAMILIES
from formulations.whatif import KEEP
from optimizer.errors import UsageError
from optimizer.program.instance import Instance
from optimizer.program.prepare import prepare_options
from optimizer.units import money, people

if TYPE_CHECKING:
    from optimizer.results.result import Result

__all__ = ["derive", "compare", "Comparison", "KEEP", "PARAMETERS", "parameter_changes"]


def derive(instance: Instance, *, name: str | None = None, **changes: Any) -> Instance:
    """A new program: ``instance`` with the given changes (the original is untouched).

    Every rule family takes its own keywords (:data:`CHANGES` lists them all):

    * ``budget_total``: the cap on all capital ($B; ``None`` removes it);
    * ``budget_per_year``: {year: cap or None}; ``budget_scale``: multiplies the total
      and every per-year cap the program (after the other budget changes) sets;
    * ``sector_min`` / ``sector_max``: {sector: $B or None};
    * ``labor_capacity``: {year: specialists or None}; ``labor_scale``: multiplies every
      yearly capacity (after ``labor_capacity``);
    * ``hurdle_rate``: the minimum return per dollar committed (``None`` removes it);
    * ``min_japan_share``: the least share of committed capital spent with Japanese
      suppliers (``None`` removes it);
    * ``return_multiplier``: {project id or sector: factor} on each project's return (a
      project named and in a named sector gets both factors);
    * ``force_in`` / ``force_out`` / ``release``: project ids to force in, force out, or
      free of any forced choice.
    """
    unknown = [k for k in changes if k not in CHANGES]
    if unknown:
        raise UsageError(f"derive: unknown change {unknown[0]!r}; the changes are: "
                         f"{', '.join(CHANGES)}")
    made: dict[str, Any] = {}
    labels: list[str] = []
    params = dict(instance.params)
    for family in FAMILIES:
        mine = {k: v for k, v in changes.items() if k in family.changes}
        if mine:
            got = dict(family.derive(instance, mine, labels))
            if "params" in got:  # each family's own params, merged
                params.update({k: v for k, v in got.pop("params").items()
                               if v != instance.params.get(k)})
            made.update(got)
    made["name"] = name if name is not None else (
        instance.name if not labels else f"{instance.name} [{'; '.join(labels)}]")
    if params != dict(instance.params):
        made["params"] = params
        # the options' flows and exclusions follow the params (deadline, economics)
        return prepare_options(dataclasses.replace(instance, **made))
    # capital and labor are unchanged, so the prepared arrays stay valid: no re-preparation
    return dataclasses.replace(instance, **made)


#: Every keyword of :func:`derive`, with what it does, family by family.
CHANGES: dict[str, str] = {k: v for family in FAMILIES for k, v in family.changes.items()}


# --------------------------------------------------------------- sweep parameters
#: Sweepable parameters: name (``NAME`` or ``NAME:KEY``) -> what it means, family by family.
PARAMETERS: dict[str, str] = {k: v for family in FAMILIES for k, v in family.parameters.items()}
_KEYED = frozenset(k for family in FAMILIES for k in family.keyed_parameters)
_OWNER = {k: family for family in FAMILIES for k in family.parameters}


def parameter_changes(values: Mapping[str, float]) -> dict[str, Any]:
    """{parameter: value} (names as in :data:`PARAMETERS`) -> keyword arguments of
    :func:`derive`."""
    out: dict[str, Any] = {}
    for parameter, value in values.items():
        kind, _, key = parameter.partition(":")
        if kind not in PARAMETERS:
            raise UsageError(f"unknown sweep parameter {parameter!r}; choose from "
                             f"{', '.join(PARAMETERS)}")
        keyed = kind in _KEYED
        if keyed != bool(key):
            raise UsageError(f"sweep parameter {parameter!r}: " + (
                f"write it as {PARAMETERS[kind].split(',')[0]}" if keyed
                else "takes no ':KEY'"))
        for target, change in _OWNER[kind].parameter(kind, key, value).items():
            if isinstance(change, dict):
                out.setdefault(target, {}).update(change)
            else:
                out[target] = change
    return out


# -------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Comparison:
    """How plan ``b`` differs from plan ``a``: projects added, dropped or resized, and the
    movement of return, capital by sector and year, and labor by year (b minus a)."""

    a: Result
    b: Result
    projects: pd.DataFrame  # id, name, sector, units_a, units_b, change (changed rows only)
    capital_by_sector: pd.DataFrame  # sector -> a, b, change
    capital_by_year: pd.DataFrame  # year -> a, b, change
    labor_by_year: pd.DataFrame  # year -> a, b, change
    #: projects funded in both whose start years differ (version 2): id, starts_a,
    #: starts_b ("2027:2 2028:1": units started by year)
    moved: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=["id", "starts_a", "starts_b"]))

    @property
    def added(self) -> list[str]:
        return self.projects.loc[self.projects["change"] == "added", "id"].tolist()

    @property
    def dropped(self) -> list[str]:
        return self.projects.loc[self.projects["change"] == "dropped", "id"].tolist()

    @property
    def objective_change(self) -> float | None:
        if self.a.objective is None or self.b.objective is None:
            return None
        return self.b.objective - self.a.objective

    def to_dict(self) -> dict[str, Any]:
        def table(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
            return {str(k): {c: float(v) for c, v in row.items()} for k, row in
                    frame.iterrows()}

        return {
            "a": {"name": self.a.instance.name, "status": self.a.status,
                  "objective": self.a.objective},
            "b": {"name": self.b.instance.name, "status": self.b.status,
                  "objective": self.b.objective},
            "objective_change": self.objective_change,
            "added": self.added, "dropped": self.dropped,
            "resized": self.projects.loc[self.projects["change"].isin(
                ["more units", "fewer units"]), ["id", "units_a", "units_b"]]
                .to_dict("records"),
            "capital_by_sector": table(self.capital_by_sector),
            "capital_by_year": table(self.capital_by_year),
            "labor_by_year": table(self.labor_by_year),
            "moved": self.moved.to_dict("records"),
        }

    def summary(self) -> str:
        """Money as :func:`optimizer.units.money` (two decimals), people as
        :func:`~optimizer.units.people` (whole), in the programs' units."""
        a, b = self.a, self.b
        cash, staff = a.instance.money_unit, a.instance.labor_unit
        what = "NPV to Japan" if "npv" in (a.instance.params.get("objective"),
                                           b.instance.params.get("objective")) else "return"
        lines = [f"a: {a.instance.name} ({a.status}, {what} {money(a.objective, cash)})",
                 f"b: {b.instance.name} ({b.status}, {what} "
                 f"{money(b.objective, b.instance.money_unit)})",
                 f"{what} change: {money(self.objective_change, cash, sign=True)}"]
        lines.append(f"added: {', '.join(self.added) or '-'}")
        lines.append(f"dropped: {', '.join(self.dropped) or '-'}")
        resized = self.projects[self.projects["change"].isin(["more units", "fewer units"])]
        if len(resized):
            lines.append("resized: " + ", ".join(
                f"{r.id} {r.units_a}->{r.units_b}" for r in resized.itertuples()))
        if len(self.moved):
            lines.append("moved: " + ", ".join(
                f"{r.id} from {r.starts_a} to {r.starts_b}" for r in self.moved.itertuples()))
        for title, frame, fmt in ((f"capital by sector ({cash})", self.capital_by_sector, money),
                                  (f"labor by year ({staff})", self.labor_by_year, people)):
            moved = frame[frame["change"].abs() > 1e-9]
            lines.append(f"{title}: " + (", ".join(
                f"{k} {fmt(v, sign=True)}" for k, v in moved["change"].items()) or "no change"))
        return "\n".join(lines)


def _side_by_side(a: pd.Series, b: pd.Series, name: str) -> pd.DataFrame:
    frame = pd.concat({"a": a, "b": b}, axis=1).fillna(0.0)
    frame.index.name = name
    frame["change"] = frame["b"] - frame["a"]
    return frame


def compare(a: Result, b: Result) -> Comparison:
    """What changed from plan ``a`` to plan ``b`` (projects matched by id)."""
    units = pd.concat({"units_a": a.units, "units_b": b.units}, axis=1).fillna(0).astype(int)
    units.index.name = "id"
    changed = units[units["units_a"] != units["units_b"]].reset_index()
    info = pd.concat([b.instance.projects, a.instance.projects]).drop_duplicates("id")
    info = info.set_index("id")[["name", "sector"]]
    changed = changed.join(info, on="id")
    changed["change"] = np.select(
        [changed["units_a"] == 0, changed["units_b"] == 0,
         changed["units_b"] > changed["units_a"]],
        ["added", "dropped", "more units"], "fewer units")
    changed = changed[["id", "name", "sector", "units_a", "units_b", "change"]]

    def used(result: Result, table: str) -> pd.Series:
        if not result.has_plan:
            return pd.Series(dtype=float)
        return getattr(result, table)()["used"]

    return Comparison(
        a, b, changed.reset_index(drop=True),
        _side_by_side(used(a, "capital_by_sector"), used(b, "capital_by_sector"), "sector"),
        _side_by_side(used(a, "capital_by_year"), used(b, "capital_by_year"), "year"),
        _side_by_side(used(a, "labor_by_year"), used(b, "labor_by_year"), "year"),
        _moved(a, b))


def _moved(a: Result, b: Result) -> pd.DataFrame:
    """Projects funded in both plans whose units start in other years in ``b``."""
    def text(starts: dict[str, int]) -> str:
        return " ".join(f"{y}:{n}" for y, n in sorted(starts.items()))

    sa, sb = a.start_years(), b.start_years()
    rows = [(pid, text(sa[pid]), text(sb[pid])) for pid in sa
            if pid in sb and sa[pid] != sb[pid]]
    return pd.DataFrame(rows, columns=["id", "starts_a", "starts_b"])
