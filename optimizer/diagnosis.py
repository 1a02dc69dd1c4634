"""``optimizer explain FILE``: the longer story of a program.

Three opinions, each independent of the others:

1. **Arithmetic.** Necessary conditions any plan must meet, checked on the program's own
   numbers before any solve: forced projects against the budget, the yearly caps, labor
   and the sector ceilings; each floor against all the capital its sector could take and
   against the budget; the floors together against the budget; the hurdle against the
   best return per dollar of any project when some plan must be funded; dependencies on
   forced choices. A failed condition is proof of infeasibility on its own.
2. **The solve**, checked, with the rules in conflict from the smallest elastic relaxation
   when it is infeasible (:func:`optimizer.explain.explain_infeasible`), or the rules the
   plan presses against when it is not.
3. **HiGHS's irreducible infeasible subset** of the LP relaxation
   (:func:`optimizer.explain.lp_iis`), when the program is infeasible.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.explain import LpIis
from optimizer.instance import Instance
from optimizer.results import Result
from optimizer.solver import SolveOptions
from optimizer.units import money, people

__all__ = ["Finding", "Diagnosis", "arithmetic_checks", "diagnose"]

_MAX_NAMED = 10  # projects named in one finding


@dataclasses.dataclass(frozen=True)
class Finding:
    """One arithmetic finding: ``conflict`` (no plan can meet the rule) or ``note``."""

    kind: str
    rule: str
    key: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _names(ids: np.ndarray, mask: np.ndarray) -> str:
    chosen = [str(x) for x in ids[mask][:_MAX_NAMED]]
    more = int(mask.sum()) - len(chosen)
    return ", ".join(chosen) + (f" and {more} more" if more > 0 else "")


def _over(need: float, limit: float) -> bool:
    return need > limit + 1e-9 * max(1.0, abs(limit))


def arithmetic_checks(inst: Instance) -> list[Finding]:
    """Necessary conditions of feasibility, from the program's numbers alone."""
    out: list[Finding] = []
    ids = inst.ids
    capital = np.asarray(inst.total_capital, dtype=float)
    forced = np.asarray(inst.force_in, dtype=bool)
    allowed = ~np.asarray(inst.force_out, dtype=bool)
    units = np.asarray(inst.max_units, dtype=float)
    years = inst.years
    n_sectors = len(inst.sectors)
    cash = inst.money_unit

    # forced projects, one unit each, against every cap
    if forced.any():
        need = float(capital[forced].sum())
        if inst.budget_total is not None and _over(need, inst.budget_total):
            out.append(Finding("conflict", "budget.total", "total",
                               f"the forced projects {_names(ids, forced)} need "
                               f"{money(need, cash)}, above the total budget of "
                               f"{money(inst.budget_total, cash)}"))
        for table, limits, unit, rule in (
                (inst.capital_by_year, inst.budget_per_year, cash, "budget.per_year"),
                (inst.labor_by_year, inst.labor_capacity, inst.labor_unit, "labor.capacity")):
            per_year = table.T @ forced.astype(float)
            for t in np.flatnonzero(np.isfinite(limits)):
                if _over(per_year[t], limits[t]):
                    users = forced & (table[:, [t]].toarray().ravel() > 0)
                    fmt = people if rule == "labor.capacity" else money
                    out.append(Finding(
                        "conflict", rule, str(years[t]),
                        f"{'labor' if rule == 'labor.capacity' else 'capital'} in {years[t]} "
                        f"is {fmt(per_year[t] - limits[t], unit)} short for the forced "
                        f"projects {_names(ids, users)}: they need {fmt(per_year[t])} "
                        f"against {fmt(limits[t])}"))
        by_sector = np.bincount(inst.sector_index, weights=capital * forced,
                                minlength=n_sectors)
        for s in np.flatnonzero(np.isfinite(inst.sector_max)):
            if _over(by_sector[s], inst.sector_max[s]):
                members = forced & (inst.sector_index == s)
                out.append(Finding(
                    "conflict", "sectors.max", inst.sectors[s],
                    f"the {inst.sectors[s]} ceiling of {money(inst.sector_max[s], cash)} is "
                    f"below the {money(by_sector[s], cash)} its forced projects "
                    f"{_names(ids, members)} need"))

    # floors: against the sector's whole supply, the budget, and one another
    supply = np.bincount(inst.sector_index, weights=capital * units * allowed,
                         minlength=n_sectors)
    floors = np.nan_to_num(np.asarray(inst.sector_min, dtype=float))
    for s in np.flatnonzero(floors > 0):
        name, floor = inst.sectors[s], floors[s]
        if _over(floor, supply[s]):
            out.append(Finding(
                "conflict", "sectors.min", name,
                f"the {name} floor of {money(floor, cash)} is above all the capital the "
                f"sector could take: every unit of every project allowed in it comes to "
                f"{money(supply[s], cash)}"))
        elif inst.budget_total is not None and _over(floor, inst.budget_total):
            out.append(Finding(
                "conflict", "sectors.min", name,
                f"the {name} floor of {money(floor, cash)} is above the whole budget of "
                f"{money(inst.budget_total, cash)}"))
    if inst.budget_total is not None and (floors > 0).sum() > 1 and \
            _over(floors.sum(), inst.budget_total):
        out.append(Finding(
            "conflict", "sectors.min", "all",
            f"the sector floors add up to {money(floors.sum(), cash)}, above the total "
            f"budget of {money(inst.budget_total, cash)}"))

    # the hurdle, when some plan must be funded
    if inst.hurdle_rate is not None and (forced.any() or (floors > 0).any()) and \
            allowed.any():
        ratio = np.where(allowed, inst.returns / capital, -np.inf)
        best = int(np.argmax(ratio))
        if ratio[best] < inst.hurdle_rate - 1e-12:
            why = "projects are forced in" if forced.any() else "a sector floor needs a plan"
            out.append(Finding(
                "conflict", "hurdle_rate", "hurdle",
                f"the hurdle rate of {inst.hurdle_rate:g} cannot be met by any plan that "
                f"funds something, and {why}: the best return per dollar of capital is "
                f"{ratio[best]:.4g} ({ids[best]})"))

    # dependencies on forced choices, and cycles
    for a, b in np.asarray(inst.requires).reshape(-1, 2):
        if inst.force_out[b] and forced[a]:
            out.append(Finding("conflict", "dependencies.requires", f"{ids[a]}->{ids[b]}",
                               f"{ids[a]} is forced in but requires {ids[b]}, which is "
                               "forced out"))
        elif inst.force_out[b] and allowed[a]:
            out.append(Finding("note", "dependencies.requires", f"{ids[a]}->{ids[b]}",
                               f"{ids[a]} requires {ids[b]}, which is forced out: {ids[a]} "
                               "can never be funded"))
    for group in inst.excludes:
        if forced[group].sum() > 1:
            members = np.zeros(len(ids), dtype=bool)
            members[group[forced[group]]] = True
            out.append(Finding("conflict", "dependencies.excludes",
                               ", ".join(map(str, ids[group])),
                               f"at most one of {', '.join(map(str, ids[group]))} may be "
                               f"funded, but {_names(ids, members)} are forced in"))
    out += _cycles(inst)
    return out


def _cycles(inst: Instance) -> list[Finding]:
    from optimizer.loading import requires_cycles

    out = []
    for group in requires_cycles(inst.requires, inst.n_projects):
        members = np.zeros(inst.n_projects, dtype=bool)
        members[group] = True
        out.append(Finding("note", "dependencies.requires", _names(inst.ids, members),
                           f"projects {_names(inst.ids, members)} require each other in a "
                           "cycle: they are funded all together or not at all"))
    return out


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """The three opinions on one program; ``exit_code`` is the solve's."""

    instance: Instance
    findings: tuple[Finding, ...]
    result: Result
    iis: LpIis | None

    @property
    def exit_code(self) -> int:
        return self.result.exit_code

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "program": self.instance.name,
            "source": self.instance.source,
            "status": r.status,
            "termination": r.termination,
            "checks": [f.as_dict() for f in self.findings],
            "conflicts": [c.as_dict() for c in r.conflicts],
            "iis": None if self.iis is None else self.iis.as_dict(),
            "binding": r.binding(),
            "result": r.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def text(self) -> str:
        inst, r = self.instance, self.result
        lines = [f"Program {inst.name!r} ({inst.n_projects:,} projects, {inst.first_year}-"
                 f"{inst.last_year}, {len(inst.sectors)} sectors): {inst.source}", ""]
        lines.append("1. Arithmetic on the program's own numbers (no solver):")
        conflicts = [f for f in self.findings if f.kind == "conflict"]
        notes = [f for f in self.findings if f.kind == "note"]
        if not self.findings:
            lines.append("   no simple necessary condition fails (forced projects, floors "
                         "against supply and budget, the hurdle, dependencies).")
        lines += [f"   x {f.message}" for f in conflicts]
        lines += [f"   - {f.message}" for f in notes]
        lines += ["", "2. The solve:"]
        if r.status == "infeasible":
            lines.append("   infeasible: HiGHS proved that no plan meets every rule. The "
                         "smallest relaxation that would make it feasible loosens:")
            # the solve's conflicts end with the arithmetic's own, already shown above
            shown = {f.message for f in conflicts}
            lines += [f"   - {c.message}" for c in r.conflicts if c.message not in shown]
        elif r.has_plan and r.check is not None:
            gap = "" if r.gap is None else f", gap {r.gap:.4%}"
            lines.append(f"   {r.status} ({r.termination}): return "
                         f"{money(r.objective, inst.money_unit)} on "
                         f"{money(r.check.total_capital, inst.money_unit)} of capital{gap}; "
                         "the plan passes the independent checker." if r.valid else
                         f"   {r.status}: {r.message}")
            binding = r.binding()
            lines.append("   Rules at their limit in this plan: "
                         + (", ".join(binding) if binding else "none") + ".")
            if conflicts:
                lines.append("   (The arithmetic above found a conflict the solve did not: "
                             "please report this program.)")
        else:
            lines.append(f"   {r.status} ({r.termination}): {r.message or 'no plan found'}")
        if self.iis is not None:
            lines += ["", "3. HiGHS's irreducible infeasible subset of the LP relaxation "
                      "(whole units relaxed):"]
            if self.iis.status == "found":
                lines.append("   these rules and bounds cannot hold together, and dropping "
                             "any one of them would let the rest hold:")
                lines += [f"   - {m}" for m in self.iis.members]
            elif self.iis.status == "lp_feasible":
                lines.append("   the LP relaxation has a solution: the conflict comes from "
                             "whole units alone (no fraction of a project can be funded), so "
                             "there is no LP subset to show.")
            else:
                lines.append("   HiGHS did not produce one in time.")
        return "\n".join(_wrap(line) for line in lines)


def _wrap(line: str, width: int = 92) -> str:
    """Fold a long line, its continuation indented under the text of a bullet."""
    import textwrap

    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    hang = indent + ("  " if body[:2] in ("x ", "- ") else "")
    return textwrap.fill(line, width=width, subsequent_indent=hang, break_long_words=False,
                         break_on_hyphens=False) if len(line) > width else line


def diagnose(program: Instance | str | Path, options: SolveOptions | None = None,
             iis_time_limit: float | None = None) -> Diagnosis:
    """Arithmetic checks, a checked solve and, when infeasible, HiGHS's LP IIS (in at
    most ``iis_time_limit`` seconds; None: what the solve's time limit leaves, see
    :func:`optimizer.explain.explain_budget`)."""
    import time

    from formulations import build
    from optimizer.api import solve
    from optimizer.explain import explain_budget, lp_iis
    from optimizer.loading import load

    started = time.perf_counter()
    instance = program if isinstance(program, Instance) else load(program)
    findings = tuple(arithmetic_checks(instance))
    options = options or SolveOptions()
    result = solve(instance, options)
    if iis_time_limit is None:
        iis_time_limit = explain_budget(options.time_limit, time.perf_counter() - started)
    iis = lp_iis(build(instance), iis_time_limit) if result.status == "infeasible" else None
    return Diagnosis(instance, findings, result, iis)
