"""Decision variables: units funded per project, and whether each project is funded.

For project i, ``u[i]`` in 0..max_units_i is the number of units funded. The spec's
funded indicator z_i (u_i <= max_units_i z_i, z_i <= u_i) is a separate binary
``z[k]`` only for modular projects (max_units > 1); for a single-unit project z_i = u_i
exactly, so ``u[i]`` itself is binary and serves as z_i. This halves the model for the
usual single-unit project without changing its meaning.

Forced choices are bounds: ``force: in`` sets z_i = 1 (so u_i >= 1), ``force: out`` sets
u_i = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from formulations.rows import RowBlock, add_rows
from optimizer.instance import Instance

__all__ = ["Variables", "add_variables"]


@dataclass(frozen=True)
class Variables:
    """The model's variables, in column order, with their bounds as arrays."""

    units: list  # u_i, one per project
    funded_only: list  # z_k, one per modular project
    modular: np.ndarray  # positions of the modular projects
    funded: list  # z_i for every project: u_i or z_k
    lower: np.ndarray  # bounds of units + funded_only, in that order
    upper: np.ndarray
    integer: np.ndarray  # all True in version 1

    @property
    def columns(self) -> list:
        return self.units + self.funded_only


def add_variables(model: pyo.Block, instance: Instance) -> Variables:
    n = instance.n_projects
    max_units = instance.max_units
    force_in, force_out = instance.force_in, instance.force_out
    modular = np.flatnonzero(max_units > 1)

    u_low = np.where(force_in, 1, 0)
    u_up = np.where(force_out, 0, max_units)
    z_low = u_low[modular]
    z_up = np.where(force_out[modular], 0, 1)

    bounds_u = list(zip(u_low.tolist(), u_up.tolist(), strict=True))
    model.units = pyo.Var(range(n), domain=pyo.NonNegativeIntegers,
                          bounds=lambda _m, i: bounds_u[i])
    bounds_z = list(zip(z_low.tolist(), z_up.tolist(), strict=True))
    model.funded = pyo.Var(range(len(modular)), domain=pyo.Binary,
                           bounds=lambda _m, k: bounds_z[k])
    units = [model.units[i] for i in range(n)]
    funded_only = [model.funded[k] for k in range(len(modular))]
    funded = list(units)
    for k, i in enumerate(modular.tolist()):
        funded[i] = funded_only[k]
    return Variables(
        units=units,
        funded_only=funded_only,
        modular=modular,
        funded=funded,
        lower=np.concatenate([u_low, z_low]).astype(float),
        upper=np.concatenate([u_up, z_up]).astype(float),
        integer=np.ones(n + len(modular), dtype=bool),
    )


def add_linking(model: pyo.Block, instance: Instance, v: Variables) -> list[RowBlock]:
    """u_i - max_units_i z_i <= 0 and z_i - u_i <= 0 for each modular project."""
    k = len(v.modular)
    if k == 0:
        return []
    n = instance.n_projects
    rows = np.arange(k)
    ids = instance.ids[v.modular]
    # columns: units (0..n-1) then funded_only (n..n+k-1)
    cols_u, cols_z = v.modular, n + rows
    cap = sp.csr_array((np.concatenate([np.ones(k), -instance.max_units[v.modular]]),
                        (np.concatenate([rows, rows]), np.concatenate([cols_u, cols_z]))),
                       shape=(k, n + k))
    floor = sp.csr_array((np.concatenate([np.ones(k), -np.ones(k)]),
                          (np.concatenate([rows, rows]), np.concatenate([cols_z, cols_u]))),
                         shape=(k, n + k))
    inf = np.full(k, np.inf)
    return [
        add_rows(model, "link_units", cap, v.columns, -inf, np.zeros(k), tuple(ids)),
        add_rows(model, "link_funded", floor, v.columns, -inf, np.zeros(k), tuple(ids)),
    ]
