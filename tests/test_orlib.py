"""OR-Library knapsack files: every layout converts with the right counts, the converted
program is the same problem, and the published optima of mknap1 and mknap2 are reached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import solve_checked

from optimizer import SolveOptions, load
from optimizer.cli.main import main
from optimizer.program.orlib import convert, read_orlib

ORLIB = Path(__file__).resolve().parents[1] / "instances" / "orlib"
CB_SHAPES = {1: (100, 5), 2: (250, 5), 3: (500, 5), 4: (100, 10), 5: (250, 10),
             6: (500, 10), 7: (100, 30), 8: (250, 30), 9: (500, 30)}


def test_mknap1_layout():
    problems = read_orlib(ORLIB / "mknap1.txt")
    assert [(p.n, p.m) for p in problems] == [(6, 10), (10, 10), (15, 10), (20, 10), (28, 10),
                                               (39, 5), (50, 5)]
    assert problems[1].optimum == pytest.approx(8706.1)
    assert problems[1].profits[0] == pytest.approx(600.1)


def test_mknap2_layout():
    problems = read_orlib(ORLIB / "mknap2.txt")
    assert len(problems) == 48
    names = [p.name for p in problems]
    assert names[:2] == ["SENTO1", "SENTO2"] and names[-1] == "HP2"
    sento1 = problems[0]
    assert (sento1.m, sento1.n) == (30, 60)  # constraints first in this layout
    assert all(p.optimum for p in problems)


@pytest.mark.parametrize("k", range(1, 10))
def test_mknapcb_layout(k):
    problems = read_orlib(ORLIB / f"mknapcb{k}.txt")
    assert len(problems) == 30
    assert {(p.n, p.m) for p in problems} == {CB_SHAPES[k]}
    assert all(p.optimum is None for p in problems)  # headers hold 0
    # tightness 0.25 / 0.50 / 0.75 by blocks of ten
    for i, t in ((0, 0.25), (15, 0.5), (29, 0.75)):
        ratio = problems[i].capacities / problems[i].weights.sum(axis=1)
        assert np.allclose(ratio, t, atol=1e-4)


@pytest.mark.parametrize("name", [f"gk{i:02d}.dat" for i in range(1, 12)])
def test_gk_layout_with_crlf(name):
    raw = (ORLIB / "gk" / name).read_bytes()
    assert b"\r\n" in raw
    (problem,) = read_orlib(ORLIB / "gk" / name)
    assert problem.n >= 100 and problem.m >= 15


def test_converted_program_is_the_same_problem(tmp_path):
    problem = read_orlib(ORLIB / "mknapcb4.txt")[7]
    (path,) = [p for p in convert(ORLIB / "mknapcb4.txt", tmp_path)
               if p.parent.name == "mknapcb4-07"]
    instance = load(path)
    assert instance.n_projects == problem.n
    assert np.allclose(instance.capital_by_year.toarray().T, problem.weights)
    assert np.allclose(instance.budget_per_year, problem.capacities)
    assert np.allclose(instance.returns, problem.profits)
    assert instance.budget_total is None
    assert instance.known_optimum == 22635  # from the best-known table: the file has none
    assert instance.known_optimum_proven is True


def test_cli_convert(tmp_path, capsys):
    assert main(["convert", "orlib", str(ORLIB / "gk" / "gk01.dat"), "--out",
                 str(tmp_path)]) == 0
    (line,) = capsys.readouterr().out.split()
    assert load(line).known_optimum == 3766


def _reach_all(tmp_path, source, heuristic="off"):
    paths = convert(ORLIB / source, tmp_path)
    # every problem of the file (an empty conversion would pass the loop below unseen)
    assert len(paths) == len(read_orlib(ORLIB / source)) > 0, paths
    for path in paths:
        instance = load(path)
        result = solve_checked(instance, SolveOptions(gap=0.0, threads=1, time_limit=60,
                                                      heuristic=heuristic))
        assert result.status == "optimal", path
        assert result.objective == pytest.approx(instance.known_optimum, abs=1e-6), path


@pytest.mark.solver
def test_mknap1_optima_reached(tmp_path):
    _reach_all(tmp_path, "mknap1.txt")


@pytest.mark.solver
@pytest.mark.parametrize("heuristic", ["core", "core+fixing"])
def test_mknap1_optima_proven_with_the_heuristic(tmp_path, heuristic):
    _reach_all(tmp_path, "mknap1.txt", heuristic)


@pytest.mark.solver
@pytest.mark.slow
def test_mknap2_optima_reached(tmp_path):
    _reach_all(tmp_path, "mknap2.txt")


def test_unreadable_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("3\n 5 2 0\n 1 2 x\n")
    assert main(["convert", "orlib", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "bad.txt" in capsys.readouterr().err


@pytest.mark.solver
@pytest.mark.parametrize("source", ["mknap1.txt",
                                    pytest.param("mknap2.txt", marks=pytest.mark.slow)])
def test_reduced_cost_fixing_keeps_published_optima(tmp_path, source):
    """With the incumbent at the published optimum (the most reduced-cost fixing can ever
    fix), the fixed model still reaches that optimum, on all 55 mknap1 and mknap2
    problems; and it does fix columns."""
    import highspy
    import numpy as np

    from formulations import build
    from optimizer.solving.heuristics import core_search, reduced_cost_fixing
    from optimizer.solving.highs import quiet_stdout, translate

    options = {"output_flag": False, "threads": 1, "mip_rel_gap": 0.0, "random_seed": 0}
    fixed = 0
    for path in convert(ORLIB / source, tmp_path):
        instance = load(path)
        with quiet_stdout():
            lp = translate(build(instance))
            found = core_search(lp, options, budget=0.0)
            cols, low, high = reduced_cost_fixing(
                found.lp_values, found.reduced_costs, found.lp_objective,
                np.asarray(lp.col_lower_), np.asarray(lp.col_upper_),
                instance.known_optimum)
            fixed += len(cols)
            h = highspy.Highs()
            for name, value in options.items():
                h.setOptionValue(name, value)
            h.passModel(lp)
            h.changeColsBounds(len(cols), cols, low, high)
            h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal, path
        value = h.getInfo().objective_function_value
        assert value == pytest.approx(instance.known_optimum, abs=1e-6), path
    assert fixed > 0
