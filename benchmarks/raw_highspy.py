"""The raw highspy reference: a ``capital-portfolio/1`` or ``/2`` program solved with numpy,
scipy.sparse and one ``passModel`` call, with no model layer and nothing imported from
this project.

It reads the program file (YAML or JSON, with pandas for the CSV tables), builds the
exact model of section 4 of the instance format as a column-wise matrix and hands it to
HiGHS in a single ``HighsLp``. It checks only what it needs to build the model; run the
project's own loader for validation.

Model: one integer column u_i in [0, max_units_i] per project (in file row order), and a
binary z_i only where max_units_i > 1 (for max_units_i == 1, z_i is u_i itself). Rows:
total budget; capital in every capped year; sector min/max (one ranged row per sector);
labor in every capped year; hurdle sum_i (r_i - h C_i) u_i >= 0; requires z_a - z_b <= 0;
excludes sum z <= 1; linking u_i - M_i z_i <= 0 and z_i - u_i <= 0. Force in: lower
bound 1; force out: upper bound 0.

A ``capital-portfolio/2`` file (part A: start windows, commitment deadline, requires with
lag, cash flows, the memorandum's waterfall, objective npv, project_hurdle,
budget.recycle) is built by :func:`build_lp_v2`: one integer column per project and
admissible start year, the profile shifted per start with numpy, the waterfall vectorised
over those columns (:func:`unit_flows`, one step per year offset). It is checked against
exhaustive enumeration in ``tests/test_raw_highspy_v2.py``. A version-1 file takes the
version-1 path above, unchanged.

    python benchmarks/raw_highspy.py PROGRAM.yaml [--time-limit S] [--gap 1e-4]
        [--threads 1] [--presolve off|on|choose] [--seed 0] [--units]

prints one JSON line: status, model_status, objective, bound, gap, timings, funded (and
units with --units, and for a version-2 file starts: per project, {year: units started});
exits 0 with a plan, 3 if infeasible, 4 with no plan at a limit.
Timings: load = reading the files; build = the model arrays, the matrix and the HighsLp;
solve = Highs(), options, passModel and run; total = all of it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

__all__ = ["solve_file", "read_program", "build_lp", "build_lp_v2", "unit_flows"]

V2 = "capital-portfolio/2"


# ----------------------------------------------------------------------- reading
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML with only true/false as booleans, so the key ``on`` stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _table(spec: Any, base: Path) -> pd.DataFrame:
    if isinstance(spec, str):
        return pd.read_csv(base / spec, skipinitialspace=True,
                           dtype={"id": str, "name": str, "sector": str, "force": str,
                                  "project": str})
    return pd.DataFrame.from_records(list(spec))


def read_program(path: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame | None]:
    """(program mapping, projects table, profiles table or None) as read from disk. In a
    version-2 file, ``doc["cash_flows"]`` is replaced by its table, read the same way."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, _Loader)
    doc = {str(k): v for k, v in doc.items()}
    projects = _table(doc["projects"], path.parent)
    profiles = _table(doc["profiles"], path.parent) if doc.get("profiles") else None
    if doc.get("format") == V2 and doc.get("cash_flows") is not None:
        doc["cash_flows"] = _table(doc["cash_flows"], path.parent)
    return doc, projects, profiles


# ---------------------------------------------------------------------- building
def _col(frame: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(values), default, values)


def _by_year(mapping: Mapping | None, first: int, years: int) -> np.ndarray:
    """{year: limit} as an array over the horizon, NaN where the year has no cap."""
    out = np.full(years, np.nan)
    for key, value in (mapping or {}).items():
        if value is not None and first <= int(key) < first + years:
            out[int(key) - first] = float(value)
    return out


def _columns(projects: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The projects' columns of version 1, blanks as the format defines them: capital,
    return, start, build_years, labor, reinvest_every, reinvest_capital, max_units,
    force."""
    n = len(projects)
    return (_col(projects, "capital", np.nan), _col(projects, "return", 0.0),
            _col(projects, "start", np.nan),
            _col(projects, "build_years", 1.0).astype(np.int64),
            _col(projects, "labor", 0.0),
            _col(projects, "reinvest_every", 0.0).astype(np.int64),
            _col(projects, "reinvest_capital", 0.0),
            _col(projects, "max_units", 1.0).astype(np.int64),
            projects["force"].fillna("").astype(str).str.strip().to_numpy()
            if "force" in projects.columns else np.full(n, "", dtype=object))


def _assemble(rows_r: list, rows_c: list, rows_v: list, lower: list, upper: list,
              n_row: int, n_col: int) -> tuple[sp.csc_array, np.ndarray, np.ndarray]:
    """The rows added so far as one column-wise matrix with their limits, without the
    rows that hold no entry and admit 0 (as the project's model: such a row is no rule)."""
    matrix = sp.csc_array((np.concatenate(rows_v),
                           (np.concatenate(rows_r), np.concatenate(rows_c))),
                          shape=(n_row, n_col))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    lower_all, upper_all = np.concatenate(lower), np.concatenate(upper)
    empty = np.diff(matrix.tocsr().indptr) == 0
    keep_rows = ~(empty & (lower_all <= 0) & (upper_all >= 0))
    return matrix.tocsr()[keep_rows].tocsc(), lower_all[keep_rows], upper_all[keep_rows]


def _yearly_rows(add: Any, limits: np.ndarray, years: int, col: np.ndarray,
                 owner: np.ndarray, values: np.ndarray) -> None:
    """One row per capped year: sum of ``values`` (entries of column ``owner`` in year
    ``col``) <= that year's limit."""
    capped = np.flatnonzero(~np.isnan(limits))
    row_of = np.full(years, -1)
    row_of[capped] = np.arange(len(capped))
    keep = row_of[col] >= 0
    add(row_of[col[keep]], owner[keep], values[keep], np.full(len(capped), -np.inf),
        limits[capped])


def _sectors(doc: dict, projects: pd.DataFrame
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(each project's sector, the sectors with a floor or ceiling, the row of each
    sector (-1: none), floors, ceilings)."""
    sectors = doc.get("sectors") or {}
    names = [str(s) for s in sectors]
    s_lo = np.array([float((sectors[s] or {}).get("min") or 0.0) for s in sectors])
    s_hi = np.array([float(v) if (v := (sectors[s] or {}).get("max")) is not None else np.inf
                     for s in sectors])
    s_index = pd.Index(names).get_indexer(projects["sector"].astype(str).str.strip())
    if (s_index < 0).any():
        raise ValueError("a project's sector is not named in sectors")
    ranged = np.flatnonzero((s_lo > 0) | (s_hi < np.inf))
    row_of = np.full(len(names), -1)
    row_of[ranged] = np.arange(len(ranged))
    return s_index, ranged, row_of, s_lo, s_hi


def build_lp(doc: dict, projects: pd.DataFrame, profiles: pd.DataFrame | None):
    """The section-4 model as a ``highspy.HighsLp`` (maximize), and the project count; for
    a version-2 file, :func:`build_lp_v2` (the HighsLp and its column layout)."""
    import highspy

    if doc.get("format") == V2:
        return build_lp_v2(doc, projects, profiles)

    first, last = (int(v) for v in doc["horizon"])
    years = last - first + 1
    n = len(projects)
    ids = projects["id"].astype(str).str.strip()
    index = pd.Index(ids)
    capital, returns, start, build, labor, every, again, units, force = _columns(projects)

    # (project, year column, capital, labor) entries; year columns past the horizon kept
    # for the totals, dropped from the yearly rows
    total = np.zeros(n)
    owners, cols, caps, labs = [], [], [], []
    profiled = np.zeros(n, dtype=bool)
    if profiles is not None and len(profiles):
        pos = index.get_indexer(profiles["project"].astype(str).str.strip())
        if (pos < 0).any():
            raise ValueError("profiles name a project that is not in the projects table")
        p_year = pd.to_numeric(profiles["year"]).to_numpy(dtype=np.int64)
        p_cap = _col(profiles, "capital", 0.0)
        p_lab = _col(profiles, "labor", 0.0)
        profiled[pos] = True
        np.add.at(total, pos, p_cap)
        first_year = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_year, pos, p_year)
        fill = profiled & np.isnan(start)
        start[fill] = first_year[fill]
        owners.append(pos)
        cols.append(p_year - first)
        caps.append(p_cap)
        labs.append(p_lab)
    if np.isnan(start).any() or np.isnan(capital[~profiled]).any():
        raise ValueError("a project without profile rows needs capital and start")
    start = start.astype(np.int64)
    if (start < first).any() or (start > last).any():
        raise ValueError("a project's start is outside the horizon")

    spread = np.flatnonzero(~profiled)
    b = build[spread]
    owner = np.repeat(spread, b)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(b) - b, b)
    owners.append(owner)
    cols.append(start[owner] + step - first)
    caps.append((capital / np.maximum(build, 1))[owner])
    labs.append(labor[owner])
    total[spread] += capital[spread]

    count = np.where(every > 0, (last - start) // np.maximum(every, 1), 0)
    count = np.maximum(count, 0)
    owner = np.repeat(np.arange(n), count)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count) + 1
    owners.append(owner)
    cols.append(start[owner] + k * every[owner] - first)
    caps.append(again[owner])
    labs.append(np.zeros(len(owner)))
    total += count * again

    owner, col = np.concatenate(owners), np.concatenate(cols)
    cap_e, lab_e = np.concatenate(caps), np.concatenate(labs)
    inside = (col >= 0) & (col < years)
    owner, col, cap_e, lab_e = owner[inside], col[inside], cap_e[inside], lab_e[inside]

    req_a, req_b, exc = [], [], []
    for dep in doc.get("dependencies") or []:
        if dep["type"] == "requires":
            a, b = index.get_loc(str(dep["project"]).strip()), index.get_loc(
                str(dep["on"]).strip())
            if a != b:
                req_a.append(a)
                req_b.append(b)
        else:
            exc.append(index.get_indexer([str(p).strip() for p in dep["projects"]]))
    # columns: u_0..u_{n-1}, then z for each modular project a dependency names (the
    # project's model: elsewhere z_i is in no rule, and z_i = u_i when max_units is 1)
    named = np.zeros(n, dtype=bool)
    named[req_a + req_b] = True
    for group in exc:
        named[group] = True
    modular = np.flatnonzero((units > 1) & named)
    z_col = np.arange(n)
    z_col[modular] = n + np.arange(len(modular))
    n_col = n + len(modular)

    inf = highspy.kHighsInf
    rows_r: list[np.ndarray] = []
    rows_c: list[np.ndarray] = []
    rows_v: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    n_row = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        nonlocal n_row
        rows_r.append(np.asarray(r, dtype=np.int64) + n_row)
        rows_c.append(np.asarray(c, dtype=np.int64))
        rows_v.append(np.asarray(v, dtype=float))
        lower.append(np.asarray(lo, dtype=float))
        upper.append(np.asarray(hi, dtype=float))
        n_row += len(lower[-1])

    everyone = np.arange(n)
    budget = doc.get("budget") or {}
    if budget.get("total") is not None:
        add(np.zeros(n), everyone, total, [-inf], [float(budget["total"])])

    def yearly(limits: np.ndarray, values: np.ndarray) -> None:
        _yearly_rows(add, limits, years, col, owner, values)

    yearly(_by_year(budget.get("per_year"), first, years), cap_e)
    s_index, ranged, row_of, s_lo, s_hi = _sectors(doc, projects)
    keep = row_of[s_index] >= 0
    add(row_of[s_index[keep]], everyone[keep], total[keep],
        np.where(s_lo[ranged] > 0, s_lo[ranged], -inf), s_hi[ranged])
    yearly(_by_year((doc.get("labor") or {}).get("capacity"), first, years), lab_e)
    if doc.get("hurdle_rate") is not None:
        add(np.zeros(n), everyone, returns - float(doc["hurdle_rate"]) * total, [0.0], [inf])

    m = len(req_a)
    add(np.repeat(np.arange(m), 2), np.column_stack([z_col[req_a], z_col[req_b]]).ravel(),
        np.tile([1.0, -1.0], m), np.full(m, -inf), np.zeros(m))
    if exc:
        sizes = np.array([len(g) for g in exc])
        add(np.repeat(np.arange(len(exc)), sizes), z_col[np.concatenate(exc)],
            np.ones(sizes.sum()), np.full(len(exc), -inf), np.ones(len(exc)))
    k = len(modular)
    r = np.arange(k)
    add(np.concatenate([r, r, k + r, k + r]),
        np.concatenate([modular, z_col[modular], z_col[modular], modular]),
        np.concatenate([np.ones(k), -units[modular].astype(float), np.ones(k), -np.ones(k)]),
        np.full(2 * k, -inf), np.zeros(2 * k))

    matrix, lower_all, upper_all = _assemble(rows_r, rows_c, rows_v, lower, upper, n_row,
                                             n_col)
    lower, upper = [lower_all], [upper_all]
    n_row = matrix.shape[0]

    col_lower = np.zeros(n_col)
    col_upper = np.concatenate([units.astype(float), np.ones(k)])
    forced_in = np.flatnonzero(force == "in")
    forced_out = np.flatnonzero(force == "out")
    col_lower[forced_in] = 1.0
    col_lower[z_col[forced_in]] = 1.0
    col_upper[forced_out] = 0.0
    col_upper[z_col[forced_out]] = 0.0

    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([returns, np.zeros(k)])
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = np.concatenate(lower) if lower else np.zeros(0)
    lp.row_upper_ = np.concatenate(upper) if upper else np.zeros(0)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_col
    return lp, n


# ---------------------------------------------------------------------- version 2
def _steps(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, step): ``counts[i]`` entries owned by i, with steps 0 .. counts[i] - 1."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)


def _by_offset(owner: np.ndarray, offset: np.ndarray, value: np.ndarray, n: int):
    """A (project x year offset) table, compressed by offset (one column per offset)."""
    width = int(offset.max(initial=-1)) + 1
    return sp.csc_array((value, (owner, offset)), shape=(n, max(width, 1)))


def unit_flows(col_proj: np.ndarray, col_start: np.ndarray, disbursed, cash,
               every: np.ndarray, again: np.ndarray, last: int, deemed: np.ndarray,
               split: tuple[float, float], rho: float, irr: float, base: int,
               first: int, years: int, receipts: bool = False) -> dict:
    """The memorandum's waterfall of one unit of every column (project ``col_proj[c]``
    started in ``col_start[c]``), vectorised over columns, one step per year offset.
    ``disbursed`` and ``cash`` are (project x offset) tables of the nominal profile or
    spread and of the cash after ``loss_rate``; reinvestments (``again`` every ``every``
    years while inside the horizon) are added per column. Returns npv (at ``rho``, to
    ``base``), npv_irr (at ``irr``), recovered (offset, -1 for never) and, with
    ``receipts``, Japan's receipts by (column, horizon year)."""
    before, after = split
    p = col_proj
    n_c = len(p)
    ev = every[p]
    count = np.where(ev > 0, (last - col_start) // np.maximum(ev, 1), 0).clip(0)
    coo = disbursed.tocoo()
    last_d = np.full(disbursed.shape[0], -1)
    np.maximum.at(last_d, coo.row[coo.data != 0], coo.col[coo.data != 0])
    last_d = np.maximum(last_d[p], count * ev)
    coo = cash.tocoo()
    last_c = np.full(cash.shape[0], -1)
    np.maximum.at(last_c, coo.row[coo.data != 0], coo.col[coo.data != 0])
    last_f = np.maximum(last_d, last_c[p])
    n_off = int(last_f.max(initial=-1)) + 1

    def column(table, o: int) -> np.ndarray:
        full = np.zeros(table.shape[0])
        if o < table.shape[1]:
            lo, hi = table.indptr[o], table.indptr[o + 1]
            full[table.indices[lo:hi]] = table.data[lo:hi]
        return full[p]

    r = deemed[p]
    balance = np.zeros(n_c)
    npv, npv_irr = np.zeros(n_c), np.zeros(n_c)
    recovered = np.full(n_c, -1)
    got = np.zeros((n_c, years)) if receipts else None
    for o in range(n_off):
        d = column(disbursed, o)
        if o > 0:
            d += np.where((ev > 0) & (o % np.maximum(ev, 1) == 0) & (o <= count * ev),
                          again[p], 0.0)
        c = column(cash, o)
        owed = balance * (1 + r) + d
        pos = c > 0
        paid = np.where(pos, np.minimum(before * c, owed), 0.0)
        japan = np.where(pos, paid + after * (c - paid / before), 0.0)
        balance = owed - paid
        npv += (japan - d) / (1 + rho) ** o
        npv_irr += (japan - d) / (1 + irr) ** o
        found = (recovered < 0) & (o >= last_d) & (o <= last_f) & (balance <= 1e-9)
        recovered[found] = o
        if got is not None:
            year = col_start + o - first
            rows = np.flatnonzero((japan != 0) & (year < years))
            got[rows, year[rows]] = japan[rows]
    shift = col_start - base
    return {"npv": npv / (1 + rho) ** shift, "npv_irr": npv_irr / (1 + irr) ** shift,
            "recovered": recovered, "receipts": got}


def build_lp_v2(doc: dict, projects: pd.DataFrame, profiles: pd.DataFrame | None):
    """The version-2 part-A model as a ``highspy.HighsLp`` (maximize) and its layout
    {"n": projects, "project": project of each unit column, "start": its start year}.

    One integer column u_{i,s} in [0, max_units_i] per project i and admissible start s
    (earliest .. min(latest, commitment_deadline); a start failing ``project_hurdle`` has
    no column), then a binary z_i for a project named in a dependency unless it has one
    column and max_units 1 (z_i is then that column). Rows: the budget (one total row, or
    with ``recycle`` one row per year: disbursed by t - receipts before t <= total, every
    disbursement in the last year's row); capital and labor in every capped year (each
    start's shifted profile); sectors; hurdle_rate; sum_s u_{i,s} <= max_units_i where a
    project has several columns and no z; force in sum_s u_{i,s} >= 1 (a bound for a
    single column); requires z_a <= z_b, with ``lag`` L one row per start year t of a:
    sum_{s<=t} u_{a,s} - max_units_a * sum_{s<=t-L} u_{b,s} <= 0 (the rule of every year
    t, which can tighten only where a unit of a may start); excludes sum z <= 1; linking
    sum_s u_{i,s} - M_i z_i <= 0 and z_i - sum_s u_{i,s} <= 0. Objective: the sum of the
    columns' NPV (``economics.objective: npv``) or of the projects' returns."""
    import highspy

    inf = highspy.kHighsInf
    first, last = (int(v) for v in doc["horizon"])
    years = last - first + 1
    n = len(projects)
    index = pd.Index(projects["id"].astype(str).str.strip())
    capital, returns, start, build, labor, every, again, units, force = _columns(projects)

    # the nominal profile or spread, by (project, year offset from the nominal start)
    profiled = np.zeros(n, dtype=bool)
    parts = []
    if profiles is not None and len(profiles):
        pos = index.get_indexer(profiles["project"].astype(str).str.strip())
        if (pos < 0).any():
            raise ValueError("profiles name a project that is not in the projects table")
        p_year = pd.to_numeric(profiles["year"]).to_numpy(dtype=np.int64)
        profiled[pos] = True
        first_year = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_year, pos, p_year)
        fill = profiled & np.isnan(start)
        start[fill] = first_year[fill]
        parts.append((pos, p_year - start[pos].astype(np.int64), _col(profiles, "capital", 0.0),
                      _col(profiles, "labor", 0.0)))
    if np.isnan(start).any() or np.isnan(capital[~profiled]).any():
        raise ValueError("a project without profile rows needs capital and start")
    start = start.astype(np.int64)
    spread = np.flatnonzero(~profiled)
    item, step = _steps(build[spread])
    owner = spread[item]
    parts.append((owner, step, (capital / np.maximum(build, 1))[owner], labor[owner]))
    e_own, e_off, e_cap, e_lab = (np.concatenate(a) for a in zip(*parts, strict=True))
    order = np.argsort(e_own, kind="stable")
    e_own, e_off, e_cap, e_lab = e_own[order], e_off[order], e_cap[order], e_lab[order]
    nominal = np.bincount(e_own, e_cap, minlength=n)        # per unit, past the horizon too
    ends = np.full(n, -1)
    np.maximum.at(ends, e_own, e_off)

    # the columns: every admissible (project, start)
    earliest = _col(projects, "earliest_start", np.nan)
    latest = _col(projects, "latest_start", np.nan)
    earliest = np.where(np.isnan(earliest), start, earliest).astype(np.int64)
    latest = np.where(np.isnan(latest), start, latest).astype(np.int64)
    if doc.get("commitment_deadline") is not None:
        latest = np.minimum(latest, int(doc["commitment_deadline"]))
    col_proj, step = _steps(np.maximum(0, latest - earliest + 1))
    col_start = earliest[col_proj] + step

    # cash after loss_rate, by (project, offset from the start), and the waterfall
    econ = doc.get("economics") or {}
    objective = econ.get("objective") or "return"
    loss = _col(projects, "loss_rate", 0.0)
    annual = _col(projects, "annual_cash", np.nan)
    op_years = np.where(np.isnan(annual), 0, _col(projects, "operating_years", 0.0))
    owner, step = _steps(op_years.astype(np.int64))
    c_own, c_off, c_val = [owner], [ends[owner] + 1 + step], [annual[owner]]
    table = doc.get("cash_flows")
    if isinstance(table, pd.DataFrame) and len(table):
        pos = index.get_indexer(table["project"].astype(str).str.strip())
        if (pos < 0).any():
            raise ValueError("cash_flows name a project that is not in the projects table")
        c_own.append(pos)
        c_off.append(pd.to_numeric(table["offset"]).to_numpy(dtype=np.int64))
        c_val.append(_col(table, "cash", 0.0))
    c_own, c_off, c_val = np.concatenate(c_own), np.concatenate(c_off), np.concatenate(c_val)
    has_cash = np.bincount(c_own, (c_val != 0).astype(float), minlength=n) > 0
    cash = _by_offset(c_own, c_off, c_val * (1 - loss[c_own]), n)
    hurdle = doc.get("project_hurdle")
    budget = doc.get("budget") or {}
    recycle = bool(budget.get("recycle")) and budget.get("total") is not None
    if objective == "npv" or hurdle or recycle:
        deemed = _col(projects, "deemed_rate", float(econ.get("deemed_rate") or 0.0))
        split = econ.get("split") or {}
        flows = unit_flows(col_proj, col_start, _by_offset(e_own, e_off, e_cap, n), cash,
                           every, again, last, deemed,
                           (float(split.get("before", 1.0)), float(split.get("after", 1.0))),
                           float(econ.get("discount_rate") or 0.0),
                           float((hurdle or {}).get("irr") or 0.0),
                           int(econ.get("base_year", first)), first, years, recycle)
        if hurdle:
            keep = has_cash[col_proj]
            if hurdle.get("irr") is not None:
                keep &= flows["npv_irr"] >= -1e-9
            if hurdle.get("recover_within") is not None:
                rec = flows["recovered"]
                keep &= (rec >= 0) & (rec <= int(hurdle["recover_within"]))
            col_proj, col_start = col_proj[keep], col_start[keep]
            flows = {k: None if v is None else v[keep] for k, v in flows.items()}
    n_c = len(col_proj)
    count = np.where(every[col_proj] > 0,
                     (last - col_start) // np.maximum(every[col_proj], 1), 0).clip(0)
    total = nominal[col_proj] + count * again[col_proj]

    # capital and labor of each column by horizon year: the shifted profile, reinvestments
    per = np.bincount(e_own, minlength=n)
    item, step = _steps(per[col_proj])
    entry = (np.cumsum(per) - per)[col_proj][item] + step
    r_item, k = _steps(count)
    owner = np.concatenate([item, r_item])
    col = np.concatenate([col_start[item] + e_off[entry],
                          col_start[r_item] + (k + 1) * every[col_proj[r_item]]]) - first
    cap_e = np.concatenate([e_cap[entry], again[col_proj[r_item]]])
    lab_e = np.concatenate([e_lab[entry], np.zeros(len(r_item))])
    inside = (col >= 0) & (col < years)
    owner, col, cap_e, lab_e = owner[inside], col[inside], cap_e[inside], lab_e[inside]

    # dependencies, and the z columns
    reqs, exc = [], []
    for dep in doc.get("dependencies") or []:
        if dep["type"] == "requires":
            a = index.get_loc(str(dep["project"]).strip())
            b = index.get_loc(str(dep["on"]).strip())
            if a != b:
                reqs.append((a, b, dep.get("lag")))
        else:
            exc.append(index.get_indexer([str(p).strip() for p in dep["projects"]]))
    named = np.zeros(n, dtype=bool)
    for a, b, _ in reqs:
        named[[a, b]] = True
    for group in exc:
        named[group] = True
    n_cols = np.bincount(col_proj, minlength=n)
    first_col = np.cumsum(n_cols) - n_cols
    single = (n_cols == 1) & (units == 1)
    own_z = np.flatnonzero(named & ~single)
    z_col = np.full(n, -1)
    z_col[named & single] = first_col[named & single]
    z_col[own_z] = n_c + np.arange(len(own_z))
    n_col = n_c + len(own_z)

    rows_r, rows_c, rows_v, lower, upper = [], [], [], [], []
    n_row = 0

    def add(r, c, v, lo, hi) -> None:
        nonlocal n_row
        rows_r.append(np.asarray(r, dtype=np.int64) + n_row)
        rows_c.append(np.asarray(c, dtype=np.int64))
        rows_v.append(np.asarray(v, dtype=float))
        lower.append(np.asarray(lo, dtype=float))
        upper.append(np.asarray(hi, dtype=float))
        n_row += len(lower[-1])

    def per_project(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """(row of each column of a project in ``mask``, its column, row count)."""
        row_of = np.full(n, -1)
        row_of[mask] = np.arange(int(mask.sum()))
        c = np.flatnonzero(row_of[col_proj] >= 0)
        return row_of[col_proj[c]], c, int(mask.sum())

    cols = np.arange(n_c)
    if budget.get("total") is not None and recycle:
        spent = np.zeros((n_c, years))
        np.add.at(spent, (owner, col), cap_e)
        coef = np.cumsum(spent, axis=1)
        coef[:, -1] = total
        coef[:, 1:] -= np.cumsum(flows["receipts"], axis=1)[:, :-1]
        c, t = np.nonzero(coef)
        add(t, c, coef[c, t], np.full(years, -inf), np.full(years, float(budget["total"])))
    elif budget.get("total") is not None:
        add(np.zeros(n_c), cols, total, [-inf], [float(budget["total"])])

    def yearly(limits: np.ndarray, values: np.ndarray) -> None:
        _yearly_rows(add, limits, years, col, owner, values)

    yearly(_by_year(budget.get("per_year"), first, years), cap_e)
    s_index, ranged, row_of, s_lo, s_hi = _sectors(doc, projects)
    keep = row_of[s_index[col_proj]] >= 0
    add(row_of[s_index[col_proj][keep]], cols[keep], total[keep],
        np.where(s_lo[ranged] > 0, s_lo[ranged], -inf), s_hi[ranged])
    yearly(_by_year((doc.get("labor") or {}).get("capacity"), first, years), lab_e)
    if doc.get("hurdle_rate") is not None:
        add(np.zeros(n_c), cols, returns[col_proj] - float(doc["hurdle_rate"]) * total,
            [0.0], [inf])
    has_z = np.zeros(n, dtype=bool)
    has_z[own_z] = True
    several = (n_cols >= 2) & ~has_z                          # units of all starts
    r, c, m = per_project(several)
    add(r, c, np.ones(len(c)), np.full(m, -inf), units[several])
    forced_in = force == "in"
    r, c, m = per_project(forced_in & (n_cols != 1))   # force in: a row (empty: infeasible)
    add(r, c, np.ones(len(c)), np.ones(m), np.full(m, inf))
    m = len(reqs)
    add(np.repeat(np.arange(m), 2), np.array([[z_col[a], z_col[b]] for a, b, _ in reqs],
                                             dtype=np.int64).reshape(-1),
        np.tile([1.0, -1.0], m), np.full(m, -inf), np.zeros(m))
    for a, b, lag in reqs:                                    # lag: one row per start of a
        if lag is None:
            continue
        ca = first_col[a] + np.arange(n_cols[a])
        cb = first_col[b] + np.arange(n_cols[b])
        t = col_start[ca]
        mine = col_start[ca][None, :] <= t[:, None]
        theirs = col_start[cb][None, :] <= (t - int(lag))[:, None]
        ra, ka = np.nonzero(mine)
        rb, kb = np.nonzero(theirs)
        add(np.concatenate([ra, rb]), np.concatenate([ca[ka], cb[kb]]),
            np.concatenate([np.ones(len(ka)), np.full(len(kb), -float(units[a]))]),
            np.full(len(ca), -inf), np.zeros(len(ca)))
    if exc:
        sizes = np.array([len(g) for g in exc])
        add(np.repeat(np.arange(len(exc)), sizes), z_col[np.concatenate(exc)],
            np.ones(sizes.sum()), np.full(len(exc), -inf), np.ones(len(exc)))
    r, c, m = per_project(has_z)                               # linking u and z
    zr = z_col[np.flatnonzero(has_z)]
    add(np.concatenate([r, np.arange(m), m + r, m + np.arange(m)]),
        np.concatenate([c, zr, c, zr]),
        np.concatenate([np.ones(len(c)), -units[has_z].astype(float), -np.ones(len(c)),
                        np.ones(m)]),
        np.full(2 * m, -inf), np.zeros(2 * m))

    matrix, lower_all, upper_all = _assemble(rows_r, rows_c, rows_v, lower, upper, n_row,
                                             n_col)

    cost = flows["npv"] if objective == "npv" else returns[col_proj]
    col_lower = np.zeros(n_col)
    col_upper = np.concatenate([units[col_proj].astype(float), np.ones(len(own_z))])
    one = forced_in & (n_cols == 1)
    col_lower[first_col[one]] = 1.0
    col_lower[z_col[forced_in & has_z]] = 1.0
    out = force == "out"
    col_upper[np.flatnonzero(out[col_proj])] = 0.0
    col_upper[z_col[out & (z_col >= 0)]] = 0.0

    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = matrix.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([cost, np.zeros(len(own_z))])
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = lower_all
    lp.row_upper_ = upper_all
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = matrix.shape[0]
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_col
    return lp, {"n": n, "project": col_proj, "start": col_start}


# ----------------------------------------------------------------------- solving
@contextmanager
def _quiet_fd1():
    """HiGHS prints its banner to file descriptor 1 when a Highs object is made."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) and abs(value) < 1e300 else None


def solve_file(path: str | Path, time_limit: float | None = None, gap: float = 1e-4,
               threads: int = 1, presolve: str = "off", seed: int = 0) -> dict:
    """Read, build and solve one program file; return status, objective, bound, gap,
    units (numpy array, file row order; None without a solution), model_status, the
    branch-and-bound nodes and timings {load, build, solve, total} in seconds; for a
    version-2 file also starts (per project, {year as text: units started}; None without
    a solution), units being then the sum over a project's start years."""
    import highspy

    t0 = time.perf_counter()
    doc, projects, profiles = read_program(path)
    t1 = time.perf_counter()
    lp, n = build_lp(doc, projects, profiles)
    layout = n if isinstance(n, dict) else None
    n = layout["project"].size if layout is not None else n
    t2 = time.perf_counter()
    with _quiet_fd1():
        # HiGHS's thread scheduler is global to a process and keeps the thread count of
        # its first solve: a solve asking for another count fails ("Not Set") unless it
        # is restarted (only matters when this runs inside another program's process)
        highspy.Highs.resetGlobalScheduler(True)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("presolve", str(presolve))
        h.setOptionValue("random_seed", int(seed))
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        h.passModel(lp)
        h.run()
    t3 = time.perf_counter()

    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2       # kSolutionStatusFeasible
    ms = highspy.HighsModelStatus
    empty = model_status == ms.kModelEmpty       # version 2: no unit may start at all
    if empty:
        has_solution = bool(np.all((np.asarray(lp.row_lower_) <= 0)
                                   & (np.asarray(lp.row_upper_) >= 0)))
    if model_status == ms.kOptimal or (empty and has_solution):
        status = "optimal"
    elif model_status in (ms.kInfeasible, ms.kUnboundedOrInfeasible) or empty:
        status = "infeasible"
    else:
        status = "feasible" if has_solution else "no_solution"
    units = starts = None
    objective = bound = rel_gap = None
    if has_solution:
        units = np.rint(np.asarray(h.getSolution().col_value[:n])).astype(np.int64)
        objective = float(info.objective_function_value)
        bound = _finite(info.mip_dual_bound)
        rel_gap = 0.0 if empty else _finite(info.mip_gap)
        if layout is not None:
            starts = [{} for _ in range(layout["n"])]
            for c in np.flatnonzero(units):
                starts[layout["project"][c]][str(layout["start"][c])] = int(units[c])
            units = np.bincount(layout["project"], units, minlength=layout["n"]).astype(
                np.int64)
    more = {} if layout is None else {"starts": starts}
    return {
        "status": status,
        "model_status": h.modelStatusToString(model_status),
        "objective": objective,
        "bound": bound,
        "gap": rel_gap,
        "nodes": int(info.mip_node_count) if info.mip_node_count >= 0 else None,
        "units": units,
        "timings": {"load": t1 - t0, "build": t2 - t1, "solve": t3 - t2, "total": t3 - t0},
        **more,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Solve a capital-portfolio/1 or /2 (part A) "
                                             "program with raw highspy (the speed reference).")
    ap.add_argument("path")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--presolve", choices=("off", "on", "choose"), default="off")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--units", action="store_true", help="include every project's units "
                    "(and, for a version-2 file, the units started in each year: starts)")
    args = ap.parse_args(argv)
    out = solve_file(args.path, args.time_limit, args.gap, args.threads, args.presolve,
                     args.seed)
    units = out.pop("units")
    starts = out.pop("starts", False)
    out["funded"] = None if units is None else int((units > 0).sum())
    if args.units:
        out["units"] = None if units is None else units.tolist()
        if starts is not False:
            out["starts"] = starts
    print(json.dumps(out))
    return {"optimal": 0, "feasible": 0, "infeasible": 3}.get(out["status"], 4)


if __name__ == "__main__":
    sys.exit(main())
