"""The readable summary a person sees from ``optimizer solve`` (no ``--json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from formulations import registry
from optimizer.results.economics import excluded
from optimizer.units import money, table

#: The most ruled-out starts the summary lists one by one.
EXCLUDED_SHOWN = 20

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result


def _ruled_out(inst: Instance) -> list[str]:
    """The starts a rule rules out before the solve: those of the commitment deadline
    counted (each reads the same), the others one by one with their reasons."""
    options = inst.options
    if options is None or not options.excluded.any():
        return []
    ruled = excluded(inst)
    lines = [f"ruled out before the solve ({len(ruled)} project start"
             f"{'s' * (len(ruled) != 1)}):"]
    late = [e for e in ruled if e["rule"] == "commitment_deadline"]
    if late:
        projects = len({e["id"] for e in late})
        lines.append(f"  {len(late)} start{'s' * (len(late) != 1)} of {projects} project"
                     f"{'s' * (projects != 1)} after the commitment deadline "
                     f"{inst.params.get('commitment_deadline')}")
    others = [e for e in ruled if e["rule"] != "commitment_deadline"]
    lines += [f"  {e['reason']}" for e in others[:EXCLUDED_SHOWN]]
    if len(others) > EXCLUDED_SHOWN:
        lines.append(f"  ... and {len(others) - EXCLUDED_SHOWN} more (see the JSON's "
                     "`excluded`)")
    return lines


def render_summary(result: Result) -> str:
    """Numbers read as :mod:`optimizer.units` says: money with two decimals, people whole,
    each labelled with the program's own units."""
    inst = result.instance
    cash = inst.money_unit
    what = "NPV to Japan" if inst.params.get("objective") == "npv" else "total return"
    lines = [
        f"{inst.name}  ({inst.n_projects} projects, {inst.first_year}-{inst.last_year})",
        f"status: {result.status}   termination: {result.termination}",
        f"objective ({what}, {cash}): {money(result.objective)}   "
        f"bound: {money(result.bound)}   gap: "
        + ("-" if result.gap is None else f"{result.gap:.4%}"),
    ]
    if inst.known_optimum is not None:
        lines.append(f"known optimum: {money(inst.known_optimum)}")
    if result.message and result.status not in ("optimal", "feasible"):
        lines.append(result.message)
    for c in result.conflicts:
        lines.append(f"  conflict: {c.message}")
    lines += _ruled_out(inst)
    if result.has_plan:
        verdict = "every rule holds" if result.valid else "RULES BROKEN"
        lines.append(f"independent check: {verdict}")
        if result.check is not None:
            lines += [f"  - {v}" for v in result.check.violations]
            if result.check.unchecked:
                lines.append("  not checked independently (rules added to the Pyomo form): "
                             + ", ".join(result.check.unchecked))
        chosen = result.selected()
        lines.append("")
        lines.append(f"funded projects ({len(chosen)}), capital and "
                     f"{'NPV' if 'npv' in chosen.columns else 'return'} in {cash}:")
        if inst.params.get("objective") == "npv":  # the objective is not the return column
            chosen = chosen.drop(columns=["return"])
        shown = chosen.head(40)
        lines.append(table(shown.set_index("id"), money_columns=("capital", "return", "npv"))
                     if len(shown) else "  (none)")
        if len(chosen) > len(shown):
            lines.append(f"  ... and {len(chosen) - len(shown)} more (use --out FILE.csv)")
        for family in registry.FAMILIES:  # each family's own lines: its limits and use
            lines += family.report(result)
        binding = result.binding()
        lines.append("")
        lines.append("binding rules: " + (", ".join(binding) if binding else "none"))
    t = result.timings
    lines.append("")
    lines.append("timings (s): " + "  ".join(f"{k} {v:.3f}" for k, v in t.items()))
    s = result.solver
    if "version" in s:
        lines.append(f"solver: HiGHS {s['version']} ({s.get('interface', 'highspy')}); "
                     f"options {s.get('options', {})}")
    for w in inst.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
