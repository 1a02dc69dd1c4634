"""The independent checker: does a plan keep every rule of the program?

It recomputes everything from the instance's validated tables (projects, profiles,
dependencies) and the chosen units with pandas alone. It uses neither the Pyomo model nor
the prepared model arrays of :mod:`optimizer.program.prepare`, so a mistake in either
shows up here as a broken rule instead of passing silently. Each rule family checks its
own rules (:meth:`formulations.family.Family.check`) from the usage recomputed here.

Tolerance: a rule is broken when it is exceeded by more than ``rtol * max(1, |limit|)``
(default 1e-6 relative), a unit count is broken when it is above the project's
``max_units``. A plan that is not a plan (an unknown project id, a unit count that is not
a whole number >= 0) is a :class:`~optimizer.errors.UsageError`, not a broken rule.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from formulations.family import Usage, Violation
from formulations.registry import FAMILIES
from formulations.waterfall import economics_of, has_economics
from optimizer.check.flows import build_table, cash_table, economics
from optimizer.errors import UsageError
from optimizer.program.instance import Instance

__all__ = ["Violation", "CheckReport", "check_plan", "plan_units", "plan_starts",
           "usage_by_year", "recompute", "cash_usage"]

RTOL = 1e-6


@dataclass(frozen=True)
class CheckReport:
    """The checker's verdict and the usage it recomputed."""

    violations: tuple[Violation, ...]
    total_capital: float
    total_return: float
    capital_by_year: pd.Series  # horizon years (and later years) -> $B
    capital_by_sector: pd.Series  # sector -> $B
    labor_by_year: pd.Series  # year -> specialists
    #: rules of the model that no family checks independently (rows a caller added to
    #: the Pyomo form), by name: the plan was not checked against them here
    unchecked: tuple[str, ...] = ()
    usage: Usage | None = field(default=None, repr=False)
    #: the value of the program's objective for the plan: the total return, or under
    #: ``economics.objective: npv`` the funded units' NPV to Japan (None: as the return)
    objective: float = math.nan

    def __post_init__(self) -> None:
        if math.isnan(self.objective):
            object.__setattr__(self, "objective", self.total_return)

    @property
    def valid(self) -> bool:
        return not self.violations


def usage_by_year(instance: Instance, units: pd.Series,
                  starts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table (project, start, year, capital, labor) of what a plan disburses and
    employs, per unit counts in ``units`` (indexed by project id) started in the years
    ``starts`` says (project, start, units; None: every project at its ``start``), years
    after the horizon included: each unit's spread or profile shifted from the project's
    start to its own, its reinvestments from its own start."""
    if starts is not None and not starts["start"].eq(
            instance.projects.set_index("id")["start"].reindex(starts["project"])
            .to_numpy()).all():
        return _shifted_usage(instance, starts)
    table = _usage_at_start(instance, units)
    table.insert(1, "start", instance.projects.set_index("id")["start"]
                 .reindex(table["project"]).to_numpy(dtype=np.int64))
    return table


def _shifted_usage(instance: Instance, starts: pd.DataFrame) -> pd.DataFrame:
    """:func:`usage_by_year` for units that start away from their project's start
    (:func:`optimizer.check.flows.build_table`, times each start's units)."""
    table = build_table(instance.projects, instance.profiles, starts, instance.last_year)
    units = pd.Series(starts["units"].to_numpy(dtype=float),
                      index=pd.MultiIndex.from_frame(starts[["project", "start"]]))
    n = units.reindex(pd.MultiIndex.from_frame(table[["project", "start"]])).to_numpy()
    table["capital"] = table["capital"].to_numpy(dtype=float) * n
    table["labor"] = table["labor"].to_numpy(dtype=float) * n
    return table


def _usage_at_start(instance: Instance, units: pd.Series) -> pd.DataFrame:
    """Long table (project, year, capital, labor) of what ``units`` disburse and employ
    when every unit starts at its project's ``start`` (version 1)."""
    projects = instance.projects.set_index("id")
    funded = units[units > 0]
    p = projects.loc[funded.index]
    profiled = set(instance.profiles["project"])
    rows = []
    # even spread over the build years
    spread = p[~p.index.isin(profiled)]
    if len(spread):
        years = spread["build_years"].to_numpy(dtype=np.int64)
        at = np.repeat(np.arange(len(spread)), years)  # one row per project and build year
        offset = np.arange(len(at)) - np.repeat(np.cumsum(years) - years, years)
        rows.append(pd.DataFrame({
            "project": spread.index.to_numpy()[at],
            "year": spread["start"].to_numpy(dtype=np.int64)[at] + offset,
            "capital": (spread["capital"].to_numpy(dtype=float) / years)[at],
            "labor": spread["labor"].to_numpy(dtype=float)[at],
        }))
    # profiles replace the spread
    prof = instance.profiles[instance.profiles["project"].isin(funded.index)]
    if len(prof):
        rows.append(prof[["project", "year", "capital", "labor"]])
    # reinvestments, inside the horizon only, with no labor
    again = p[p["reinvest_every"] > 0].reset_index()
    if len(again):
        again["k"] = [list(range(1, (instance.last_year - s) // e + 1))
                      for s, e in zip(again["start"], again["reinvest_every"], strict=True)]
        again = again.explode("k").dropna(subset=["k"])
        if len(again):
            rows.append(pd.DataFrame({
                "project": again["id"],
                "year": again["start"] + again["k"].astype(int) * again["reinvest_every"],
                "capital": again["reinvest_capital"],
                "labor": 0.0,
            }))
    if not rows:
        return pd.DataFrame({"project": [], "year": [], "capital": [], "labor": []})
    table = pd.concat(rows, ignore_index=True)
    table["year"] = table["year"].astype(int)
    scale = table["project"].map(funded).astype(float)
    table["capital"] = table["capital"].astype(float) * scale
    table["labor"] = table["labor"].astype(float) * scale
    return table


def _names(labels: Any, limit: int = 5) -> str:
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v)
                      for v in list(labels)[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _whole_units(values: Any, where: Callable[[int], str]) -> np.ndarray:
    """``values`` as int64 unit counts; a UsageError naming ``where(k)`` for the first
    that is not a whole number >= 0 (negative, fractional, NaN, infinite, not a number)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = np.asarray(list(values), dtype=object)
    if arr.dtype.kind in "iu":
        ints = arr.astype(np.int64)
        bad = np.flatnonzero(ints < 0)
    else:
        floats = np.full(len(arr), np.nan)
        numeric = np.zeros(len(arr), dtype=bool)
        if arr.dtype.kind == "f":
            floats, numeric[:] = arr.astype(float), True
        elif arr.dtype.kind == "O":
            for k, v in enumerate(arr):
                if isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_):
                    try:
                        floats[k] = float(v)
                        numeric[k] = True
                    except (OverflowError, ValueError):
                        pass
        # any other kind (text, booleans, dates, complex) is not a unit count
        ok = numeric & np.isfinite(floats) & (floats >= 0) & (floats < 2.0**62)
        ok[ok] &= floats[ok] == np.round(floats[ok])
        bad = np.flatnonzero(~ok)
        ints = np.where(ok, floats, 0).astype(np.int64)
    if len(bad):
        k = int(bad[0])
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        value = arr[k].item() if isinstance(arr[k], np.generic) else arr[k]
        raise UsageError(f"check_plan: {where(k)}: units must be a whole number >= 0, got "
                         f"{value!r}{more}")
    return ints


def plan_units(instance: Instance, units: Any) -> pd.Series:
    """A plan as whole unit counts per project id, in project order.

    ``units`` is a mapping {id: units} or a pandas Series indexed by id (a project not in
    it has 0 units), or a sequence or array of one count per project in project order.
    An unknown id, a repeated id, a count that is not a whole number >= 0, or a sequence
    of the wrong length is a :class:`~optimizer.errors.UsageError` naming it.
    """
    ids = instance.projects["id"].to_numpy()
    n = len(ids)
    if isinstance(units, pd.Series | Mapping):
        if isinstance(units, pd.Series):
            labels, values = units.index, units.to_numpy()
            if labels.equals(pd.Index(ids)) and values.dtype.kind in "iu" \
                    and (n == 0 or values.min() >= 0):  # already a plan in project order
                return pd.Series(values.astype(np.int64, copy=False), index=ids)
            if labels.has_duplicates:
                raise UsageError(f"check_plan: project ids given twice: "
                                 f"{_names(labels[labels.duplicated()].unique())}")
        else:
            labels, values = pd.Index(list(units.keys()), dtype=object), list(units.values())
            if any(isinstance(v, bool | np.bool_) for v in values):  # not 0/1: refused
                values = np.array(values, dtype=object)
        at = pd.Index(ids).get_indexer(labels)
        unknown = labels[at < 0]
        if len(unknown):
            raise UsageError(f"check_plan: unknown project id{'s' if len(unknown) > 1 else ''} "
                             f"{_names(unknown)}")
        counts = _whole_units(values, lambda k: f"project {labels[k]!r}")
        out = np.zeros(n, dtype=np.int64)
        out[at] = counts
        return pd.Series(out, index=ids)
    if isinstance(units, str | bytes) or not hasattr(units, "__len__"):
        raise UsageError(f"check_plan: give the plan as a mapping {{id: units}}, a Series "
                         f"indexed by id or one count per project in project order, got "
                         f"{type(units).__name__}")
    try:
        arr = np.asarray(units)
    except (ValueError, TypeError):  # ragged
        arr = np.asarray(list(units), dtype=object)
    if arr.ndim != 1 or len(arr) != n:
        got = f"{len(arr)}" if arr.ndim == 1 else f"an array of shape {arr.shape}"
        raise UsageError(f"check_plan: a plan in project order needs one count for each of "
                         f"the {n} projects, got {got}")
    if arr.dtype.kind in "iu" and (n == 0 or arr.min() >= 0):  # the internal callers' plans
        return pd.Series(arr.astype(np.int64, copy=False), index=ids)
    return pd.Series(_whole_units(arr, lambda k: f"project {ids[k]!r} (position {k})"),
                     index=ids)


def _words(text: str) -> Callable[[int], str]:
    def where(k: int) -> str:
        return text
    return where


def plan_starts(instance: Instance, units: Any = None, starts: Any = None
                ) -> tuple[pd.Series, pd.DataFrame | None]:
    """A plan as (units per project id, in project order; the funded (project, start,
    units) rows, or None when every unit starts at its project's ``start``).

    ``starts``: {id: {year: units}}, {(id, year): units}, a Series indexed by (id,
    year), or one count per option of the program in option order (the solver's). With
    it, ``units`` (if given) must agree. Without it, every funded project must have one
    admissible start, where its units start."""
    options = instance.options
    ids = instance.projects["id"].to_numpy()
    if starts is None:
        series = plan_units(instance, units)
        several = options.count() > 1
        bad = several & (series.to_numpy() > 0)
        if bad.any():
            raise UsageError(f"check_plan: project {ids[bad][0]!r} may start in several "
                             "years: give the plan's starts ({id: {year: units}})")
        if options.identity:
            return series, None
        first = np.full(len(ids), -1, dtype=np.int64)
        first[options.project[::-1]] = options.start[::-1]
        funded = series.to_numpy() > 0
        return series, pd.DataFrame({"project": ids[funded], "start": first[funded],
                                     "units": series.to_numpy()[funded]})
    if isinstance(starts, np.ndarray) and starts.ndim == 1 and len(starts) == options.size \
            and starts.dtype.kind in "iuf":
        counts = np.round(starts).astype(np.int64)
        if (counts < 0).any():
            raise UsageError("check_plan: starts: unit counts must be >= 0")
        pairs = np.flatnonzero(counts > 0)
        table = pd.DataFrame({"project": ids[options.project[pairs]],
                              "start": options.start[pairs], "units": counts[pairs]})
    else:
        items: list[tuple[Any, Any, Any]] = []
        if isinstance(starts, pd.Series):
            items = [(k[0], k[1], v) for k, v in starts.items()]
        elif isinstance(starts, Mapping):
            for key, value in starts.items():
                if isinstance(value, Mapping):
                    items += [(key, year, n) for year, n in value.items()]
                elif isinstance(key, tuple) and len(key) == 2:
                    items.append((key[0], key[1], value))
                else:
                    raise UsageError(f"check_plan: starts[{key!r}]: give {{year: units}}")
        else:
            raise UsageError("check_plan: starts: give {id: {year: units}} or "
                             "{(id, year): units}")
        known = set(ids.tolist())
        rows = []
        for pid, year, n in items:
            if pid not in known:
                raise UsageError(f"check_plan: starts: unknown project id {pid!r}")
            try:
                y = int(year)
            except (TypeError, ValueError):
                raise UsageError(f"check_plan: starts[{pid!r}]: {year!r} is not a "
                                 "year") from None
            count = int(_whole_units([n], _words(f"project {pid!r} in {y}"))[0])
            if count:
                rows.append((pid, y, count))
        table = pd.DataFrame(rows, columns=["project", "start", "units"])
        table = table.groupby(["project", "start"], as_index=False, sort=False)["units"].sum()
    per_project = table.groupby("project")["units"].sum()
    series = pd.Series(per_project.reindex(ids, fill_value=0).to_numpy(dtype=np.int64),
                       index=ids)
    if units is not None:
        given = plan_units(instance, units)
        if not given.equals(series):
            raise UsageError("check_plan: the units and the starts give different plans")
    order = pd.Index(ids).get_indexer(table["project"])
    table = table.iloc[np.lexsort((table["start"].to_numpy(), order))].reset_index(drop=True)
    return series, table


def check_plan(instance: Instance, units: Any = None, rtol: float = RTOL,
               unchecked: tuple[str, ...] = (), *, starts: Any = None) -> CheckReport:
    """Check a plan against every rule: ``units`` a mapping {id: units}, a pandas Series
    indexed by id (projects missing from either have 0 units), or one count per project in
    project order (see :func:`plan_units`; a malformed plan is a UsageError).

    Every rule family checks its own rules (:meth:`~formulations.family.Family.check`)
    from the program's tables and the usage recomputed here. ``unchecked`` names rules
    the model holds that no family can check (rows added to its Pyomo form): the report
    carries them, so that a reader knows the plan was not checked against them.

    Version 2: ``starts`` says in which year each unit starts (:func:`plan_starts`:
    {id: {year: units}}, {(id, year): units}, a Series indexed by (id, year), or one
    count per option); without it every unit starts at its project's only admissible
    start, and a funded project with several is a UsageError."""
    units, start_table = plan_starts(instance, units, starts)
    usage = recompute(instance, units, start_table)
    bad: list[Violation] = []
    for family in FAMILIES:
        bad.extend(family.check(instance, usage, rtol))
    return CheckReport(tuple(bad), usage.total_capital, usage.total_return,
                       usage.capital_by_year, usage.capital_by_sector, usage.labor_by_year,
                       tuple(unchecked), usage, usage.objective)


def recompute(instance: Instance, units: pd.Series, starts: pd.DataFrame | None = None
              ) -> Usage:
    """What the plan ``units`` (whole counts by project id, every project; started as
    ``starts`` says, None: at each project's start) uses, from the program's tables
    alone: capital and labor per year, capital per project and sector, the total
    capital (exactly rounded), the total return, and in version 2 each funded start's
    cash flows and the value of the program's objective."""
    projects = instance.projects.set_index("id")
    if starts is None:
        funded_ids = units.index[units.to_numpy() > 0]
        starts = pd.DataFrame({"project": funded_ids,
                               "start": projects["start"].reindex(funded_ids)
                               .to_numpy(dtype=np.int64),
                               "units": units.reindex(funded_ids).to_numpy(dtype=np.int64)})
    table = usage_by_year(instance, units, starts)
    per_year = table.groupby("year")[["capital", "labor"]].sum()
    horizon = pd.Index(range(instance.first_year, instance.last_year + 1), name="year")
    capital_by_year = per_year["capital"].reindex(
        horizon.union(per_year.index), fill_value=0.0).rename("capital")
    labor_by_year = per_year["labor"].reindex(horizon, fill_value=0.0).rename("labor")
    total_capital = math.fsum(table["capital"])  # exactly rounded: no summation noise
    funded = units[units > 0]
    by_project = table.groupby("project")["capital"].sum()
    sector_of = projects["sector"]
    capital_by_sector = (by_project.groupby(sector_of.reindex(by_project.index)).sum()
                         .reindex(list(instance.sectors), fill_value=0.0).rename("capital"))
    returns = projects["return"].reindex(funded.index)
    total_return = math.fsum(returns * funded)
    cash, economics = cash_usage(instance, projects, starts)
    objective = total_return
    if instance.params.get("objective") == "npv":
        objective = math.fsum((economics["npv"]).tolist())
    return Usage(units, table, total_capital, total_return, capital_by_year, by_project,
                 capital_by_sector, labor_by_year, projects, starts, cash, economics,
                 objective)


_CASH_COLUMNS = ["project", "start", "year", "disbursed", "received"]
_ECONOMICS_COLUMNS = ["project", "start", "units", "npv", "irr", "recovered_in", "received",
                      "disbursed", "hurdle_npv"]


def cash_usage(instance: Instance, projects: pd.DataFrame, starts: pd.DataFrame
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per funded (project, start): its units' disbursements and Japan's receipts by year
    (every year of the flows) and its economics (NPV, irr, recovery year, for all its
    units), computed by :mod:`optimizer.check.flows` over the funded starts; empty
    tables for a program without economics."""
    econ = economics_of(instance)
    cash_rows = instance.tables.get("cash_flows")
    if not has_economics(instance) or not len(starts):
        return (pd.DataFrame({c: [] for c in _CASH_COLUMNS}),
                pd.DataFrame({c: [] for c in _ECONOMICS_COLUMNS}))
    cash_rows = cash_rows if cash_rows is not None else pd.DataFrame(
        {"project": [], "offset": [], "cash": []})
    build = build_table(instance.projects, instance.profiles, starts, instance.last_year)
    cash = cash_table(instance.projects, cash_rows, starts, build, instance.profiles)
    f = economics(instance.projects, build, cash, starts, econ)
    n = starts["units"].to_numpy(dtype=float)
    rows, cols = np.nonzero((f["disbursed"] != 0) | (f["received"] != 0))
    flows = pd.DataFrame({"project": starts["project"].to_numpy()[rows],
                          "start": starts["start"].to_numpy()[rows],
                          "year": f["years"][cols],
                          "disbursed": n[rows] * f["disbursed"][rows, cols],
                          "received": n[rows] * f["received"][rows, cols]})
    irr = [None if not np.isfinite(v) else float(v) for v in f["irr"]]
    recovered = [None if v < 0 else int(v) for v in f["recovered"]]
    econ_rows = pd.DataFrame({"project": starts["project"].to_numpy(),
                              "start": starts["start"].to_numpy(dtype=np.int64),
                              "units": starts["units"].to_numpy(dtype=np.int64),
                              "npv": n * f["npv"], "irr": irr, "recovered_in": recovered,
                              "received": n * f["received"].sum(axis=1),
                              "disbursed": n * f["disbursed"].sum(axis=1),
                              "hurdle_npv": f["hurdle_npv"]})
    return flows[_CASH_COLUMNS], econ_rows[_ECONOMICS_COLUMNS]
