"""Synthetic ``capital-portfolio/2`` programs, part A (time and money): the projects of
:func:`optimizer.program.generate.generate` for the same seed (drawn by the same code, in
the same order), given start windows, cash flows and the memorandum's split.

What version 2 adds, and the fixed choices (``optimizer generate --format 2`` states them):

- start windows of up to three years around each project's nominal start, inside the
  horizon (``earliest_start`` / ``latest_start``; about 40% of projects keep one year);
- ``commitment_deadline`` two thirds of the way through the horizon (first year +
  2 (years - 1) // 3: 2032 for 2026-2035);
- cash flows: about 85% of projects ``annual_cash`` + ``operating_years`` (a sector's
  cash yield on the unit's capital, over a sector's operating life), 10% a ``cash_flows``
  table (``cash.csv``: a ramp-up, a plateau and a decline), 5% none; ``loss_rate`` on a
  quarter of the projects with cash, ``deemed_rate`` (a higher spread) on a tenth;
- ``economics``: base year = first year, ``discount_rate`` 0.05, ``deemed_rate`` 0.055
  (benchmark plus spread), split 0.5 / 0.1, ``objective: npv``;
- ``project_hurdle: {irr: 0.06, recover_within: 20}`` and ``budget.recycle: true``
  (both on by default; ``project_hurdle=False`` / ``recycle=False`` leave them out);
  version 1's ``hurdle_rate`` at 0.05 (on ``return``, which version 1 draws);
- about half of the ``requires`` dependencies with a ``lag`` of 0, 1 or 2 years.

Feasible by construction, as in version 1: every (project, start year) is valued with the
waterfall of the format (:func:`unit_values`), each project is given the admissible start
(at or before the deadline, passing the hurdle) of its best NPV, and the caps, the forced
projects and a witness plan are set on those starts. A witness within ``budget.total``
meets every recycled row too (receipts are never negative). The budget binds: it is 30-40%
of the capital of the projects with a positive NPV at some admissible start, and the yearly
and labor caps are set looser than in version 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.waterfall import unit_flows
from optimizer.program.generate import (
    _LIMIT,
    _MONEY,
    HURDLE_RATE,
    GeneratedProgram,
    _ceil,
    _checked,
    _draw,
    _labor_cap,
    _round,
    _sectors,
    _tables,
    blank_float,
    blank_int,
)

__all__ = ["generate_v2", "unit_values", "FORMAT_V2", "ECONOMICS", "PROJECT_HURDLE"]

FORMAT_V2 = "capital-portfolio/2"
DISCOUNT_RATE, DEEMED_RATE, SPLIT = 0.05, 0.055, (0.5, 0.1)
ECONOMICS: dict[str, Any] = {"discount_rate": DISCOUNT_RATE, "deemed_rate": DEEMED_RATE,
                             "split": {"before": SPLIT[0], "after": SPLIT[1]},
                             "objective": "npv"}
PROJECT_HURDLE = {"irr": 0.06, "recover_within": 20}
#: sector: (median cash yield of a unit's capital per operating year, operating years)
_CASH = {"semiconductors": (0.30, (12, 20)), "ai_infrastructure": (0.38, (8, 14)),
         "energy": (0.25, (20, 35)), "shipbuilding": (0.25, (15, 25)),
         "critical_minerals": (0.28, (12, 22))}
#: budget.total as a share of the capital of the valuable projects; the yearly caps as a
#: multiple of the budget's share of a year (at least 1 / years); specialists relative to
#: version 1's (after its scarce first years, 1.5 times more again); the sector ceilings'
#: shares of the budget relative to version 1's. Recycled receipts let a plan commit more
#: than budget.total, and all of these are set so that the budget rows bind before them
#: (with several kinds of rows binding at once, HiGHS takes minutes at 2,000 projects)
_BUDGET_SHARE, _YEAR_SLACK, _YEAR_FLOOR, _LABOR_SLACK = (0.30, 0.40), 3.0, 1.0, 1.6
_CEILING, _LATE_LABOR = 2.5, 1.5
#: version 1's portfolio hurdle on ``return``, lower: the objective is the NPV now, and a
#: portfolio chosen for it clears 10% on ``return`` only by chance (the witness clears 10%)
_HURDLE_RATE = 0.05
_COLUMNS_V2 = ["earliest_start", "latest_start", "annual_cash", "operating_years",
               "loss_rate", "deemed_rate"]


def _expand(owner: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with ``counts[owner]`` entries each: (item of every entry, its step)."""
    k = counts[owner]
    item = np.repeat(np.arange(len(owner)), k)
    return item, np.arange(len(item)) - np.repeat(np.cumsum(k) - k, k)


def unit_values(d: Any, col_proj: np.ndarray, col_start: np.ndarray, cash: dict,
                rates: tuple[float, float, float], split: tuple[float, float],
                deemed: np.ndarray) -> dict[str, np.ndarray]:
    """The waterfall of every unit (``col_proj[c]`` started in ``col_start[c]``), by the
    model's own :func:`formulations.waterfall.unit_flows`. ``rates`` = (discount rate,
    hurdle irr, base year); ``cash`` = {"annual", "years", "offset", "table" (sparse
    projects x offsets), "loss"}; ``deemed`` by project. Returns npv (at the discount
    rate, to the base year), npv_irr (at the hurdle irr), recovered (offset from the
    start, -1 for never) and total capital."""
    rho, irr, base = rates
    before, after = split
    # one unit's build by offset: the even spread, or the profile rows
    spread = np.flatnonzero(~d.profiled)
    item, step = _expand(spread, d.build)
    owner = spread[item]
    b_proj = np.concatenate([owner, d.p_owner]).astype(np.int64)
    b_off = np.concatenate([step, d.p_year - d.start[d.p_owner]]).astype(np.int64)
    b_cap = np.concatenate([(d.capital / np.maximum(d.build, 1))[owner], d.p_capital])
    ends = np.where(d.profiled, 0, d.build - 1)             # the last build or profile year
    np.maximum.at(ends, d.p_owner, d.p_year - d.start[d.p_owner])
    # its cash after loss_rate: annual_cash from the year after the build, or the table
    keep = 1.0 - cash["loss"]
    paying = np.flatnonzero(cash["years"] > 0)
    item, step = _expand(paying, cash["years"].astype(np.int64))
    table = cash["table"].tocoo()
    c_proj = np.concatenate([paying[item], table.row]).astype(np.int64)
    c_off = np.concatenate([ends[paying[item]] + 1 + step, table.col]).astype(np.int64)
    c_val = np.concatenate([(cash["annual"] * keep)[paying[item]], table.data * keep[table.row]])
    flows = unit_flows(
        n_projects=d.n, build_project=b_proj, build_offset=b_off, build_capital=b_cap,
        reinvest_every=d.every.astype(np.int64), reinvest_capital=d.again.astype(float),
        cash_project=c_proj, cash_offset=c_off, cash_amount=c_val, deemed=deemed,
        option_project=col_proj.astype(np.int64), option_start=col_start.astype(np.int64),
        last=d.last, base_year=int(base), discount=float(rho), hurdle=float(irr),
        before=float(before), after=float(after))
    count = np.where(d.every[col_proj] > 0,
                     (d.last - col_start) // np.maximum(d.every[col_proj], 1), 0).clip(0)
    recovered = np.where(flows.recovered >= 0, flows.recovered - col_start, -1)
    return {"npv": flows.npv, "npv_irr": flows.hurdle_npv, "recovered": recovered,
            "total": d.capital[col_proj] + count * d.again[col_proj]}


def _yearly(d: Any, chosen: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capital and labor by (project, horizon year) of one unit of every ``chosen`` project
    started in ``start`` (spread or shifted profile, and reinvestments)."""
    n, Y, first, last = d.n, d.Y, d.first, d.last
    cap, lab = np.zeros((n, Y)), np.zeros((n, Y))
    spread = np.flatnonzero(chosen & ~d.profiled)
    item, step = _expand(spread, d.build)
    owner = spread[item]
    col = start[owner] + step - first
    inside = col < Y
    np.add.at(cap, (owner[inside], col[inside]), (d.capital / d.build)[owner[inside]])
    np.add.at(lab, (owner[inside], col[inside]), d.labor[owner[inside]])
    keep = chosen[d.p_owner]
    owner = d.p_owner[keep]
    col = d.p_year[keep] - d.start[owner] + start[owner] - first
    inside = col < Y
    np.add.at(cap, (owner[inside], col[inside]), d.p_capital[keep][inside])
    np.add.at(lab, (owner[inside], col[inside]), d.p_labor[keep][inside])
    every = np.where(chosen, d.every, 0)
    count = np.where(every > 0, (last - start) // np.maximum(every, 1), 0).clip(0)
    owner = np.repeat(np.arange(n), count)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count) + 1
    np.add.at(cap, (owner, start[owner] + k * every[owner] - first), d.again[owner])
    return cap, lab


def generate_v2(n_projects: int, years: int = 10, seed: int = 0, first_year: int = 2026, *,
                project_hurdle: bool = True, recycle: bool = True) -> GeneratedProgram:
    """A feasible synthetic version-2 (part A) program; see the module's text."""
    n, years, first_year = _checked(n_projects, years, first_year)
    rng = np.random.default_rng(seed)
    d = _draw(rng, n, years, first_year)
    first, last, Y, names = d.first, d.last, d.Y, d.names
    deadline = first + (2 * (years - 1)) // 3
    fin = d.force == "in"
    d.start = np.where(fin, np.minimum(d.start, deadline), d.start)  # forced: startable

    # ------------------------------------------------------------------ start windows
    width = rng.choice([1, 2, 3], size=n, p=[0.4, 0.3, 0.3])
    early = (rng.random(n) * width).astype(np.int64)       # years before the nominal start
    earliest = np.maximum(first, d.start - early)
    latest = np.minimum(last, d.start + width - 1 - early)

    # -------------------------------------------------------------------- cash flows
    median = np.array([_CASH[s][0] for s in names])[d.sector]
    low, high = (np.array([_CASH[s][1][k] for s in names])[d.sector] for k in (0, 1))
    kind = np.where(fin, 0, rng.choice(3, size=n, p=[0.85, 0.10, 0.05]))
    cash_yield = median * rng.lognormal(0.0, 0.3, n)
    cash_yield[fin] = 2.0 * median[fin]          # forced projects: sound ones, that can start
    annual = np.where(kind == 0, _round(d.capital * cash_yield, _MONEY), 0.0)
    op_years = np.where(fin, high, np.where(kind == 0, rng.integers(low, high + 1), 0))
    has_loss = (kind < 2) & ~fin & (rng.random(n) < 0.25)
    loss = np.where(has_loss, _round(rng.uniform(0.02, 0.2, n), _MONEY), 0.0)
    has_rate = (kind < 2) & ~fin & (rng.random(n) < 0.10)
    rate = np.where(has_rate, _round(DEEMED_RATE + rng.uniform(0.005, 0.03, n), _MONEY),
                    DEEMED_RATE)
    tabled = np.flatnonzero(kind == 1)
    t_len = rng.integers(low[tabled], high[tabled] + 1)
    t_item, t_step = _expand(np.arange(len(tabled)), t_len)
    t_owner = tabled[t_item]
    ends = np.where(d.profiled, 0, d.build - 1)
    np.maximum.at(ends, d.p_owner, d.p_year - d.start[d.p_owner])
    ramp = np.minimum(1.0, (t_step + 1) / 3.0) * np.where(t_step >= 2 * t_len[t_item] / 3,
                                                          0.7, 1.0)
    t_cash = _round(np.maximum(d.capital[t_owner] * cash_yield[t_owner] * ramp
                               * rng.lognormal(0.0, 0.1, len(t_owner)), 1e-4), _MONEY)
    t_offset = ends[t_owner] + 1 + t_step
    table = sp.csr_array((t_cash, (t_owner, t_offset)),
                         shape=(n, int(t_offset.max(initial=0)) + 1))
    cash = {"annual": annual, "years": op_years, "table": table, "loss": loss}

    # --------------------------------------------- every admissible (project, start)
    stop = np.minimum(latest, deadline)
    counts = np.maximum(0, stop - earliest + 1)
    col_proj, step = _expand(np.arange(n), counts)
    col_start = earliest[col_proj] + step
    values = unit_values(d, col_proj, col_start, cash,
                         (DISCOUNT_RATE, float(PROJECT_HURDLE["irr"]), first), SPLIT, rate)
    ok = np.ones(len(col_proj), dtype=bool)
    if project_hurdle:
        rec = values["recovered"]
        ok = (values["npv_irr"] >= -1e-9) & (rec >= 0) & (rec <= PROJECT_HURDLE["recover_within"])
    # each project's admissible start of best NPV (its witness start)
    good = np.flatnonzero(ok)
    order = good[np.lexsort((-values["npv"][good], col_proj[good]))]
    projects_ok, at = np.unique(col_proj[order], return_index=True)
    best = order[at]
    has_start = np.zeros(n, dtype=bool)
    has_start[projects_ok] = True
    w_start = d.start.copy()
    w_start[projects_ok] = col_start[best]
    w_npv, w_total = np.zeros(n), np.zeros(n)
    w_npv[projects_ok], w_total[projects_ok] = values["npv"][best], values["total"][best]
    force = d.force.copy()
    force[fin & ~has_start] = ""           # (a forced project that could not start: none seen)
    fin = force == "in"
    d.force = force
    returns = d.returns.copy()                            # forced ones clear the hurdle
    returns[fin] = np.maximum(returns[fin], _round(HURDLE_RATE * 1.01 * w_total[fin] + 1e-4,
                                                   _MONEY))
    d.returns = returns

    # ------------------------------------------------------------------------ limits
    year_cap, year_lab = _yearly(d, has_start, w_start)
    valuable = has_start & (w_npv > 0) & (force != "out")
    units = d.max_units[:, None]
    proposed = float((w_total * d.max_units)[valuable].sum()) or float(d.capital.sum())
    budget_total = _round(proposed * rng.uniform(*_BUDGET_SHARE), _LIMIT).item()
    demand = (year_cap * units)[valuable].sum(axis=0)
    share = np.maximum(demand / max(demand.sum(), 1e-12), _YEAR_FLOOR / Y) * _YEAR_SLACK
    labor_cap = _labor_cap(rng, _LABOR_SLACK * (year_lab * units)[valuable].sum(axis=0))
    labor_cap[max(1, round(0.2 * Y)):] *= _LATE_LABOR     # scarce early only (version 1)
    need_cap, need_lab = year_cap[fin].sum(axis=0), year_lab[fin].sum(axis=0)
    per_year_cap = np.array([_ceil(v, _LIMIT) for v in
                             np.maximum(budget_total * share, need_cap * 1.05)])
    labor_cap = np.maximum(labor_cap, np.ceil(need_lab * 1.05) + 1)
    labor_cap = np.maximum(labor_cap, year_lab.max(axis=0))  # labor alone bars none
    budget_total = max(budget_total, _ceil(float(w_total[fin].sum()) * 1.05, _LIMIT))
    eligible = ~fin & (force == "") & ~d.in_dependency & has_start & (w_npv > 0)
    sectors = _sectors(rng, d, fin, eligible, w_total, returns, (year_cap, year_lab),
                       (budget_total, per_year_cap, labor_cap), _CEILING)

    # ------------------------------------------------------------------------ tables
    lags = rng.choice(4, size=len(d.req), p=[0.4, 0.2, 0.2, 0.2]) - 1
    dependencies = [dict(dep) for dep in d.dependencies]
    for dep, lag in zip(dependencies, lags, strict=False):   # the requires come first
        if lag >= 0:
            dep["lag"] = int(lag)
    projects, profiles = _tables(rng, d)
    for name, values_ in zip(_COLUMNS_V2, (
            blank_int(earliest, earliest != d.start), blank_int(latest, latest != d.start),
            blank_float(annual, kind == 0), blank_int(op_years, kind == 0),
            blank_float(loss, has_loss), blank_float(rate, has_rate)), strict=True):
        projects[name] = values_
    cash_flows = pd.DataFrame({"project": d.ids[t_owner].astype(object),
                               "offset": t_offset.astype(np.int64), "cash": t_cash})
    budget: dict[str, Any] = {"total": float(budget_total)}
    if recycle:
        budget["recycle"] = True
    budget["per_year"] = {first + t: float(per_year_cap[t]) for t in range(Y)}
    program: dict[str, Any] = {
        "format": FORMAT_V2,
        "name": f"US-Japan strategic investment program (synthetic, version 2: {n} projects, "
                f"seed {seed})",
        "horizon": [first, last],
        "commitment_deadline": int(deadline),
        "budget": budget,
        "hurdle_rate": _HURDLE_RATE,
        "economics": {"base_year": first, **ECONOMICS},
        **({"project_hurdle": dict(PROJECT_HURDLE)} if project_hurdle else {}),
        "sectors": sectors,
        "labor": {"capacity": {first + t: int(labor_cap[t]) for t in range(Y)}},
        "projects": "projects.csv",
        **({} if profiles.empty else {"profiles": "profiles.csv"}),
        **({} if cash_flows.empty else {"cash_flows": "cash.csv"}),
        "dependencies": dependencies,
    }
    return GeneratedProgram(program=program, projects=projects, profiles=profiles,
                            cash_flows=cash_flows)
