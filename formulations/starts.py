"""Start years (format version 2, A1): the model's unit columns are *options*, one per
project and admissible start year, and every per-unit table is the project's nominal
profile shifted to each option's start, with numpy.

A project's nominal start is its ``start`` (for a profiled project, its first profile
year): the year its spread or profile is written for. Its options are the years
``earliest_start .. latest_start`` (both default to ``start``). A unit of option (i, s)
has the capital and labor of nominal year t in year t + (s - start) and reinvests in
years s + k * reinvest_every (k >= 1) inside the horizon. A version-1 program has one
option per project, at its start: :attr:`Options.identity`, and the option tables are
the project tables themselves.

:func:`options` lays the options out; :func:`shift` places per-project entries given by
offset from the start (the nominal profile, the cash of :mod:`formulations.waterfall`)
on the options' years: an ``np.repeat`` over the entries of each option's project, never
a loop over projects and years.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Options", "Entries", "nominal_entries", "option_layout", "shift", "reinvestments",
           "EXCLUDED_DEADLINE", "EXCLUDED_NPV", "EXCLUDED_RECOVERY",
           "EXCLUDED_NO_CASH"]

#: Why an option may not be funded (:attr:`Options.excluded`): 0 it may; it starts after
#: the commitment deadline; its flows fail the per-project hurdle's NPV test, or its
#: recovery test; it has no cash flows (so fails both).
EXCLUDED_DEADLINE, EXCLUDED_NPV, EXCLUDED_RECOVERY, EXCLUDED_NO_CASH = 1, 2, 3, 4


@dataclass(frozen=True)
class Entries:
    """Per-unit amounts of projects by offset from the unit's start, sorted by project:
    ``project[k]`` has ``capital[k]`` and ``labor[k]`` at ``offset[k]``."""

    project: np.ndarray
    offset: np.ndarray
    capital: np.ndarray
    labor: np.ndarray


def nominal_entries(projects: pd.DataFrame, profiles: pd.DataFrame,
                    nominal: np.ndarray, limit: int | None = None) -> Entries:
    """The build of one unit of every project by offset from its nominal start: its
    profile rows, or its even spread over ``build_years`` (reinvestments aside).
    ``limit``: keep only offsets below it (the per-year tables need none past the
    horizon), else every one."""
    n = len(projects)
    ids = projects["id"].to_numpy()
    parts: list[tuple[np.ndarray, ...]] = []
    profiled = np.zeros(n, dtype=bool)
    if len(profiles):
        pos = pd.Index(ids).get_indexer(profiles["project"])
        profiled[pos] = True
        off = profiles["year"].to_numpy(dtype=np.int64) - nominal[pos]
        parts.append((pos.astype(np.int64), off, profiles["capital"].to_numpy(dtype=float),
                      profiles["labor"].to_numpy(dtype=float)))
    spread = np.flatnonzero(~profiled)
    build = projects["build_years"].to_numpy(dtype=np.int64)[spread]
    shown = build if limit is None else np.clip(np.minimum(build, limit), 0, None)
    owner = np.repeat(spread, shown)
    off = np.arange(len(owner)) - np.repeat(np.cumsum(shown) - shown, shown)
    capital = projects["capital"].to_numpy(dtype=float)
    labor = projects["labor"].to_numpy(dtype=float)
    parts.append((owner.astype(np.int64), off.astype(np.int64),
                  (capital[spread] / build)[np.repeat(np.arange(len(spread)), shown)],
                  labor[owner]))
    p, o, c, lab = (np.concatenate([part[k] for part in parts]) for k in range(4))
    if limit is not None:
        keep = o < limit
        p, o, c, lab = p[keep], o[keep], c[keep], lab[keep]
    order = np.argsort(p, kind="stable")
    return Entries(p[order], o[order], c[order], lab[order])


def option_layout(earliest: np.ndarray, latest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(project, start) of every option: each project's years earliest .. latest, in
    project order then year order."""
    counts = np.maximum(latest - earliest + 1, 0).astype(np.int64)
    project = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    within = np.arange(len(project)) - np.repeat(np.cumsum(counts) - counts, counts)
    return project, earliest[project].astype(np.int64) + within


def shift(entries_project: np.ndarray, entries_offset: np.ndarray, values: np.ndarray,
          n_projects: int, option_project: np.ndarray, option_start: np.ndarray,
          first: int, last: int) -> sp.csc_array:
    """Options x horizon years: each option's project's entries placed at its start plus
    their offset, years outside the horizon dropped."""
    k = len(option_project)
    n_years = last - first + 1
    counts = np.bincount(entries_project, minlength=n_projects)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    per_option = counts[option_project]
    row = np.repeat(np.arange(k, dtype=np.int64), per_option)
    at = np.repeat(ptr[option_project], per_option) + (
        np.arange(len(row)) - np.repeat(np.cumsum(per_option) - per_option, per_option))
    year = option_start[row] + entries_offset[at]
    inside = (year >= first) & (year <= last)
    out = sp.coo_array((values[at][inside], (row[inside], year[inside] - first)),
                       shape=(k, n_years)).tocsc()
    out.eliminate_zeros()
    return out


def reinvestments(every: np.ndarray, option_project: np.ndarray, option_start: np.ndarray,
                  last: int) -> tuple[np.ndarray, np.ndarray]:
    """(option, offset from its start) of every reinvestment inside the horizon: years
    s + k * every, k = 1, 2, ..., at most ``last``."""
    e = every[option_project]
    count = np.where(e > 0, (last - option_start) // np.maximum(e, 1), 0)
    count = np.maximum(count, 0)
    row = np.repeat(np.arange(len(option_project), dtype=np.int64), count)
    k = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count) + 1
    return row, k * e[row]


@dataclass(frozen=True, eq=False)
class Options:
    """The model's unit columns: one per project and admissible start year.

    ``capital_by_year`` / ``labor_by_year`` (options x horizon years, sparse),
    ``total_capital`` (a unit's capital over the plan) and ``npv`` (its NPV to Japan,
    None where the program has no economics) are per option;
    ``excluded`` says why an option may not be funded (0: it may; see the
    ``EXCLUDED_*`` codes), ``hurdle_npv`` and ``recovered`` what the per-project
    hurdle tested (NaN / -1 where not computed), ``receipts_by_year`` Japan's receipts
    per unit in each horizon year (None without cash flows)."""

    project: np.ndarray
    start: np.ndarray
    capital_by_year: Any
    labor_by_year: Any
    total_capital: np.ndarray
    excluded: np.ndarray
    n_projects: int
    #: one option per project, in project order (version 1's columns)
    identity: bool = False
    npv: np.ndarray | None = None
    hurdle_npv: np.ndarray | None = None
    recovered: np.ndarray | None = None
    receipts_by_year: Any = None
    #: give every option a column, those ruled out fixed at 0 (a model built once for
    #: programs that rule out different starts); by default a ruled-out start has none
    keep_excluded: bool = False

    def __post_init__(self) -> None:
        for name in ("project", "start", "total_capital", "excluded"):
            getattr(self, name).flags.writeable = False

    @property
    def size(self) -> int:
        return len(self.project)

    def of(self, per_project: np.ndarray) -> np.ndarray:
        """A per-project array as one entry per option."""
        per_project = np.asarray(per_project)
        return per_project if self.identity else per_project[self.project]

    def count(self) -> np.ndarray:
        """How many options each project has."""
        return np.bincount(self.project, minlength=self.n_projects)

    @property
    def modelled(self) -> np.ndarray:
        """Which options have a column in the model: those no rule rules out (all of
        them with :attr:`keep_excluded`)."""
        if self.keep_excluded:
            return np.ones(self.size, dtype=bool)
        return self.excluded == 0

    def count_modelled(self) -> np.ndarray:
        """How many options with a column each project has."""
        return np.bincount(self.project[self.modelled], minlength=self.n_projects)

    def smallest(self, per_option: np.ndarray) -> np.ndarray:
        """Per project, the least of a per-option quantity over its options that may be
        funded (+inf where none may)."""
        out = np.full(self.n_projects, np.inf)
        ok = self.excluded == 0
        np.minimum.at(out, self.project[ok], np.asarray(per_option, dtype=float)[ok])
        return out

    def largest(self, per_option: np.ndarray) -> np.ndarray:
        """Per project, the greatest of a per-option quantity over its options that may
        be funded (-inf where none may)."""
        out = np.full(self.n_projects, -np.inf)
        ok = self.excluded == 0
        np.maximum.at(out, self.project[ok], np.asarray(per_option, dtype=float)[ok])
        return out
