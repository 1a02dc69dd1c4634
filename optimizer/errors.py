"""The errors this package raises, and the problem records they carry.

Only bad input and misuse raise. An infeasible program, a time limit or an
interruption is an answer (a :class:`~optimizer.results.Result`), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "InstanceError", "OptimizerError", "UsageError"]

#: How many problems an :class:`InstanceError` message lists before summarising the rest.
MESSAGE_LIMIT = 200


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
        where = f"{self.file}: " + (f"{self.row}, " if self.row else "")
        return f"{where}field '{self.field}': {self.message}"


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
