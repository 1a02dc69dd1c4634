"""The words of the program format: what a field and a section are, and the grammar of
its texts. Every stage that declares fields imports these (the format's vocabulary,
:mod:`optimizer.program.vocabulary`, and the rule families of :mod:`formulations`, which
declare their own keys and columns): this module imports only :mod:`optimizer.limits` and
:mod:`optimizer.units`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.limits import (
    HORIZON_YEARS,
    MONEY,
    YEAR,
    Bound,
)
from optimizer.units import number_text

__all__ = ["Field", "Section", "FORMAT", "FORMATS", "LATEST", "METADATA_PREFIX", "KINDS",
           "NUMERIC_KINDS", "BLANKS", "BLANK", "CONTROL_CHARACTERS", "CONTROL_BUT_NEWLINE",
           "PLAIN_INTEGER", "PLAIN_DECIMAL", "YEAR_KEY_TEXT", "MONEY_AT_LEAST_0",
           "number_text", "is_metadata", "suggest", "unknown_message", "shown",
           "shown_value", "names_words", "version_message"]

#: The format's first version: what the package writes where a program needs nothing of a
#: later one (``optimizer generate``, ``optimizer convert``).
FORMAT = "capital-portfolio/1"
#: Every version of the format this package reads, by number. A later version only adds
#: keys and columns (:attr:`Field.since`): a file keeps the meaning its version gives it.
FORMATS = {1: FORMAT, 2: "capital-portfolio/2"}
#: The latest version.
LATEST = max(FORMATS)
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
MONEY_AT_LEAST_0 = Bound(0, MONEY.high, MONEY.why)

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
    #: the bound's high end is exclusive (a rate below 1)
    high_exclusive: bool = False
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
        above = value >= self.bound.high if self.high_exclusive else value > self.bound.high
        below = value <= self.bound.low if self.low_exclusive else value < self.bound.low
        return not (above or below)

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
            if self.high_exclusive:
                return f"{sign} {low}, below {high}"
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

    def later(self, name: Any, version: int) -> int | None:
        """The version from which this section defines ``name``, where it does in a later
        version than ``version`` only (None otherwise: it is known, or unknown in every
        version)."""
        for f in self.fields:
            if f.name == name:
                return f.since if f.since > version else None
        return None

    def unknown(self, names: Iterable[Any], version: int = 1) -> list[Any]:
        """The names (as given) that this section does not define and that are not user
        metadata, in their order."""
        known = set(self.names(version))
        return [n for n in names if not is_metadata(n) and str(n) not in known]


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


def version_message(name: Any, since: int, version: int, what: str = "field") -> str:
    """``the field 'min_japan_share' exists from `format: capital-portfolio/2` on; ...``:
    a key or column of a later version than the file says."""
    return (f"the {what} '{shown(name)}' exists from `format: {FORMATS[since]}` on, and this "
            f"file says `format: {FORMATS[version]}`; write `format: {FORMATS[since]}` to "
            "use it")


def names_words(names: Sequence[str], conjunction: str = "and") -> str:
    """``total and/or per_year``, ``type, project and on``: names listed in a message."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


