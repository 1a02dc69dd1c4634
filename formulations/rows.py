"""Row blocks: one rule family's constraint rows, as sparse arrays over the model's columns.

Every rule family hands :func:`row_block` a sparse matrix (one row per constraint, one column
per entry of a list of model columns) with lower and upper limits; it returns a
:class:`RowBlock` over all the model's columns. The same block then becomes either a
Pyomo ``Constraint`` whose bodies are ``LinearExpression`` objects sliced from its CSR
arrays (:func:`to_constraint`), or rows of the HiGHS matrix directly
(``optimizer.solving.highs.translate``). Nothing here loops over projects per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from formulations.family import RuleRef

if TYPE_CHECKING:
    from pyomo.core.expr.numeric_expr import LinearExpression

__all__ = ["RowBlock", "row_block", "to_constraint", "linear"]


@dataclass(frozen=True)
class RowBlock:
    """One rule family's rows: ``lower <= matrix @ x <= upper``, x the model's columns.

    ``keys`` names each row in the program's own terms (a year, a sector, a project pair);
    with ``lower_rule``/``upper_rule`` it makes the :class:`~formulations.family.RuleRef`
    of each limit (:meth:`ref`).
    Rows with no limit at all are left out. ``empty_violations`` lists rows no plan can
    meet, found before any solve: a limit that excludes 0 on a row with no variable (a
    sector floor with no project in the sector), or a lower limit above the upper one.
    They are not rows of the block; the model is infeasible, and the explanation names
    them.
    """

    name: str
    keys: tuple
    matrix: sp.csr_array
    lower: np.ndarray
    upper: np.ndarray
    empty_violations: tuple
    #: the family that owns the block
    family: str = ""
    #: ``rule``: a rule of the program (explain may relax it, the checker checks it);
    #: ``definition``: a link between columns that holds for every plan (never relaxed)
    role: str = "rule"
    #: the program's rule that the rows' lower and upper limits express (None: that
    #: side is no rule), named with each row's key as a RuleRef
    lower_rule: str | None = None
    upper_rule: str | None = None

    def ref(self, row: int, side: str) -> RuleRef | None:
        """The rule the limit on ``side`` (``lower`` or ``upper``) of row ``row`` is."""
        return self.ref_of(self.keys[row], side)

    def ref_of(self, key: Any, side: str) -> RuleRef | None:
        rule = self.lower_rule if side == "lower" else self.upper_rule
        return None if rule is None or self.role != "rule" else RuleRef(rule, key)


def row_block(name: str, matrix: sp.csr_array | sp.csr_matrix, columns: np.ndarray | int,
              n_columns: int, lower: np.ndarray, upper: np.ndarray, keys: Sequence, *,
              family: str = "", role: str = "rule", lower_rule: str | None = None,
              upper_rule: str | None = None) -> RowBlock:
    """The block ``lower <= matrix @ x[columns] <= upper`` over ``n_columns`` columns.

    ``columns`` gives the model column of each column of ``matrix``; an int k stands for
    the first k columns. ``lower`` and ``upper`` hold ``-inf``/``inf`` (or NaN) where a
    row has no such limit.
    """
    matrix = sp.csr_array(matrix)
    matrix.sum_duplicates()
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    lower = np.where(np.isnan(lower), -np.inf, lower)
    upper = np.where(np.isnan(upper), np.inf, upper)
    if isinstance(columns, (int, np.integer)):
        placed = sp.csr_array((matrix.data, matrix.indices, matrix.indptr),
                              shape=(matrix.shape[0], n_columns))
    else:
        columns = np.asarray(columns, dtype=np.int64)
        at = columns[matrix.indices]
        if len(at) and (at.min() < 0 or at.max() >= n_columns):  # HiGHS would write past
            raise ValueError(f"row block {name}: an entry on no model column")  # its arrays
        placed = sp.csr_array((matrix.data, at, matrix.indptr),
                              shape=(matrix.shape[0], n_columns))
    has_limit = np.isfinite(lower) | np.isfinite(upper)
    has_var = np.diff(matrix.indptr) > 0
    crossed = np.isfinite(lower) & np.isfinite(upper) & (lower > upper)
    # a row without variables whose limits exclude 0, or a floor above its own ceiling
    unmeetable = crossed | (~has_var & ((lower > 0) | (upper < 0)))
    keep = has_limit & has_var & ~crossed
    kept = np.flatnonzero(keep)
    if role not in ("rule", "definition"):
        raise ValueError(f"row block {name}: role must be 'rule' or 'definition', got {role!r}")
    return RowBlock(name, tuple(keys[r] for r in kept.tolist()), placed[kept], lower[kept],
                    upper[kept], tuple(keys[r] for r in np.flatnonzero(unmeetable).tolist()),
                    family, role, lower_rule, upper_rule)


def linear(coefs: np.ndarray, variables: Sequence[Any] | np.ndarray) -> LinearExpression:
    """sum_k coefs[k] * variables[k], built without operator overloading."""
    from pyomo.core.expr.numeric_expr import LinearExpression

    return LinearExpression(constant=0, linear_coefs=coefs.tolist(), linear_vars=list(variables))


def _limit(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def to_constraint(block: RowBlock, columns: np.ndarray) -> Any:
    """The block as an indexed Pyomo ``Constraint`` over the variables ``columns`` (an
    object array in model column order), or None when it has no row."""
    import pyomo.core as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression

    indptr, indices, data = block.matrix.indptr, block.matrix.indices, block.matrix.data
    bodies: dict[int, tuple] = {}
    for r in range(block.matrix.shape[0]):
        a, b = indptr[r], indptr[r + 1]
        body = LinearExpression(constant=0, linear_coefs=data[a:b].tolist(),
                                linear_vars=columns[indices[a:b]].tolist())
        bodies[r] = (_limit(block.lower[r]), body, _limit(block.upper[r]))
    if not bodies:
        return None
    return pyo.Constraint(range(len(bodies)), rule=lambda _m, i: bodies[i])
