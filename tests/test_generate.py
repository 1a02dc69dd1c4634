"""The synthetic generator: same seed, same bytes; every size feasible and checked."""

from __future__ import annotations

import filecmp

import pytest
from helpers import solve_checked

from optimizer.cli.main import main
from optimizer.program.generate import generate, write


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["generate", "--projects", "300", "--seed", "5", "--out", str(a)]) == 0
    write(generate(300, seed=5), b)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and "program.yaml" in names
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in names)
    write(generate(300, seed=6), tmp_path / "c")
    assert not filecmp.cmp(a / "projects.csv", tmp_path / "c" / "projects.csv", shallow=False)


@pytest.mark.solver
@pytest.mark.parametrize("n,seed", [(1, 0), (5, 1), (20, 2), (60, 3),
                                    pytest.param(400, 4, marks=pytest.mark.slow)])
def test_generated_programs_are_feasible(tmp_path, n, seed):
    from optimizer import SolveOptions

    result = solve_checked(write(generate(n, seed=seed), tmp_path),
                           SolveOptions(threads=1, gap=1e-4, time_limit=60))
    assert result.status in ("optimal", "feasible")


# -------------------------------------- the flags bounded by optimizer.limits (issue 13)
@pytest.mark.parametrize("flags,named", [
    (["--projects", "1000000000000"], "--projects"),
    (["--projects", "0"], "--projects"),
    (["--projects", "20", "--years", "300"], "--years"),
    (["--projects", "20", "--first-year", "1800"], "--first-year"),
    (["--projects", "20", "--first-year", "2201"], "--first-year"),
])
def test_generate_flags_outside_the_format_exit_2_naming_the_flag(tmp_path, capsys, flags,
                                                                  named):
    out = tmp_path / "g"
    assert main(["generate", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"argument {named}:" in err and "Traceback" not in err
    assert not out.exists()


def test_generate_horizon_past_the_last_year_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "g"
    code = main(["generate", "--projects", "20", "--first-year", "2195", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "--first-year" in err and "2200" in err, err
    assert not (out / "program.yaml").exists()


@pytest.mark.parametrize("args", [
    dict(n_projects=10**12), dict(n_projects=0), dict(n_projects=5, years=202),
    dict(n_projects=5, first_year=1899), dict(n_projects=5, years=10, first_year=2192),
    dict(n_projects=5.0), dict(n_projects=True),
])
def test_generate_refuses_arguments_the_loader_would_refuse(args):
    from optimizer.errors import UsageError
    from optimizer.limits import MAX_PROJECTS

    assert MAX_PROJECTS == 10_000_000
    with pytest.raises(UsageError):
        generate(**args)


@pytest.mark.parametrize("years,first", [(201, 1900), (10, 2191), (1, 2200), (2, 2199)])
def test_generate_at_the_edges_of_the_years_loads(tmp_path, years, first):
    from optimizer import load

    instance = load(write(generate(400, years=years, seed=years, first_year=first),
                          tmp_path))
    assert (instance.first_year, instance.last_year) == (first, first + years - 1)
    assert instance.profiles["year"].max() <= 2200
