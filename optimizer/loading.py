"""Loading and validation: from a program file to an immutable :class:`Instance`.

This is the one place input is checked. Every problem in a program is collected and
raised at once as an :class:`~optimizer.errors.InstanceError` naming the file, the field
and the row. Nothing is dropped, clipped or filled in behind the user's back: the only
values supplied are the defaults the format itself defines (``Field.default`` in
:mod:`optimizer.vocabulary`) and the values it defines from profiles (a profiled
project's ``capital`` and ``start``).

What is checked comes from the vocabulary: which keys and columns exist and which are
required, each one's kind (number, whole number, year, text, ...), bound and allowed
values; the loader adds the rules between fields (unique ids, known sectors, a start
inside the horizon, reinvestments given whole, profiles matching their project).

Tables are validated column by column with pandas, so 100,000 projects load in well
under a second; only the rows found wrong are visited one by one, to word their messages.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from optimizer import vocabulary as voc
from optimizer.errors import InstanceError, Problem, printable
from optimizer.instance import PROFILE_COLUMNS, PROJECT_COLUMNS, Instance
from optimizer.limits import HORIZON_YEARS, RATE, YEAR
from optimizer.shipped import resolve as _resolve_shipped

__all__ = ["load", "prepare", "table_paths", "read_regular", "Unreadable", "FORMAT"]

FORMAT = voc.FORMAT
#: A blank or tab next to a comma or at either end of a line: some cell needs stripping.
_PADDING = (" ,", ", ", " \n", "\n ", " \r")


def _padded(text: str) -> bool:
    """Whether some cell of a CSV text has blanks around it (substring searches: a
    regular expression took a quarter of a second on a 100,000-row table)."""
    if text[:1] in (" ", "\t") or text[-1:] in (" ", "\t"):
        return True
    if "\t" in text and any(p in text for p in ("\t,", ",\t", "\t\r", "\t\n", "\n\t")):
        return True
    return any(pair in text for pair in _PADDING)


# ------------------------------------------------------------------ characters
#: A control character (Unicode category Cc: C0, DEL and C1; NUL, tab, newline and escape
#: among them). No text of a program holds one (free text aside, which may hold newlines):
#: a NUL makes ``A\0`` an id distinct from ``A`` that prints as ``A``; an escape or a
#: newline, printed, rewrites the terminal or forges a line of a report.
_CONTROL = re.compile(f"[{voc.CONTROL_CHARACTERS}]")
#: The same, the newline aside (free text: ``description``, ``source``, ``notes``).
_CONTROL_IN_LINES = re.compile(f"[{voc.CONTROL_BUT_NEWLINE}]")
#: An invisible format character (Unicode category Cf, as of Unicode 15: the soft hyphen,
#: zero-width spaces and joiners, bidirectional marks, overrides and isolates, the byte
#: order mark, tags), or a control character: what an id or a sector name may not hold,
#: since it makes distinct names that look alike (``A`` and ``A\u200b``).
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
#: The bytes a CSV text may hold anywhere without a cell to check: printable ASCII, the
#: newline, and every byte of a multi-byte UTF-8 character but 0xC2 (which begins the C1
#: controls, U+0080-U+009F, as well as U+00A0-U+00BF). Deleting them (``bytes.translate``,
#: 3 ms for 10 MB) leaves nothing in a clean table.
_SAFE_BYTES = bytes([*range(0x20, 0x7F), 0x0A, *range(0x80, 0xC2), *range(0xC3, 0x100)])
_C1_BYTES = re.compile(b"\xc2[\x80-\x9f]")
#: The fields whose text is a name that must look like no other (ids, sectors).
_NAME_COLUMNS = frozenset({"id", "sector", "project"})


def _character_words(char: str) -> str:
    """``a control character (U+0000, a NUL byte)``, ``an invisible format character
    (U+200B)``: what a refused character is, for a message."""
    code = ord(char)
    if _CONTROL.fullmatch(char):
        names = {0: ", a NUL byte", 9: ", a tab", 10: ", a newline", 13: ", a carriage return",
                 27: ", an escape"}
        return f"a control character (U+{code:04X}{names.get(code, '')})"
    return f"an invisible format character (U+{code:04X})"


def _bad_character(text: str, *, name: bool = False, lines: bool = False) -> str | None:
    """Why ``text`` may not stand in a program (the rest of a sentence about it), or None:
    it holds a control character (a newline allowed where ``lines``); a ``name`` (an id,
    a sector) holds no invisible format character either."""
    found = (_INVISIBLE if name else _CONTROL_IN_LINES if lines else _CONTROL).search(text)
    if found is None:
        return None
    why = ("which an id or a sector name may not hold (it makes distinct names that look "
           "alike)" if name and not _CONTROL.fullmatch(found.group()) else
           "which no text of a program may hold" + (" (free text may hold newlines)"
                                                    if lines else ""))
    return f"holds {_character_words(found.group())}, {why}: remove it"


def _clean_source(path: Path | str) -> str:
    """A file name as text any reader takes: the bytes of a name that are not UTF-8
    (Python keeps them as lone surrogates, which strict JSON refuses) as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


#: Relative tolerance for "capital, if given, must equal the profile's sum".
PROFILE_SUM_RTOL = 1e-6
#: Size limits: a program file (YAML or JSON) and each CSV table it names. A table at
#: the limit holds several million rows; a program file holds limits, not data.
MAX_DOCUMENT_BYTES = 256 * 2**20
MAX_TABLE_BYTES = 2 * 2**30
#: The most values a YAML document may expand to through its aliases.
MAX_DOCUMENT_VALUES = 20_000_000
#: The deepest a program document may nest mappings and lists within each other (the
#: format itself needs 4: program, sectors, a sector, its limits; x_ metadata may use the
#: rest). Deeper documents are refused, naming the line: every reader of a document walks
#: it, and Python's own recursion stops near 1,000 levels.
MAX_DOCUMENT_DEPTH = 64
#: An integer literal with more digits than this is beyond every bound of the format
#: (and near the end of the floating-point range, 1.8e308): it is read as a marker the
#: validator refuses by name, never converted (Python refuses to convert more than 4,300
#: digits, and a float cannot hold more than 308).
MAX_INTEGER_DIGITS = 300


# --------------------------------------------------------------------------- YAML
class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader with YAML 1.2 booleans.

    YAML 1.1 reads ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` as booleans, which
    would turn the key ``on`` of a ``requires`` dependency into ``True``. Only ``true``
    and ``false`` are booleans here. It parses with libyaml where PyYAML has it (ten times
    faster on a program with thousands of dependencies), in pure Python otherwise.
    """


class _Tagged:
    """A value carrying a YAML tag the safe loader has no constructor for (``!!python/...``,
    ``!custom``): kept as a marker so the problem can name its field, never constructed."""

    def __init__(self, tag: str, line: int) -> None:
        self.tag, self.line = tag, line


class _BadKey:
    """A mapping key that is a list or a mapping (YAML's ``? [a, b]``): kept, by identity,
    as a marker the validator refuses by name; never converted to text (``str()`` of a
    list that YAML aliases expand would be megabytes)."""

    def __init__(self, value: Any) -> None:
        self.kind = _type_words(value)
        self.text = voc.shown_value(value)

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"the key {key!r} appears twice in one mapping")
        self.key, self.line = key, line


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> _Tagged:
    return _Tagged(node.tag, node.start_mark.line + 1)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping that refuses a repeated key (YAML itself would keep the last silently)."""
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in out
        except TypeError:  # an unhashable key (a list or mapping): the validator names it
            seen = False
            key = _BadKey(key)
        if seen:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_SafeLoader.add_multi_constructor("", _construct_tagged)
_SafeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)

_YAML_1_1 = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML_1_1]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
# Numbers as the format writes them (:data:`~optimizer.vocabulary.PLAIN_DECIMAL`, as JSON
# does): YAML 1.1 would also read 1_000, 0x1F, 017 (octal: 15), 0b101 and 1:30
# (sexagesimal, 90) as numbers, and YAML 1.2 reads 017 as 17. All of those stay text here,
# which the validator refuses where a number belongs ("017" is not a plain decimal). The
# int resolver is tried first, so the float one sees only what has a fraction or exponent.
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(rf"^{voc.PLAIN_INTEGER}$"), list("-+0123456789"))
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(rf"^(?:{voc.PLAIN_DECIMAL}|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))

#: The format's plain numbers (:mod:`optimizer.vocabulary`).
_PLAIN_INT = re.compile(voc.PLAIN_INTEGER)
_PLAIN_NUMBER = re.compile(voc.PLAIN_DECIMAL)


class _HugeNumber(float):
    """An integer literal of more than :data:`MAX_INTEGER_DIGITS` digits, as read from a
    document: never converted (Python refuses to, past 4,300 digits; a float cannot hold
    it), infinite as a float, and refused by the validator as out of bounds by name."""

    literal: str
    line: int | None

    def __new__(cls, literal: str, line: int | None = None) -> _HugeNumber:
        self = super().__new__(cls, -math.inf if literal.startswith("-") else math.inf)
        self.literal, self.line = literal, line
        return self

    @property
    def digits(self) -> int:
        return len(self.literal.lstrip("+-"))

    def __repr__(self) -> str:
        return f"<a number of {self.digits:,} digits>"

    __str__ = __repr__


def _integer_literal(text: str, line: int | None = None) -> int | float:
    """An integer read from a document's text (JSON's and YAML's integer literals)."""
    if len(text) > MAX_INTEGER_DIGITS and len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        return _HugeNumber(text, line)
    return int(text)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | float | str:
    text = loader.construct_scalar(node)
    if not _PLAIN_INT.fullmatch(text):  # an explicit !!int 0x1F: text, refused as such
        return text
    return _integer_literal(text, node.start_mark.line + 1)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | str:
    text = loader.construct_scalar(node)
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    words = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    return words.get(text.lower(), text)


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_SafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


# ----------------------------------------------------------------------- context
@dataclass
class _Context:
    """Collects problems and warnings while one program is read."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, field_name: str, message: str, row: str | None = None,
            file: str | None = None) -> None:
        self.problems.append(Problem(file or self.file, field_name, row, message))


@dataclass
class _Table:
    """A table as read: every cell a stripped string ('' where empty)."""

    frame: pd.DataFrame
    file: str
    row_label: Callable[[int], str]
    #: which table: "projects" or "profiles"
    name: str = ""
    #: the cells already refused, by column (a control character, a list as a cell): no
    #: other problem is reported for them
    refused: dict[str, np.ndarray] = field(default_factory=dict)
    #: the columns whose names were refused (a control character)
    bad_columns: set[str] = field(default_factory=set)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown_value(value: Any) -> str:
    """A value as a message quotes it: its repr, cut where long (a hostile file may hold a
    5,000-digit number, a megabyte of text or, through YAML aliases, a list of millions of
    values), escaped where not printable (:func:`optimizer.vocabulary.shown_value`)."""
    if isinstance(value, _HugeNumber | _BadKey):
        return repr(value)
    if isinstance(value, str):
        return f"'{voc.shown(value)}'" + (f" ({len(value):,} characters)" if len(value) > 80
                                         else "")
    return voc.shown_value(value)


def _spelled(key: Any) -> str:
    """A key that is no text as a document spells it: ``null``, ``true``, ``1.5``,
    ``[a, b]`` (never Python's ``None`` or ``True``, which the file does not say)."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return voc.shown(key)


def _type_words(value: Any) -> str:
    """What a value of a document is, in the format's words, for a message: ``a list``,
    ``a boolean`` (true or false), ``a date``."""
    import datetime

    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, _BadKey):
        return value.kind
    if isinstance(value, datetime.date):
        return "a date"
    for kind, words in ((float, "a fractional number"), (int, "a whole number"),
                        (str, "text"), (bytes, "binary data (!!binary)"), (list, "a list"),
                        (Mapping, "a mapping"), (set | frozenset, "a set (!!set)"),
                        (tuple, "a list")):
        if isinstance(value, kind):
            return words
    return "a value of no kind the format has"


def _got(value: Any) -> str:
    """A value that is of the wrong kind, for the end of a message (``got ...``), in the
    format's words: ``null``, ``true``, ``a date (2026-01-01)``, ``a list [1, 2]``,
    ``'abc'``, ``12.5``."""
    import datetime

    if value is None or isinstance(value, str | bool | _HugeNumber | _BadKey) or (
            _is_number(value)):
        return _shown_value(value)
    if isinstance(value, datetime.date):
        return f"a date ({value.isoformat()})"
    return f"{_type_words(value)} {_shown_value(value)}"


#: Words a bound's message adds where its number alone may mislead (the format's other
#: bounds are on amounts in the program's own units, and say only their numbers).
_BOUND_HINTS = {RATE: "a fraction: 0.10 is 10%"}


def _outside(f: voc.Field, value: float) -> str:
    """Why ``value`` (outside the bound of ``f``) is refused, in plain words with the
    bound's number (``must be at most 1e9``): the program's units say what it counts."""
    bound = f.bound
    assert bound is not None
    hint = f" ({_BOUND_HINTS[bound]})" if bound in _BOUND_HINTS else ""
    if value > bound.high:
        return f"must be at most {voc.number_text(bound.high)}{hint}"
    least = "more than" if f.low_exclusive else "at least"
    return f"must be {least} {voc.number_text(bound.low)}{hint}"


def _number(ctx: _Context, value: Any, where: str, f: voc.Field) -> float | None:
    """A finite number for the program-level field ``f`` (at ``where``: ``budget.total``,
    ``budget.per_year.2026``, ``sectors.energy.min``), whole where its kind says so and
    inside its bound, or None after recording a problem."""
    if isinstance(value, _HugeNumber):
        rule = _outside(f, value) if f.bound is not None else "must be finite"
        ctx.add(where, f"{rule}, got {_shown_value(value)}")
        return None
    if not _is_number(value):
        ctx.add(where, f"must be a number, got {_got(value)}")
        return None
    if not math.isfinite(value):
        ctx.add(where, f"must be finite, got {_shown_value(value)}")
        return None
    if f.integer and float(value) != int(value):
        ctx.add(where, f"must be a whole number, got {_shown_value(value)}")
        return None
    if not f.holds(value):
        ctx.add(where, f"{_outside(f, value)}, got {_shown_value(value)}")
        return None
    return float(value)


#: A year as text (a JSON key, a quoted YAML key): the vocabulary's grammar.
_YEAR_TEXT = re.compile(voc.YEAR_KEY_TEXT)
#: A year key with more digits than this is outside every year (not converted).
_YEAR_DIGITS = 12
#: The bound of every year, as a field (for its messages).
_YEAR_FIELD = voc.Field("year", "year", "a year", bound=YEAR)


def _year_key(ctx: _Context, key: Any, field_name: str) -> int | None:
    """A key of a per-year mapping as a year inside :data:`~optimizer.limits.YEAR`."""
    if isinstance(key, bool):
        ctx.add(field_name, f"year {_shown_value(key)} is not a year")
        return None
    year: int | None = None
    if isinstance(key, int):
        year = key
    elif isinstance(key, str) and (match := _YEAR_TEXT.fullmatch(key)):
        digits = match.group(1)
        year = int(digits) if len(digits) <= _YEAR_DIGITS else int(YEAR.high) + 1
    if year is None:
        ctx.add(field_name, f"year {_shown_value(key)} is not a whole-number year (ASCII "
                            "digits, no sign or leading zero)")
        return None
    if not YEAR.holds(year):
        ctx.add(field_name, f"year {_shown_value(key)} {_outside(_YEAR_FIELD, year)}")
        return None
    return year


def _yearly(ctx: _Context, mapping: Any, field_name: str, f: voc.Field, first: int | None,
            last: int | None, metadata: dict[str, Any] | None = None) -> dict[int, float]:
    """A {year: limit} mapping (budget.per_year, labor.capacity: the ``year_map`` field
    ``f``), validated; its x_ keys are metadata, kept at their dotted place."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        ctx.add(field_name, f"must be a mapping of year to limit, got {_got(mapping)}")
        return {}
    out: dict[int, float] = {}
    for key, value in mapping.items():
        if voc.is_metadata(key):  # user metadata (x_...), as at every depth: not a year
            if _metadata_key(ctx, key, f"{field_name}.{voc.shown(key)}") and \
                    metadata is not None:
                metadata[f"{field_name}.{key}"] = value
            continue
        year = _year_key(ctx, key, field_name)
        if year is None:
            continue
        limit = _number(ctx, value, f"{field_name}.{year}", f)
        if limit is None:
            continue
        if year in out:
            ctx.add(f"{field_name}.{year}", "year given twice")
            continue
        if first is not None and last is not None and not first <= year <= last:
            # the format applies per-year limits inside the horizon only: say so, keep going
            ctx.warnings.append(f"{printable(ctx.file)}: {field_name}.{year}: year {year} is "
                                f"outside the horizon [{first}, {last}]; no per-year limit "
                                "applies there")
            continue
        out[year] = limit
    return out


# -------------------------------------------------------------------- documents
def _line_of(raw: bytes, offset: int) -> str:
    newlines = raw.count(b"\n", 0, offset)
    return f"line {newlines + 1}"


class Unreadable(Exception):
    """Why a path cannot be read as a file, in words; ``kind`` is one of "missing",
    "directory", "special", "path", "large" or "error"."""

    def __init__(self, message: str, kind: str = "error", limit: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.limit = kind, limit

    def words(self, what: str) -> str:
        """Why the file cannot be read, as the rest of a sentence about it; ``what`` is
        what the file should have been ("a program file", "a table")."""
        if self.kind == "missing":
            return "not found"
        if self.kind == "directory":
            return f"is a directory, not a regular file; give {what}"
        if self.kind == "special":
            return f"is {self}, not a regular file; give {what}"
        if self.kind == "large" and self.limit is not None:
            return f"{self}; {what} may be at most {self.limit:,} bytes"
        return str(self)


def _not_regular(mode: int) -> str | None:
    """What a file of this mode is, where it is not a regular file (None where it is)."""
    if stat.S_ISREG(mode):
        return None
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Only regular files are read: a device (``/dev/zero``, ``/dev/urandom``: their size
    reads 0 and they never end), a named pipe (it would block until a writer comes), a
    socket or a directory is refused before it is opened, and checked again once open
    (opened without blocking). At most ``limit + 1`` bytes are read whatever the size
    says (``/proc`` files say 0). Raises :class:`Unreadable`.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise Unreadable("file not found", "missing") from None
    except ValueError:  # "embedded null byte": no file name holds one
        raise Unreadable("the path holds a NUL byte, which no file name can hold",
                          "path") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror}") from None
    kind = _not_regular(info.st_mode)
    if kind is not None:
        raise Unreadable(kind, "directory" if stat.S_ISDIR(info.st_mode) else "special")
    if info.st_size > limit:
        raise Unreadable(f"is {info.st_size:,} bytes", "large", limit)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror}") from None
    chunks: list[bytes] = []
    total = 0
    try:
        info = os.fstat(fd)
        kind = _not_regular(info.st_mode)  # replaced between the stat and the open
        if kind is not None:
            raise Unreadable(kind, "directory" if stat.S_ISDIR(info.st_mode) else "special")
        want = info.st_size + 1  # one read for the whole file, one to see its end
        while total <= limit:
            chunk = os.read(fd, min(max(want, 1 << 16), limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 24
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise Unreadable(f"is more than {limit:,} bytes", "large", limit)
    return b"".join(chunks)


def _read_document(path: Path) -> Any:
    label = str(path)
    try:
        raw = read_regular(path, MAX_DOCUMENT_BYTES)
    except Unreadable as exc:
        words = exc.words("a program file")
        if exc.kind == "large":
            words += f" (put the projects in a CSV table: a table may be up to " \
                     f"{MAX_TABLE_BYTES:,} bytes)"
        shown = label.replace("\0", "\\0")  # a NUL byte, printed, would hide itself
        raise InstanceError([Problem(shown, "(file)", None, words)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError([Problem(label, "(file)", _line_of(raw, exc.start),
                                     f"is not UTF-8 text (bad byte at offset {exc.start})")]
                            ) from None
    try:
        if path.suffix.lower() == ".json":
            doc = _load_json(label, text)
        else:
            doc = _load_yaml(label, text)
            if "*" in text and "&" in text:  # aliases: refuse a document that expands too far
                _check_expansion(label, doc)
            if "!" in text:
                _refuse_tags(label, doc)
        if "\\u" in text or "\\U" in text:  # escapes: half a UTF-16 pair is no character
            _refuse_surrogates(label, doc)
        return doc
    except json.JSONDecodeError as exc:
        raise InstanceError([Problem(label, "(file)", f"line {exc.lineno}",
                                     f"is not valid JSON: {exc.msg}")]) from None
    except _DuplicateKey as exc:
        raise InstanceError([Problem(label, voc.shown(exc.key), f"line {exc.line}",
                                     "appears twice in one mapping; give each key once "
                                     "(YAML would silently keep the last)")]) from None
    except _JsonDuplicateKey as exc:
        raise InstanceError([Problem(label, voc.shown(exc.args[0]), None,
                                     "appears twice in one object; give each key once "
                                     "(JSON readers would silently keep the last)")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in str(problem):  # libyaml's own limit (1,000 levels)
            raise InstanceError([_nesting_problem(label, row, "deep")]) from None
        raise InstanceError([Problem(label, "(file)", row,
                                     f"is not valid YAML: {problem}")]) from None


def _nesting_problem(label: str, row: str | None, kind: str) -> Problem:
    if kind == "cycle":
        message = ("holds a mapping or list that contains itself through a YAML alias "
                   "(&anchor / *alias): it would nest without end; write the values out")
    else:
        message = (f"nests mappings and lists more than {MAX_DOCUMENT_DEPTH} levels deep "
                   "(the format needs 4); flatten the structure that starts here")
    return Problem(label, "(file)", row, message)


def _too_deep(root: Any, children: Callable[[Any], list[Any] | None],
              limit: int) -> tuple[str, Any] | None:
    """The first collection of ``root`` nested more than ``limit`` levels deep, as
    ``("deep", it)``, or one that contains itself (YAML aliases), as ``("cycle", it)``; None
    where there is none. ``children(node)`` gives a collection's collections (None for a
    scalar). Iterative (no recursion limit), and linear in the distinct collections: one
    shared through aliases is walked once, its height remembered."""
    first = children(root)
    if first is None:
        return None
    height: dict[int, int] = {}
    on_path = {id(root)}
    stack: list[tuple[Any, Iterator[Any], int]] = [(root, iter(first), 1)]
    while stack:
        node, kids, tallest = stack[-1]
        depth = len(stack)
        for child in kids:
            key = id(child)
            if key in on_path:
                return "cycle", child
            if key in height:
                if depth + height[key] > limit:
                    return "deep", child
                tallest = max(tallest, height[key] + 1)
                continue
            if depth + 1 > limit:
                return "deep", child
            stack[-1] = (node, kids, tallest)
            stack.append((child, iter(children(child) or ()), 1))
            on_path.add(key)
            break
        else:
            stack.pop()
            on_path.discard(id(node))
            height[id(node)] = tallest
            if stack:
                parent, siblings, best = stack[-1]
                stack[-1] = (parent, siblings, max(best, tallest + 1))
    return None


def _node_children(node: Any) -> list[Any] | None:
    """The collection nodes in a YAML node (keys and values), None for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair if not isinstance(n, yaml.ScalarNode)]
    if isinstance(node, yaml.SequenceNode):
        return [n for n in node.value if not isinstance(n, yaml.ScalarNode)]
    return None


def _object_children(node: Any) -> list[Any] | None:
    """The dicts and lists in a dict or list (JSON's objects and arrays), None otherwise."""
    if isinstance(node, dict):
        return [v for v in node.values() if isinstance(v, dict | list)]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, dict | list)]
    return None


def _load_yaml(label: str, text: str) -> Any:
    """A YAML document, composed, checked for depth (before anything recursive walks it),
    then constructed."""
    loader = _SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:  # the pure-Python composer, some hundreds of levels down
            raise InstanceError([_nesting_problem(label, _yaml_deep_line(text), "deep")]
                                ) from None
        if node is None:
            return None
        found = _too_deep(node, _node_children, MAX_DOCUMENT_DEPTH)
        if found is not None:
            kind, at = found
            raise InstanceError([_nesting_problem(label, f"line {at.start_mark.line + 1}",
                                                  kind)])
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_deep_line(text: str) -> str | None:
    """The line where a YAML text first nests deeper than the limit (its event stream,
    which needs no recursion), or None."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DOCUMENT_DEPTH:
                    return f"line {event.start_mark.line + 1}"
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


#: A JSON string or bracket: the tokens that tell how deep a JSON text nests.
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_deep_line(text: str) -> str | None:
    """The line where a JSON text first nests deeper than the limit, or None."""
    depth = 0
    for match in _JSON_NESTING.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_DOCUMENT_DEPTH:
                return f"line {text.count(chr(10), 0, match.start()) + 1}"
        elif char in "]}":
            depth -= 1
    return None


def _load_json(label: str, text: str) -> Any:
    """A JSON document (integers of any length read safely), checked for depth."""
    try:
        doc = json.loads(text, object_pairs_hook=_json_object, parse_int=_integer_literal)
    except RecursionError:  # the C scanner's own limit, near 1,000 levels
        raise InstanceError([_nesting_problem(label, _json_deep_line(text), "deep")]
                            ) from None
    if _too_deep(doc, _object_children, MAX_DOCUMENT_DEPTH) is not None:
        raise InstanceError([_nesting_problem(label, _json_deep_line(text), "deep")])
    return doc


#: Half of a UTF-16 surrogate pair: what a JSON or YAML escape such as \ud800 gives alone.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(label: str, doc: Any) -> None:
    """Name every key and text value holding a lone surrogate (``"\\ud800"`` in JSON or
    YAML): it is no character, no file or terminal can hold it, and every message or
    report quoting it would fail to print."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    seen: set[int] = set()

    def check(where: str, text: str, what: str) -> None:
        found = _SURROGATE.search(text)
        if found is not None:
            problems.append(Problem(label, where or "(document)", None,
                                    f"{what} holds {ascii(found.group())}, half of a UTF-16 "
                                    "surrogate pair, which is no character (an escape such "
                                    "as \\ud800 without its pair): write the character "
                                    "itself"))

    while stack and len(problems) < 20:
        where, node = stack.pop()
        if isinstance(node, str):
            check(where, node, "the text")
        elif isinstance(node, dict | list) and id(node) not in seen:
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                shown = voc.shown(key)
                sub = f"{where}[{shown}]" if isinstance(node, list) else \
                    (f"{where}.{shown}" if where else shown)
                if isinstance(key, str):
                    check(sub, key, "the key")
                stack.append((sub, child))
    if problems:
        raise InstanceError(problems)


class _JsonDuplicateKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonDuplicateKey(key)
        out[key] = value
    return out


def _refuse_tags(label: str, doc: Any) -> None:
    """Name every field whose value carries a YAML tag the safe loader does not know."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    seen: set[int] = set()
    while stack and len(problems) < 20:
        where, node = stack.pop()
        if isinstance(node, _Tagged):
            problems.append(Problem(label, where or "(document)", f"line {node.line}",
                                    f"carries the YAML tag {_shown_value(node.tag)}, which is not "
                                    "allowed: write a plain value"))
        elif isinstance(node, (dict, list)) and id(node) not in seen:
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, _Tagged):
                    stack.append((where, key))
                sub = f"{where}[{key}]" if isinstance(node, list) else \
                    (f"{where}.{key}" if where else str(key))
                stack.append((sub, child))
    if problems:
        raise InstanceError(sorted(problems, key=lambda p: int(str(p.row).split()[-1])))


def _check_expansion(label: str, doc: Any) -> None:
    """Count the values a document holds once its YAML aliases are expanded (each alias
    costs what it points at, as it does for every reader of the document) and refuse it
    above :data:`MAX_DOCUMENT_VALUES`: a few lines of nested aliases ("billion laughs")
    would otherwise make billions."""
    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key not in memo:
            memo[key] = 0  # a self-referencing alias counts once
            items = node.items() if isinstance(node, dict) else enumerate(node)
            total = 1
            for _k, child in items:
                total += size(child)
                if total > MAX_DOCUMENT_VALUES:
                    break
            memo[key] = total
        return memo[key]

    if size(doc) > MAX_DOCUMENT_VALUES:
        raise InstanceError([Problem(label, "(file)", None,
                                     f"expands to more than {MAX_DOCUMENT_VALUES:,} values "
                                     "through its YAML aliases (&anchor / *alias); write the "
                                     "values out or use CSV tables")])


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, _HugeNumber):
        return value.literal
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(value).strip(voc.BLANKS)


class _CsvError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _csv_records(text: str) -> tuple[list[list[str]], list[int]]:
    """The records of a CSV text (the ``csv`` module: quoting as pandas and spreadsheets
    write it) with the line each starts on; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    records: list[list[str]] = []
    lines: list[int] = []
    last = 0
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                records.append(record)
                lines.append(last + 1)
            last = reader.line_num
    except csv.Error as exc:
        raise _CsvError(str(exc), reader.line_num) from None
    return records, lines


def _layout(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The records of a CSV text that is not blank, counted with numpy: the number of
    fields of each, the line it starts on, and the offset where it ends; None where the
    text needs the exact reading (:func:`_csv_records`): a lone carriage return, or a
    quote that does not open a field at its start and close it at its end.

    Quotes are found once: a comma or a newline is inside a quoted field where an odd
    number of quotes comes before it (an escaped quote, ``""``, counts twice). A text
    without quotes skips that."""
    if not raw or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    data = np.frombuffer(raw, dtype=np.uint8)
    all_newlines = np.flatnonzero(data == 10)
    newlines, commas = all_newlines, np.flatnonzero(data == 44)
    if b'"' in raw:
        quotes = np.flatnonzero(data == 34)
        if len(quotes) % 2:
            return None
        opens, closes = quotes[0::2], quotes[1::2]
        # an opening quote starts a field (or follows the closing one of an escaped pair)
        before = data[np.maximum(opens - 1, 0)]
        escaped = np.zeros(len(opens), dtype=bool)
        escaped[1:] = opens[1:] == closes[:-1] + 1
        if not (escaped | (opens == 0) | (before == 44) | (before == 10)).all():
            return None
        # a closing quote ends its field (or is the first of an escaped pair)
        after = data[np.minimum(closes + 1, len(data) - 1)]
        pair = np.zeros(len(closes), dtype=bool)
        pair[:-1] = opens[1:] == closes[:-1] + 1
        if not (pair | (closes == len(data) - 1) | (after == 44) | (after == 10)
                | (after == 13)).all():
            return None
        newlines = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
        commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    fields = np.bincount(np.searchsorted(newlines, commas), minlength=len(starts))
    blank = ends == starts
    first = data[np.minimum(starts, len(data) - 1)]
    for k in np.flatnonzero(~blank & ((first == 32) | (first == 9) | (first == 13))):
        blank[k] = not raw[starts[k]:ends[k]].strip()  # blanks only: pandas skips it too
    keep = np.flatnonzero(~blank)
    lines = np.searchsorted(all_newlines, starts[keep]) + 1
    return fields[keep] + 1, lines, ends[keep]


def _clean_csv(raw: bytes, text: str) -> tuple[pd.DataFrame, list[int]] | None:
    """The fast reading of a CSV table with nothing to report: every record as wide as
    the header, the header's names all given once. pandas' C reader then splits it
    (quoted fields and all) exactly as the format reads it. None for any other table (the
    exact reading, :func:`_csv_records`, then reads it and words its problems)."""
    layout = _layout(raw)
    if layout is None:
        return None
    counts, lines, ends = layout
    if not len(counts) or (counts != counts[0]).any():
        return None
    head = raw[:int(ends[0])].decode("utf-8-sig").strip()  # blank lines before it
    record = next(csv.reader(io.StringIO(head, newline=""), skipinitialspace=True), [])
    header = [c.strip(voc.BLANKS) for c in record]
    if len(header) != counts[0] or "" in header or len(set(header)) != len(header):
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[],
                            skipinitialspace=True, index_col=False, engine="c")
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) != len(lines) - 1 or len(frame.columns) != len(header):
        return None
    frame.columns = header
    return frame, lines.tolist()


def _csv_frame(ctx: _Context, raw: bytes, text: str, label: str
               ) -> tuple[pd.DataFrame, list[int]] | None:
    """The cells of a CSV text as a frame of strings, with the line of each record, or
    None after recording the problems: a header column with no name or given twice, a
    row with fewer or more fields than the header (each named by its line). pandas would
    rename a second ``capital`` to ``capital.1``, fill a short row with defaults and take
    the first column of long rows as an index: none of that happens here."""
    clean = _clean_csv(raw, text)
    if clean is not None:
        return clean
    try:
        records, lines = _csv_records(text)
    except _CsvError as exc:
        ctx.add("(file)", f"is not a valid CSV table: {exc}", row=f"line {exc.line}",
                file=label)
        return None
    header = [c.strip(voc.BLANKS) for c in records[0]]
    width = len(header)
    bad = False
    for j, name in enumerate(header):
        if not name:
            hint = " (a trailing comma?)" if j == width - 1 else ""
            ctx.add("(header)", f"column {j + 1} of the header has no name{hint}; name it "
                                "(or remove the empty column)", file=label, row="(header)")
            bad = True
    positions: dict[str, list[int]] = {}
    for j, name in enumerate(header):
        positions.setdefault(name, []).append(j + 1)
    for name, where in positions.items():
        if name and len(where) > 1:
            columns = ", ".join(map(str, where))
            ctx.add(voc.shown(name), f"the column is given {len(where)} times in the header "
                                     f"(columns {columns}); give each column once",
                    file=label, row="(header)")
            bad = True
    if bad:
        return None
    data = records[1:]
    counts = np.fromiter(map(len, data), dtype=np.int64, count=len(data))

    def row_of(i: int) -> str:
        return f"row {i + 1} (line {lines[i + 1]})"

    if len(data) and (counts != width).any():
        if (counts == width + 1).all():
            trailing = all(not r[-1].strip() for r in data)
            ctx.add("(row)", f"rows have one field more than the header (a trailing comma?): "
                             f"every row has {width + 1} fields, the header (line {lines[0]}) "
                             f"{width}; " + ("remove the comma at the end of each row"
                                             if trailing else "name the extra column in the "
                                             "header or remove it from every row"),
                    file=label, row=f"every row (lines {lines[1]}-{lines[-1]})")
            return None
        for i in np.flatnonzero(counts < width):
            got = int(counts[i])
            missing = header[got:]
            ctx.add(voc.shown(missing[0]), f"the row has {got} field{'s' if got != 1 else ''}, "
                    f"the header {width}: no {', '.join(map(voc.shown, missing))}; give "
                    "every field (an empty field takes the default)",
                    file=label, row=row_of(int(i)))
        for i in np.flatnonzero(counts > width):
            got = int(counts[i])
            hint = " (a trailing comma?)" if got == width + 1 and not data[i][-1].strip() else ""
            ctx.add("(row)", f"the row has {got} fields, {got - width} more than the header's "
                             f"{width}{hint}; remove the extra fields or name them in the header",
                    file=label, row=row_of(int(i)))
        return None
    return pd.DataFrame(data, columns=header, dtype=object), lines


def _read_table(ctx: _Context, spec: Any, field_name: str, base: Path) -> _Table | None:
    """Read a table given as a CSV path (relative to the program) or an inline list."""
    section = voc.PROGRAM.field(field_name).section
    assert section is not None
    raw: bytes | None = None
    if isinstance(spec, str):
        bad = _bad_character(spec)
        if bad is not None:  # no file name of a program holds one
            ctx.add(field_name, f"the path {_shown_value(spec)} {bad}")
            return None
        path = _table_path(base, spec)
        label = str(path)
        try:
            raw = read_regular(path, MAX_TABLE_BYTES)
        except Unreadable as exc:
            words = exc.words("a table")
            if exc.kind == "large":  # the file itself is at fault
                ctx.add("(file)", words, file=label)
            else:  # the path given is (escaped: printed, a control character would act)
                looked = printable(label.replace("\0", "\\0"))
                ctx.add(field_name, f"file {_shown_value(spec)} (looked for {looked}): "
                                    f"{words}")
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            ctx.add("(file)", f"is not UTF-8 text (bad byte at offset {exc.start})",
                    row=_line_of(raw, exc.start), file=label)
            return None
        if not text.strip():
            ctx.add("(file)", "is empty: a header row and at least one data row are needed",
                    file=label)
            return None
        read = _csv_frame(ctx, raw, text, label)
        if read is None:
            return None
        frame, lines = read
        if text and _padded(text):  # blanks around a cell: strip (a scan of the text is cheap,
            frame = frame.apply(lambda col: col.str.strip(voc.BLANKS))  # 10^6 cells is not)
        table = _Table(frame, label, lambda i: f"row {i + 1} (line {lines[i + 1]})",
                       field_name)
    elif isinstance(spec, list):
        label = ctx.file
        records = []
        refused: dict[str, list[int]] = {}
        for i, item in enumerate(spec):
            if not isinstance(item, Mapping):
                ctx.add(field_name, f"each entry must be a mapping, got {_got(item)}",
                        row=f"{field_name}[{i}]")
                return None
            record: dict[str, str] = {}
            for k, v in item.items():
                key = _inline_key(ctx, k, field_name, i)
                if key is None:
                    continue
                if key in record:  # YAML's 1 and "1": one column, given twice
                    ctx.add(f"{field_name}.{voc.shown(key)}", "two keys of the entry read as "
                            "this one column; give each column once", row=f"{field_name}[{i}]")
                    return None
                text, why = _inline_cell(v, key, section)
                if why is not None:
                    ctx.add(voc.shown(key), why, row=f"{field_name}[{i}]")
                    refused.setdefault(key, []).append(i)
                record[key] = text
            records.append(record)
        if not records:
            ctx.add(field_name, f"is an empty list: the {field_name} table has no rows")
            return None
        frame = pd.DataFrame.from_records(records).fillna("")

        def inline_row(i: int, name: str = field_name) -> str:
            return f"{name}[{i}]"

        table = _Table(frame, label, inline_row, field_name)
        for key, rows in refused.items():
            mask = np.zeros(len(frame), dtype=bool)
            mask[rows] = True
            table.refused[key] = mask
    else:
        ctx.add(field_name, "must be a CSV path (relative to the program file) or a list of "
                f"mappings, got {_got(spec)}")
        return None
    _refuse_characters(ctx, table, section, raw)
    return table


def _inline_key(ctx: _Context, key: Any, field_name: str, i: int) -> str | None:
    """A key of an inline table's entry as a column name, or None after recording a
    problem: a column is named by text (a whole number reads as its digits, an unknown
    column then), never by null, a boolean, a fractional number, a date or a list."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool | _HugeNumber):
        return str(key)
    ctx.add(f"{field_name}.{_spelled(key)}", f"the key {_spelled(key)} is "
            f"{_type_words(key)}, not a column name", row=f"{field_name}[{i}]")
    return None


def _inline_cell(value: Any, key: str, section: voc.Section) -> tuple[str, str | None]:
    """A cell of an inline table as the text a CSV cell would hold, and why it is refused
    (None where it is not). A text column (``id``, ``name``, ``sector``, ``force``,
    ``project``) takes text or a whole number (its decimal digits: an integer id is
    unambiguous); a numeric column a number or text (read as a CSV cell is: a plain
    decimal). Nothing else is converted: ``true`` would read "True", ``1e3`` "1000.0",
    ``[a, b]`` "['a', 'b']", a date "2026-01-01". null is an empty cell. A column the
    format does not define (metadata, or an unknown one: refused by name) is kept as
    text where it is a scalar, empty otherwise."""
    if value is None:
        return "", None
    if isinstance(value, str):
        return value.strip(voc.BLANKS), None
    try:
        f: voc.Field | None = section.field(key)
    except KeyError:
        f = None
    if isinstance(value, _HugeNumber):
        return value.literal, None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if f is None:
        return (_cell_text(value) if number or isinstance(value, bool) else ""), None
    if f.numeric:
        if number:
            return _cell_text(value), None
        return "", (f"must be a number (or a number written as text), got "
                    f"{_got(value)}")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    return "", f"must be text (or a whole number), got {_got(value)}"


def _may_hold_controls(raw: bytes) -> bool:
    """Whether some cell of a CSV text may hold a control character: the text holds a
    control byte other than a newline (or a carriage return before one), a C1 control
    (U+0080-U+009F), or a quote (a quoted cell may hold a newline). One deletion of the
    bytes that cannot be one (3 ms for 10 MB) answers for a clean table."""
    rest = raw.translate(None, _SAFE_BYTES)
    if rest:
        if b"\r" in rest and raw.count(b"\r") != raw.count(b"\r\n"):
            return True
        rest = rest.replace(b"\r", b"")
        if rest.replace(b"\xc2", b""):  # a tab (inside a cell?), another C0 control, DEL
            return True
        if rest and _C1_BYTES.search(raw) is not None:
            return True
    return b'"' in raw


def _refuse_characters(ctx: _Context, table: _Table, section: voc.Section,
                       raw: bytes | None) -> None:
    """Refuse every column name and cell that holds a control character (or, in an id or
    sector column, an invisible format character), naming its file, column and row; such
    cells are not reported again (:attr:`_Table.refused`). Vectorised: a CSV table's bytes
    are tested first (:func:`_may_hold_controls`, and whether they are ASCII), then one
    search of each column's cells joined, row by row only in a column where that finds
    one. Metadata columns (x_...) are the user's own and not read."""
    frame = table.frame
    header = "(header)" if raw is not None else None
    for name in frame.columns:
        bad = _bad_character(str(name))
        if bad is not None:
            ctx.add(voc.shown(name), f"the column name {_shown_value(name)} {bad}",
                    file=table.file, row=header)
            table.bad_columns.add(str(name))
    controls = raw is None or _may_hold_controls(raw)
    invisible = raw is None or not raw.isascii()
    known = set(section.names())
    for name in frame.columns:
        is_name = name in _NAME_COLUMNS
        if name not in known or not (controls or (invisible and is_name)):
            continue
        cells = frame[name]
        pattern = _INVISIBLE if is_name else _CONTROL
        if pattern.search(" ".join(cells.tolist())) is None:
            continue
        mask = cells.str.contains(pattern).to_numpy(dtype=bool)
        values = cells.to_numpy()

        def why(i: int, v: np.ndarray = values, n: bool = is_name) -> str:
            return f"{_shown_value(v[i])} {_bad_character(v[i], name=n)}"

        _report_rows(ctx, table, name, mask, why)
        previous = table.refused.get(name)
        table.refused[name] = mask if previous is None else (previous | mask)


# ------------------------------------------------------------------ table cells
def _column(table: _Table, name: str) -> pd.Series:
    frame = table.frame
    if name in frame.columns:
        return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _report_rows(ctx: _Context, table: _Table, col: str, mask: np.ndarray,
                 message: Callable[[int], str]) -> None:
    refused = table.refused.get(col)
    if refused is not None:
        mask = mask & ~refused
    for i in np.flatnonzero(mask):
        ctx.add(col, message(int(i)), row=table.row_label(int(i)), file=table.file)


def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _floats(cells: np.ndarray) -> np.ndarray:
    """Cells to floats as Python's ``float`` reads them; NaN where one is not a number.
    numpy converts a clean column at once, four times faster than ``pd.to_numeric``;
    a column with a bad cell is read cell by cell, with the same rules. (Cells not
    written as plain decimals are set aside before: see :func:`_not_plain`.)"""
    try:
        return cells.astype(np.float64)
    except (ValueError, TypeError, OverflowError):
        return np.fromiter((_to_float(c) for c in cells), dtype=np.float64, count=len(cells))


#: The characters of a column whose every cell float() reads as a plain decimal, or
#: refuses, or reads as not finite (refused as such): digits, letters, '.', '+', '-' (and
#: the newline that joins the cells).
_PLAIN_CHARACTERS = re.compile(r"[0-9A-Za-z.+\-\n]*")
#: A cell whose number has a leading zero (``017``, ``-00.5``): float() reads it, the
#: format does not (:data:`~optimizer.vocabulary.PLAIN_INTEGER`).
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]", re.MULTILINE)
#: A cell written as a plain decimal number (or as a word for a value that is not finite,
#: which has its own message).
_PLAIN_CELL = re.compile(rf"{voc.PLAIN_DECIMAL}|[-+]?(?:inf|infinity|nan)",
                         re.IGNORECASE | re.ASCII)
_INFINITE_WORD = re.compile(r"[-+]?inf(?:inity)?", re.IGNORECASE | re.ASCII)


def _not_plain(cells: np.ndarray) -> np.ndarray:
    """Where a cell is not written as a plain decimal number although Python's float()
    reads it as one (``1_0``, full-width ``１０``, Arabic-Indic ``١٠``, ``017``, blanks or
    other separators): one test of the column's whole text, cell by cell only where that
    text holds some other character or a leading zero."""
    try:
        joined = "\n".join(cells)
        quick = (_PLAIN_CHARACTERS.fullmatch(joined) is not None
                 and joined.count("\n") == len(cells) - 1  # no cell holds a newline
                 and _LEADING_ZERO.search(joined) is None)
    except TypeError:  # a cell that is not text: test each
        quick = False
    if quick:
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter((_PLAIN_CELL.fullmatch(str(c)) is None for c in cells), dtype=bool,
                       count=len(cells))


def _numeric(ctx: _Context, table: _Table, f: voc.Field, *,
             required: np.ndarray | bool | None = None) -> np.ndarray:
    """Parse the column of the numeric field ``f`` to floats (NaN where blank), recording
    every bad cell: one not written as a plain decimal, not a number, not finite, not
    whole where the field's kind says so, or outside the field's bound. ``required`` (by
    default the field's own) may be a mask: which rows must give the cell."""
    col = f.name
    text = _column(table, col)
    blank = (text == "").to_numpy()
    raw = text.to_numpy(dtype=object)
    odd = ~blank & _not_plain(raw)
    _report_rows(ctx, table, col, odd,
                 lambda i: f"{_shown_value(raw[i])} is not a plain decimal number: write "
                           "plain decimal digits 0-9 with an optional sign, decimal point "
                           "and exponent (no '_', blanks inside the number, leading zeros "
                           "or other digits; blanks around a cell are ignored)")
    values = _floats(np.where(blank | odd, "nan", raw))
    invalid = ~blank & ~odd & ~np.isfinite(values)
    _report_rows(ctx, table, col, invalid & np.isnan(values),
                 lambda i: f"{_shown_value(raw[i])} is not a number")
    infinite = invalid & np.isinf(values)
    if infinite.any():
        word = np.zeros(len(raw), dtype=bool)
        for i in np.flatnonzero(infinite):
            word[i] = _INFINITE_WORD.fullmatch(str(raw[i])) is not None
        _report_rows(ctx, table, col, infinite & word,
                     lambda i: f"{_shown_value(raw[i])} is not finite")
        _report_rows(ctx, table, col, infinite & ~word,
                     lambda i: (_outside(f, values[i]) if f.bound is not None else
                                "is beyond the range of floating-point numbers")
                     + f", got {_shown_value(raw[i])}")
    need = np.broadcast_to(np.asarray(f.required if required is None else required,
                                      dtype=bool), blank.shape)
    _report_rows(ctx, table, col, blank & need, lambda i: "is required but empty")
    ok = np.isfinite(values)
    if f.integer:
        fractional = ok & (values != np.round(values))
        _report_rows(ctx, table, col, fractional,
                     lambda i: f"must be a whole number, got {_shown_value(raw[i])}")
        ok &= ~fractional
    if f.bound is not None:
        low, high = f.bound.low, f.bound.high
        below = (values <= low) if f.low_exclusive else (values < low)
        out = ok & (below | (values > high))
        _report_rows(ctx, table, col, out,
                     lambda i: f"{_outside(f, values[i])}, got {_shown_value(raw[i])}")
        ok &= ~out
    values[~ok] = np.nan
    return values


def _filled(table: _Table, f: voc.Field, values: np.ndarray, absent: float = 0.0
            ) -> np.ndarray:
    """A column's values with its blank cells set to the field's default (``absent``
    where the format defines none: no reinvestment is 0 in an :class:`Instance`)."""
    blank = (_column(table, f.name) == "").to_numpy()
    out = values.copy()
    out[blank] = absent if f.default is None else f.default
    return out


def _text_column(ctx: _Context, table: _Table, f: voc.Field) -> pd.Series:
    """A text column, its blank cells reported where the field is required and every cell
    outside the field's values (an empty cell aside) reported."""
    cells = _column(table, f.name)
    if f.required:
        _report_rows(ctx, table, f.name, (cells == "").to_numpy(),
                     lambda i: "is required but empty")
    if f.values:
        raw = cells.to_numpy()
        allowed = voc.names_words([*map(repr, f.values), "empty"], "or")
        _report_rows(ctx, table, f.name, ~cells.isin(["", *f.values]).to_numpy(),
                     lambda i: f"must be {allowed}, got {_shown_value(raw[i])}")
    return cells


# ------------------------------------------------------------------ the program
def _horizon(ctx: _Context, value: Any, f: voc.Field) -> tuple[int, int] | None:
    """The horizon ``[first, last]`` (the ``horizon`` field ``f``), validated."""
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int | _HugeNumber) and not isinstance(v, bool)
                       for v in value)):  # a huge integer: a whole number out of bounds
        ctx.add(f.name, "must be [first_year, last_year] as two whole numbers, got "
                        f"{_shown_value(value)}")
        return None
    first, last = value
    for which, year in (("first", first), ("last", last)):
        if not f.holds(year):
            ctx.add(f.name, f"the {which} year {_outside(f, year)}, got {_shown_value(year)}")
            return None
    if first > last:
        ctx.add(f.name, f"first year {first} is after last year {last}")
        return None
    if last - first + 1 > HORIZON_YEARS:
        ctx.add(f.name, f"spans {last - first + 1} years; at most {HORIZON_YEARS} are "
                        "supported")
        return None
    return first, last


def _keys_words(section: voc.Section) -> str:
    """The keys of a mapping, for a message: ``total and/or per_year``."""
    return voc.names_words(section.names(), "and" if section.required() else "and/or")


def _section(ctx: _Context, value: Any, section: voc.Section, where: str, *,
             metadata: dict[str, Any] | None = None, first: int | None = None,
             last: int | None = None) -> dict[str, Any]:
    """The values of a mapping with the keys of ``section`` (``budget``, a sector's
    limits, ``labor``, ``units``), each read by its field (:func:`_fields`); {} after
    recording a problem where it is no mapping."""
    if not isinstance(value, Mapping):
        ctx.add(where, f"must be a mapping with {_keys_words(section)}, got "
                       f"{_shown_value(value)}")
        return {}
    _check_keys(ctx, value, section, where, metadata=metadata)
    return _fields(ctx, value, section, where, metadata=metadata, first=first, last=last)


def _fields(ctx: _Context, mapping: Mapping[str, Any], section: voc.Section, where: str, *,
            metadata: dict[str, Any] | None = None, first: int | None = None,
            last: int | None = None) -> dict[str, Any]:
    """Every field of ``section`` in ``mapping``, read as its kind says: {name: value},
    None where absent (the field's default, a text one's given here). A required field
    that is absent, a number outside its bound, a text outside its values or longer
    than its most is a problem at ``where.name``. The horizon, read first in the program,
    gives the years of the ``year_map`` fields after it. The kinds read elsewhere
    (``named``, ``table``, ``dependencies``) are given as they are."""
    out: dict[str, Any] = {}
    for f in section.fields:
        place = f"{where}.{f.name}" if where else f.name
        value = mapping.get(f.name)
        if value is None:
            if f.required and f.values is not None and len(f.values) == 1:
                # one value is allowed: say what to write (format: capital-portfolio/1)
                ctx.add(place, f"is required: write `{f.name}: {f.values[0]}` "
                               f"({f.description})")
            elif f.required:
                ctx.add(place, f"is required: {f.description}")
            elif f.name in mapping and not f.nullable:
                ctx.add(place, "must not be null: give a value or leave the key out")
            out[f.name] = None if f.default is None or f.kind != "text" else f.default
            continue
        got: Any = value
        if f.numeric:
            got = _number(ctx, value, place, f)
        elif f.kind == "boolean":
            if not isinstance(value, bool):
                ctx.add(place, f"must be true or false, got {_got(value)}")
                got = None
        elif f.kind == "text":
            got = _text(ctx, value, place, label=f.max_length is not None,
                        lines=f.multiline)
            if got is not None and f.max_length is not None:
                got = got.strip(voc.BLANKS)
                if len(got) > f.max_length:
                    ctx.add(place, f"is {len(got)} characters long; a label may have at "
                                   f"most {f.max_length}")
                    got = None
            if got is not None and f.values and got not in f.values:
                allowed = voc.names_words([repr(v) for v in f.values], "or")
                ctx.add(place, f"must be {allowed}, got {_got(value)}")
                got = None
            if got is None:
                got = f.default
        elif f.kind == "horizon":
            got = _horizon(ctx, value, f)
            if got is not None:
                first, last = got
        elif f.kind == "year_map":
            got = _yearly(ctx, value, place, f, first, last, metadata)
        elif f.kind == "mapping":
            assert f.section is not None
            got = _section(ctx, value, f.section, place, metadata=metadata, first=first,
                           last=last)
        out[f.name] = got
    return out


def _sectors(ctx: _Context, doc: Mapping[str, Any], metadata: dict[str, Any] | None = None
             ) -> tuple[list[str], list[float], list[float]]:
    """The sectors by name, with their floors and ceilings (NaN where none). A key
    beginning with ``x_`` is metadata, not a sector; two keys that read as the same name
    (YAML's ``1`` and ``"1"``) are an error naming both."""
    value = doc.get("sectors")
    names: list[str] = []
    mins: list[float] = []
    maxs: list[float] = []
    if value is None:  # required: said by _fields
        return names, mins, maxs
    if not isinstance(value, Mapping) or not value:
        ctx.add("sectors", "must be a non-empty mapping of sector name to "
                           f"{{{', '.join(voc.SECTOR.names())}}}")
        return names, mins, maxs
    first_key: dict[str, Any] = {}
    for key, limits in value.items():
        if voc.is_metadata(key):
            if _metadata_key(ctx, key, f"sectors.{voc.shown(key)}") and metadata is not None:
                metadata[f"sectors.{key}"] = limits
            continue
        name = _name_key(ctx, key, "sectors", "a sector name")
        if name is None:
            continue
        where = f"sectors.{voc.shown(name)}"
        if name in first_key:
            ctx.add(where, f"the sector keys {_shown_value(first_key[name])} and "
                           f"{_shown_value(key)} both read as the sector name "
                           f"'{voc.shown(name)}'; give each sector a distinct name")
            continue
        first_key[name] = key
        got = _section(ctx, {} if limits is None else limits, voc.SECTOR, where,
                       metadata=metadata)
        low, high = (math.nan if got.get(n) is None else got[n] for n in ("min", "max"))
        names.append(name)
        mins.append(low)
        maxs.append(high)
    if not first_key:
        ctx.add("sectors", "names no sector (keys beginning with x_ are metadata, not sectors)")
    return names, mins, maxs

def _name_key(ctx: _Context, key: Any, where: str, what: str) -> str | None:
    """A key of a mapping whose keys are names (``sectors``) as text, or None after
    recording a problem at ``where.<key>``: a name is text or a whole number (its decimal
    digits: YAML's ``7``), never null, a boolean, a fractional number (``1e3`` would read
    as ``1000.0``), a date or a list; it holds no control or invisible format character."""
    if isinstance(key, _HugeNumber):
        key = key.literal
    elif isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if not isinstance(key, str):
        value = "" if key is None else f" ({_spelled(key)})"
        ctx.add(where, f"a key is {_type_words(key)}{value}, not {what}: write {what} as "
                       "text (in quotes, as YAML would otherwise read it: \"1.50\", \"true\")")
        return None
    bad = _bad_character(key, name=True)
    if bad is not None:
        ctx.add(f"{where}.{voc.shown(key)}", f"the key {_shown_value(key)} {bad}")
        return None
    return key


def _dependencies(ctx: _Context, doc: Mapping[str, Any], positions: Mapping[str, int],
                  metadata: dict[str, Any] | None = None
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The ``requires`` pairs (positions: a requires b) and the ``excludes`` groups. Each
    entry's keys are those of its type (:data:`~optimizer.vocabulary.DEPENDENCY_TYPES`):
    its required keys must be there, an ``id`` key names one project, an ``ids`` key two
    or more distinct ones."""
    value = doc.get("dependencies")
    requires: list[tuple[int, ...]] = []
    excludes: list[np.ndarray] = []
    if value is None:
        return np.zeros((0, 2), dtype=np.int64), excludes
    if not isinstance(value, list):
        ctx.add("dependencies", f"must be a list, got {_got(value)}")
        return np.zeros((0, 2), dtype=np.int64), excludes
    types = voc.names_words([repr(t) for t in voc.DEPENDENCY_TYPES], "or")

    def ref(item: Any, key: str, row: str) -> int | None:
        if isinstance(item, _HugeNumber):
            item = item.literal
        elif isinstance(item, int) and not isinstance(item, bool):
            item = str(item)  # an integer id is unambiguous: YAML's `on: 7` is id "7"
        if not isinstance(item, str):
            ctx.add(f"dependencies.{key}", f"must be a project id (text, or a whole number), "
                    f"got {_got(item)}", row=row)
            return None
        bad = _bad_character(item, name=True)
        if bad is not None:
            ctx.add(f"dependencies.{key}", f"{_shown_value(item)} {bad}", row=row)
            return None
        pid = item.strip(voc.BLANKS)
        if pid not in positions:
            ctx.add(f"dependencies.{key}", f"unknown project id {_shown_value(pid)}", row=row)
            return None
        return positions[pid]

    for i, dep in enumerate(value):
        row = f"dependencies[{i}]"
        if not isinstance(dep, Mapping):
            ctx.add("dependencies", f"each entry must be a mapping, got {_got(dep)}",
                    row=row)
            continue
        kind = dep.get("type")
        # the keys of its type; of every type where the type itself is wrong
        section = voc.DEPENDENCY_TYPES.get(kind) if isinstance(kind, str) else None
        _check_keys(ctx, dep, section or voc.ANY_DEPENDENCY, "dependencies", row=row,
                    metadata=metadata)
        if section is None:
            ctx.add("dependencies.type", f"must be {types}, got {_got(kind)}", row=row)
            continue
        missing = [k for k in section.required() if k not in dep]
        for key in missing:
            ctx.add(f"dependencies.{key}", f"is required for a {kind!r} dependency", row=row)
        if missing:
            continue
        named: Any = None  # the first of them, as given
        one: list[int | None] = []  # the `id` keys, in the vocabulary's order
        for f in section.fields:
            if f.kind == "id":
                one.append(ref(dep[f.name], f.name, row))
                named = dep[f.name] if len(one) == 1 else named
            elif f.kind == "ids":
                group = dep[f.name]
                if not isinstance(group, list) or len(group) < 2:
                    ctx.add(f"dependencies.{f.name}", f"a {kind!r} dependency needs a list of "
                            f"two or more ids, got {_shown_value(group)}", row=row)
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
                                    f"{_shown_value(named)} requires itself; the rule has "
                                    "no effect")
            requires.append(pair)
    pairs = np.array(requires, dtype=np.int64).reshape(-1, 2)
    return pairs, excludes

def _has_cycle(pairs: np.ndarray) -> bool:
    """Whether the directed graph of ``pairs`` has a cycle: peel off nodes with no
    incoming edge (Kahn's algorithm) until none is left; a cycle is what remains."""
    nodes, edges = np.unique(pairs, return_inverse=True)
    edges = edges.reshape(-1, 2)
    indegree = np.bincount(edges[:, 1], minlength=len(nodes))
    order = np.argsort(edges[:, 0], kind="stable")
    starts = np.searchsorted(edges[order, 0], np.arange(len(nodes) + 1))
    ready = list(np.flatnonzero(indegree == 0))
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for target in edges[order[starts[node]:starts[node + 1]], 1]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return removed < len(nodes)


def requires_cycles(pairs: np.ndarray, n: int) -> list[np.ndarray]:
    """The groups of projects (positions, out of ``n``) whose ``requires`` pairs form a
    cycle: each group is funded all together or not at all."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0 or not _has_cycle(pairs):
        return []
    from scipy.sparse.csgraph import connected_components  # 0.1 s to import: only here

    graph = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    return [np.flatnonzero(labels == label) for label in np.flatnonzero(sizes > 1)]


def _requires_cycles(ctx: _Context, pairs: np.ndarray, ids: np.ndarray) -> None:
    """Cycles of `requires` are legal (all or nothing); say so, as a warning."""
    for group in requires_cycles(pairs, len(ids))[:20]:
        members = ", ".join(map(voc.shown, ids[group[:10]]))
        ctx.warnings.append(f"{printable(ctx.file)}: dependencies: projects {members} require "
                            "each other in a cycle: they are funded all together or not at all")


def _validate_profiles(ctx: _Context, table: _Table, positions: Mapping[str, int],
                       first: int) -> pd.DataFrame:
    """The profiles table (:data:`~optimizer.vocabulary.PROFILES`), validated: numeric
    columns by their fields (blank cells their defaults), every project known, no year
    before the horizon or given twice for one project."""
    columns: dict[str, Any] = {}
    for f in voc.PROFILES.fields:
        if f.numeric:
            columns[f.name] = _filled(table, f, _numeric(ctx, table, f), math.nan)
        else:
            columns[f.name] = _text_column(ctx, table, f).to_numpy(dtype=object)
    pid = _column(table, "project")
    known = pid.isin(positions.keys()).to_numpy()
    raw = pid.to_numpy()
    _report_rows(ctx, table, "project", ~known & (pid != "").to_numpy(),
                 lambda i: f"unknown project id {_shown_value(raw[i])}")
    year = columns["year"]
    early = year < first
    _report_rows(ctx, table, "year", early,
                 lambda i: f"year {int(year[i])} is before the horizon's first year {first}")
    out = pd.DataFrame(columns)
    dup = out.duplicated(["project", "year"], keep=False).to_numpy() & known & np.isfinite(year)
    _report_rows(ctx, table, "year", dup,
                 lambda i: f"project {_shown_value(raw[i])} has more than one row for year "
                           f"{int(year[i])}")
    return out


def _validate_projects(ctx: _Context, table: _Table, sectors: list[str], first: int | None,
                       last: int | None, profiled: set[str] | None) -> pd.DataFrame:
    """The projects table (:data:`~optimizer.vocabulary.PROJECTS`), validated: every
    column by its field (kind, bound, required, allowed values; a column required unless
    the project has profile rows is required for the others), blank cells their
    defaults; then the rules between columns and the program (unique ids, known sectors,
    a start inside the horizon, reinvestments given whole). ``profiled`` is None where
    the profiles table could not be read whole: which projects have profile rows is then
    not known, and the columns required unless profiled are not required of any row. Such
    a column missing from the table is one problem (at the header), not one per row."""
    ids = _column(table, "id")
    has_profile = (ids.isin(profiled).to_numpy() if profiled is not None
                   else np.ones(len(ids), dtype=bool))
    columns: dict[str, Any] = {}
    for f in voc.PROJECTS.fields:
        if f.numeric:
            need = ~has_profile if f.unless_profiled else f.required
            if f.unless_profiled and f.name not in table.frame.columns and \
                    (count := int(np.count_nonzero(need))):
                ctx.add(f.name, f"required column is missing from the projects table: "
                                f"{count:,} project{'s' if count > 1 else ''} without "
                                "profile rows need it", file=table.file, row="(header)")
                need = np.zeros_like(need)
            values = _numeric(ctx, table, f, required=need)
            fill = not (f.unless_profiled or f.required)  # else a blank is a problem
            columns[f.name] = _filled(table, f, values) if fill else values
        else:
            columns[f.name] = _text_column(ctx, table, f).to_numpy(dtype=object)
    raw_ids = columns["id"]
    dup = (ids.duplicated(keep=False) & (ids != "")).to_numpy()
    first_row: dict[str, int] = {}
    for i in np.flatnonzero(dup):
        first_row.setdefault(raw_ids[i], int(i))
    _report_rows(ctx, table, "id", dup & ids.duplicated(keep="first").to_numpy(),
                 lambda i: f"duplicate id {_shown_value(raw_ids[i])} (first used in "
                           f"{table.row_label(first_row[raw_ids[i]])})")
    sector = _column(table, "sector")
    raw_sector = columns["sector"]
    unknown = ~sector.isin(sectors).to_numpy() & (sector != "").to_numpy()
    names = ", ".join(map(voc.shown, sectors[:20])) or "no sector it can use"
    names += (
        f" and {len(sectors) - 20:,} more" if len(sectors) > 20 else "")
    _report_rows(ctx, table, "sector", unknown,
                 lambda i: f"unknown sector {_shown_value(raw_sector[i])}; the program names: "
                           f"{names}")
    start = columns["start"]
    if first is not None and last is not None:
        outside = np.isfinite(start) & ((start < first) | (start > last))
        _report_rows(ctx, table, "start", outside,
                     lambda i: f"year {int(start[i])} is outside the horizon [{first}, {last}]")
        start[outside] = np.nan
    every_blank = (_column(table, "reinvest_every") == "").to_numpy()
    again_blank = (_column(table, "reinvest_capital") == "").to_numpy()
    _report_rows(ctx, table, "reinvest_capital", every_blank & ~again_blank,
                 lambda i: "is given but reinvest_every is not; give both or neither")
    _report_rows(ctx, table, "reinvest_every", ~every_blank & again_blank,
                 lambda i: "is given but reinvest_capital is not; give both or neither")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(table.frame)))


def _match_profiles(ctx: _Context, table: _Table, projects: pd.DataFrame,
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
    text = _column(table, "capital").to_numpy()
    blank = text == ""
    target = pos.to_numpy(dtype=float)
    mismatch = has & ~blank & np.isfinite(given) & ~np.isclose(given, target,
                                                                rtol=PROFILE_SUM_RTOL, atol=1e-9)
    _report_rows(ctx, table, "capital", mismatch,
                 lambda i: f"is {given[i]:g} but the project's profile rows sum to "
                           f"{target[i]:g}; they must be equal (or leave capital empty)")
    zero = has & (target <= 0)
    _report_rows(ctx, table, "capital", zero,
                 lambda i: "the project's profile rows sum to 0: one unit must cost > 0")
    projects.loc[has & blank, "capital"] = target[has & blank]
    start_blank = (_column(table, "start") == "").to_numpy()
    fill = has & start_blank
    projects.loc[fill, "start"] = projects.loc[fill, "id"].map(firsts).to_numpy(dtype=float)


# ------------------------------------------------------------- the vocabulary
def _check_keys(ctx: _Context, mapping: Mapping[Any, Any], section: voc.Section, where: str,
                *, row: str | None = None, metadata: dict[str, Any] | None = None) -> None:
    """Every key of ``mapping`` that ``section`` does not define is a problem naming the
    place (``where``: ``budget``, ``sectors.energy``; "" at the top level) and the
    nearest known name; keys beginning with ``x_`` are user metadata, kept in
    ``metadata`` (under their dotted place, or their row's) where one is given."""
    prefix = row or where
    for key in mapping:  # at its place: budget.x_note, dependencies[2].x_why
        if voc.is_metadata(key):
            place = f"{where}.{voc.shown(key)}" if where else voc.shown(key)
            if _metadata_key(ctx, key, place, row) and metadata is not None:
                metadata[f"{prefix}.{key}" if prefix else key] = mapping[key]
    names = section.names()
    for key in section.unknown(mapping):
        place = f"{where}.{voc.shown(key)}" if where else voc.shown(key)
        if isinstance(key, str):
            ctx.add(place, voc.unknown_message(key, names), row=row)
        else:  # YAML's null, true, 1.5, a date or a list as a key
            place = f"{where}.{_spelled(key)}" if where else _spelled(key)
            ctx.add(place, f"the key {_spelled(key)} is {_type_words(key)}, not a name: "
                           f"the keys here are {', '.join(names)}", row=row)


def _metadata_key(ctx: _Context, key: str, place: str, row: str | None = None) -> bool:
    """Whether a metadata key (x_...) may stand: it holds no control character (else a
    problem at ``place``)."""
    bad = _bad_character(key)
    if bad is None:
        return True
    ctx.add(place, f"the key {_shown_value(key)} {bad}", row=row)
    return False


def _check_columns(ctx: _Context, table: _Table | None, spec: Any, section: voc.Section,
                   field_name: str) -> _Table | None:
    """The columns of a table as read: every column the vocabulary does not define is a
    problem naming the table's file, the column and the nearest known name (in the
    header of a CSV table; at the first entry that has it in an inline list); every
    required column must be there. Columns beginning with ``x_`` are user metadata,
    ignored. (A CSV header cell with no name is refused as the table is read.) Returns
    the table, or None when a required column is missing."""
    if table is None:
        return None
    known = section.names()
    unknown = [str(c) for c in section.unknown(table.frame.columns)
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
                    voc.unknown_message(name, known) + more,
                    row=f"{field_name}[{first_row.get(name, 0)}]")
    else:
        for name in unknown:
            ctx.add(voc.shown(name), voc.unknown_message(name, known, what="column"),
                    file=table.file, row="(header)")
    missing = [c for c in section.required() if c not in table.frame.columns]
    for col in missing:
        ctx.add(col, f"required column is missing from the {field_name} table",
                file=table.file, row="(header)")
    return None if missing else table


def _table_metadata(table: _Table, field_name: str, metadata: dict[str, Any]) -> None:
    """Keep a table's metadata columns (x_...): ``projects.x_color`` is the tuple of the
    column's cell texts in the table's row order ("" for an empty cell; in an inline list,
    a scalar as its text, anything else empty). A column whose name was refused is not
    kept."""
    for name in table.frame.columns:
        key = str(name)
        if voc.is_metadata(key) and key not in table.bad_columns:
            metadata[f"{field_name}.{key}"] = tuple(str(c) for c in table.frame[name])


def _text(ctx: _Context, value: Any, field_name: str, *, label: bool = False,
          lines: bool = False) -> str | None:
    """A text field (None where absent or after recording a problem); a ``label`` (one
    line in reports) must be non-empty printable text; no text holds a control character
    (free text, ``lines``, may hold newlines)."""
    if value is None:
        return None
    if not isinstance(value, str):
        ctx.add(field_name, f"must be text, got {_got(value)}")
        return None
    bad = _bad_character(value, lines=lines)
    if bad is not None:
        ctx.add(field_name, f"{_shown_value(value)} {bad}")
        return None
    if label and not value.strip():
        ctx.add(field_name, "must not be empty")
        return None
    if label and not value.isprintable():
        ctx.add(field_name, f"must be printable text on one line, got {voc.shown(value)!r}")
        return None
    return value


# --------------------------------------------------------------------- entry
def _table_path(base: Path, spec: str) -> Path:
    """Where a table given as a path lives: relative to the program file's folder."""
    return base / spec


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
    return [_table_path(path.parent, doc[name]) for name in ("projects", "profiles")
            if isinstance(doc.get(name), str) and _bad_character(doc[name]) is None]


def load(path: str | Path) -> Instance:
    """Read and validate a ``capital-portfolio/1`` program file (YAML or JSON).

    Returns an immutable :class:`Instance` with its model tables prepared.
    Raises :class:`~optimizer.errors.InstanceError` listing every problem found, each
    with its file, field and row.
    """
    path = _resolve_shipped(path)  # an existing path as is, else a shipped name: pilot
    ctx = _Context(str(path))
    doc = _read_document(path)
    if not isinstance(doc, Mapping):
        raise InstanceError([Problem(ctx.file, "(file)", None,
                                     "must hold a mapping of program fields "
                                     f"(format, horizon, sectors, projects, ...), got "
                                     f"{_got(doc)}")])
    doc = dict(doc)  # keys as read: one that is no text is refused by name
    metadata: dict[str, Any] = {}  # every x_ key, at its dotted place
    _check_keys(ctx, doc, voc.PROGRAM, "", metadata=metadata)
    # every scalar and mapping field of the vocabulary, read by its kind and bound
    top = _fields(ctx, doc, voc.PROGRAM, "", metadata=metadata)
    name = top["name"] if isinstance(top["name"], str) else _clean_source(path.stem)
    horizon = top["horizon"]
    first, last = horizon if horizon else (None, None)
    budget = top["budget"] or {}
    total: float | None = budget.get("total")
    per_year: dict[int, float] = budget.get("per_year") or {}
    hurdle = top["hurdle_rate"]
    sectors, smin, smax = _sectors(ctx, doc, metadata)
    capacity: dict[int, float] = (top["labor"] or {}).get("capacity") or {}
    known = top["known_optimum"]
    proven = top["known_optimum_proven"]
    units = top["units"] or _fields(ctx, {}, voc.UNITS, "units")
    money_unit, labor_unit = units["money"], units["labor"]

    base = path.parent
    profiles = pd.DataFrame({c: [] for c in PROFILE_COLUMNS})
    profile_table = None
    before_profiles = len(ctx.problems)
    if doc.get("profiles") is not None:
        # required columns: checked by _check_columns, with the unknown ones beside them
        profile_table = _check_columns(ctx, _read_table(ctx, doc["profiles"], "profiles",
                                                        base),
                                       doc["profiles"], voc.PROFILES, "profiles")
    # a problem in the profiles table: which projects have profile rows is not known
    profiles_read = profile_table is not None or doc.get("profiles") is None
    profiles_read &= len(ctx.problems) == before_profiles
    if doc.get("projects") is None:  # required: said by _fields
        raise InstanceError(ctx.problems)
    table = _check_columns(ctx, _read_table(ctx, doc["projects"], "projects", base),
                           doc["projects"], voc.PROJECTS, "projects")
    if table is None:
        raise InstanceError(ctx.problems)
    if table.frame.empty:
        ctx.add("projects", "the projects table has no rows", file=table.file)
        raise InstanceError(ctx.problems)
    ids = table.frame["id"].tolist()
    positions = {pid: i for i, pid in enumerate(ids) if pid != ""}
    _table_metadata(table, "projects", metadata)
    if profile_table is not None:
        _table_metadata(profile_table, "profiles", metadata)
    if profile_table is not None:
        if profile_table.frame.empty:
            ctx.add("profiles", "the profiles table has no rows; leave `profiles` out instead",
                    file=profile_table.file)
        elif first is not None:
            before_profiles = len(ctx.problems)
            profiles = _validate_profiles(ctx, profile_table, positions, first)
            profiles_read &= len(ctx.problems) == before_profiles
        else:
            profiles_read = False  # no horizon: the profile rows were not read
    projects = _validate_projects(ctx, table, sectors, first, last,
                                  set(profiles["project"].unique()) if profiles_read
                                  else None)
    if profile_table is not None:
        _match_profiles(ctx, table, projects, profiles)
    requires, excludes = _dependencies(ctx, doc, positions, metadata)

    if ctx.problems:
        raise InstanceError(ctx.problems)
    assert first is not None and last is not None
    _requires_cycles(ctx, requires, projects["id"].to_numpy())

    projects = projects.astype({"start": np.int64, "build_years": np.int64,
                                "reinvest_every": np.int64, "max_units": np.int64})
    profiles = profiles.astype({"year": np.int64, "capital": float, "labor": float})
    years = np.arange(first, last + 1)
    instance = Instance(
        name=name,
        source=_clean_source(path),
        first_year=first,
        last_year=last,
        budget_total=total,
        budget_per_year=np.array([per_year.get(int(y), np.nan) for y in years]),
        hurdle_rate=hurdle,
        sectors=tuple(sectors),
        sector_min=np.array(smin, dtype=float),
        sector_max=np.array(smax, dtype=float),
        labor_capacity=np.array([capacity.get(int(y), np.nan) for y in years]),
        projects=projects[list(PROJECT_COLUMNS)],
        profiles=profiles[list(PROFILE_COLUMNS)].reset_index(drop=True),
        requires=requires,
        excludes=tuple(excludes),
        known_optimum=known,
        known_optimum_proven=proven,
        warnings=tuple(ctx.warnings),
        money_unit=money_unit,
        labor_unit=labor_unit,
        metadata=metadata,
    )
    prepared = prepare(instance)
    numerics = _numerics_warnings(prepared, ctx.file)
    if numerics:
        import dataclasses

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


# -------------------------------------------------------------------- prepare
def prepare(instance: Instance) -> Instance:
    """Derive the model tables (capital and labor per project and year, total capital per
    project, sector positions) from the validated tables, all with numpy."""
    import dataclasses

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
