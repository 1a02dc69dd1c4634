"""The readable summary a person sees from ``optimizer solve`` (no ``--json``)."""

from __future__ import annotations

import math

import pandas as pd

from optimizer.results import Result


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(na_rep="-", float_format=lambda v: f"{v:,.2f}")


def render_summary(result: Result) -> str:
    inst = result.instance
    lines = [
        f"{inst.name}  ({inst.n_projects} projects, {inst.first_year}-{inst.last_year})",
        f"status: {result.status}   termination: {result.termination}",
        f"objective (total return, $B): {_fmt(result.objective, 6)}   "
        f"bound: {_fmt(result.bound, 6)}   gap: "
        + ("-" if result.gap is None else f"{result.gap:.4%}"),
    ]
    if inst.known_optimum is not None:
        lines.append(f"known optimum: {_fmt(inst.known_optimum, 8)}")
    if result.message and result.status not in ("optimal", "feasible"):
        lines.append(result.message)
    for c in result.conflicts:
        lines.append(f"  conflict: {c.message}")
    if result.has_plan:
        verdict = "every rule holds" if result.valid else "RULES BROKEN"
        lines.append(f"independent check: {verdict}")
        if result.check is not None:
            lines += [f"  - {v}" for v in result.check.violations]
        chosen = result.selected()
        lines.append("")
        lines.append(f"funded projects ({len(chosen)}), capital and return in $B:")
        shown = chosen.head(40)
        lines.append(_table(shown.set_index("id")) if len(shown) else "  (none)")
        if len(chosen) > len(shown):
            lines.append(f"  ... and {len(chosen) - len(shown)} more (use --out FILE.csv)")
        lines.append("")
        committed = result.check.total_capital if result.check else None
        lines.append(f"capital committed: {_fmt(committed, 6)} $B"
                     + (f" of {inst.budget_total:g}" if inst.budget_total is not None else ""))
        lines.append("")
        lines.append("capital by year ($B):")
        lines.append(_table(result.capital_by_year()))
        lines.append("")
        lines.append("capital by sector ($B):")
        lines.append(_table(result.capital_by_sector()))
        if inst.labor_capacity.size and (result.labor_by_year()["used"] > 0).any():
            lines.append("")
            lines.append("labor by year (specialists):")
            lines.append(_table(result.labor_by_year()))
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
