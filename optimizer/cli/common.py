"""What the commands share: the exit codes, standard output (:func:`_emit`) and the error
object a ``--json`` run ends with (:func:`_fail`), the checks of output paths before any
work and the writes after it (:class:`_Writes`), the solver options from the flags, and the
live progress lines on a terminal.

Only the standard library and :mod:`optimizer.errors` at import time: what a command needs
(the loader, the solver, the results with pandas) is imported when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optimizer.errors import UsageError, printable

if TYPE_CHECKING:  # the command line imports the solver only when a command needs it
    from optimizer.solving.highs import Progress
    from optimizer.whatif.sweeps import SweepProgress

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


class _Stdout:
    """What :func:`_emit` has written to standard output in this run: with ``--json``, an
    error that ends the run prints its JSON object only when nothing else was printed."""

    emitted = False


def _error_json(termination: str, code: int, message: str,
                problems: Sequence[Any] = ()) -> str:
    """The one JSON object a ``--json`` run prints when it ends in an error instead of a
    result (docs/format.md, "When there is no result"): ``status`` is ``error``."""
    def clean(text: str | None) -> str | None:  # no lone surrogate reaches the JSON
        return None if text is None else printable(text).replace("\\n", "\n")

    return json.dumps({
        "status": "error", "termination": termination, "exit_code": code,
        "message": clean(message),
        "problems": [{"file": clean(p.file), "field": clean(p.field), "row": clean(p.row),
                      "message": clean(p.message)} for p in problems],
    }, indent=2, ensure_ascii=False) + "\n"


def _fail(as_json: bool, termination: str, code: int, message: str,
          problems: Sequence[Any] = ()) -> int:
    """End a run in an error: the message on standard error, and with ``--json`` the error
    object on standard output unless the command has printed its own."""
    print(message, file=sys.stderr)
    if as_json and not _Stdout.emitted:
        _emit(_error_json(termination, code, message, problems))
    return code


def _emit(text: str) -> None:
    """Write all of ``text`` to standard output.

    A signal that arrives while a large write is blocked on a full pipe makes the kernel
    return a partial write, and Python's text layer then drops the rest silently (measured:
    64 KiB of a 2.3 MB JSON object, exit 0). Writing the bytes to the descriptor in a loop
    keeps every byte.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # a captured stream
        _Stdout.emitted = True
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    _Stdout.emitted = True
    # a name taken from a file name that is not UTF-8 holds surrogate escapes: print them
    # as escapes (\udcff) rather than fail after the work is done
    view = memoryview(text.encode(errors="backslashreplace"))
    while view:
        view = view[os.write(fd, view):]


class _Writes:
    """The output files written after a result: a failed write (no space, the folder gone,
    permission lost) is kept and reported once the result is on standard output."""

    def __init__(self) -> None:
        self.failed: list[tuple[str, OSError]] = []

    def run(self, path: str, write: Any) -> None:
        try:
            write()
        except OSError as exc:
            self.failed.append((path, exc))

    def exit_code(self, code: int) -> int:
        """Say on standard error which files could not be written, and the exit code:
        ``code`` when every file was written, or when it says something graver than a
        failed write (1, the checker rejected a plan; 130, interrupted); else 2."""
        for path, exc in self.failed:
            print(f"optimizer: could not write {path}: {exc.strerror or exc}", file=sys.stderr)
        if self.failed and code not in (EXIT_INTERNAL, EXIT_INTERRUPTED):
            return EXIT_USAGE
        return code


def _flag_value(args: argparse.Namespace, flag: str) -> Any:
    """The parsed value of ``flag`` (``--frequency-plot``: ``args.frequency_plot``)."""
    return getattr(args, flag.lstrip("-").replace("-", "_"))


def _check_outputs(args: argparse.Namespace,
                   flags: Sequence[tuple[str, tuple[str, ...]]]) -> None:
    """Check every output path of ``flags`` ((flag, suffixes)) before any work starts."""
    from optimizer.results.result import check_output

    for flag, suffixes in flags:
        path = _flag_value(args, flag)
        if path is not None:
            check_output(path, flag, suffixes)


def _distinct_outputs(args: argparse.Namespace, flags: Sequence[str]) -> None:
    """Refuse two output flags naming one file (one would overwrite the other)."""
    seen: dict[str, str] = {}
    for flag in flags:
        path = _flag_value(args, flag)
        if path is None:
            continue
        where = os.path.normcase(os.path.realpath(path))
        if where in seen:
            raise UsageError(f"{seen[where]} and {flag} both name {path}: one would "
                             f"overwrite the other; give each its own file")
        seen[where] = flag


def _refuse_inputs(args: argparse.Namespace, flags: Sequence[str], *, tables: bool) -> None:
    """Refuse an output path of ``flags`` that is the program file or, with ``tables``, one
    of the tables it names (only an existing output can be one: the tables are read)."""
    from optimizer.program.loading import table_paths
    from optimizer.results.result import check_not_inputs

    outputs = [(flag, _flag_value(args, flag)) for flag in flags]
    check_not_inputs(outputs, args.path)
    if tables and any(out is not None and os.path.lexists(out) for _, out in outputs):
        check_not_inputs(outputs, args.path, table_paths(args.path))


def _written(where: Any, write: Any) -> Any:
    """``write()``; a failed write (no space, permission lost) a UsageError naming the
    file (``where`` when the error names none) and the reason."""
    from optimizer.results.result import write_errors

    with write_errors(where):
        return write()


def _options(args: argparse.Namespace, **more: Any):  # noqa: ANN202 - SolveOptions (lazy)
    """SolveOptions from the flags of :func:`_solver_flags` and :func:`_highs_flags`, and
    ``more``. A ``--highs-option`` this program sets itself is refused, naming the flag."""
    from optimizer.solving.highs import OWNED_OPTIONS, SolveOptions

    for name, value in args.highs_option:
        if name in OWNED_OPTIONS:
            flag = OWNED_OPTIONS[name][1]
            instead = (f"use {flag} instead" if hasattr(args, flag.lstrip("-").replace("-", "_"))
                       else f"`optimizer {args.command}` has no flag for it (`optimizer "
                            f"solve` takes {flag})")
            raise UsageError(f"--highs-option {name}={value}: HiGHS option {name} is set by "
                             f"this program itself (the result reports it); {instead}")
    return SolveOptions(time_limit=args.time_limit, gap=args.gap, threads=args.threads,
                        seed=args.seed, node_limit=args.node_limit,
                        solution_limit=args.solution_limit,
                        feasibility_tolerance=args.feasibility_tolerance,
                        highs_options=tuple(args.highs_option), log=args.log, **more)


def _quiet_fd1_if(flag: bool):  # noqa: ANN202 - a context manager
    from optimizer.solving.highs import quiet_stdout

    return quiet_stdout() if flag else contextlib.nullcontext()


class _LiveLine:
    """One refreshed line on standard error (a terminal), ended by :meth:`close`."""

    def __init__(self) -> None:
        self.shown = False

    def show(self, text: str) -> None:
        sys.stderr.write(f"\r{text}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _LiveProgress(_LiveLine):
    """Elapsed time, incumbent, bound and gap of a solve."""

    def __init__(self) -> None:
        super().__init__()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.elapsed < 1.0 or now - self.last < 0.25:
            return
        self.last = now
        inc, bnd, gap = p.incumbent, p.bound, p.gap
        self.show(f"  {p.elapsed:7.1f}s  incumbent {'-' if inc is None else f'{inc:,.6g}':>12}"
                  f"  bound {'-' if bnd is None else f'{bnd:,.6g}':>12}"
                  f"  gap {'-' if gap is None else f'{gap:.3%}':>8}")


class _LiveSweep(_LiveLine):
    """A sweep's points done of the total, elapsed time and the last point's status."""

    def __call__(self, p: SweepProgress) -> None:
        self.show(f"  {p.done:,}/{p.total:,} points  {p.elapsed:7.1f}s  "
                  f"last: {p.last_status or '-':<12}")
