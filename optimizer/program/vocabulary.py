"""The vocabulary of the program format: every key and every column, in one place.

The loader (:mod:`optimizer.program.loading`) takes from here which keys and columns exist,
which are required and what an unknown name is nearest to; the JSON Schema
(:mod:`optimizer.program.schema`) and the tables of ``docs/format.md`` (:func:`markdown`) are
generated from it. Numeric bounds come from :mod:`optimizer.limits`.

A key or column that is not named here is an error, except names beginning with ``x_``
(:func:`is_metadata`), which are the user's own: kept where sensible, never interpreted.

Each :class:`Field` says in which format version it first exists (``since``), so a later
version (``capital-portfolio/2`` adds an ``economics`` section and new columns) adds
fields and sections here without changing version 1's meaning.

The grammar of the format's texts (what a number, a blank and a year key look like) is
here too, as regular expressions in text (:data:`PLAIN_DECIMAL`, :data:`BLANK`,
:data:`YEAR_KEY_TEXT`): the YAML reader, the cell reader and the JSON Schema all build
their patterns from them, so they accept the same texts.

``python -m optimizer.program.vocabulary --write docs/format.md`` replaces the text between the
markers ``<!-- BEGIN generated: fields -->`` and ``<!-- END generated: fields -->`` (and
``<!-- BEGIN generated: limits -->`` / ``<!-- END generated: limits -->``) of that file
with :func:`markdown` (and :func:`limits_markdown`); ``--check`` says whether it is up to
date (:mod:`optimizer.cli.clidoc` holds the machinery, shared with the CLI reference).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from formulations.registry import FAMILIES
from optimizer import generated, limits
from optimizer.limits import (
    BUILD_YEARS,
    MAX_UNITS,
    MONEY,
    PEOPLE,
    REINVEST_EVERY,
    YEAR,
    Bound,
)
from optimizer.program.sizes import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_VALUES,
    MAX_INTEGER_DIGITS,
    MAX_TABLE_BYTES,
)
from optimizer.program.terms import (  # the words, re-exported: vocabulary.Field, ...
    BLANK,
    BLANKS,
    CONTROL_BUT_NEWLINE,
    CONTROL_CHARACTERS,
    FORMAT,
    FORMATS,
    KINDS,  # noqa: F401
    LATEST,
    METADATA_PREFIX,
    MONEY_AT_LEAST_0,
    NUMERIC_KINDS,
    PLAIN_DECIMAL,
    PLAIN_INTEGER,
    YEAR_KEY_TEXT,
    Field,
    Section,
    is_metadata,
    names_words,
    number_text,
    shown,
    shown_value,
    suggest,
    unknown_message,
    version_message,
)

__all__ = ["Field", "Section", "FORMAT", "FORMATS", "LATEST", "METADATA_PREFIX", "PROGRAM",
           "BUDGET", "SECTOR", "LABOR", "UNITS", "REQUIRES", "EXCLUDES", "DEPENDENCY_TYPES",
           "ANY_DEPENDENCY", "PROJECTS", "PROFILES", "SECTIONS", "NUMERIC_KINDS",
           "BLANKS", "BLANK", "CONTROL_CHARACTERS", "CONTROL_BUT_NEWLINE", "PLAIN_INTEGER",
           "PLAIN_DECIMAL", "YEAR_KEY_TEXT",
           "is_metadata", "suggest", "unknown_message", "version_message", "shown",
           "shown_value", "names_words", "FAMILY_FIELDS", "FAMILY_COLUMNS",
           "markdown", "limits_markdown", "write_markdown", "generated_block",
           "BEGIN_MARKER", "END_MARKER", "LIMITS_BEGIN", "LIMITS_END", "BLOCKS"]

# ------------------------------------------------------------------ families
#: The top-level keys of version 1, in the order the documentation lists them. Some are
#: the format's own (below); the others belong to a rule family, which declares them
#: (``budget``, ``hurdle_rate``, ``sectors``, ``labor``, ``dependencies``). The list is
#: fixed: version 1's keys never change.
VERSION_1_KEYS = ("format", "name", "horizon", "budget", "hurdle_rate", "sectors", "labor",
                  "units", "projects", "profiles", "dependencies", "known_optimum",
                  "known_optimum_proven", "description", "source", "notes")

#: The top-level keys and the project columns the rule families declare
#: (:data:`formulations.registry.FAMILIES`, each family's ``fields`` and ``columns``, in
#: the registry's order), and the other sections of their keys (a dependency's).
FAMILY_FIELDS: tuple[Field, ...] = tuple(f for family in FAMILIES for f in family.fields)
FAMILY_COLUMNS: tuple[Field, ...] = tuple(f for family in FAMILIES for f in family.columns)
FAMILY_SECTIONS: tuple[Section, ...] = tuple(
    s for family in FAMILIES for s in (*(f.section for f in family.fields
                                         if f.section is not None), *family.sections))


def _family_section(place: str) -> Section:
    for s in FAMILY_SECTIONS:
        if s.place == place:
            return s
    raise ValueError(f"no rule family declares the section {place!r}")


def _with_families(own: tuple[Field, ...], added: tuple[Field, ...], what: str,
                   order: tuple[str, ...] = ()) -> tuple[Field, ...]:
    """The format's own fields and the families', the version-1 ones in ``order``, then
    those of later versions (a name given twice is a mistake of a family, refused on
    import). A family's version-1 field must be one of ``order`` and a field of a later
    version must not, so that version 1 keeps exactly its names."""
    names = [f.name for f in own]
    for f in added:
        if f.name in names:
            raise ValueError(f"the {what} {f.name!r} of a rule family is defined twice")
        if (f.since < 2) != (f.name in order):
            raise ValueError(f"the {what} {f.name!r} of a rule family: a key of version 1 "
                             "is one of its fixed keys, any other exists from a later "
                             "version (Field.since)")
        if f.since not in FORMATS:
            raise ValueError(f"the {what} {f.name!r} exists from version {f.since}, which "
                             "is no version of the format")
        names.append(f.name)
    every = {f.name: f for f in (*own, *added)}
    first = [every[name] for name in order if name in every]
    missing = [name for name in order if name not in every]
    if missing:
        raise ValueError(f"no {what} defines the version-1 keys {missing}")
    return (*first, *(f for f in (*own, *added) if f.name not in order))


#: The sections of the rule families' keys, by the name the loader and the documentation
#: use (they are defined in the families: ``formulations/budget.py`` holds ``budget``).
BUDGET = _family_section("budget")
SECTOR = _family_section("sectors.<name>")
LABOR = _family_section("labor")
REQUIRES = _family_section("dependencies[] (requires)")
EXCLUDES = _family_section("dependencies[] (excludes)")
ANY_DEPENDENCY = _family_section("dependencies[]")
#: Every kind of dependency by its ``type``.
DEPENDENCY_TYPES = {"requires": REQUIRES, "excludes": EXCLUDES}


# ------------------------------------------------------------------ sections
UNITS = Section("units", "`units`: labels of the program's units", (
    Field("money", "text", "label of every amount of money in reports (a label only: "
          "numbers are never converted)", default="$B", max_length=40),
    Field("labor", "text", "label of every count of people in reports (a label only)",
          default="specialists", max_length=40),
))

PROJECTS = Section("projects", "`projects`: one row per candidate project", _with_families((
    Field("id", "text", "unique key of the project", required=True),
    Field("name", "text", "label for reports", default_text="empty"),
    Field("sector", "text", "the project's sector: one of `sectors`", required=True),
    Field("capital", "number", "capital of one unit; with profile rows, if given, it must "
          "equal their sum", unless_profiled=True, unit="$B per unit",
          bound=MONEY_AT_LEAST_0, low_exclusive=True, default_text="the sum of its profile rows"),
    Field("return", "number", "expected return of one unit over the horizon, net of "
          "principal repayment (may be negative)", required=True, unit="$B per unit",
          bound=MONEY),
    Field("start", "year", "first year of disbursement, inside the horizon",
          unless_profiled=True, bound=YEAR,
          default_text="its first profile year"),
    Field("build_years", "integer", "capital is disbursed in equal parts over start .. "
          "start + build_years - 1 (ignored for a project with profile rows)", default=1,
          unit="years", bound=BUILD_YEARS),
    Field("labor", "number", "specialists needed in each build year (ignored for a "
          "project with profile rows: their labor applies)", default=0,
          unit="specialists per unit and build year", bound=PEOPLE),
    Field("reinvest_every", "integer", "years between reinvestments (give "
          "reinvest_capital too)", unit="years", bound=REINVEST_EVERY,
          default_text="no reinvestment"),
    Field("reinvest_capital", "number", "capital of each reinvestment, disbursed in year "
          "start + k * reinvest_every for k = 1, 2, ... while inside the horizon (no "
          "labor)", unit="$B per unit and reinvestment", bound=MONEY_AT_LEAST_0,
          default_text="no reinvestment"),
    Field("max_units", "integer", "how many identical units may be funded", default=1,
          unit="units", bound=MAX_UNITS),
    Field("force", "text", "`in`: must be funded (at least one unit); `out`: must not be "
          "funded; empty: free", values=("in", "out"), default_text="empty (free)"),
), FAMILY_COLUMNS, "column"), kind="table")

PROFILES = Section("profiles", "`profiles`: a project's capital and labor year by year", (
    Field("project", "text", "id of a project in `projects`", required=True),
    Field("year", "year", "the year (not before the horizon's first year; years after "
          "its last count toward `budget.total` and the sectors only)", required=True,
          bound=YEAR),
    Field("capital", "number", "capital of one unit in that year", required=True,
          unit="$B per unit in that year", bound=MONEY_AT_LEAST_0),
    Field("labor", "number", "specialists one unit needs in that year", default=0,
          unit="specialists per unit in that year", bound=PEOPLE),
), kind="table")

PROGRAM = Section("(program)", "The program file: top-level fields", _with_families((
    Field("format", "text", "the format and version of this file", required=True,
          values=tuple(FORMATS.values())),
    Field("name", "text", "label for reports", default_text="the file's name",
          nullable=False),
    Field("horizon", "horizon", "[first year, last year] of planning, inclusive",
          required=True, bound=YEAR),
    Field("units", "mapping", "labels of money and labor in reports (below)",
          section=UNITS, default_text="`$B`, `specialists`"),
    Field("projects", "table", "the candidate projects: a CSV path relative to this file, "
          "or an inline list of mappings with the same columns", required=True,
          section=PROJECTS),
    Field("profiles", "table", "year-by-year capital and labor of some projects: a CSV path "
          "or an inline list", section=PROFILES, default_text="no profiles"),
    Field("known_optimum", "number", "benchmark metadata: the best objective value known",
          unit="as the objective", bound=MONEY),
    Field("known_optimum_proven", "boolean", "benchmark metadata: whether known_optimum is "
          "proven optimal"),
    Field("description", "text", "free text (may span lines)", multiline=True),
    Field("source", "text", "free text: where the program comes from (may span lines)",
          multiline=True),
    Field("notes", "text", "free text (may span lines)", multiline=True),
), FAMILY_FIELDS, "field", VERSION_1_KEYS))

#: Every section, in the order the documentation lists them.
SECTIONS = (PROGRAM, BUDGET, SECTOR, LABOR, UNITS, REQUIRES, EXCLUDES, PROJECTS, PROFILES)


# ------------------------------------------------------------------ markdown
BEGIN_MARKER = "<!-- BEGIN generated: fields -->"
END_MARKER = "<!-- END generated: fields -->"
LIMITS_BEGIN = "<!-- BEGIN generated: limits -->"
LIMITS_END = "<!-- END generated: limits -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _kind_words(f: Field) -> str:
    words = {
        "text": "text", "number": "number", "integer": "whole number", "boolean":
        "`true` / `false`", "year": "year", "horizon": "[year, year]",
        "year_map": "mapping year: number", "mapping": "mapping", "named":
        "mapping name: mapping", "dependencies": "list of mappings", "table":
        "CSV path or list of mappings", "id": "project id", "ids": "list of project ids",
    }
    return words[f.kind]


def _since_words(f: Field) -> str:
    """``**version 2.** ``: how a key or column of a later version than the first is
    marked in the tables (at the start of its meaning)."""
    return f"**version {f.since}.** " if f.since > 1 else ""


def markdown(version: int = LATEST) -> str:
    """The tables of every key and column of the format up to ``version`` (name, type,
    required, default, unit, allowed values or bound, meaning), as markdown, generated
    from this module; a key or column of a version after the first says so (*version
    2*)."""
    out: list[str] = []
    formats = names_words([f"`{FORMATS[v]}`" for v in sorted(FORMATS) if v <= version])
    later = [v for v in sorted(FORMATS) if 1 < v <= version]
    marked = (f" A key or column whose meaning begins **version {later[0]}.** exists only "
              f"in a file that says `format: {FORMATS[later[0]]}`."
              if len(later) == 1 else
              " A key or column whose meaning begins **version N.** exists from "
              "`format: capital-portfolio/N` on." if later else "")
    out.append(f"Generated from `optimizer/program/vocabulary.py` (format{'s' * (version > 1)} "
               f"{formats}) by `python -m optimizer.program.vocabulary --write "
               "docs/format.md`; do not edit by hand. Every key or column not listed here is "
               f"an error (exit 2), except names beginning with `{METADATA_PREFIX}`, which are "
               "yours (kept, never interpreted), at every depth and in every table."
               f"{marked} Money is in billions of US dollars ($B), labor in specialists "
               "(headcount), years are calendar years.")
    for section in SECTIONS:
        if section.since > version:
            continue
        out.append("")
        out.append(f"### {section.title}")
        out.append("")
        name_head = "column" if section.kind == "table" else "key"
        out.append(f"| {name_head} | type | required | default | unit | allowed | meaning |")
        out.append("|---|---|---|---|---|---|---|")
        for f in section.fields:
            if f.since > version:
                continue
            allowed = f.allowed_words()
            if section is PROGRAM and f.name == "format":  # the versions up to this one
                allowed = ", ".join(f"`{FORMATS[v]}`" for v in sorted(FORMATS) if v <= version)
            row = [f"`{f.name}`", _kind_words(f), f.required_words, f.default_words,
                   f.unit, allowed, _since_words(f) + f.description]
            out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(out) + "\n"


def limits_markdown() -> str:
    """The table of the bounds on numbers (:mod:`optimizer.limits`) and of the size and
    nesting limits of the files (:mod:`optimizer.program.sizes`), as markdown."""
    def span(bound: Bound) -> str:
        return f"{number_text(bound.low)} to {number_text(bound.high)}"

    year = f"{int(limits.YEAR.low)} to {int(limits.YEAR.high)}"
    rows = [
        ("a year (horizon, `start`, profile year, key of a per-year mapping)",
         f"{year}; a horizon spans at most {limits.HORIZON_YEARS} years"),
        ("`build_years`", f"{span(limits.BUILD_YEARS)}: {limits.BUILD_YEARS.why}"),
        ("`reinvest_every`", f"{span(limits.REINVEST_EVERY)}: {limits.REINVEST_EVERY.why}"),
        ("`max_units`", f"{span(limits.MAX_UNITS)}: {limits.MAX_UNITS.why}"),
        ("money (capital, returns, budgets, floors, ceilings)",
         f"{span(limits.MONEY)}: {limits.MONEY.why}; limits and capital at least "
         f"{number_text(MONEY_AT_LEAST_0.low)}, one unit's capital more than "
         f"{number_text(MONEY_AT_LEAST_0.low)}"),
        ("people (labor per unit, capacity per year)",
         f"{span(limits.PEOPLE)}: {limits.PEOPLE.why}"),
        ("`hurdle_rate`", f"{span(limits.RATE)}: {limits.RATE.why}"),
        ("an integer literal", f"at most {MAX_INTEGER_DIGITS} digits (beyond every bound "
                               "above; refused by name, never converted)"),
    ]
    files = [
        ("a program file (YAML or JSON)", f"at most {MAX_DOCUMENT_BYTES:,} bytes "
                                          f"({MAX_DOCUMENT_BYTES // 2**20} MiB)"),
        ("a CSV table", f"at most {MAX_TABLE_BYTES:,} bytes ({MAX_TABLE_BYTES // 2**30} GiB)"),
        ("nesting of mappings and lists in a program file",
         f"at most {MAX_DOCUMENT_DEPTH} levels (the format needs 4; `x_` metadata may use "
         "the rest)"),
        ("values of a YAML document once its aliases are expanded",
         f"at most {MAX_DOCUMENT_VALUES:,}"),
    ]
    out = ["Generated from `optimizer/limits.py` and `optimizer/program/sizes.py` by "
           "`python -m optimizer.program.vocabulary --write docs/format.md`; do not edit by hand.",
           "", "| kind of number | range |", "|---|---|"]
    out += [f"| {_cell(a)} | {_cell(b)} |" for a, b in rows]
    out += ["", "| what | limit |", "|---|---|"]
    out += [f"| {_cell(a)} | {_cell(b)} |" for a, b in files]
    return "\n".join(out) + "\n"


#: The generated blocks of ``docs/format.md``: (begin marker, end marker, renderer).
BLOCKS = ((BEGIN_MARKER, END_MARKER, markdown), (LIMITS_BEGIN, LIMITS_END, limits_markdown))


def write_markdown(path: str | Path) -> bool:
    """Replace the generated blocks of ``path`` (:data:`BLOCKS`); return whether the file
    changed. Raises ``ValueError`` when a marker is missing."""

    return generated.write_blocks(path, [(b, e, render()) for b, e, render in BLOCKS])


def generated_block(text: str, begin: str = BEGIN_MARKER, end: str = END_MARKER
                    ) -> str | None:
    """The text between two markers of a document (None where they are missing)."""

    try:
        return generated.generated_block(text, begin, end)
    except ValueError:
        return None


def main(argv: Sequence[str] | None = None) -> int:

    return generated.blocks_main("python -m optimizer.program.vocabulary",
                       "Print the format's field tables, or write them (and the table of "
                       "limits) between the markers of a markdown file.",
                       [(b, e, render) for b, e, render in BLOCKS], argv)


if __name__ == "__main__":
    raise SystemExit(main())
