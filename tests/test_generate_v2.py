"""The synthetic generator in format version 2 (part A): same seed, same bytes; written to
the format's text; feasible, with a budget that binds; and version 1 unchanged.

Feasibility and the binding budget are checked with the raw highspy reference
(``benchmarks/raw_highspy.py``, itself checked against enumeration in
``test_raw_highspy_v2.py``); the project's own loader and solver are asked too, once they
read the part-A fields.
"""

from __future__ import annotations

import filecmp
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from optimizer.cli.main import main
from optimizer.program import vocabulary
from optimizer.program.generate import generate, write
from optimizer.program.generate_v2 import generate_v2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import raw_highspy  # noqa: E402

V2 = "capital-portfolio/2"
PART_A = ["earliest_start", "latest_start", "annual_cash", "operating_years", "loss_rate",
          "deemed_rate"]

#: sha256 of files written by the version-1 generator before version 2 was added
V1_BYTES = {
    (300, 5, 10): {
        "profiles.csv": "b79c0654d7053493c7299061f08620484bdc40d3cd64cf5086e93aa80c56f4f7",
        "program.yaml": "236a238c25049be95e6b76fba9a3505c06cfcc11d87d2de9401ff9f8b3dce0b4",
        "projects.csv": "3f127a9a4ddafc7b9b65b2c6b3b30894f4dd5fefb4c45408ab6febe354df91c8"},
    (20, 0, 10): {
        "program.yaml": "132332e034222f5b8a8224db626c66b6f045801c2c47777175c7069ed451511a",
        "projects.csv": "9504be935f24e462b5c222f5cec936091456e8a1af03e787a5ff4d09fb20b035"},
    (5, 1, 3): {
        "program.yaml": "a4bdcf217c60fb3ab21f2939af02974bc980964c1959dc8d5fb207e4e7eeca01",
        "projects.csv": "3f989734e942ad22df989ab78490500ee58bc8e8687f0f7c3e28e317ce0ace7a"},
}


def _loader_reads_part_a() -> bool:
    return ({"earliest_start", "annual_cash"} <= set(vocabulary.PROJECTS.names(2))
            and {"economics", "cash_flows"} <= set(vocabulary.PROGRAM.names(2)))


def _tables(path: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    doc = yaml.safe_load(path.read_text())
    folder = path.parent
    projects = pd.read_csv(folder / doc["projects"], dtype={"id": str, "force": str})
    profiles = (pd.read_csv(folder / doc["profiles"]) if "profiles" in doc
                else pd.DataFrame(columns=["project", "year", "capital", "labor"]))
    cash = (pd.read_csv(folder / doc["cash_flows"], dtype={"project": str})
            if "cash_flows" in doc else pd.DataFrame(columns=["project", "offset", "cash"]))
    return doc, projects, profiles, cash


# ------------------------------------------------------------------ version 1 kept
@pytest.mark.parametrize("key", sorted(V1_BYTES))
def test_version_1_writes_the_bytes_it_wrote_before(tmp_path, key):
    n, seed, years = key
    assert main(["generate", "--projects", str(n), "--seed", str(seed), "--years", str(years),
                 "--format", "1", "--out", str(tmp_path / "cli")]) == 0
    write(generate(n, years=years, seed=seed), tmp_path / "api")
    for folder in ("cli", "api"):
        names = sorted(p.name for p in (tmp_path / folder).iterdir())
        assert names == sorted(V1_BYTES[key])
        for name in names:
            digest = hashlib.sha256((tmp_path / folder / name).read_bytes()).hexdigest()
            assert digest == V1_BYTES[key][name], (folder, name)


def test_the_format_flag_refuses_other_versions(tmp_path, capsys):
    assert main(["generate", "--projects", "20", "--format", "3",
                 "--out", str(tmp_path / "g")]) == 2
    assert "--format" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("args", [dict(n_projects=0), dict(n_projects=5, years=202),
                                  dict(n_projects=5, years=10, first_year=2192),
                                  dict(n_projects=True)])
def test_version_2_refuses_what_version_1_refuses(args):
    from optimizer.errors import UsageError

    with pytest.raises(UsageError):
        generate_v2(**args)


# ------------------------------------------------------------- version 2: the bytes
def test_version_2_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["generate", "--projects", "300", "--seed", "5", "--format", "2",
                 "--out", str(a)]) == 0
    write(generate_v2(300, seed=5), b)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert {"program.yaml", "projects.csv", "profiles.csv", "cash.csv"} <= set(names)
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in names)
    write(generate_v2(300, seed=6), tmp_path / "c")
    assert not filecmp.cmp(a / "projects.csv", tmp_path / "c" / "projects.csv",
                           shallow=False)


def test_version_2_has_the_projects_of_version_1(tmp_path):
    """The same draws: ids, sectors, capital and nominal profiles are version 1's."""
    one, two = generate(500, seed=9), generate_v2(500, seed=9)
    for column in ("id", "name", "sector", "build_years", "labor", "max_units"):
        pd.testing.assert_series_equal(one.projects[column], two.projects[column])
    given = one.projects["capital"].notna() & two.projects["capital"].notna()
    assert given.mean() > 0.9       # a profiled project may leave it out, in either
    assert (one.projects["capital"][given] == two.projects["capital"][given]).all()
    pd.testing.assert_frame_equal(one.profiles, two.profiles)
    assert list(two.projects.columns) == list(one.projects.columns) + PART_A


# ----------------------------------------------------- version 2: the format's text
@pytest.mark.parametrize("n,years,seed,first", [
    (20, 10, 0, 2026), (300, 10, 5, 2026), (3000, 10, 2026, 2026), (400, 1, 1, 2200),
    (400, 3, 2, 2026), (400, 201, 3, 1900), (1, 10, 4, 2026)])
def test_version_2_follows_part_a(tmp_path, n, years, seed, first):
    path = write(generate_v2(n, years=years, seed=seed, first_year=first), tmp_path)
    doc, projects, profiles, cash = _tables(path)
    assert doc["format"] == V2 and len(projects) == n
    lo, hi = doc["horizon"]
    assert (lo, hi) == (first, first + years - 1)
    assert lo <= doc["commitment_deadline"] <= hi
    assert doc["economics"] == {"base_year": lo, "discount_rate": 0.05, "deemed_rate": 0.055,
                                "split": {"before": 0.5, "after": 0.1}, "objective": "npv"}
    assert doc["project_hurdle"] == {"irr": 0.06, "recover_within": 20}
    assert doc["budget"]["recycle"] is True and doc["budget"]["total"] > 0
    assert set(doc["budget"]["per_year"]) == set(doc["labor"]["capacity"]) == set(
        range(lo, hi + 1))
    # nominal starts, and windows of at most three years inside the horizon
    nominal = projects["start"].copy()
    first_profile = profiles.groupby("project")["year"].min()
    blank = nominal.isna()
    nominal[blank] = projects.loc[blank, "id"].map(first_profile)
    assert nominal.notna().all()
    earliest = projects["earliest_start"].fillna(nominal)
    latest = projects["latest_start"].fillna(nominal)
    assert ((lo <= earliest) & (earliest <= latest) & (latest <= hi)).all()
    assert (latest - earliest <= 2).all() and (earliest <= nominal).all() \
        and (nominal <= latest).all()
    if n >= 300 and years >= 3:
        assert (latest > earliest).mean() > 0.4
    # cash: a pair of columns or a table, never both; loss and deemed rates in range
    annual = projects["annual_cash"].notna()
    assert (annual == projects["operating_years"].notna()).all()
    assert (projects.loc[annual, "operating_years"] >= 1).all()
    assert (projects.loc[annual, "annual_cash"] > 0).all()
    tabled = projects["id"].isin(cash["project"])
    assert not (annual & tabled).any()
    assert (cash["offset"] >= 0).all() and (cash["offset"] % 1 == 0).all()
    assert (cash["cash"] > 0).all()
    loss = projects["loss_rate"].dropna()
    assert ((0 <= loss) & (loss < 1)).all()
    assert ((0 <= projects["deemed_rate"].dropna()) & (projects["deemed_rate"].dropna() < 1)
            ).all()
    if n >= 300:
        assert 0.75 < annual.mean() < 0.95 and 0.05 < tabled.mean() < 0.15
        assert projects["loss_rate"].notna().any() and projects["deemed_rate"].notna().any()
    for dep in doc.get("dependencies", []):
        if dep["type"] == "requires" and "lag" in dep:
            assert dep["lag"] in (0, 1, 2)
    if n >= 300:
        assert any("lag" in d for d in doc["dependencies"])
        assert any(d["type"] == "requires" and "lag" not in d for d in doc["dependencies"])


def test_the_options_leave_the_hurdle_and_recycling_out():
    plain = generate_v2(200, seed=1, project_hurdle=False, recycle=False).program
    assert "project_hurdle" not in plain and "recycle" not in plain["budget"]
    full = generate_v2(200, seed=1).program
    assert full["project_hurdle"] and full["budget"]["recycle"] is True


@pytest.mark.slow
def test_version_2_at_the_largest_size():
    program = generate_v2(100_000, seed=2026)
    assert len(program.projects) == 100_000 and len(program.cash_flows) > 0
    assert program.program["budget"]["total"] > 0


# --------------------------------------------- version 2: feasible, the budget binds
def _solve(path: Path, limit: float = 60.0) -> dict:
    return raw_highspy.solve_file(path, time_limit=limit, gap=1e-4, presolve="on")


@pytest.mark.solver
@pytest.mark.parametrize("n,seed", [(1, 0), (5, 1), (20, 0), (20, 2026), (60, 3), (100, 7),
                                    pytest.param(300, 5, marks=pytest.mark.slow)])
def test_version_2_is_feasible_and_its_budget_binds(tmp_path, n, seed):
    path = write(generate_v2(n, seed=seed), tmp_path / "p")
    out = _solve(path)
    assert out["status"] in ("optimal", "feasible"), out
    doc, projects, _profiles, _cash = _tables(path)
    lp, layout = raw_highspy.build_lp(*raw_highspy.read_program(path))
    startable = np.unique(layout["project"])
    forced = np.flatnonzero(projects["force"].fillna("").to_numpy() == "in")
    assert np.isin(forced, startable).all()        # every forced project can start
    funded = out["units"] > 0
    if n < 20:
        return
    assert 0 < funded.sum() < len(startable)
    if n < 60:                      # a handful of lumpy projects: other limits bind first
        return
    # without the budget, a better plan: the budget binds
    free = tmp_path / "free"
    shutil.copytree(path.parent, free)
    doc["budget"].pop("total")
    doc["budget"].pop("recycle")
    (free / "program.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    loose = _solve(free / "program.yaml")
    assert loose["status"] in ("optimal", "feasible")
    assert loose["objective"] > out["objective"] * 1.002 + 1e-6, (loose, out)  # > the gaps


# ------------------------------------------------------ the project's own loader
@pytest.mark.skipif(not _loader_reads_part_a(), reason="the loader does not read part A yet")
@pytest.mark.parametrize("n,seed", [(20, 0), (300, 5)])
def test_the_loader_accepts_version_2(tmp_path, n, seed):
    from optimizer import load

    instance = load(write(generate_v2(n, seed=seed), tmp_path))
    assert instance.n_projects == n


@pytest.mark.solver
@pytest.mark.skipif(not _loader_reads_part_a(), reason="the loader does not read part A yet")
@pytest.mark.parametrize("n,seed", [(20, 0), (20, 2026), (60, 3)])
def test_the_project_and_the_reference_agree_on_version_2(tmp_path, n, seed):
    from optimizer import SolveOptions, solve

    path = write(generate_v2(n, seed=seed), tmp_path)
    ours = solve(path, SolveOptions(threads=1, gap=0.0, time_limit=60))
    raw = raw_highspy.solve_file(path, time_limit=60, gap=0.0, presolve="on")
    assert ours.status == raw["status"] == "optimal"
    assert ours.objective == pytest.approx(raw["objective"], rel=1e-6, abs=1e-6)
