"""The model's columns: blocks of decisions, each binary, integer or continuous, with its
own index, and the typed plan read back from a solution.

A :class:`ColumnBlock` is one kind of decision: the units funded of each project (format
version 1: one column a project), whether a project is funded, and in version 2 units by
project and start year, trainees by pool and year, scenario auxiliaries. Its ``index``
labels each column (a project id; a (project, start year) pair; a (pool, year) pair) and
``project`` gives the project each column belongs to (-1: none). :class:`Columns` lays
the blocks side by side, in the order families give them, and is the only thing that
knows where a block's columns are.

A solution comes back as a :class:`Plan`: units by project (the program's decision), and
every other block's values by name, never as a slice of the column vector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["BINARY", "INTEGER", "CONTINUOUS", "KINDS", "ColumnBlock", "Columns", "Plan"]

#: The kinds of column, as the small integers a block's ``kind`` array holds (a string per
#: column would cost a build of 100,000 projects five times its time); ``KINDS[k]`` names
#: kind ``k``.
BINARY, INTEGER, CONTINUOUS = 0, 1, 2
KINDS = ("binary", "integer", "continuous")


@dataclass(frozen=True, eq=False)
class ColumnBlock:
    """One block of columns: ``kind`` per column (an int8 array of :data:`BINARY`,
    :data:`INTEGER` or :data:`CONTINUOUS`), bounds,
    objective coefficients, a label per column (``index``) and the project each column
    belongs to (``project``, -1 for none). ``units`` marks the block whose values are
    the units funded of ``project`` (the plan); ``family`` is its owner."""

    name: str
    family: str
    index: Sequence[Any] | np.ndarray
    kind: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray
    project: np.ndarray
    units: bool = False
    #: a decision of its own, read back into the plan by name (False: a column implied by
    #: the units, such as whether a project is funded)
    auxiliary: bool = True
    #: the units block's option (project and start year, :class:`~formulations.starts.
    #: Options`) of each column, where not every option has a column (None: column k is
    #: option k)
    members: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.index)
        for name in ("kind", "lower", "upper", "cost", "project"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"column block {self.name}: {name} has "
                                 f"{len(getattr(self, name))} entries for {n} columns")
        kind = np.asarray(self.kind)
        if kind.dtype.kind not in "iu" or (len(kind) and (kind.min() < 0 or kind.max() > 2)):
            raise ValueError(f"column block {self.name}: kinds must be BINARY, INTEGER or "
                             f"CONTINUOUS")
        object.__setattr__(self, "kind", kind.astype(np.int8, copy=False))

    @property
    def size(self) -> int:
        return len(self.index)


@dataclass(frozen=True)
class Plan:
    """A solution in the program's terms: ``units`` funded per project (in project
    order), and every other decision block's values by block name (a Series over the
    block's index)."""

    units: np.ndarray
    decisions: Mapping[str, pd.Series] = field(default_factory=dict)
    #: units per unit column (per option: project and start year, in option order);
    #: the same as ``units`` where there is one column per project
    starts: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Columns:
    """The model's column blocks side by side, in order."""

    blocks: tuple[ColumnBlock, ...]
    n_projects: int
    #: how many options (project and start year) the program has; the unit columns are
    #: all of them, or those of :attr:`members`
    n_options: int = 0

    def __post_init__(self) -> None:
        names = [b.name for b in self.blocks]
        if len(set(names)) != len(names):
            raise ValueError(f"two column blocks share a name: {names}")
        if sum(b.units for b in self.blocks) > 1:
            raise ValueError("one column block holds the units of the plan")

    # ------------------------------------------------------------------ layout
    @property
    def n_columns(self) -> int:
        return int(sum(b.size for b in self.blocks))

    @cached_property
    def offsets(self) -> Mapping[str, int]:
        out, at = {}, 0
        for b in self.blocks:
            out[b.name] = at
            at += b.size
        return MappingProxyType(out)

    def block(self, name: str) -> ColumnBlock:
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"no column block {name!r}")

    def has(self, name: str) -> bool:
        return any(b.name == name for b in self.blocks)

    def positions(self, name: str) -> np.ndarray:
        """The model columns of block ``name``."""
        b = self.block(name)
        return self.offsets[name] + np.arange(b.size, dtype=np.int64)

    def _cat(self, attr: str, dtype: Any) -> np.ndarray:
        if not self.blocks:
            return np.zeros(0, dtype=dtype)
        out = np.concatenate([np.asarray(getattr(b, attr), dtype=dtype) for b in self.blocks])
        out.flags.writeable = False
        return out

    @cached_property
    def lower(self) -> np.ndarray:
        return self._cat("lower", float)

    @cached_property
    def upper(self) -> np.ndarray:
        return self._cat("upper", float)

    @cached_property
    def cost(self) -> np.ndarray:
        return self._cat("cost", float)

    @cached_property
    def kind(self) -> np.ndarray:
        return self._cat("kind", np.int8)

    @cached_property
    def integer(self) -> np.ndarray:
        """True for every binary and integer column."""
        return self.kind != CONTINUOUS

    def where(self, column: int) -> tuple[ColumnBlock, int]:
        """The block of model column ``column`` and its position in the block."""
        at = 0
        for b in self.blocks:
            if column < at + b.size:
                return b, int(column - at)
            at += b.size
        raise IndexError(column)

    # -------------------------------------------------------------- the decision
    @cached_property
    def members(self) -> np.ndarray | None:
        """The option of each unit column (None: every option has its column, in order)."""
        for b in self.blocks:
            if b.units:
                return None if b.members is None else np.asarray(b.members, dtype=np.int64)
        return None

    @cached_property
    def _units(self) -> tuple[np.ndarray, np.ndarray, bool]:
        for b in self.blocks:
            if b.units:
                owner = np.asarray(b.project, dtype=np.int64)
                first = self.offsets[b.name] == 0
                identity = first and b.members is None and len(owner) == self.n_projects \
                    and bool(
                    np.array_equal(owner, np.arange(self.n_projects)))
                return self.positions(b.name), owner, identity
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), False

    def unit_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """(model columns, their projects) of the block holding the plan's units."""
        cols, owner, _ = self._units
        return cols, owner

    def project_columns(self, coefficients: np.ndarray) -> tuple[np.ndarray | int, np.ndarray]:
        """(model columns, coefficients) of a quantity given per unit of each unit column
        (``coefficients`` in the units block's order: one per project, or one per project
        and start year, :class:`~formulations.starts.Options`): what a row over 'units
        funded' holds. The columns are an int k, "the first k", when the unit columns
        are the model's first (:func:`~formulations.rows.row_block` places those
        without a copy)."""
        cols, _owner, _identity = self._units
        coefficients = np.asarray(coefficients)
        if self.members is not None:
            coefficients = coefficients[self.members]
        if len(cols) and cols[0] == 0:  # the first block: the first len(cols) columns
            return len(cols), coefficients
        return cols, coefficients

    def place(self, per_column: Any) -> tuple[Any, np.ndarray | int]:
        """A sparse matrix of rows over the unit columns (rows x unit columns, per unit
        of each, in the units block's order) as (matrix, columns) for
        :func:`~formulations.rows.row_block`."""
        cols, _owner, _identity = self._units
        if self.members is not None:
            per_column = sp.csr_array(per_column)[:, self.members]
        if len(cols) and cols[0] == 0:
            return per_column, len(cols)
        return sp.csr_array(per_column), cols

    def plan(self, values: np.ndarray) -> Plan:
        """The typed plan of a solution (model column values): integer columns rounded,
        the unit columns summed per project."""
        values = np.asarray(values, dtype=float)
        if len(values) != self.n_columns:
            raise ValueError(f"a solution of {len(values)} values for {self.n_columns} "
                             f"columns")
        units = np.zeros(self.n_projects, dtype=np.int64)
        starts = None
        decisions: dict[str, pd.Series] = {}
        at = 0
        for b in self.blocks:
            part = values[at:at + b.size]
            at += b.size
            whole = np.asarray(b.kind) != CONTINUOUS
            part = np.where(whole, np.round(part), part)
            if b.units and self._units[2]:  # one column per project, in project order
                units = part.astype(np.int64)
                starts = units
            elif b.units:
                starts = part.astype(np.int64)
                np.add.at(units, np.asarray(b.project, dtype=np.int64), starts)
                if b.members is not None:  # per option, those without a column at 0
                    every = np.zeros(self.n_options, dtype=np.int64)
                    every[np.asarray(b.members, dtype=np.int64)] = starts
                    starts = every
            elif b.auxiliary:
                decisions[b.name] = pd.Series(part, index=pd.Index(list(b.index)), name=b.name)
        return Plan(units, MappingProxyType(decisions), starts)

    def values(self, instance: Any, units: np.ndarray, families: Sequence[Any],
               starts: np.ndarray | None = None) -> np.ndarray | None:
        """Column values for a plan of ``units`` per project started as ``starts`` says
        (units per unit column; needed where a project has several), a warm start, each
        block filled by the family that owns it; None when a block's values do not
        follow from the plan."""
        owners = {f.name: f for f in families}
        parts = []
        for b in self.blocks:
            if b.units and starts is not None and b.members is not None:
                parts.append(np.asarray(starts, dtype=float)[np.asarray(b.members)])
                continue
            if b.units and starts is not None and len(starts) == b.size:
                parts.append(np.asarray(starts, dtype=float))
                continue
            if b.units and len(b.project) == self.n_projects and \
                    np.array_equal(b.project, np.arange(self.n_projects)):
                parts.append(np.asarray(units, dtype=float))
                continue
            if b.units:
                return None
            owner = owners.get(b.family)
            part = None if owner is None else owner.column_values(instance, b, units)
            if part is None:
                return None
            parts.append(np.asarray(part, dtype=float))
        return np.concatenate(parts) if parts else np.zeros(0)
