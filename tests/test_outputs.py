"""No result is lost: output paths are checked before any work, a failed write at the end
still prints the result and exits 2 naming the file, and written files get the umask's
mode (issue 13, section 3)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from helpers import small

import optimizer.pipeline
import optimizer.program.loading
import optimizer.whatif.sweeps
from optimizer.cli.main import main
from optimizer.errors import UsageError
from optimizer.results.result import atomic_write, check_output, check_output_dir, current_umask
from tests.helpers import patch_atomic_write


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process's umask for a test, and restore it after."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(saved)


@pytest.fixture
def no_solve(monkeypatch):
    """Fail the test if anything is loaded or solved."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the program was loaded or solved before the paths were checked")

    monkeypatch.setattr(optimizer.pipeline, "solve", refuse)
    monkeypatch.setattr(optimizer.whatif.sweeps, "sweep", refuse)
    monkeypatch.setattr(optimizer.program.loading, "load", refuse)


# ------------------------------------------------------------ checked before any work
@pytest.mark.parametrize("name,reason", [
    ("nodir/plan.csv", "does not exist"),
    ("plan.txt", "must end in .json or .csv"),
    ("adir", "is a folder"),
    ("afile/plan.json", "is not a folder"),
])
def test_solve_out_is_checked_before_solving(tmp_path, capsys, no_solve, name, reason):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    out = tmp_path / name
    assert main(["solve", str(tmp_path / "program.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}" in err and reason in err, err
    assert "internal error" not in err


@pytest.mark.parametrize("flag,name,reason", [
    ("--out", "nodir/points.csv", "does not exist"),
    ("--out", "points.png", "must end in .json or .csv"),
    ("--plot", "nodir/frontier.png", "does not exist"),
    ("--plot", "frontier.svg", "must end in .png"),
    ("--frequency-plot", "nodir/f.png", "does not exist"),
    ("--frequency-plot", "adir", "is a folder"),
])
def test_sweep_outputs_are_checked_before_loading(tmp_path, capsys, no_solve, flag, name,
                                                  reason):
    (tmp_path / "adir").mkdir()
    out = tmp_path / name
    code = main(["sweep", str(tmp_path / "missing.yaml"), "--budget", "5,10", flag, str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{flag} {out}" in err and reason in err, err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions (root may write anywhere)")
def test_an_unwritable_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="not writable"):
            check_output(folder / "plan.json", "--out", (".json",))
    finally:
        folder.chmod(0o755)


def test_generate_out_must_be_a_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["generate", "--projects", "3", "--out", str(tmp_path / "file")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert main(["generate", "--projects", "3", "--out", str(tmp_path / "file" / "sub")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    check_output_dir(tmp_path / "new" / "deeper", "--out")  # created on writing: fine


# ------------------------------------------------------- a failed write at the end
def _remove_folder_after(monkeypatch, module, name, folder: Path) -> None:
    """Make ``module.name`` (the solve or the sweep) remove ``folder`` once it has run:
    the folder existed when the paths were checked and is gone when they are written."""
    real = getattr(module, name)

    def run_then_remove(*args, **kwargs):
        out = real(*args, **kwargs)
        shutil.rmtree(folder)
        return out

    monkeypatch.setattr(module, name, run_then_remove)


@pytest.mark.solver
def test_solve_prints_the_result_when_the_folder_vanishes(tmp_path, capsys, monkeypatch):
    path = small(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    _remove_folder_after(monkeypatch, optimizer.pipeline, "solve", folder)
    code = main(["solve", str(path), "--json", "--out", str(folder / "plan.json")])
    captured = capsys.readouterr()
    assert code == 2
    data = json.loads(captured.out)  # the whole result, on standard output
    assert data["status"] == "optimal"
    assert f"optimizer: could not write {folder / 'plan.json'}: " in captured.err
    assert "No such file or directory" in captured.err
    assert "internal error" not in captured.err


@pytest.mark.solver
def test_solve_text_summary_survives_a_full_disk(tmp_path, capsys, monkeypatch):
    path = small(tmp_path)
    real_write = os.write

    def full(fd, data):
        if fd in (1, 2):
            return real_write(fd, data)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    out = tmp_path / "plan.csv"
    code = main(["solve", str(path), "--out", str(out)])
    monkeypatch.undo()
    captured = capsys.readouterr()
    assert code == 2
    assert "status: optimal" in captured.out
    assert f"optimizer: could not write {out}: No space left on device" in captured.err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


@pytest.mark.solver
def test_sweep_prints_the_points_when_the_folder_vanishes(tmp_path, capsys, monkeypatch):
    path = small(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    _remove_folder_after(monkeypatch, optimizer.whatif.sweeps, "sweep", folder)
    outs = {flag: folder / name for flag, name in (
        ("--out", "points.csv"), ("--plot", "frontier.png"), ("--frequency-plot", "f.png"))}
    argv = ["sweep", str(path), "--budget", "5,10", "--workers", "1", "--json"]
    for flag, out in outs.items():
        argv += [flag, str(out)]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert len(json.loads(captured.out)["points"]) == 2
    for out in outs.values():
        assert f"optimizer: could not write {out}: " in captured.err
    assert "internal error" not in captured.err


def _replace_result(monkeypatch, module, name, folder: Path, **changes) -> None:
    """As :func:`_remove_folder_after`, and the result (a Result or a Sweep) changed."""
    import dataclasses

    real = getattr(module, name)

    def run_then_remove(*args, **kwargs):
        out = dataclasses.replace(real(*args, **kwargs), **changes)
        shutil.rmtree(folder)
        return out

    monkeypatch.setattr(module, name, run_then_remove)


@pytest.mark.solver
@pytest.mark.parametrize("status,code", [("invalid", 1), ("infeasible", 2),
                                         ("no_solution", 2)])
def test_a_failed_write_keeps_the_graver_solve_code(tmp_path, capsys, monkeypatch, status,
                                                    code):
    """1 (the checker rejected the plan) outranks a failed write (2); 3 and 4 do not."""
    folder = tmp_path / "out"
    folder.mkdir()
    _replace_result(monkeypatch, optimizer.pipeline, "solve", folder, status=status)
    assert main(["solve", str(small(tmp_path)), "--json", "--out",
                 str(folder / "plan.json")]) == code
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == status
    assert f"could not write {folder / 'plan.json'}" in captured.err


@pytest.mark.solver
def test_a_failed_write_keeps_the_sweep_interrupted_and_invalid_codes(tmp_path, capsys,
                                                                      monkeypatch):
    path = small(tmp_path)
    folder = tmp_path / "out"
    argv = ["sweep", str(path), "--budget", "5,10", "--workers", "1", "--json",
            "--out", str(folder / "points.csv")]
    folder.mkdir()
    _replace_result(monkeypatch, optimizer.whatif.sweeps, "sweep", folder, complete=False)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and f"could not write {folder / 'points.csv'}" in err
    monkeypatch.undo()

    real = optimizer.whatif.sweeps.sweep

    def invalid_then_remove(*args, **kwargs):
        import dataclasses

        result = real(*args, **kwargs)
        runs = tuple(dataclasses.replace(r, result=dataclasses.replace(r.result,
                                                                       status="invalid"))
                     for r in result.runs)
        shutil.rmtree(folder)
        return dataclasses.replace(result, runs=runs)

    folder.mkdir()
    monkeypatch.setattr(optimizer.whatif.sweeps, "sweep", invalid_then_remove)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "breaks a rule" in err and f"could not write {folder / 'points.csv'}" in err


def test_examples_copy_to_an_unwritable_place_exits_2(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for place in (tmp_path / "file" / "sub", Path("/proc/x")):
        if place.parent.exists():
            assert main(["examples", "--copy", str(place)]) == 2
            err = capsys.readouterr().err
            assert "could not write" in err and "internal error" not in err, err


@pytest.mark.skipif(os.name != "posix", reason="file modes")
@pytest.mark.parametrize("mask", [0o077, 0o022])
def test_examples_copy_follows_the_umask(tmp_path, umask, capsys, mask):
    umask(mask)
    assert main(["examples", "--copy", str(tmp_path / "a" / "b")]) == 0
    assert main(["examples", "--copy", str(tmp_path / "sets"), "orlib/mknap1.txt"]) == 0
    capsys.readouterr()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    folders = [p for p in tmp_path.rglob("*") if p.is_dir()]
    assert len(files) == 7 and len(folders) == 4  # the pilot (five files) and mknap1 twice
    assert {_mode(p) for p in files} == {0o666 & ~mask}
    assert {_mode(p) for p in folders} == {0o777 & ~mask}


def test_atomic_write_leaves_nothing_on_a_full_disk(tmp_path, monkeypatch):
    def full(_fd, _data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    (tmp_path / "keep.json").write_text("old")
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError) as caught:
        atomic_write(tmp_path / "keep.json", "new")
    monkeypatch.undo()
    assert caught.value.errno == errno.ENOSPC
    assert (tmp_path / "keep.json").read_text() == "old"  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


# --------------------------------------------------------------- the files' modes
@pytest.mark.skipif(os.name != "posix", reason="file modes")
@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_follows_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert current_umask() == mask
    assert current_umask() == mask  # reading it leaves it unchanged
    assert _mode(atomic_write(tmp_path / "a.json", "{}")) == mode
    assert _mode(atomic_write(tmp_path / "a.json", b"{}")) == mode  # replacing, too


@pytest.mark.solver
@pytest.mark.skipif(os.name != "posix", reason="file modes")
@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_every_written_file_follows_the_umask(tmp_path, umask, capsys, mask, mode):
    path = small(tmp_path)
    umask(mask)
    out = tmp_path / "out"
    out.mkdir()
    assert main(["solve", str(path), "--out", str(out / "plan.json")]) == 0
    assert main(["solve", str(path), "--out", str(out / "plan.csv")]) == 0
    assert main(["sweep", str(path), "--budget", "5,10", "--workers", "1",
                 "--out", str(out / "points.json"), "--plot", str(out / "frontier.png"),
                 "--frequency-plot", str(out / "f.png")]) == 0
    assert main(["generate", "--projects", "4", "--out", str(out / "generated")]) == 0
    capsys.readouterr()
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) >= 7
    assert {p.name: _mode(p) for p in written} == {p.name: mode for p in written}


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_converted_orlib_files_follow_the_umask(tmp_path, umask):
    import numpy as np

    from optimizer.program.orlib import Knapsack, write_program

    umask(0o027)
    problem = Knapsack(name="tiny", profits=np.array([3.0, 4.0]),
                       weights=np.array([[1.0, 2.0]]), capacities=np.array([2.0]),
                       optimum=None)
    write_program(problem, tmp_path / "tiny")
    modes = {p.name: _mode(p) for p in (tmp_path / "tiny").iterdir()}
    assert modes == {"program.yaml": 0o640, "projects.csv": 0o640, "profiles.csv": 0o640}


# ------------------------------------------- an output that is one of the run's inputs
def _pilot_copy(tmp_path: Path) -> Path:
    """The pilot's folder copied: program.yaml with projects.csv and profiles.csv."""
    assert main(["examples", "--copy", str(tmp_path)]) == 0
    return tmp_path / "pilot" / "program.yaml"


def test_solve_refuses_to_write_over_its_own_program_before_loading(tmp_path, capsys,
                                                                    no_solve):
    program = tmp_path / "self.json"
    program.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(program)
    for given, out in ((program, program), (program, tmp_path / "." / "self.json"),
                       (link, program), (program, link)):
        assert main(["solve", str(given), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}: is the program file" in err and str(given) in err, err
    assert program.read_text() == "{}"


def test_solve_and_sweep_refuse_to_write_over_the_programs_tables(tmp_path, capsys,
                                                                  monkeypatch):
    program = _pilot_copy(tmp_path)
    capsys.readouterr()
    tables = {name: (program.parent / name).read_bytes()
              for name in ("projects.csv", "profiles.csv")}

    def refuse(*_args, **_kwargs):
        raise AssertionError("solved although an output is one of the program's tables")

    monkeypatch.setattr(optimizer.pipeline, "solve", refuse)
    monkeypatch.setattr(optimizer.whatif.sweeps, "sweep", refuse)
    hard = tmp_path / "hard.csv"
    os.link(program.parent / "projects.csv", hard)
    for out in (program.parent / "projects.csv", tmp_path / "pilot" / ".." / "pilot" /
                "profiles.csv", hard):
        assert main(["solve", str(program), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}: is a table of the program" in err, err
        assert main(["sweep", str(program), "--budget", "5,10", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}: is a table of the program" in err, err
    png = program.parent / "chart.png"
    os.link(program, png)  # --plot and --frequency-plot: the program itself, as .png
    for flag in ("--plot", "--frequency-plot"):
        assert main(["sweep", str(program), "--budget", "5,10", flag, str(png)]) == 2
        assert f"{flag} {png}: is the program file" in capsys.readouterr().err
    assert {name: (program.parent / name).read_bytes() for name in tables} == tables


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_atomic_write_keeps_an_existing_files_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "p.json"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o640
    assert _mode(atomic_write(tmp_path / "new.json", "{}")) == 0o644  # a new file: umask


@pytest.mark.solver
@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_atomic_write_through_a_link_keeps_the_link(tmp_path, umask, capsys):
    umask(0o022)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "p.json"
    target.write_text("old")
    target.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(Path("real") / "p.json")
    atomic_write(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "p.json")
    assert target.read_text() == "new" and _mode(target) == 0o600
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["p.json"]
    assert main(["solve", str(small(tmp_path)), "--out", str(link)]) == 0  # the CLI too
    capsys.readouterr()
    assert link.is_symlink() and json.loads(target.read_text())["status"] == "optimal"


def test_examples_copy_on_a_full_disk_exits_2_and_leaves_nothing(tmp_path, capsys,
                                                                 monkeypatch):
    import optimizer.results.result

    real = optimizer.results.result.atomic_write
    written = []

    def full(target, data):
        if written:  # the first file is written, the second finds the disk full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        written.append(target)
        return real(target, data)

    patch_atomic_write(monkeypatch, full)
    (tmp_path / "there").mkdir()
    (tmp_path / "there" / "mine.txt").write_text("kept")
    for dest, kept in ((tmp_path / "new" / "deeper", []),
                       (tmp_path / "there", ["mine.txt"])):
        written.clear()
        assert main(["examples", "--copy", str(dest)]) == 2
        err = capsys.readouterr().err
        assert "could not write" in err and "No space left on device" in err, err
        assert "internal error" not in err
        assert sorted(p.name for p in dest.rglob("*")) == kept if dest.exists() else not kept
    assert not (tmp_path / "new").exists()
    monkeypatch.undo()
    assert main(["examples", "--copy", str(tmp_path / "there")]) == 0  # runs again
