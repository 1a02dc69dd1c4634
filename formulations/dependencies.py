"""Dependencies between projects, on the funded indicators z.

    requires(a, on b):   z_a - z_b <= 0
    excludes(S):         sum_{i in S} z_i <= 1

Version 2 (A1): ``requires`` with ``lag: L`` adds, for every year t, units of a started
by t <= max_units_a x units of b started by t - L, over the unit columns of each start
(:mod:`formulations.starts`). The rows are written for the years in which a unit of a
may start: from one such year to the next the left side stays and the right side can
only grow, so that year's row implies the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.columns import Columns
from formulations.family import Conflict, Family, Finding, Rule, RuleRef, Usage, Violation, Words
from formulations.graphs import requires_cycles
from formulations.rows import RowBlock, row_block
from formulations.shared import funded_column, names
from optimizer.limits import Bound
from optimizer.program.terms import Field, Section
from optimizer.units import people

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["FAMILY", "Dependencies", "NAME_REQUIRES", "NAME_EXCLUDES"]

NAME_REQUIRES = "requires"
NAME_EXCLUDES = "excludes"
REQUIRES, EXCLUDES = "dependencies.requires", "dependencies.excludes"
LAGGED, NAME_LAGGED = "dependencies.lag", "requires_lag"
#: A lag: whole years between two starts.
LAG = Bound(0, 200, "years between starts")



#: The keys this family reads (its part of the format's vocabulary).
REQUIRES_KEYS = Section("dependencies[] (requires)",
                   "`dependencies` entry of type `requires`: a funded project needs another", (
                       Field("type", "text", "the kind of dependency", required=True,
                             values=("requires",)),
                       Field("project", "id", "the project that needs `on`: if it is funded, "
                             "`on` is funded too", required=True),
                       Field("on", "id", "the project it needs (the key is the text "
                             "`on`, never a boolean)", required=True),
                       Field("lag", "integer", "in every year t, units of `project` started "
                             "by t <= max_units(project) x units of `on` started by t - lag: "
                             "its first unit starts at least lag years after `on`'s",
                             unit="years", bound=LAG, default_text="no timing rule",
                             since=2),
                   ))

EXCLUDES_KEYS = Section("dependencies[] (excludes)",
                   "`dependencies` entry of type `excludes`: at most one of a group", (
                       Field("type", "text", "the kind of dependency", required=True,
                             values=("excludes",)),
                       Field("projects", "ids", "two or more distinct project ids; at most "
                             "one of them is funded", required=True),
                   ))

#: Every kind of dependency by its ``type``.
DEPENDENCY_TYPES = {"requires": REQUIRES_KEYS, "excludes": EXCLUDES_KEYS}
#: The keys of every kind of dependency together: what an entry whose ``type`` is wrong
#: or missing may hold.
ANY_DEPENDENCY = Section("dependencies[]", "a `dependencies` entry of any type", tuple(
    {f.name: f for s in DEPENDENCY_TYPES.values() for f in s.fields}.values()))


def lags_of(instance: Instance) -> np.ndarray:
    """Each ``requires`` pair's lag (-1: none), whatever made the program."""
    lags = np.asarray(instance.requires_lag, dtype=np.int64)
    n = len(np.asarray(instance.requires).reshape(-1, 2))
    return lags if len(lags) == n else np.full(n, -1, dtype=np.int64)


class Dependencies(Family):
    name = "dependencies"
    rules = (Rule(REQUIRES, "requires", amount="count",
                  key_text=lambda key: f"{key[0]}->{key[1]}",
                  violation_key=lambda key: f"{key[0]} requires {key[1]}"),
             Rule(EXCLUDES, "excludes", amount="count", key_text=lambda key: ", ".join(key)),
             Rule(LAGGED, NAME_LAGGED, amount="count",
                  key_text=lambda key: f"{key[0]}->{key[1]} by {key[2]}",
                  violation_key=lambda key: f"{key[0]} requires {key[1]} by {key[2]}"))
    fields = (
        Field("dependencies", "dependencies", "`requires` and `excludes` rules (below)",
              default_text="none"),
    )
    sections = (REQUIRES_KEYS, EXCLUDES_KEYS, ANY_DEPENDENCY)

    # ------------------------------------------------------------------- model
    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        n, m = instance.n_projects, columns.n_columns
        ids = instance.ids
        z = funded_column(instance, columns)
        # a project with no column (every start ruled out) is never funded: z_i = 0,
        # so its entries leave the rows
        none = z < 0
        z = np.where(none, 0, z)

        def funded(matrix: sp.csr_array) -> sp.csr_array:
            out = sp.csr_array(matrix @ sp.diags_array((~none).astype(float)))
            out.eliminate_zeros()
            return out

        blocks = []
        pairs = instance.requires[instance.requires[:, 0] != instance.requires[:, 1]]
        if len(pairs):
            k = len(pairs)
            matrix = sp.csr_array((np.tile([1.0, -1.0], k),
                                   (np.repeat(np.arange(k), 2), pairs.reshape(-1))),
                                  shape=(k, n))
            keys = tuple(zip(ids[pairs[:, 0]].tolist(), ids[pairs[:, 1]].tolist(), strict=True))
            blocks.append(row_block(NAME_REQUIRES, funded(matrix), z, m, np.full(k, -np.inf),
                                    np.zeros(k), keys, family=self.name, upper_rule=REQUIRES))
        blocks += self._lag_rows(instance, columns)
        if instance.excludes:
            groups = instance.excludes
            sizes = np.array([len(g) for g in groups])
            cols = np.concatenate(groups)
            matrix = sp.csr_array((np.ones(len(cols)),
                                   (np.repeat(np.arange(len(groups)), sizes), cols)),
                                  shape=(len(groups), n))
            keys = tuple(tuple(ids[g].tolist()) for g in groups)
            blocks.append(row_block(NAME_EXCLUDES, funded(matrix), z, m,
                                    np.full(len(groups), -np.inf),
                                    np.ones(len(groups)), keys, family=self.name,
                                    upper_rule=EXCLUDES))
        return blocks

    def _lag_rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        """For each lagged pair (a, b, L) and year t in which a unit of a may start: units
        of a started by t - max_units_a x units of b started by t - L <= 0."""
        lags = lags_of(instance)
        pairs = np.asarray(instance.requires, dtype=np.int64).reshape(-1, 2)
        keep = (lags >= 0) & (pairs[:, 0] != pairs[:, 1])
        if not keep.any():
            return []
        a, b, lag = pairs[keep, 0], pairs[keep, 1], lags[keep]
        o = instance.options
        years = instance.years
        first, n_years = int(years[0]), len(years)
        # which years each project may start in (projects x years)
        starts = np.zeros((instance.n_projects, n_years), dtype=bool)
        open_ = o.modelled
        starts[o.project[open_], o.start[open_] - first] = True
        # a row in each year a unit of a may start: between two such years its left side
        # stays while its right side can only grow, so the year's row implies the others
        # (as measured, the others also cost HiGHS: 44 s against 22 s at 20,000 projects)
        row_p, row_t = np.nonzero(starts[a])
        k = len(row_p)
        if not k:  # no start of a dependent project is open: no row can bind
            return []
        unit_cols, owner = columns.unit_columns()
        order = np.argsort(owner, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=instance.n_projects))])

        def side(project: np.ndarray, until: np.ndarray, value: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            count = ptr[project + 1] - ptr[project]
            rows = np.repeat(np.arange(k), count)
            at = np.repeat(ptr[project], count) + (np.arange(len(rows))
                                                   - np.repeat(np.cumsum(count) - count, count))
            column = order[at]
            option = column if columns.members is None else columns.members[column]
            mine = o.start[option] <= until[rows]
            return rows[mine], unit_cols[column[mine]], np.repeat(value, count)[mine]

        t = first + row_t
        ra, ca, va = side(a[row_p], t, np.ones(k))
        rb, cb, vb = side(b[row_p], t - lag[row_p],
                          -instance.max_units[a[row_p]].astype(float))
        m = columns.n_columns
        matrix = sp.csr_array((np.concatenate([va, vb]), (np.concatenate([ra, rb]),
                                                          np.concatenate([ca, cb]))),
                              shape=(k, m))
        ids = instance.ids
        keys = tuple(zip(ids[a[row_p]].tolist(), ids[b[row_p]].tolist(), t.tolist(),
                         strict=True))
        return [row_block(NAME_LAGGED, matrix, m, m, np.full(k, -np.inf), np.zeros(k), keys,
                          family=self.name, upper_rule=LAGGED)]

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        bad: list[Violation] = self._check_lags(instance, usage)
        funded = (usage.units > 0).to_numpy()
        ids = instance.projects["id"].to_numpy()
        pairs = np.asarray(instance.requires, dtype=np.int64).reshape(-1, 2)
        broken = funded[pairs[:, 0]] & ~funded[pairs[:, 1]]
        for a, b in pairs[broken]:
            key = (ids[a], ids[b])
            bad.append(Violation("requires", f"{ids[a]} requires {ids[b]}", 1.0, 0.0, 1.0,
                                 RuleRef(REQUIRES, key)))
        for group in instance.excludes:
            count = int(funded[group].sum())
            if count > 1:
                bad.append(Violation("excludes", ", ".join(map(str, ids[group])), count, 1.0,
                                     count - 1.0, RuleRef(EXCLUDES, tuple(ids[group]))))
        return bad

    def _check_lags(self, instance: Instance, usage: Usage) -> list[Violation]:
        """In every horizon year t: units of a started by t <= max_units_a x units of b
        started by t - L, from the checker's starts (the first year a pair breaks)."""
        bad: list[Violation] = []
        lags = lags_of(instance)
        pairs = np.asarray(instance.requires, dtype=np.int64).reshape(-1, 2)
        keep = (lags >= 0) & (pairs[:, 0] != pairs[:, 1])
        if not keep.any():
            return bad
        ids = instance.projects["id"].to_numpy()
        first, years = instance.first_year, instance.years
        started = np.zeros((len(ids), len(years)))
        starts = usage.starts
        if len(starts):
            at = pd.Index(ids).get_indexer(starts["project"])
            when = np.clip(starts["start"].to_numpy(dtype=np.int64) - first, 0, None)
            inside = when < len(years)
            np.add.at(started, (at[inside], when[inside]),
                      starts["units"].to_numpy(dtype=float)[inside])
        by = np.cumsum(started, axis=1)  # units started by each year
        a, b, lag = pairs[keep, 0], pairs[keep, 1], lags[keep]
        cap = usage.projects["max_units"].to_numpy(dtype=float)[a]
        before = np.arange(len(years))[None, :] - lag[:, None]
        theirs = np.where(before >= 0, by[b[:, None], np.clip(before, 0, None)], 0.0)
        mine = by[a]
        broken = mine > cap[:, None] * theirs + 1e-9
        for p in np.flatnonzero(broken.any(axis=1)):
            t = int(np.argmax(broken[p]))
            key = (ids[a[p]], ids[b[p]], int(years[t]))
            limit = float(cap[p] * theirs[p, t])
            bad.append(Violation(NAME_LAGGED, f"{key[0]} requires {key[1]} by {key[2]}",
                                 float(mine[p, t]), limit, float(mine[p, t]) - limit,
                                 RuleRef(LAGGED, key)))
        return bad

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """Dependencies on forced choices, and cycles of requirements."""
        out: list[Finding] = []
        ids = instance.ids
        forced = np.asarray(instance.force_in, dtype=bool)
        allowed = ~np.asarray(instance.force_out, dtype=bool)
        for a, b in np.asarray(instance.requires).reshape(-1, 2):
            ref = RuleRef(REQUIRES, (ids[a], ids[b]))
            if instance.force_out[b] and forced[a]:
                out.append(Finding("conflict", REQUIRES, f"{ids[a]}->{ids[b]}",
                                   f"{ids[a]} is forced in but requires {ids[b]}, which is "
                                   "forced out", ref))
            elif instance.force_out[b] and allowed[a]:
                out.append(Finding("note", REQUIRES, f"{ids[a]}->{ids[b]}",
                                   f"{ids[a]} requires {ids[b]}, which is forced out: "
                                   f"{ids[a]} can never be funded", ref))
        for group in instance.excludes:
            if forced[group].sum() > 1:
                members = np.zeros(len(ids), dtype=bool)
                members[group[forced[group]]] = True
                key = ", ".join(map(str, ids[group]))
                out.append(Finding("conflict", EXCLUDES, key,
                                   f"at most one of {key} may be funded, but "
                                   f"{names(ids, members)} are forced in",
                                   RuleRef(EXCLUDES, tuple(ids[group]))))
        for group in requires_cycles(instance.requires, instance.n_projects):
            members = np.zeros(instance.n_projects, dtype=bool)
            members[group] = True
            out.append(Finding("note", REQUIRES, names(ids, members),
                               f"projects {names(ids, members)} require each other in a "
                               "cycle: they are funded all together or not at all"))
        return out

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        rule = self.rule(ref.rule)
        if ref.rule == LAGGED:
            a, b, t = ref.key
            lag = self._lag_of(words.instance, a, b)
            msg = (f"project {a} may start only {lag} year{'s' * (lag != 1)} after {b}, and "
                   f"by {t} the other rules{words.with_forced} leave {b} too late")
            return Conflict(LAGGED, rule.conflict_key(ref.key), 0.0, reached, msg, ref)
        if ref.rule == REQUIRES:
            a, b = ref.key
            msg = f"project {a} requires {b}, which the other rules rule out{words.with_forced}"
            return Conflict(REQUIRES, rule.conflict_key(ref.key), 0.0, reached, msg, ref)
        msg = (f"at most one of {', '.join(ref.key)} may be funded, but the other rules need "
               f"{people(reached + 1 if side == 'upper' else reached)}{words.with_forced}")
        return Conflict(EXCLUDES, rule.conflict_key(ref.key), 1.0, reached, msg, ref)


    @staticmethod
    def _lag_of(instance: Instance, a: str, b: str) -> int:
        ids = list(instance.ids)
        pairs = np.asarray(instance.requires).reshape(-1, 2)
        for (x, y), lag in zip(pairs, lags_of(instance), strict=True):
            if ids[x] == a and ids[y] == b and lag >= 0:
                return int(lag)
        return 0


FAMILY = Dependencies()
