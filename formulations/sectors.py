"""Sector rules: committed capital in each sector between its floor and ceiling.

    min_s <= sum_{i in s} C_i u_i <= max_s      for every sector with a limit

A floor of 0 is no rule (capital is never negative) and adds no row. One row holds both
limits of a sector: its lower limit is the rule ``sectors.min``, its upper ``sectors.max``.
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
from formulations.shared import exceeds, names, over
from formulations.tables import option_room, threshold
from formulations.whatif import (
    OPEN,
    bounded_array,
    caps_within,
    open_where_any,
    sector_position,
    set_limits,
)
from optimizer.limits import MONEY
from optimizer.program.terms import MONEY_AT_LEAST_0, Field, Section
from optimizer.units import money, table

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "Sectors", "NAME"]

NAME = "sector_limits"
MIN, MAX = "sectors.min", "sectors.max"



#: The keys this family reads (its part of the format's vocabulary).
SECTOR = Section("sectors.<name>", "`sectors.<name>`: one sector's floor and ceiling", (
    Field("min", "number", "floor on the capital committed in the sector (total capital "
          "of its funded units)", unit="$B over the plan", bound=MONEY_AT_LEAST_0,
          default_text="no floor"),
    Field("max", "number", "ceiling on the capital committed in the sector",
          unit="$B over the plan", bound=MONEY_AT_LEAST_0, default_text="no ceiling"),
))


class Sectors(Family):
    name = "sectors"
    rules = (Rule(MIN, "sector_min", label=lambda key: f"sectors.{key}.min"),
             Rule(MAX, "sector_max", label=lambda key: f"sectors.{key}.max"))
    fields = (
        Field("sectors", "named", "every project's sector, by name, each with an optional "
              "floor and ceiling (below); keys beginning with `x_` are metadata, not sectors",
              required=True, section=SECTOR),
    )
    changes = {"sector_min": "{sector: $B or None}", "sector_max": "{sector: $B or None}"}
    parameters = {"sector_min": "sector_min:SECTOR, that sector's floor ($B)",
                  "sector_max": "sector_max:SECTOR, that sector's ceiling ($B)"}
    keyed_parameters = frozenset({"sector_min", "sector_max"})
    axis_labels = {"sector_min": "{key} floor ({cash})", "sector_max": "{key} ceiling ({cash})"}
    steps = {"sector": 1.0}

    # ------------------------------------------------------------------- model
    def limits(self, instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
        lower = np.where(instance.sector_min > 0, instance.sector_min, -np.inf)
        upper = np.where(np.isfinite(instance.sector_max), instance.sector_max, np.inf)
        return {NAME: (instance.sectors, lower, upper)}

    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        _keys, lower, upper = self.limits(instance)[NAME]
        if not (np.isfinite(lower).any() or np.isfinite(upper).any()):
            return []
        options = instance.options
        membership, cols = columns.place(sp.csr_array(
            (options.total_capital, (options.of(instance.sector_index), np.arange(options.size))),
            shape=(len(instance.sectors), options.size)))
        return [row_block(NAME, membership, cols, columns.n_columns, lower, upper,
                          instance.sectors, family=self.name, lower_rule=MIN, upper_rule=MAX)]

    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        floors = np.vstack([p.sector_min for p in points]).max(axis=0)
        return {"sector_min": np.where(floors > 0, 1.0 / OPEN, np.nan),
                "sector_max": open_where_any([p.sector_max for p in points])}

    def restricts(self, b: Instance, a: Instance) -> bool:
        return caps_within(b.sector_max, a.sector_max) and bool(
            np.all(np.nan_to_num(b.sector_min) >= np.nan_to_num(a.sector_min)))

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        bad: list[Violation] = []
        for sector, low, high in zip(instance.sectors, instance.sector_min.tolist(),
                                     instance.sector_max.tolist(), strict=True):
            used = float(usage.capital_by_sector[sector])
            if np.isfinite(low):
                e = over(float(low), used, rtol) if low > 0 else 0.0
                if e:
                    bad.append(Violation("sector_min", sector, used, float(low), e,
                                         RuleRef(MIN, sector)))
            if np.isfinite(high):
                e = over(used, float(high), rtol)
                if e:
                    bad.append(Violation("sector_max", sector, used, float(high), e,
                                         RuleRef(MAX, sector)))
        return bad

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """Forced projects against each ceiling; each floor against all the capital its
        sector could take and against the budget; the floors together against the
        budget."""
        out: list[Finding] = []
        ids, cash = instance.ids, instance.money_unit
        options = instance.options
        least = options.smallest(options.total_capital)
        most = options.largest(options.total_capital)
        allowed = ~np.asarray(instance.force_out, dtype=bool) & np.isfinite(least)
        capital = np.where(allowed, least, 0.0)  # a unit of each start that may be funded
        forced = np.asarray(instance.force_in, dtype=bool)
        n_sectors = len(instance.sectors)
        if forced.any():
            by_sector = np.bincount(instance.sector_index, weights=capital * forced,
                                    minlength=n_sectors)
            for s in np.flatnonzero(np.isfinite(instance.sector_max)):
                if exceeds(by_sector[s], instance.sector_max[s]):
                    members = forced & (instance.sector_index == s)
                    out.append(Finding(
                        "conflict", MAX, instance.sectors[s],
                        f"the {instance.sectors[s]} ceiling of "
                        f"{money(instance.sector_max[s], cash)} is below the "
                        f"{money(by_sector[s], cash)} its forced projects "
                        f"{names(ids, members)} need", RuleRef(MAX, instance.sectors[s])))
        supply = np.bincount(instance.sector_index,
                             weights=np.where(allowed, most, 0.0)
                             * np.asarray(instance.max_units, dtype=float), minlength=n_sectors)
        floors = np.nan_to_num(np.asarray(instance.sector_min, dtype=float))
        total = instance.budget_total
        for s in np.flatnonzero(floors > 0):
            name, floor = instance.sectors[s], floors[s]
            if exceeds(floor, supply[s]):
                out.append(Finding(
                    "conflict", MIN, name,
                    f"the {name} floor of {money(floor, cash)} is above all the capital the "
                    f"sector could take: every unit of every project allowed in it comes to "
                    f"{money(supply[s], cash)}", RuleRef(MIN, name)))
            elif total is not None and exceeds(floor, total):
                out.append(Finding(
                    "conflict", MIN, name,
                    f"the {name} floor of {money(floor, cash)} is above the whole budget of "
                    f"{money(total, cash)}", RuleRef(MIN, name)))
        if total is not None and (floors > 0).sum() > 1 and exceeds(floors.sum(), total):
            out.append(Finding(
                "conflict", MIN, "all",
                f"the sector floors add up to {money(floors.sum(), cash)}, above the total "
                f"budget of {money(total, cash)}", RuleRef(MIN, "all")))
        return out

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        cash, short, key = words.cash, abs(limit - reached), ref.key
        if side == "lower":
            msg = (f"the {key} floor of {money(limit, cash)} cannot be met{words.with_forced} "
                   f"under the other rules: the best plan reaches {money(reached, cash)} "
                   f"({money(short)} short)")
            return Conflict(MIN, str(key), limit, reached, msg, RuleRef(MIN, key))
        msg = (f"the {key} ceiling of {money(limit, cash)} cannot be kept{words.with_forced}: "
               f"the plan needs {money(reached, cash)} ({money(short)} over)")
        return Conflict(MAX, str(key), limit, reached, msg, RuleRef(MAX, key))

    def empty_conflict(self, ref: RuleRef, lower: float, upper: float,
                       words: Words) -> Conflict:
        inst, key = words.instance, ref.key
        s = inst.sectors.index(key)
        low, high = float(inst.sector_min[s]), float(inst.sector_max[s])
        if np.isfinite(high) and low > high:
            return Conflict(MIN, str(key), low, high,
                            f"the {key} floor of {money(low, words.cash)} is above its "
                            f"ceiling of {money(high, words.cash)}", RuleRef(MIN, key))
        return Conflict(MIN, str(key), low, 0.0,
                        f"the {key} floor of {money(low, words.cash)} cannot be met: no "
                        "project is in the sector", RuleRef(MIN, key))

    # ------------------------------------------------------------------ report
    def table(self, result: Result) -> pd.DataFrame:
        """Committed capital per sector against its floor and ceiling."""
        inst = result.instance
        used = (result.check.capital_by_sector.reindex(list(inst.sectors), fill_value=0.0)
                .to_numpy() if result.check else np.zeros(len(inst.sectors)))
        frame = pd.DataFrame({"used": used, "min": inst.sector_min, "max": inst.sector_max},
                             index=pd.Index(inst.sectors, name="sector"))
        units = result.units.to_numpy()
        smallest_in = np.full(len(inst.sectors), np.inf)
        smallest_out = np.full(len(inst.sectors), np.inf)
        options = inst.options
        free = option_room(inst, units)
        removable = options.of((units > 0) & ~(inst.force_in & (units == 1)))
        if result.starts is not None:  # a unit to drop is one of a start the plan funds
            removable = removable & (result.starts > 0)
        sector = options.of(inst.sector_index)
        np.minimum.at(smallest_in, sector[free], options.total_capital[free])
        np.minimum.at(smallest_out, sector[removable], options.total_capital[removable])
        tol = 1e-6 * np.maximum(1.0, np.abs(used))
        floor_binds = np.isfinite(frame["min"]) & (frame["min"] > 0) & (
            used - frame["min"].to_numpy() < threshold(smallest_out, tol))
        ceiling_binds = np.isfinite(frame["max"]) & (
            frame["max"].to_numpy() - used < threshold(smallest_in, tol))
        frame["binding"] = np.where(floor_binds, "min", np.where(ceiling_binds, "max", ""))
        return frame

    def binding(self, result: Result) -> list[RuleRef]:
        return [RuleRef(MIN if kind == "min" else MAX, s)
                for s, kind in self.table(result)["binding"].items() if kind]

    def report(self, result: Result) -> list[str]:
        return ["", f"capital by sector ({result.instance.money_unit}):",
                table(self.table(result))]

    # ------------------------------------------------------------------ what-if
    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def position(w: str, s: Any) -> int:
            return sector_position(instance, w, s)

        for what in ("sector_min", "sector_max"):
            limits = changes.get(what)
            if limits:
                out[what] = set_limits(getattr(instance, what), limits, position, what)
                bounded_array(what, instance.sectors, out[what], MONEY)
                labels.append(f"{what}={dict(limits)}")
        return out

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind in ("sector_min", "sector_max"):
            return {kind: {key: value}}
        raise KeyError(kind)

    def marginal(self, instance: Instance, steps: Mapping[str, float]) -> list[Marginal]:
        step = steps["sector"]
        out = []
        for k, sector in enumerate(instance.sectors):
            low, high = instance.sector_min[k], instance.sector_max[k]
            if np.isfinite(low) and low > 0:
                out.append(Marginal(RuleRef(MIN, sector), -min(step, float(low)),
                                    {"sector_min": {sector: max(0.0, low - step)}}))
            if np.isfinite(high):
                out.append(Marginal(RuleRef(MAX, sector), step,
                                    {"sector_max": {sector: high + step}}))
        return out


FAMILY = Sectors()
