"""Why a program is infeasible, in its own terms.

Every rule row of the model is made elastic: a nonnegative slack per violated side, with
a cost of one per unit of violation relative to the limit's size. Minimising total slack
(units stay whole numbers, forced choices stay hard) finds a smallest relaxation; each
row whose slack is positive is a rule in conflict, reported with what it requires and
what the best plan achieves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from formulations import PortfolioModel
from optimizer.results import Conflict
from optimizer.units import money, people

__all__ = ["explain_infeasible", "explain_budget", "EXPLAIN_SECONDS", "EXPLAIN_FLOOR",
           "IisMember", "LpIis", "lp_iis"]

#: Seconds the explanation of an infeasible program may take in all (its relaxation and
#: the solves that find each conflict's other side) when no time limit is given.
EXPLAIN_SECONDS = 30.0
#: With a time limit, the explanation gets the time the limit leaves, but at least this.
EXPLAIN_FLOOR = 2.0


def explain_budget(time_limit: float | None, elapsed: float = 0.0) -> float:
    """Seconds the explanation may take: :data:`EXPLAIN_SECONDS` without a time limit;
    with one, what is left of it after ``elapsed`` seconds, but at least
    :data:`EXPLAIN_FLOOR` (and never more than the limit itself)."""
    if time_limit is None:
        return EXPLAIN_SECONDS
    return max(EXPLAIN_FLOOR, min(float(time_limit), float(time_limit) - elapsed))


def _rule_and_key(rule: str, key: str) -> str:
    """``sectors.min energy``, ``budget.per_year 2029``; a rule with one row alone:
    ``budget.total``, ``hurdle_rate``."""
    return rule if key in ("total", "hurdle", "all", "") else f"{rule} {key}"


def _negligible(block: str, limit: float, reached: float) -> bool:
    """Whether a conflict's amount reads zero at the printed precision (money to
    :data:`~optimizer.units.MONEY_DECIMALS` decimals, people whole): a rounding residue of
    the relaxation, not a rule in conflict. Dependencies print no amount."""
    if block in ("requires", "excludes"):
        return False
    fmt = people if block == "labor_year" else money
    return fmt(abs(limit - reached)).strip("0.,") == ""

#: The program's rule behind each row block of the model (sector rows hold both sides).
_RULES = {"budget_total": "budget.total", "budget_year": "budget.per_year",
          "labor_year": "labor.capacity", "hurdle": "hurdle_rate",
          "requires": "dependencies.requires", "excludes": "dependencies.excludes"}


def _in_program_terms(block: str, key: Any, side: str) -> tuple[str, str]:
    """The program's rule and key behind a row of ``block`` (``side`` tells a sector's
    floor from its ceiling): ("sectors.min", "energy"), ("dependencies.requires", "A->B")."""
    if block == "sector_limits":
        return ("sectors.min" if side == "lower" else "sectors.max"), str(key)
    if block == "requires":
        return _RULES[block], f"{key[0]}->{key[1]}"
    if block == "excludes":
        return _RULES[block], ", ".join(key)
    return _RULES.get(block, block), str(key)


def _describe(block: str, key: Any, side: str, limit: float, reached: float,
              forced: list[str], hurdle: float | None, cash: str = "$B",
              staff: str = "specialists") -> Conflict:
    """The conflict in the program's words; money in ``cash`` and people in ``staff``, the
    program's units, formatted by :mod:`optimizer.units`."""
    fmt = people if block == "labor_year" else money
    with_forced = f" with the forced projects {', '.join(forced)}" if forced else ""
    short = abs(limit - reached)
    rule, where = _in_program_terms(block, key, side)
    if block == "budget_total":
        msg = (f"the total budget of {money(limit, cash)} cannot cover the program's other "
               f"rules{with_forced}: they need at least {money(reached, cash)} "
               f"({money(short)} over)")
        return Conflict(rule, where, limit, reached, msg)
    if block == "budget_year":
        msg = (f"the {key} disbursement cap of {money(limit, cash)} is {money(short, cash)} "
               f"short{with_forced}: the plan needs {money(reached, cash)} in {key}")
        return Conflict(rule, where, limit, reached, msg)
    if block == "labor_year":
        msg = (f"labor in {key} is {people(short, staff)} short{with_forced}: the plan needs "
               f"{people(reached)} against a capacity of {people(limit)}")
        return Conflict(rule, where, limit, reached, msg)
    if block == "sector_limits":
        if side == "lower":
            msg = (f"the {key} floor of {money(limit, cash)} cannot be met{with_forced} under "
                   f"the other rules: the best plan reaches {money(reached, cash)} "
                   f"({money(short)} short)")
            return Conflict(rule, where, limit, reached, msg)
        msg = (f"the {key} ceiling of {money(limit, cash)} cannot be kept{with_forced}: the "
               f"plan needs {money(reached, cash)} ({money(short)} over)")
        return Conflict(rule, where, limit, reached, msg)
    if block == "hurdle":
        msg = (f"the hurdle rate of {hurdle:g} cannot be met{with_forced}: the best plan's "
               f"return falls {money(short, cash)} short of hurdle_rate x capital")
        return Conflict(rule, where, limit, reached, msg)
    if block == "requires":
        a, b = key
        msg = f"project {a} requires {b}, which the other rules rule out{with_forced}"
        return Conflict(rule, where, 0.0, reached, msg)
    if block == "excludes":
        msg = (f"at most one of {', '.join(key)} may be funded, but the other rules need "
               f"{people(reached + 1 if side == 'upper' else reached)}{with_forced}")
        return Conflict(rule, where, 1.0, reached, msg)
    msg = f"rule {block}[{key}] cannot be met ({fmt(reached)} against {fmt(limit)})"
    return Conflict(rule, where, limit, reached, msg)


def explain_infeasible(pm: PortfolioModel,
                       time_limit: float | None = None) -> tuple[Conflict, ...]:
    """Conflicting rules of an infeasible model: those a minimum elastic relaxation
    loosens, then any rule a failed arithmetic condition names that they do not
    (:func:`optimizer.diagnosis.arithmetic_checks`: exact, and cheap).

    Every solve of the explanation shares one budget of ``time_limit`` seconds (None:
    :data:`EXPLAIN_SECONDS`). When it runs out, the conflicts found so far are returned,
    followed by a conflict ``("program", "explanation")`` saying that it stopped early.
    Each rule and key is named once; an amount that reads zero when printed is left out.
    """
    import time

    from optimizer.diagnosis import arithmetic_checks

    budget = EXPLAIN_SECONDS if time_limit is None else max(0.0, float(time_limit))
    deadline = time.perf_counter() + budget
    found, stopped = _relaxation_conflicts(pm, deadline)
    named = {(c.rule, c.key) for c in found}
    found += tuple(Conflict(f.rule, f.key, None, None, f.message)
                   for f in arithmetic_checks(pm.instance)
                   if f.kind == "conflict" and (f.rule, f.key) not in named)
    if stopped:
        found += (Conflict("program", "explanation", None, None,
                           f"the explanation stopped early, at its time budget of "
                           f"{budget:g} s: the conflicts named are those found so far, "
                           f"and others may exist"),)
    return found


def _relaxation_conflicts(pm: PortfolioModel,
                          deadline: float) -> tuple[tuple[Conflict, ...], bool]:
    """The conflicts of the elastic relaxation, solved until ``deadline`` (a
    ``time.perf_counter()`` value), and whether it stopped early at the deadline."""
    import time

    import highspy

    from optimizer.solver import match_thread_scheduler, quiet_stdout, translate_with_rows

    inst = pm.instance
    forced = [str(x) for x in inst.ids[inst.force_in][:10]]
    conflicts = []
    for name, key in pm.trivially_infeasible:
        if name == "sector_limits":
            s = inst.sectors.index(key)
            low, high = float(inst.sector_min[s]), float(inst.sector_max[s])
            if np.isfinite(high) and low > high:
                conflicts.append(Conflict(
                    "sectors.min", str(key), low, high,
                    f"the {key} floor of {money(low, inst.money_unit)} is above its ceiling "
                    f"of {money(high, inst.money_unit)}"))
            else:
                conflicts.append(Conflict(
                    "sectors.min", str(key), low, 0.0,
                    f"the {key} floor of {money(low, inst.money_unit)} cannot be met: no "
                    "project is in the sector"))
        else:
            conflicts.append(Conflict(name, str(key), None, None,
                                      f"rule {name}[{key}] can be met by no plan"))
    if conflicts:
        return tuple(conflicts), False
    stopped = False
    with quiet_stdout():
        lp, names = translate_with_rows(pm)
        n = lp.num_col_
        lower = np.asarray(lp.row_lower_, dtype=float)
        upper = np.asarray(lp.row_upper_, dtype=float)
        soft = np.array([not block.startswith("link_") for block, _ in names], dtype=bool)
        up_rows = np.flatnonzero(np.isfinite(upper) & soft)
        lo_rows = np.flatnonzero(np.isfinite(lower) & soft)
        scale = lambda b: 1.0 / np.maximum(1.0, np.abs(b))  # noqa: E731
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
        # one slack column per finite side of each row
        k_up, k_lo = len(up_rows), len(lo_rows)
        costs = np.concatenate([scale(upper[up_rows]), scale(lower[lo_rows])])
        h.addVars(k_up + k_lo, np.zeros(k_up + k_lo), np.full(k_up + k_lo, highspy.kHighsInf))
        h.changeColsCost(k_up + k_lo, np.arange(n, n + k_up + k_lo, dtype=np.int32), costs)
        for j, r in enumerate(up_rows):
            h.changeCoeff(int(r), n + j, -1.0)
        for j, r in enumerate(lo_rows):
            h.changeCoeff(int(r), n + k_up + j, 1.0)
        match_thread_scheduler(0)  # these solves run with HiGHS's default thread count
        slack_cols = np.arange(n, n + k_up + k_lo)
        slack_rows = np.concatenate([up_rows, lo_rows])
        slack_sides = ["upper"] * k_up + ["lower"] * k_lo

        def relax() -> list[tuple[float, int, Conflict]] | None:
            """(weight, slack column, conflict) of every row the cheapest relaxation
            found by the deadline loosens (one per rule and key, the largest); None when
            it found none."""
            nonlocal stopped
            left = deadline - time.perf_counter()
            if left <= 0:
                stopped = True
                return None
            h.setOptionValue("time_limit", left)
            h.run()
            if h.getModelStatus() in (highspy.HighsModelStatus.kTimeLimit,
                                      highspy.HighsModelStatus.kIterationLimit,
                                      highspy.HighsModelStatus.kInterrupt):
                stopped = True  # the deadline (or another limit) cut the search short;
                # an infeasible relaxation (a rule held hard that nothing else can
                # replace) is an answer, not a stop
            if h.getInfo().primal_solution_status != highspy.kSolutionStatusFeasible:
                return None
            x = np.asarray(h.getSolution().col_value)
            activity = np.asarray(h.getSolution().row_value)
            out = []
            for col, r, side in zip(slack_cols, slack_rows, slack_sides, strict=True):
                limit = upper[r] if side == "upper" else lower[r]
                slack = x[col]
                if slack <= 1e-7 * max(1.0, abs(limit)):
                    continue
                block, key = names[r]
                # the row's activity includes its slack column: undo it for the plan's own
                reached = activity[r] + (slack if side == "upper" else -slack)
                if _negligible(block, float(limit), float(reached)):
                    continue
                out.append((slack * scale(limit), int(col), _describe(
                    block, key, side, float(limit), float(reached), forced,
                    inst.hurdle_rate, inst.money_unit, inst.labor_unit)))
            out.sort(key=lambda item: -item[0])
            once: dict[tuple[str, str], tuple[float, int, Conflict]] = {}
            for item in out:  # the largest of the rows of one rule and key
                once.setdefault((item[2].rule, item[2].key), item)
            return list(once.values())

        found = relax()
        if found is None:
            return (Conflict("program", "all", None, None,
                             "no plan meets all rules together; the relaxation that would name "
                             "them did not finish in time"),), False
        # the other side of each conflict: with a blamed rule held hard, the rules the
        # cheapest relaxation loosens instead (a floor against the budget, the hurdle
        # against a floor or a forced project); each rule and key named once
        named = {(c.rule, c.key) for _, _, c in found}
        partners: list[Conflict] = []
        for _, col, blamed in found[:3]:
            if stopped:
                break
            h.changeColBounds(col, 0.0, 0.0)
            others = relax()
            h.changeColBounds(col, 0.0, highspy.kHighsInf)
            for _, _, other in others or []:
                if (other.rule, other.key) not in named:
                    named.add((other.rule, other.key))
                    partners.append(dataclasses.replace(
                        other, message=f"{other.message} (in conflict with "
                                       f"{_rule_and_key(blamed.rule, blamed.key)})"))
    if not found:
        return (Conflict("program", "all", None, None,
                         "no plan meets all rules together (the solver proved it), but no "
                         "single rule could be singled out"),), stopped
    return tuple(c for _, _, c in found) + tuple(partners), stopped


# ------------------------------------------------------------------ the LP's IIS
@dataclasses.dataclass(frozen=True)
class IisMember:
    """One rule or bound of an irreducible infeasible subset, in the program's terms."""

    rule: str  # budget.total, budget.per_year, sectors.min, ..., force_in, max_units
    key: str  # the year, sector, project or pair
    side: str  # lower | upper | both
    limit: float | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        if self.limit is None:
            limit = ""
        elif self.rule.startswith(("budget.", "sectors.")):
            limit = f" ({self.side} limit {money(self.limit)})"
        elif self.rule == "hurdle_rate":
            limit = f" ({self.side} limit {self.limit:g})"
        else:  # people, units, counts of projects: whole numbers
            limit = f" ({self.side} limit {people(self.limit)})"
        return f"{self.rule}[{self.key}]{limit}"


@dataclasses.dataclass(frozen=True)
class LpIis:
    """HiGHS's irreducible infeasible subset of the LP relaxation (whole units relaxed).

    ``status`` is ``found`` (``members`` lists it), ``lp_feasible`` (the LP relaxation has
    a solution, so the conflict comes from whole units alone and no LP IIS exists) or
    ``not_found`` (HiGHS did not produce one in time).
    """

    status: str
    members: tuple[IisMember, ...] = ()
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "members": [m.as_dict() for m in self.members],
                "seconds": round(self.seconds, 4)}


def _column_member(pm: PortfolioModel, col: int, bound: int) -> IisMember:
    """A column bound of the IIS: a forced choice, a unit limit or a unit's own floor."""
    import highspy

    inst = pm.instance
    n = inst.n_projects
    project = int(col) if col < n else int(pm.variables.indicator_of[col - n])
    pid = str(inst.ids[project])
    lower, upper = float(pm.variables.lower[col]), float(pm.variables.upper[col])
    status = highspy.IisBoundStatus
    side = {int(status.kIisBoundStatusLower): "lower", int(status.kIisBoundStatusUpper): "upper"
            }.get(int(bound), "both")
    if side in ("lower", "both") and lower > 0:
        return IisMember("force_in", pid, side, lower)
    if side in ("upper", "both") and upper == 0 and inst.force_out[project]:
        return IisMember("force_out", pid, side, upper)
    if side == "upper":
        return IisMember("max_units", pid, side, upper)
    return IisMember("units", pid, side, lower)


def lp_iis(pm: PortfolioModel, time_limit: float = 20.0) -> LpIis:
    """HiGHS's irreducible infeasible subset of the model's LP relaxation, named in the
    program's terms: a second opinion beside :func:`explain_infeasible`.

    Rows of the model's internal links (units and the funded indicator) are left out of
    the named list; they hold for every plan.
    """
    import time

    import highspy

    from optimizer.solver import match_thread_scheduler, quiet_stdout, translate_with_rows

    started = time.perf_counter()
    if pm.trivially_infeasible:  # a row with no variable (a floor on an empty sector) is an
        # IIS on its own; the compiled LP leaves such rows out
        inst = pm.instance
        empty: list[IisMember] = []
        for block, key in pm.trivially_infeasible:
            if block == "sector_limits":
                s = inst.sectors.index(key)
                empty.append(IisMember("sectors.min", str(key), "lower",
                                       float(inst.sector_min[s])))
            else:
                empty.append(IisMember(_RULES.get(block, block), str(key), "both", None))
        return LpIis("found", tuple(empty), time.perf_counter() - started)
    with quiet_stdout():
        lp, names = translate_with_rows(pm)
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyFromLp)
                         | int(highspy.IisStrategy.kIisStrategyIrreducible))
        h.passModel(lp)
        match_thread_scheduler(0)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            return LpIis("lp_feasible", seconds=time.perf_counter() - started)
        status, iis = h.getIis()
    seconds = time.perf_counter() - started
    if status != highspy.HighsStatus.kOk or not iis.valid_ or not (
            len(iis.row_index_) or len(iis.col_index_)):
        return LpIis("not_found", seconds=seconds)
    members: list[IisMember] = []
    bounds = highspy.IisBoundStatus
    sides = {int(bounds.kIisBoundStatusLower): "lower", int(bounds.kIisBoundStatusUpper): "upper"}
    lower = np.asarray(lp.row_lower_, dtype=float)
    upper = np.asarray(lp.row_upper_, dtype=float)
    for r, bound in zip(iis.row_index_, iis.row_bound_, strict=True):
        block, key = names[r]
        if block.startswith("link_"):
            continue
        side = sides.get(int(bound), "both")
        rule, where = _in_program_terms(block, key, side)
        limit = lower[r] if side == "lower" else upper[r]
        if block == "hurdle":  # the row is return - rate x capital >= 0: report the rate
            limit = pm.instance.hurdle_rate
        members.append(IisMember(rule, where, side,
                                 float(limit) if np.isfinite(limit) else None))
    for col, bound in zip(iis.col_index_, iis.col_bound_, strict=True):
        if int(bound) in (int(bounds.kIisBoundStatusFree), int(bounds.kIisBoundStatusDropped),
                          int(bounds.kIisBoundStatusNull)):
            continue
        member = _column_member(pm, int(col), int(bound))
        if member.rule != "units" or member.limit:  # a unit's own floor of 0 says nothing
            members.append(member)
    return LpIis("found", tuple(dict.fromkeys(members)), seconds)
