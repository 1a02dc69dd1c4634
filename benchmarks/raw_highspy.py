"""The raw highspy reference: a ``capital-portfolio/1`` program solved with numpy,
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

    python benchmarks/raw_highspy.py PROGRAM.yaml [--time-limit S] [--gap 1e-4]
        [--threads 1] [--presolve off|on|choose] [--seed 0] [--units]

prints one JSON line: status, model_status, objective, bound, gap, timings, funded (and
units with --units); exits 0 with a plan, 3 if infeasible, 4 with no plan at a limit.
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

__all__ = ["solve_file", "read_program", "build_lp"]


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
    """(program mapping, projects table, profiles table or None) as read from disk."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, _Loader)
    doc = {str(k): v for k, v in doc.items()}
    projects = _table(doc["projects"], path.parent)
    profiles = _table(doc["profiles"], path.parent) if doc.get("profiles") else None
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


def build_lp(doc: dict, projects: pd.DataFrame, profiles: pd.DataFrame | None):
    """The section-4 model as a ``highspy.HighsLp`` (maximize), and the project count."""
    import highspy

    first, last = (int(v) for v in doc["horizon"])
    years = last - first + 1
    n = len(projects)
    ids = projects["id"].astype(str).str.strip()
    index = pd.Index(ids)
    capital = _col(projects, "capital", np.nan)
    returns = _col(projects, "return", 0.0)
    start = _col(projects, "start", np.nan)
    build = _col(projects, "build_years", 1.0).astype(np.int64)
    labor = _col(projects, "labor", 0.0)
    every = _col(projects, "reinvest_every", 0.0).astype(np.int64)
    again = _col(projects, "reinvest_capital", 0.0)
    units = _col(projects, "max_units", 1.0).astype(np.int64)
    force = (projects["force"].fillna("").astype(str).str.strip().to_numpy()
             if "force" in projects.columns else np.full(n, "", dtype=object))

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
        capped = np.flatnonzero(~np.isnan(limits))
        row_of = np.full(years, -1)
        row_of[capped] = np.arange(len(capped))
        keep = row_of[col] >= 0
        add(row_of[col[keep]], owner[keep], values[keep], np.full(len(capped), -inf),
            limits[capped])

    yearly(_by_year(budget.get("per_year"), first, years), cap_e)
    sectors = doc.get("sectors") or {}
    names = [str(s) for s in sectors]
    s_lo = np.array([float((sectors[s] or {}).get("min") or 0.0) for s in sectors])
    s_hi = np.array([float(v) if (v := (sectors[s] or {}).get("max")) is not None else inf
                     for s in sectors])
    s_index = pd.Index(names).get_indexer(projects["sector"].astype(str).str.strip())
    if (s_index < 0).any():
        raise ValueError("a project's sector is not named in sectors")
    ranged = np.flatnonzero((s_lo > 0) | (s_hi < inf))
    row_of = np.full(len(names), -1)
    row_of[ranged] = np.arange(len(ranged))
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

    matrix = sp.csc_array((np.concatenate(rows_v),
                           (np.concatenate(rows_r), np.concatenate(rows_c))),
                          shape=(n_row, n_col))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    # as the project's model does: a row with no entry whose limits admit 0 is no rule
    lower_all, upper_all = np.concatenate(lower), np.concatenate(upper)
    empty = np.diff(matrix.tocsr().indptr) == 0
    keep_rows = ~(empty & (lower_all <= 0) & (upper_all >= 0))
    matrix = matrix.tocsr()[keep_rows].tocsc()
    lower, upper = [lower_all[keep_rows]], [upper_all[keep_rows]]
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
    branch-and-bound nodes and timings {load, build, solve, total} in seconds."""
    import highspy

    t0 = time.perf_counter()
    doc, projects, profiles = read_program(path)
    t1 = time.perf_counter()
    lp, n = build_lp(doc, projects, profiles)
    t2 = time.perf_counter()
    with _quiet_fd1():
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
    if model_status == ms.kOptimal:
        status = "optimal"
    elif model_status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        status = "infeasible"
    else:
        status = "feasible" if has_solution else "no_solution"
    units = None
    objective = bound = rel_gap = None
    if has_solution:
        units = np.rint(np.asarray(h.getSolution().col_value[:n])).astype(np.int64)
        objective = float(info.objective_function_value)
        bound = _finite(info.mip_dual_bound)
        rel_gap = _finite(info.mip_gap)
    return {
        "status": status,
        "model_status": h.modelStatusToString(model_status),
        "objective": objective,
        "bound": bound,
        "gap": rel_gap,
        "nodes": int(info.mip_node_count) if info.mip_node_count >= 0 else None,
        "units": units,
        "timings": {"load": t1 - t0, "build": t2 - t1, "solve": t3 - t2, "total": t3 - t0},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Solve a capital-portfolio/1 program with raw "
                                             "highspy (the speed reference).")
    ap.add_argument("path")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--presolve", choices=("off", "on", "choose"), default="off")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--units", action="store_true", help="include every project's units")
    args = ap.parse_args(argv)
    out = solve_file(args.path, args.time_limit, args.gap, args.threads, args.presolve,
                     args.seed)
    units = out.pop("units")
    out["funded"] = None if units is None else int((units > 0).sum())
    if args.units:
        out["units"] = None if units is None else units.tolist()
    print(json.dumps(out))
    return {"optimal": 0, "feasible": 0, "infeasible": 3}.get(out["status"], 4)


if __name__ == "__main__":
    sys.exit(main())
