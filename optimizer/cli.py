"""The command line: ``optimizer solve FILE`` and friends.

It parses arguments and calls the API; it holds no logic of its own. Exit codes follow
section 5 of the format: 0 a plan, 2 bad usage or an invalid instance, 3 proven
infeasible, 4 stopped at a limit with no plan, 1 an internal error.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

EXIT_USAGE = 2
EXIT_INTERNAL = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code is already 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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
    p.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                   help=f"HiGHS threads {per} (default: 1)")
    p.add_argument("--seed", type=_seed, default=0, help="HiGHS random seed (default: 0)")
    _limit_flags(p, f" ({per})")


def _limit_flags(p: argparse.ArgumentParser, per: str) -> None:
    p.add_argument("--node-limit", type=_whole(0), default=None, metavar="N",
                   help=f"stop after N branch-and-bound nodes{per} with the best plan found")
    p.add_argument("--solution-limit", type=_whole(0), default=None, metavar="N",
                   help=f"stop after N improving plans{per} with the best plan found")


def _options(args: argparse.Namespace, **more: Any):  # noqa: ANN202 - SolveOptions (lazy)
    """SolveOptions from the flags of :func:`_solver_flags`, and ``more``."""
    from optimizer.solver import SolveOptions

    return SolveOptions(time_limit=args.time_limit, gap=args.gap, threads=args.threads,
                        seed=args.seed, node_limit=args.node_limit,
                        solution_limit=args.solution_limit, **more)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="optimizer", description="Capital-portfolio optimizer (Pyomo + HiGHS).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("solve", help="solve a program file and check the plan")
    s.add_argument("path", help="program file (.yaml, .yml or .json)")
    s.add_argument("--time-limit", type=_non_negative_float, default=None, metavar="S",
                   help="stop after S seconds with the best plan found (default: none)")
    s.add_argument("--gap", type=_gap, default=1e-4, metavar="G",
                   help="stop when the relative gap is at most G (default: 1e-4)")
    s.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="HiGHS threads (default: HiGHS decides)")
    s.add_argument("--seed", type=_seed, default=0, help="HiGHS random seed (default: 0)")
    _limit_flags(s, "")
    s.add_argument("--heuristic", choices=("off", "core", "core+fixing"), default="off",
                   help="before branch and bound: core search from the LP relaxation, its "
                        "plan handed to HiGHS, and optionally reduced-cost fixing "
                        "(default: off; see the README's measurements)")
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
    s.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    g = sub.add_parser("generate", help="write a synthetic program shaped like the pilot")
    g.add_argument("--projects", type=_positive_int, required=True, metavar="N")
    g.add_argument("--years", type=_positive_int, default=10, metavar="Y")
    g.add_argument("--seed", type=_seed, default=0)
    g.add_argument("--first-year", type=int, default=2026)
    g.add_argument("--out", required=True, metavar="DIR")
    g.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    c = sub.add_parser("convert", help="convert benchmark files into programs")
    c.add_argument("kind", choices=("orlib",), help="the source format")
    c.add_argument("path", help="an OR-Library knapsack file (mknap1, mknap2, mknapcbK, GK)")
    c.add_argument("--out", required=True, metavar="DIR")
    c.add_argument("--best-known", default=None, metavar="CSV",
                   help="table of best-known values (default: best_known.csv beside the file)")
    c.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    b = sub.add_parser("bench", help="run a benchmark suite, or report on the history")
    b.add_argument("target", help="a suite (smoke, nightly, full) or 'report'")
    b.add_argument("--history", default="bench-history.sqlite", metavar="PATH",
                   help="the SQLite history store (default: bench-history.sqlite)")
    b.add_argument("--time-limit", type=_non_negative_float, default=60.0, metavar="S",
                   help="per instance (default: 60)")
    b.add_argument("--threads", type=_positive_int, default=1, metavar="N")
    b.add_argument("--gap", type=_gap, default=1e-4, metavar="G",
                   help="relative gap at which a solve stops (default: 1e-4)")
    b.add_argument("--only", default=None, metavar="PATTERN",
                   help="run only the suite's instances matching this shell pattern "
                        "(e.g. 'mknapcb4-*'); the run is recorded as SUITE[PATTERN]")
    b.add_argument("--out", default="bench-report", metavar="DIR",
                   help="with report: where report.md and its charts go")
    b.add_argument("--suite", default=None, help="with report: the suite to report on")
    b.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    w = sub.add_parser("sweep", help="solve a program over a grid of one or two parameters")
    w.add_argument("path", help="program file (.yaml, .yml or .json)")
    for flag, metavar, what in _SWEEP_FLAGS:
        w.add_argument(flag, metavar=metavar, default=None, help=what)
    w.add_argument("--param", metavar="NAME=START:STOP:STEP", action="append", default=[],
                   help="any sweep parameter: budget, budget_scale, budget_year:YEAR, "
                        "labor_scale, labor:YEAR, sector_min:SECTOR, sector_max:SECTOR, "
                        "hurdle_rate, return_multiplier:PROJECT_OR_SECTOR")
    _solver_flags(w, "per point")
    w.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="local worker processes (default: the machine's cores)")
    w.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run the points on this Dask scheduler (e.g. tcp://127.0.0.1:8786)")
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
    w.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    m = sub.add_parser("marginal", help="what one more unit of each limit is worth")
    m.add_argument("path", help="program file (.yaml, .yml or .json)")
    _solver_flags(m, "per solve")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    e = sub.add_parser("explain", help="the longer story: arithmetic checks, the checked "
                       "solve, and why an infeasible program is infeasible")
    e.add_argument("path", help="program file (.yaml, .yml or .json)")
    _solver_flags(e, "for the solve")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    v = sub.add_parser("validate", help="check a program file without solving it")
    v.add_argument("path")
    v.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return p


class _LiveProgress:
    """Elapsed time, incumbent, bound and gap on one refreshed terminal line."""

    def __init__(self) -> None:
        self.shown = False
        self.last = 0.0

    def __call__(self, p: object) -> None:
        now = time.monotonic()
        elapsed = getattr(p, "elapsed", 0.0)
        if elapsed < 1.0 or now - self.last < 0.25:
            return
        self.last = now
        inc, bnd, gap = (getattr(p, k) for k in ("incumbent", "bound", "gap"))
        text = (f"\r  {elapsed:7.1f}s  incumbent {'-' if inc is None else f'{inc:,.6g}':>12}"
                f"  bound {'-' if bnd is None else f'{bnd:,.6g}':>12}"
                f"  gap {'-' if gap is None else f'{gap:.3%}':>8}")
        sys.stderr.write(text)
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


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
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    view = memoryview(text.encode())
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
    if args.out is not None:
        atomic_write(args.out, text + "\n" if args.out.lower().endswith(".json") else
                     ",".join(SELECTED_COLUMNS) + "\n")
    if args.json:
        _emit(text + "\n")
    print(f"optimizer: no_solution: {message}", file=sys.stderr)
    return 4


def _solve(args: argparse.Namespace) -> int:
    from optimizer.errors import UsageError

    if args.out is not None and not args.out.lower().endswith((".json", ".csv")):
        raise UsageError(f"--out {args.out}: the file must end in .json or .csv")
    started = time.perf_counter()
    with _Signals():
        try:
            return _solve_and_report(args)
        except KeyboardInterrupt:
            return _no_plan(args, time.perf_counter() - started)


def _solve_and_report(args: argparse.Namespace) -> int:
    from optimizer.api import solve

    live = _LiveProgress() if (not args.json and sys.stderr.isatty()) else None
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
    if args.out is not None:
        result.write(args.out)
    if args.json:
        _emit(result.to_json() + "\n")
    else:
        _emit(result.summary() + "\n")
    if result.status in ("infeasible", "no_solution", "invalid"):
        print(f"optimizer: {result.status}: {result.message}", file=sys.stderr)
    return result.exit_code


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
    for flag in ("plot", "frequency_plot"):
        path = getattr(args, flag)
        if path is not None and not path.lower().endswith(".png"):
            raise UsageError(f"--{flag.replace('_', '-')} {path}: name the file .png")
    if args.out is not None and not args.out.lower().endswith((".json", ".csv")):
        raise UsageError(f"--out {args.out}: the file must end in .json or .csv")
    instance = load(args.path)
    for warning in instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    options = _options(args)
    client = None
    if args.scheduler is not None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise UsageError("--scheduler needs the 'distributed' package") from None
        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--scheduler {args.scheduler}: cannot connect ({exc})") from None
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    try:
        with _quiet_fd1_if(args.json):
            result = sweep(instance, grid, options, workers=workers, client=client,
                           chunk_size=args.chunk_size, reuse=not args.cold,
                           share=not args.cold)
    finally:
        if client is not None:
            client.close()
    if args.out is not None:
        result.write(args.out)
    if args.plot is not None:
        result.plot(args.plot)
    if args.frequency_plot is not None:
        from optimizer.frontiers import plot_frequency

        plot_frequency(result, args.frequency_plot)
    if args.json:
        _emit(result.to_json() + "\n")
    else:
        _emit(result.summary() + "\n")
    if not result.complete:
        print(f"optimizer: interrupted: {len(result.points)} of {result.grid_size} points "
              "solved; those are reported", file=sys.stderr)
        return 130
    invalid = (result.frame["status"] == "invalid").sum()
    if invalid:
        print(f"optimizer: {invalid} point(s) with a plan that breaks a rule; see the output",
              file=sys.stderr)
        return EXIT_INTERNAL
    return 0


def _quiet_fd1_if(flag: bool):  # noqa: ANN202 - a context manager
    import contextlib

    from optimizer.solver import quiet_stdout

    return quiet_stdout() if flag else contextlib.nullcontext()


def _marginal(args: argparse.Namespace) -> int:
    import json

    from optimizer.loading import load
    from optimizer.marginal import marginal_values

    instance = load(args.path)
    options = _options(args)
    with _quiet_fd1_if(args.json):
        table = marginal_values(instance, options=options)
    if args.json:
        records = json.loads(table.to_json(orient="records"))
        _emit(json.dumps({"program": instance.name, "limits": records},
                         indent=2) + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.width", 140, "display.max_columns", 20):
            _emit(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}") + "\n")
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


def _validate(args: argparse.Namespace) -> int:
    from optimizer.loading import load

    instance = load(args.path)
    for warning in instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.path}: valid ({instance.n_projects} projects, "
          f"{instance.first_year}-{instance.last_year}, {len(instance.sectors)} sectors)")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from optimizer.generate import generate, write

    path = write(generate(args.projects, years=args.years, seed=args.seed,
                          first_year=args.first_year), args.out)
    print(path)
    return 0


def _convert(args: argparse.Namespace) -> int:
    from optimizer.orlib import convert

    for path in convert(args.path, args.out, args.best_known):
        print(path)
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
    args = parser().parse_args(argv)
    from optimizer.errors import InstanceError, UsageError

    try:
        commands = {"solve": _solve, "validate": _validate, "generate": _generate,
                    "convert": _convert, "bench": _bench, "sweep": _sweep,
                    "marginal": _marginal, "explain": _explain}
        return commands[args.command](args)
    except InstanceError as exc:
        print(f"optimizer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"optimizer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if args.command == "solve":  # before the solve's own handlers were in place
            return _no_plan(args, 0.0)
        print("optimizer: interrupted; nothing written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of standard output went away (`optimizer solve ... | head`): not an
        # error of ours; point stdout at the null device so the exit flush stays quiet
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as the shell reports it
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"optimizer: internal error: {type(exc).__name__}: {exc}. This is a bug; "
              "please report it with the program file (run with --debug for details).",
              file=sys.stderr)
        return EXIT_INTERNAL
