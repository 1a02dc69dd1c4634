"""The capital-portfolio model (section 4 of the format), its rule families, and its
Pyomo form.

Every rule lives in one family module (:mod:`formulations.budget`, ``sectors``,
``labor``, ``hurdle``, ``dependencies``, ``japan_share``, ``choices``), listed in
:data:`formulations.registry.FAMILIES`. :func:`build` asks every family for its column
blocks (:mod:`formulations.columns`) and its row blocks (:mod:`formulations.rows`): sparse
arrays over the model's columns, with limits, a role (a rule of the program, or a
definition linking columns) and the :class:`~formulations.family.RuleRef` each limit is.
A new family is a new module added to that tuple, touching no other.

The row blocks are the model of record and go to HiGHS directly
(:func:`optimizer.solving.highs.translate`): as measured, that keeps a solve within 1.1x
of raw highspy. :attr:`PortfolioModel.model` is the same model as a Pyomo
``ConcreteModel``, built from the blocks on first use: the extension and interchange
form. Add rules or variables to it and the solve compiles it with Pyomo's standard-form
compiler instead; rows it adds are named by their component, relaxed and named by the
explanation like any rule, and reported by the checker as not checked independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.columns import Columns, Plan
from formulations.family import Family, RuleRef
from formulations.pyomo_form import PyomoForm, pyomo_form
from formulations.registry import FAMILIES
from formulations.rows import RowBlock

if TYPE_CHECKING:  # formulations must not import the pipeline at run time
    from optimizer.program.instance import Instance

__all__ = ["FAMILIES", "PortfolioModel", "PyomoForm", "build", "build_columns", "row_limits",
           "row_coefficients"]


def row_limits(instance: Instance) -> dict[str, tuple[tuple, object, object]]:
    """Every limit-carrying row block the model of ``instance`` may have, by block name:
    (keys, lower, upper), +-inf where the program sets no limit. Sweeps use it to move
    the row bounds of a model built once."""
    out: dict[str, tuple[tuple, object, object]] = {}
    for family in FAMILIES:
        out.update(family.limits(instance))
    return out


def row_coefficients(instance: Instance) -> dict[str, np.ndarray]:
    """The single-row blocks whose coefficients over the projects' units move with
    program-level values (the hurdle's rate, the Japanese-supplier share), by name."""
    out: dict[str, np.ndarray] = {}
    for family in FAMILIES:
        out.update(family.coefficients(instance))
    return out


def build_columns(instance: Instance, families: Sequence[Family] = FAMILIES) -> Columns:
    """The model's column blocks, family by family."""
    options = instance.options
    return Columns(tuple(b for f in families for b in f.column_blocks(instance)),
                   instance.n_projects, options.size if options is not None else 0)


@dataclass(frozen=True, eq=False)
class PortfolioModel:
    """A built model: its column blocks, the objective over them, and its row blocks."""

    instance: Instance
    columns: Columns
    blocks: tuple[RowBlock, ...]
    families: tuple[Family, ...] = FAMILIES

    @property
    def cost(self) -> np.ndarray:
        """The objective's coefficient of every column (the return of a unit)."""
        return self.columns.cost

    @property
    def n_columns(self) -> int:
        return self.columns.n_columns

    @property
    def trivially_infeasible(self) -> list[tuple[RowBlock, Any]]:
        """Rows no plan can meet because they hold no variable (e.g. an empty sector's
        floor), with their block."""
        return [(b, key) for b in self.blocks for key in b.empty_violations]

    def matrix(self) -> sp.csr_array:
        """All the blocks' rows stacked, in block order, over the model's columns."""
        if not self.blocks:
            return sp.csr_array((0, self.n_columns))
        return sp.csr_array(sp.vstack([b.matrix for b in self.blocks], format="csr"))

    def row_names(self) -> list[tuple[str, Any]]:
        """(block name, key) of every row of :meth:`matrix`."""
        return [(b.name, key) for b in self.blocks for key in b.keys]

    def ref(self, block: str, key: Any, side: str) -> RuleRef | None:
        """The rule the ``side`` limit of row (``block``, ``key``) expresses: a family's
        rule, a rule added to the Pyomo form (named by its component), or None for a
        definition."""
        for b in self.blocks:
            if b.name == block:
                return b.ref_of(key, side)
        return RuleRef(block, key)  # a row of the Pyomo form's own

    def plan(self, values: np.ndarray, added: Sequence[str] = ()) -> Plan:
        """The typed plan of a solution: the model's own columns read by their blocks,
        and the values of variables a caller added to the Pyomo form as the decision
        ``pyomo`` (by variable name)."""
        n = self.n_columns
        values = np.asarray(values, dtype=float)
        plan = self.columns.plan(values[:n])
        if not len(added):
            return plan
        extra = pd.Series(values[n:n + len(added)], index=pd.Index(list(added)), name="pyomo")
        return Plan(plan.units, {**plan.decisions, "pyomo": extra})

    def start(self, units: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray | None:
        """Column values for a plan of ``units`` per project started as ``starts`` says
        (units per option; needed where a project has several start years), a warm
        start, or None when some block's values do not follow from the plan."""
        return self.columns.values(self.instance, units, self.families, starts)

    @cached_property
    def pyomo(self) -> PyomoForm:
        """The model in Pyomo, built on first use (and then the form the solve compiles)."""
        return pyomo_form(self)

    @property
    def model(self) -> Any:
        """The Pyomo ``ConcreteModel``: maximize the total return subject to every block."""
        return self.pyomo.model

    @property
    def has_pyomo_form(self) -> bool:
        return "pyomo" in self.__dict__


def build(instance: Instance, families: Sequence[Family] = FAMILIES) -> PortfolioModel:
    """Build the section-4 MIP: maximize the total return subject to every rule family."""
    columns = build_columns(instance, families)
    blocks: list[RowBlock] = []
    for family in families:
        blocks.extend(family.rows(instance, columns))
    return PortfolioModel(instance, columns, tuple(blocks), tuple(families))
