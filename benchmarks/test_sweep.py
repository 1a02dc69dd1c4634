"""A budget sweep reusing one model against the same points solved cold, side by side
(pytest-benchmark; compare the two medians as a ratio). Sizes up to 2,000 projects: above
that a sweep is minutes per round. ``benchmarks/sweep_scaling.py`` measures whole
processes and Dask workers.
"""

from __future__ import annotations

import pytest
from conftest import SIZES

from optimizer import SolveOptions, load, sweep

OPTIONS = SolveOptions(threads=1, gap=1e-4, time_limit=60)
POINTS = 9


def _grid(instance):
    cap = float(instance.budget_total)
    return {"budget": [round(cap * (0.6 + 0.5 * k / (POINTS - 1)), 3) for k in range(POINTS)]}


@pytest.mark.parametrize("n", [n for n in SIZES if n <= 2000])
@pytest.mark.parametrize("route", ["reused", "cold"])
def test_budget_sweep(benchmark, program_files, n, route):
    instance = load(program_files[n])
    grid = _grid(instance)
    reuse = route == "reused"
    s = benchmark.pedantic(sweep, args=(instance, grid, OPTIONS),
                           kwargs={"chunk_size": POINTS, "reuse": reuse, "share": reuse},
                           rounds=1, iterations=1)
    assert len(s.points) == POINTS and s.frame["valid"].all()
    if reuse:  # shared plans: the return never falls as the budget grows
        assert s.frame["objective"].is_monotonic_increasing
