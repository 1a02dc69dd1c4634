"""Benchmark runs, their SQLite history and the regression report."""

from __future__ import annotations

import sqlite3

import pytest

from optimizer import bench
from optimizer.cli import main


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "history.sqlite"
    first = bench.run_suite("tiny", path, bench.Options(time_limit=30), echo=False)
    second = bench.run_suite("tiny", path, bench.Options(time_limit=30), echo=False)
    return path, first, second


def _copy(src, tmp_path):
    dst = tmp_path / "h.sqlite"
    dst.write_bytes(src.read_bytes())
    return dst


def test_history_keeps_both_runs(history):
    path, first, second = history
    db = sqlite3.connect(path)
    runs = db.execute("SELECT id, suite, git_commit, machine, reference_seconds FROM runs"
                      ).fetchall()
    assert [r[0] for r in runs] == [first, second] and {r[1] for r in runs} == {"tiny"}
    assert all(r[4] > 0 for r in runs)
    rows = db.execute("SELECT instance, status, objective, known, gap_to_known, peak_mb, "
                      "sha256 FROM results WHERE run_id = ?", (second,)).fetchall()
    assert len(rows) == 8  # seven mknap1 problems and one generated program
    mknap1 = [r for r in rows if "mknap1" in r[0]]
    assert all(r[1] == "optimal" and r[4] == pytest.approx(0, abs=1e-9) for r in mknap1)
    assert all(r[5] > 10 and len(r[6]) == 64 for r in rows)
    proven = db.execute("SELECT known_proven FROM results WHERE run_id = ? AND instance LIKE "
                        "'%mknap1%'", (second,)).fetchall()
    assert {r[0] for r in proven} == {1}  # the mknap1 optima are proven in the literature


def test_equal_runs_are_not_flagged(history, tmp_path):
    path, _, _ = history
    code, report = bench.report(_copy(path, tmp_path), tmp_path / "out")
    text = report.read_text()
    assert code == 0, text
    assert "## Regressions\n\nnone" in text
    assert "7 of 7 instances with a published value reach it" in text
    assert (tmp_path / "out" / "gap.png").stat().st_size > 1000
    assert (tmp_path / "out" / "time.png").stat().st_size > 1000


@pytest.mark.parametrize("column,value,kind", [("objective", 3000.0, "objective"),
                                               ("termination", "time_limit", "proof"),
                                               ("status", "feasible", "status")])
def test_planted_regression_is_flagged(history, tmp_path, column, value, kind):
    path, _, second = history
    planted = _copy(path, tmp_path)
    db = sqlite3.connect(planted)
    db.execute(f"UPDATE results SET {column} = ? WHERE run_id = ? AND instance LIKE ?",
               (value, second, "%mknap1-00%"))
    db.commit()
    db.close()
    assert main(["bench", "report", "--history", str(planted), "--out",
                 str(tmp_path / "out")]) == 1
    text = (tmp_path / "out" / "report.md").read_text()
    assert f"**{kind}** OR-Library mknap1-00" in text


def test_unknown_suite_exits_2(tmp_path, capsys):
    assert main(["bench", "nosuch", "--history", str(tmp_path / "h.sqlite")]) == 2
    assert "unknown suite" in capsys.readouterr().err


def test_only_runs_the_matching_instances(tmp_path):
    path = tmp_path / "h.sqlite"
    run = bench.run_suite("tiny", path, bench.Options(time_limit=30), echo=False,
                          only="mknap1-0[35]")
    db = sqlite3.connect(path)
    assert db.execute("SELECT suite FROM runs WHERE id = ?", (run,)).fetchone() == (
        "tiny[mknap1-0[35]]",)
    names = [r[0] for r in db.execute("SELECT instance FROM results ORDER BY rowid")]
    assert len(names) == 2 and all("mknap1-0" in n for n in names), names
    assert main(["bench", "tiny", "--only", "nothing-*", "--history", str(path)]) == 2
