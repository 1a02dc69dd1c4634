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
from typing import NoReturn

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


def _gap(text: str) -> float:
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


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
    b.add_argument("--out", default="bench-report", metavar="DIR",
                   help="with report: where report.md and its charts go")
    b.add_argument("--suite", default=None, help="with report: the suite to report on")
    b.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
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


def _solve(args: argparse.Namespace) -> int:
    from optimizer.api import solve
    from optimizer.errors import UsageError
    from optimizer.solver import SolveOptions

    if args.out is not None and not args.out.lower().endswith((".json", ".csv")):
        raise UsageError(f"--out {args.out}: the file must end in .json or .csv")
    live = _LiveProgress() if (not args.json and sys.stderr.isatty()) else None
    options = SolveOptions(time_limit=args.time_limit, gap=args.gap, threads=args.threads,
                           seed=args.seed, presolve=args.presolve, progress=live)
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
        sys.stdout.write(result.to_json() + "\n")
    else:
        print(result.summary())
    if result.status in ("infeasible", "no_solution", "invalid"):
        print(f"optimizer: {result.status}: {result.message}", file=sys.stderr)
    return result.exit_code


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
                             bench.Options(time_limit=args.time_limit, threads=args.threads))
    print(f"run {run_id} recorded in {args.history}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from optimizer.errors import InstanceError, UsageError

    try:
        commands = {"solve": _solve, "validate": _validate, "generate": _generate,
                    "convert": _convert, "bench": _bench}
        return commands[args.command](args)
    except InstanceError as exc:
        print(f"optimizer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"optimizer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("optimizer: interrupted before the solve started; nothing written",
              file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"optimizer: internal error: {type(exc).__name__}: {exc}. This is a bug; "
              "please report it with the program file (run with --debug for details).",
              file=sys.stderr)
        return EXIT_INTERNAL
