"""The grid of a sweep: ranges as the command line writes them, and every combination of
one or two parameters' values."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

from optimizer.errors import UsageError
from optimizer.whatif.scenarios import parameter_changes

__all__ = ["parse_range", "grid_points"]


def parse_range(text: str, what: str = "range") -> list[float]:
    """``START:STOP:STEP`` (STOP included when the steps reach it) or ``a,b,c``."""
    text = text.strip()
    if "," in text or ":" not in text:
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise UsageError(f"{what}: {text!r} is not START:STOP:STEP or a,b,c") from None
    else:
        parts = text.split(":")
        try:
            start, stop, step = (float(p) for p in parts) if len(parts) == 3 else (None,) * 3
        except ValueError:
            start = stop = step = None
        if start is None or stop is None or step is None:
            raise UsageError(f"{what}: {text!r} is not START:STOP:STEP")
        if not all(map(math.isfinite, (start, stop, step))) or step == 0:
            raise UsageError(f"{what}: {text!r}: finite numbers and a non-zero step needed")
        if (stop - start) / step < 0:
            raise UsageError(f"{what}: {text!r}: the step goes away from STOP")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > 10_000:
            raise UsageError(f"{what}: {text!r} makes {count} points (at most 10,000)")
        values = [round(start + k * step, 12) for k in range(count)]
    if not values or not all(map(math.isfinite, values)):
        raise UsageError(f"{what}: {text!r} gives no finite value")
    return values


def grid_points(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of the parameters' values, the first parameter varying slowest."""
    if not grid:
        raise UsageError("a sweep needs at least one parameter")
    if len(grid) > 2:
        raise UsageError(f"a sweep varies one or two parameters, got {len(grid)}")
    names = list(grid)
    for name in names:
        parameter_changes({name: 0.0})  # validates the name
        if len(grid[name]) == 0:
            raise UsageError(f"sweep parameter {name!r} has no values")
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(list(map(float, grid[n])) for n in names))]
