"""Each phase timed on its own, at every size: load, build, translate, solve; and the
whole run through this project's route next to the raw highspy reference, side by side
in the same session (compare their medians as a ratio, not against a fixed number).

Solver settings for every timed solve: one thread, relative gap 1e-4, presolve as the
project chooses it ("auto"); the raw reference uses the same presolve setting. Every
phase runs on version-1 programs (``optimizer generate``, ``BENCH_SIZES``) and on
version-2 part-A programs (``optimizer generate --format 2``: start windows, cash flows
and the waterfall, the NPV objective, the per-project hurdle, a recycled budget;
``BENCH_V2_SIZES``, by default the same sizes): a case is ``v1-20000`` or ``v2-20000``.
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


#: sizes of the version-2 programs; BENCH_V2_SIZES picks them (default: BENCH_SIZES')
V2_SIZES = [int(s) for s in os.environ.get(
    "BENCH_V2_SIZES", ",".join(str(n) for n in SIZES)).split(",") if s]
#: every case: (format version, projects)
CASES = [(1, n) for n in SIZES] + [(2, n) for n in V2_SIZES]
IDS = [f"v{v}-{n}" for v, n in CASES]


@pytest.fixture(scope="session")
def programs(program_files, tmp_path_factory):
    """{(version, size): path}: the version-1 programs and, written once per session,
    generated 10-year version-2 programs."""
    from optimizer.program.generate import write
    from optimizer.program.generate_v2 import generate_v2

    root = tmp_path_factory.mktemp("programs_v2")
    out = {(1, n): path for n, path in program_files.items()}
    for n in V2_SIZES:
        out[2, n] = write(generate_v2(n, years=10, seed=2026), root / f"n{n}")
    return out


def cases(test):
    return pytest.mark.parametrize("version,n", CASES, ids=IDS)(test)


@cases
def test_load(benchmark, programs, version, n):
    instance = benchmark.pedantic(load, args=(programs[version, n],), rounds=ROUNDS,
                                  iterations=1)
    assert instance.n_projects == n


@cases
def test_build(benchmark, programs, version, n):
    instance = load(programs[version, n])
    pm = benchmark.pedantic(build, args=(instance,), rounds=ROUNDS, iterations=1)
    assert pm.columns.n_projects == n


@cases
def test_translate(benchmark, programs, version, n):
    pm = build(load(programs[version, n]))
    lp = benchmark.pedantic(translate, args=(pm,), rounds=ROUNDS, iterations=1)
    assert lp.num_col_ >= (n if version == 1 else 1)


@cases
def test_translate_through_pyomo(benchmark, programs, version, n):
    """The other translation: the model's Pyomo form built, then compiled by Pyomo's
    standard-form compiler (the route a model extended in Pyomo takes). Compare with
    ``test_translate``, which hands the row blocks to HiGHS directly."""
    instance = load(programs[version, n])

    def run():
        return translate(build(instance), route="pyomo")

    lp = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert lp.num_col_ >= (n if version == 1 else 1)


@cases
def test_solve_only(benchmark, programs, version, n):
    """HiGHS alone on the translated model (what no model layer can make faster)."""
    import highspy

    lp = translate(build(load(programs[version, n])))

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


@cases
def test_route_project(benchmark, programs, version, n):
    """File to checked plan through this project (load, build, translate, solve, check)."""
    result = benchmark.pedantic(solve, args=(programs[version, n], OPTIONS), rounds=ROUNDS,
                                iterations=1)
    assert result.valid
    benchmark.extra_info["objective"] = result.objective


@cases
def test_route_raw_highspy(benchmark, programs, version, n):
    """The reference: the same file read, built with numpy and solved with raw highspy
    (version 2: one column per project and start year, the waterfall vectorised)."""
    from raw_highspy import solve_file

    out = benchmark.pedantic(solve_file, args=(programs[version, n],),
                             kwargs={"threads": 1, "gap": 1e-4, "presolve": _presolve(n)},
                             rounds=ROUNDS, iterations=1)
    assert out["objective"] is not None
    benchmark.extra_info["objective"] = out["objective"]
