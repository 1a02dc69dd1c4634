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

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["prepare"]

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
    return dataclasses.replace(
        instance,
        capital_by_year=capital_by_year,
        labor_by_year=labor_by_year,
        total_capital=total,
        sector_index=sector_index.astype(np.int64),
    )
