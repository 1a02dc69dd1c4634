"""Labor rule: specialists needed in each capped year within that year's capacity.

    sum_i l_it u_i <= labor.capacity[t]      for every capped year t
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from formulations.rows import RowBlock, row_block
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME = "labor_year"


def limits(instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
    """Every row this family may have: (keys, lower, upper), inf where a year is uncapped."""
    cap = np.where(np.isfinite(instance.labor_capacity), instance.labor_capacity, np.inf)
    return {NAME: (tuple(int(y) for y in instance.years), np.full(len(cap), -np.inf), cap)}


def add(instance: Instance, v: Variables) -> list[RowBlock]:
    keys, lower, upper = limits(instance)[NAME]
    capped = np.flatnonzero(np.isfinite(upper))
    if not len(capped):
        return []
    matrix = instance.labor_by_year[:, capped].T.tocsr()
    return [row_block(NAME, matrix, v.n_units, v.n_columns, lower[capped], upper[capped],
                     tuple(keys[k] for k in capped))]
