"""The vocabulary of the program format: every key and every column, in one place.

The loader (:mod:`optimizer.loading`) takes from here which keys and columns exist,
which are required and what an unknown name is nearest to; the JSON Schema
(:mod:`optimizer.schema`) and the tables of ``docs/format.md`` (:func:`markdown`) are
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

``python -m optimizer.vocabulary --write docs/format.md`` replaces the text between the
markers ``<!-- BEGIN generated: fields -->`` and ``<!-- END generated: fields -->`` (and
``<!-- BEGIN generated: limits -->`` / ``<!-- END generated: limits -->``) of that file
with :func:`markdown` (and :func:`limits_markdown`); ``--check`` says whether it is up to
date (:mod:`optimizer.clidoc` holds the machinery, shared with the CLI reference).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.limits import (
    BUILD_YEARS,
    HORIZON_YEARS,
    MAX_UNITS,
    MONEY,
    PEOPLE,
    RATE,
    REINVEST_EVERY,
    YEAR,
    Bound,
)

__all__ = ["Field", "Section", "FORMAT", "FORMATS", "METADATA_PREFIX", "PROGRAM", "BUDGET",
           "SECTOR", "LABOR", "UNITS", "REQUIRES", "EXCLUDES", "DEPENDENCY_TYPES",
           "ANY_DEPENDENCY", "PROJECTS", "PROFILES", "SECTIONS", "NUMERIC_KINDS",
           "BLANKS", "BLANK", "CONTROL_CHARACTERS", "CONTROL_BUT_NEWLINE", "PLAIN_INTEGER",
           "PLAIN_DECIMAL", "YEAR_KEY_TEXT",
           "is_metadata", "suggest", "unknown_message", "shown", "shown_value", "names_words",
           "markdown", "limits_markdown", "write_markdown", "generated_block",
           "BEGIN_MARKER", "END_MARKER", "LIMITS_BEGIN", "LIMITS_END", "BLOCKS"]

#: The format this package reads, and every version by number.
FORMAT = "capital-portfolio/1"
FORMATS = {1: FORMAT}
#: Keys and columns beginning with this are user metadata at every depth.
METADATA_PREFIX = "x_"

# ------------------------------------------------------------------ grammar
#: The blanks a cell or a year key may have around it (stripped), and nothing else: a
#: no-break space, a newline or a form feed around a number is not a blank of the format.
BLANKS = " \t"
#: One blank, as a regular expression.
BLANK = "[ \t]"
#: A plain whole number: an optional sign and ASCII digits, without leading zeros (JSON
#: forbids them, and YAML 1.1 reads ``017`` as the octal 15, YAML 1.2 as 17: a program
#: file read by another tool must not change its numbers, so ``017`` is no number here).
PLAIN_INTEGER = r"[-+]?(?:0|[1-9][0-9]*)"
#: A plain decimal number: a :data:`PLAIN_INTEGER` with an optional fraction (``5.``,
#: ``5.25``), or a fraction alone (``.5``), and an optional exponent (``1e3``). Python's
#: int() and float() also read ``1_0``, full-width and Arabic-Indic digits and blanks
#: around the number, which are not numbers in a program file.
PLAIN_DECIMAL = r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
#: The control characters (Unicode category Cc: C0, DEL and C1), as the inside of a
#: character class of a regular expression (Python's and ECMA-262's alike). No text of a
#: program holds one: not an id, a name, a sector, a key, a column name or a path; free
#: text (:attr:`Field.multiline`) may hold a newline.
CONTROL_CHARACTERS = r"\u0000-\u001f\u007f-\u009f"
#: The same without the newline.
CONTROL_BUT_NEWLINE = r"\u0000-\u0009\u000b-\u001f\u007f-\u009f"
#: A year written as text (a JSON key, a quoted YAML key): blanks, then ASCII digits
#: without a sign or a leading zero (group 1), then blanks. Its range is :data:`YEAR`.
YEAR_KEY_TEXT = rf"{BLANK}*([1-9][0-9]*){BLANK}*"

#: Money at or above zero (limits, capital): the magnitude bound of :data:`MONEY`.
_MONEY_AT_LEAST_0 = Bound(0, MONEY.high, MONEY.why)

#: The kinds of value a field holds (``Field.kind``):
#:
#: ``text``, ``number``, ``integer``, ``boolean``, ``year`` (a whole-number calendar
#: year), ``horizon`` (two years), ``year_map`` (a mapping of year to a number),
#: ``mapping`` (a mapping with the keys of ``Field.section``), ``named`` (a mapping of
#: user-chosen names to mappings with the keys of ``Field.section``), ``dependencies``
#: (a list of mappings, one of :data:`DEPENDENCY_TYPES` each), ``table`` (a CSV path or an
#: inline list of mappings with the columns of ``Field.section``), ``id`` (a project id),
#: ``ids`` (a list of project ids).
KINDS = ("text", "number", "integer", "boolean", "year", "horizon", "year_map", "mapping",
         "named", "dependencies", "table", "id", "ids")
#: The kinds that hold one number.
NUMERIC_KINDS = ("number", "integer", "year")


@dataclass(frozen=True)
class Field:
    """One key of a mapping, or one column of a table."""

    name: str
    kind: str
    description: str
    #: required in every file (a conditional requirement: ``unless_profiled``)
    required: bool = False
    #: required unless the project has profile rows (``capital``, ``start``)
    unless_profiled: bool = False
    #: the value used when the field is absent or empty (None: no value, the rule is off)
    default: Any = None
    #: how the default reads in the documentation, where it is not a plain value
    default_text: str | None = None
    #: what one number means: "$B per unit", "specialists per unit and build year", ...
    unit: str = ""
    #: the inclusive range of a number (of the values of a ``year_map``)
    bound: Bound | None = None
    #: the bound's low end is exclusive (capital > 0)
    low_exclusive: bool = False
    #: the only values allowed (text fields)
    values: tuple[str, ...] = ()
    #: the keys of a ``mapping`` / ``named`` field, the columns of a ``table`` field
    section: Section | None = None
    #: the most characters a text field may hold (labels)
    max_length: int | None = None
    #: an optional field may be given as null, read as absent (not ``name``)
    nullable: bool = True
    #: a text field of free text that may hold line breaks (``description``, ``notes``);
    #: no other text of a program holds a control character
    multiline: bool = False
    #: the first format version that has this field
    since: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} for field {self.name!r}")

    @property
    def required_words(self) -> str:
        if self.unless_profiled:
            return "yes, unless the project has profile rows"
        return "yes" if self.required else "no"

    @property
    def integer(self) -> bool:
        """Whether the field holds whole numbers only."""
        return self.kind in ("integer", "year")

    @property
    def numeric(self) -> bool:
        """Whether the field holds one number (a ``year_map``'s values are numbers too,
        but the field is a mapping)."""
        return self.kind in NUMERIC_KINDS

    def holds(self, value: float) -> bool:
        """Whether a number lies inside the field's bound (its low end exclusive where
        ``low_exclusive``); True where the field has no bound."""
        if self.bound is None:
            return True
        if self.low_exclusive:
            return self.bound.low < value <= self.bound.high
        return self.bound.holds(value)

    @property
    def default_words(self) -> str:
        if self.default_text is not None:
            return self.default_text
        if self.default is None:
            return ""
        return f"`{self.default}`"

    def allowed_words(self) -> str:
        """The allowed values or range, in words (for the documentation)."""
        if self.values:
            return ", ".join(f"`{v}`" for v in self.values)
        if self.max_length is not None:
            return f"1 to {self.max_length} characters"
        if self.bound is not None:
            low = number_text(self.bound.low)
            high = number_text(self.bound.high)
            sign = ">" if self.low_exclusive else ">="
            years = f"{int(YEAR.low)} to {int(YEAR.high)}"  # years: no thousands separator
            if self.kind == "horizon":
                return f"years {years}; at most {HORIZON_YEARS} years"
            if self.kind == "year":
                return f"years {years}"
            if self.kind == "year_map":
                return f"years {years}; values {low} to {high}"
            if self.low_exclusive:
                return f"{sign} {low}, at most {high}"
            return f"{low} to {high}"
        return ""


@dataclass(frozen=True)
class Section:
    """The keys of one mapping of the program file, or the columns of one table."""

    #: how the documentation and the problems name it: ``budget``, ``sectors.<name>``
    place: str
    title: str
    fields: tuple[Field, ...]
    #: ``mapping`` (keys of a mapping) or ``table`` (columns of a table)
    kind: str = "mapping"
    #: the first format version that has this section
    since: int = 1

    def names(self, version: int = 1) -> tuple[str, ...]:
        """The names this section defines in the given format version, in order."""
        return tuple(f.name for f in self.fields if f.since <= version)

    def required(self, version: int = 1) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required and f.since <= version)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def unknown(self, names: Iterable[Any], version: int = 1) -> list[Any]:
        """The names (as given) that this section does not define and that are not user
        metadata, in their order."""
        known = set(self.names(version))
        return [n for n in names if not is_metadata(n) and str(n) not in known]


def number_text(value: float) -> str:
    """A number as the documentation and the messages write it, exactly: ``2200``,
    ``1,000,000`` (thousands apart from five digits on), ``1e9``, ``5e9``, ``-1``,
    ``0.5``, ``1.25e10`` (:mod:`optimizer.units` formats amounts with fixed decimals,
    which would not say ``1e9``). A value that is not finite is ``inf`` or ``nan``."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        digits = str(abs(value))  # exact, past what a float holds
        kept = digits.rstrip("0")
        mantissa = kept[0] + (f".{kept[1:]}" if len(kept) > 1 else "")
        return f"{'-' if value < 0 else ''}{mantissa}e{len(digits) - 1}"
    value = float(value)
    if not math.isfinite(value):
        return repr(value)
    if value == int(value) and abs(value) < 1e7:
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    text = repr(value)  # the shortest text that reads back as this float
    if value == int(value) and "e" not in text:
        digits = text.split(".")[0].lstrip("-")
        kept = digits.rstrip("0")
        text = f"{value:.{max(len(kept) - 1, 0)}e}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return text


# ------------------------------------------------------------------ sections
BUDGET = Section("budget", "`budget`: caps on capital", (
    Field("total", "number", "cap on the capital of every funded unit together (its "
          "profile or spread, build years after the horizon included, plus its "
          "reinvestments)", unit="$B over the plan", bound=_MONEY_AT_LEAST_0,
          default_text="no cap"),
    Field("per_year", "year_map", "cap on the capital disbursed in each year it names; a "
          "year it does not name has no cap; a year outside the horizon caps nothing "
          "(a warning)", unit="$B in that year", bound=_MONEY_AT_LEAST_0,
          default_text="no cap"),
))

SECTOR = Section("sectors.<name>", "`sectors.<name>`: one sector's floor and ceiling", (
    Field("min", "number", "floor on the capital committed in the sector (total capital "
          "of its funded units)", unit="$B over the plan", bound=_MONEY_AT_LEAST_0,
          default_text="no floor"),
    Field("max", "number", "ceiling on the capital committed in the sector",
          unit="$B over the plan", bound=_MONEY_AT_LEAST_0, default_text="no ceiling"),
))

LABOR = Section("labor", "`labor`: specialists available", (
    Field("capacity", "year_map", "cap on the specialists needed in each year it names "
          "(every funded unit's labor in that year); a year it does not name has no cap",
          unit="specialists in that year", bound=PEOPLE, default_text="no cap"),
))

UNITS = Section("units", "`units`: labels of the program's units", (
    Field("money", "text", "label of every amount of money in reports (a label only: "
          "numbers are never converted)", default="$B", max_length=40),
    Field("labor", "text", "label of every count of people in reports (a label only)",
          default="specialists", max_length=40),
))

REQUIRES = Section("dependencies[] (requires)",
                   "`dependencies` entry of type `requires`: a funded project needs another", (
                       Field("type", "text", "the kind of dependency", required=True,
                             values=("requires",)),
                       Field("project", "id", "the project that needs `on`: if it is funded, "
                             "`on` is funded too", required=True),
                       Field("on", "id", "the project it needs (the key is the text "
                             "`on`, never a boolean)", required=True),
                   ))

EXCLUDES = Section("dependencies[] (excludes)",
                   "`dependencies` entry of type `excludes`: at most one of a group", (
                       Field("type", "text", "the kind of dependency", required=True,
                             values=("excludes",)),
                       Field("projects", "ids", "two or more distinct project ids; at most "
                             "one of them is funded", required=True),
                   ))

#: Every kind of dependency by its ``type``.
DEPENDENCY_TYPES = {"requires": REQUIRES, "excludes": EXCLUDES}
#: The keys of every kind of dependency together: what an entry whose ``type`` is wrong
#: or missing may hold.
ANY_DEPENDENCY = Section("dependencies[]", "a `dependencies` entry of any type", tuple(
    {f.name: f for s in DEPENDENCY_TYPES.values() for f in s.fields}.values()))

PROJECTS = Section("projects", "`projects`: one row per candidate project", (
    Field("id", "text", "unique key of the project", required=True),
    Field("name", "text", "label for reports", default_text="empty"),
    Field("sector", "text", "the project's sector: one of `sectors`", required=True),
    Field("capital", "number", "capital of one unit; with profile rows, if given, it must "
          "equal their sum", unless_profiled=True, unit="$B per unit",
          bound=_MONEY_AT_LEAST_0, low_exclusive=True, default_text="the sum of its profile rows"),
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
          "labor)", unit="$B per unit and reinvestment", bound=_MONEY_AT_LEAST_0,
          default_text="no reinvestment"),
    Field("max_units", "integer", "how many identical units may be funded", default=1,
          unit="units", bound=MAX_UNITS),
    Field("force", "text", "`in`: must be funded (at least one unit); `out`: must not be "
          "funded; empty: free", values=("in", "out"), default_text="empty (free)"),
), kind="table")

PROFILES = Section("profiles", "`profiles`: a project's capital and labor year by year", (
    Field("project", "text", "id of a project in `projects`", required=True),
    Field("year", "year", "the year (not before the horizon's first year; years after "
          "its last count toward `budget.total` and the sectors only)", required=True,
          bound=YEAR),
    Field("capital", "number", "capital of one unit in that year", required=True,
          unit="$B per unit in that year", bound=_MONEY_AT_LEAST_0),
    Field("labor", "number", "specialists one unit needs in that year", default=0,
          unit="specialists per unit in that year", bound=PEOPLE),
), kind="table")

PROGRAM = Section("(program)", "The program file: top-level fields", (
    Field("format", "text", "the format and version of this file", required=True,
          values=(FORMAT,)),
    Field("name", "text", "label for reports", default_text="the file's name",
          nullable=False),
    Field("horizon", "horizon", "[first year, last year] of planning, inclusive",
          required=True, bound=YEAR),
    Field("budget", "mapping", "caps on capital (below)", section=BUDGET,
          default_text="no caps"),
    Field("hurdle_rate", "number", "total return >= hurdle_rate x total capital of the "
          "funded units", unit="fraction (0.10 is 10%)", bound=RATE,
          default_text="no hurdle"),
    Field("sectors", "named", "every project's sector, by name, each with an optional "
          "floor and ceiling (below); keys beginning with `x_` are metadata, not sectors",
          required=True, section=SECTOR),
    Field("labor", "mapping", "specialists available (below)", section=LABOR,
          default_text="no caps"),
    Field("units", "mapping", "labels of money and labor in reports (below)",
          section=UNITS, default_text="`$B`, `specialists`"),
    Field("projects", "table", "the candidate projects: a CSV path relative to this file, "
          "or an inline list of mappings with the same columns", required=True,
          section=PROJECTS),
    Field("profiles", "table", "year-by-year capital and labor of some projects: a CSV path "
          "or an inline list", section=PROFILES, default_text="no profiles"),
    Field("dependencies", "dependencies", "`requires` and `excludes` rules (below)",
          default_text="none"),
    Field("known_optimum", "number", "benchmark metadata: the best objective value known",
          unit="as the objective", bound=MONEY),
    Field("known_optimum_proven", "boolean", "benchmark metadata: whether known_optimum is "
          "proven optimal"),
    Field("description", "text", "free text (may span lines)", multiline=True),
    Field("source", "text", "free text: where the program comes from (may span lines)",
          multiline=True),
    Field("notes", "text", "free text (may span lines)", multiline=True),
))

#: Every section, in the order the documentation lists them.
SECTIONS = (PROGRAM, BUDGET, SECTOR, LABOR, UNITS, REQUIRES, EXCLUDES, PROJECTS, PROFILES)


# ------------------------------------------------------------------ names
def is_metadata(name: Any) -> bool:
    """Whether a key or column is user metadata (begins with ``x_``)."""
    return isinstance(name, str) and name.startswith(METADATA_PREFIX)


#: Names longer than this are cut in messages (a hostile file may hold a megabyte key).
_SHOWN_MAX = 80


def _short_repr(value: Any) -> str:
    """A value as a program file spells it (``null``, ``true``, ``2026-01-01``, ``5e9``,
    ``'A'``, ``[1, 2]``), built only as far as a message shows it: a list or mapping of a
    hostile file may expand (through YAML aliases) to millions of values, whose whole
    repr would be megabytes."""
    import datetime
    import reprlib  # only when a message quotes a value

    class Spelled(reprlib.Repr):
        def repr1(self, x: Any, level: int) -> str:
            if x is None:
                return "null"
            if isinstance(x, bool):
                return "true" if x else "false"
            if isinstance(x, datetime.date):
                return x.isoformat()
            if type(x) in (int, float) and (isinstance(x, float) or abs(x) < 10**_SHOWN_MAX):
                return number_text(x)
            return super().repr1(x, level)

    short = Spelled()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict = 3, 6, 6, 4
    short.maxset, short.maxfrozenset, short.maxdeque, short.maxarray = 6, 6, 6, 6
    short.maxstring, short.maxother, short.maxlong = _SHOWN_MAX, _SHOWN_MAX, _SHOWN_MAX
    return short.repr(value)


def shown_value(value: Any) -> str:
    """A value of any type as a message quotes it, spelled as a program file spells it
    (``'A'``, ``[1, 2]``, ``true``, ``null``, ``2026-01-01``, ``5e9``), at most about
    :data:`_SHOWN_MAX` characters (cut with ``...``), escaped where not printable."""
    if isinstance(value, str):
        text = f"'{shown(value)}'"
    else:
        text = _short_repr(value)
    if len(text) > _SHOWN_MAX:
        text = text[:_SHOWN_MAX] + "..."
    return shown(text) if not isinstance(value, str) else text


def shown(name: Any) -> str:
    """A name as it can be printed in a message: itself where it is plain printable text,
    else with escapes (a lone surrogate, a NUL byte, a newline); long names cut (a value
    that is not text is shown by its short repr: :func:`shown_value`)."""
    if not isinstance(name, str | int | float | bool) and name is not None:
        name = _short_repr(name)
    text = str(name)
    cut = len(text) > _SHOWN_MAX
    text = text[:_SHOWN_MAX]
    try:
        text.encode("utf-8")
        plain = text.isprintable()
    except UnicodeEncodeError:
        plain = False
    if not plain:
        text = ascii(text)[1:-1]
    return text + ("..." if cut else "")


def suggest(name: Any, known: Sequence[str]) -> str | None:
    """The known name nearest to ``name`` (difflib, case-insensitive), or None."""
    import difflib  # only when a name is wrong: importing this module stays cheap

    text = str(name)[:_SHOWN_MAX].lower()
    lowered = {k.lower(): k for k in known}
    match = difflib.get_close_matches(text, list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def unknown_message(name: Any, known: Sequence[str], what: str = "field") -> str:
    """``unknown field 'hurdle_rat'; did you mean 'hurdle_rate'?``, or the known names
    where none is near."""
    near = suggest(name, known)
    head = f"unknown {what} '{shown(name)}'"
    if near is not None:
        return f"{head}; did you mean '{near}'?"
    return (f"{head}; the {what}s here are: {', '.join(known)} "
            f"(names beginning with {METADATA_PREFIX} are free for your own notes)")


def names_words(names: Sequence[str], conjunction: str = "and") -> str:
    """``total and/or per_year``, ``type, project and on``: names listed in a message."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


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


def markdown(version: int = 1) -> str:
    """The tables of every key and column of the format (name, required, default, unit,
    allowed values or bound, meaning), as markdown, generated from this module."""
    out: list[str] = []
    out.append(f"Generated from `optimizer/vocabulary.py` (format `{FORMATS[version]}`) by "
               "`python -m optimizer.vocabulary --write docs/format.md`; do not edit by "
               "hand. Every key or column not listed here is an error (exit 2), except "
               f"names beginning with `{METADATA_PREFIX}`, which are yours (kept, never "
               "interpreted), at every depth and in every table. Money is in billions of "
               "US dollars ($B), labor in specialists (headcount), years are calendar "
               "years.")
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
            row = [f"`{f.name}`", _kind_words(f), f.required_words, f.default_words,
                   f.unit, f.allowed_words(), f.description]
            out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(out) + "\n"


def limits_markdown() -> str:
    """The table of the bounds on numbers (:mod:`optimizer.limits`) and of the size and
    nesting limits of the files (:mod:`optimizer.loading`'s constants), as markdown."""
    from optimizer import limits
    from optimizer.loading import (
        MAX_DOCUMENT_BYTES,
        MAX_DOCUMENT_DEPTH,
        MAX_DOCUMENT_VALUES,
        MAX_INTEGER_DIGITS,
        MAX_TABLE_BYTES,
    )

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
         f"{number_text(_MONEY_AT_LEAST_0.low)}, one unit's capital more than "
         f"{number_text(_MONEY_AT_LEAST_0.low)}"),
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
    out = ["Generated from `optimizer/limits.py` and `optimizer/loading.py` by "
           "`python -m optimizer.vocabulary --write docs/format.md`; do not edit by hand.",
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
    from optimizer.clidoc import write_blocks

    return write_blocks(path, [(b, e, render()) for b, e, render in BLOCKS])


def generated_block(text: str, begin: str = BEGIN_MARKER, end: str = END_MARKER
                    ) -> str | None:
    """The text between two markers of a document (None where they are missing)."""
    from optimizer.clidoc import generated_block as block

    try:
        return block(text, begin, end)
    except ValueError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    from optimizer.clidoc import blocks_main

    return blocks_main("python -m optimizer.vocabulary",
                       "Print the format's field tables, or write them (and the table of "
                       "limits) between the markers of a markdown file.",
                       [(b, e, render) for b, e, render in BLOCKS], argv)


if __name__ == "__main__":
    raise SystemExit(main())
