"""The command line's parser: :func:`parser`, every command with its flags (the flags
several commands share are in :mod:`optimizer.cli.flags`). ``docs/cli.md`` is rendered
from it (:mod:`optimizer.cli.clidoc`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

import optimizer
from optimizer.bench import SUITES
from optimizer.cli.flags import (
    _SWEEP_FLAGS,
    _debug_flag,
    _gap,
    _highs_flags,
    _limit_flags,
    _non_negative_float,
    _Once,
    _positive_int,
    _seed,
    _solver_flags,
    _threads,
    _unit_interval,
    _whole,
)
from optimizer.limits import HORIZON_YEARS, MAX_PROJECTS, THREADS, YEAR
from optimizer.solving.options import HEURISTICS, TREE_AUTO_LIMIT


def _version() -> str:
    """This package's version: its installed distribution's, else ``optimizer.__version__``."""
    from importlib.metadata import PackageNotFoundError, version  # slow to import: here only

    try:
        return version("capital-portfolio-optimizer")
    except PackageNotFoundError:
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


class _ArgumentError(Exception):
    """A command line argparse refused: its usage line and message (exit 2)."""

    def __init__(self, usage: str, message: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code is already 2
        raise _ArgumentError(self.format_usage(), f"{self.prog}: error: {message}")


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
    s.add_argument("--heuristic", choices=HEURISTICS, default="auto",
                   help="before branch and bound, its best plan handed to HiGHS: tree (an "
                        "LP tree with rounding at every node, on programs whose rows only "
                        "limit), core (core search from the LP relaxation), core+fixing "
                        "(and reduced-cost fixing) or off (default: auto, tree where it "
                        f"applies with a time limit of at most {TREE_AUTO_LIMIT:g} s, else "
                        "off; see the "
                        "measurements in docs/peers.md)")
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
    s.add_argument("--plot", metavar="DIR", default=None,
                   help="also draw the plan's charts into the folder DIR (made if missing): "
                        "capital.png, labor.png and, with cash flows, cash.png")
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
    g.add_argument("--format", choices=("1", "2"), default="1",
                   help="the format version (default: 1). 2 writes a version-2 (part A) "
                        "program: the same projects with start windows of up to 3 years, "
                        "commitment_deadline two thirds of the way through the horizon "
                        "(2032 for 2026-2035), cash flows (annual_cash and "
                        "operating_years for most, a cash.csv table for a tenth, "
                        "loss_rate and deemed_rate on some), economics "
                        "{discount_rate 0.05, deemed_rate 0.055, split 0.5/0.1, objective "
                        "npv}, project_hurdle {irr 0.06, recover_within 20}, "
                        "hurdle_rate 0.05, budget.recycle: true and a lag on about half "
                        "of the requires")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="the folder to write program.yaml, projects.csv and profiles.csv "
                        "(and, with --format 2, cash.csv) into (made if missing)")
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
    b.add_argument("target", help=f"a suite ({', '.join(SUITES)}) or 'report'")
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
                   help="any sweep parameter a rule family offers, NAME or NAME:KEY (e.g. "
                        "budget, budget_year:2028, sector_min:energy, hurdle_rate); an "
                        "unknown name is refused with the list of them all")
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
