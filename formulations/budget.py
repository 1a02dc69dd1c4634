"""Budget rules: the cap on all capital committed, and the cap on each year's disbursement.

    sum_i C_i u_i <= budget.total
    sum_i c_it u_i <= budget.per_year[t]     for every capped year t
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from formulations.rows import RowBlock, row_block
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME_TOTAL = "budget_total"
NAME_YEARS = "budget_year"


def limits(instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
    """Every row this family may have, by row name: (keys, lower, upper), +-inf where the
    program sets no limit. :func:`add` and the parametric models of sweeps share it."""
    total = np.inf if instance.budget_total is None else float(instance.budget_total)
    per_year = np.where(np.isfinite(instance.budget_per_year), instance.budget_per_year, np.inf)
    return {
        NAME_TOTAL: (("total",), np.array([-np.inf]), np.array([total])),
        NAME_YEARS: (tuple(int(y) for y in instance.years), np.full(len(per_year), -np.inf),
                     per_year),
    }


def add(instance: Instance, v: Variables) -> list[RowBlock]:
    blocks = []
    rows = limits(instance)
    keys, lower, upper = rows[NAME_TOTAL]
    if np.isfinite(upper[0]):
        row = sp.csr_array(instance.total_capital.reshape(1, -1))
        blocks.append(row_block(NAME_TOTAL, row, v.n_units, v.n_columns, lower, upper, keys))
    keys, lower, upper = rows[NAME_YEARS]
    capped = np.flatnonzero(np.isfinite(upper))
    if len(capped):
        matrix = instance.capital_by_year[:, capped].T.tocsr()
        blocks.append(row_block(NAME_YEARS, matrix, v.n_units, v.n_columns, lower[capped],
                               upper[capped], tuple(keys[k] for k in capped)))
    return blocks
