"""The rules between fields: the tables' columns against the vocabulary, the projects
(unique ids, known sectors, a start inside the horizon, reinvestments given whole), the
profiles (known projects, no year before the horizon or given twice, sums matching a
given capital) and the dependencies (known projects, their cycles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from formulations.graphs import requires_cycles
from optimizer.errors import printable
from optimizer.program import vocabulary as voc
from optimizer.program.cells import filled, read_numbers, text_column
from optimizer.program.fields import check_keys, read_fields
from optimizer.program.tables import Table, column_cells, report_rows
from optimizer.program.words import Context, HugeNumber, bad_character, got_words, quoted

__all__ = ["PROFILE_SUM_RTOL", "check_columns", "table_metadata", "validate_projects",
           "validate_profiles", "validate_rows", "match_profiles", "read_dependencies",
           "requires_cycles", "warn_cycles"]

#: Relative tolerance for "capital, if given, must equal the profile's sum".
PROFILE_SUM_RTOL = 1e-6


def read_dependencies(ctx: Context, doc: Mapping[str, Any], positions: Mapping[str, int],
                      metadata: dict[str, Any] | None = None
                      ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """The ``requires`` pairs (positions: a requires b), the ``excludes`` groups and
    each pair's ``lag`` (version 2; -1 where none is given). Each
    entry's keys are those of its type (:data:`~optimizer.program.vocabulary.DEPENDENCY_TYPES`):
    its required keys must be there, an ``id`` key names one project, an ``ids`` key two
    or more distinct ones."""
    value = doc.get("dependencies")
    requires: list[tuple[int, ...]] = []
    lags: list[int] = []
    excludes: list[np.ndarray] = []
    none = np.zeros(0, dtype=np.int64)
    if value is None:
        return np.zeros((0, 2), dtype=np.int64), excludes, none
    if not isinstance(value, list):
        ctx.add("dependencies", f"must be a list, got {got_words(value)}")
        return np.zeros((0, 2), dtype=np.int64), excludes, none
    types = voc.names_words([repr(t) for t in voc.DEPENDENCY_TYPES], "or")

    def ref(item: Any, key: str, row: str) -> int | None:
        if isinstance(item, HugeNumber):
            item = item.literal
        elif isinstance(item, int) and not isinstance(item, bool):
            item = str(item)  # an integer id is unambiguous: YAML's `on: 7` is id "7"
        if not isinstance(item, str):
            ctx.add(f"dependencies.{key}", f"must be a project id (text, or a whole number), "
                    f"got {got_words(item)}", row=row)
            return None
        bad = bad_character(item, name=True)
        if bad is not None:
            ctx.add(f"dependencies.{key}", f"{quoted(item)} {bad}", row=row)
            return None
        pid = item.strip(voc.BLANKS)
        if pid not in positions:
            ctx.add(f"dependencies.{key}", f"unknown project id {quoted(pid)}", row=row)
            return None
        return positions[pid]

    for i, dep in enumerate(value):
        row = f"dependencies[{i}]"
        if not isinstance(dep, Mapping):
            ctx.add("dependencies", f"each entry must be a mapping, got {got_words(dep)}",
                    row=row)
            continue
        kind = dep.get("type")
        # the keys of its type; of every type where the type itself is wrong
        section = voc.DEPENDENCY_TYPES.get(kind) if isinstance(kind, str) else None
        check_keys(ctx, dep, section or voc.ANY_DEPENDENCY, "dependencies", row=row,
                   metadata=metadata)
        if section is None:
            ctx.add("dependencies.type", f"must be {types}, got {got_words(kind)}", row=row)
            continue
        missing = [k for k in section.required(ctx.version) if k not in dep]
        for key in missing:
            ctx.add(f"dependencies.{key}", f"is required for a {kind!r} dependency", row=row)
        if missing:
            continue
        named: Any = None  # the first of them, as given
        one: list[int | None] = []  # the `id` keys, in the vocabulary's order
        lag = -1
        for f in section.fields:
            if f.kind == "integer" and f.since <= ctx.version and dep.get(f.name) is not None:
                got = read_fields(ctx, {f.name: dep[f.name]}, voc.Section(
                    "dependencies", "", (f,)), "dependencies")[f.name]
                if got is None:
                    one.append(None)  # refused: the entry is not read
                else:
                    lag = int(got)
                continue
            if f.kind == "id":
                one.append(ref(dep[f.name], f.name, row))
                named = dep[f.name] if len(one) == 1 else named
            elif f.kind == "ids":
                group = dep[f.name]
                if not isinstance(group, list) or len(group) < 2:
                    ctx.add(f"dependencies.{f.name}", f"a {kind!r} dependency needs a list of "
                            f"two or more ids, got {quoted(group)}", row=row)
                    break
                members = [ref(g, f.name, row) for g in group]
                if None in members:
                    break
                if len(set(members)) != len(members):
                    ctx.add(f"dependencies.{f.name}", "names the same project twice", row=row)
                    break
                excludes.append(np.array(members, dtype=np.int64))
        if one and None not in one:
            pair = tuple(int(x) for x in one if x is not None)
            if len(set(pair)) == 1:
                ctx.warnings.append(f"{printable(ctx.file)}: {row}: project "
                                    f"{quoted(named)} requires itself; the rule has "
                                    "no effect")
            requires.append(pair)
            lags.append(lag)
    pairs = np.array(requires, dtype=np.int64).reshape(-1, 2)
    return pairs, excludes, np.array(lags, dtype=np.int64)


def warn_cycles(ctx: Context, pairs: np.ndarray, ids: np.ndarray) -> None:
    """Cycles of `requires` are legal (all or nothing); say so, as a warning."""
    for group in requires_cycles(pairs, len(ids))[:20]:
        members = ", ".join(map(voc.shown, ids[group[:10]]))
        ctx.warnings.append(f"{printable(ctx.file)}: dependencies: projects {members} require "
                            "each other in a cycle: they are funded all together or not at all")


def validate_profiles(ctx: Context, table: Table, positions: Mapping[str, int],
                      first: int) -> pd.DataFrame:
    """The profiles table (:data:`~optimizer.program.vocabulary.PROFILES`), validated: numeric
    columns by their fields (blank cells their defaults), every project known, no year
    before the horizon or given twice for one project."""
    out = validate_rows(ctx, table, voc.PROFILES, positions, ("project", "year"),
                        keep="all")
    year = out["year"].to_numpy()
    early = year < first
    report_rows(ctx, table, "year", early,
                lambda i: f"year {int(year[i])} is before the horizon's first year {first}")
    return out


def validate_rows(ctx: Context, table: Table, section: voc.Section,
                  positions: Mapping[str, int], unique: tuple[str, ...],
                  keep: str = "first") -> pd.DataFrame:
    """A table of rows about projects (``profiles``: project, year, capital, labor;
    ``cash_flows``: project, offset, cash), validated: every column by its field (blank
    cells their defaults), the ``project`` known, no two rows with the same values of
    ``unique`` (each repeat named, or with ``keep="all"`` every row of a repeated
    pair)."""
    columns: dict[str, Any] = {}
    for f in section.fields:
        if f.numeric:
            columns[f.name] = filled(table, f, read_numbers(ctx, table, f), math.nan)
        else:
            columns[f.name] = text_column(ctx, table, f).to_numpy(dtype=object)
    pid = column_cells(table, "project")
    known = pid.isin(positions.keys()).to_numpy()
    raw = pid.to_numpy()
    report_rows(ctx, table, "project", ~known & (pid != "").to_numpy(),
                lambda i: f"unknown project id {quoted(raw[i])}")
    out = pd.DataFrame(columns)
    last = unique[-1]
    dup = out.duplicated(list(unique), keep=False if keep == "all" else "first").to_numpy()
    dup = dup & known & np.isfinite(out[last].to_numpy(dtype=float))
    values = out[last].to_numpy(dtype=float)
    report_rows(ctx, table, last, dup,
                lambda i: f"project {quoted(raw[i])} has more than one row for {last} "
                          f"{int(values[i])}")
    return out


def validate_projects(ctx: Context, table: Table, sectors: list[str], first: int | None,
                      last: int | None, profiled: set[str] | None,
                      optional: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The projects table (:data:`~optimizer.program.vocabulary.PROJECTS`), validated: every
    column by its field (kind, bound, required, allowed values; a column required unless
    the project has profile rows is required for the others), blank cells their
    defaults; then the rules between columns and the program (unique ids, known sectors,
    a start inside the horizon, reinvestments given whole). ``profiled`` is None where
    the profiles table could not be read whole: which projects have profile rows is then
    not known, and the columns required unless profiled are not required of any row. Such
    a column missing from the table is one problem (at the header), not one per row. The
    columns of a later version than the file's (refused by :func:`check_columns` where
    given) hold their defaults: every program has every column. A year column without a
    default, and a later version's column without one, hold NaN where blank (a family
    fills it: ``earliest_start`` is ``start``).
    ``optional`` names required columns this program may leave blank (version 2's
    ``return`` under ``objective: npv``): blank is 0."""
    ids = column_cells(table, "id")
    has_profile = (ids.isin(profiled).to_numpy() if profiled is not None
                   else np.ones(len(ids), dtype=bool))
    columns: dict[str, Any] = {}
    for f in voc.PROJECTS.fields:
        # blank: 0 in version 1's columns (no reinvestment); NaN in a year column or a
        # later version's column without a default (the rule or family fills it)
        absent = math.nan if f.kind == "year" or f.since > 1 else 0.0
        if f.since > ctx.version:
            default = ("" if f.default is None else f.default) if not f.numeric else \
                (absent if f.default is None else float(f.default))
            columns[f.name] = np.full(len(table.frame), default,
                                      dtype=float if f.numeric else object)
        elif f.numeric:
            need = ~has_profile if f.unless_profiled else (f.required
                                                           and f.name not in optional)
            if f.unless_profiled and f.name not in table.frame.columns and \
                    (count := int(np.count_nonzero(need))):
                ctx.add(f.name, f"required column is missing from the projects table: "
                                f"{count:,} project{'s' if count > 1 else ''} without "
                                "profile rows need it", file=table.file, row="(header)")
                need = np.zeros_like(need)
            values = read_numbers(ctx, table, f, required=need)
            fill = not (f.unless_profiled or need is True)  # else a blank is a problem
            columns[f.name] = filled(table, f, values, absent) if fill else values
        else:
            columns[f.name] = text_column(ctx, table, f).to_numpy(dtype=object)
    raw_ids = columns["id"]
    dup = (ids.duplicated(keep=False) & (ids != "")).to_numpy()
    first_row: dict[str, int] = {}
    for i in np.flatnonzero(dup):
        first_row.setdefault(raw_ids[i], int(i))
    report_rows(ctx, table, "id", dup & ids.duplicated(keep="first").to_numpy(),
                lambda i: f"duplicate id {quoted(raw_ids[i])} (first used in "
                          f"{table.row_label(first_row[raw_ids[i]])})")
    sector = column_cells(table, "sector")
    raw_sector = columns["sector"]
    unknown = ~sector.isin(sectors).to_numpy() & (sector != "").to_numpy()
    names = ", ".join(map(voc.shown, sectors[:20])) or "no sector it can use"
    names += (
        f" and {len(sectors) - 20:,} more" if len(sectors) > 20 else "")
    report_rows(ctx, table, "sector", unknown,
                lambda i: f"unknown sector {quoted(raw_sector[i])}; the program names: "
                          f"{names}")
    start = columns["start"]
    if first is not None and last is not None:
        outside = np.isfinite(start) & ((start < first) | (start > last))
        report_rows(ctx, table, "start", outside,
                    lambda i: f"year {int(start[i])} is outside the horizon [{first}, {last}]")
        start[outside] = np.nan
    every_blank = (column_cells(table, "reinvest_every") == "").to_numpy()
    again_blank = (column_cells(table, "reinvest_capital") == "").to_numpy()
    report_rows(ctx, table, "reinvest_capital", every_blank & ~again_blank,
                lambda i: "is given but reinvest_every is not; give both or neither")
    report_rows(ctx, table, "reinvest_every", ~every_blank & again_blank,
                lambda i: "is given but reinvest_capital is not; give both or neither")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(table.frame)))


def match_profiles(ctx: Context, table: Table, projects: pd.DataFrame,
                   profiles: pd.DataFrame) -> None:
    """Profiled projects: capital, if given, equals the profile sum; start defaults to the
    profile's first year (both as the format defines)."""
    if profiles.empty:
        return
    valid = profiles.dropna(subset=["year", "capital"])
    sums = valid.groupby("project", sort=False)["capital"].sum()
    firsts = valid.groupby("project", sort=False)["year"].min()
    pos = projects["id"].map(sums)
    has = pos.notna().to_numpy()
    given = projects["capital"].to_numpy()
    text = column_cells(table, "capital").to_numpy()
    blank = text == ""
    target = pos.to_numpy(dtype=float)
    mismatch = has & ~blank & np.isfinite(given) & ~np.isclose(given, target,
                                                                rtol=PROFILE_SUM_RTOL, atol=1e-9)
    report_rows(ctx, table, "capital", mismatch,
                lambda i: f"is {given[i]:g} but the project's profile rows sum to "
                          f"{target[i]:g}; they must be equal (or leave capital empty)")
    zero = has & (target <= 0)
    report_rows(ctx, table, "capital", zero,
                lambda i: "the project's profile rows sum to 0: one unit must cost > 0")
    projects.loc[has & blank, "capital"] = target[has & blank]
    start_blank = (column_cells(table, "start") == "").to_numpy()
    fill = has & start_blank
    projects.loc[fill, "start"] = projects.loc[fill, "id"].map(firsts).to_numpy(dtype=float)


def check_columns(ctx: Context, table: Table | None, spec: Any, section: voc.Section,
                  field_name: str, optional: frozenset[str] = frozenset()) -> Table | None:
    """The columns of a table as read: every column the vocabulary does not define in the
    file's version is a problem naming the table's file, the column and the nearest known
    name, or the version it exists from (in the header of a CSV table; at the first entry
    that has it in an inline list); every required column must be there. Columns
    beginning with ``x_`` are user metadata, ignored. (A CSV header cell with no name is
    refused as the table is read.) Returns the table, or None when a required column is
    missing."""
    if table is None:
        return None
    known = section.names(ctx.version)
    unknown = [str(c) for c in section.unknown(table.frame.columns, ctx.version)
               if str(c) not in table.bad_columns]
    if isinstance(spec, list):
        # where each unknown name first appears, and in how many entries (one pass)
        wanted = set(unknown)
        first_row: dict[str, int] = {}
        count: dict[str, int] = {}
        for i, item in enumerate(spec if wanted else ()):
            for k in item if isinstance(item, Mapping) else ():
                key = str(k)
                if key in wanted:
                    first_row.setdefault(key, i)
                    count[key] = count.get(key, 0) + 1
        for name in unknown:
            times = count.get(name, 1)
            more = f" (also in {times - 1} more {field_name} entries)" if times > 1 else ""
            ctx.add(f"{field_name}.{voc.shown(name)}",
                    _unknown_words(section, name, known, ctx.version, "field") + more,
                    row=f"{field_name}[{first_row.get(name, 0)}]")
    else:
        for name in unknown:
            ctx.add(voc.shown(name), _unknown_words(section, name, known, ctx.version,
                                                    "column"),
                    file=table.file, row="(header)")
    missing = [c for c in section.required(ctx.version)
               if c not in table.frame.columns and c not in optional]
    for col in missing:
        ctx.add(col, f"required column is missing from the {field_name} table",
                file=table.file, row="(header)")
    return None if missing else table


def _unknown_words(section: voc.Section, name: str, known: tuple[str, ...], version: int,
                   what: str) -> str:
    """Why a column of a table is refused: it exists from a later version than the file's,
    or in none (with the nearest known name)."""
    since = section.later(name, version)
    if since is not None:
        return voc.version_message(name, since, version, what)
    return voc.unknown_message(name, known, what=what)


def table_metadata(table: Table, field_name: str, metadata: dict[str, Any]) -> None:
    """Keep a table's metadata columns (x_...): ``projects.x_color`` is the tuple of the
    column's cell texts in the table's row order ("" for an empty cell; in an inline list,
    a scalar as its text, anything else empty). A column whose name was refused is not
    kept."""
    for name in table.frame.columns:
        key = str(name)
        if voc.is_metadata(key) and key not in table.bad_columns:
            metadata[f"{field_name}.{key}"] = tuple(str(c) for c in table.frame[name])
