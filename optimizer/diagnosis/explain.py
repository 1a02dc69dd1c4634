"""Why a program is infeasible, in its own terms.

Every rule row of the model is made elastic: a nonnegative slack per violated side, with
a cost of one per unit of violation relative to the limit's size. Minimising total slack
(units stay whole numbers, forced choices stay hard) finds a smallest relaxation; each
row whose slack is positive is a rule in conflict, reported with what it requires and
what the best plan achieves.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from formulations import PortfolioModel, build, registry
from formulations.family import Conflict, RuleRef, Words
from formulations.rows import RowBlock
from optimizer.solving.quiet import match_thread_scheduler, quiet_stdout
from optimizer.solving.translate import translate_with_rows
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
    """``sectors.min energy``, ``budget.per_year 2029``; a rule with one row alone
    (:attr:`~formulations.family.Rule.single`): ``budget.total``, ``hurdle_rate``."""
    found = registry.rule(rule)
    return rule if key in ("all", "") or (found is not None and found.single) \
        else f"{rule} {key}"


def _negligible(rule: str | None, limit: float, reached: float) -> bool:
    """Whether a conflict's amount reads zero at the printed precision (money to
    :data:`~optimizer.units.MONEY_DECIMALS` decimals, people whole): a rounding residue of
    the relaxation, not a rule in conflict. Counts (dependencies) print no amount."""
    found = registry.rule(rule) if rule is not None else None
    if found is None or found.amount == "count":
        return False
    fmt = people if found.amount == "people" else money
    return fmt(abs(limit - reached)).strip("0.,") == ""


def describe(ref: RuleRef, side: str, limit: float, reached: float, words: Words) -> Conflict:
    """The conflict in the program's words: the rule's family says it; a rule no family
    owns (a row added to the Pyomo form) is named by its component."""
    family = registry.owner(ref.rule)
    if family is not None:
        return family.conflict(ref, side, limit, reached, words)
    return Conflict(ref.rule, "" if ref.key is None else str(ref.key), limit, reached,
                    f"the rule {ref} added to the model cannot be met{words.with_forced} "
                    f"({reached:g} against {limit:g} on its {side} side)", ref)


def _empty_conflict(block: RowBlock, key: Any, words: Words) -> Conflict:
    side = "lower" if block.lower_rule is not None else "upper"
    named = block.lower_rule or block.upper_rule  # a definition's rows name theirs too
    ref = block.ref_of(key, side) or RuleRef(named or block.name, key)
    family = registry.owner(ref.rule)
    if family is None:
        return Conflict(ref.rule, str(key), None, None,
                        f"rule {block.name}[{key}] can be met by no plan", ref)
    return family.empty_conflict(ref, -np.inf, np.inf, words)


def explain_infeasible(pm: PortfolioModel,
                       time_limit: float | None = None) -> tuple[Conflict, ...]:
    """Conflicting rules of an infeasible model: those a minimum elastic relaxation
    loosens, then any rule a failed arithmetic condition names that they do not
    (:func:`optimizer.diagnosis.diagnose.arithmetic_checks`: exact, and cheap).

    Every solve of the explanation shares one budget of ``time_limit`` seconds (None:
    :data:`EXPLAIN_SECONDS`). When it runs out, the conflicts found so far are returned,
    followed by a conflict ``("program", "explanation")`` saying that it stopped early.
    Each rule and key is named once; an amount that reads zero when printed is left out.
    """
    budget = EXPLAIN_SECONDS if time_limit is None else max(0.0, float(time_limit))
    deadline = time.perf_counter() + budget
    found, stopped = _relaxation_conflicts(pm, deadline)
    found += _exclusion_conflicts(pm, deadline)
    named = {(c.rule, c.key) for c in found}
    found += tuple(Conflict(f.rule, f.key, None, None, f.message)
                   for family in registry.FAMILIES for f in family.arithmetic(pm.instance)
                   if f.kind == "conflict" and (f.rule, f.key) not in named)
    if stopped:
        found += (Conflict("program", "explanation", None, None,
                           f"the explanation stopped early, at its time budget of "
                           f"{budget:g} s: the conflicts named are those found so far, "
                           f"and others may exist"),)
    return found


def _exclusion_conflicts(pm: PortfolioModel, deadline: float) -> tuple[Conflict, ...]:
    """The rules that rule starts out before the solve (the commitment deadline, the
    per-project hurdle: those starts have no column, so the elastic relaxation cannot
    loosen them), each named when the same program with the starts it rules out open,
    and only those, has a plan."""
    import highspy

    inst = pm.instance
    options = inst.options
    if options is None or not options.excluded.any():
        return ()
    out: list[Conflict] = []
    groups: dict[str, list[int]] = {}
    for k in np.flatnonzero(options.excluded != 0).tolist():
        for family in registry.FAMILIES:
            found = family.excluded_reason(inst, k)
            if found is not None:
                groups.setdefault(found[0], []).append(k)
                break
    for rule, members in groups.items():
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        excluded = options.excluded.copy()
        excluded[members] = 0
        opened = dataclasses.replace(inst, options=dataclasses.replace(options,
                                                                       excluded=excluded))
        with quiet_stdout():
            lp, _names = translate_with_rows(build(opened, pm.families))
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("time_limit", max(0.1, left))
            h.passModel(lp)
            h.run()
        if h.getInfo().primal_solution_status != 2:  # no feasible plan with them open
            continue
        owner = registry.owner(rule)
        reasons = [owner.excluded_reason(inst, k) if owner is not None else None
                   for k in members[:3]]
        words = "; ".join(r[1] for r in reasons if r is not None)
        more = f" and {len(members) - 3} more" if len(members) > 3 else ""
        out.append(Conflict(rule, "", None, None,
                            f"{rule} rules out the starts a plan needs: {words}{more}",
                            RuleRef(rule)))
    return tuple(out)


def _relaxation_conflicts(pm: PortfolioModel,
                          deadline: float) -> tuple[tuple[Conflict, ...], bool]:
    """The conflicts of the elastic relaxation, solved until ``deadline`` (a
    ``time.perf_counter()`` value), and whether it stopped early at the deadline."""
    import highspy

    inst = pm.instance
    words = Words(inst, tuple(str(x) for x in inst.ids[inst.force_in][:10]))
    conflicts = [_empty_conflict(block, key, words) for block, key in pm.trivially_infeasible]
    if conflicts:
        return tuple(conflicts), False
    stopped = False
    with quiet_stdout():
        lp, names = translate_with_rows(pm)
        n = lp.num_col_
        lower = np.asarray(lp.row_lower_, dtype=float)
        upper = np.asarray(lp.row_upper_, dtype=float)
        # a rule (of a family, or added to the Pyomo form) may be relaxed, a definition
        # never: the side of each row that is a rule
        up_refs = [pm.ref(block, key, "upper") for block, key in names]
        lo_refs = [pm.ref(block, key, "lower") for block, key in names]
        up_rows = np.flatnonzero(np.isfinite(upper) & np.array([r is not None for r in up_refs],
                                                               dtype=bool))
        lo_rows = np.flatnonzero(np.isfinite(lower) & np.array([r is not None for r in lo_refs],
                                                               dtype=bool))
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
                ref = (up_refs if side == "upper" else lo_refs)[r]
                assert ref is not None
                # the row's activity includes its slack column: undo it for the plan's own
                reached = activity[r] + (slack if side == "upper" else -slack)
                if _negligible(ref.rule, float(limit), float(reached)):
                    continue
                out.append((slack * scale(limit), int(col),
                            describe(ref, side, float(limit), float(reached), words)))
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
        held = [col for _, col, _ in found]
        for _, col, blamed in found[:3]:
            if stopped:
                break
            h.changeColBounds(col, 0.0, 0.0)
            others = relax()
            h.changeColBounds(col, 0.0, highspy.kHighsInf)
            for _, other_col, other in others or []:
                if (other.rule, other.key) not in named:
                    named.add((other.rule, other.key))
                    held.append(other_col)
                    partners.append(dataclasses.replace(
                        other, message=f"{other.message} (in conflict with "
                                       f"{_rule_and_key(blamed.rule, blamed.key)})"))
        # then every rule named so far held hard at once: a rule that only a relaxation of
        # two of them together spares (a rate against a floor and the budget) is named too
        for _ in range(3):
            if stopped or not held:
                break
            blamed_all = ", ".join(_rule_and_key(c.rule, c.key)
                                   for c in [c for _, _, c in found] + partners)
            for col in held:
                h.changeColBounds(col, 0.0, 0.0)
            others = relax()
            for col in held:
                h.changeColBounds(col, 0.0, highspy.kHighsInf)
            fresh = [(c, o) for _, c, o in others or [] if (o.rule, o.key) not in named]
            if not fresh:
                break
            for other_col, other in fresh:
                named.add((other.rule, other.key))
                held.append(other_col)
                partners.append(dataclasses.replace(
                    other, message=f"{other.message} (in conflict with {blamed_all})"))
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
        rule = registry.rule(self.rule)
        if self.limit is None:
            limit = ""
        elif rule is not None:  # money, people and counts, rates: as the rule reads
            limit = f" ({self.side} limit {rule.limit_text(self.limit)})"
        else:  # a bound or a rule no family owns
            limit = f" ({self.side} limit {self.limit:g})"
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


def _column_member(pm: PortfolioModel, col: int, side: str, lower: float,
                   upper: float) -> IisMember | None:
    """A column bound of the IIS, named by the family that owns the column (a forced
    choice, a unit limit); None for a bound that says nothing (a unit's own floor of 0).
    A variable the model does not own (added to the Pyomo form) is named as itself."""
    if col >= pm.n_columns:
        return IisMember("bound", f"added variable {col - pm.n_columns}", side,
                         lower if side == "lower" else upper)
    block, position = pm.columns.where(col)
    family = next((f for f in pm.families if f.name == block.family), None)
    if family is None:
        return IisMember("bound", f"{block.name}[{block.index[position]}]", side,
                         lower if side == "lower" else upper)
    found = family.column_member(pm.instance, block, position, side, lower, upper)
    if found is None:
        return None
    ref, side, limit = found
    rule = registry.rule(ref.rule)
    key = rule.conflict_key(ref.key) if rule is not None else str(ref.key)
    return IisMember(ref.rule, key, side, limit)


def lp_iis(pm: PortfolioModel, time_limit: float = 20.0) -> LpIis:
    """HiGHS's irreducible infeasible subset of the model's LP relaxation, named in the
    program's terms: a second opinion beside :func:`explain_infeasible`.

    Rows of the model's internal links (units and the funded indicator) are left out of
    the named list; they hold for every plan.
    """
    import highspy

    started = time.perf_counter()
    if pm.trivially_infeasible:  # a row with no variable (a floor on an empty sector) is an
        # IIS on its own; the compiled LP leaves such rows out
        words = Words(pm.instance)
        empty: list[IisMember] = []
        for block, key in pm.trivially_infeasible:
            c = _empty_conflict(block, key, words)
            side = "lower" if block.lower_rule is not None and block.upper_rule is None \
                or c.rule == block.lower_rule else "both"
            limit = c.required if side == "lower" else None
            empty.append(IisMember(c.rule, c.key, side, limit))
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
        name, key = names[r]
        side = sides.get(int(bound), "both")
        ref = pm.ref(name, key, "lower" if side == "lower" else "upper") or \
            pm.ref(name, key, "lower")
        if ref is None:  # a definition (units and the funded indicator): holds for every plan
            continue
        rule = registry.rule(ref.rule)
        where = rule.conflict_key(ref.key) if rule is not None else str(key)
        limit = lower[r] if side == "lower" else upper[r]
        family = registry.owner(ref.rule)
        said = family.iis_limit(ref, limit, pm.instance) if family is not None else (
            float(limit) if np.isfinite(limit) else None)
        members.append(IisMember(ref.rule, where, side, said))
    col_lower = np.asarray(lp.col_lower_, dtype=float)
    col_upper = np.asarray(lp.col_upper_, dtype=float)
    for col, bound in zip(iis.col_index_, iis.col_bound_, strict=True):
        if int(bound) in (int(bounds.kIisBoundStatusFree), int(bounds.kIisBoundStatusDropped),
                          int(bounds.kIisBoundStatusNull)):
            continue
        side = sides.get(int(bound), "both")
        member = _column_member(pm, int(col), side, float(col_lower[col]),
                                float(col_upper[col]))
        if member is not None:
            members.append(member)
    return LpIis("found", tuple(dict.fromkeys(members)), seconds)
