"""What users of this ecosystem expect (issue 13, section 4): HiGHS options passed through
and checked by HiGHS, HiGHS's log on standard error, ``--version``, a sweep's live
progress, and Dask as an extra."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from importlib.metadata import version

import pytest
from helpers import ROOT, error_object, run, small

from optimizer import SolveOptions, UsageError, load, solve, sweep
from optimizer.cli.main import _LiveSweep, main
from optimizer.whatif.sweeps import SweepProgress


# ------------------------------------------------------------------ HiGHS options
@pytest.mark.solver
def test_api_options_are_applied_and_recorded(tmp_path):
    options = SolveOptions(highs_options={"mip_detect_symmetry": "off",
                                          "mip_pool_soft_limit": "50"})
    result = solve(small(tmp_path), options)
    assert result.status == "optimal"
    used = result.solver["options"]
    assert used["mip_detect_symmetry"] is False  # text is read as the option's type
    assert used["mip_pool_soft_limit"] == 50
    assert result.to_dict()["manifest"]["options"]["mip_pool_soft_limit"] == 50


def test_options_stay_immutable_hashable_and_picklable():
    given = {"mip_pool_soft_limit": "10", "mip_detect_symmetry": "off"}
    options = SolveOptions(highs_options=given)
    given["mip_pool_soft_limit"] = 8  # the caller's mapping changes; the options do not
    assert options.highs_options == (("mip_pool_soft_limit", 10),
                                     ("mip_detect_symmetry", False))
    assert hash(options) == hash(SolveOptions(highs_options=options.highs_options))
    assert pickle.loads(pickle.dumps(options)) == options
    assert SolveOptions(**options.as_dict()) == options  # as sent to sweep workers
    assert SolveOptions().highs_options == ()
    assert SolveOptions(highs_options={}).highs_options == ()


@pytest.mark.parametrize("options,words", [
    ({"mip_rel_gapp": 0.1}, ["mip_rel_gapp", "HiGHS refused it",
                             "did you mean 'mip_rel_gap'"]),
    ({"no_such_option": 1}, ["no_such_option", "HiGHS refused it"]),
    ({"mip_pool_soft_limit": -1}, ["mip_pool_soft_limit", "HiGHS refused it"]),
    ({"mip_detect_symmetry": 3}, ["mip_detect_symmetry", "true or false"]),
    ({"mip_pool_soft_limit": "two"}, ["mip_pool_soft_limit", "not a whole number"]),
    ([("mip_pool_soft_limit",)], ["mapping"]),
])
def test_bad_api_options_raise_with_highs_message(options, words):
    with pytest.raises(UsageError) as caught:
        SolveOptions(highs_options=options)
    for word in words:
        assert word in str(caught.value)


#: HiGHS option -> the SolveOptions field that sets it (every option the package sets)
OWNED = {"time_limit": "time_limit", "mip_rel_gap": "gap", "random_seed": "seed",
         "threads": "threads", "presolve": "presolve", "mip_max_nodes": "node_limit",
         "mip_max_improving_sols": "solution_limit",
         "mip_heuristic_effort": "heuristic_effort",
         "primal_feasibility_tolerance": "feasibility_tolerance",
         "mip_feasibility_tolerance": "feasibility_tolerance",
         "output_flag": "log", "log_to_console": "log"}


@pytest.mark.parametrize("name,field", OWNED.items())
def test_api_refuses_options_its_fields_set(name, field):
    with pytest.raises(UsageError) as caught:
        SolveOptions(highs_options={name: "1"})
    assert name in str(caught.value) and f"SolveOptions({field}=...)" in str(caught.value)


@pytest.mark.solver
def test_owned_options_are_every_option_the_solver_sets(tmp_path):
    """Every HiGHS option the package sets itself (with every field of SolveOptions given)
    is one a user cannot give as a HiGHS option."""
    from optimizer.solving.highs import OWNED_OPTIONS

    options = SolveOptions(time_limit=5, threads=1, node_limit=100, solution_limit=10,
                           heuristic_effort=0.1, feasibility_tolerance=1e-7, log=True,
                           heuristic="off")  # the tree would add its notes
    result = solve(small(tmp_path), options)
    assert set(result.solver["options"]) == set(OWNED_OPTIONS) == set(OWNED)


@pytest.mark.parametrize("name,flag", [
    ("time_limit=0.01", "--time-limit"), ("mip_rel_gap=0.5", "--gap"),
    ("random_seed=5", "--seed"), ("threads=2", "--threads"), ("presolve=off", "--presolve"),
    ("mip_max_nodes=3", "--node-limit"), ("mip_max_improving_sols=1", "--solution-limit"),
    ("mip_heuristic_effort=0.5", "--heuristic-effort"), ("output_flag=true", "--log"),
    ("log_to_console=true", "--log"),
    ("mip_feasibility_tolerance=1e-7", "--feasibility-tolerance"),
])
def test_cli_refuses_options_its_flags_set(tmp_path, capsys, name, flag):
    code = main(["solve", str(small(tmp_path)), "--json", "--highs-option", name])
    captured = capsys.readouterr()
    assert code == 2 and error_object(captured.out)
    assert f"--highs-option {name}" in captured.err and f"use {flag} instead" in captured.err


def test_sweep_names_the_command_that_has_the_flag(tmp_path, capsys):
    code = main(["sweep", str(small(tmp_path)), "--budget", "5,10",
                 "--highs-option", "presolve=off"])
    err = capsys.readouterr().err
    assert code == 2 and "`optimizer solve` takes --presolve" in err, err


@pytest.mark.solver
def test_result_reports_the_limit_and_seed_used(tmp_path):
    """What was asked for is what the result says: solver.time_limit, solver.seed and the
    manifest's seed agree with the options HiGHS ran with."""
    proc = run("solve", str(small(tmp_path)), "--json", "--time-limit", "30", "--seed", "5",
               "--gap", "0.02", "--highs-option", "mip_detect_symmetry=off")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    solver = data["solver"]
    assert solver["time_limit"] == solver["options"]["time_limit"] == 30
    assert solver["seed"] == solver["options"]["random_seed"] == data["manifest"]["seed"] == 5
    assert solver["gap_tolerance"] == solver["options"]["mip_rel_gap"] == 0.02
    for where in (solver["options"], data["manifest"]["options"]):
        assert where["mip_detect_symmetry"] is False


@pytest.mark.solver
def test_feasibility_tolerance_flag(tmp_path):
    proc = run("solve", str(small(tmp_path)), "--json", "--feasibility-tolerance", "1e-7")
    assert proc.returncode == 0, proc.stderr
    used = json.loads(proc.stdout)["solver"]["options"]
    assert used["mip_feasibility_tolerance"] == used["primal_feasibility_tolerance"] == 1e-7
    with pytest.raises(UsageError, match="at least 1e-10"):
        SolveOptions(feasibility_tolerance=0.0)


@pytest.mark.parametrize("command", [["solve"], ["explain"], ["marginal"],
                                     ["sweep", "--budget", "5,10"]])
@pytest.mark.parametrize("option,words", [
    ("no_such_option=1", ["no_such_option", "HiGHS refused it"]),
    ("mip_pool_soft_limit=-1", ["mip_pool_soft_limit", "HiGHS refused it"]),
    ("mip_pool_soft_limit=many", ["mip_pool_soft_limit", "not a whole number"]),
    ("time_limit=1", ["time_limit", "--time-limit"]),
])
def test_bad_cli_option_exits_2_before_loading(capsys, command, option, words):
    # the program does not exist: the option is refused first
    code = main([command[0], "missing.yaml", *command[1:], "--highs-option", option])
    err = capsys.readouterr().err
    assert code == 2
    for word in words:
        assert word in err, err


def test_cli_option_needs_name_equals_value(capsys):
    assert main(["solve", "x.yaml", "--highs-option", "threads"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


# --------------------------------------------------------------------- --log
@pytest.mark.solver
@pytest.mark.parametrize("flag", ["--log", "--tee"])
def test_log_goes_to_stderr_and_stdout_stays_one_json_object(tmp_path, flag):
    proc = run("solve", str(small(tmp_path)), "--json", flag)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # the whole of stdout: one object
    assert data["status"] == "optimal"
    assert proc.stderr.strip() and "HiGHS" in proc.stderr, proc.stderr


@pytest.mark.solver
def test_without_log_highs_is_silent(tmp_path):
    proc = run("solve", str(small(tmp_path)), "--json")
    assert proc.returncode == 0
    assert "HiGHS" not in proc.stderr


@pytest.mark.solver
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
@pytest.mark.solver
@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sweep_reports_progress_up_to_the_total(tmp_path, workers):
    calls: list[SweepProgress] = []
    s = sweep(load(small(tmp_path)), {"budget": [4.0, 6.0, 8.0, 10.0, 12.0]},
              workers=workers, chunk_size=2, progress=calls.append)
    assert len(s.points) == 5
    assert calls, "no progress reported"
    done = [c.done for c in calls]
    assert done == sorted(done)  # ticks between points repeat the count, never lower it
    # one report as each point (or chunk) is done: the count rises at every one
    rises = [c.done for before, c in zip([None, *calls[:-1]], calls, strict=True)
             if c.done > (0 if before is None else before.done)]
    assert len(rises) == len(set(rises)) and rises[-1] == 5
    assert all(c.total == 5 for c in calls)
    if workers == 1:
        assert rises == [1, 2, 3, 4, 5]  # in this process: after every point
    elapsed = [c.elapsed for c in calls]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0
    for c in calls:  # before any point is done, a tick has no last point
        if c.done == 0:
            assert c.last_status is None and c.last_parameters is None
        else:
            assert c.last_status in ("optimal", "feasible", "infeasible")
            assert set(c.last_parameters or {}) == {"budget"}


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
    code = ("import sys, optimizer, optimizer.pipeline, optimizer.cli.main, "
            "optimizer.whatif.sweeps, "
            "optimizer.whatif.frontiers, optimizer.whatif.marginal, optimizer.diagnosis.diagnose; "
            "assert 'distributed' not in sys.modules, 'distributed imported'")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------- --threads bound
def test_threads_are_bounded_in_the_api():
    from optimizer.limits import THREADS

    assert SolveOptions(threads=int(THREADS.high)).threads == THREADS.high
    for bad in (0, int(THREADS.high) + 1, 100_000, 1.5, True):
        with pytest.raises(UsageError, match="threads must be a whole number in"):
            SolveOptions(threads=bad)


@pytest.mark.parametrize("command", [["solve", "x.yaml"], ["sweep", "x.yaml", "--budget", "1"],
                                     ["marginal", "x.yaml"], ["explain", "x.yaml"],
                                     ["bench", "report"]])
@pytest.mark.parametrize("threads", ["0", "257", "100000"])
def test_every_threads_flag_is_bounded(capsys, command, threads):
    assert main([*command, "--threads", threads]) == 2
    assert "--threads: must be in [1, 256]" in capsys.readouterr().err


@pytest.mark.solver
@pytest.mark.slow
def test_sweep_progress_ticks_while_a_point_runs(tmp_path, monkeypatch):
    """The elapsed time is reported while a slow point runs, before any point is done."""
    import time

    import optimizer.whatif.sweeps as sweeps

    real = sweeps._solve_chunk

    def slow(*args, **kwargs):
        time.sleep(1.6)
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps, "_solve_chunk", slow)
    calls: list[SweepProgress] = []
    s = sweep(load(small(tmp_path)), {"budget": [4.0, 6.0]}, workers=1, progress=calls.append)
    assert len(s.points) == 2
    before = [c.elapsed for c in calls if c.done == 0]
    assert len(before) >= 3, calls  # at least every TICK_SECONDS while nothing is done
    assert before == sorted(before) and before[-1] >= 1.0, before
    assert calls[-1].done == 2
