"""Where a run may write: an output path that is the program file or one of its tables
is refused (writing there would replace the run's own input). The writing itself is
:mod:`optimizer.files`'s, re-exported here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from optimizer.errors import UsageError
from optimizer.files import (  # noqa: F401  (re-exported: the writers of results)
    atomic_write,
    check_output,
    check_output_dir,
    current_umask,
    same_file,
    write_errors,
)
from optimizer.program.shipped import resolve

__all__ = ["atomic_write", "check_not_inputs", "check_output", "check_output_dir",
           "current_umask", "write_errors"]


def check_not_inputs(outputs: Sequence[tuple[str, str | Path | None]], program: str | Path,
                     tables: Sequence[str | Path] = ()) -> None:
    """Refuse an output path that is the program file or one of its ``tables``: writing it
    would replace the run's own input. ``outputs`` are (flag, path or None). Raises
    :class:`~optimizer.errors.UsageError` naming the flag and the input."""

    inputs = [("the program file", resolve(program))] + [("a table of the program", Path(t))
                                                         for t in tables]
    for flag, out in outputs:
        if out is None:
            continue
        for what, path in inputs:
            if same_file(out, path):
                raise UsageError(f"{flag} {out}: is {what} ({path}); writing there would "
                                 "replace the run's own input: name another file")
