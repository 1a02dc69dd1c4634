"""Decision variables: units funded per project, and whether each project is funded.

For project i, the spec's u_i in 0..max_units_i counts the units funded and z_i in {0,1}
says whether it is funded (u_i <= max_units_i z_i, z_i <= u_i). The model keeps exactly
that meaning with fewer columns and rows:

* a single-unit project (max_units 1, the usual case) has z_i = u_i exactly, so one
  binary column ``pick[i]`` serves as both;
* a modular project has an integer column ``units[k]``; its indicator z_i is a separate
  binary ``funded[k]``, with the two linking rows, only where a dependency refers to it.
  Elsewhere z_i appears in no rule, and forced choices are bounds on u_i
  (``force: in``: z_i = 1, so u_i >= 1; ``force: out``: u_i = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from formulations.rows import RowBlock, row_block

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

__all__ = ["Variables", "variables", "add_variables", "add_linking", "column_bounds"]


@dataclass(frozen=True)
class Variables:
    """The model's columns: u_i for every project, in project order, then a separate
    indicator z_i for each modular project in ``indicator_of`` (the positions of modular
    projects a dependency refers to).

    ``funded_column[i]`` is the column holding z_i: i itself for a single-unit project,
    the indicator's column for a linked modular one, -1 where z_i appears in no rule.
    ``lower`` and ``upper`` are the column bounds; ``integer`` marks the binary columns
    (``True``) against the general-integer unit counts.
    """

    n_units: int
    indicator_of: np.ndarray
    funded_column: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    binary: np.ndarray

    @property
    def n_columns(self) -> int:
        return self.n_units + len(self.indicator_of)


def variables(instance: Instance) -> Variables:
    """The columns of the model of ``instance`` and their bounds."""
    n = instance.n_projects
    max_units = instance.max_units
    modular = np.flatnonzero(max_units > 1)
    referenced = np.zeros(n, dtype=bool)
    referenced[instance.requires.reshape(-1)] = True
    for group in instance.excludes:
        referenced[group] = True
    linked = modular[referenced[modular]]
    funded_column = np.arange(n, dtype=np.int64)
    funded_column[modular] = -1
    funded_column[linked] = n + np.arange(len(linked))
    lower, upper = column_bounds(instance, linked)
    binary = np.concatenate([max_units == 1, np.ones(len(linked), dtype=bool)])
    return Variables(n, linked, funded_column, lower, upper, binary)


def add_variables(model: Any, v: Variables) -> np.ndarray:
    """Add the columns to the Pyomo ``model`` as ``pick`` (single-unit projects' binaries),
    ``units`` (modular projects' unit counts) and ``funded`` (their separate indicators),
    with their bounds; returns the Pyomo variables in column order (an object array)."""
    import pyomo.core as pyo

    n = v.n_units
    single = np.flatnonzero(v.binary[:n])
    modular = np.flatnonzero(~v.binary[:n])
    model.pick = pyo.Var(range(len(single)), domain=pyo.Binary)
    model.units = pyo.Var(range(len(modular)), domain=pyo.NonNegativeIntegers,
                          bounds=(0, None))
    model.funded = pyo.Var(range(len(v.indicator_of)), domain=pyo.Binary)
    columns = np.empty(v.n_columns, dtype=object)
    columns[single] = list(model.pick.values())
    columns[modular] = list(model.units.values())
    columns[n:] = list(model.funded.values())
    default_lower = np.zeros(v.n_columns)
    default_upper = np.where(v.binary, 1.0, np.inf)
    for k in np.flatnonzero(v.lower != default_lower).tolist():
        columns[k].setlb(float(v.lower[k]))
    for k in np.flatnonzero(v.upper != default_upper).tolist():
        columns[k].setub(float(v.upper[k]))
    return columns


def column_bounds(instance: Instance, linked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the columns (units in project order, then the indicators of ``linked``):
    forced in means at least one unit, forced out none."""
    force_in, force_out = instance.force_in, instance.force_out
    lower = np.concatenate([force_in, force_in[linked]]).astype(float)
    upper = np.concatenate([np.where(force_out, 0, instance.max_units),
                            np.where(force_out[linked], 0, 1)]).astype(float)
    return lower, upper


def add_linking(instance: Instance, v: Variables) -> list[RowBlock]:
    """u_i - max_units_i z_i <= 0 and z_i - u_i <= 0 where z_i is a separate column."""
    linked = v.indicator_of
    k = len(linked)
    if k == 0:
        return []
    n = instance.n_projects
    idx = np.arange(k)
    cols_u, cols_z = linked, n + idx  # column order: units, then the indicators
    cap = sp.csr_array((np.concatenate([np.ones(k), -instance.max_units[linked]]),
                        (np.concatenate([idx, idx]), np.concatenate([cols_u, cols_z]))),
                       shape=(k, n + k))
    floor = sp.csr_array((np.concatenate([np.ones(k), -np.ones(k)]),
                          (np.concatenate([idx, idx]), np.concatenate([cols_z, cols_u]))),
                         shape=(k, n + k))
    inf = np.full(k, np.inf)
    keys = tuple(instance.ids[linked].tolist())
    return [
        row_block("link_units", cap, n + k, n + k, -inf, np.zeros(k), keys),
        row_block("link_funded", floor, n + k, n + k, -inf, np.zeros(k), keys),
    ]
