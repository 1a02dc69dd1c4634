"""The model tables of a validated program: capital and labor per project and year,
total capital per project, sector positions (:func:`prepare`), all with numpy.

:func:`optimizer.program.loading.load` and :meth:`Instance.replace
<optimizer.program.instance.Instance.replace>` call it; it needs nothing of the program
stage but the instance it is given.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.starts import (
    EXCLUDED_DEADLINE,
    EXCLUDED_NO_CASH,
    EXCLUDED_NPV,
    EXCLUDED_RECOVERY,
    Options,
    nominal_entries,
    option_layout,
    reinvestments,
    shift,
)
from formulations.waterfall import Flows, cash_entries, economics_of, has_economics, unit_flows

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["prepare", "prepare_options"]

# -------------------------------------------------------------------- prepare
def prepare(instance: Instance) -> Instance:
    """Derive the model tables (capital and labor per project and year, total capital per
    project, sector positions) from the validated tables, all with numpy."""
    projects, profiles = instance.projects, instance.profiles
    first, last = instance.first_year, instance.last_year
    n, n_years = len(projects), last - first + 1
    ids = projects["id"].to_numpy()
    start = projects["start"].to_numpy(dtype=np.int64)
    capital = projects["capital"].to_numpy(dtype=float)

    profiled = np.zeros(n, dtype=bool)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    cap_vals: list[np.ndarray] = []
    lab_vals: list[np.ndarray] = []
    total = np.zeros(n)
    if len(profiles):
        pos = pd.Index(ids).get_indexer(profiles["project"])
        profiled[pos] = True
        year = profiles["year"].to_numpy(dtype=np.int64)
        np.add.at(total, pos, profiles["capital"].to_numpy(dtype=float))
        inside = year <= last
        rows.append(pos[inside])
        cols.append(year[inside] - first)
        cap_vals.append(profiles["capital"].to_numpy(dtype=float)[inside])
        lab_vals.append(profiles["labor"].to_numpy(dtype=float)[inside])

    spread = np.flatnonzero(~profiled)
    build = projects["build_years"].to_numpy(dtype=np.int64)[spread]
    total[spread] += capital[spread]
    # only the build years inside the horizon get a column (the rest count toward the
    # total above): at most the horizon's length per project, whatever build_years says
    shown = np.clip(np.minimum(build, last - start[spread] + 1), 0, None)
    owner = np.repeat(spread, shown)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(shown) - shown, shown)
    year = start[owner] + offset
    inside = (year >= first) & (year <= last)
    rows.append(owner[inside])
    cols.append(year[inside] - first)
    cap_vals.append((capital[spread] / build)[np.repeat(np.arange(len(spread)), shown)][inside])
    lab_vals.append(projects["labor"].to_numpy(dtype=float)[owner][inside])

    every = projects["reinvest_every"].to_numpy(dtype=np.int64)
    again = projects["reinvest_capital"].to_numpy(dtype=float)
    has = np.flatnonzero(every > 0)
    counts = np.where(every[has] > 0, (last - start[has]) // np.maximum(every[has], 1), 0)
    counts = np.maximum(counts, 0)
    owner = np.repeat(has, counts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    rows.append(owner)
    cols.append(start[owner] + k * every[owner] - first)
    cap_vals.append(again[owner])
    lab_vals.append(np.zeros(len(owner)))
    np.add.at(total, has, counts * again[has])

    r, c = np.concatenate(rows), np.concatenate(cols)
    capital_by_year = sp.coo_array((np.concatenate(cap_vals), (r, c)), shape=(n, n_years)).tocsc()
    labor_by_year = sp.coo_array((np.concatenate(lab_vals), (r, c)), shape=(n, n_years)).tocsc()
    capital_by_year.eliminate_zeros()
    labor_by_year.eliminate_zeros()
    sector_index = pd.Index(instance.sectors).get_indexer(projects["sector"])
    return prepare_options(dataclasses.replace(
        instance,
        capital_by_year=capital_by_year,
        labor_by_year=labor_by_year,
        total_capital=total,
        sector_index=sector_index.astype(np.int64),
    ))


# -------------------------------------------------------------------- options
def prepare_options(instance: Instance) -> Instance:
    """The model's unit columns (:class:`formulations.starts.Options`): one per project
    and admissible start year, the project's tables shifted to each start with numpy, the
    waterfall of each (:func:`formulations.waterfall.unit_flows`) where the program has
    economics, and why an option may not be funded (the commitment deadline, the
    per-project hurdle). A version-1 program, or one whose every project has one start,
    shares the project tables."""
    projects = instance.projects
    first, last = instance.first_year, instance.last_year
    n = len(projects)
    nominal = projects["start"].to_numpy(dtype=np.int64)
    earliest = projects["earliest_start"].to_numpy(dtype=np.int64)
    latest = projects["latest_start"].to_numpy(dtype=np.int64)
    identity = bool(np.array_equal(earliest, nominal) and np.array_equal(latest, nominal))
    if identity:
        project, start = np.arange(n, dtype=np.int64), nominal.copy()
        capital_by_year, labor_by_year = instance.capital_by_year, instance.labor_by_year
        total = np.asarray(instance.total_capital, dtype=float).copy()
    else:
        project, start = option_layout(earliest, latest)
        entries = nominal_entries(projects, instance.profiles, nominal, limit=last - first + 1)
        capital_by_year = shift(entries.project, entries.offset, entries.capital, n,
                                project, start, first, last)
        labor_by_year = shift(entries.project, entries.offset, entries.labor, n,
                              project, start, first, last)
        every = projects["reinvest_every"].to_numpy(dtype=np.int64)
        again = projects["reinvest_capital"].to_numpy(dtype=float)
        row, offset = reinvestments(every, project, start, last)
        capital_by_year = (capital_by_year + sp.coo_array(
            (again[project[row]], (row, start[row] + offset - first)),
            shape=capital_by_year.shape).tocsc()).tocsc()
        build_total = projects["capital"].to_numpy(dtype=float)  # = the profile's sum
        total = build_total[project] + np.bincount(row, weights=again[project[row]],
                                                   minlength=len(project))
    excluded = np.zeros(len(project), dtype=np.int8)
    deadline = instance.params.get("commitment_deadline")
    if deadline is not None:
        excluded[start > deadline] = EXCLUDED_DEADLINE
    econ = economics_of(instance)
    hurdle = econ["irr"] is not None or econ["recover_within"] is not None
    flows = _flows(instance, econ, project, start) if has_economics(instance) else None
    npv = hurdle_npv = recovered = receipts = None
    if flows is not None:
        npv, hurdle_npv, recovered = flows.npv, flows.hurdle_npv, flows.recovered
        inside = (flows.receipt_year >= first) & (flows.receipt_year <= last)
        receipts = sp.coo_array((flows.receipt_amount[inside],
                                 (flows.receipt_option[inside],
                                  flows.receipt_year[inside] - first)),
                                shape=(len(project), last - first + 1)).tocsc()
        if hurdle:
            code = np.zeros(len(project), dtype=np.int8)
            if econ["irr"] is not None:
                code[~(hurdle_npv >= -1e-9)] = EXCLUDED_NPV
            if econ["recover_within"] is not None:
                late = (recovered < 0) | (recovered > start + econ["recover_within"])
                code[(code == 0) & late] = EXCLUDED_RECOVERY
            code[~flows.has_cash] = EXCLUDED_NO_CASH
            excluded = np.where(excluded == 0, code, excluded).astype(np.int8)
    options = Options(project, start, capital_by_year, labor_by_year, total, excluded, n,
                      identity=identity, npv=npv, hurdle_npv=hurdle_npv, recovered=recovered,
                      receipts_by_year=receipts)
    return dataclasses.replace(instance, options=options)


def _flows(instance: Instance, econ: dict, project: np.ndarray, start: np.ndarray) -> Flows:
    """The waterfall of every option, from the projects' build and cash."""
    projects = instance.projects
    n = len(projects)
    nominal = projects["start"].to_numpy(dtype=np.int64)
    entries = nominal_entries(projects, instance.profiles, nominal)
    last_build = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_build, entries.project, entries.offset)
    cash = instance.tables.get("cash_flows")
    if cash is None or not len(cash):
        cash = pd.DataFrame({"project": pd.Series([], dtype=object), "offset": [], "cash": []})
    c_project, c_offset, c_amount = cash_entries(projects, cash, last_build)
    own = projects["deemed_rate"].to_numpy(dtype=float)
    default = econ["deemed_rate"] if econ["deemed_rate"] is not None else 0.0
    deemed = np.where(np.isfinite(own), own, default)
    return unit_flows(
        n_projects=n, build_project=entries.project, build_offset=entries.offset,
        build_capital=entries.capital,
        reinvest_every=projects["reinvest_every"].to_numpy(dtype=np.int64),
        reinvest_capital=projects["reinvest_capital"].to_numpy(dtype=float),
        cash_project=c_project, cash_offset=c_offset, cash_amount=c_amount, deemed=deemed,
        option_project=project, option_start=start, last=instance.last_year,
        base_year=int(econ["base_year"]), discount=float(econ["discount_rate"] or 0.0),
        hurdle=econ["irr"], before=float(econ["before"] or 1.0),
        after=float(econ["after"] or 1.0))
