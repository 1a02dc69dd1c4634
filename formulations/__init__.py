"""The capital-portfolio model (section 4 of the format), and its Pyomo form.

Each rule family lives in its own module with one ``add(instance, variables)`` function
that returns its rows as :class:`~formulations.rows.RowBlock` records: sparse arrays over
the model's columns, with limits and the program's names for each row. :func:`build`
runs the families listed in :data:`FAMILIES`; a new family (scheduling, risk, loans) is a
new module added to that tuple, touching no other.

:attr:`PortfolioModel.model` is the same model as a Pyomo ``ConcreteModel``, built from
those blocks on first use; add rules or variables to it and the solve compiles it with
Pyomo's standard-form compiler. A model whose Pyomo form was never asked for goes to
HiGHS straight from the blocks (``optimizer.solver.translate``), which skips importing
Pyomo, building a million small expression objects and walking them back into a matrix;
tests hold the two translations to the same matrix, bounds and costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from formulations import budget, dependencies, hurdle, labor, sectors
from formulations.rows import RowBlock, linear, to_constraint
from formulations.variables import Variables, add_linking, add_variables, variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

__all__ = ["FAMILIES", "PortfolioModel", "PyomoForm", "build", "row_limits"]

Family = Callable[["Instance", Variables], list[RowBlock]]

#: The rule families of format version 1, in the order their rows enter the model.
FAMILIES: tuple[tuple[str, Family], ...] = (
    ("budget", budget.add),
    ("sectors", sectors.add),
    ("labor", labor.add),
    ("hurdle", hurdle.add),
    ("dependencies", dependencies.add),
)

#: The families whose row limits (not their coefficients) come from program-level values
#: a what-if may change: each maps a program to {row name: (keys, lower, upper)}.
LIMITS = (budget.limits, sectors.limits, labor.limits, hurdle.limits)


def row_limits(instance: Instance) -> dict[str, tuple[tuple, object, object]]:
    """Every limit-carrying row the model of ``instance`` may have, by row name: (keys,
    lower, upper), +-inf where the program sets no limit. Sweeps use it to move the row
    bounds of a model built once."""
    out: dict[str, tuple[tuple, object, object]] = {}
    for limits in LIMITS:
        out.update(limits(instance))
    return out


@dataclass(frozen=True)
class PyomoForm:
    """The model in Pyomo: the ``ConcreteModel``, its variables in column order (an object
    array) and the ``Constraint`` of each row block by block name."""

    model: Any
    columns: np.ndarray
    constraints: dict[str, Any]


@dataclass(frozen=True)
class PortfolioModel:
    """A built model: its columns, the objective over them, and its row blocks."""

    instance: Instance
    variables: Variables
    cost: np.ndarray  # return per unit of each column (0 for the indicators)
    blocks: tuple[RowBlock, ...]

    @property
    def trivially_infeasible(self) -> list[tuple[str, object]]:
        """Rows no plan can meet because they hold no variable (e.g. an empty sector's floor)."""
        return [(b.name, key) for b in self.blocks for key in b.empty_violations]

    def matrix(self) -> sp.csr_array:
        """All the blocks' rows stacked, in block order, over the model's columns."""
        if not self.blocks:
            return sp.csr_array((0, self.variables.n_columns))
        return sp.csr_array(sp.vstack([b.matrix for b in self.blocks], format="csr"))

    def row_names(self) -> list[tuple[str, Any]]:
        """(block name, key) of every row of :meth:`matrix`."""
        return [(b.name, key) for b in self.blocks for key in b.keys]

    @cached_property
    def pyomo(self) -> PyomoForm:
        """The model in Pyomo, built on first use (and then the form the solve compiles)."""
        return _pyomo_form(self)

    @property
    def model(self) -> Any:
        """The Pyomo ``ConcreteModel``: maximize the total return subject to every block."""
        return self.pyomo.model

    @property
    def has_pyomo_form(self) -> bool:
        return "pyomo" in self.__dict__


def build(instance: Instance, families: Sequence[tuple[str, Family]] = FAMILIES
          ) -> PortfolioModel:
    """Build the section-4 MIP: maximize sum_i r_i u_i subject to every rule family."""
    v = variables(instance)
    blocks: list[RowBlock] = []
    for _name, family in families:
        blocks.extend(family(instance, v))
    blocks.extend(add_linking(instance, v))
    cost = np.concatenate([instance.returns, np.zeros(len(v.indicator_of))])
    return PortfolioModel(instance, v, cost, tuple(blocks))


def _pyomo_form(pm: PortfolioModel) -> PyomoForm:
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
        columns = add_variables(model, pm.variables)
        n = pm.variables.n_units
        model.total_return = pyo.Objective(expr=linear(pm.cost[:n], columns[:n]),
                                           sense=pyo.maximize)
        constraints = {}
        for block in pm.blocks:
            component = to_constraint(block, columns)
            if component is not None:
                model.add_component(block.name, component)
                constraints[block.name] = component
        return PyomoForm(model, columns, constraints)
