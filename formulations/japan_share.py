"""Japanese suppliers (format version 2, section B4): at least a share ``beta`` of the
capital committed is spent with Japanese suppliers.

    sum_i japan_share_i C_i u_i >= beta * sum_i C_i u_i
    i.e.  sum_i (japan_share_i - beta) C_i u_i >= 0

``japan_share`` is a project column (0..1, default 0: the share of the project's capital
spent with Japanese suppliers) and ``min_japan_share`` the program's field (0..1; absent:
no rule). C_i is a unit's capital over the whole plan, as every other rule counts it.

This family is the whole of the rule: its field and column, its row, its independent
check, its arithmetic, its words, its report line and its what-if change and sweep
parameter. Nothing else names it but :data:`formulations.registry.FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from formulations.family import (
    Conflict,
    Finding,
    Rule,
    RuleRef,
    Usage,
    Violation,
    Words,
)
from formulations.rates import RateFamily
from formulations.shared import must_fund
from formulations.whatif import KEEP, bounded, number
from optimizer.errors import UsageError
from optimizer.limits import Bound
from optimizer.program.terms import Field
from optimizer.units import money

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "JapanShare", "NAME", "SHARE"]

NAME = "japan_share"
RULE = "min_japan_share"
#: A share: a fraction of capital, 0 to 1.
SHARE = Bound(0.0, 1.0, "a share of capital (0.3 is 30%)")


def coefficients(instance: Instance) -> np.ndarray:
    """(japan_share_i - beta) C_is per unit of each option (beta 0 without the rule)."""
    beta = instance.params.get(RULE) or 0.0
    share = instance.projects[NAME].to_numpy(dtype=float)
    options = instance.options
    return (options.of(share) - beta) * np.asarray(options.total_capital, dtype=float)


class JapanShare(RateFamily):
    name = "japan_share"
    block, rule_name, change, step = NAME, RULE, RULE, "japan_share"
    rules = (Rule(RULE, "min_japan_share", single=True, limit="rate",
                  key_text=lambda key: "total"),)
    fields = (Field(RULE, "number", "capital spent with Japanese suppliers (each project's "
                    "`japan_share` of its capital) >= min_japan_share x the capital of the "
                    "funded units", unit="fraction (0.3 is 30%)", bound=SHARE,
                    default_text="no rule", since=2),)
    columns = (Field(NAME, "number", "the share of the project's capital spent with Japanese "
                     "suppliers", default=0.0, unit="fraction of its capital", bound=SHARE,
                     since=2),)
    params = {RULE: None}
    changes = {RULE: "the least share of committed capital spent with Japanese suppliers "
                     "(None removes the rule)"}
    parameters = {RULE: "the least share of capital spent with Japanese suppliers"}
    axis_labels = {"min_japan_share": "least share of capital with Japanese suppliers"}
    steps = {"japan_share": 0.01}

    # ------------------------------------------------------------------- model
    def rate(self, instance: Instance) -> float | None:
        return instance.params.get(RULE)

    def per_unit(self, instance: Instance) -> np.ndarray:
        return coefficients(instance)

    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        present = any(p.params.get(RULE) is not None for p in points)
        return {"params": {RULE: 0.0 if present else None}}

    def restricts(self, b: Instance, a: Instance) -> bool:
        low_a, low_b = a.params.get(RULE), b.params.get(RULE)
        same_shares = np.array_equal(a.projects[NAME].to_numpy(), b.projects[NAME].to_numpy())
        return same_shares and (low_a is None or (low_b is not None and low_b >= low_a))

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        """From the projects table and the checker's capital per project."""
        beta = instance.params.get(RULE)
        if beta is None:
            return []
        share = usage.projects[NAME]
        by_project = usage.capital_by_project
        japanese = float((by_project * share.reindex(by_project.index)).sum())
        need = beta * usage.total_capital
        if need - japanese > rtol * max(1.0, abs(need)):
            rule = self.rule(RULE)
            return [Violation(rule.check_name, "total", japanese, need, need - japanese,
                              rule.ref())]
        return []

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """When some plan must be funded, the largest share of any allowed project
        against the rule."""
        beta = instance.params.get(RULE)
        allowed = ~np.asarray(instance.force_out, dtype=bool)
        why = must_fund(instance)
        if beta is None or why is None or not allowed.any():
            return []
        share = instance.projects[NAME].to_numpy(dtype=float)
        best = int(np.argmax(np.where(allowed, share, -np.inf)))
        if share[best] >= beta - 1e-12:
            return []
        return [Finding("conflict", RULE, "total",
                        f"the Japanese-supplier share of {beta:g} cannot be met by any plan "
                        f"that funds something, and {why}: the largest share of any project "
                        f"is {share[best]:g} ({instance.ids[best]})", RuleRef(RULE))]

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        beta = words.instance.params.get(RULE)
        msg = (f"the Japanese-supplier share of {beta:g} cannot be met{words.with_forced}: "
               f"the best plan's capital with Japanese suppliers falls "
               f"{money(abs(limit - reached), words.cash)} short of min_japan_share x capital")
        return Conflict(RULE, "total", limit, reached, msg, ref)

    # ------------------------------------------------------------------ report
    def _shares(self, result: Result) -> tuple[float, float] | None:
        inst, check = result.instance, result.check
        if inst.params.get(RULE) is None or check is None:
            return None
        if check.usage is None:
            return None
        capital = check.usage.capital_by_project  # the checker's, per funded project
        share = inst.projects.set_index("id")[NAME].reindex(capital.index)
        return float((share * capital).sum()), float(capital.sum())

    def binding(self, result: Result) -> list[RuleRef]:
        shares = self._shares(result)
        if shares is None:
            return []
        japanese, total = shares
        need = result.instance.params[RULE] * total
        return [RuleRef(RULE)] if japanese - need <= 1e-6 * max(1.0, abs(need)) else []

    def report(self, result: Result) -> list[str]:
        shares = self._shares(result)
        if shares is None:
            return []
        japanese, total = shares
        cash = result.instance.money_unit
        part = japanese / total if total > 0 else 0.0
        return ["", f"capital with Japanese suppliers: {money(japanese, cash)} of "
                    f"{money(total, cash)} ({part:.1%}; at least "
                    f"{result.instance.params[RULE]:.1%} required)"]

    # ------------------------------------------------------------------ what-if
    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        value = changes.get(RULE, KEEP)
        if value is KEEP:
            return {}
        if instance.version < 2 and value is not None:
            raise UsageError(f"{RULE}: the Japanese-supplier share is a rule of format "
                             f"version 2 (capital-portfolio/2), and {instance.name!r} is a "
                             "version-1 program: its projects have no japan_share")
        beta = number(RULE, value)
        if beta is not None:
            bounded(RULE, beta, SHARE)
        labels.append(f"{RULE}={value}")
        return {"params": {**instance.params, RULE: beta}}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind == RULE:
            return {RULE: value}
        raise KeyError(kind)


FAMILY = JapanShare()
