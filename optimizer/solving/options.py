"""How to solve: :class:`SolveOptions`, the HiGHS options the package sets itself, the
user's own HiGHS options (checked by HiGHS), and the measured defaults behind them."""

from __future__ import annotations

import functools
import math
import numbers
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from optimizer.errors import UsageError
from optimizer.limits import THREADS
from optimizer.solving.quiet import quiet_stdout

__all__ = ["SolveOptions", "Progress", "OWNED_OPTIONS", "owned_option_error", "highs_option",
           "highs_option_docs", "HEURISTICS", "HEURISTIC_SHARE", "SHORT_LIMIT",
           "SHORT_LIMIT_EFFORT", "PRESOLVE_OFF_FROM", "LOCAL_SEARCH_MAX_ENTRIES",
           "LOCAL_SEARCH_SHARE", "TREE_SHARE", "TREE_AUTO_LIMIT"]


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    ``time_limit`` in seconds (None: no limit); ``gap`` the relative MIP gap at which the
    solver may stop; ``threads`` HiGHS threads, 1 to
    :data:`optimizer.limits.THREADS` (256; None: HiGHS decides); ``seed`` HiGHS's
    random seed; ``presolve`` ``"on"``, ``"off"`` or ``"auto"`` (off from
    :data:`PRESOLVE_OFF_FROM` projects up, where it was measured to cost more than it
    saves); ``progress`` a callable receiving :class:`Progress` updates (None: silent).
    ``heuristic`` is what runs before HiGHS's branch and bound, its best plan handed to
    HiGHS as a start (:mod:`optimizer.solving.strategies`): ``tree``, the LP tree with
    rounding at every node (:mod:`optimizer.solving.tree`), on programs whose rows only
    limit; ``core`` (core search, :mod:`optimizer.solving.heuristics`) or ``core+fixing``
    (and reduced-cost fixing from it); ``off``; or ``auto`` (the default): ``tree`` where
    it applies and the time limit is at most :data:`TREE_AUTO_LIMIT`, ``off`` otherwise,
    as measured (docs/peers.md).
    ``heuristic_effort`` is HiGHS's own ``mip_heuristic_effort`` (None: chosen by the time
    limit, see :data:`SHORT_LIMIT`).
    ``local_search`` runs :class:`optimizer.solving.heuristics.SwapSearch` on every plan HiGHS
    finds and hands the better plan back: ``"on"`` or ``"off"`` (the default, as measured;
    see :data:`LOCAL_SEARCH_MAX_ENTRIES` and :data:`LOCAL_SEARCH_SHARE`).
    ``node_limit`` stops after that many branch-and-bound nodes and ``solution_limit``
    after that many improving plans (None: no limit); like the time limit, either keeps
    the best plan found so far, checked, with status ``feasible`` and its gap.
    ``highs_options`` are HiGHS options by name (a mapping, or (name, value) pairs; a
    value may be text, read as the option's type), checked by HiGHS itself (a bad name or
    value raises :class:`~optimizer.errors.UsageError` with HiGHS's message); they are
    kept as a tuple of (name, typed value) pairs. The options these fields set
    (:data:`OWNED_OPTIONS`: ``time_limit``, ``mip_rel_gap``, ``random_seed``, ...) are
    refused there, naming the field to use, so that the result reports what was used.
    ``log`` shows HiGHS's own log on standard error while it solves.
    ``handle_signals`` (True) turns Ctrl-C and SIGTERM into a stop that keeps the plan
    found so far; a sweep's worker processes solve with it False.
    ``feasibility_tolerance`` is HiGHS's primal and MIP feasibility tolerance (None:
    HiGHS's own); a plan the checker rejects is re-solved at
    :data:`optimizer.pipeline.TIGHT_TOLERANCE`, or tighter when this is tighter.
    """

    time_limit: float | None = None
    gap: float = 1e-4
    threads: int | None = None
    seed: int = 0
    presolve: str = "auto"
    progress: Callable[[Progress], None] | None = field(default=None, compare=False)
    feasibility_tolerance: float | None = None
    node_limit: int | None = None
    solution_limit: int | None = None
    heuristic: str = "auto"
    heuristic_effort: float | None = None
    local_search: str = "off"
    highs_options: tuple[tuple[str, Any], ...] = ()
    log: bool = False
    #: Ctrl-C and SIGTERM stop the solve and keep its plan (True), or are left to the
    #: process (False: a sweep's worker process, which its parent stops)
    handle_signals: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:

        # a mapping or any pairs given are normalised, once, into checked typed pairs
        object.__setattr__(self, "highs_options", _highs_pairs(self.highs_options))

        if self.time_limit is not None and not (self.time_limit >= 0):
            raise UsageError(f"time limit must be >= 0 seconds, got {self.time_limit}")
        if not (0 <= self.gap < 1):
            raise UsageError(f"gap must be in [0, 1), got {self.gap}")
        if self.threads is not None and (
                isinstance(self.threads, bool) or not isinstance(self.threads, numbers.Integral)
                or not THREADS.holds(self.threads)):
            raise UsageError(f"threads must be a whole number in [{THREADS.low:g}, "
                             f"{THREADS.high:g}], got {self.threads!r}")
        if self.presolve not in ("on", "off", "auto"):
            raise UsageError(f"presolve must be 'on', 'off' or 'auto', got {self.presolve!r}")
        if not (0 <= self.seed <= 2**31 - 1):
            raise UsageError(f"seed must be in [0, 2147483647], got {self.seed}")
        if self.heuristic not in HEURISTICS:
            raise UsageError(f"heuristic must be one of {', '.join(HEURISTICS)}, got "
                             f"{self.heuristic!r}")
        if self.local_search not in ("on", "off"):
            raise UsageError(f"local search must be 'on' or 'off', got {self.local_search!r}")
        if self.feasibility_tolerance is not None and \
                not (1e-10 <= self.feasibility_tolerance < math.inf):
            raise UsageError(f"feasibility tolerance must be at least 1e-10, got "
                             f"{self.feasibility_tolerance}")
        if self.heuristic_effort is not None and not (0 <= self.heuristic_effort <= 1):
            raise UsageError(f"heuristic effort must be in [0, 1], got {self.heuristic_effort}")
        for name in ("node_limit", "solution_limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise UsageError(f"{name.replace('_', ' ')} must be a whole number >= 0, "
                                 f"got {value!r}")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("progress")
        return out


#: The HiGHS options this package sets itself from :class:`SolveOptions`: HiGHS name ->
#: (the field of SolveOptions, the command line's flag). Given as ``highs_options`` they
#: are refused: the result's own fields (``solver.time_limit``, ``solver.seed``, the
#: manifest's seed, ...) would otherwise report another value than the one used.
OWNED_OPTIONS: dict[str, tuple[str, str]] = {
    "time_limit": ("time_limit", "--time-limit"),
    "mip_rel_gap": ("gap", "--gap"),
    "random_seed": ("seed", "--seed"),
    "threads": ("threads", "--threads"),
    "presolve": ("presolve", "--presolve"),
    "mip_max_nodes": ("node_limit", "--node-limit"),
    "mip_max_improving_sols": ("solution_limit", "--solution-limit"),
    "mip_heuristic_effort": ("heuristic_effort", "--heuristic-effort"),
    "primal_feasibility_tolerance": ("feasibility_tolerance", "--feasibility-tolerance"),
    "mip_feasibility_tolerance": ("feasibility_tolerance", "--feasibility-tolerance"),
    "output_flag": ("log", "--log"),
    "log_to_console": ("log", "--log"),
}


def owned_option_error(name: str) -> str | None:
    """Why HiGHS option ``name`` may not be given in ``highs_options`` (None: it may),
    naming the field of :class:`SolveOptions` to use instead."""
    if name not in OWNED_OPTIONS:
        return None
    return (f"HiGHS option {name} is set by this program itself (the result reports it); "
            f"use SolveOptions({OWNED_OPTIONS[name][0]}=...) instead")


# ------------------------------------------------------------- HiGHS's own options
_SCRATCH_LOCK = threading.Lock()
_SCRATCH: list[Any] = []  # one Highs object, only ever used to check option values
_CHECKED: dict[tuple[str, str, Any], Any] = {}  # (name, type of value, value) -> typed


def _scratch() -> tuple[Any, list[str]]:
    """A ``highspy.Highs`` for checking options, and the list its log messages go to."""
    if not _SCRATCH:
        import highspy

        with quiet_stdout():
            h = highspy.Highs()
            h.setOptionValue("log_to_console", False)  # messages to the callback only
        messages: list[str] = []
        h.cbLogging.subscribe(lambda event: messages.append(str(event.message)))
        _SCRATCH[:] = [h, messages]
    return _SCRATCH[0], _SCRATCH[1]


@functools.cache
def highs_option_docs() -> dict[str, tuple[str, str]]:
    """{name: (description, "[type: ..., range: ..., default: ...]")} of every HiGHS
    option, as HiGHS documents them in an options file."""
    import tempfile

    h, _ = _scratch()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "options.txt")
        with quiet_stdout():
            h.writeOptions(path)
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    docs: dict[str, tuple[str, str]] = {}
    comments: list[str] = []
    for line in lines:
        if line.startswith("#"):
            comments.append(line.lstrip("# ").strip())
        elif "=" in line:
            name = line.split("=", 1)[0].strip()
            about = [c for c in comments if not c.startswith("[")]
            spec = next((c for c in comments if c.startswith("[")), "")
            spec = spec.replace("advanced: false, ", "").replace("advanced: true, ", "")
            docs[name] = (" ".join(about), spec)
            comments = []
        else:
            comments = []
    return docs


_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")


def _typed(name: str, value: Any, kind: str) -> Any:
    """``value`` as HiGHS option ``name`` of type ``kind`` takes it (text is read as that
    type); raises ValueError when it is not one."""
    if isinstance(value, str) and kind != "string":
        text = value.strip().lower()
        if kind == "bool":
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise ValueError(f"{value!r} is not true or false")
        try:
            return int(text) if kind == "integer" else float(text)
        except ValueError:
            what = "a whole number" if kind == "integer" else "a number"
            raise ValueError(f"{value!r} is not {what}") from None
    if kind == "bool" and isinstance(value, bool | np.bool_):
        return bool(value)
    if kind == "integer" and isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    if kind == "double" and isinstance(value, int | float | np.integer | np.floating) \
            and not isinstance(value, bool):
        return float(value)
    if kind == "string" and isinstance(value, str):
        return value
    nouns = {"bool": "true or false", "integer": "a whole number", "double": "a number"}
    raise ValueError(f"{value!r} is not {nouns.get(kind, 'text')}")


def highs_option(name: Any, value: Any) -> Any:
    """HiGHS option ``name`` set to ``value``, checked by HiGHS on a scratch ``Highs``:
    the value in the option's type, or a :class:`~optimizer.errors.UsageError` with
    HiGHS's own message, the option's type and range."""
    import highspy


    if not isinstance(name, str) or not name:
        raise UsageError(f"HiGHS option names are text, got {name!r}")
    key = (name, type(value).__name__, repr(value))
    with _SCRATCH_LOCK:
        if key in _CHECKED:
            return _CHECKED[key]
        h, messages = _scratch()
        del messages[:]
        with quiet_stdout():
            status, kind = h.getOptionType(name)
        if status != highspy.HighsStatus.kOk:
            import difflib

            said = "; ".join(m.strip() for m in messages) or f'Option "{name}" is unknown'
            near = difflib.get_close_matches(name, list(highs_option_docs()), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise UsageError(f"HiGHS option {name}={value}: HiGHS refused it: "
                             f"{_plain(said)}{hint}")
        kind_name = {highspy.HighsOptionType.kBool: "bool",
                     highspy.HighsOptionType.kInt: "integer",
                     highspy.HighsOptionType.kDouble: "double",
                     highspy.HighsOptionType.kString: "string"}.get(kind, "string")

        def about() -> str:  # only for a message: reading the docs writes a file
            spec = highs_option_docs().get(name, ("", ""))[1]
            return f" {spec}" if spec else f" [type: {kind_name}]"

        try:
            typed = _typed(name, value, kind_name)
        except ValueError as exc:
            raise UsageError(f"HiGHS option {name}={value}: {exc}; it takes{about()}") \
                from None
        saved = h.getOptionValue(name)
        del messages[:]
        with quiet_stdout():
            status = h.setOptionValue(name, typed)
        if status != highspy.HighsStatus.kOk:
            said = "; ".join(m.strip() for m in messages) or "no reason given"
            raise UsageError(f"HiGHS option {name}={value}: HiGHS refused it: {_plain(said)}; "
                             f"it takes{about()}")
        with quiet_stdout():
            h.setOptionValue(name, saved[-1] if isinstance(saved, tuple) else saved)
        _CHECKED[key] = typed
        return typed


def _plain(message: str) -> str:
    """HiGHS's log message without its level and function prefix."""
    message = message.removeprefix("ERROR:").removeprefix("WARNING:").strip()
    head, colon, rest = message.partition(": ")
    return rest if colon and head.isidentifier() else message


def _highs_pairs(options: Any) -> tuple[tuple[str, Any], ...]:
    """(name, typed value) pairs from a mapping or pairs, each checked by HiGHS; a name
    given twice keeps its last value; a name :data:`OWNED_OPTIONS` holds is refused."""

    if not options:
        return ()
    items: list[tuple[Any, ...]]
    if isinstance(options, Mapping):
        items = list(options.items())
    else:
        try:
            items = [tuple(pair) for pair in options]
        except TypeError:
            items = [()]
        if any(len(pair) != 2 for pair in items):
            raise UsageError("highs_options must be a mapping {name: value} or "
                             f"(name, value) pairs, got {options!r}")
    out: dict[str, Any] = {}
    for name, value in items:
        refused = owned_option_error(name) if isinstance(name, str) else None
        if refused is not None:
            raise UsageError(refused)
        out.pop(name, None)
        out[name] = highs_option(name, value)
    return tuple(out.items())


#: Local search (``SolveOptions.local_search``) runs only on models of at most this many
#: rows x columns (it keeps a dense copy of the matrix).
LOCAL_SEARCH_MAX_ENTRIES = 1_000_000
#: The share of the time limit local search may take over a solve (1 s without a limit).
#: It is off by default: on all 120 problems of mknapcb4, 5, 7 and 8 at 10 s it left the
#: mean gap to best-known where it was (0.0937% either way; better on 21, worse on 22),
#: and on generated programs solved to a proof it slowed the proof from 1,000 projects
#: up (README, "Against the peers").
LOCAL_SEARCH_SHARE = 0.1

#: The choices of ``SolveOptions.heuristic``.
HEURISTICS = ("auto", "off", "core", "core+fixing", "tree")
#: The share of the time limit the heuristic may use (of 10 s without a limit).
HEURISTIC_SHARE = 0.3
#: The share of the time limit the tree search (``heuristic="tree"``) may use, of 10 s
#: without a limit; HiGHS has the rest, from its best plan. On problems 3, 10, 17 and 24
#: of mknapcb4, 5, 7 and 8 at 10 s (one seed), with the node LPs compiled: 0.0320% with
#: 0.5, 0.0255% with 0.85 and with 0.95 (before they were, 0.0391% with 0.5 and 0.0396%
#: with 0.9). 0.85 leaves HiGHS time for a search of its own from the tree's plan.
TREE_SHARE = 0.85
#: ``heuristic="auto"`` runs the tree search with a time limit of at most this many
#: seconds (and where it applies): the limits it was measured at on mknapcb4, 5, 7 and 8
#: (docs/peers.md), one thread, mean gap to best-known. At 10 s, all 120 problems:
#: 0.0451% with it and 0.1115% without (better on 76 problems, worse on 10), 0.0322% once
#: its node LPs were compiled. At 60 s: the 20 (problems 0, 7, 14, 21, 28) 0.0150%
#: with it, 0.0535% without; 40 of the other 100 (1, 4, 6, 9, 12, 15, 18, 22, 25, 27)
#: 0.0231% with it, 0.1023% without (better on 29, worse on none). Longer limits were
#: not measured, so above this one it is off.
TREE_AUTO_LIMIT = 60.0

#: With a time limit of at most this many seconds and no ``heuristic_effort`` given, HiGHS's
#: ``mip_heuristic_effort`` is raised from its 0.05 to :data:`SHORT_LIMIT_EFFORT`: a short
#: nightly budget is better spent finding plans than proving them. Measured on Chu-Beasley
#: problems 3 and 17 of mknapcb4, 5, 7 and 8 (not the problems the README reports), one
#: thread, mean gap to best-known with 0.05 / 0.3: 0.107% / 0.059% at 10 s, 0.106% /
#: 0.058% at 15 s and at 20 s, 0.056% / 0.058% at 30 s, 0.045% / 0.050% at 60 s. On a
#: generated 100,000-project program at 10 s both reached the same plan.
SHORT_LIMIT = 20.0
SHORT_LIMIT_EFFORT = 0.3

#: From this many projects up, ``presolve="auto"`` turns HiGHS's presolve off. Measured on
#: generated programs (one thread, gap 1e-4, seeds 2026 and 7): solve time with presolve
#: on / off was 1.1 / 0.7 s at 200 projects, 2.1-3.0 / 2.0-2.3 s at 2,000 and 6.1-26.6 /
#: 0.8-1.2 s at 20,000, with equal objectives within the gap; below 1,000 projects it is
#: left on, where a hard small problem can gain from its reductions.
PRESOLVE_OFF_FROM = 1_000



@dataclass(frozen=True)
class Progress:
    """A live report from a running solve (objective and bound in $B of return)."""

    elapsed: float
    incumbent: float | None
    bound: float | None
    gap: float | None


