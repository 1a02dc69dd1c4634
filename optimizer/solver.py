"""The solver boundary: Pyomo model -> HiGHS, and HiGHS's answer -> our statuses.

Translation stacks the model's row blocks into one sparse matrix, or, once the model's
Pyomo form exists, compiles that with Pyomo's standard-form compiler; either is handed to
highspy in one ``passModel`` call. HiGHS's outcome is
mapped through one table, :data:`CONDITION_MAP`, into *why it stopped* (termination)
and *what it found* (status) kept apart, with the incumbent, the best bound and the gap.

HiGHS prints a banner to standard output when it starts; every call into it runs with
file descriptor 1 pointed at standard error, so machine-readable output stays clean.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from formulations import PortfolioModel

__all__ = ["SolveOptions", "SolverOutcome", "CONDITION_MAP", "HighsSession", "translate",
           "translate_with_rows", "open_highs", "solve_session", "run_highs", "relative_gap"]


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    ``time_limit`` in seconds (None: no limit); ``gap`` the relative MIP gap at which the
    solver may stop; ``threads`` HiGHS threads, 1 to
    :data:`optimizer.limits.THREADS` (256; None: HiGHS decides); ``seed`` HiGHS's
    random seed; ``presolve`` ``"on"``, ``"off"`` or ``"auto"`` (off from
    :data:`PRESOLVE_OFF_FROM` projects up, where it was measured to cost more than it
    saves); ``progress`` a callable receiving :class:`Progress` updates (None: silent).
    ``heuristic`` runs :mod:`optimizer.heuristics` before the branch and bound: ``core``
    (core search, its best plan handed to HiGHS as a start) or ``core+fixing`` (and
    reduced-cost fixing from it); ``off`` by default, as measured (see the README).
    ``heuristic_effort`` is HiGHS's own ``mip_heuristic_effort`` (None: chosen by the time
    limit, see :data:`SHORT_LIMIT`).
    ``local_search`` runs :class:`optimizer.heuristics.SwapSearch` on every plan HiGHS
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
    ``feasibility_tolerance`` is HiGHS's primal and MIP feasibility tolerance (None:
    HiGHS's own); a plan the checker rejects is re-solved at
    :data:`optimizer.api.TIGHT_TOLERANCE`, or tighter when this is tighter.
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
    heuristic: str = "off"
    heuristic_effort: float | None = None
    local_search: str = "off"
    highs_options: tuple[tuple[str, Any], ...] = ()
    log: bool = False

    def __post_init__(self) -> None:
        from optimizer.errors import UsageError
        from optimizer.limits import THREADS

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

    from optimizer.errors import UsageError

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
    from optimizer.errors import UsageError

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
HEURISTICS = ("off", "core", "core+fixing")
#: The share of the time limit the heuristic may use (of 10 s without a limit).
HEURISTIC_SHARE = 0.3

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


@dataclass(frozen=True)
class SolverOutcome:
    """What the solver reported, before any checking."""

    status: str  # optimal | feasible | infeasible | no_solution
    termination: str  # optimal | gap_limit | time_limit | infeasible | interrupted | ...
    objective: float | None
    bound: float | None
    gap: float | None
    values: np.ndarray | None  # column values in model column order
    translate_seconds: float
    solve_seconds: float
    solver_version: str
    options: dict[str, Any]
    message: str = ""
    nodes: int | None = None  # branch-and-bound nodes HiGHS explored (None: no MIP search)


# --------------------------------------------------------------- status mapping
def _condition_map() -> dict[Any, tuple[str, str | None]]:
    import highspy

    s = highspy.HighsModelStatus
    # termination, and the status to report when no solution is at hand (None: depends on
    # whether an incumbent exists)
    return {
        s.kOptimal: ("optimal", None),
        s.kInfeasible: ("infeasible", "infeasible"),
        # every variable is bounded, so "unbounded or infeasible" can only be infeasible
        s.kUnboundedOrInfeasible: ("infeasible", "infeasible"),
        s.kUnbounded: ("unbounded", None),
        s.kTimeLimit: ("time_limit", None),
        s.kIterationLimit: ("iteration_limit", None),
        s.kSolutionLimit: ("solution_limit", None),
        s.kInterrupt: ("interrupted", None),
        s.kObjectiveBound: ("objective_limit", None),
        s.kObjectiveTarget: ("objective_limit", None),
        s.kMemoryLimit: ("memory_limit", None),
        s.kModelEmpty: ("optimal", None),
        s.kUnknown: ("unknown", None),
        s.kNotset: ("error", None),
        s.kLoadError: ("error", None),
        s.kModelError: ("error", None),
        s.kPresolveError: ("error", None),
        s.kSolveError: ("error", None),
        s.kPostsolveError: ("error", None),
    }


CONDITION_MAP: dict[Any, tuple[str, str | None]] = {}


def _classify(model_status: Any, has_solution: bool, gap: float | None) -> tuple[str, str]:
    """(status, termination) from HiGHS's model status and whether an incumbent exists."""
    if not CONDITION_MAP:
        CONDITION_MAP.update(_condition_map())
    termination, fixed = CONDITION_MAP.get(model_status, ("unknown", None))
    if fixed is not None:
        return fixed, termination
    if termination == "optimal":
        if not has_solution:
            return "no_solution", "error"
        if gap is not None and gap > 1e-9:
            return "optimal", "gap_limit"
        return "optimal", "optimal"
    return ("feasible" if has_solution else "no_solution"), termination


# ------------------------------------------------------------ stdout discipline
@contextlib.contextmanager
def quiet_stdout(to_stderr: bool = False) -> Iterator[None]:
    """Point file descriptor 1 at the null device (or, ``to_stderr``, at standard error,
    for HiGHS's log) for the duration: HiGHS prints its banner there when a ``Highs``
    object is made, whatever its options say, and its log when logging is on."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
        sink = os.dup(2) if to_stderr else os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        yield
        return
    try:
        os.dup2(sink, 1)
        os.close(sink)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# ------------------------------------------------------------------ translation
#: How :func:`translate` reaches HiGHS: ``arrays`` stacks the row blocks' sparse arrays
#: into the matrix directly; ``pyomo`` compiles the Pyomo model with Pyomo's standard-form
#: compiler; ``auto`` takes ``pyomo`` once the model's Pyomo form exists (a caller may
#: have added rules to it), ``arrays`` otherwise.
ROUTES = ("auto", "arrays", "pyomo")


def translate(pm: PortfolioModel, route: str = "auto") -> Any:
    """The model as a ``highspy.HighsLp`` (see :data:`ROUTES`)."""
    return translate_with_rows(pm, route)[0]


def translate_with_rows(pm: PortfolioModel, route: str = "auto"
                        ) -> tuple[Any, list[tuple[str, Any]]]:
    """Like :func:`translate`, also returning the (block name, key) of each HiGHS row; a
    row a caller added to the Pyomo model is named (component name, index)."""
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    if route == "auto":
        route = "pyomo" if pm.has_pyomo_form else "arrays"
    if route == "arrays":
        cost, offset = pm.cost, 0.0
        matrix = pm.matrix()
        lower = np.concatenate([b.lower for b in pm.blocks]) if pm.blocks else np.zeros(0)
        upper = np.concatenate([b.upper for b in pm.blocks]) if pm.blocks else np.zeros(0)
        names = pm.row_names()
    else:
        cost, offset, matrix, lower, upper, names = _compile(pm)
    return integer_lp(cost, pm.variables.lower, pm.variables.upper, matrix, lower, upper,
                      offset=offset), names


def integer_lp(cost: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray,
               matrix: sp.sparray, row_lower: np.ndarray, row_upper: np.ndarray, *,
               offset: float = 0.0, minimize: bool = False) -> Any:
    """A ``highspy.HighsLp`` with every column integer: maximise (or minimise)
    ``cost @ x + offset`` with ``row_lower <= matrix @ x <= row_upper`` and the columns
    within their bounds. :func:`lp_matrix` reads the matrix back."""
    import highspy

    matrix = sp.csc_array(matrix)
    n_rows, n_cols = matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.sense_ = highspy.ObjSense.kMinimize if minimize else highspy.ObjSense.kMaximize
    lp.offset_ = offset
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    lp.num_row_ = n_rows
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    return lp


def lp_matrix(lp: Any) -> sp.csc_array:
    """The constraint matrix of a column-wise ``highspy.HighsLp``, as a SciPy array."""
    m = lp.a_matrix_
    return sp.csc_array((np.asarray(m.value_), np.asarray(m.index_), np.asarray(m.start_)),
                        shape=(lp.num_row_, lp.num_col_))


def _compile(pm: PortfolioModel) -> tuple[np.ndarray, float, sp.csr_array, np.ndarray,
                                          np.ndarray, list[tuple[str, Any]]]:
    """(cost, offset, matrix, row lower, row upper, row names) of the Pyomo model, through
    Pyomo's standard-form compiler."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    form = pm.pyomo
    n_cols = pm.variables.n_columns
    # compiled in the compiler's own column order (passing ours costs it a third more),
    # then placed in ours; a variable in no row and not in the objective stays an empty
    # column with its bounds
    info = LinearStandardFormCompiler().write(form.model, mixed_form=True, set_sense=None)
    position = {id(v): k for k, v in enumerate(form.columns)}
    unknown = [v.name for v in info.columns if id(v) not in position]
    if unknown:
        raise ValueError(f"the Pyomo model has variables the program does not: "
                         f"{', '.join(unknown[:5])}")
    order = np.fromiter((position[id(v)] for v in info.columns), dtype=np.int64,
                        count=len(info.columns))
    cost = np.zeros(n_cols)
    if info.c.shape[0]:
        cost[order] = np.asarray(info.c.toarray()).reshape(-1)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    compiled = sp.coo_array(info.A)
    matrix = sp.csr_array((compiled.data, (compiled.row, order[compiled.col])),
                          shape=(info.A.shape[0], n_cols))
    rhs = np.asarray(info.rhs, dtype=float)
    kinds = np.array([entry.bound_type for entry in info.rows], dtype=np.int64)
    owners = [entry.constraint for entry in info.rows]
    # a ranged row comes out twice (upper, then lower): keep one row with both limits
    keep = np.ones(len(kinds), dtype=bool)
    lower = np.where(kinds <= 0, rhs, -np.inf)
    upper = np.where(kinds >= 0, rhs, np.inf)
    for r in range(1, len(kinds)):
        if owners[r] is owners[r - 1] and kinds[r] == -1 and kinds[r - 1] == 1:
            lower[r - 1] = rhs[r]
            keep[r] = False
    keys = {b.name: b.keys for b in pm.blocks}
    names = []
    for con, k in zip(owners, keep, strict=True):
        if k:
            name, index = con.parent_component().local_name, con.index()
            names.append((name, keys[name][index]) if name in keys else (name, index))
    return cost, offset, matrix[keep], lower[keep], upper[keep], names


# ------------------------------------------------------------------------- run
def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) and abs(x) < 1e30 else None


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    diff = max(0.0, bound - objective)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9) if objective != 0 else math.inf


def _set_options(h: Any, options: SolveOptions, n_projects: int) -> dict[str, Any]:
    presolve = options.presolve
    if presolve == "auto":
        presolve = "off" if n_projects >= PRESOLVE_OFF_FROM else "on"
    chosen: dict[str, Any] = {
        "output_flag": False,
        "mip_rel_gap": float(options.gap),
        "random_seed": int(options.seed),
        "presolve": presolve,
    }
    if options.time_limit is not None:
        chosen["time_limit"] = float(options.time_limit)
    if options.threads is not None:
        chosen["threads"] = int(options.threads)
    if options.node_limit is not None:
        chosen["mip_max_nodes"] = int(options.node_limit)
    if options.solution_limit is not None:
        chosen["mip_max_improving_sols"] = int(options.solution_limit)
    effort = options.heuristic_effort
    if effort is None and options.time_limit is not None and options.time_limit <= SHORT_LIMIT:
        effort = SHORT_LIMIT_EFFORT
    if effort is not None:
        chosen["mip_heuristic_effort"] = float(effort)
    if options.feasibility_tolerance is not None:
        for name in ("primal_feasibility_tolerance", "mip_feasibility_tolerance"):
            chosen[name] = float(options.feasibility_tolerance)
    if options.log:  # HiGHS's own log, on standard error (see quiet_stdout)
        chosen.update(output_flag=True, log_to_console=True)
    # the user's, checked by HiGHS; none of them is one of the above (OWNED_OPTIONS)
    chosen.update(options.highs_options)
    for name, value in chosen.items():
        h.setOptionValue(name, value)
    if "threads" not in chosen:  # report what HiGHS will use (0: its own choice)
        value = h.getOptionValue("threads")
        chosen["threads"] = int(value[-1] if isinstance(value, tuple) else value)
    return chosen


_scheduler_threads: list[int | None] = []  # the thread count the process's scheduler has


def match_thread_scheduler(threads: int | None) -> None:
    """Restart HiGHS's thread scheduler when a solve asks for another thread count.

    The scheduler is global to the process and keeps the thread count of the first solve:
    a later solve asking for another count fails (an LP) or silently runs with the old
    count (a MIP). Call before every run; not safe while another solve runs in this
    process (this package never runs two at once).
    """
    import highspy

    if _scheduler_threads and _scheduler_threads[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [threads]


#: False in the worker processes of a sweep: there a signal ends the process (the parent
#: decides what to report), instead of stopping the solve and carrying on.
HANDLE_SIGNALS = True


class _StopOnSignal:
    """Turn SIGINT/SIGTERM into a request to stop the solver, keeping its incumbent."""

    def __init__(self, h: Any) -> None:
        self.h = h
        self.received: int | None = None
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignal:
        if HANDLE_SIGNALS and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum: int, _frame: Any) -> None:
        self.received = signum
        self.h.cancelSolve()

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        _RUNS_FINISHED[0] += 1


_RUNS_FINISHED = [0]


def runs_finished() -> int:
    """How many solver runs this process has finished (interrupted ones included)."""
    return _RUNS_FINISHED[0]


@dataclass
class HighsSession:
    """A model loaded into HiGHS, kept for more solves after its bounds or costs change
    (sweeps). ``rows[k]`` names HiGHS row k: (block name, key)."""

    highs: Any
    rows: list[tuple[str, Any]]
    options: dict[str, Any]
    translate_seconds: float


def open_highs(pm: PortfolioModel, options: SolveOptions) -> HighsSession:
    """Translate ``pm`` and load it into a new ``highspy.Highs`` with ``options``."""
    import highspy

    with quiet_stdout(to_stderr=options.log):
        t0 = time.perf_counter()
        lp, rows = translate_with_rows(pm)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        chosen = _set_options(h, options, pm.instance.n_projects)
        h.passModel(lp)
        return HighsSession(h, rows, chosen, time.perf_counter() - t0)


def run_highs(pm: PortfolioModel, options: SolveOptions) -> SolverOutcome:
    """Translate and solve; never raises for infeasible, limits or interruptions."""
    session = open_highs(pm, options)
    if options.heuristic == "off":
        return solve_session(session, options)
    return _solve_with_heuristic(session, options)


def _solve_with_heuristic(session: HighsSession, options: SolveOptions) -> SolverOutcome:
    """Core search (and reduced-cost fixing) within a share of the time limit, then HiGHS
    on the whole program from the best core plan for the rest of the time. Fixing only
    removes plans worse than that plan, which HiGHS holds as its incumbent, so the
    optimum and the bound HiGHS reports hold for the whole program."""
    import dataclasses

    from optimizer.heuristics import core_search, reduced_cost_fixing

    h = session.highs
    started = time.perf_counter()
    total = options.time_limit
    budget = HEURISTIC_SHARE * (total if total is not None else 10.0)
    with quiet_stdout():
        lp = h.getLp()
        match_thread_scheduler(session.options.get("threads"))
        found = core_search(lp, session.options, budget)
    start = None
    notes: dict[str, Any] = {"heuristic": options.heuristic}
    if found is not None and found.values is not None and found.objective is not None:
        start = found.values
        notes.update(heuristic_objective=found.objective, heuristic_lp_bound=found.lp_objective,
                     heuristic_seconds=round(found.seconds, 3), heuristic_cores=found.cores)
        if options.heuristic == "core+fixing":
            cols, low, high = reduced_cost_fixing(
                found, np.asarray(lp.col_lower_, dtype=float),
                np.asarray(lp.col_upper_, dtype=float), found.objective)
            if len(cols):
                h.changeColsBounds(len(cols), cols, low, high)
            notes["reduced_cost_fixed"] = int(len(cols))
    used = time.perf_counter() - started
    # the rest of the time; the reported options keep the whole limit (the only limit:
    # time_limit is refused as a HiGHS option, see OWNED_OPTIONS)
    if total is not None:
        h.setOptionValue("time_limit", max(0.0, total - used))
    outcome = solve_session(session, options, start)
    return dataclasses.replace(outcome, solve_seconds=outcome.solve_seconds + used,
                               options={**outcome.options, **notes})


def solve_session(session: HighsSession, options: SolveOptions,
                  start: np.ndarray | None = None) -> SolverOutcome:
    """Solve the model loaded in ``session`` (as it stands now), handing HiGHS ``start``
    (column values) as a starting solution when given; HiGHS keeps it only if feasible."""
    import highspy

    h, chosen, translate_seconds = session.highs, session.options, session.translate_seconds
    with quiet_stdout(to_stderr=options.log):
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = np.asarray(start, dtype=float)
            solution.value_valid = True
            h.setSolution(solution)
        h.HandleUserInterrupt = True
        match_thread_scheduler(chosen.get("threads"))
        h.cbMipLogging.clear()
        h.cbMipImprovingSolution.clear()
        h.cbMipUserSolution.clear()
        search = None
        if options.local_search == "on" \
                and 0 < h.getNumRow() * h.getNumCol() <= LOCAL_SEARCH_MAX_ENTRIES:
            from optimizer.heuristics import SwapSearch

            limit = options.time_limit
            search = SwapSearch(h.getLp(), LOCAL_SEARCH_SHARE * limit if limit is not None else 1.0)
            search.attach(h)
        if options.progress is not None:
            # HiGHS calls its MIP logging callback only while logging is on: log, but to
            # nowhere (not the console, not a file, unless asked); the callback gets the
            # figures
            h.setOptionValue("log_to_console", options.log)
            h.setOptionValue("output_flag", True)
            report = options.progress

            def on_log(event: Any) -> None:
                out = event.data_out
                report(Progress(out.running_time, _finite(out.mip_primal_bound),
                                _finite(out.mip_dual_bound), _finite(out.mip_gap)))

            h.cbMipLogging.subscribe(on_log)
        t1 = time.perf_counter()
        with _StopOnSignal(h) as stop:
            thread = h.startSolve()
            while thread.is_alive():
                thread.join(0.05)
        solve_seconds = time.perf_counter() - t1

        model_status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == highspy.kSolutionStatusFeasible
        objective = _finite(info.objective_function_value) if has_solution else None
        nodes = int(info.mip_node_count) if info.mip_node_count >= 0 else None  # None: no MIP
        bound = _finite(info.mip_dual_bound) if nodes is not None else None
        if bound is None and has_solution and model_status == highspy.HighsModelStatus.kOptimal:
            bound = objective
        if bound is not None and objective is not None:
            bound = max(bound, objective)
        gap = relative_gap(objective, bound)
        status, termination = _classify(model_status, has_solution, gap)
        if stop.received is not None and termination not in ("optimal", "gap_limit",
                                                              "infeasible"):
            termination = "interrupted"
        elif termination == "solution_limit" and options.node_limit is not None and \
                nodes is not None and nodes >= options.node_limit:
            termination = "node_limit"  # HiGHS reports both limits as one status
        values = np.asarray(h.getSolution().col_value) if has_solution else None
        if status == "infeasible":
            objective = bound = gap = None
        version = f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}." \
                  f"{highspy.HIGHS_VERSION_PATCH}"
        message = h.modelStatusToString(model_status)
        if termination == "node_limit":
            message = f"Node limit reached ({nodes} nodes)"
        if search is not None:
            chosen = {**chosen, "local_search": {
                "plans": search.plans, "gain": float(search.gain),
                "seconds": round(search.seconds, 6),
                "failure": None if search.failure is None else repr(search.failure)}}
    return SolverOutcome(status, termination, objective, bound, gap, values,
                         translate_seconds, solve_seconds, version, chosen, message, nodes)
