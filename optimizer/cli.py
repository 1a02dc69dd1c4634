"""The command line: ``optimizer solve FILE`` and friends.

It parses arguments and calls the API; it holds no logic of its own. Exit codes follow
docs/format.md ("Exit codes"): 0 a plan, 2 bad usage or an invalid instance, 3 proven
infeasible, 4 stopped at a limit with no plan, 1 an internal error.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from optimizer.limits import HORIZON_YEARS, MAX_PROJECTS, THREADS, YEAR

if TYPE_CHECKING:  # the command line imports the solver only when a command needs it
    from optimizer.solver import Progress
    from optimizer.sweeps import SweepProgress

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


def _version() -> str:
    """This package's version: its installed distribution's, else ``optimizer.__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("capital-portfolio-optimizer")
    except PackageNotFoundError:
        import optimizer

        return optimizer.__version__


class _Version(argparse.Action):
    """``optimizer --version``: ``optimizer <version>`` on standard output, exit 0."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        sys.stdout.write(f"optimizer {_version()}\n")
        parser.exit(0)


class _Once(argparse.Action):
    """A flag that may be given once: a second value is refused rather than replacing
    the first (exit 2)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(f"argument {option_string}: given twice "
                         f"({getattr(namespace, self.dest)!r} and {values!r}); give it once")
        setattr(namespace, self.dest, values)


def _dashed_values(argv: Sequence[str]) -> str | None:
    """The message for a sweep flag followed by a value beginning with '-' that argparse
    would read as an option ("expected one argument"), e.g. ``--budget -100:0:50``."""
    flags = {flag for flag, _, _ in _SWEEP_FLAGS} | {"--param"}
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag in flags and value[:1] == "-" and (value[1:2].isdigit()
                                                   or value[1:2] == "."):
            try:
                float(value)  # a plain negative number argparse takes as a value
            except ValueError:
                return (f"argument {flag}: {value!r} begins with '-' and reads as an "
                        f"option; write {flag}={value}")
    return None


class _ArgumentError(Exception):
    """A command line argparse refused: its usage line and message (exit 2)."""

    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code is already 2
        raise _ArgumentError(self.format_usage(), f"{self.prog}: error: {message}")


class _Stdout:
    """What :func:`_emit` has written to standard output in this run: with ``--json``, an
    error that ends the run prints its JSON object only when nothing else was printed."""

    emitted = False


def _error_json(termination: str, code: int, message: str,
                problems: Sequence[Any] = ()) -> str:
    """The one JSON object a ``--json`` run prints when it ends in an error instead of a
    result (docs/format.md, "When there is no result"): ``status`` is ``error``."""
    import json

    from optimizer.errors import printable

    def clean(text: str | None) -> str | None:  # no lone surrogate reaches the JSON
        return None if text is None else printable(text).replace("\\n", "\n")

    return json.dumps({
        "status": "error", "termination": termination, "exit_code": code,
        "message": clean(message),
        "problems": [{"file": clean(p.file), "field": clean(p.field), "row": clean(p.row),
                      "message": clean(p.message)} for p in problems],
    }, indent=2, ensure_ascii=False) + "\n"


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _whole(low: int, high: int | None = None):  # noqa: ANN202 - an argparse type
    """An argparse type: a whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            limits = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise argparse.ArgumentTypeError(f"must be {limits}, got {text!r}")
        return value

    return parse


_positive_int = _whole(1)
_seed = _whole(0, 2**31 - 1)
_threads = _whole(int(THREADS.low), int(THREADS.high))  # optimizer.limits.THREADS


def _unit_interval(text: str) -> float:
    value = _non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return value


def _gap(text: str) -> float:
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


#: The sweep's own parameter flags: (flag, metavar, help).
_SWEEP_FLAGS = (
    ("--budget", "START:STOP:STEP", "the total budget cap ($B); also a,b,c"),
    ("--labor-scale", "START:STOP:STEP", "a factor on every yearly labor capacity"),
    ("--budget-scale", "START:STOP:STEP", "a factor on the total and every per-year cap"),
    ("--hurdle", "START:STOP:STEP", "the return hurdle rate"),
    ("--sector-min", "SECTOR=START:STOP:STEP", "one sector's floor ($B)"),
    ("--sector-max", "SECTOR=START:STOP:STEP", "one sector's ceiling ($B)"),
)


def _solver_flags(p: argparse.ArgumentParser, per: str) -> None:
    """--time-limit, --gap, --threads (default 1) and --seed, for commands that solve many
    times."""
    p.add_argument("--time-limit", type=_non_negative_float, default=None, metavar="S",
                   help=f"{per} (default: none)")
    p.add_argument("--gap", type=_gap, default=1e-4, metavar="G",
                   help="relative gap at which each solve stops (default: 1e-4)")
    p.add_argument("--threads", type=_threads, default=1, metavar="N",
                   help=f"HiGHS threads {per}, 1 to {THREADS.high:g} (default: 1)")
    p.add_argument("--seed", type=_seed, default=0, help="HiGHS random seed (default: 0)")
    _limit_flags(p, f" ({per})")
    _highs_flags(p)


def _limit_flags(p: argparse.ArgumentParser, per: str) -> None:
    p.add_argument("--node-limit", type=_whole(0), default=None, metavar="N",
                   help=f"stop after N branch-and-bound nodes{per} with the best plan found")
    p.add_argument("--solution-limit", type=_whole(0), default=None, metavar="N",
                   help=f"stop after N improving plans{per} with the best plan found")


def _highs_option(text: str) -> tuple[str, str]:
    """An argparse type: ``NAME=VALUE`` (HiGHS itself checks both, see SolveOptions)."""
    name, eq, value = text.partition("=")
    if not eq or not name.strip():
        raise argparse.ArgumentTypeError(f"write NAME=VALUE (a HiGHS option), got {text!r}")
    return name.strip(), value.strip()


def _feasibility_tolerance(text: str) -> float:
    value = _non_negative_float(text)
    if value < 1e-10:
        raise argparse.ArgumentTypeError(f"must be at least 1e-10, got {text!r}")
    return value


def _highs_flags(p: argparse.ArgumentParser) -> None:
    """--feasibility-tolerance, --highs-option and --log (--tee), for every command that
    solves."""
    p.add_argument("--feasibility-tolerance", type=_feasibility_tolerance, default=None,
                   metavar="T",
                   help="HiGHS's primal and MIP feasibility tolerance (default: HiGHS's own; a "
                        "plan the check rejects is re-solved at 1e-9, or T if tighter)")
    p.add_argument("--highs-option", type=_highs_option, action="append", default=[],
                   metavar="NAME=VALUE",
                   help="set any other HiGHS option (repeatable), e.g. --highs-option "
                        "mip_detect_symmetry=off; the options this program's flags set "
                        "(time_limit, mip_rel_gap, random_seed, threads, ...) are refused: "
                        "use the flag")
    p.add_argument("--log", "--tee", dest="log", action="store_true",
                   help="show HiGHS's own log on standard error while it solves")


def _options(args: argparse.Namespace, **more: Any):  # noqa: ANN202 - SolveOptions (lazy)
    """SolveOptions from the flags of :func:`_solver_flags` and :func:`_highs_flags`, and
    ``more``. A ``--highs-option`` this program sets itself is refused, naming the flag."""
    from optimizer.errors import UsageError
    from optimizer.solver import OWNED_OPTIONS, SolveOptions

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


def _debug_flag(p: argparse.ArgumentParser) -> None:
    """--debug, on every command: the traceback of an internal error."""
    p.add_argument("--debug", action="store_true",
                   help="on an internal error, print the traceback")


def _suites() -> list[str]:
    """The benchmark suites' names (optimizer.bench imports only the standard library)."""
    from optimizer.bench import SUITES

    return list(SUITES)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="optimizer", description="Capital-portfolio optimizer (Pyomo + HiGHS).")
    p.add_argument("--version", action=_Version, help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("solve", help="solve a program file and check the plan")
    s.add_argument("path", help="program file (.yaml, .yml or .json)")
    s.add_argument("--time-limit", type=_non_negative_float, default=None, metavar="S",
                   help="stop after S seconds with the best plan found (default: none); "
                        "an infeasible program's explanation then gets what is left of S, "
                        "at least 2 s (30 s without a limit), and says if it stopped early")
    s.add_argument("--gap", type=_gap, default=1e-4, metavar="G",
                   help="stop when the relative gap is at most G (default: 1e-4)")
    s.add_argument("--threads", type=_threads, default=None, metavar="N",
                   help=f"HiGHS threads, 1 to {THREADS.high:g} (default: HiGHS decides)")
    s.add_argument("--seed", type=_seed, default=0, help="HiGHS random seed (default: 0)")
    _limit_flags(s, "")
    _highs_flags(s)
    s.add_argument("--heuristic", choices=("off", "core", "core+fixing"), default="off",
                   help="before branch and bound: core search from the LP relaxation, its "
                        "plan handed to HiGHS, and optionally reduced-cost fixing "
                        "(default: off; see the measurements in docs/peers.md)")
    s.add_argument("--heuristic-effort", type=_unit_interval, default=None, metavar="E",
                   help="HiGHS's mip_heuristic_effort, in [0, 1] (default: 0.3 with a time "
                        "limit of at most 20 s, HiGHS's 0.05 otherwise)")
    s.add_argument("--local-search", choices=("on", "off"), default="off",
                   help="improve every plan HiGHS finds by funding, dropping and exchanging "
                        "projects, and hand the better plan back (default: off, as "
                        "measured; models of up to a million rows x columns)")
    s.add_argument("--presolve", choices=("auto", "on", "off"), default="auto",
                   help="HiGHS presolve (default: auto, off from 1,000 projects)")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object on standard output and nothing else")
    s.add_argument("--out", metavar="FILE", default=None,
                   help="also write the result: FILE.json (the JSON object) or FILE.csv "
                        "(the funded projects)")
    _debug_flag(s)
    g = sub.add_parser("generate", help="write a synthetic program shaped like the pilot")
    g.add_argument("--projects", type=_whole(1, MAX_PROJECTS), required=True,
                   metavar="N", help="how many projects the program has (at most "
                                     f"{MAX_PROJECTS:,})")
    g.add_argument("--years", type=_whole(1, HORIZON_YEARS), default=10, metavar="Y",
                   help=f"the horizon's length in years (default: 10; at most {HORIZON_YEARS})")
    g.add_argument("--seed", type=_seed, default=0,
                   help="random seed: the same seed writes the same program (default: 0)")
    g.add_argument("--first-year", type=_whole(int(YEAR.low), int(YEAR.high)), default=2026,
                   metavar="YEAR", help="the horizon's first year (default: 2026); the last "
                                        f"year, first + years - 1, at most {int(YEAR.high)}")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="the folder to write program.yaml, projects.csv and profiles.csv "
                        "into (made if missing)")
    _debug_flag(g)
    c = sub.add_parser("convert", help="convert benchmark files into programs")
    c.add_argument("kind", choices=("orlib",), help="the source format")
    c.add_argument("path", help="an OR-Library knapsack file (mknap1, mknap2, mknapcbK, GK), "
                   "or a shipped set by name, e.g. orlib/mknap1.txt (see `optimizer examples`)")
    c.add_argument("--out", required=True, metavar="DIR")
    c.add_argument("--best-known", default=None, metavar="CSV",
                   help="table of best-known values (default: best_known.csv beside the file)")
    _debug_flag(c)
    x = sub.add_parser("examples", help="list the programs and OR-Library sets shipped with "
                       "the package (solve them by name: optimizer solve pilot)")
    x.add_argument("name", nargs="?", default=None,
                   help="with --copy: the program or set to copy (default: pilot); alone: "
                        "print where that shipped file is")
    x.add_argument("--copy", metavar="DIR", default=None,
                   help="copy NAME into the folder DIR (a program with its tables)")
    _debug_flag(x)
    b = sub.add_parser("bench", help="run a benchmark suite, or report on the history")
    b.add_argument("target", help=f"a suite ({', '.join(_suites())}) or 'report'")
    b.add_argument("--history", default="bench-history.sqlite", metavar="PATH",
                   help="the SQLite history store (default: bench-history.sqlite)")
    b.add_argument("--time-limit", type=_non_negative_float, default=60.0, metavar="S",
                   help="per instance (default: 60)")
    b.add_argument("--threads", type=_threads, default=1, metavar="N",
                   help=f"HiGHS threads per instance, 1 to {THREADS.high:g} (default: 1)")
    b.add_argument("--gap", type=_gap, default=1e-4, metavar="G",
                   help="relative gap at which a solve stops (default: 1e-4)")
    b.add_argument("--only", default=None, metavar="PATTERN",
                   help="run only the suite's instances whose name or set matches this "
                        "shell pattern (e.g. 'mknapcb4-*', mknap2); the run is recorded as "
                        "SUITE[PATTERN]")
    b.add_argument("--out", default="bench-report", metavar="DIR",
                   help="with report: where report.md and its charts go")
    b.add_argument("--suite", default=None, help="with report: the suite to report on")
    _debug_flag(b)
    w = sub.add_parser("sweep", help="solve a program over a grid of one or two parameters")
    w.add_argument("path", help="program file (.yaml, .yml or .json)")
    for flag, metavar, what in _SWEEP_FLAGS:
        w.add_argument(flag, metavar=metavar, default=None, action=_Once,
                       help=f"{what} (once; a value beginning with '-': {flag}=VALUE)")
    w.add_argument("--param", metavar="NAME=START:STOP:STEP", action="append", default=[],
                   help="any sweep parameter: budget, budget_scale, budget_year:YEAR, "
                        "labor_scale, labor:YEAR, sector_min:SECTOR, sector_max:SECTOR, "
                        "hurdle_rate, return_multiplier:PROJECT_OR_SECTOR")
    _solver_flags(w, "per point")
    w.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="local worker processes (default: the machine's cores)")
    w.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run the points on this Dask scheduler (e.g. tcp://127.0.0.1:8786; "
                        "needs pip install 'capital-portfolio-optimizer[dask]')")
    w.add_argument("--chunk-size", type=_positive_int, default=None, metavar="K",
                   help="successive points that share one model (default: an eighth of "
                        "the points, at least 4)")
    w.add_argument("--cold", action="store_true",
                   help="solve every point from scratch (no model reuse, no shared plans)")
    w.add_argument("--json", action="store_true",
                   help="print one JSON object (with a 'points' list) and nothing else")
    w.add_argument("--out", metavar="FILE", default=None,
                   help="also write the points: FILE.json or FILE.csv")
    w.add_argument("--plot", metavar="FILE.png", default=None,
                   help="draw the frontier (return and capital by sector along the sweep)")
    w.add_argument("--frequency-plot", metavar="FILE.png", default=None,
                   help="draw how often each project is chosen across the points")
    _debug_flag(w)
    m = sub.add_parser("marginal", help="what one more unit of each limit is worth")
    m.add_argument("path", help="program file (.yaml, .yml or .json)")
    _solver_flags(m, "per solve")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    _debug_flag(m)
    e = sub.add_parser("explain", help="the longer story: arithmetic checks, the checked "
                       "solve, and why an infeasible program is infeasible")
    e.add_argument("path", help="program file (.yaml, .yml or .json)")
    _solver_flags(e, "for the solve")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    _debug_flag(e)
    v = sub.add_parser("validate", help="check a program file without solving it")
    v.add_argument("path")
    v.add_argument("--json", action="store_true",
                   help="print one JSON object (status valid, the program's size and its "
                        "warnings) and nothing else")
    _debug_flag(v)
    sc = sub.add_parser("schema", help="print the JSON Schema of the program file (for "
                                       "editors: completion and checks)")
    _debug_flag(sc)
    return p


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


def _emit(text: str) -> None:
    """Write all of ``text`` to standard output.

    A signal that arrives while a large write is blocked on a full pipe makes the kernel
    return a partial write, and Python's text layer then drops the rest silently (measured:
    64 KiB of a 2.3 MB JSON object, exit 0). Writing the bytes to the descriptor in a loop
    keeps every byte.
    """
    import io
    import os

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


class _Signals:
    """SIGINT and SIGTERM in ``optimizer solve`` outside the solver's own run (where they
    stop HiGHS and keep its incumbent). Before any solver run has finished they end the
    run with no plan (exit 4); after, they are noted and the checked result is still
    reported and written in full."""

    def __init__(self) -> None:
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, _signum: int, _frame: object) -> None:
        solver = sys.modules.get("optimizer.solver")
        if solver is None or not solver.runs_finished():
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


def _no_plan(args: argparse.Namespace, seconds: float) -> int:
    """Report a solve stopped by a signal before the solver ran: no plan, exit 4."""
    import json

    from optimizer.results import SELECTED_COLUMNS, atomic_write

    message = ("interrupted before the solver ran (while reading the program or building "
               "the model): no plan")
    data: dict[str, Any] = {
        "status": "no_solution", "termination": "interrupted", "objective": None,
        "bound": None, "gap": None, "selected": [],
        "capital": {"total": None, "by_year": {}, "by_sector": {}},
        "labor": {"by_year": {}}, "timings": {"total": round(seconds, 6)},
        "solver": {"name": "highs", "threads": args.threads, "gap_tolerance": args.gap,
                   "time_limit": args.time_limit, "seed": args.seed},
        "instance": {"source": args.path}, "check": {"valid": False, "violations": []},
        "binding": [], "conflicts": [], "message": message}
    text = json.dumps(data, indent=2)
    writes = _Writes()
    if args.out is not None:
        writes.run(args.out, lambda: atomic_write(
            args.out, text + "\n" if args.out.lower().endswith(".json") else
            ",".join(SELECTED_COLUMNS) + "\n"))
    if args.json:
        _emit(text + "\n")
    print(f"optimizer: no_solution: {message}", file=sys.stderr)
    return writes.exit_code(4)


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
    from optimizer.results import check_output

    for flag, suffixes in flags:
        path = _flag_value(args, flag)
        if path is not None:
            check_output(path, flag, suffixes)


def _distinct_outputs(args: argparse.Namespace, flags: Sequence[str]) -> None:
    """Refuse two output flags naming one file (one would overwrite the other)."""
    import os

    from optimizer.errors import UsageError

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
    import os

    from optimizer.loading import table_paths
    from optimizer.results import check_not_inputs

    outputs = [(flag, _flag_value(args, flag)) for flag in flags]
    check_not_inputs(outputs, args.path)
    if tables and any(out is not None and os.path.lexists(out) for _, out in outputs):
        check_not_inputs(outputs, args.path, table_paths(args.path))


def _solve(args: argparse.Namespace) -> int:
    _check_outputs(args, [("--out", (".json", ".csv"))])
    _refuse_inputs(args, ["--out"], tables=True)
    started = time.perf_counter()
    with _Signals():
        try:
            return _solve_and_report(args)
        except KeyboardInterrupt:
            return _no_plan(args, time.perf_counter() - started)


def _solve_and_report(args: argparse.Namespace) -> int:
    from optimizer.api import solve

    live = _LiveProgress() if (not args.json and not args.log and sys.stderr.isatty()) \
        else None
    options = _options(args, presolve=args.presolve, progress=live, heuristic=args.heuristic,
                       heuristic_effort=args.heuristic_effort,
                       local_search=args.local_search)
    try:
        result = solve(args.path, options)
    finally:
        if live is not None:
            live.close()
    for warning in result.instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    writes = _Writes()
    if args.out is not None:
        writes.run(args.out, lambda: result.write(args.out))
    if args.json:
        _emit(result.to_json() + "\n")
    else:
        _emit(result.summary() + "\n")
    if result.status in ("infeasible", "no_solution", "invalid"):
        print(f"optimizer: {result.status}: {result.message}", file=sys.stderr)
    return writes.exit_code(result.exit_code)


def _sweep_grid(args: argparse.Namespace) -> dict[str, list[float]]:
    from optimizer.errors import UsageError
    from optimizer.sweeps import parse_range

    grid: dict[str, list[float]] = {}

    def add(name: str, text: str, flag: str) -> None:
        if name in grid:
            raise UsageError(f"{flag}: the parameter {name!r} is already swept")
        grid[name] = parse_range(text, flag)

    for flag, name in (("budget", "budget"), ("labor_scale", "labor_scale"),
                       ("budget_scale", "budget_scale"), ("hurdle", "hurdle_rate")):
        if getattr(args, flag) is not None:
            add(name, getattr(args, flag), f"--{flag.replace('_', '-')}")
    for flag in ("sector_min", "sector_max"):
        text = getattr(args, flag)
        if text is not None:
            sector, eq, values = text.partition("=")
            if not eq or not sector.strip():
                raise UsageError(f"--{flag.replace('_', '-')} {text!r}: write "
                                 "SECTOR=START:STOP:STEP")
            add(f"{flag}:{sector.strip()}", values, f"--{flag.replace('_', '-')}")
    for text in args.param:
        name, eq, values = text.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--param {text!r}: write NAME=START:STOP:STEP")
        add(name.strip(), values, "--param")
    if not grid:
        raise UsageError("sweep: name a parameter to sweep (--budget, --labor-scale, "
                         "--sector-min, --param ...)")
    return grid


def _sweep(args: argparse.Namespace) -> int:
    import os

    from optimizer.errors import UsageError
    from optimizer.loading import load
    from optimizer.sweeps import sweep

    grid = _sweep_grid(args)
    _check_outputs(args, [("--out", (".json", ".csv")), ("--plot", (".png",)),
                          ("--frequency-plot", (".png",))])
    _distinct_outputs(args, ["--out", "--plot", "--frequency-plot"])
    if args.scheduler is not None:
        try:
            import distributed  # noqa: F401 - an extra: is it installed?
        except ImportError:
            raise UsageError("--scheduler runs the sweep on Dask, whose 'distributed' package "
                             "is not installed; install it with: "
                             "pip install 'capital-portfolio-optimizer[dask]'") from None
    outputs = ["--out", "--plot", "--frequency-plot"]
    _refuse_inputs(args, outputs, tables=False)
    options = _options(args)
    instance = load(args.path)
    _refuse_inputs(args, outputs, tables=True)
    for warning in instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    client = None
    if args.scheduler is not None:
        from distributed import Client

        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--scheduler {args.scheduler}: cannot connect ({exc})") from None
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    live = _LiveSweep() if (not args.json and not args.log and sys.stderr.isatty()) else None
    try:
        with _quiet_fd1_if(args.json):
            result = sweep(instance, grid, options, workers=workers, client=client,
                           chunk_size=args.chunk_size, reuse=not args.cold,
                           share=not args.cold, progress=live)
    finally:
        if live is not None:
            live.close()
        if client is not None:
            client.close()
    writes = _Writes()
    if args.out is not None:
        writes.run(args.out, lambda: result.write(args.out))
    if args.plot is not None:
        writes.run(args.plot, lambda: result.plot(args.plot))
    if args.frequency_plot is not None:
        from optimizer.frontiers import plot_frequency

        writes.run(args.frequency_plot, lambda: plot_frequency(result, args.frequency_plot))
    if args.json:
        _emit(result.to_json() + "\n")
    else:
        _emit(result.summary() + "\n")
    code = 0
    invalid = (result.frame["status"] == "invalid").sum()
    if not result.complete:
        print(f"optimizer: interrupted: {len(result.points)} of {result.grid_size} points "
              "solved; those are reported", file=sys.stderr)
        code = EXIT_INTERRUPTED
    elif invalid:
        print(f"optimizer: {invalid} point(s) with a plan that breaks a rule; see the output",
              file=sys.stderr)
        code = EXIT_INTERNAL
    return writes.exit_code(code)


def _quiet_fd1_if(flag: bool):  # noqa: ANN202 - a context manager
    import contextlib

    from optimizer.solver import quiet_stdout

    return quiet_stdout() if flag else contextlib.nullcontext()


def _marginal(args: argparse.Namespace) -> int:
    import json

    from optimizer.loading import load
    from optimizer.marginal import marginal_values

    options = _options(args)
    instance = load(args.path)
    with _quiet_fd1_if(args.json):
        table = marginal_values(instance, options=options)
    if args.json:
        records = json.loads(table.to_json(orient="records"))
        _emit(json.dumps({"program": instance.name, "limits": records},
                         indent=2) + "\n")
    else:
        import pandas as pd

        from optimizer.units import money, people
        from optimizer.units import table as formatted

        shown = table.copy()
        shown["step"] = [people(s, instance.labor_unit) if r.startswith("labor") else
                         f"{s:g}" if r == "hurdle_rate" else money(s, instance.money_unit)
                         for r, s in zip(table["rule"], table["step"], strict=True)]
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            _emit(f"{instance.name}: what each step of a limit is worth, as the change of the "
                  f"best return ({instance.money_unit})\n"
                  + formatted(shown.set_index("rule")) + "\n")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from optimizer.diagnosis import diagnose

    options = _options(args)
    with _quiet_fd1_if(args.json):
        story = diagnose(args.path, options)
    for warning in story.instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _emit((story.to_json() if args.json else story.text()) + "\n")
    return story.exit_code


def _schema(args: argparse.Namespace) -> int:
    from optimizer.schema import schema_text

    _emit(schema_text())
    return 0


def _validate(args: argparse.Namespace) -> int:
    from optimizer.loading import load

    instance = load(args.path)
    for warning in instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    shown = args.path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if args.json:
        import json

        _emit(json.dumps({"status": "valid", "source": shown, "name": instance.name,
                          "projects": instance.n_projects,
                          "horizon": [instance.first_year, instance.last_year],
                          "sectors": list(instance.sectors),
                          "warnings": list(instance.warnings)},
                         indent=2, ensure_ascii=False) + "\n")
        return 0
    print(f"{shown}: valid ({instance.n_projects} projects, "
          f"{instance.first_year}-{instance.last_year}, {len(instance.sectors)} sectors)")
    return 0


def _written(where: Any, write: Any) -> Any:
    """``write()``; a failed write (no space, permission lost) a UsageError naming the
    file (``where`` when the error names none) and the reason."""
    from optimizer.results import write_errors

    with write_errors(where):
        return write()


def _generate(args: argparse.Namespace) -> int:
    from optimizer.generate import generate, write
    from optimizer.results import check_output_dir

    check_output_dir(args.out, "--out")
    program = generate(args.projects, years=args.years, seed=args.seed,
                       first_year=args.first_year)
    print(_written(args.out, lambda: write(program, args.out)))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from optimizer.orlib import convert
    from optimizer.results import check_output_dir

    check_output_dir(args.out, "--out")
    for path in _written(args.out, lambda: convert(args.path, args.out, args.best_known)):
        print(path)
    return 0


def _examples(args: argparse.Namespace) -> int:
    from optimizer import shipped
    from optimizer.errors import UsageError

    if args.copy is not None:
        for path in _written(args.copy, lambda: shipped.copy_out(args.name or "pilot",
                                                                 args.copy)):
            print(path)
    elif args.name is not None:
        found = shipped.shipped(args.name)
        if found is None:
            raise UsageError(f"examples: {args.name!r} is not a shipped program or set; "
                             "run `optimizer examples` for the list")
        print(found)
    else:
        print(shipped.listing())
    return 0


def _bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from optimizer import bench

    if args.target == "report":
        code, path = bench.report(Path(args.history), Path(args.out), args.suite)
        print(path)
        if code:
            print("optimizer: regressions found; see the report", file=sys.stderr)
        return code
    run_id = bench.run_suite(args.target, Path(args.history),
                             bench.Options(time_limit=args.time_limit, threads=args.threads,
                                           gap=args.gap), only=args.only)
    print(f"run {run_id} recorded in {args.history}")
    return 0


#: Commands whose process may end without the interpreter's teardown (see :func:`run`).
_QUICK_EXIT = {"solve", "explain", "validate", "marginal"}


def run() -> None:
    """The ``optimizer`` command: :func:`main`, then exit.

    After a solve, the interpreter's own teardown frees the model's millions of objects
    one by one (0.3 s of a 2.5 s process at 20,000 projects). Once everything is written
    and flushed, a command that started no child processes and holds no open files ends
    the process at once instead.
    """
    import os

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


def _fail(as_json: bool, termination: str, code: int, message: str,
          problems: Sequence[Any] = ()) -> int:
    """End a run in an error: the message on standard error, and with ``--json`` the error
    object on standard output unless the command has printed its own."""
    print(message, file=sys.stderr)
    if as_json and not _Stdout.emitted:
        _emit(_error_json(termination, code, message, problems))
    return code


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
    from optimizer.errors import InstanceError, UsageError

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
        return _fail(as_json, "interrupted", 130, "optimizer: interrupted; nothing written")
    except BrokenPipeError:
        # the reader of standard output went away (`optimizer solve ... | head`): not an
        # error of ours; point stdout at the null device so the exit flush stays quiet
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as the shell reports it
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        return _fail(as_json, "internal_error", EXIT_INTERNAL,
                     f"optimizer: internal error: {type(exc).__name__}: {exc}. This is a "
                     "bug; please report it with the program file (run with --debug for "
                     "details).")
