"""The package travels: shipped programs and OR-Library sets are package data, found by
name from any folder, and the licence ships with it."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import yaml

from optimizer.cli.main import main
from optimizer.program import shipped

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_package_data_is_reachable_through_importlib_resources():
    base = resources.files("optimizer.instances")
    for name in ("pilot/program.yaml", "pilot/projects.csv", "pilot/profiles.csv",
                 "pilot/SOURCES.md", "orlib/mknap1.txt", "orlib/mknap2.txt",
                 "orlib/mknapcb9.txt", "orlib/best_known.csv", "orlib/gk/gk01.dat",
                 "orlib/PROVENANCE.md"):
        node = base
        for part in name.split("/"):
            node = node / part
        assert node.is_file(), name


def test_every_shipped_file_is_declared_package_data():
    """What `pip install .` (not editable) copies: every file of instances/ must match a
    package-data pattern of optimizer.instances, or an installed copy would lack it."""
    tool = _pyproject()["tool"]["setuptools"]
    assert "optimizer.instances" in tool["packages"]
    assert tool["package-dir"]["optimizer.instances"] == "instances"
    patterns = tool["package-data"]["optimizer.instances"]
    folder = ROOT / "instances"
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    assert files
    missing = [f for f in files if f != "__init__.py" and
               not any(fnmatch.fnmatch(f, pat) and f.count("/") == pat.count("/")
                       for pat in patterns)]
    assert not missing, missing


def test_licence_matches_the_declared_one():
    project = _pyproject()["project"]
    assert project["license"] == "MIT"
    assert "LICENSE" in project["license-files"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2025-2026 The capital-portfolio-optimizer authors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text


def test_names_resolve_from_another_folder(tmp_path, monkeypatch):
    import optimizer

    monkeypatch.chdir(tmp_path)
    assert not Path("pilot").exists()
    pilot = shipped.resolve("pilot")
    assert pilot.is_file() and pilot.name == "program.yaml" and pilot.is_absolute()
    assert shipped.resolve("orlib/mknap1.txt").is_file()
    assert shipped.resolve("orlib/gk/gk01.dat").is_file()
    assert optimizer.load("pilot-v1").name == "US-Japan strategic investment program " \
                                           "(illustrative pilot)"
    # only the names `optimizer examples` lists: anything else, a path into the package
    # included, is returned as given, for the loader to report as missing
    for name in ("nosuch", "orlib/nosuch.txt", "../pilot", "/pilot", "orlib/../pilot",
                 "instances/__init__.py", "pilot/program.yaml", "instances/pilot/program.yaml",
                 "instances/orlib/gk/gk01.dat", "orlib/best_known.csv", "orlib/mkcbres.txt",
                 "orlib", "./pilot", "pilot/"):
        assert shipped.resolve(name) == Path(name), name
    for name in ("nosuch", "pilot/program.yaml", "instances/pilot/program.yaml"):
        with pytest.raises(optimizer.InstanceError, match="not found") as caught:
            optimizer.load(name)
        assert name in str(caught.value)


def test_an_existing_path_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("pilot").write_text("format: capital-portfolio/1\n", encoding="utf-8")
    assert shipped.resolve("pilot") == Path("pilot")
    Path("orlib").mkdir()
    assert shipped.resolve("orlib") == Path("orlib")


@pytest.mark.solver
def test_cli_solves_and_converts_shipped_names_from_another_folder(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["solve", "pilot-v1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "objective (total return, $B): 51.38" in out
    assert "296,020 " in out and "296,020.00" not in out
    assert main(["validate", "pilot"]) == 0
    assert "pilot: valid (24 projects" in capsys.readouterr().out
    assert main(["convert", "orlib", "orlib/mknap1.txt", "--out", "x"]) == 0
    written = capsys.readouterr().out.split()
    assert len(written) == 7 and all(Path(p).is_file() for p in written)
    doc = yaml.safe_load(Path(written[0]).read_text(encoding="utf-8"))
    assert doc["units"] == {"money": "units", "labor": "units"}
    assert doc["known_optimum"] == 3800


@pytest.mark.solver
def test_converted_knapsack_is_not_labelled_in_dollars(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "orlib", "orlib/mknap1.txt", "--out", "x"]) == 0
    first = capsys.readouterr().out.split()[0]
    assert main(["solve", first, "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "$B" not in out and "objective (total return, units): 3,800.00" in out


def test_examples_lists_and_copies(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert "pilot" in out and "orlib/mknap1.txt" in out and "orlib/gk/gk11.dat" in out
    assert "mkcbres" not in out and "__init__" not in out
    assert main(["examples", "pilot"]) == 0
    assert Path(capsys.readouterr().out.strip()) == shipped.resolve("pilot")
    assert main(["examples", "--copy", "mine"]) == 0
    assert Path(capsys.readouterr().out.strip()) == Path("mine/pilot/program.yaml")
    assert {p.name for p in Path("mine/pilot").iterdir()} == {
        "program.yaml", "projects.csv", "profiles.csv", "cash.csv", "SOURCES.md"}
    assert main(["validate", "mine/pilot/program.yaml"]) == 0
    assert main(["examples", "--copy", "mine"]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err
    assert main(["examples", "--copy", "sets", "orlib/mknap1.txt"]) == 0
    assert {p.name for p in Path("sets").iterdir()} == {"mknap1.txt", "best_known.csv"}
    for name in ("nosuch", "pilot/program.yaml", "orlib/best_known.csv"):
        assert main(["examples", "--copy", "sets", name]) == 2
        assert "not a shipped program or set" in capsys.readouterr().err
    assert main(["examples", "instances/pilot/program.yaml"]) == 2
