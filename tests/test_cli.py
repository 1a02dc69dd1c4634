"""The command line end to end: exit codes, clean JSON, --out, limits, interruption."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT, error_object, plan_return, program, run, small, write

from optimizer import check_plan, load
from optimizer.cli.main import main


def hard_knapsack(tmp_path: Path, n: int = 150, m: int = 10, seed: int = 7) -> Path:
    """A Chu-Beasley-like multidimensional knapsack in the format: one year per constraint."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 1000, size=(m, n))
    profit = weights.sum(axis=0) / m + rng.integers(0, 500, size=n)
    capacity = (weights.sum(axis=1) * 0.25).round()
    years = list(range(2026, 2026 + m))
    projects = pd.DataFrame({"id": [f"I{j}" for j in range(n)], "sector": "energy",
                             "return": profit})
    projects.to_csv(tmp_path / "projects.csv", index=False)
    rows = [{"project": f"I{j}", "year": years[i], "capital": int(weights[i, j]), "labor": 0}
            for j in range(n) for i in range(m)]
    pd.DataFrame(rows).to_csv(tmp_path / "profiles.csv", index=False)
    doc = {"format": "capital-portfolio/1", "name": "hard", "horizon": [years[0], years[-1]],
           "budget": {"per_year": dict(zip(years, capacity.tolist(), strict=True))},
           "sectors": {"energy": None}, "projects": "projects.csv", "profiles": "profiles.csv"}
    path = tmp_path / "hard.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.solver
def test_json_stdout_is_one_object(tmp_path):
    proc = run("solve", str(small(tmp_path)), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # the whole of stdout is one JSON object
    assert data["status"] == "optimal"
    assert data["objective"] == pytest.approx(8)
    assert data["selected"] == [{"id": "B", "units": 1}, {"id": "C", "units": 1}]
    assert data["capital"]["total"] == pytest.approx(10)
    assert set(data["timings"]) >= {"load", "build", "solve", "total"}
    assert data["solver"]["name"] == "highs" and data["solver"]["version"]
    assert isinstance(data["solver"]["nodes"], int) and data["solver"]["nodes"] >= 0
    assert data["check"]["valid"] is True
    assert "HiGHS" not in proc.stdout.split("\n", 1)[0]


@pytest.mark.solver
def test_summary_and_out_files(tmp_path):
    path = small(tmp_path)
    proc = run("solve", str(path), "--out", str(tmp_path / "plan.csv"))
    assert proc.returncode == 0, proc.stderr
    assert "status: optimal" in proc.stdout and "every rule holds" in proc.stdout
    plan = pd.read_csv(tmp_path / "plan.csv")
    assert sorted(plan["id"]) == ["B", "C"] and plan["units"].tolist() == [1, 1]
    assert main(["solve", str(path), "--out", str(tmp_path / "r.json")]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["objective"] == pytest.approx(8)


@pytest.mark.solver
def test_infeasible_exits_3_and_names_rule(tmp_path):
    doc = program([{"id": "A", "capital": 10, "return": 1, "sector": "shipbuilding"}],
                  sectors={"shipbuilding": {"min": 20}})
    proc = run("solve", str(write(tmp_path, doc)), "--json")
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    assert data["status"] == "infeasible" and data["objective"] is None
    assert data["conflicts"][0]["key"] == "shipbuilding"
    assert "shipbuilding" in proc.stderr


@pytest.mark.solver
def test_time_limit_zero(tmp_path):
    path = hard_knapsack(tmp_path)
    proc = run("solve", str(path), "--time-limit", "0", "--json")
    data = json.loads(proc.stdout)
    assert data["termination"] == "time_limit"
    if proc.returncode == 4:
        assert data["status"] == "no_solution" and data["selected"] == []
    else:
        assert proc.returncode == 0 and data["status"] == "feasible"
        assert data["check"]["valid"]
    assert "Traceback" not in proc.stderr


@pytest.mark.solver
@pytest.mark.slow
def test_time_limit_keeps_incumbent_and_bound(tmp_path):
    path = hard_knapsack(tmp_path)
    proc = run("solve", str(path), "--time-limit", "1", "--threads", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "feasible" and data["termination"] == "time_limit"
    assert data["bound"] >= data["objective"] and data["gap"] > 0
    instance = load(path)
    units = pd.Series({s["id"]: s["units"] for s in data["selected"]})
    assert check_plan(instance, units.reindex(instance.ids, fill_value=0)).valid


#: ``python -c SIGNALLING FD ARGS...`` runs ``optimizer ARGS`` with one change: its solve
#: reports progress to a callback that writes one byte to file descriptor FD (then closes
#: it) at the first report holding an incumbent, i.e. while HiGHS runs and has a plan.
#: The test waits for that byte instead of sleeping and hoping the solve is under way.
SIGNALLING = """
import dataclasses, os, sys
import optimizer.pipeline as pipeline
from optimizer.solving.highs import SolveOptions
fd = [int(sys.argv.pop(1))]
real = pipeline.solve

def progress(p):
    if p.incumbent is not None and fd:
        os.write(fd[0], b"!")
        os.close(fd.pop())

def solve(program, options=None):
    return real(program, dataclasses.replace(options or SolveOptions(), progress=progress))

pipeline.solve = solve
sys.argv[0] = "optimizer"
from optimizer.cli.main import run
run()
"""


def start_until_incumbent(*args: str) -> subprocess.Popen:
    """``optimizer ARGS`` in a new process, returned once its solver holds a plan (and is
    still searching: the caller's program must be one no solve proves in a moment)."""
    read, write_end = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-c", SIGNALLING, str(write_end), *args],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, pass_fds=(write_end,))
    finally:
        os.close(write_end)
    try:
        ready, _, _ = select.select([read], [], [], 120)  # a guard against a hang only
        told = os.read(read, 1) if ready else b""
    finally:
        os.close(read)
    if told != b"!":
        proc.kill()
        _, stderr = proc.communicate()
        pytest.fail(f"the solve never reported an incumbent (exit {proc.returncode}): "
                    f"{stderr[-2000:]}")
    return proc


@pytest.mark.solver
@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("sig,flags", [
    (signal.SIGINT, []), (signal.SIGTERM, []),
    # the signal lands in the tree search, at its first plan, with 30 s of it to go
    (signal.SIGINT, ["--heuristic", "tree", "--time-limit", "60"]),
    (signal.SIGTERM, ["--heuristic", "tree", "--time-limit", "60"]),
])
def test_interrupt_returns_checked_plan(tmp_path, sig, flags):
    """A signal while HiGHS searches with a plan in hand (told by the solve's own progress
    report, not guessed from a sleep): the search stops, and the plan comes back checked,
    with its bound, on standard output and in --out alike. The knapsack of 150 items and
    10 rows is not proven to a gap of 1e-4 in minutes, so the signal always lands in the
    search; were it ever to land after the proof, the test fails rather than passes."""
    path = hard_knapsack(tmp_path)
    out = tmp_path / "plan.json"
    proc = start_until_incumbent("solve", str(path), "--json", "--threads", "1",
                                 "--out", str(out), *flags)
    proc.send_signal(sig)
    try:
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in stderr, stderr
    assert proc.returncode == 0, stderr
    data = json.loads(stdout)
    assert data["termination"] == "interrupted", data["termination"]
    assert data["status"] == "feasible" and data["check"]["valid"] is True
    if flags:  # the tree stopped then, not at the end of its 30 s
        tree = data["solver"]["options"]["tree"]
        assert tree["applied"] and tree["seconds"] < 25
    assert data["bound"] >= data["objective"] and data["gap"] > 0
    assert json.loads(out.read_text()) == data
    instance = load(path)
    units = pd.Series({s["id"]: s["units"] for s in data["selected"]})
    assert check_plan(instance, units.reindex(instance.ids, fill_value=0)).valid
    assert plan_return(instance, units) == pytest.approx(data["objective"], rel=1e-9)


@pytest.mark.parametrize("argv", [
    ["solve", "x.yaml", "--gap", "2"],
    ["solve", "x.yaml", "--gap", "abc"],
    ["solve", "x.yaml", "--threads", "0"],
    ["solve", "x.yaml", "--time-limit", "-1"],
    ["solve", "x.yaml", "--time-limit", "nan"],
    ["solve", "x.yaml", "--local-search", "maybe"],
    ["frobnicate"],
    [],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.solver
@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["--local-search", "on"], ["--local-search", "off"]])
def test_local_search_flag(tmp_path, flags):
    """``--local-search on`` reaches the solve (its report is in the solver's options);
    off, the default, does not run it; the JSON stays one object and the plan a checked
    optimum."""
    proc = run("solve", str(hard_knapsack(tmp_path, n=60, m=5)), "--json", "--threads", "1",
               "--time-limit", "20", *flags)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["check"]["valid"] is True and data["status"] == "optimal"
    report = data["solver"]["options"].get("local_search")
    assert (report is None) == ("on" not in flags)
    if report:  # its time budget is tested on a fake clock in test_local_search.py
        assert report["failure"] is None
        assert isinstance(report["plans"], int) and report["plans"] >= 0
        assert report["gain"] >= 0 and report["seconds"] >= 0
    assert data["objective"] >= data["bound"] * (1 - 1e-4)


def test_out_with_unknown_suffix_exits_2(tmp_path, capsys):
    assert main(["solve", str(small(tmp_path)), "--out", str(tmp_path / "x.txt")]) == 2
    assert ".json or .csv" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_validate(tmp_path, capsys):
    assert main(["validate", str(small(tmp_path))]) == 0
    assert "valid (3 projects" in capsys.readouterr().out


def test_live_progress_line(capsys):
    from optimizer.cli.main import _LiveProgress
    from optimizer.solving.highs import Progress

    live = _LiveProgress()
    live(Progress(0.5, 1.0, 2.0, 0.5))  # too early: nothing shown
    live(Progress(2.0, 10.0, 12.0, 0.2))
    live.close()
    err = capsys.readouterr().err
    assert "2.0s" in err and "incumbent" in err and "20.000%" in err and err.endswith("\n")


@pytest.mark.solver
@pytest.mark.slow
def test_progress_callback_reports_during_a_solve(tmp_path):
    from optimizer import SolveOptions, solve

    seen = []
    result = solve(hard_knapsack(tmp_path), SolveOptions(threads=1, time_limit=2,
                                                         progress=seen.append))
    assert result.termination == "time_limit" and result.valid
    assert seen, "no progress was reported"
    # seconds from the start of the solve, through the tree's search and HiGHS's after it
    assert all(b.elapsed >= a.elapsed - 1e-9 for a, b in zip(seen, seen[1:], strict=False))
    last = seen[-1]
    assert last.incumbent is not None and last.bound >= last.incumbent
    assert last.incumbent <= result.objective + 1e-6


def _status(pid: int) -> dict[str, str]:
    """The fields of ``/proc/PID/status`` ({} once the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def _in_mask(pid: int, field: str, sig: int) -> bool:
    """Whether ``sig`` is in the signal mask ``field`` (SigCgt: caught, SigIgn: ignored)
    of process ``pid``."""
    mask = _status(pid).get(field)
    return mask is not None and bool(int(mask, 16) >> (sig - 1) & 1)


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler installed for ``sig`` (Linux's SigCgt mask)."""
    return _in_mask(pid, "SigCgt", sig)


def _pool_workers(pid: int) -> list[int]:
    """The multiprocessing worker processes of ``pid`` (its children that spawn ran)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _wait_for(condition, proc: subprocess.Popen, what: str, guard: float = 120) -> None:
    """Poll ``condition`` (a few milliseconds apart) until it holds; fail if ``proc``
    ends first (or, as a guard against a hang only, after ``guard`` seconds)."""
    deadline = time.monotonic() + guard
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, stderr = proc.communicate()
            pytest.fail(f"never saw {what} (exit {proc.returncode}): {stderr[-2000:]}")
        time.sleep(0.005)


@pytest.mark.solver
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigterm_stops_a_whole_sweep(tmp_path, workers):
    """SIGTERM during a sweep stops the running solve and starts no further point. In one
    process, the points run so far are printed; with worker processes, the workers are
    stopped and nothing is printed. Either way the exit code says it was cut short.

    The signal is sent at a moment read from /proc, not after a sleep: a sweep process
    catches SIGTERM only while a solve runs (in one process: HiGHS's own handler, set
    just for the run) or while it waits on its workers (with workers, once each of them
    is set up: it ignores SIGINT from then on). Each point is a knapsack no solve proves
    in minutes, so the first solve is still running."""
    path = hard_knapsack(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "sweep", str(path), "--json",
                             "--param", "budget_year:2026=1e6,2e6,3e6,4e6,5e6",
                             "--workers", str(workers), "--threads", "1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pool: list[int] = []
    if workers == 1:
        _wait_for(lambda: _catches(proc.pid, signal.SIGTERM), proc, "the first solve")
    else:
        def ready() -> bool:
            pool[:] = _pool_workers(proc.pid)
            return _catches(proc.pid, signal.SIGTERM) and len(pool) == workers and all(
                _in_mask(w, "SigIgn", signal.SIGINT) for w in pool)

        _wait_for(ready, proc, "the workers at work")
    proc.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = proc.communicate(timeout=60)  # prompt: a hang fails here
    finally:
        proc.kill()
    assert "Traceback" not in stderr, stderr
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    if workers > 1:
        assert error_object(stdout, 130)
        alive = [w for w in pool if not _status(w).get("State", "Z").startswith("Z")]
        assert alive == [], "a worker outlived the sweep"
        return
    data = json.loads(stdout)
    assert data["complete"] is False
    assert len(data["points"]) == 1, data["points"]  # the one that was running, no other
    assert data["points"][-1]["termination"] == "interrupted"


@pytest.mark.solver
def test_a_closed_pipe_is_not_an_internal_error():
    """`optimizer solve ... | head -3`: the reader leaves early; no 'internal error'."""
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve",
                             "instances/pilot-v1/program.yaml"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away before the summary is written
    _, stderr = proc.communicate(timeout=120)
    assert b"internal error" not in stderr and b"Traceback" not in stderr
    assert proc.returncode in (0, 141)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_interrupt_before_the_solver_reports_no_plan(tmp_path):
    """SIGINT while the program is still being read (a large generated program, signalled
    as soon as the solve's handlers are in place): exit 4 with one JSON object saying no
    plan, and --out complete."""
    from optimizer.program.generate import generate
    from optimizer.program.generate import write as write_program

    path = write_program(generate(300_000, seed=3), tmp_path / "big")
    out = tmp_path / "plan.json"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # Python itself catches SIGINT from the start; SIGTERM only once `solve` has installed
    # its handlers, right before it reads the program
    _wait_for(lambda: _catches(proc.pid, signal.SIGTERM), proc, "the solve's handlers")
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 4, stderr
    assert "Traceback" not in stderr
    data = json.loads(stdout)
    assert data["status"] == "no_solution" and data["termination"] == "interrupted"
    assert data["selected"] == [] and data["objective"] is None
    assert json.loads(out.read_text()) == data


def _queued(fd: int) -> int:
    """How many bytes wait in the pipe ``fd`` reads from."""
    import fcntl
    import struct
    import termios

    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.solver
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux pipes")
def test_a_signal_during_a_large_write_loses_no_output(tmp_path):
    """The result is written to --out, then to standard output; a signal while that write
    is blocked on a full pipe must not cut the JSON short (Python's text layer drops the
    rest of a partial write)."""
    from optimizer.program.generate import generate
    from optimizer.program.generate import write as write_program

    path = write_program(generate(6000, seed=4), tmp_path / "p")
    out = tmp_path / "plan.json"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                             "--threads", "1", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import fcntl

    assert proc.stdout is not None
    pipe = proc.stdout.fileno()
    capacity = fcntl.fcntl(pipe, getattr(fcntl, "F_GETPIPE_SZ", 1032))
    # nobody reads: once the pipe holds all it can, the child is blocked in its write of
    # standard output (written after --out, and longer than the pipe)
    _wait_for(lambda: _queued(pipe) >= capacity, proc, "a full pipe", guard=300)
    assert out.stat().st_size > capacity
    written = json.loads(out.read_text())
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout) == written


BAD_PROGRAM = ("format: capital-portfolio/1\nhorizon: [2026, 2030]\nhurdle_rat: 0.1\n"
               "sectors: {energy: {}}\n"
               "projects: [{id: A, sector: energy, capital: 1, return: 1, start: 2026}]\n")


def _one_object(text: str) -> dict:
    """The one JSON object ``text`` holds, and nothing else."""
    data, end = json.JSONDecoder().raw_decode(text)
    assert text[end:].strip() == "", "more than one JSON object on standard output"
    return data


@pytest.mark.parametrize("command", [["solve"], ["explain"], ["marginal"], ["validate"],
                                     ["sweep", "--budget", "1,2"]])
def test_json_run_on_an_invalid_program_prints_one_error_object(tmp_path, capsys, command):
    """With --json, standard output holds one JSON object even when the run ends in exit 2:
    status error, the problems with their file and field."""
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PROGRAM)
    code = main([command[0], str(path), *command[1:], "--json"])
    captured = capsys.readouterr()
    assert code == 2
    data = _one_object(captured.out)
    assert (data["status"], data["termination"], data["exit_code"]) == \
        ("error", "invalid_input", 2)
    (problem,) = data["problems"]
    assert problem["file"] == str(path) and problem["field"] == "hurdle_rat"
    assert "did you mean 'hurdle_rate'?" in problem["message"]
    assert "hurdle_rat" in captured.err  # the message is on standard error too


def test_json_usage_and_internal_errors_print_one_error_object(tmp_path, capsys, monkeypatch):
    assert main(["solve", "x.yaml", "--gap", "2", "--json"]) == 2
    data = _one_object(capsys.readouterr().out)
    assert (data["status"], data["termination"]) == ("error", "usage")
    assert "--gap" in data["message"]

    import optimizer.pipeline

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(optimizer.pipeline, "solve", broken)
    path = tmp_path / "p.yaml"
    path.write_text(BAD_PROGRAM.replace("hurdle_rat", "hurdle_rate"))
    assert main(["solve", str(path), "--json"]) == 1
    data = _one_object(capsys.readouterr().out)
    assert (data["status"], data["termination"], data["exit_code"]) == \
        ("error", "internal_error", 1)
    assert "boom" in data["message"]


def test_json_error_object_in_a_real_process(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_PROGRAM)
    proc = run("solve", str(path), "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert _one_object(proc.stdout)["problems"][0]["field"] == "hurdle_rat"


def test_validate_json_reports_the_program(capsys):
    assert main(["validate", "pilot-v1", "--json"]) == 0
    data = _one_object(capsys.readouterr().out)
    assert data["status"] == "valid" and data["projects"] == 21
    assert data["horizon"] == [2026, 2035] and "energy" in data["sectors"]
