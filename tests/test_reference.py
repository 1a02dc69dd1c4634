"""The benchmark's raw highspy reference and this project build the very same matrix.

``benchmarks/raw_highspy.py`` reads the program file on its own and builds section 4 of
the format with numpy; this project goes through the loader and the formulation's row
blocks (and, in the last test, a rule added to the model's Pyomo form through Pyomo's
standard-form compiler). Identical matrices, bounds and costs mean the speed
comparison is fair and that two independent readings of the format agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from formulations import build
from optimizer import load
from optimizer.program.generate import generate, write
from optimizer.solving.highs import lp_matrix, translate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import raw_highspy  # noqa: E402


@pytest.mark.parametrize("source", ["pilot", "generated-300", "generated-3000"])
def test_same_matrix(tmp_path, source):
    if source == "pilot":
        path = ROOT / "instances" / "pilot-v1" / "program.yaml"
    else:
        path = write(generate(int(source.split("-")[1]), seed=11), tmp_path)
    raw = raw_highspy.build_lp(*raw_highspy.read_program(path))
    raw = raw[0] if isinstance(raw, tuple) else raw
    ours = translate(build(load(path)))
    a, b = lp_matrix(raw), lp_matrix(ours)
    assert a.shape == b.shape
    assert abs(a - b).max() <= 1e-9 if (a - b).nnz else True
    for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert np.allclose(np.asarray(getattr(raw, name)), np.asarray(getattr(ours, name)),
                           rtol=1e-12, atol=1e-12), name


@pytest.mark.solver
def test_rules_added_to_the_pyomo_model_are_solved():
    """A rule a caller adds to the model's Pyomo form reaches HiGHS (through Pyomo's
    compiler) and binds the plan; the program's own rows keep their names."""
    import pyomo.core as pyo

    from optimizer.solving.highs import SolveOptions, translate_with_rows
    from optimizer.solving.strategies import run_highs

    instance = load(ROOT / "instances" / "pilot-v1" / "program.yaml")
    free = run_highs(build(instance), SolveOptions(threads=1, gap=0.0))
    funded = np.flatnonzero((free.values[:instance.n_projects] > 0.5) & ~instance.force_in)
    assert len(funded)
    pm = build(instance)
    first = int(funded[-1])
    pm.model.no_first = pyo.Constraint(expr=pm.pyomo.columns[first] <= 0)
    _lp, names = translate_with_rows(pm)
    assert names[-1] == ("no_first", None)
    assert names[:-1] == build(instance).row_names()
    bound = run_highs(pm, SolveOptions(threads=1, gap=0.0))
    assert bound.status == "optimal"
    assert bound.values[first] == pytest.approx(0.0, abs=1e-9)
    assert bound.objective <= free.objective + 1e-9
