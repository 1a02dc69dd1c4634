"""What users of this ecosystem expect (issue 13, section 4): HiGHS options passed through
and checked by HiGHS, HiGHS's log on standard error, ``--version``, a sweep's live
progress, and Dask as an extra."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from helpers import program, write

from optimizer import SolveOptions, UsageError, load, solve, sweep
from optimizer.cli import _LiveSweep, main
from optimizer.sweeps import SweepProgress

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def small(tmp_path: Path) -> Path:
    doc = program([{"id": "A", "capital": 6, "return": 6}, {"id": "B", "capital": 5, "return": 4},
                   {"id": "C", "capital": 5, "return": 4}], budget={"total": 10})
    return write(tmp_path, doc)


# ------------------------------------------------------------------ HiGHS options
def test_api_options_are_applied_and_recorded(tmp_path):
    options = SolveOptions(highs_options={"mip_feasibility_tolerance": 1e-7,
                                          "presolve": "off", "mip_rel_gap": "0.01"})
    result = solve(small(tmp_path), options)
    assert result.status == "optimal"
    used = result.solver["options"]
    assert used["mip_feasibility_tolerance"] == 1e-7
    assert used["presolve"] == "off"      # the user's value wins over the program's default
    assert used["mip_rel_gap"] == 0.01    # text is read as the option's type
    assert result.to_dict()["manifest"]["options"]["mip_feasibility_tolerance"] == 1e-7


def test_options_stay_immutable_hashable_and_picklable():
    given = {"mip_feasibility_tolerance": 1e-7, "threads": "1", "mip_detect_symmetry": "off"}
    options = SolveOptions(highs_options=given)
    given["threads"] = 8  # the caller's mapping changes; the options do not
    assert options.highs_options == (("mip_feasibility_tolerance", 1e-7), ("threads", 1),
                                     ("mip_detect_symmetry", False))
    assert hash(options) == hash(SolveOptions(highs_options=options.highs_options))
    assert pickle.loads(pickle.dumps(options)) == options
    assert SolveOptions(**options.as_dict()) == options  # as sent to sweep workers
    assert SolveOptions().highs_options == ()


@pytest.mark.parametrize("options,words", [
    ({"mip_rel_gapp": 0.1}, ["mip_rel_gapp", "unknown", "did you mean 'mip_rel_gap'"]),
    ({"no_such_option": 1}, ["no_such_option", "unknown"]),
    ({"mip_feasibility_tolerance": -1.0}, ["mip_feasibility_tolerance", "below lower bound",
                                           "range: [1e-10, inf]"]),
    ({"presolve": "maybe"}, ["presolve", '"off", "choose" or "on"']),
    ({"threads": "two"}, ["threads", "not a whole number", "type: integer"]),
    ({"output_flag": 3}, ["output_flag", "true or false"]),
    ([("threads",)], ["mapping"]),
])
def test_bad_api_options_raise_with_highs_message(options, words):
    with pytest.raises(UsageError) as caught:
        SolveOptions(highs_options=options)
    for word in words:
        assert word in str(caught.value)


def test_cli_option_reaches_solver_options_and_manifest(tmp_path):
    proc = run("solve", str(small(tmp_path)), "--json",
               "--highs-option", "mip_feasibility_tolerance=1e-7",
               "--highs-option", "mip_rel_gap=0.02")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for where in (data["solver"]["options"], data["manifest"]["options"]):
        assert where["mip_feasibility_tolerance"] == 1e-7
        assert where["mip_rel_gap"] == 0.02  # applied after --gap's default


@pytest.mark.parametrize("command", [["solve"], ["explain"], ["marginal"],
                                     ["sweep", "--budget", "5,10"]])
@pytest.mark.parametrize("option,words", [
    ("no_such_option=1", ["no_such_option", "HiGHS refused it", "unknown"]),
    ("mip_feasibility_tolerance=-1", ["mip_feasibility_tolerance", "HiGHS refused it",
                                      "below lower bound"]),
    ("time_limit=soon", ["time_limit", "not a number"]),
])
def test_bad_cli_option_exits_2_before_loading(capsys, command, option, words):
    # the program does not exist: the option is refused first
    code = main([command[0], "missing.yaml", *command[1:], "--highs-option", option])
    err = capsys.readouterr().err
    assert code == 2
    for word in words:
        assert word in err, err


def test_cli_option_needs_name_equals_value(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["solve", "x.yaml", "--highs-option", "threads"])
    assert caught.value.code == 2
    assert "NAME=VALUE" in capsys.readouterr().err


# --------------------------------------------------------------------- --log
@pytest.mark.parametrize("flag", ["--log", "--tee"])
def test_log_goes_to_stderr_and_stdout_stays_one_json_object(tmp_path, flag):
    proc = run("solve", str(small(tmp_path)), "--json", flag)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # the whole of stdout: one object
    assert data["status"] == "optimal"
    assert "HiGHS" in proc.stderr and "Running HiGHS" in proc.stderr, proc.stderr


def test_without_log_highs_is_silent(tmp_path):
    proc = run("solve", str(small(tmp_path)), "--json")
    assert proc.returncode == 0
    assert "HiGHS" not in proc.stderr


def test_sweep_log_keeps_stdout_clean(tmp_path):
    proc = run("sweep", str(small(tmp_path)), "--budget", "5,10", "--workers", "1", "--json",
               "--log")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["points"]) == 2
    assert "HiGHS" in proc.stderr


# ------------------------------------------------------------------ --version
def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"optimizer {version('capital-portfolio-optimizer')}\n"


# --------------------------------------------------------- a sweep's progress
@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_reports_progress_up_to_the_total(tmp_path, workers):
    calls: list[SweepProgress] = []
    s = sweep(load(small(tmp_path)), {"budget": [4.0, 6.0, 8.0, 10.0, 12.0]},
              workers=workers, chunk_size=2, progress=calls.append)
    assert len(s.points) == 5
    assert calls, "no progress reported"
    done = [c.done for c in calls]
    assert done == sorted(done) and len(set(done)) == len(done)  # strictly increasing
    assert done[-1] == 5 and all(c.total == 5 for c in calls)
    if workers == 1:
        assert done == [1, 2, 3, 4, 5]  # in this process: after every point
    assert all(c.last_status in ("optimal", "feasible", "infeasible") for c in calls)
    assert all(c.elapsed >= 0 for c in calls)
    assert all(set(c.last_parameters or {}) == {"budget"} for c in calls)


def test_live_sweep_line(capsys):
    live = _LiveSweep()
    live(SweepProgress(3, 10, 1.5, "optimal", {"budget": 5.0}))
    live.close()
    err = capsys.readouterr().err
    assert err.startswith("\r") and "3/10 points" in err and "optimal" in err
    assert err.endswith("\n")


# ----------------------------------------------------------- Dask as an extra
def test_scheduler_without_distributed_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code = main(["sweep", str(small(tmp_path)), "--budget", "5,10",
                 "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    assert "pip install 'capital-portfolio-optimizer[dask]'" in capsys.readouterr().err


def test_no_module_imports_distributed():
    code = ("import sys, optimizer, optimizer.api, optimizer.cli, optimizer.sweeps, "
            "optimizer.frontiers, optimizer.marginal, optimizer.diagnosis; "
            "assert 'distributed' not in sys.modules, 'distributed imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
