"""``optimizer explain FILE``: the longer story of a program.

Three opinions, each independent of the others:

1. **Arithmetic.** Necessary conditions any plan must meet, checked on the program's own
   numbers before any solve, each rule family its own
   (:meth:`formulations.family.Family.arithmetic`): forced projects against the budget,
   the yearly caps, labor and the sector ceilings; each floor against all the capital its
   sector could take and against the budget; the floors together against the budget; the
   hurdle and the supplier share against the best project when some plan must be funded;
   dependencies on forced choices. A failed condition is proof of infeasibility on its
   own.
2. **The solve**, checked, with the rules in conflict from the smallest elastic relaxation
   when it is infeasible (:func:`optimizer.diagnosis.explain.explain_infeasible`), or the rules the
   plan presses against when it is not.
3. **HiGHS's irreducible infeasible subset** of the LP relaxation
   (:func:`optimizer.diagnosis.explain.lp_iis`), when the program is infeasible.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
import time
from pathlib import Path
from typing import Any

from formulations import build
from formulations.family import Finding
from formulations.registry import FAMILIES
from optimizer.diagnosis.explain import LpIis, explain_budget, lp_iis
from optimizer.pipeline import solve
from optimizer.program.instance import Instance
from optimizer.program.loading import load
from optimizer.results.result import Result
from optimizer.solving.highs import SolveOptions
from optimizer.units import money

__all__ = ["Finding", "Diagnosis", "arithmetic_checks", "diagnose"]

_MAX_NAMED = 10  # projects named in one finding


def arithmetic_checks(inst: Instance) -> list[Finding]:
    """Necessary conditions of feasibility, from the program's numbers alone: every rule
    family's own (:meth:`~formulations.family.Family.arithmetic`), in family order."""
    return [finding for family in FAMILIES for finding in family.arithmetic(inst)]


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
            lines.append("   no simple necessary condition of any rule fails (forced "
                         "projects, floors against supply and budget, rates, "
                         "dependencies).")
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
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    hang = indent + ("  " if body[:2] in ("x ", "- ") else "")
    return textwrap.fill(line, width=width, subsequent_indent=hang, break_long_words=False,
                         break_on_hyphens=False) if len(line) > width else line


def diagnose(program: Instance | str | Path, options: SolveOptions | None = None,
             iis_time_limit: float | None = None) -> Diagnosis:
    """Arithmetic checks, a checked solve and, when infeasible, HiGHS's LP IIS (in at
    most ``iis_time_limit`` seconds; None: what the solve's time limit leaves, see
    :func:`optimizer.diagnosis.explain.explain_budget`)."""

    started = time.perf_counter()
    instance = program if isinstance(program, Instance) else load(program)
    findings = tuple(arithmetic_checks(instance))
    options = options or SolveOptions()
    result = solve(instance, options)
    if iis_time_limit is None:
        iis_time_limit = explain_budget(options.time_limit, time.perf_counter() - started)
    iis = lp_iis(build(instance), iis_time_limit) if result.status == "infeasible" else None
    return Diagnosis(instance, findings, result, iis)
