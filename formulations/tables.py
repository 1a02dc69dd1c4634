"""What the families' report tables share: a limit against what a plan uses, with its
slack and whether it binds (no further unit of any project fits under it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["threshold", "room", "option_room", "yearly_table", "smallest_per_column"]


def threshold(smallest: Any, tol: Any) -> Any:
    """Slack below which a limit binds: too little room left for one more unit of any
    project that uses it (or, for a floor, to drop one), or none at all."""
    return np.where(np.isfinite(smallest), np.maximum(smallest, tol), tol)


def room(instance: Instance, units: np.ndarray) -> np.ndarray:
    """The projects that could take one more unit (below max_units, not forced out)."""
    return (units < instance.max_units) & ~instance.force_out


def option_room(instance: Instance, units: np.ndarray) -> np.ndarray:
    """The options (project and start year) that could take one more unit: their
    project has room and the start may be funded."""
    options = instance.options
    return options.of(room(instance, units)) & (options.excluded == 0)


def smallest_per_column(coefs: Any, rows: np.ndarray, n: int) -> np.ndarray:
    """The smallest positive entry of each column of the sparse ``coefs`` (projects x
    years) among the projects ``rows`` (inf where none)."""
    smallest = np.full(n, np.inf)
    if not rows.any():
        return smallest
    sub = coefs[rows]
    if not sub.nnz:
        return smallest
    sub = sub.tocoo()
    positive = sub.data > 0
    np.minimum.at(smallest, sub.col[positive], sub.data[positive])
    return smallest


def yearly_table(instance: Instance, units: np.ndarray, usage: pd.Series | None,
                 limit: np.ndarray, coefs: Any) -> pd.DataFrame:
    """Per horizon year: what the plan uses (``usage``, the checker's figures by year;
    None: no plan), the limit (NaN: none), slack and binding (the smallest amount one
    more unit of any project with room would add that year no longer fits); ``coefs``
    per option and year (:class:`~formulations.starts.Options`)."""
    years = instance.years
    used = (usage.reindex(years, fill_value=0.0).to_numpy() if usage is not None
            else np.zeros(len(years)))
    smallest = smallest_per_column(coefs, option_room(instance, units), len(years))
    slack = limit - used
    tol = 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(limit)))
    binding = np.isfinite(limit) & (slack < threshold(smallest, tol))
    return pd.DataFrame({"used": used, "limit": limit, "slack": slack, "binding": binding},
                        index=pd.Index(years, name="year"))
