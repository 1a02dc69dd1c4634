"""The command line end to end: exit codes, clean JSON, --out, limits, interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import ROOT, error_object, program, run, small, write

from optimizer import check_plan, load
from optimizer.cli import main


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


def test_infeasible_exits_3_and_names_rule(tmp_path):
    doc = program([{"id": "A", "capital": 10, "return": 1, "sector": "shipbuilding"}],
                  sectors={"shipbuilding": {"min": 20}})
    proc = run("solve", str(write(tmp_path, doc)), "--json")
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    assert data["status"] == "infeasible" and data["objective"] is None
    assert data["conflicts"][0]["key"] == "shipbuilding"
    assert "shipbuilding" in proc.stderr


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


@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_returns_checked_plan(tmp_path, sig):
    path = hard_knapsack(tmp_path)
    out = tmp_path / "plan.json"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                             "--threads", "1", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    data = json.loads(stdout)
    if data["termination"] == "optimal":  # solved before the signal: nothing to interrupt
        assert proc.returncode == 0
        return
    assert data["termination"] == "interrupted"
    if proc.returncode == 0:
        assert data["status"] == "feasible" and data["check"]["valid"]
        assert json.loads(out.read_text())["objective"] == data["objective"]
    else:
        assert proc.returncode == 4 and data["status"] == "no_solution"
        assert not out.exists() or json.loads(out.read_text())["status"] == "no_solution"


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
    if report:
        assert report["failure"] is None and report["seconds"] <= 2.5
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
    from optimizer.cli import _LiveProgress
    from optimizer.solver import Progress

    live = _LiveProgress()
    live(Progress(0.5, 1.0, 2.0, 0.5))  # too early: nothing shown
    live(Progress(2.0, 10.0, 12.0, 0.2))
    live.close()
    err = capsys.readouterr().err
    assert "2.0s" in err and "incumbent" in err and "20.000%" in err and err.endswith("\n")


def test_progress_callback_reports_during_a_solve(tmp_path):
    from optimizer import SolveOptions, solve

    seen = []
    result = solve(hard_knapsack(tmp_path), SolveOptions(threads=1, time_limit=2,
                                                         progress=seen.append))
    assert result.termination == "time_limit" and result.valid
    assert seen, "no progress was reported"
    last = seen[-1]
    assert last.incumbent is not None and last.bound >= last.incumbent
    assert last.incumbent <= result.objective + 1e-6


@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_a_whole_sweep(tmp_path, workers):
    """SIGTERM during a sweep stops the running solve and starts no further point. In one
    process, the points run so far are printed; with worker processes, the workers are
    stopped and nothing is printed. Either way the exit code says it was cut short."""
    path = hard_knapsack(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "sweep", str(path), "--json",
                             "--param", "budget_year:2026=1e6,2e6,3e6,4e6,5e6",
                             "--workers", str(workers), "--threads", "1"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - started < 30
    assert "Traceback" not in stderr
    if workers > 1:
        assert proc.returncode == 130 and error_object(stdout, 130) and "interrupted" in stderr
        return
    data = json.loads(stdout)
    if data["complete"]:  # every point finished before the signal
        assert proc.returncode == 0
        return
    assert proc.returncode == 130 and "interrupted" in stderr
    assert 1 <= len(data["points"]) < 5
    assert data["points"][-1]["termination"] == "interrupted"


def test_a_closed_pipe_is_not_an_internal_error():
    """`optimizer solve ... | head -3`: the reader leaves early; no 'internal error'."""
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve",
                             "instances/pilot/program.yaml"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away before the summary is written
    _, stderr = proc.communicate(timeout=120)
    assert b"internal error" not in stderr and b"Traceback" not in stderr
    assert proc.returncode in (0, 141)


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler installed for ``sig`` (Linux's SigCgt mask)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_interrupt_before_the_solver_reports_no_plan(tmp_path):
    """SIGINT while the program is still being read (a large generated program, signalled
    as soon as the solve's handlers are in place): exit 4 with one JSON object saying no
    plan, and --out complete."""
    from optimizer.generate import generate
    from optimizer.generate import write as write_program

    path = write_program(generate(300_000, seed=3), tmp_path / "big")
    out = tmp_path / "plan.json"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # Python itself catches SIGINT from the start; SIGTERM only once `solve` has installed
    # its handlers, right before it reads the program
    while not _catches(proc.pid, signal.SIGTERM):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.005)
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


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_a_signal_during_a_large_write_loses_no_output(tmp_path):
    """The result is written to --out, then to standard output; a signal while that write
    is blocked on a full pipe must not cut the JSON short (Python's text layer drops the
    rest of a partial write)."""
    from optimizer.generate import generate
    from optimizer.generate import write as write_program

    path = write_program(generate(6000, seed=4), tmp_path / "p")
    out = tmp_path / "plan.json"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                             "--threads", "1", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not out.exists():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)  # nobody reads: the child is blocked on the full pipe
    written = json.loads(out.read_text())
    assert len(json.dumps(written, indent=2)) > 100_000  # beyond a pipe's 64 KiB
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

    import optimizer.api

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(optimizer.api, "solve", broken)
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
    assert main(["validate", "pilot", "--json"]) == 0
    data = _one_object(capsys.readouterr().out)
    assert data["status"] == "valid" and data["projects"] == 21
    assert data["horizon"] == [2026, 2035] and "energy" in data["sectors"]
