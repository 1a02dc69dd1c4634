"""Benchmark runs, their SQLite history and the regression report."""

from __future__ import annotations

import sqlite3

import pytest

from optimizer import bench
from optimizer.cli.main import main
from tests.helpers import patch_atomic_write


#: Runs the tiny suite twice (HiGHS, some 20 s): every test that takes it is marked solver
#: and slow, since whichever of them runs first pays for it.
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


@pytest.mark.solver
@pytest.mark.slow
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


@pytest.mark.solver
@pytest.mark.slow
def test_equal_runs_are_not_flagged(history, tmp_path):
    path, _, _ = history
    code, report = bench.report(_copy(path, tmp_path), tmp_path / "out")
    text = report.read_text()
    assert code == 0, text
    assert "## Regressions\n\nnone" in text
    assert "7 of 7 instances with a published value reach it" in text
    for name in ("gap.png", "time.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.solver
@pytest.mark.slow
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


@pytest.mark.solver
@pytest.mark.slow
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


def test_report_without_history_exits_2_and_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "report"]) == 2
    err = capsys.readouterr().err
    assert "no benchmark history at bench-history.sqlite yet" in err
    assert "run `optimizer bench SUITE` first" in err
    assert list(tmp_path.iterdir()) == []  # no history file, no report folder
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")  # what an older version left behind
    assert main(["bench", "report", "--history", str(empty), "--out", "r"]) == 2
    assert "no benchmark history" in capsys.readouterr().err
    assert empty.stat().st_size == 0 and not (tmp_path / "r").exists()
    (tmp_path / "junk.sqlite").write_text("not a database")
    assert main(["bench", "report", "--history", "junk.sqlite"]) == 2
    assert "--history junk.sqlite" in capsys.readouterr().err


@pytest.mark.solver
@pytest.mark.slow
def test_bench_paths_are_checked_before_any_work(tmp_path, capsys, history):
    path, _, _ = history
    (tmp_path / "file").write_text("x")
    code = main(["bench", "report", "--history", str(_copy(path, tmp_path)),
                 "--out", str(tmp_path / "file")])
    assert code == 2 and "--out" in capsys.readouterr().err
    assert main(["bench", "tiny", "--history", str(tmp_path / "nodir" / "h.sqlite")]) == 2
    err = capsys.readouterr().err  # refused at once: before the reference solves
    assert "--history" in err and "does not exist" in err
    assert not (tmp_path / "nodir").exists()
    assert main(["bench", "tiny", "--history", str(tmp_path)]) == 2  # a folder
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.solver
@pytest.mark.slow
def test_report_flags_runs_with_different_options(history, tmp_path):
    path, _, second = history
    planted = _copy(path, tmp_path)
    db = sqlite3.connect(planted)
    db.execute("UPDATE runs SET options = ? WHERE id = ?",
               ('{"time_limit": 5.0, "threads": 2, "gap": 0.0001}', second))
    db.commit()
    db.close()
    _, report = bench.report(planted, tmp_path / "out")
    text = report.read_text()
    assert "**Warning: the two runs compared used different options**" in text
    assert "threads 1 -> 2" in text and "time_limit 30 -> 5.0" in text
    _, report = bench.report(_copy(path, tmp_path), tmp_path / "same")
    assert "different options" not in report.read_text()


@pytest.mark.solver
@pytest.mark.slow
def test_report_has_per_set_and_per_instance_tables_and_charts(history, tmp_path):
    path, _, _ = history
    _, report = bench.report(_copy(path, tmp_path), tmp_path / "out")
    text = report.read_text()
    assert "## Per set" in text and "| mknap1 | 7 | 7 | 7 (7) |" in text
    assert "| generated-20 | 1 | 0 |" in text
    rows = [line for line in text.splitlines() if line.startswith("| OR-Library mknap1-")
            or line.startswith("| US-Japan")]
    assert len(rows) == 8  # every instance, each once
    import matplotlib.image

    for name in ("gap.png", "time.png"):
        png = tmp_path / "out" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width, _ = matplotlib.image.imread(png).shape
        assert (width, height) == (1100, 770)  # 10 x 7 inches at 110 dpi
        assert f"]({name})" in text


# ------------------------------------------------------- a failed write: exit 2
@pytest.mark.solver
@pytest.mark.slow
def test_a_failed_chart_or_report_write_exits_2_naming_the_file(history, tmp_path, capsys,
                                                                 monkeypatch):
    import errno

    import optimizer.results.result

    path, _, _ = history
    planted = _copy(path, tmp_path)
    real = optimizer.results.result.atomic_write

    def full(target, data):
        if str(target).endswith(failing):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(target, data)

    patch_atomic_write(monkeypatch, full)
    for failing in ("gap.png", "time.png", "report.md"):
        out = tmp_path / f"out-{failing}"
        assert main(["bench", "report", "--history", str(planted), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"could not write {out / failing}: No space left on device" in err, err
        assert "internal error" not in err


class _FullDisk:
    """A SQLite connection whose inserts of results fail as on a full disk."""

    def __init__(self, db):
        self.db = db

    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO results"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_a_failed_history_write_exits_2_naming_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "_solve", lambda path, opts: (
        {"status": "optimal", "termination": "optimal", "instance": {"name": path.parent.name}},
        1.0, 0))
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _FullDisk(connect(*a, **k)))
    history = tmp_path / "h.sqlite"
    assert main(["bench", "tiny", "--history", str(history)]) == 2
    err = capsys.readouterr().err
    assert f"could not write {history}: database or disk is full" in err, err
    assert "internal error" not in err


# ------------------------------------------- a failed write leaves nothing it made
@pytest.mark.solver
@pytest.mark.slow
def test_a_failed_report_removes_the_folder_it_made_and_keeps_others(history, tmp_path,
                                                                     capsys, monkeypatch):
    import errno


    path, _, _ = history
    planted = _copy(path, tmp_path)

    def full(target, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    patch_atomic_write(monkeypatch, full)
    made = tmp_path / "made" / "rep"
    assert main(["bench", "report", "--history", str(planted), "--out", str(made)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not (tmp_path / "made").exists()
    there = tmp_path / "there"
    there.mkdir()
    (there / "report.md").write_text("an older report")
    assert main(["bench", "report", "--history", str(planted), "--out", str(there)]) == 2
    capsys.readouterr()
    assert (there / "report.md").read_text() == "an older report"


def test_a_failed_history_write_removes_the_history_it_made(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "_solve", lambda path, opts: (
        {"status": "optimal", "termination": "optimal", "instance": {"name": path.parent.name}},
        1.0, 0))

    def full(db):
        raise sqlite3.OperationalError("database or disk is full")

    history = tmp_path / "h.sqlite"
    monkeypatch.setattr(bench, "_migrate", full)
    assert main(["bench", "tiny", "--history", str(history)]) == 2
    assert "database or disk is full" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setattr(bench, "_solve", lambda path, opts: (
        {"status": "optimal", "termination": "optimal", "instance": {"name": path.parent.name}},
        1.0, 0))
    assert main(["bench", "tiny", "--history", str(history), "--only", "generated-*"]) == 0
    before = history.read_bytes()
    monkeypatch.setattr(bench, "_migrate", full)
    assert main(["bench", "tiny", "--history", str(history)]) == 2  # it existed: kept
    capsys.readouterr()
    assert history.read_bytes() == before


# ----------------------------------------------------------------- console and names
@pytest.mark.slow
def test_only_matches_a_set_or_an_instance_and_lists_the_names(tmp_path):
    work = tmp_path / "work"
    assert len(bench._instances("smoke", work / "a", "mknap2*")) == 48
    assert len(bench._instances("smoke", work / "b", "mknap1")) == 7
    assert [p.parent.name for _, p in bench._instances("smoke", work / "c", "WEISH1?")] == \
        [f"WEISH1{i}" for i in range(10)]
    assert [s for s, _ in bench._instances("smoke", work / "d", "generated-200")] == \
        ["generated-200"]
    with pytest.raises(bench.UsageError) as caught:
        bench._instances("smoke", work / "e", "nothing*")
    message = str(caught.value)
    for name in ("mknap1 (7 instances: mknap1-00 ... mknap1-06)",
                 "mknap2 (48 instances: SENTO1 ... HP2)", "generated-20;", "generated-2000"):
        assert name in message, message
    assert not (work / "e" / "generated-2000").exists()  # named, never generated


def test_the_console_names_each_instance_by_its_bench_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "_solve", lambda path, opts: (
        {"status": "optimal", "termination": "optimal", "objective": 16537.0,
         "known_optimum": 16537.0, "timings": {"total": 0.5},
         "instance": {"name": "US-Japan strategic investment program (synthetic optimal "
                              "with a long name)"}}, 1.0, 0))
    bench.run_suite("tiny", tmp_path / "h.sqlite", echo=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [f"mknap1-0{i}" for i in range(7)] + \
        ["generated-20"]
    assert all("objective 16,537.00 gap-to-known 0.0000%" in line for line in lines), lines


@pytest.mark.solver
@pytest.mark.slow
def test_the_report_formats_money_as_solve_does_and_ends_its_last_line(history, tmp_path):
    path, _, _ = history
    _, report = bench.report(_copy(path, tmp_path), tmp_path / "out")
    text = report.read_text()
    assert text.endswith("\n") and not text.endswith("\n\n")
    row = next(line for line in text.splitlines() if line.startswith("| OR-Library mknap1-00"))
    assert "| 3,800.00 | 3,800.00 |" in row, row
