"""Cash flows and the memorandum's split (format version 2, A2), per unit and start year,
computed before the model with numpy, vectorised over the units: the model stays linear.

For a unit starting in year s, D_t is the capital it disburses (its shifted profile or
spread, plus reinvestments inside the horizon) and C_t its cash after ``loss_rate``.
With B = 0 before its first year, in every year of its flows:

    owed_t = B_{t-1} (1 + r) + D_t
    paid_t = min(before C_t, owed_t)                    if C_t > 0, else 0
    J_t    = paid_t + after (C_t - paid_t / before)     if C_t > 0, else 0
    B_t    = owed_t - paid_t

J_t is Japan's receipt. The unit's NPV to Japan is sum_t (J_t - D_t) / (1 + rho)^(t -
base_year); its recovery year the first t at or after its last disbursement with
B_t <= 1e-9. Units of one project whose flows differ only by their start share one
waterfall (a start shifts the flows, it does not change them): the waterfall runs once
per project and number of reinvestments, over their offsets from the start, a loop over
offsets with every such group in one numpy vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["Flows", "waterfall", "unit_flows", "cash_entries", "economics_of", "has_economics",
           "RECOVERED"]

#: A balance at or below this is recovered.
RECOVERED = 1e-9
#: The most cells (groups x offsets) one pass of the waterfall holds at once.
_CHUNK_CELLS = 1 << 22


def economics_of(instance: Instance) -> dict[str, Any]:
    """The program's economics (the ``economics`` and ``project_hurdle`` params of
    :mod:`formulations.economics`) with their defaults filled in."""
    p = instance.params
    return {"base_year": p.get("base_year") or instance.first_year,
            "discount_rate": p.get("discount_rate"), "deemed_rate": p.get("deemed_rate"),
            "before": p.get("split_before"), "after": p.get("split_after"),
            "objective": p.get("objective") or "return",
            "irr": p.get("project_hurdle_irr"),
            "recover_within": p.get("project_hurdle_recover_within")}


def has_economics(instance: Instance) -> bool:
    """Whether a program's units have flows to value: cash flows (either form), an NPV
    objective, the per-project hurdle or a recycled budget (version 2 only)."""
    if instance.version < 2:
        return False
    econ = economics_of(instance)
    cash = instance.tables.get("cash_flows")
    return bool(econ["objective"] == "npv" or econ["irr"] is not None
                or econ["recover_within"] is not None
                or instance.params.get("budget_recycle")
                or (cash is not None and len(cash) > 0)
                or np.isfinite(instance.projects["annual_cash"].to_numpy(dtype=float)).any())


def waterfall(d: np.ndarray, c: np.ndarray, r: np.ndarray, before: float, after: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Japan's receipts J and the balance B of the memorandum's split, for rows of
    disbursements ``d`` and cash ``c`` by offset (rows x offsets), deemed rate ``r``
    per row: (J, B), each rows x offsets."""
    rows, length = d.shape
    balance = np.zeros(rows)
    receipts = np.zeros((rows, length))
    balances = np.zeros((rows, length))
    growth = 1.0 + np.asarray(r, dtype=float)
    for t in range(length):
        owed = balance * growth + d[:, t]
        cash = c[:, t]
        positive = cash > 0
        paid = np.where(positive, np.minimum(before * cash, owed), 0.0)
        receipts[:, t] = np.where(positive, paid + after * (cash - paid / before), 0.0)
        balance = owed - paid
        balances[:, t] = balance
    return receipts, balances


@dataclass(frozen=True)
class Flows:
    """A unit's flows per option: its NPV to Japan at the discount rate (to the base
    year) and at the hurdle's rate, its recovery year (-1: never), whether it has cash,
    and Japan's receipts per unit (option, year, amount) over every year of its flows."""

    npv: np.ndarray
    hurdle_npv: np.ndarray
    recovered: np.ndarray
    has_cash: np.ndarray
    receipt_option: np.ndarray
    receipt_year: np.ndarray
    receipt_amount: np.ndarray


def cash_entries(projects: pd.DataFrame, cash_flows: pd.DataFrame, last_build: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(project, offset from the start, cash after loss_rate) of one unit of every
    project: ``annual_cash`` over ``operating_years`` from the year after its last build
    year, or its rows of ``cash_flows``."""
    ids = projects["id"].to_numpy()
    annual = projects["annual_cash"].to_numpy(dtype=float)
    years = projects["operating_years"].to_numpy(dtype=float)
    keep = 1.0 - projects["loss_rate"].to_numpy(dtype=float)
    has = np.flatnonzero(np.isfinite(annual) & np.isfinite(years) & (years > 0))
    count = years[has].astype(np.int64)
    owner = np.repeat(has, count)
    offset = last_build[owner] + 1 + (np.arange(len(owner))
                                      - np.repeat(np.cumsum(count) - count, count))
    parts = [(owner, offset, (annual * keep)[owner])]
    if len(cash_flows):
        pos = pd.Index(ids).get_indexer(cash_flows["project"]).astype(np.int64)
        parts.append((pos, cash_flows["offset"].to_numpy(dtype=np.int64),
                      cash_flows["cash"].to_numpy(dtype=float) * keep[pos]))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore


def unit_flows(*, n_projects: int, build_project: np.ndarray, build_offset: np.ndarray,
               build_capital: np.ndarray, reinvest_every: np.ndarray,
               reinvest_capital: np.ndarray, cash_project: np.ndarray,
               cash_offset: np.ndarray, cash_amount: np.ndarray, deemed: np.ndarray,
               option_project: np.ndarray, option_start: np.ndarray, last: int,
               base_year: int, discount: float, hurdle: float | None, before: float,
               after: float) -> Flows:
    """The waterfall of every option (see the module), grouped by project and number of
    reinvestments inside the horizon."""
    k = len(option_project)
    every = reinvest_every[option_project]
    count = np.where(every > 0, np.maximum((last - option_start) // np.maximum(every, 1), 0),
                     0).astype(np.int64)
    key = option_project * (int(count.max(initial=0)) + 1) + count
    groups, group_of = np.unique(key, return_inverse=True)
    g_project = groups // (int(count.max(initial=0)) + 1)
    g_count = groups % (int(count.max(initial=0)) + 1)
    n_groups = len(groups)
    has_cash = np.zeros(n_projects, dtype=bool)
    has_cash[cash_project[cash_amount != 0]] = True

    # every group's entries: the build of its project, its reinvestments, its cash
    owner_of = _members(g_project, n_projects)
    d_rows, d_off, d_val = _expand(owner_of, build_project, build_offset, build_capital)
    r_rows = np.repeat(np.arange(n_groups), g_count)
    r_k = np.arange(len(r_rows)) - np.repeat(np.cumsum(g_count) - g_count, g_count) + 1
    r_off = r_k * reinvest_every[g_project[r_rows]]
    d_rows = np.concatenate([d_rows, r_rows])
    d_off = np.concatenate([d_off, r_off])
    d_val = np.concatenate([d_val, reinvest_capital[g_project[r_rows]]])
    c_rows, c_off, c_val = _expand(owner_of, cash_project, cash_offset, cash_amount)

    # a profile may begin before a start given in the projects table: each group's
    # offsets count from its first year (``origin`` <= 0 from the start)
    origin = np.zeros(n_groups, dtype=np.int64)
    np.minimum.at(origin, d_rows, d_off)
    np.minimum.at(origin, c_rows, c_off)
    d_off, c_off = d_off - origin[d_rows], c_off - origin[c_rows]
    length = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(length, d_rows, d_off + 1)
    np.maximum.at(length, c_rows, c_off + 1)
    last_d = np.full(n_groups, -1, dtype=np.int64)
    np.maximum.at(last_d, d_rows[d_val > 0], d_off[d_val > 0])

    g_npv = np.zeros(n_groups)
    g_hurdle = np.full(n_groups, np.nan)
    g_recovered = np.full(n_groups, -(1 << 40), dtype=np.int64)
    receipts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    order = np.argsort(length, kind="stable")
    at = 0
    while at < n_groups:
        width = max(int(length[order[min(n_groups - 1, at)]]), 1)
        size = max(1, _CHUNK_CELLS // width)
        chunk = order[at:at + size]
        width = max(int(length[chunk].max()), 1)
        local = np.full(n_groups, -1, dtype=np.int64)
        local[chunk] = np.arange(len(chunk))
        d = _dense(local, d_rows, d_off, d_val, len(chunk), width)
        c = _dense(local, c_rows, c_off, c_val, len(chunk), width)
        j, b = waterfall(d, c, deemed[g_project[chunk]], before, after)
        net = j - d
        years = np.arange(width, dtype=float)[None, :] + origin[chunk][:, None]
        g_npv[chunk] = (net * (1.0 + discount) ** -years).sum(axis=1)
        if hurdle is not None:
            g_hurdle[chunk] = (net * (1.0 + hurdle) ** -years).sum(axis=1)
        # recovery: the first offset at or after the last disbursement with B <= 1e-9
        offsets = np.arange(width)
        ok = (b <= RECOVERED) & (offsets[None, :] >= last_d[chunk][:, None])
        ok &= offsets[None, :] < length[chunk][:, None]
        found = ok.any(axis=1)
        g_recovered[chunk] = np.where(found, ok.argmax(axis=1) + origin[chunk], -1 << 40)
        rows, cols = np.nonzero(j)
        receipts.append((chunk[rows], cols + origin[chunk][rows], j[rows, cols]))
        at += len(chunk)

    shift = option_start - base_year
    npv = g_npv[group_of] * (1.0 + discount) ** -shift.astype(float)
    hurdle_npv = (g_hurdle[group_of] * (1.0 + hurdle) ** -shift.astype(float)
                  if hurdle is not None else np.full(k, np.nan))
    rec = g_recovered[group_of]
    recovered = np.where(rec > -(1 << 40), option_start + rec, -1)
    # receipts per option: each option's group's receipts at its start plus their offset
    g_rows = np.concatenate([r[0] for r in receipts]) if receipts else np.zeros(0, np.int64)
    g_cols = np.concatenate([r[1] for r in receipts]) if receipts else np.zeros(0, np.int64)
    g_vals = np.concatenate([r[2] for r in receipts]) if receipts else np.zeros(0)
    options_of = _members(group_of, n_groups)
    o_rows, o_off, o_val = _expand(options_of, g_rows, g_cols, g_vals)
    return Flows(npv, hurdle_npv, recovered, has_cash[option_project], o_rows,
                 option_start[o_rows] + o_off, o_val)


def _members(owner: np.ndarray, n_owners: int) -> tuple[np.ndarray, np.ndarray]:
    """(members sorted by owner, pointer per owner) of an owner-per-member array."""
    order = np.argsort(owner, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n_owners))])
    return order, ptr


def _expand(members: tuple[np.ndarray, np.ndarray], entry_owner: np.ndarray,
            entry_offset: np.ndarray, entry_value: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every member of an owner gets a copy of the owner's entries: (member, offset,
    value)."""
    order, ptr = members
    n_owners = len(ptr) - 1
    e_order = np.argsort(entry_owner, kind="stable")
    e_count = np.bincount(entry_owner, minlength=n_owners) if len(entry_owner) else \
        np.zeros(n_owners, dtype=np.int64)
    e_ptr = np.concatenate([[0], np.cumsum(e_count)])
    member_owner = np.repeat(np.arange(n_owners), np.diff(ptr))
    member = order
    per = e_count[member_owner]
    rows = np.repeat(member, per)
    at = np.repeat(e_ptr[member_owner], per) + (np.arange(per.sum())
                                                 - np.repeat(np.cumsum(per) - per, per))
    pick = e_order[at]
    return rows.astype(np.int64), entry_offset[pick].astype(np.int64), entry_value[pick]


def _dense(local: np.ndarray, rows: np.ndarray, offsets: np.ndarray, values: np.ndarray,
           n_rows: int, width: int) -> np.ndarray:
    """The entries of the rows ``local`` maps (to 0..n_rows-1) as a dense matrix."""
    out = np.zeros((n_rows, width))
    mine = local[rows] >= 0
    np.add.at(out, (local[rows[mine]], offsets[mine]), values[mine])
    return out
