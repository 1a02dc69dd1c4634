"""The command line: ``optimizer solve FILE`` and friends.

It parses arguments and calls the API; it holds no logic of its own. Exit codes follow
docs/format.md ("Exit codes"): 0 a plan, 2 bad usage or an invalid instance, 3 proven
infeasible, 4 stopped at a limit with no plan, 1 an internal error.

The pipeline of a run: :mod:`~optimizer.cli.parser` (with :mod:`~optimizer.cli.flags`)
reads the arguments; :func:`main` dispatches to a command of :mod:`~optimizer.cli.solve`,
:mod:`~optimizer.cli.study` (sweep, marginal, explain) or :mod:`~optimizer.cli.tools`
(validate, schema, generate, convert, examples, bench), which share
:mod:`~optimizer.cli.common`; and :func:`main` turns what went wrong into a message, an exit
code and, with ``--json``, an error object. A command imports what it needs (the loader,
the solver, Pyomo, HiGHS) only when it runs, so that the command line starts fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from optimizer.cli.common import (  # noqa: F401 - _LiveProgress, _LiveSweep: for the tests
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    _fail,
    _LiveProgress,
    _LiveSweep,
    _Stdout,
)
from optimizer.cli.flags import _dashed_values
from optimizer.cli.parser import _ArgumentError, parser
from optimizer.cli.solve import _no_plan, _solve
from optimizer.cli.study import _explain, _marginal, _sweep
from optimizer.cli.tools import _bench, _convert, _examples, _generate, _schema, _validate
from optimizer.errors import InstanceError, UsageError

__all__ = ["main", "run", "parser"]

#: Commands whose process may end without the interpreter's teardown (see :func:`run`).
_QUICK_EXIT = {"solve", "explain", "validate", "marginal"}


def run() -> None:
    """The ``optimizer`` command: :func:`main`, then exit.

    After a solve, the interpreter's own teardown frees the model's millions of objects
    one by one (0.3 s of a 2.5 s process at 20,000 projects). Once everything is written
    and flushed, a command that started no child processes and holds no open files ends
    the process at once instead.
    """
    argv = sys.argv[1:]
    code = main(argv)
    if argv and argv[0] in _QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed pipe: exit as main decided
            pass
        os._exit(code)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code. With ``--json``, standard output holds one
    JSON object whatever happens: the command's own, or an error object (status
    ``error``) when the run ends without one (bad usage, an invalid program, an internal
    error)."""
    _Stdout.emitted = False
    return _main(list(sys.argv[1:] if argv is None else argv))


def _main(argv: list[str]) -> int:
    as_json = "--json" in (argv[:argv.index("--")] if "--" in argv else argv)
    dashed = _dashed_values(argv)
    if dashed is not None:
        return _fail(as_json, "usage", EXIT_USAGE, f"optimizer: error: {dashed}")
    try:
        args = parser().parse_args(argv)
    except _ArgumentError as exc:
        sys.stderr.write(exc.usage)
        return _fail(as_json, "usage", EXIT_USAGE, str(exc))
    try:
        commands = {"solve": _solve, "validate": _validate, "generate": _generate,
                    "convert": _convert, "bench": _bench, "sweep": _sweep,
                    "marginal": _marginal, "explain": _explain,
                    "examples": _examples, "schema": _schema}
        return commands[args.command](args)
    except InstanceError as exc:
        return _fail(as_json, "invalid_input", EXIT_USAGE, f"optimizer: {exc}", exc.problems)
    except UsageError as exc:
        return _fail(as_json, "usage", EXIT_USAGE, f"optimizer: {exc}")
    except KeyboardInterrupt:
        if args.command == "solve":  # before the solve's own handlers were in place
            return _no_plan(args, 0.0)
        return _fail(as_json, "interrupted", EXIT_INTERRUPTED,
                     "optimizer: interrupted; nothing written")
    except BrokenPipeError:
        # the reader of standard output went away (`optimizer solve ... | head`): not an
        # error of ours; point stdout at the null device so the exit flush stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as the shell reports it
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        return _fail(as_json, "internal_error", EXIT_INTERNAL,
                     f"optimizer: internal error: {type(exc).__name__}: {exc}. This is a "
                     "bug; please report it with the program file (run with --debug for "
                     "details).")
