"""Labor rule: specialists needed in each capped year within that year's capacity.

    sum_i l_it u_i <= labor.capacity[t]      for every capped year t
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyomo.environ as pyo

from formulations.rows import RowBlock, add_rows
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME = "labor_year"


def add(model: pyo.Block, instance: Instance, v: Variables) -> list[RowBlock]:
    capped = np.flatnonzero(np.isfinite(instance.labor_capacity))
    if not len(capped):
        return []
    rows = instance.labor_by_year[:, capped].T.tocsr()
    return [add_rows(model, NAME, rows, v.units, np.full(len(capped), -np.inf),
                     instance.labor_capacity[capped],
                     tuple(int(y) for y in instance.years[capped]))]
