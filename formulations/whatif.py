"""What-if changes as the rule families make them: checked numbers, years, sectors and
project ids (:meth:`formulations.family.Family.derive`). Every value is checked: an
unknown year, sector or project id, a negative limit, a scale that is not a positive
number, and a value a change makes outside the format's documented bounds
(:mod:`optimizer.limits`) raise :class:`~optimizer.errors.UsageError` naming the change
and the bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.errors import UsageError
from optimizer.limits import Bound

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["OPEN", "open_where_any", "caps_within", "KEEP", "Limits", "number", "bounded",
           "bounded_array", "year_position", "sector_position", "set_limits",
           "project_positions", "yearly"]

class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: "Leave this as the program has it" (``None`` means "remove the limit").
KEEP: Any = _Keep()

Limits = Mapping[Any, float | None]


def number(what: str, value: Any, *, allow_none: bool = True, positive: bool = False) -> Any:
    if value is None:
        if allow_none:
            return None
        raise UsageError(f"{what}: a number is required, got None")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise UsageError(f"{what}: must be finite, got {value!r}")
    if positive and number <= 0:
        raise UsageError(f"{what}: must be > 0, got {value!r}")
    if number < 0:
        raise UsageError(f"{what}: must be >= 0, got {value!r}")
    return number


def bounded(what: str, value: float, bound: Bound, *, by: str = "") -> None:
    """Refuse a derived value outside the format's documented ``bound``
    (:mod:`optimizer.limits`), naming the change (``what``) and, for a value a factor
    produced, the factor (``by``)."""
    if value == value and not bound.holds(value):  # NaN: no limit
        made = f" ({by} makes it {value:g})" if by else f" (got {value:g})"
        raise UsageError(f"{what}{made}: must be {bound.describe()}, the format's bound on "
                         f"{bound.why}")


def bounded_array(what: str, keys: Iterable[Any], values: np.ndarray, bound: Bound,
                   *, by: str = "") -> None:
    for key, value in zip(keys, np.asarray(values, dtype=float).tolist(), strict=True):
        bounded(f"{what}[{key}]", value, bound, by=by)


def year_position(instance: Instance, what: str, year: Any) -> int:
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: {year!r} is not a year") from None
    if y != year and str(y) != str(year).strip():
        raise UsageError(f"{what}: {year!r} is not a year")
    if not instance.first_year <= y <= instance.last_year:
        raise UsageError(f"{what}: year {y} is outside the horizon "
                         f"{instance.first_year}-{instance.last_year}")
    return y - instance.first_year


def sector_position(instance: Instance, what: str, sector: Any) -> int:
    if sector not in instance.sectors:
        raise UsageError(f"{what}: unknown sector {sector!r}; the program names: "
                         f"{', '.join(instance.sectors)}")
    return instance.sectors.index(sector)


def set_limits(array: np.ndarray, changes: Limits, position: Any, what: str) -> np.ndarray:
    out = array.astype(float).copy()
    for key, value in changes.items():
        k = position(f"{what}[{key}]", key)
        value = number(f"{what}[{key}]", value)
        out[k] = np.nan if value is None else value
    return out


def project_positions(instance: Instance, what: str, ids: Iterable[Any]) -> np.ndarray:
    if isinstance(ids, str):
        ids = [ids]
    index = pd.Index(instance.ids)
    wanted = [str(i) for i in ids]
    found = index.get_indexer(wanted)
    missing = [w for w, k in zip(wanted, found, strict=True) if k < 0]
    if missing:
        raise UsageError(f"{what}: unknown project id(s) {', '.join(map(repr, missing[:5]))}")
    return found


def yearly(instance: Instance, array: np.ndarray, limits: Limits | None, scale: float | None,
           what: str, scale_name: str, labels: list[str]) -> np.ndarray:
    """Per-year limits changed, then scaled (the array itself when untouched)."""
    if limits:
        array = set_limits(array, limits, lambda w, y: year_position(instance, w, y), what)
        labels.append(f"{what}={dict(limits)}")
    if scale is not None:
        array = array * number(scale_name, scale, allow_none=False, positive=True)
        labels.append(f"{scale_name}={scale}")
    return array


#: A limit large enough to be no limit, small enough to keep a row in the model (a model
#: built once for many programs, :meth:`formulations.family.Family.superset`).
OPEN = 1e15


def open_where_any(arrays: list[np.ndarray], fill: float = OPEN) -> np.ndarray:
    """``fill`` where any of ``arrays`` sets a limit (is finite), NaN elsewhere."""
    stacked = np.vstack(arrays)
    return np.where(np.isfinite(stacked).any(axis=0), fill, np.nan)


def caps_within(tight: np.ndarray, loose: np.ndarray) -> bool:
    """Whether every cap of ``tight`` is at most ``loose``'s (NaN: no cap)."""
    return bool(np.all(np.isnan(loose) | (tight <= loose)))
