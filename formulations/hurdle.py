"""Return hurdle: the plan's total return at least hurdle_rate times its total capital.

    sum_i (r_i - hurdle_rate * C_i) u_i >= 0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from formulations.rows import RowBlock, add_rows
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME = "hurdle"


def add(model: pyo.Block, instance: Instance, v: Variables) -> list[RowBlock]:
    if instance.hurdle_rate is None:
        return []
    coefs = instance.returns - instance.hurdle_rate * instance.total_capital
    row = sp.csr_array(coefs.reshape(1, -1))
    return [add_rows(model, NAME, row, v.units, np.zeros(1), np.array([np.inf]), ("hurdle",))]
