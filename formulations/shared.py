"""What several rule families share: the checker's and the arithmetic's comparisons,
the naming of projects in messages, the per-year checks and the forced projects' use of
each year, and the funded indicator of each project (the choices family's columns that
dependencies are written on). No family imports another; they import this."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from formulations.columns import Columns
from formulations.family import Finding, Rule, RuleRef, Violation

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["over", "names", "exceeds", "check_years", "forced_years", "must_fund",
           "linked_projects", "funded_column", "FUNDED"]

#: The column block of the funded indicators z_i of modular projects a dependency names.
FUNDED = "funded"


def over(value: float, limit: float, rtol: float) -> float:
    """How far ``value`` exceeds ``limit`` beyond the checker's tolerance (0 when within)."""
    excess = value - limit
    return excess if excess > rtol * max(1.0, abs(limit)) else 0.0


def names(ids: np.ndarray, mask: np.ndarray, limit: int = 10) -> str:
    chosen = [str(x) for x in ids[mask][:limit]]
    more = int(mask.sum()) - len(chosen)
    return ", ".join(chosen) + (f" and {more} more" if more > 0 else "")


def exceeds(need: float, limit: float) -> bool:
    """The arithmetic's comparison: ``need`` above ``limit`` beyond rounding."""
    return need > limit + 1e-9 * max(1.0, abs(limit))


def check_years(bad: list[Violation], rule: Rule, years: np.ndarray, limits: np.ndarray,
                used_by_year: pd.Series, rtol: float) -> None:
    """One violation per capped year whose use exceeds its limit."""
    for year, cap in zip(years.tolist(), limits.tolist(), strict=True):
        if np.isfinite(cap):
            used = float(used_by_year.get(int(year), 0.0))
            e = over(used, float(cap), rtol)
            if e:
                bad.append(Violation(rule.check_name, str(int(year)), used, float(cap), e,
                                     rule.ref(int(year))))


def forced_years(instance: Instance, table: str, limits: np.ndarray, rule: str, what: str,
                 fmt: Any, unit: str) -> list[Finding]:
    """The forced projects' least use of each capped year (``table``: the options' table
    of it, ``capital_by_year`` or ``labor_by_year``; a project that may start in several
    years uses at least its least over them) against that year's limit."""
    forced = np.asarray(instance.force_in, dtype=bool)
    options = instance.options
    years, ids = instance.years, instance.ids
    mine = np.flatnonzero(options.of(forced) & (options.excluded == 0))
    least = np.full((instance.n_projects, len(years)), np.inf)
    if len(mine):
        np.minimum.at(least, options.project[mine],
                      getattr(options, table)[mine].toarray())
    least = np.where(np.isfinite(least), least, 0.0)
    per_year = least.sum(axis=0)
    out = []
    for t in np.flatnonzero(np.isfinite(limits)):
        if exceeds(per_year[t], limits[t]):
            users = forced & (least[:, t] > 0)
            out.append(Finding(
                "conflict", rule, str(years[t]),
                f"{what} in {years[t]} is {fmt(per_year[t] - limits[t], unit)} short for the "
                f"forced projects {names(ids, users)}: they need {fmt(per_year[t])} against "
                f"{fmt(limits[t])}", RuleRef(rule, int(years[t]))))
    return out


def must_fund(instance: Instance) -> str | None:
    """Why every plan must fund something (projects forced in, a sector floor), or None
    when the empty plan may be a plan: a rate rule that no project can meet is then a
    conflict on its own."""
    if np.asarray(instance.force_in, dtype=bool).any():
        return "projects are forced in"
    if (np.nan_to_num(np.asarray(instance.sector_min, dtype=float)) > 0).any():
        return "a sector floor needs a plan"
    return None


def linked_projects(instance: Instance) -> np.ndarray:
    """Positions of the projects a dependency refers to whose funding is not one column
    (modular, or with several start years): they get a column z_i."""
    max_units = instance.max_units
    modular = np.flatnonzero((max_units > 1) | (instance.options.count_modelled() > 1))
    referenced = np.zeros(instance.n_projects, dtype=bool)
    referenced[np.asarray(instance.requires, dtype=np.int64).reshape(-1)] = True
    for group in instance.excludes:
        referenced[group] = True
    return modular[referenced[modular]]


def funded_column(instance: Instance, columns: Columns) -> np.ndarray:
    """The model column holding z_i of every project: its unit column for a single-unit
    project, its ``funded`` column for a linked modular one, -1 where z_i is in no rule."""
    n = instance.n_projects
    unit_cols, owner = columns.unit_columns()
    out = np.full(n, -1, dtype=np.int64)
    single = (instance.max_units[owner] == 1) & (instance.options.count_modelled()[owner] == 1)
    out[owner[single]] = unit_cols[single]
    if columns.has(FUNDED):
        out[np.asarray(columns.block(FUNDED).project)] = columns.positions(FUNDED)
    return out
