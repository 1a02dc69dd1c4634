"""The synthetic generator: same seed, same bytes; every size feasible and checked."""

from __future__ import annotations

import filecmp

import pytest
from helpers import solve_checked

from optimizer.cli import main
from optimizer.generate import generate, write


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["generate", "--projects", "300", "--seed", "5", "--out", str(a)]) == 0
    write(generate(300, seed=5), b)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and "program.yaml" in names
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in names)
    write(generate(300, seed=6), tmp_path / "c")
    assert not filecmp.cmp(a / "projects.csv", tmp_path / "c" / "projects.csv", shallow=False)


@pytest.mark.parametrize("n,seed", [(1, 0), (5, 1), (20, 2), (60, 3), (400, 4)])
def test_generated_programs_are_feasible(tmp_path, n, seed):
    from optimizer import SolveOptions

    result = solve_checked(write(generate(n, seed=seed), tmp_path),
                           SolveOptions(threads=1, gap=1e-4, time_limit=60))
    assert result.status in ("optimal", "feasible")
