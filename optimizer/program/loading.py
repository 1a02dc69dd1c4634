"""Loading and validation: from a program file to an immutable :class:`Instance`.

This is the one place input is checked. Every problem in a program is collected and
raised at once as an :class:`~optimizer.errors.InstanceError` naming the file, the field
and the row. Nothing is dropped, clipped or filled in behind the user's back: the only
values supplied are the defaults the format itself defines (``Field.default`` in
:mod:`optimizer.program.vocabulary`) and the values it defines from profiles (a profiled
project's ``capital`` and ``start``).

What is checked comes from the vocabulary: which keys and columns exist in the file's
format version and which are required, each one's kind (number, whole number, year, text,
...), bound and allowed values; the loader adds the rules between fields (unique ids,
known sectors, a start inside the horizon, reinvestments given whole, profiles matching
their project), and each rule family of :data:`formulations.registry.FAMILIES` reads its
program-level values (:meth:`~formulations.family.Family.read`) into
:attr:`Instance.params`.

Tables are validated column by column with pandas, so 100,000 projects load in well
under a second; only the rows found wrong are visited one by one, to word their messages.

The work is shared by the modules of this stage, each importing only those before it:
:mod:`~optimizer.program.sizes` (limits), :mod:`~optimizer.program.words` (characters,
markers, how values are quoted, the problem collector), :mod:`~optimizer.program.syntax`
(YAML 1.2 and JSON), :mod:`~optimizer.program.files` (regular files within a size),
:mod:`~optimizer.program.documents` (program documents),
:mod:`~optimizer.program.csvtext` and :mod:`~optimizer.program.tables` (tables),
:mod:`~optimizer.program.cells` (cells by field), :mod:`~optimizer.program.fields` (the
program's mappings), :mod:`~optimizer.program.validate` (the rules between fields) and
:mod:`~optimizer.program.prepare` (the model tables); this module puts them together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from formulations.registry import FAMILIES
from optimizer.errors import InstanceError, Problem, printable
from optimizer.program import vocabulary as voc
from optimizer.program.documents import read_document as _documents_read
from optimizer.program.fields import check_keys, read_fields, read_sectors
from optimizer.program.files import Unreadable, read_regular
from optimizer.program.instance import (
    FAMILY_COLUMNS,
    PROFILE_COLUMNS,
    PROJECT_COLUMNS,
    Instance,
)
from optimizer.program.prepare import prepare
from optimizer.program.shipped import resolve as _resolve_shipped
from optimizer.program.sizes import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_VALUES,
    MAX_INTEGER_DIGITS,
    MAX_TABLE_BYTES,
)
from optimizer.program.tables import read_table, report_rows, table_path
from optimizer.program.validate import (
    PROFILE_SUM_RTOL,
    check_columns,
    match_profiles,
    read_dependencies,
    requires_cycles,
    table_metadata,
    validate_profiles,
    validate_projects,
    validate_rows,
    warn_cycles,
)
from optimizer.program.words import Context, bad_character, clean_source, got_words

__all__ = ["load", "prepare", "table_paths", "read_regular", "Unreadable", "FORMAT",
           "requires_cycles", "MAX_DOCUMENT_BYTES", "MAX_TABLE_BYTES", "MAX_DOCUMENT_VALUES",
           "MAX_DOCUMENT_DEPTH", "MAX_INTEGER_DIGITS", "PROFILE_SUM_RTOL",
           "COEFFICIENT_RANGE_WARN"]

# Names other modules and the tests have long imported from here, under their old names:
# the grammar's patterns, the YAML loader, the CSV readers, the invisible characters.
from optimizer.program.csvtext import clean_csv as _clean_csv  # noqa: E402, F401
from optimizer.program.csvtext import csv_records as _csv_records  # noqa: E402, F401
from optimizer.program.fields import YEAR_TEXT as _YEAR_TEXT  # noqa: E402, F401
from optimizer.program.syntax import PLAIN_INT as _PLAIN_INT  # noqa: E402, F401
from optimizer.program.syntax import PLAIN_NUMBER as _PLAIN_NUMBER  # noqa: E402, F401
from optimizer.program.syntax import SafeLoader as _SafeLoader  # noqa: E402, F401
from optimizer.program.words import INVISIBLE as _INVISIBLE  # noqa: E402, F401

FORMAT = voc.FORMAT


def _read_document(path: Path) -> Any:
    """The document of a program file (:func:`optimizer.program.documents.read_document`),
    within this module's size limits (:data:`MAX_DOCUMENT_BYTES`; a table's,
    :data:`MAX_TABLE_BYTES`, is named where the file is too large)."""
    return _documents_read(path, MAX_DOCUMENT_BYTES, MAX_TABLE_BYTES)


def table_paths(program: str | Path) -> list[Path]:
    """The CSV tables (``projects``, ``profiles``) a program file names, where the loader
    reads them; none when the program cannot be read (:func:`load` then says why). For a
    check before loading, such as an output path that would replace an input."""
    path = _resolve_shipped(program)
    try:
        doc = _read_document(path)
    except InstanceError:
        return []
    if not isinstance(doc, Mapping):
        return []
    return [table_path(path.parent, doc[name]) for name in ("projects", "profiles",
                                                             *_FAMILY_TABLES)
            if isinstance(doc.get(name), str) and bad_character(doc[name]) is None]


#: The family columns of kind year (``earliest_start``), whole after completion.
_YEAR_COLUMNS = tuple(f.name for f in voc.FAMILY_COLUMNS if f.kind == "year")
#: The tables the rule families add (``cash_flows``), by field name.
_FAMILY_TABLES = tuple(f.name for f in voc.FAMILY_FIELDS if f.kind == "table")


def _family_tables(ctx: Context, doc: Mapping[str, Any], base: Path,
                   positions: Mapping[str, int], metadata: dict[str, Any]
                   ) -> dict[str, pd.DataFrame]:
    """The rule families' tables of rows about projects (``cash_flows``), validated
    (:func:`~optimizer.program.validate.validate_rows`): every column by its field,
    known projects, no row given twice."""
    out: dict[str, pd.DataFrame] = {}
    for name in _FAMILY_TABLES:
        f = voc.PROGRAM.field(name)
        section = f.section
        assert section is not None
        empty = pd.DataFrame({c: [] for c in section.names(2)})
        if f.since > ctx.version or doc.get(name) is None:
            out[name] = empty
            continue
        table = check_columns(ctx, read_table(ctx, doc[name], name, base, MAX_TABLE_BYTES),
                              doc[name], section, name)
        if table is None:
            out[name] = empty
            continue
        table_metadata(table, name, metadata)
        if table.frame.empty:
            ctx.add(name, f"the {name} table has no rows; leave `{name}` out instead",
                    file=table.file)
        unique = tuple(c.name for c in section.fields if c.required and c.kind != "number")
        out[name] = validate_rows(ctx, table, section, positions, unique)
    return out


def _complete(ctx: Context, table: Any, projects: pd.DataFrame, top: Mapping[str, Any],
              tables: Mapping[str, pd.DataFrame], first: int, last: int) -> None:
    """Every rule family's rules between columns (:meth:`~formulations.family.Family.
    complete`): the columns it fills in, in place, and the problems, by row."""
    for family in FAMILIES:
        filled_in, rows, program = family.complete(projects, top, tables, first, last)
        for column, values in filled_in.items():
            projects[column] = values
        for column, mask, row_message in rows:
            report_rows(ctx, table, column, np.asarray(mask, dtype=bool), row_message)
        for place, message in program:
            ctx.add(place, message)


def _version(doc: Mapping[Any, Any]) -> int:
    """The format version a program document says (its ``format``). Where it says none
    this package reads, the newest: the problem is the ``format`` field's, reported as
    the field is read, and a key of a later version is then no second problem (nor one
    that tells the file what version it says)."""
    said = doc.get("format")
    for version, name in voc.FORMATS.items():
        if isinstance(said, str) and said == name:
            return version
    return max(voc.FORMATS)


def _family_values(ctx: Context, top: Mapping[str, Any], years: np.ndarray
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every rule family's part of the program (:meth:`~formulations.family.Family.read`
    of the top-level values as read, None where absent): the :class:`Instance` fields
    they set, and the values they keep in ``params``. The problems a family raises are
    the program's (in its file where the family names none)."""
    fields: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for family in FAMILIES:
        try:
            for name, value in family.read(top, years).items():
                (params if name in family.params else fields)[name] = value
        except InstanceError as exc:
            ctx.problems.extend(dataclasses.replace(p, file=p.file or ctx.file)
                                for p in exc.problems)
    return fields, params


def load(path: str | Path) -> Instance:
    """Read and validate a program file (YAML or JSON) of any version of the format
    (``capital-portfolio/1``, ``capital-portfolio/2``).

    Returns an immutable :class:`Instance` with its model tables prepared.
    Raises :class:`~optimizer.errors.InstanceError` listing every problem found, each
    with its file, field and row.
    """
    path = _resolve_shipped(path)  # an existing path as is, else a shipped name: pilot
    ctx = Context(str(path))
    doc = _read_document(path)
    if not isinstance(doc, Mapping):
        raise InstanceError([Problem(ctx.file, "(file)", None,
                                     "must hold a mapping of program fields "
                                     f"(format, horizon, sectors, projects, ...), got "
                                     f"{got_words(doc)}")])
    doc = dict(doc)  # keys as read: one that is no text is refused by name
    ctx.version = _version(doc)  # the keys and columns the file may use
    metadata: dict[str, Any] = {}  # every x_ key, at its dotted place
    check_keys(ctx, doc, voc.PROGRAM, "", metadata=metadata)
    # every scalar and mapping field of the vocabulary, read by its kind and bound
    top = read_fields(ctx, doc, voc.PROGRAM, "", metadata=metadata)
    name = top["name"] if isinstance(top["name"], str) else clean_source(path.stem)
    horizon = top["horizon"]
    first, last = horizon if horizon else (None, None)
    sectors, smin, smax = read_sectors(ctx, doc, metadata)
    known = top["known_optimum"]
    proven = top["known_optimum_proven"]
    units = top["units"] or read_fields(ctx, {}, voc.UNITS, "units")
    money_unit, labor_unit = units["money"], units["labor"]

    base = path.parent
    profiles = pd.DataFrame({c: [] for c in PROFILE_COLUMNS})
    profile_table = None
    before_profiles = len(ctx.problems)
    if doc.get("profiles") is not None:
        # required columns: checked by check_columns, with the unknown ones beside them
        profile_table = check_columns(ctx, read_table(ctx, doc["profiles"], "profiles",
                                                      base, MAX_TABLE_BYTES),
                                      doc["profiles"], voc.PROFILES, "profiles")
    # a problem in the profiles table: which projects have profile rows is not known
    profiles_read = profile_table is not None or doc.get("profiles") is None
    profiles_read &= len(ctx.problems) == before_profiles
    if doc.get("projects") is None:  # required: said by read_fields
        raise InstanceError(ctx.problems)
    # version 2: under `objective: npv` (and no portfolio hurdle) `return` may be left out
    econ = top.get("economics") or {}
    optional = frozenset({"return"}) if (ctx.version >= 2 and econ.get("objective") == "npv"
                                         and top.get("hurdle_rate") is None) else frozenset()
    table = check_columns(ctx, read_table(ctx, doc["projects"], "projects", base,
                                          MAX_TABLE_BYTES),
                          doc["projects"], voc.PROJECTS, "projects", optional)
    if table is None:
        raise InstanceError(ctx.problems)
    if table.frame.empty:
        ctx.add("projects", "the projects table has no rows", file=table.file)
        raise InstanceError(ctx.problems)
    ids = table.frame["id"].tolist()
    positions = {pid: i for i, pid in enumerate(ids) if pid != ""}
    table_metadata(table, "projects", metadata)
    if profile_table is not None:
        table_metadata(profile_table, "profiles", metadata)
    if profile_table is not None:
        if profile_table.frame.empty:
            ctx.add("profiles", "the profiles table has no rows; leave `profiles` out instead",
                    file=profile_table.file)
        elif first is not None:
            before_profiles = len(ctx.problems)
            profiles = validate_profiles(ctx, profile_table, positions, first)
            profiles_read &= len(ctx.problems) == before_profiles
        else:
            profiles_read = False  # no horizon: the profile rows were not read
    projects = validate_projects(ctx, table, sectors, first, last,
                                 set(profiles["project"].unique()) if profiles_read
                                 else None, optional)
    if profile_table is not None:
        match_profiles(ctx, table, projects, profiles)
    requires, excludes, lags = read_dependencies(ctx, doc, positions, metadata)
    tables = _family_tables(ctx, doc, base, positions, metadata)
    if first is not None and last is not None:
        _complete(ctx, table, projects, top, tables, first, last)

    years = np.arange(first, last + 1) if first is not None and last is not None \
        else np.zeros(0, dtype=np.int64)
    family_fields, params = _family_values(ctx, top, years)
    if ctx.problems:
        raise InstanceError(ctx.problems)
    assert first is not None and last is not None
    warn_cycles(ctx, requires, projects["id"].to_numpy())

    projects = projects.astype({"start": np.int64, "build_years": np.int64,
                                "reinvest_every": np.int64, "max_units": np.int64,
                                **{c: np.int64 for c in _YEAR_COLUMNS}})
    profiles = profiles.astype({"year": np.int64, "capital": float, "labor": float})
    instance = Instance(**family_fields,
        name=name,
        source=clean_source(path),
        first_year=first,
        last_year=last,
        sectors=tuple(sectors),
        sector_min=np.array(smin, dtype=float),
        sector_max=np.array(smax, dtype=float),
        projects=projects[[*PROJECT_COLUMNS, *FAMILY_COLUMNS]],
        profiles=profiles[list(PROFILE_COLUMNS)].reset_index(drop=True),
        requires=requires,
        requires_lag=lags,
        excludes=tuple(excludes),
        tables={k: v.reset_index(drop=True) for k, v in tables.items()},
        known_optimum=known,
        known_optimum_proven=proven,
        warnings=tuple(ctx.warnings),
        money_unit=money_unit,
        labor_unit=labor_unit,
        metadata=metadata,
        params=params,
        version=ctx.version,
    )
    prepared = prepare(instance)
    numerics = _numerics_warnings(prepared, ctx.file)
    if numerics:
        prepared = dataclasses.replace(prepared, warnings=prepared.warnings + tuple(numerics))
    return prepared


#: Above this ratio of largest to smallest nonzero magnitude, a warning says the solver's
#: tolerances may not hold (HiGHS itself flags matrix ranges beyond about 1e9).
COEFFICIENT_RANGE_WARN = 1e9


def _numerics_warnings(instance: Instance, file: str) -> list[str]:
    """Warnings for magnitudes that will hurt the solver's numerics: per-unit capital and
    labor (the rows' coefficients), returns (the objective), and the limits."""
    out = []
    groups = (
        ("capital and labor per unit (capital, labor, profiles)",
         np.concatenate([instance.capital_by_year.data, instance.labor_by_year.data,
                         instance.total_capital])),
        ("returns (return)", instance.returns),
        ("limits (budget, sectors, labor capacity)",
         np.concatenate([np.atleast_1d(instance.budget_total or np.nan),
                         instance.budget_per_year, instance.sector_min, instance.sector_max,
                         instance.labor_capacity])),
    )
    for what, values in groups:
        values = np.abs(values[np.isfinite(values)])
        values = values[values > 0]
        if len(values) and values.max() / values.min() > COEFFICIENT_RANGE_WARN:
            out.append(f"{printable(file)}: {what} range from {values.min():.3g} to "
                       f"{values.max():.3g} (a ratio above {COEFFICIENT_RANGE_WARN:.0e}); the "
                       "solver's tolerances may not hold: consider other units (e.g. $B, thousands "
                       "of specialists)")
    return out
