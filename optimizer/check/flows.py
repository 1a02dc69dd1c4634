"""The checker's own schedules and cash flows (format version 2, A1 and A2), from the
program's tables with pandas, never from :mod:`formulations.starts`,
:mod:`formulations.waterfall` or the prepared options, so that a mistake in either shows
up as a disagreement.

Where the model shifts a project's nominal profile by offsets from its start, this
module works in calendar years over the funded starts only: each funded (project, start)
is one row, its build and cash are merged onto it by project and placed in absolute
years, and the memorandum's waterfall runs year by year over a dense matrix of the
funded rows (one numpy vector a year).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["build_table", "cash_table", "split", "economics"]

RECOVERED = 1e-9


def _nominal_build(projects: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """One unit of every project by year of its nominal schedule: its profile rows, or
    its capital spread evenly over ``build_years`` from ``start`` (project, year,
    capital, labor)."""
    profiled = set(profiles["project"])
    spread = projects[~projects["id"].isin(profiled)]
    years = spread["build_years"].to_numpy(dtype=np.int64)
    at = np.repeat(np.arange(len(spread)), years)
    step = np.arange(len(at)) - np.repeat(np.cumsum(years) - years, years)
    frame = pd.DataFrame({
        "project": spread["id"].to_numpy()[at],
        "year": spread["start"].to_numpy(dtype=np.int64)[at] + step,
        "capital": (spread["capital"].to_numpy(dtype=float) / years)[at],
        "labor": spread["labor"].to_numpy(dtype=float)[at]})
    rows = profiles[profiles["project"].isin(set(projects["id"]))]
    return pd.concat([frame, rows[["project", "year", "capital", "labor"]]],
                     ignore_index=True)


def build_table(projects: pd.DataFrame, profiles: pd.DataFrame, starts: pd.DataFrame,
                last: int) -> pd.DataFrame:
    """Per funded (project, start) and calendar year: the capital and labor of ONE unit
    (project, start, year, capital, labor): its nominal schedule moved by start -
    ``start``, then its reinvestments at start + k * reinvest_every up to ``last``."""
    info = projects.set_index("id")
    nominal = _nominal_build(projects[projects["id"].isin(set(starts["project"]))], profiles)
    merged = starts[["project", "start"]].merge(nominal, on="project")
    merged["year"] = merged["year"] + merged["start"] - info["start"].reindex(
        merged["project"]).to_numpy(dtype=np.int64)
    every = info["reinvest_every"].reindex(starts["project"]).to_numpy(dtype=np.int64)
    again = info["reinvest_capital"].reindex(starts["project"]).to_numpy(dtype=float)
    begin = starts["start"].to_numpy(dtype=np.int64)
    count = np.where(every > 0, np.maximum((last - begin) // np.maximum(every, 1), 0), 0)
    at = np.repeat(np.arange(len(starts)), count)
    k = np.arange(len(at)) - np.repeat(np.cumsum(count) - count, count) + 1
    reinvest = pd.DataFrame({"project": starts["project"].to_numpy()[at],
                             "start": begin[at], "year": begin[at] + k * every[at],
                             "capital": again[at], "labor": 0.0})
    out = pd.concat([merged[["project", "start", "year", "capital", "labor"]], reinvest],
                    ignore_index=True)
    return out.astype({"start": np.int64, "year": np.int64})


def cash_table(projects: pd.DataFrame, cash_flows: pd.DataFrame, starts: pd.DataFrame,
               build: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Per funded (project, start) and calendar year: the cash of ONE unit after
    ``loss_rate`` (project, start, year, cash): ``annual_cash`` in each of its
    ``operating_years`` from the year after its last build year (its nominal schedule's
    last year, moved with it), or its ``cash_flows`` rows at start + offset."""
    info = projects.set_index("id")
    nominal = _nominal_build(projects[projects["id"].isin(set(starts["project"]))], profiles)
    last_year = nominal.groupby("project")["year"].max()
    last_build = last_year - info["start"].reindex(last_year.index).to_numpy()
    rows = starts[["project", "start"]].copy()
    annual = info["annual_cash"].reindex(rows["project"]).to_numpy(dtype=float)
    years = info["operating_years"].reindex(rows["project"]).to_numpy(dtype=float)
    has = np.isfinite(annual) & np.isfinite(years)
    count = np.where(has, np.nan_to_num(years), 0).astype(np.int64)
    at = np.repeat(np.arange(len(rows)), count)
    k = np.arange(len(at)) - np.repeat(np.cumsum(count) - count, count)
    first = rows["start"].to_numpy(dtype=np.int64) + last_build.reindex(
        rows["project"]).fillna(0).to_numpy(dtype=np.int64) + 1
    parts = [pd.DataFrame({"project": rows["project"].to_numpy()[at],
                           "start": rows["start"].to_numpy()[at], "year": first[at] + k,
                           "cash": annual[at]})]
    if len(cash_flows):
        tabled = rows.merge(cash_flows, on="project")
        parts.append(pd.DataFrame({"project": tabled["project"], "start": tabled["start"],
                                   "year": tabled["start"] + tabled["offset"].astype(np.int64),
                                   "cash": tabled["cash"].astype(float)}))
    out = pd.concat(parts, ignore_index=True).astype({"start": np.int64, "year": np.int64})
    keep = 1.0 - info["loss_rate"].reindex(out["project"]).to_numpy(dtype=float)
    out["cash"] = out["cash"].to_numpy(dtype=float) * keep
    return out


def split(disbursed: np.ndarray, cash: np.ndarray, rate: np.ndarray, before: float,
          after: float) -> tuple[np.ndarray, np.ndarray]:
    """The memorandum's waterfall over rows x calendar years: (J, B)."""
    balance = np.zeros(disbursed.shape[0])
    receipts = np.zeros_like(disbursed)
    balances = np.zeros_like(disbursed)
    for t in range(disbursed.shape[1]):
        owed = balance * (1.0 + rate) + disbursed[:, t]
        c = cash[:, t]
        paid = np.where(c > 0, np.minimum(before * c, owed), 0.0)
        receipts[:, t] = np.where(c > 0, paid + after * (c - paid / before), 0.0)
        balance = owed - paid
        balances[:, t] = balance
    return receipts, balances


def _irr(net: np.ndarray, years: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per row, the rate at which ``net`` (rows x years) has NPV 0 where its sign
    changes exactly once among its nonzero years (else NaN), by bisection."""
    sign = pd.DataFrame(np.sign(net)).replace(0.0, np.nan)
    previous = sign.ffill(axis=1).shift(1, axis=1)
    changes = ((sign != previous) & sign.notna() & previous.notna()).sum(axis=1).to_numpy()
    out = np.full(net.shape[0], np.nan)
    rows = np.flatnonzero(changes == 1)
    if not len(rows):
        return out
    sub, since = net[rows], (years[None, :] - first[rows][:, None]).astype(float)

    def npv(rate: np.ndarray) -> np.ndarray:
        return (sub * (1.0 + rate[:, None]) ** -since).sum(axis=1)

    low, high = np.full(len(rows), -0.999999), np.full(len(rows), 1.0)
    f_low, f_high = npv(low), npv(high)
    for _ in range(12):  # widen until the root is bracketed
        wide = f_low * f_high > 0
        if not wide.any():
            break
        high = np.where(wide, high * 4.0, high)
        f_high = np.where(wide, npv(high), f_high)
    bracketed = f_low * f_high <= 0
    positive = f_low > 0
    for _ in range(64):  # bisection: the bracket's width falls below 1e-18
        mid = (low + high) / 2.0
        same = (npv(mid) > 0) == positive
        low, high = np.where(same, mid, low), np.where(same, high, mid)
    out[rows] = np.where(bracketed, (low + high) / 2.0, np.nan)
    return out


def economics(projects: pd.DataFrame, build: pd.DataFrame, cash: pd.DataFrame,
              starts: pd.DataFrame, econ: Mapping[str, Any]) -> dict[str, Any]:
    """Per funded (project, start), for ONE unit: disbursed and Japan's receipts by year,
    NPV at the discount rate and at the hurdle's, the recovery year and irr."""
    info = projects.set_index("id")
    key = pd.MultiIndex.from_frame(starts[["project", "start"]])
    row_of = pd.Series(np.arange(len(starts)), index=key)
    lo = int(min(build["year"].min(), cash["year"].min() if len(cash) else math.inf))
    hi = int(max(build["year"].max(), cash["year"].max() if len(cash) else -math.inf))
    years = np.arange(lo, hi + 1)
    d = np.zeros((len(starts), len(years)))
    c = np.zeros_like(d)
    at = row_of.reindex(pd.MultiIndex.from_frame(build[["project", "start"]])).to_numpy()
    np.add.at(d, (at, build["year"].to_numpy() - lo), build["capital"].to_numpy(dtype=float))
    if len(cash):
        at = row_of.reindex(pd.MultiIndex.from_frame(cash[["project", "start"]])).to_numpy()
        np.add.at(c, (at, cash["year"].to_numpy() - lo), cash["cash"].to_numpy(dtype=float))
    own = info["deemed_rate"].reindex(starts["project"]).to_numpy(dtype=float)
    rate = np.where(np.isfinite(own), own, float(econ["deemed_rate"] or 0.0))
    j, b = split(d, c, rate, float(econ["before"] or 1.0), float(econ["after"] or 1.0))
    has_cash = (c != 0).any(axis=1)
    j[~has_cash] = 0.0
    net = j - d
    base = int(econ["base_year"])

    def present(rho: float) -> np.ndarray:
        return net @ (1.0 + rho) ** -(years - base).astype(float)

    flows = (d != 0) | (c != 0)
    last_flow = np.where(flows.any(axis=1), flows.shape[1] - 1 - flows[:, ::-1].argmax(axis=1),
                         -1)
    spent = d > 0
    last_d = spent.shape[1] - 1 - spent[:, ::-1].argmax(axis=1)
    cols = np.arange(len(years))[None, :]
    ok = (b <= RECOVERED) & (cols >= last_d[:, None]) & (cols <= last_flow[:, None])
    ok &= has_cash[:, None]
    recovered = np.where(ok.any(axis=1), years[ok.argmax(axis=1)], -1)
    first = years[np.where(flows.any(axis=1), flows.argmax(axis=1), 0)]
    hurdle = econ.get("irr")
    irr = _irr(np.where(has_cash[:, None], net, 0.0), years, first)
    return {"years": years, "disbursed": d, "received": j,
            "npv": present(float(econ["discount_rate"] or 0.0)),
            "hurdle_npv": present(float(hurdle)) if hurdle is not None
            else np.full(len(starts), np.nan),
            "recovered": recovered, "irr": irr, "has_cash": has_cash}
