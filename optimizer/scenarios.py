"""What-if scenarios: new programs derived from an :class:`Instance`, and comparisons.

    >>> from optimizer import load, solve, derive, compare
    >>> base = load("pilot")
    >>> tighter = derive(base, budget_total=400, labor_capacity={2029: 700_000})
    >>> tighter.budget_total, base.budget_total
    (400.0, 550.0)
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
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.errors import UsageError
from optimizer.instance import Instance
from optimizer.limits import MONEY, PEOPLE, RATE, Bound

if TYPE_CHECKING:
    from optimizer.results import Result

__all__ = ["derive", "compare", "Comparison", "KEEP", "PARAMETERS", "parameter_changes"]


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: "Leave this as the program has it" (``None`` means "remove the limit").
KEEP: Any = _Keep()

Limits = Mapping[Any, float | None]


def _number(what: str, value: Any, *, allow_none: bool = True, positive: bool = False) -> Any:
    if value is None:
        if allow_none:
            return None
        raise UsageError(f"{what}: a number is required, got None")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise UsageError(f"{what}: must be finite, got {value!r}")
    if positive and number <= 0:
        raise UsageError(f"{what}: must be > 0, got {value!r}")
    if number < 0:
        raise UsageError(f"{what}: must be >= 0, got {value!r}")
    return number


def _bounded(what: str, value: float, bound: Bound, *, by: str = "") -> None:
    """Refuse a derived value outside the format's documented ``bound``
    (:mod:`optimizer.limits`), naming the change (``what``) and, for a value a factor
    produced, the factor (``by``)."""
    if value == value and not bound.holds(value):  # NaN: no limit
        made = f" ({by} makes it {value:g})" if by else f" (got {value:g})"
        raise UsageError(f"{what}{made}: must be {bound.describe()}, the format's bound on "
                         f"{bound.why}")


def _bounded_array(what: str, keys: Iterable[Any], values: np.ndarray, bound: Bound,
                   *, by: str = "") -> None:
    for key, value in zip(keys, np.asarray(values, dtype=float).tolist(), strict=True):
        _bounded(f"{what}[{key}]", value, bound, by=by)


def _year_position(instance: Instance, what: str, year: Any) -> int:
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: {year!r} is not a year") from None
    if y != year and str(y) != str(year).strip():
        raise UsageError(f"{what}: {year!r} is not a year")
    if not instance.first_year <= y <= instance.last_year:
        raise UsageError(f"{what}: year {y} is outside the horizon "
                         f"{instance.first_year}-{instance.last_year}")
    return y - instance.first_year


def _sector_position(instance: Instance, what: str, sector: Any) -> int:
    if sector not in instance.sectors:
        raise UsageError(f"{what}: unknown sector {sector!r}; the program names: "
                         f"{', '.join(instance.sectors)}")
    return instance.sectors.index(sector)


def _set_limits(array: np.ndarray, changes: Limits, position: Any, what: str) -> np.ndarray:
    out = array.astype(float).copy()
    for key, value in changes.items():
        k = position(f"{what}[{key}]", key)
        number = _number(f"{what}[{key}]", value)
        out[k] = np.nan if number is None else number
    return out


def _project_positions(instance: Instance, what: str, ids: Iterable[Any]) -> np.ndarray:
    if isinstance(ids, str):
        ids = [ids]
    index = pd.Index(instance.ids)
    wanted = [str(i) for i in ids]
    found = index.get_indexer(wanted)
    missing = [w for w, k in zip(wanted, found, strict=True) if k < 0]
    if missing:
        raise UsageError(f"{what}: unknown project id(s) {', '.join(map(repr, missing[:5]))}")
    return found


def derive(instance: Instance, *, name: str | None = None,
           budget_total: Any = KEEP, budget_per_year: Limits | None = None,
           budget_scale: float | None = None,
           sector_min: Limits | None = None, sector_max: Limits | None = None,
           labor_capacity: Limits | None = None, labor_scale: float | None = None,
           hurdle_rate: Any = KEEP, return_multiplier: Mapping[str, float] | None = None,
           force_in: Iterable[str] = (), force_out: Iterable[str] = (),
           release: Iterable[str] = ()) -> Instance:
    """A new program: ``instance`` with the given changes (the original is untouched).

    * ``budget_total``: the cap on all capital ($B; ``None`` removes it);
    * ``budget_per_year``: {year: cap or None}; ``budget_scale``: multiplies the total
      and every per-year cap the program (after the other budget changes) sets;
    * ``sector_min`` / ``sector_max``: {sector: $B or None};
    * ``labor_capacity``: {year: specialists or None}; ``labor_scale``: multiplies every
      yearly capacity (after ``labor_capacity``);
    * ``hurdle_rate``: the minimum return per dollar committed (``None`` removes it);
    * ``return_multiplier``: {project id or sector: factor} on each project's return (a
      project named and in a named sector gets both factors);
    * ``force_in`` / ``force_out`` / ``release``: project ids to force in, force out, or
      free of any forced choice.
    """
    changes: dict[str, Any] = {}
    labels: list[str] = []

    def years(array: np.ndarray, limits: Limits | None, scale: float | None,
              what: str, scale_name: str) -> np.ndarray:
        """Per-year limits changed, then scaled (the array itself when untouched)."""
        if limits:
            array = _set_limits(array, limits,
                                lambda w, y: _year_position(instance, w, y), what)
            labels.append(f"{what}={dict(limits)}")
        if scale is not None:
            array = array * _number(scale_name, scale, allow_none=False, positive=True)
            labels.append(f"{scale_name}={scale}")
        return array

    total = instance.budget_total
    if budget_total is not KEEP:
        total = _number("budget_total", budget_total)
        labels.append(f"budget_total={budget_total}")
    if budget_scale is not None and total is not None:
        total = total * _number("budget_scale", budget_scale, allow_none=False, positive=True)
    per_year = years(instance.budget_per_year, budget_per_year, budget_scale,
                     "budget_per_year", "budget_scale")
    scaled = f"budget_scale={budget_scale:g}" if budget_scale is not None else ""
    if total is not instance.budget_total:
        if total is not None:
            _bounded("budget_total", total, MONEY, by=scaled)
        changes["budget_total"] = total
    if per_year is not instance.budget_per_year:
        _bounded_array("budget_per_year", instance.years.tolist(), per_year, MONEY, by=scaled)
        changes["budget_per_year"] = per_year

    def sector(w: str, s: Any) -> int:
        return _sector_position(instance, w, s)

    for what, limits in (("sector_min", sector_min), ("sector_max", sector_max)):
        if limits:
            changes[what] = _set_limits(getattr(instance, what), limits, sector, what)
            _bounded_array(what, instance.sectors, changes[what], MONEY)
            labels.append(f"{what}={dict(limits)}")

    labor = years(instance.labor_capacity, labor_capacity, labor_scale, "labor_capacity",
                  "labor_scale")
    if labor is not instance.labor_capacity:
        _bounded_array("labor_capacity", instance.years.tolist(), labor, PEOPLE,
                       by=f"labor_scale={labor_scale:g}" if labor_scale is not None else "")
        changes["labor_capacity"] = labor

    if hurdle_rate is not KEEP:
        changes["hurdle_rate"] = _number("hurdle_rate", hurdle_rate)
        if changes["hurdle_rate"] is not None:
            _bounded("hurdle_rate", changes["hurdle_rate"], RATE)
        labels.append(f"hurdle_rate={hurdle_rate}")

    projects = instance.projects
    if return_multiplier:
        factor = np.ones(instance.n_projects)
        sectors = set(instance.sectors)
        id_set = set(instance.ids.tolist())
        for key, value in return_multiplier.items():
            what = f"return_multiplier[{key}]"
            m = _number(what, value, allow_none=False)
            if key in sectors and key in id_set:
                raise UsageError(f"{what}: {key!r} is both a sector and a project id")
            if key in sectors:
                factor[instance.sector_index == instance.sectors.index(key)] *= m
            else:
                factor[_project_positions(instance, what, [key])] *= m
        returns = projects["return"].to_numpy(dtype=float) * factor
        outside = np.flatnonzero((returns < MONEY.low) | (returns > MONEY.high))
        if len(outside):
            j = int(outside[0])
            keys = [k for k in return_multiplier if k == instance.ids[j]
                    or k == instance.sectors[instance.sector_index[j]]]
            _bounded(f"return_multiplier[{', '.join(map(str, keys))}]: the return of "
                     f"project {instance.ids[j]!r}", float(returns[j]), MONEY,
                     by=f"x{factor[j]:g}")
        projects = projects.assign(**{"return": returns})
        labels.append(f"return_multiplier={dict(return_multiplier)}")
    force = None
    choices: tuple[tuple[str, Iterable[str], str], ...] = (
        ("release", release, ""), ("force_in", force_in, "in"), ("force_out", force_out, "out"))
    for what, named, choice in choices:
        positions = _project_positions(instance, what, named)
        if len(positions):
            if force is None:
                force = projects["force"].to_numpy(dtype=object).copy()
            force[positions] = choice
            labels.append(f"{what}={sorted(instance.ids[positions].tolist())}")
    if force is not None:
        both = set(_project_positions(instance, "force_in", force_in).tolist()) & set(
            _project_positions(instance, "force_out", force_out).tolist())
        if both:
            raise UsageError(f"force_in and force_out both name {instance.ids[min(both)]!r}")
        projects = projects.assign(force=force)
    if projects is not instance.projects:
        changes["projects"] = projects

    changes["name"] = name if name is not None else (
        instance.name if not labels else f"{instance.name} [{'; '.join(labels)}]")
    # capital and labor are unchanged, so the prepared arrays stay valid: no re-preparation
    return dataclasses.replace(instance, **changes)


# --------------------------------------------------------------- sweep parameters
#: Sweepable parameters: name (``NAME`` or ``NAME:KEY``) -> how a value becomes a change.
PARAMETERS = {
    "budget": "budget_total ($B)",
    "budget_scale": "factor on the total and every per-year cap",
    "budget_year": "budget_year:YEAR, that year's disbursement cap ($B)",
    "labor_scale": "factor on every yearly labor capacity",
    "labor": "labor:YEAR, that year's capacity (specialists)",
    "sector_min": "sector_min:SECTOR, that sector's floor ($B)",
    "sector_max": "sector_max:SECTOR, that sector's ceiling ($B)",
    "hurdle_rate": "the return hurdle",
    "return_multiplier": "return_multiplier:PROJECT_OR_SECTOR, a factor on returns",
}


def parameter_changes(values: Mapping[str, float]) -> dict[str, Any]:
    """{parameter: value} (names as in :data:`PARAMETERS`) -> keyword arguments of
    :func:`derive`."""
    out: dict[str, Any] = {}
    for parameter, value in values.items():
        kind, _, key = parameter.partition(":")
        if kind not in PARAMETERS:
            raise UsageError(f"unknown sweep parameter {parameter!r}; choose from "
                             f"{', '.join(PARAMETERS)}")
        keyed = kind in ("budget_year", "labor", "sector_min", "sector_max", "return_multiplier")
        if keyed != bool(key):
            raise UsageError(f"sweep parameter {parameter!r}: " + (
                f"write it as {PARAMETERS[kind].split(',')[0]}" if keyed
                else "takes no ':KEY'"))
        if kind == "budget":
            out["budget_total"] = value
        elif kind in ("budget_scale", "labor_scale", "hurdle_rate"):
            out[kind] = value
        else:
            target = {"budget_year": "budget_per_year", "labor": "labor_capacity"}.get(kind, kind)
            out.setdefault(target, {})[key] = value
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
        }

    def summary(self) -> str:
        """Money as :func:`optimizer.units.money` (two decimals), people as
        :func:`~optimizer.units.people` (whole), in the programs' units."""
        from optimizer.units import money, people

        a, b = self.a, self.b
        cash, staff = a.instance.money_unit, a.instance.labor_unit
        lines = [f"a: {a.instance.name} ({a.status}, return {money(a.objective, cash)})",
                 f"b: {b.instance.name} ({b.status}, return "
                 f"{money(b.objective, b.instance.money_unit)})",
                 f"return change: {money(self.objective_change, cash, sign=True)}"]
        lines.append(f"added: {', '.join(self.added) or '-'}")
        lines.append(f"dropped: {', '.join(self.dropped) or '-'}")
        resized = self.projects[self.projects["change"].isin(["more units", "fewer units"])]
        if len(resized):
            lines.append("resized: " + ", ".join(
                f"{r.id} {r.units_a}->{r.units_b}" for r in resized.itertuples()))
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
        _side_by_side(used(a, "labor_by_year"), used(b, "labor_by_year"), "year"))
