"""The parts of a result that version 2 adds (A3): each funded start's economics under
the memorandum's split (from the checker's own recomputation, never the model's
arrays), and the projects and start years that a rule rules out before any solve (the
commitment deadline, the per-project hurdle), each with its reason in words."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from formulations import registry

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["version_2_parts", "excluded", "economics_part"]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def excluded(instance: Instance) -> list[dict[str, Any]]:
    """Every option (project, start year) a rule rules out, in option order: id, start,
    the rule and its reason, as each rule's family words it."""
    options = instance.options
    left = np.flatnonzero(options.excluded != 0)
    found: dict[int, tuple[str, str]] = {}
    for family in registry.FAMILIES:  # the first family that words an option, words it
        if not len(left):
            break
        mine = family.excluded_reasons(instance, left)
        found.update(mine)
        left = left[~np.isin(left, np.fromiter(mine, dtype=np.int64, count=len(mine)))]
    ids = instance.ids
    return [{"id": str(ids[options.project[k]]), "start": int(options.start[k]),
             "rule": found[k][0], "reason": found[k][1]} for k in sorted(found)]


def economics_part(result: Result) -> dict[str, Any] | None:
    """The result's ``economics`` (A3): total NPV to Japan, receipts and disbursements by
    year, and per funded (project, start): units, NPV, irr (null where none) and the
    recovery year (null where never); None without cash flows."""
    usage = result.check.usage if result.check is not None else None
    if usage is None or not len(usage.economics):
        return None
    cash = usage.cash
    by_year = cash.groupby("year")[["received", "disbursed"]].sum()
    projects = [{"id": str(row.project), "start": int(row.start), "units": int(row.units),
                 "npv": float(row.npv), "irr": _num(row.irr),
                 "recovered_in": None if row.recovered_in is None
                 or not math.isfinite(row.recovered_in) else int(row.recovered_in)}
                for row in usage.economics.itertuples(index=False)]
    return {"npv": math.fsum(usage.economics["npv"].tolist()),
            "receipts_by_year": {str(int(y)): float(v)
                                 for y, v in by_year["received"].items()},
            "disbursed_by_year": {str(int(y)): float(v)
                                  for y, v in by_year["disbursed"].items()},
            "projects": projects}


def version_2_parts(result: Result, plan: bool) -> dict[str, Any]:
    """The keys a version-2 result adds to its JSON: ``economics`` (with cash flows and
    a plan) and ``excluded``."""
    out: dict[str, Any] = {}
    econ = economics_part(result) if plan else None
    if econ is not None:
        out["economics"] = econ
    out["excluded"] = excluded(result.instance)
    return out
