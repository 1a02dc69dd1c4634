"""Sector rules: committed capital in each sector between its floor and ceiling.

    min_s <= sum_{i in s} C_i u_i <= max_s      for every sector with a limit

A floor of 0 is no rule (capital is never negative) and adds no row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from formulations.rows import RowBlock, row_block
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME = "sector_limits"


def limits(instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
    """Every row this family may have: (keys, lower, upper), +-inf where there is no limit."""
    lower = np.where(instance.sector_min > 0, instance.sector_min, -np.inf)
    upper = np.where(np.isfinite(instance.sector_max), instance.sector_max, np.inf)
    return {NAME: (instance.sectors, lower, upper)}


def add(instance: Instance, v: Variables) -> list[RowBlock]:
    n, n_sectors = instance.n_projects, len(instance.sectors)
    _keys, lower, upper = limits(instance)[NAME]
    if not (np.isfinite(lower).any() or np.isfinite(upper).any()):
        return []
    membership = sp.csr_array((instance.total_capital, (instance.sector_index, np.arange(n))),
                              shape=(n_sectors, n))
    return [row_block(NAME, membership, v.n_units, v.n_columns, lower, upper, instance.sectors)]
