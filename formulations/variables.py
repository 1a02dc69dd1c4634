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
from typing import TYPE_CHECKING

import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from formulations.rows import RowBlock, add_rows

if TYPE_CHECKING:  # formulations must not import the optimizer package at run time
    from optimizer.instance import Instance

__all__ = ["Variables", "add_variables", "add_linking", "column_bounds"]


@dataclass(frozen=True)
class Variables:
    """The model's variables: ``units[i]`` is u_i and ``funded[i]`` z_i, in project order.

    ``funded[i]`` is None for a modular project no dependency refers to. ``columns`` is
    the column order handed to the solver: the units in project order, then the separate
    indicators.
    """

    units: list
    funded: list
    indicator_of: np.ndarray  # positions of projects with a separate indicator column
    lower: np.ndarray  # column bounds, in ``columns`` order, as set on the variables
    upper: np.ndarray

    @property
    def columns(self) -> list:
        return self.units + [self.funded[i] for i in self.indicator_of]


def add_variables(model: pyo.Block, instance: Instance) -> Variables:
    n = instance.n_projects
    max_units = instance.max_units
    single = np.flatnonzero(max_units == 1)
    modular = np.flatnonzero(max_units > 1)
    referenced = np.zeros(n, dtype=bool)
    referenced[instance.requires.reshape(-1)] = True
    for group in instance.excludes:
        referenced[group] = True
    linked = modular[referenced[modular]]

    model.pick = pyo.Var(range(len(single)), domain=pyo.Binary)
    model.units = pyo.Var(range(len(modular)), domain=pyo.NonNegativeIntegers,
                          bounds=(0, None))
    model.funded = pyo.Var(range(len(linked)), domain=pyo.Binary)
    units: list = [None] * n
    for k, i in enumerate(single.tolist()):
        units[i] = model.pick[k]
    for k, i in enumerate(modular.tolist()):
        var = model.units[k]
        var.setub(int(max_units[i]))
        units[i] = var
    funded = list(units)
    for i in modular.tolist():
        funded[i] = None
    for k, i in enumerate(linked.tolist()):
        funded[i] = model.funded[k]

    force_in, force_out = instance.force_in, instance.force_out
    lower, upper = column_bounds(instance, linked)
    for i in np.flatnonzero(force_in).tolist():
        units[i].setlb(1)
        if funded[i] is not units[i] and funded[i] is not None:
            funded[i].setlb(1)
    for i in np.flatnonzero(force_out).tolist():
        units[i].setub(0)
        if funded[i] is not units[i] and funded[i] is not None:
            funded[i].setub(0)
    return Variables(units, funded, linked, lower, upper)


def column_bounds(instance: Instance, linked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the columns (units in project order, then the indicators of ``linked``):
    forced in means at least one unit, forced out none."""
    force_in, force_out = instance.force_in, instance.force_out
    lower = np.concatenate([force_in, force_in[linked]]).astype(float)
    upper = np.concatenate([np.where(force_out, 0, instance.max_units),
                            np.where(force_out[linked], 0, 1)]).astype(float)
    return lower, upper


def add_linking(model: pyo.Block, instance: Instance, v: Variables) -> list[RowBlock]:
    """u_i - max_units_i z_i <= 0 and z_i - u_i <= 0 where z_i is a separate column."""
    linked = v.indicator_of
    k = len(linked)
    if k == 0:
        return []
    n = instance.n_projects
    rows = np.arange(k)
    cols_u, cols_z = linked, n + rows  # column order: units, then the indicators
    cap = sp.csr_array((np.concatenate([np.ones(k), -instance.max_units[linked]]),
                        (np.concatenate([rows, rows]), np.concatenate([cols_u, cols_z]))),
                       shape=(k, n + k))
    floor = sp.csr_array((np.concatenate([np.ones(k), -np.ones(k)]),
                          (np.concatenate([rows, rows]), np.concatenate([cols_z, cols_u]))),
                         shape=(k, n + k))
    inf = np.full(k, np.inf)
    keys = tuple(instance.ids[linked].tolist())
    columns = v.columns
    return [
        add_rows(model, "link_units", cap, columns, -inf, np.zeros(k), keys),
        add_rows(model, "link_funded", floor, columns, -inf, np.zeros(k), keys),
    ]
