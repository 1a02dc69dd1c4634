"""Benchmarks (pytest-benchmark): not part of the test suite, run on purpose.

    python -m pytest benchmarks -q --benchmark-columns=median,min,max,rounds
    BENCH_SIZES=20,2000 python -m pytest benchmarks -q        # a subset of sizes
    python -m pytest benchmarks --benchmark-autosave           # keep a run
    python -m pytest benchmarks --benchmark-compare            # against the last kept run

Programs are generated once per session (same seed, same bytes) into a temporary folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "20,2000,20000,100000").split(",")]


@pytest.fixture(scope="session")
def program_files(tmp_path_factory):
    """{size: path} of generated 10-year programs, written once per session."""
    from optimizer.program.generate import generate, write

    root = tmp_path_factory.mktemp("programs")
    paths = {}
    for n in SIZES:
        folder = root / f"n{n}"
        folder.mkdir()
        paths[n] = write(generate(n, years=10, seed=2026), folder)
    return paths
