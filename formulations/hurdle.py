"""Return hurdle: the plan's total return at least hurdle_rate times its total capital.

    sum_i (r_i - hurdle_rate * C_i) u_i >= 0
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
from optimizer.limits import RATE
from optimizer.program.terms import Field
from optimizer.units import money

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["FAMILY", "Hurdle", "NAME", "coefficients"]

NAME = "hurdle"
RULE = "hurdle_rate"


def coefficients(instance: Instance) -> np.ndarray:
    """r_i - hurdle_rate * C_is per unit of each option (r_i without a hurdle): C_is a
    unit's capital as started (:class:`~formulations.starts.Options`)."""
    rate = instance.hurdle_rate or 0.0
    options = instance.options
    return options.of(instance.returns) - rate * options.total_capital



class Hurdle(RateFamily):
    name = "hurdle"
    block, rule_name, change, step = NAME, RULE, "hurdle_rate", "hurdle"
    rules = (Rule(RULE, "hurdle", single=True, limit="rate", key_text=lambda key: "hurdle"),)
    fields = (
        Field("hurdle_rate", "number", "total return >= hurdle_rate x total capital of the "
              "funded units", unit="fraction (0.10 is 10%)", bound=RATE,
              default_text="no hurdle"),
    )
    changes = {"hurdle_rate": "the minimum return per dollar committed (None removes it)"}
    parameters = {"hurdle_rate": "the return hurdle"}
    axis_labels = {"hurdle_rate": "return hurdle"}
    steps = {"hurdle": 0.001}

    def rate(self, instance: Instance) -> float | None:
        return instance.hurdle_rate

    def per_unit(self, instance: Instance) -> np.ndarray:
        return coefficients(instance)

    # ----------------------------------------------------------------- reading
    def read(self, values: Mapping[str, Any], years: np.ndarray) -> dict[str, Any]:
        return {"hurdle_rate": values.get("hurdle_rate")}

    # ------------------------------------------------------------------- model
    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        return {"hurdle_rate": 0.0 if any(p.hurdle_rate is not None for p in points) else None}

    def restricts(self, b: Instance, a: Instance) -> bool:
        return a.hurdle_rate is None or (b.hurdle_rate is not None
                                         and b.hurdle_rate >= a.hurdle_rate)

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        if instance.hurdle_rate is None:
            return []
        need = instance.hurdle_rate * usage.total_capital
        scale = max(abs(need), abs(usage.total_return))
        if need - usage.total_return > rtol * max(1.0, scale):
            rule = self.rule(RULE)
            return [Violation(rule.check_name, f"rate {instance.hurdle_rate:g}",
                              usage.total_return, need, need - usage.total_return, rule.ref())]
        return []

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """When some plan must be funded (forced projects, a sector floor), the best
        return per dollar of any allowed project against the hurdle."""
        allowed = ~np.asarray(instance.force_out, dtype=bool)
        why = must_fund(instance)
        if instance.hurdle_rate is None or why is None or not allowed.any():
            return []
        capital = instance.options.smallest(instance.options.total_capital)
        allowed &= np.isfinite(capital)
        if not allowed.any():
            return []
        ratio = np.where(allowed, instance.returns / np.where(allowed, capital, 1.0), -np.inf)
        best = int(np.argmax(ratio))
        if ratio[best] >= instance.hurdle_rate - 1e-12:
            return []
        return [Finding(
            "conflict", RULE, "hurdle",
            f"the hurdle rate of {instance.hurdle_rate:g} cannot be met by any plan that "
            f"funds something, and {why}: the best return per dollar of capital is "
            f"{ratio[best]:.4g} ({instance.ids[best]})", RuleRef(RULE))]

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        msg = (f"the hurdle rate of {words.instance.hurdle_rate:g} cannot be "
               f"met{words.with_forced}: the best plan's return falls "
               f"{money(abs(limit - reached), words.cash)} short of hurdle_rate x capital")
        return Conflict(RULE, "hurdle", limit, reached, msg, ref)

    # ------------------------------------------------------------------ report
    def binding(self, result: Result) -> list[RuleRef]:
        inst, check = result.instance, result.check
        if inst.hurdle_rate is None or check is None:
            return []
        need = inst.hurdle_rate * check.total_capital
        return [RuleRef(RULE)] if check.total_return - need <= 1e-6 * max(1.0, abs(need)) \
            else []

    # ------------------------------------------------------------------ what-if
    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        value = changes.get("hurdle_rate", KEEP)
        if value is KEEP:
            return {}
        rate = number("hurdle_rate", value)
        if rate is not None:
            bounded("hurdle_rate", rate, RATE)
        labels.append(f"hurdle_rate={value}")
        return {"hurdle_rate": rate}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind == "hurdle_rate":
            return {"hurdle_rate": value}
        raise KeyError(kind)


FAMILY = Hurdle()
