"""Return hurdle: the plan's total return at least hurdle_rate times its total capital.

    sum_i (r_i - hurdle_rate * C_i) u_i >= 0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from formulations.rows import RowBlock, row_block
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME = "hurdle"


def limits(instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
    """The row's (keys, lower, upper): lower 0 with a hurdle, -inf without."""
    lower = 0.0 if instance.hurdle_rate is not None else -np.inf
    return {NAME: (("hurdle",), np.array([lower]), np.array([np.inf]))}


def coefficients(instance: Instance) -> np.ndarray:
    """r_i - hurdle_rate * C_i per unit of each project (r_i without a hurdle)."""
    rate = instance.hurdle_rate or 0.0
    return instance.returns - rate * instance.total_capital


def add(instance: Instance, v: Variables) -> list[RowBlock]:
    if instance.hurdle_rate is None:
        return []
    row = sp.csr_array(coefficients(instance).reshape(1, -1))
    keys, lower, upper = limits(instance)[NAME]
    return [row_block(NAME, row, v.n_units, v.n_columns, lower, upper, keys)]
