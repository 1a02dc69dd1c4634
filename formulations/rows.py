"""Turning prepared coefficient arrays into Pyomo constraint rows.

Every rule family hands this module a sparse matrix (one row per constraint, one column
per variable of a given list) with lower and upper limits; it returns an indexed Pyomo
``Constraint`` whose bodies are ``LinearExpression`` objects built straight from the
matrix's arrays. Nothing here loops over projects per row: each row is sliced from the
CSR arrays once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp
from pyomo.core.expr.numeric_expr import LinearExpression

__all__ = ["RowBlock", "add_rows", "linear"]


@dataclass(frozen=True)
class RowBlock:
    """One rule family's rows, as added to the model.

    ``keys`` names each row in the program's own terms (a year, a sector, a project pair);
    ``empty_violations`` lists rows no plan can meet, found before any solve: a limit that
    excludes 0 on a row with no variable (a sector floor with no project in the sector),
    or a lower limit above the upper one. They are not added as rows; the model is
    infeasible, and the explanation names them.
    """

    name: str
    keys: tuple
    component: pyo.Constraint | None
    empty_violations: tuple


def linear(coefs: np.ndarray, variables: Sequence[pyo.Var]) -> LinearExpression:
    """sum_k coefs[k] * variables[k], built without operator overloading."""
    return LinearExpression(constant=0, linear_coefs=coefs.tolist(), linear_vars=list(variables))


def _limit(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def add_rows(model: pyo.Block, name: str, matrix: sp.csr_array | sp.csr_matrix,
             variables: Sequence[pyo.Var], lower: np.ndarray, upper: np.ndarray,
             keys: Sequence) -> RowBlock:
    """Add ``lower <= matrix @ variables <= upper`` as the indexed constraint ``name``.

    ``lower`` and ``upper`` hold ``-inf``/``inf`` (or NaN) where a row has no such limit.
    Rows without any variable are not added; those whose limits exclude 0 are reported in
    :attr:`RowBlock.empty_violations`.
    """
    matrix = sp.csr_array(matrix)
    matrix.sum_duplicates()
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    var_array = np.empty(len(variables), dtype=object)
    var_array[:] = list(variables)
    bodies: dict[int, tuple] = {}
    empty: list = []
    kept_keys: list = []
    for r in range(matrix.shape[0]):
        lo, hi = _limit(lower[r]), _limit(upper[r])
        if lo is None and hi is None:
            continue
        a, b = indptr[r], indptr[r + 1]
        if lo is not None and hi is not None and lo > hi:
            empty.append(keys[r])  # a floor above its own ceiling: no plan can meet it
            continue
        if a == b:
            if (lo is not None and lo > 0) or (hi is not None and hi < 0):
                empty.append(keys[r])
            continue
        body = LinearExpression(constant=0, linear_coefs=data[a:b].tolist(),
                                linear_vars=var_array[indices[a:b]].tolist())
        bodies[len(kept_keys)] = (lo, body, hi)
        kept_keys.append(keys[r])
    component = None
    if bodies:
        component = pyo.Constraint(range(len(bodies)), rule=lambda _m, i: bodies[i])
        model.add_component(name, component)
    return RowBlock(name, tuple(kept_keys), component, tuple(empty))
