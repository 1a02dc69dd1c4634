"""The command line's flags: argparse types and actions, and the groups of flags several
commands share (:func:`_solver_flags`, :func:`_highs_flags`, ...), for
:mod:`optimizer.cli.parser`. Only the standard library and :mod:`optimizer.limits`: the
parser is built on every run, before any command imports what it needs."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from optimizer.limits import THREADS


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


def _debug_flag(p: argparse.ArgumentParser) -> None:
    """--debug, on every command: the traceback of an internal error."""
    p.add_argument("--debug", action="store_true",
                   help="on an internal error, print the traceback")
