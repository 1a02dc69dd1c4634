"""Pyomo model builders for the capital-portfolio model (section 4 of the format).

Each rule family lives in its own module with one ``add(model, instance, variables)``
function that appends its rows and returns their :class:`~formulations.rows.RowBlock`
records. :func:`build` runs the families listed in :data:`FAMILIES`; a new family
(scheduling, risk, loans) is a new module added to that tuple, touching no other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

# isort: off
import formulations._imports  # noqa: F401  (before Pyomo: keeps its import lean)
# isort: on
# the modelling core only: pyomo.environ would load three times the modules (solver
# interfaces, DAE, GDP, ...) for nothing this package uses
import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC

from formulations import budget, dependencies, hurdle, labor, sectors
from formulations.rows import RowBlock, linear
from formulations.variables import Variables, add_linking, add_variables

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

__all__ = ["FAMILIES", "PortfolioModel", "build", "row_limits"]

Family = Callable[[pyo.Block, "Instance", Variables], list[RowBlock]]

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
class PortfolioModel:
    """A built model: the Pyomo model, its variables in column order, and its row blocks."""

    model: pyo.ConcreteModel
    instance: Instance
    variables: Variables
    blocks: tuple[RowBlock, ...]

    @property
    def trivially_infeasible(self) -> list[tuple[str, object]]:
        """Rows no plan can meet because they hold no variable (e.g. an empty sector's floor)."""
        return [(b.name, key) for b in self.blocks for key in b.empty_violations]


def build(instance: Instance, families: Sequence[tuple[str, Family]] = FAMILIES
          ) -> PortfolioModel:
    """Build the section-4 MIP: maximize sum_i r_i u_i subject to every rule family.

    Python's cyclic garbage collector is paused meanwhile: the model is millions of small
    acyclic objects, and collections triggered by their allocation tripled the build time.
    """
    with PauseGC():
        return _build(instance, families)


def _build(instance: Instance, families: Sequence[tuple[str, Family]]) -> PortfolioModel:
    model = pyo.ConcreteModel(name=instance.name)
    v = add_variables(model, instance)
    model.total_return = pyo.Objective(expr=linear(instance.returns, v.units),
                                       sense=pyo.maximize)
    blocks: list[RowBlock] = []
    for _name, family in families:
        blocks.extend(family(model, instance, v))
    blocks.extend(add_linking(model, instance, v))
    return PortfolioModel(model, instance, v, tuple(blocks))
