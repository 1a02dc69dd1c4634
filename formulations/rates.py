"""Rules of one row set by a rate: ``sum_i a_i(rate) u_i >= 0``, the coefficient of each
unit moving with a program-level rate (the hurdle: ``r_i - h C_i``; the supplier share:
``(s_i - beta) C_i``). :class:`RateFamily` holds what such a family's row, its limits
for a model built once, and its marginal value share; a family says only where its rate
lives and what the coefficients are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from formulations.columns import Columns
from formulations.family import Family, Marginal, RuleRef
from formulations.rows import RowBlock, row_block

if TYPE_CHECKING:
    from optimizer.program.instance import Instance
    from optimizer.results.result import Result

__all__ = ["RateFamily", "plan_capital"]


def plan_capital(result: Result) -> float:
    """The capital a result's plan commits (1 without a plan): how far a rate row's limit
    moves per unit of its rate."""
    return result.check.total_capital if result.check is not None else 1.0


class RateFamily(Family):
    """A family with one rate row: block ``block``, rule ``rule``, the rate read by
    :meth:`rate` (None: no rule), the coefficients by :meth:`per_unit`; ``change`` is
    the keyword of ``derive`` that sets the rate and ``step`` its marginal step's
    name."""

    block: str = ""
    rule_name: str = ""
    change: str = ""
    step: str = ""

    def rate(self, instance: Instance) -> float | None:
        raise NotImplementedError

    def per_unit(self, instance: Instance) -> np.ndarray:
        """The row's coefficient of one unit of each option (project and start year;
        one per project in project order in version 1)."""
        raise NotImplementedError

    def limits(self, instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
        lower = 0.0 if self.rate(instance) is not None else -np.inf
        return {self.block: ((None,), np.array([lower]), np.array([np.inf]))}

    def coefficients(self, instance: Instance) -> dict[str, np.ndarray]:
        return {self.block: self.per_unit(instance)}

    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        if self.rate(instance) is None:
            return []
        cols, coefs = columns.project_columns(self.per_unit(instance))
        keys, lower, upper = self.limits(instance)[self.block]
        return [row_block(self.block, sp.csr_array(coefs.reshape(1, -1)), cols,
                          columns.n_columns, lower, upper, keys, family=self.name,
                          lower_rule=self.rule_name)]

    def iis_limit(self, ref: RuleRef, limit: float, instance: Instance) -> float | None:
        return self.rate(instance)  # the row is ... >= 0: the rate is the limit

    def marginal(self, instance: Instance, steps: Mapping[str, float]) -> list[Marginal]:
        rate = self.rate(instance)
        if rate is None:
            return []
        step = min(steps[self.step], rate)
        # lowering the rate by d moves the row's limit by d times the plan's capital
        change: dict[str, Any] = {self.change: rate - step}
        return [Marginal(RuleRef(self.rule_name), -step, change, row_scale=plan_capital)]
