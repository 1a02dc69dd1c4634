"""The errors this package raises, and the problem records they carry.

Only bad input and misuse raise. An infeasible program, a time limit or an
interruption is an answer (a :class:`~optimizer.results.result.Result`), never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Problem", "InstanceError", "OptimizerError", "UsageError", "printable"]

#: How many problems an :class:`InstanceError` message lists before summarising the rest.
MESSAGE_LIMIT = 200


#: What a terminal would act on or break a line at rather than show: the control characters
#: (Unicode category Cc: C0, DEL and C1, the newline and the escape included), the line and
#: paragraph separators, the bidirectional overrides and isolates (they reorder what follows
#: them), and lone surrogates (a file name's undecodable bytes, as Python reads them).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to print on one line of a terminal: every control character (a NUL, an
    escape, a newline), line separator, bidirectional override and lone surrogate written
    as its Python escape (``\\x1b``, ``\\n``, ``\\u202e``, ``\\xff`` for a file name's
    undecodable byte); every other character, any script's letters included, as it is."""
    return _UNPRINTABLE.sub(_escape, text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instance: where it is and what to do about it.

    ``file`` is the file as the user named it, ``field`` the key or column,
    ``row`` a human locator (``"row 3 (line 4)"`` in a CSV file, ``"projects[2]"``
    inline, ``None`` for a program-level field).
    """

    file: str
    field: str
    row: str | None
    message: str

    def __str__(self) -> str:
        """The problem on one line: the file, row, field and message as given, with every
        character a terminal would act on escaped (:func:`printable`)."""
        where = f"{printable(self.file)}: " + (f"{printable(self.row)}, " if self.row else "")
        return f"{where}field '{printable(self.field)}': {printable(self.message)}"


class OptimizerError(Exception):
    """Base class of every error this package raises on purpose."""


class UsageError(OptimizerError):
    """The package was called in a way it does not support (bad option, bad path)."""


class InstanceError(OptimizerError):
    """An instance file breaks the format. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InstanceError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        count = len(self.problems)
        head = f"invalid instance: {count} problem{'s' if count != 1 else ''} found"
        lines = [head] + [f"  - {p}" for p in self.problems[:MESSAGE_LIMIT]]
        if count > MESSAGE_LIMIT:
            lines.append(f"  ... and {count - MESSAGE_LIMIT} more of the same kinds")
        lines.append("Fix the listed fields and run again; nothing was solved.")
        return "\n".join(lines)
