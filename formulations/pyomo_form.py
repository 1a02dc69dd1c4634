"""The model in Pyomo: the extension and interchange form of the row blocks.

One ``Var`` component per column block and kind (``units_binary``, ``units_integer``,
``funded``; a block of one kind is named by the block), one indexed ``Constraint`` per
row block, and the objective ``total_return``. Rules and variables a caller adds to it are
honoured by the solve (:func:`optimizer.solving.highs.translate` compiles the model with
Pyomo's standard-form compiler once the form exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from formulations.columns import BINARY, CONTINUOUS, INTEGER, KINDS, Columns
from formulations.rows import linear, to_constraint

if TYPE_CHECKING:
    from formulations import PortfolioModel

__all__ = ["PyomoForm", "pyomo_form", "add_columns"]


@dataclass(frozen=True)
class PyomoForm:
    """The model in Pyomo: the ``ConcreteModel``, its variables in column order (an object
    array) and the ``Constraint`` of each row block by block name."""

    model: Any
    columns: np.ndarray
    constraints: dict[str, Any]
    #: the objective's expression as built (the program's total return)
    objective: Any = None

    @property
    def objective_changed(self) -> bool:
        """Whether a caller replaced the objective (its expression, or another objective)."""
        import pyomo.core as pyo

        active = list(self.model.component_data_objects(pyo.Objective, active=True))
        return len(active) != 1 or active[0] is not self.model.total_return or \
            self.model.total_return.expr is not self.objective


def add_columns(model: Any, columns: Columns) -> np.ndarray:
    """Add every column block to the Pyomo ``model`` with its domain and bounds; returns
    the Pyomo variables in column order (an object array)."""
    import pyomo.core as pyo

    domains = {BINARY: pyo.Binary, INTEGER: pyo.NonNegativeIntegers, CONTINUOUS: pyo.Reals}
    out = np.empty(columns.n_columns, dtype=object)
    for block in columns.blocks:
        at = columns.offsets[block.name]
        kinds = np.asarray(block.kind)
        present = [k for k in (BINARY, INTEGER, CONTINUOUS) if (kinds == k).any()]
        for kind in present:
            where = np.flatnonzero(kinds == kind)
            name = block.name if len(present) == 1 else f"{block.name}_{KINDS[kind]}"
            var = pyo.Var(range(len(where)), domain=domains[kind])
            model.add_component(name, var)
            out[at + where] = list(var.values())
        default_lower = np.where(kinds == CONTINUOUS, -np.inf, 0.0)
        default_upper = np.where(kinds == BINARY, 1.0, np.inf)
        for k in np.flatnonzero(np.asarray(block.lower, dtype=float) != default_lower).tolist():
            out[at + k].setlb(float(block.lower[k]))
        for k in np.flatnonzero(np.asarray(block.upper, dtype=float) != default_upper).tolist():
            out[at + k].setub(float(block.upper[k]))
    return out


def pyomo_form(pm: PortfolioModel) -> PyomoForm:
    """Python's cyclic garbage collector is paused meanwhile: the model is millions of
    small acyclic objects, and collections triggered by their allocation tripled the
    build time."""
    # isort: off
    import formulations._imports  # noqa: F401  (before Pyomo: keeps its import lean)
    # isort: on
    # the modelling core only: pyomo.environ would load three times the modules (solver
    # interfaces, DAE, GDP, ...) for nothing this package uses
    import pyomo.core as pyo
    from pyomo.common.gc_manager import PauseGC

    with PauseGC():
        model = pyo.ConcreteModel(name=pm.instance.name)
        columns = add_columns(model, pm.columns)
        cost = pm.cost
        used = np.flatnonzero(cost != 0)
        model.total_return = pyo.Objective(expr=linear(cost[used], columns[used]),
                                           sense=pyo.maximize)
        constraints = {}
        for block in pm.blocks:
            component = to_constraint(block, columns)
            if component is not None:
                model.add_component(block.name, component)
                constraints[block.name] = component
        return PyomoForm(model, columns, constraints, model.total_return.expr)
