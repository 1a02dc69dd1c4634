"""How the loader words what it reads: the characters no text of a program may hold, the
markers a document's odd values are read as (a huge integer, a key that is a list), how
a value is quoted in a message, and the :class:`Context` that collects the problems and
warnings of one program while it is read.

Every module of the loader (:mod:`optimizer.program.loading`) words its problems with
these; this one imports only the format's vocabulary and :mod:`optimizer.errors`.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.errors import Problem
from optimizer.limits import RATE
from optimizer.program import vocabulary as voc

__all__ = ["CONTROL", "CONTROL_IN_LINES", "INVISIBLE", "bad_character", "clean_source",
           "BadKey", "HugeNumber", "Context", "is_number", "quoted", "spelled",
           "type_words", "got_words", "outside_words"]

# ------------------------------------------------------------------ characters
#: A control character (Unicode category Cc: C0, DEL and C1; NUL, tab, newline and escape
#: among them). No text of a program holds one (free text aside, which may hold newlines):
#: a NUL makes ``A\0`` an id distinct from ``A`` that prints as ``A``; an escape or a
#: newline, printed, rewrites the terminal or forges a line of a report.
CONTROL = re.compile(f"[{voc.CONTROL_CHARACTERS}]")
#: The same, the newline aside (free text: ``description``, ``source``, ``notes``).
CONTROL_IN_LINES = re.compile(f"[{voc.CONTROL_BUT_NEWLINE}]")
#: An invisible format character (Unicode category Cf, as of Unicode 15: the soft hyphen,
#: zero-width spaces and joiners, bidirectional marks, overrides and isolates, the byte
#: order mark, tags), or a control character: what an id or a sector name may not hold,
#: since it makes distinct names that look alike (``A`` and ``A\u200b``).
INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
#: The bytes a CSV text may hold anywhere without a cell to check: printable ASCII, the
#: newline, and every byte of a multi-byte UTF-8 character but 0xC2 (which begins the C1
#: controls, U+0080-U+009F, as well as U+00A0-U+00BF). Deleting them (``bytes.translate``,
#: 3 ms for 10 MB) leaves nothing in a clean table.



def _character_words(char: str) -> str:
    """``a control character (U+0000, a NUL byte)``, ``an invisible format character
    (U+200B)``: what a refused character is, for a message."""
    code = ord(char)
    if CONTROL.fullmatch(char):
        names = {0: ", a NUL byte", 9: ", a tab", 10: ", a newline", 13: ", a carriage return",
                 27: ", an escape"}
        return f"a control character (U+{code:04X}{names.get(code, '')})"
    return f"an invisible format character (U+{code:04X})"


def bad_character(text: str, *, name: bool = False, lines: bool = False) -> str | None:
    """Why ``text`` may not stand in a program (the rest of a sentence about it), or None:
    it holds a control character (a newline allowed where ``lines``); a ``name`` (an id,
    a sector) holds no invisible format character either."""
    found = (INVISIBLE if name else CONTROL_IN_LINES if lines else CONTROL).search(text)
    if found is None:
        return None
    why = ("which an id or a sector name may not hold (it makes distinct names that look "
           "alike)" if name and not CONTROL.fullmatch(found.group()) else
           "which no text of a program may hold" + (" (free text may hold newlines)"
                                                    if lines else ""))
    return f"holds {_character_words(found.group())}, {why}: remove it"


def clean_source(path: Path | str) -> str:
    """A file name as text any reader takes: the bytes of a name that are not UTF-8
    (Python keeps them as lone surrogates, which strict JSON refuses) as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class BadKey:
    """A mapping key that is a list or a mapping (YAML's ``? [a, b]``): kept, by identity,
    as a marker the validator refuses by name; never converted to text (``str()`` of a
    list that YAML aliases expand would be megabytes)."""

    def __init__(self, value: Any) -> None:
        self.kind = type_words(value)
        self.text = voc.shown_value(value)

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__



class HugeNumber(float):
    """An integer literal of more than :data:`~optimizer.program.sizes.MAX_INTEGER_DIGITS`
    digits, as read from a document: never converted (Python refuses to, past 4,300
    digits; a float cannot hold it), infinite as a float, and refused by the validator as
    out of bounds by name."""

    literal: str
    line: int | None

    def __new__(cls, literal: str, line: int | None = None) -> HugeNumber:
        self = super().__new__(cls, -math.inf if literal.startswith("-") else math.inf)
        self.literal, self.line = literal, line
        return self

    @property
    def digits(self) -> int:
        return len(self.literal.lstrip("+-"))

    def __repr__(self) -> str:
        return f"<a number of {self.digits:,} digits>"

    __str__ = __repr__


# ----------------------------------------------------------------------- context
@dataclass
class Context:
    """Collects problems and warnings while one program is read, and says which version
    of the format its file is read as (the keys and columns it may use)."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the format version the file says (version 1 where it says none it may)
    version: int = 1

    def add(self, field_name: str, message: str, row: str | None = None,
            file: str | None = None) -> None:
        self.problems.append(Problem(file or self.file, field_name, row, message))


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def quoted(value: Any) -> str:
    """A value as a message quotes it: its repr, cut where long (a hostile file may hold a
    5,000-digit number, a megabyte of text or, through YAML aliases, a list of millions of
    values), escaped where not printable (:func:`optimizer.program.vocabulary.shown_value`)."""
    if isinstance(value, HugeNumber | BadKey):
        return repr(value)
    if isinstance(value, str):
        return f"'{voc.shown(value)}'" + (f" ({len(value):,} characters)" if len(value) > 80
                                         else "")
    return voc.shown_value(value)


def spelled(key: Any) -> str:
    """A key that is no text as a document spells it: ``null``, ``true``, ``1.5``,
    ``[a, b]`` (never Python's ``None`` or ``True``, which the file does not say)."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return voc.shown(key)


def type_words(value: Any) -> str:
    """What a value of a document is, in the format's words, for a message: ``a list``,
    ``a boolean`` (true or false), ``a date``."""
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, BadKey):
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


def got_words(value: Any) -> str:
    """A value that is of the wrong kind, for the end of a message (``got ...``), in the
    format's words: ``null``, ``true``, ``a date (2026-01-01)``, ``a list [1, 2]``,
    ``'abc'``, ``12.5``."""
    if value is None or isinstance(value, str | bool | HugeNumber | BadKey) or (
            is_number(value)):
        return quoted(value)
    if isinstance(value, datetime.date):
        return f"a date ({value.isoformat()})"
    return f"{type_words(value)} {quoted(value)}"


#: Words a bound's message adds where its number alone may mislead (the format's other
#: bounds are on amounts in the program's own units, and say only their numbers).
_BOUND_HINTS = {RATE: "a fraction: 0.10 is 10%"}


def outside_words(f: voc.Field, value: float) -> str:
    """Why ``value`` (outside the bound of ``f``) is refused, in plain words with the
    bound's number (``must be at most 1e9``): the program's units say what it counts."""
    bound = f.bound
    assert bound is not None
    hint = f" ({_BOUND_HINTS[bound]})" if bound in _BOUND_HINTS else ""
    if value >= bound.high and f.high_exclusive:
        return f"must be below {voc.number_text(bound.high)}{hint}"
    if value > bound.high:
        return f"must be at most {voc.number_text(bound.high)}{hint}"
    least = "more than" if f.low_exclusive else "at least"
    return f"must be {least} {voc.number_text(bound.low)}{hint}"
