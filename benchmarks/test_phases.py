"""Each phase timed on its own, at every size: load, build, translate, solve; and the
whole run through this project's route next to the raw highspy reference, side by side
in the same session (compare their medians as a ratio, not against a fixed number).

Solver settings for every timed solve: one thread, relative gap 1e-4, presolve as the
project chooses it ("auto"); the raw reference uses the same presolve setting. The ``_v2``
cases measure the same phases on version-2 (part A) programs (``V2_SIZES``).
"""

from __future__ import annotations

import os

import pytest
from conftest import SIZES

from formulations import build
from optimizer import SolveOptions, load, solve
from optimizer.solving.highs import PRESOLVE_OFF_FROM, quiet_stdout, translate

OPTIONS = SolveOptions(threads=1, gap=1e-4, presolve="auto")
ROUNDS = 3


def _presolve(n: int) -> str:
    return "off" if n >= PRESOLVE_OFF_FROM else "on"


@pytest.mark.parametrize("n", SIZES)
def test_load(benchmark, program_files, n):
    instance = benchmark.pedantic(load, args=(program_files[n],), rounds=ROUNDS, iterations=1)
    assert instance.n_projects == n


@pytest.mark.parametrize("n", SIZES)
def test_build(benchmark, program_files, n):
    instance = load(program_files[n])
    pm = benchmark.pedantic(build, args=(instance,), rounds=ROUNDS, iterations=1)
    assert pm.columns.n_projects == n


@pytest.mark.parametrize("n", SIZES)
def test_translate(benchmark, program_files, n):
    pm = build(load(program_files[n]))
    lp = benchmark.pedantic(translate, args=(pm,), rounds=ROUNDS, iterations=1)
    assert lp.num_col_ >= n


@pytest.mark.parametrize("n", SIZES)
def test_translate_through_pyomo(benchmark, program_files, n):
    """The other translation: the model's Pyomo form built, then compiled by Pyomo's
    standard-form compiler (the route a model extended in Pyomo takes). Compare with
    ``test_translate``, which hands the row blocks to HiGHS directly."""
    instance = load(program_files[n])

    def run():
        return translate(build(instance), route="pyomo")

    lp = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert lp.num_col_ >= n


@pytest.mark.parametrize("n", SIZES)
def test_solve_only(benchmark, program_files, n):
    """HiGHS alone on the translated model (what no model layer can make faster)."""
    import highspy

    lp = translate(build(load(program_files[n])))

    def run():
        with quiet_stdout():
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            for name, value in (("threads", 1), ("mip_rel_gap", 1e-4),
                                ("presolve", _presolve(n)), ("random_seed", 0)):
                h.setOptionValue(name, value)
            h.passModel(lp)
            h.run()
            return h.getModelStatus()

    status = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert status == highspy.HighsModelStatus.kOptimal


@pytest.mark.parametrize("n", SIZES)
def test_route_project(benchmark, program_files, n):
    """File to checked plan through this project (load, build, translate, solve, check)."""
    result = benchmark.pedantic(solve, args=(program_files[n], OPTIONS), rounds=ROUNDS,
                                iterations=1)
    assert result.valid
    benchmark.extra_info["objective"] = result.objective


@pytest.mark.parametrize("n", SIZES)
def test_route_raw_highspy(benchmark, program_files, n):
    """The reference: the same file read, built with numpy and solved with raw highspy."""
    from raw_highspy import solve_file

    out = benchmark.pedantic(solve_file, args=(program_files[n],),
                             kwargs={"threads": 1, "gap": 1e-4, "presolve": _presolve(n)},
                             rounds=ROUNDS, iterations=1)
    assert out["objective"] is not None
    benchmark.extra_info["objective"] = out["objective"]


# ------------------------------------------------------------------ version 2 (part A)
#: sizes of the version-2 programs (``optimizer generate --format 2``): start windows,
#: cash flows and the waterfall, NPV objective, per-project hurdle, recycled budget.
#: BENCH_V2_SIZES picks them (default: the sizes of BENCH_SIZES).
V2_SIZES = [int(s) for s in os.environ.get(
    "BENCH_V2_SIZES", ",".join(str(n) for n in SIZES)).split(",") if s]


@pytest.fixture(scope="session")
def program_files_v2(tmp_path_factory):
    """{size: path} of generated 10-year version-2 programs, written once per session."""
    from optimizer.program.generate import write
    from optimizer.program.generate_v2 import generate_v2

    root = tmp_path_factory.mktemp("programs_v2")
    return {n: write(generate_v2(n, years=10, seed=2026), root / f"n{n}") for n in V2_SIZES}


@pytest.mark.parametrize("n", V2_SIZES)
def test_load_v2(benchmark, program_files_v2, n):
    instance = benchmark.pedantic(load, args=(program_files_v2[n],), rounds=ROUNDS,
                                  iterations=1)
    assert instance.n_projects == n


@pytest.mark.parametrize("n", V2_SIZES)
def test_build_v2(benchmark, program_files_v2, n):
    instance = load(program_files_v2[n])
    pm = benchmark.pedantic(build, args=(instance,), rounds=ROUNDS, iterations=1)
    assert pm.columns.n_projects == n


@pytest.mark.parametrize("n", V2_SIZES)
def test_translate_v2(benchmark, program_files_v2, n):
    pm = build(load(program_files_v2[n]))
    lp = benchmark.pedantic(translate, args=(pm,), rounds=ROUNDS, iterations=1)
    assert lp.num_col_ >= n


@pytest.mark.parametrize("n", V2_SIZES)
def test_solve_only_v2(benchmark, program_files_v2, n):
    """HiGHS alone on the translated version-2 model."""
    import highspy

    lp = translate(build(load(program_files_v2[n])))

    def run():
        with quiet_stdout():
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            for name, value in (("threads", 1), ("mip_rel_gap", 1e-4),
                                ("presolve", _presolve(n)), ("random_seed", 0)):
                h.setOptionValue(name, value)
            h.passModel(lp)
            h.run()
            return h.getModelStatus()

    status = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert status == highspy.HighsModelStatus.kOptimal


@pytest.mark.parametrize("n", V2_SIZES)
def test_route_project_v2(benchmark, program_files_v2, n):
    """A version-2 file to checked plan through this project."""
    result = benchmark.pedantic(solve, args=(program_files_v2[n], OPTIONS), rounds=ROUNDS,
                                iterations=1)
    assert result.valid
    benchmark.extra_info["objective"] = result.objective


@pytest.mark.parametrize("n", V2_SIZES)
def test_route_raw_highspy_v2(benchmark, program_files_v2, n):
    """The reference on the version-2 file: one column per project and start year, the
    waterfall vectorised over them, built with numpy and solved with raw highspy."""
    from raw_highspy import solve_file

    out = benchmark.pedantic(solve_file, args=(program_files_v2[n],),
                             kwargs={"threads": 1, "gap": 1e-4, "presolve": _presolve(n)},
                             rounds=ROUNDS, iterations=1)
    assert out["objective"] is not None
    benchmark.extra_info["objective"] = out["objective"]
