"""Dependencies between projects, on the funded indicators z.

    requires(a, on b):   z_a - z_b <= 0
    excludes(S):         sum_{i in S} z_i <= 1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from formulations.rows import RowBlock, row_block
from formulations.variables import Variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

NAME_REQUIRES = "requires"
NAME_EXCLUDES = "excludes"


def add(instance: Instance, v: Variables) -> list[RowBlock]:
    n = instance.n_projects
    ids = instance.ids
    blocks = []
    pairs = instance.requires[instance.requires[:, 0] != instance.requires[:, 1]]
    if len(pairs):
        k = len(pairs)
        row_of = np.repeat(np.arange(k), 2)
        cols = pairs.reshape(-1)
        coefs = np.tile([1.0, -1.0], k)
        matrix = sp.csr_array((coefs, (row_of, cols)), shape=(k, n))
        keys = tuple(zip(ids[pairs[:, 0]].tolist(), ids[pairs[:, 1]].tolist(), strict=True))
        blocks.append(row_block(NAME_REQUIRES, matrix, v.funded_column, v.n_columns,
                           np.full(k, -np.inf), np.zeros(k), keys))
    if instance.excludes:
        groups = instance.excludes
        sizes = np.array([len(g) for g in groups])
        row_of = np.repeat(np.arange(len(groups)), sizes)
        cols = np.concatenate(groups)
        matrix = sp.csr_array((np.ones(len(cols)), (row_of, cols)), shape=(len(groups), n))
        keys = tuple(tuple(ids[g].tolist()) for g in groups)
        blocks.append(row_block(NAME_EXCLUDES, matrix, v.funded_column, v.n_columns,
                           np.full(len(groups), -np.inf), np.ones(len(groups)), keys))
    return blocks
