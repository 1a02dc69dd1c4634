"""Budget rules: the cap on all capital committed, and the cap on each year's disbursement.

    sum_i C_i u_i <= budget.total
    sum_i c_it u_i <= budget.per_year[t]     for every capped year t
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

NAME_TOTAL = "budget_total"
NAME_YEARS = "budget_year"


def add(model: pyo.Block, instance: Instance, v: Variables) -> list[RowBlock]:
    blocks = []
    if instance.budget_total is not None:
        row = sp.csr_array(instance.total_capital.reshape(1, -1))
        blocks.append(add_rows(model, NAME_TOTAL, row, v.units, np.array([-np.inf]),
                               np.array([instance.budget_total]), ("total",)))
    capped = np.flatnonzero(np.isfinite(instance.budget_per_year))
    if len(capped):
        rows = instance.capital_by_year[:, capped].T.tocsr()
        blocks.append(add_rows(model, NAME_YEARS, rows, v.units, np.full(len(capped), -np.inf),
                               instance.budget_per_year[capped],
                               tuple(int(y) for y in instance.years[capped])))
    return blocks
