"""The readable summary a person sees from ``optimizer solve`` (no ``--json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from formulations import registry
from optimizer.results.economics import excluded
from optimizer.units import money, table

#: The most ruled-out starts the summary lists one by one.
EXCLUDED_SHOWN = 20

if TYPE_CHECKING:
    from optimizer.results.result import Result


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
    ruled_out = excluded(inst, limit=EXCLUDED_SHOWN + 1)
    if ruled_out:
        total = int((inst.options.excluded != 0).sum())
        lines.append(f"ruled out before the solve ({total} project start"
                     f"{'s' * (total != 1)}):")
        lines += [f"  {e['reason']}" for e in ruled_out[:EXCLUDED_SHOWN]]
        if total > EXCLUDED_SHOWN:
            lines.append(f"  ... and {total - EXCLUDED_SHOWN} more (see the JSON's `excluded`)")
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
        lines.append(f"funded projects ({len(chosen)}), capital and return in {cash}:")
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
