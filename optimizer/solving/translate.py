"""Translation: the model to a ``highspy.HighsLp``, from its row blocks' arrays or, once
its Pyomo form exists, through Pyomo's standard-form compiler (rules and variables a
caller added to it included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from formulations import PortfolioModel
from optimizer.errors import UsageError

__all__ = ["ROUTES", "Translation", "translate", "translate_with_rows", "translation_of",
           "integer_lp", "lp_matrix"]


#: How :func:`translate` reaches HiGHS: ``arrays`` stacks the row blocks' sparse arrays
#: into the matrix directly; ``pyomo`` compiles the Pyomo model with Pyomo's standard-form
#: compiler; ``auto`` takes ``pyomo`` once the model's Pyomo form exists (a caller may
#: have added rules to it), ``arrays`` otherwise.
ROUTES = ("auto", "arrays", "pyomo")


def translate(pm: PortfolioModel, route: str = "auto") -> Any:
    """The model as a ``highspy.HighsLp`` (see :data:`ROUTES`)."""
    return translate_with_rows(pm, route)[0]


@dataclass(frozen=True)
class Translation:
    """The model as HiGHS takes it: the ``HighsLp``, the (block name, key) of each row (a
    row a caller added to the Pyomo model: (component name, index)) and the names of the
    variables a caller added to the Pyomo model (columns after the model's own)."""

    lp: Any
    rows: list[tuple[str, Any]]
    added: tuple[str, ...] = ()


def translate_with_rows(pm: PortfolioModel, route: str = "auto"
                        ) -> tuple[Any, list[tuple[str, Any]]]:
    """Like :func:`translate`, also returning the (block name, key) of each HiGHS row; a
    row a caller added to the Pyomo model is named (component name, index)."""
    translation = translation_of(pm, route)
    return translation.lp, translation.rows


def translation_of(pm: PortfolioModel, route: str = "auto") -> Translation:
    """The model's :class:`Translation` by ``route`` (see :data:`ROUTES`)."""
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    if route == "auto":
        route = "pyomo" if pm.has_pyomo_form else "arrays"
    columns = pm.columns
    if route == "arrays":
        cost, offset = pm.cost, 0.0
        matrix = pm.matrix()
        lower = np.concatenate([b.lower for b in pm.blocks]) if pm.blocks else np.zeros(0)
        upper = np.concatenate([b.upper for b in pm.blocks]) if pm.blocks else np.zeros(0)
        names = pm.row_names()
        col_lower, col_upper, integer = columns.lower, columns.upper, columns.integer
        added: tuple[str, ...] = ()
    else:
        compiled = _compile(pm)
        cost, offset, matrix, lower, upper, names = compiled.rows
        col_lower, col_upper, integer = compiled.col_lower, compiled.col_upper, \
            compiled.integer
        added = compiled.added
    lp = integer_lp(cost, col_lower, col_upper, matrix, lower, upper, offset=offset,
                    integer=integer)
    return Translation(lp, names, added)


def integer_lp(cost: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray,
               matrix: sp.sparray, row_lower: np.ndarray, row_upper: np.ndarray, *,
               offset: float = 0.0, minimize: bool = False,
               integer: np.ndarray | None = None) -> Any:
    """A ``highspy.HighsLp``: maximise (or minimise) ``cost @ x + offset`` with
    ``row_lower <= matrix @ x <= row_upper`` and the columns within their bounds, every
    column integer unless ``integer`` (a mask) says which are. :func:`lp_matrix` reads
    the matrix back."""
    import highspy

    matrix = sp.csc_array(matrix)
    n_rows, n_cols = matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.sense_ = highspy.ObjSense.kMinimize if minimize else highspy.ObjSense.kMaximize
    lp.offset_ = offset
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    if integer is None or np.all(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    else:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(k)] for k in np.asarray(integer, dtype=bool)]
    lp.num_row_ = n_rows
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    return lp


def lp_matrix(lp: Any) -> sp.csc_array:
    """The constraint matrix of a column-wise ``highspy.HighsLp``, as a SciPy array."""
    m = lp.a_matrix_
    return sp.csc_array((np.asarray(m.value_), np.asarray(m.index_), np.asarray(m.start_)),
                        shape=(lp.num_row_, lp.num_col_))


@dataclass(frozen=True)
class Compiled:
    """The Pyomo form through Pyomo's standard-form compiler: (cost, offset, matrix, row
    lower, row upper, row names) and the columns' bounds and integrality (the model's
    columns first, in order, then any variable a caller added to the Pyomo model)."""

    rows: tuple[np.ndarray, float, sp.csr_array, np.ndarray, np.ndarray,
                list[tuple[str, Any]]]
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    added: tuple[str, ...]  # names of the variables a caller added


def _compile(pm: PortfolioModel) -> Compiled:
    """The Pyomo model through Pyomo's standard-form compiler. A variable the caller added
    becomes a column after the model's own, with its bounds and domain."""
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    form = pm.pyomo
    n_own = pm.columns.n_columns
    # compiled in the compiler's own column order (passing ours costs it a third more),
    # then placed in ours; a variable in no row and not in the objective stays an empty
    # column with its bounds
    _check_sense(form.model)
    info = LinearStandardFormCompiler().write(form.model, mixed_form=True, set_sense=None)
    position = {id(v): k for k, v in enumerate(form.columns)}
    added = [v for v in info.columns if id(v) not in position]
    for k, v in enumerate(added):
        position[id(v)] = n_own + k
    n_cols = n_own + len(added)
    order = np.fromiter((position[id(v)] for v in info.columns), dtype=np.int64,
                        count=len(info.columns))
    cost = np.zeros(n_cols)
    if info.c.shape[0]:
        cost[order] = np.asarray(info.c.toarray()).reshape(-1)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    compiled = sp.coo_array(info.A)
    matrix = sp.csr_array((compiled.data, (compiled.row, order[compiled.col])),
                          shape=(info.A.shape[0], n_cols))
    rhs = np.asarray(info.rhs, dtype=float)
    kinds = np.array([entry.bound_type for entry in info.rows], dtype=np.int64)
    owners = [entry.constraint for entry in info.rows]
    # a ranged row comes out twice (upper, then lower): keep one row with both limits
    keep = np.ones(len(kinds), dtype=bool)
    lower = np.where(kinds <= 0, rhs, -np.inf)
    upper = np.where(kinds >= 0, rhs, np.inf)
    for r in range(1, len(kinds)):
        if owners[r] is owners[r - 1] and kinds[r] == -1 and kinds[r - 1] == 1:
            lower[r - 1] = rhs[r]
            keep[r] = False
    keys = {b.name: b.keys for b in pm.blocks}
    names = []
    for con, k in zip(owners, keep, strict=True):
        if k:
            name, index = con.parent_component().local_name, con.index()
            names.append((name, keys[name][index]) if name in keys else (name, index))
    # every variable's bounds and domain as the Pyomo form holds them now: a caller may
    # have changed the model's own (a bound, a fixed value, a domain) as well as added
    # variables; a fixed variable is a column fixed at its value (the compiler folds it
    # into the limits and the offset)
    every = [*form.columns, *added]
    col_lower = np.array([_value(v) if v.fixed else _bound(v.lb, -np.inf) for v in every],
                         dtype=float)
    col_upper = np.array([_value(v) if v.fixed else _bound(v.ub, np.inf) for v in every],
                         dtype=float)
    integer = np.array([bool(v.is_integer() or v.is_binary()) for v in every], dtype=bool)
    return Compiled((cost, offset, matrix[keep], lower[keep], upper[keep], names),
                    col_lower.astype(float), col_upper.astype(float),
                    integer.astype(bool), tuple(v.name for v in added))


def _bound(value: Any, default: float) -> float:
    return default if value is None else float(value)


def _value(var: Any) -> float:
    return float(var.value)


def _check_sense(model: Any) -> None:
    """The model maximises: a caller's objective must too (HiGHS is told to maximise,
    and the bound and gap are read as a maximisation's)."""
    import pyomo.core as pyo

    for objective in model.component_data_objects(pyo.Objective, active=True):
        if objective.sense != pyo.maximize:
            raise UsageError(f"the Pyomo form's objective {objective.name} minimises; the "
                             "model maximises (the bound and the gap are a maximisation's):"
                             " maximise its negative instead")


