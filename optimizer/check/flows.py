"""The checker's own cash flows (format version 2, A2): for each funded project and
start year, one unit's disbursements and cash year by year, the memorandum's waterfall,
its NPV to Japan, its recovery year and its irr, in plain Python floats, one unit at a
time, from the program's tables, never from :mod:`formulations.waterfall` or the
prepared options, so that a mistake in either shows up as a disagreement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["unit_build", "unit_cash", "split", "present_value", "irr", "flows_of"]

RECOVERED = 1e-9


def unit_build(project: Mapping[str, Any], profile: pd.DataFrame, start: int,
               last: int) -> list[tuple[int, float, float]]:
    """(year, capital, labor) of one unit of ``project`` starting in ``start``: its
    profile rows or its even spread, shifted from its nominal start, then its
    reinvestments at start + k * reinvest_every up to ``last`` (capital only)."""
    nominal = int(project["start"])
    out: list[tuple[int, float, float]] = []
    if len(profile):
        for year, capital, labor in zip(profile["year"], profile["capital"], profile["labor"],
                                        strict=True):
            out.append((int(year) + start - nominal, float(capital), float(labor)))
    else:
        years = int(project["build_years"])
        for k in range(years):
            out.append((start + k, float(project["capital"]) / years, float(project["labor"])))
    every = int(project["reinvest_every"])
    if every > 0:
        k = 1
        while start + k * every <= last:
            out.append((start + k * every, float(project["reinvest_capital"]), 0.0))
            k += 1
    return out


def unit_cash(project: Mapping[str, Any], rows: pd.DataFrame, start: int,
              last_build_year: int) -> dict[int, float]:
    """Cash of one unit by year, after ``loss_rate``: ``annual_cash`` for
    ``operating_years`` from the year after its last build year, or its ``cash_flows``
    rows by offset from ``start``."""
    keep = 1.0 - float(project.get("loss_rate", 0.0) or 0.0)
    out: dict[int, float] = {}
    annual, years = project.get("annual_cash"), project.get("operating_years")
    if annual is not None and years is not None and math.isfinite(annual) \
            and math.isfinite(years):
        for k in range(int(years)):
            year = last_build_year + 1 + k
            out[year] = out.get(year, 0.0) + float(annual) * keep
    for offset, cash in zip(rows.get("offset", []), rows.get("cash", []), strict=True):
        year = start + int(offset)
        out[year] = out.get(year, 0.0) + float(cash) * keep
    return out


def split(disbursed: Mapping[int, float], cash: Mapping[int, float], rate: float,
          before: float, after: float) -> tuple[dict[int, float], dict[int, float]]:
    """The memorandum's waterfall year by year: (Japan's receipts J, balance B)."""
    years = sorted(set(disbursed) | set(cash))
    receipts: dict[int, float] = {}
    balances: dict[int, float] = {}
    balance = 0.0
    if not years:
        return receipts, balances
    for t in range(years[0], years[-1] + 1):
        owed = balance * (1.0 + rate) + disbursed.get(t, 0.0)
        c = cash.get(t, 0.0)
        if c > 0:
            paid = min(before * c, owed)
            receipts[t] = paid + after * (c - paid / before)
        else:
            paid = 0.0
            receipts[t] = 0.0
        balance = owed - paid
        balances[t] = balance
    return receipts, balances


def present_value(net: Mapping[int, float], rate: float, base: int) -> float:
    return math.fsum(v / (1.0 + rate) ** (t - base) for t, v in net.items())


def irr(net: Mapping[int, float]) -> float | None:
    """The rate at which ``net`` has NPV 0, where its sign changes exactly once (else
    None), by bisection."""
    values = [net[t] for t in sorted(net) if net[t] != 0.0]
    changes = sum(1 for a, b in zip(values, values[1:], strict=False) if (a < 0) != (b < 0))
    if changes != 1:
        return None
    base = min(net)

    def npv(rate: float) -> float:
        return present_value(net, rate, base)

    low, high = -0.999999, 1.0
    while npv(high) * npv(low) > 0 and high < 1e6:
        high *= 4.0
    if npv(high) * npv(low) > 0:
        return None
    for _ in range(200):
        mid = (low + high) / 2.0
        if (npv(mid) > 0) == (npv(low) > 0):
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


def flows_of(project: Mapping[str, Any], profile: pd.DataFrame, rows: pd.DataFrame,
             start: int, last: int, econ: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the checker needs of one unit of ``project`` started in ``start``:
    its build by year, its disbursements and cash, Japan's receipts and balance, its NPV
    at the discount rate and at the hurdle's rate, its recovery year and irr."""
    build = unit_build(project, profile, start, last)
    reinvest = int(project["reinvest_every"])
    nominal_years = [y for y, _c, _l in build[:len(profile) or int(project["build_years"])]]
    last_build = max(nominal_years)
    del reinvest
    disbursed: dict[int, float] = {}
    for year, capital, _labor in build:
        disbursed[year] = disbursed.get(year, 0.0) + capital
    cash = unit_cash(project, rows, start, last_build)
    own = project.get("deemed_rate")
    rate = float(own) if own is not None and math.isfinite(own) else \
        float(econ["deemed_rate"] or 0.0)
    receipts, balances = split(disbursed, cash, rate, float(econ["before"] or 1.0),
                               float(econ["after"] or 1.0))
    if not cash:
        receipts = {t: 0.0 for t in range(min(disbursed), max(disbursed) + 1)}
    net = {t: receipts.get(t, 0.0) - disbursed.get(t, 0.0)
           for t in set(receipts) | set(disbursed)}
    last_d = max(t for t, v in disbursed.items() if v > 0)
    recovered = None
    if cash:
        for t in sorted(balances):
            if t >= last_d and balances[t] <= RECOVERED:
                recovered = t
                break
    base = int(econ["base_year"])
    hurdle = econ.get("irr")
    return {"build": build, "disbursed": disbursed, "cash": cash, "receipts": receipts,
            "npv": present_value(net, float(econ["discount_rate"] or 0.0), base),
            "hurdle_npv": present_value(net, float(hurdle), base) if hurdle is not None
            else math.nan,
            "recovered": recovered, "irr": irr(net) if cash else None,
            "has_cash": bool(cash)}
