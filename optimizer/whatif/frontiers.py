"""Efficient frontiers: the sweep of one parameter (the budget, the labor scale, a sector
floor, ...) giving the most return reachable at each value, with the portfolio's
composition by sector along it, and its charts (:mod:`optimizer.whatif.charts`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.program.instance import Instance
from optimizer.solving.highs import SolveOptions
from optimizer.whatif.charts import (  # noqa: F401  (the frontier's charts, re-exported)
    plot_frequency,
    plot_sweep,
    selection_frequency,
)
from optimizer.whatif.sweeps import Sweep, sweep

__all__ = ["frontier", "selection_frequency", "plot_sweep", "plot_frequency"]


def frontier(instance: Instance, parameter: str, values: Sequence[float],
             options: SolveOptions | None = None, **sweep_options: Any) -> Sweep:
    """The efficient frontier of return against ``parameter`` over ``values`` (a sweep of
    that one parameter; see :func:`optimizer.whatif.sweeps.sweep` for the options)."""
    return sweep(instance, {parameter: sorted(values)}, options, **sweep_options)
