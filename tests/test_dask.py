"""Sweeps on a Dask cluster return the same points as a serial run.

Two clusters: a ``LocalCluster`` (worker processes) driven from the API, and a scheduler
and two workers started as separate operating-system processes on loopback, driven from
``optimizer sweep --scheduler``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
from helpers import EXACT, error_object

from optimizer import load, sweep

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")

PILOT = "instances/pilot-v1/program.yaml"
GRID = {"budget": [300.0, 362.5, 425.0, 487.5, 550.0], "labor_scale": [0.9, 1.1]}
KEYS = ("parameters", "status", "termination", "objective", "bound", "selected", "capital",
        "labor", "shared_from")


def _same(a, b):
    assert a, "no points to compare"  # two empty sweeps would agree vacuously
    assert len(a) == len(b)
    for p, q in zip(a, b, strict=True):
        for key in KEYS:
            assert p[key] == q[key], (key, p["parameters"])


@pytest.fixture(scope="module")
def serial():
    return sweep(load(PILOT), GRID, EXACT, chunk_size=3)


@pytest.mark.solver
def test_local_cluster_returns_the_serial_points(serial):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        calls = []
        on_cluster = sweep(load(PILOT), GRID, EXACT, chunk_size=3, client=client,
                           progress=calls.append)
    assert on_cluster.workers == 2
    _same(serial.points, on_cluster.points)
    # progress as chunks complete: 10 points in chunks of 3 -> 4 rises of the count, up
    # to the total (ticks in between repeat the count with a later elapsed time)
    done = [c.done for c in calls]
    rises = [c.done for before, c in zip([None, *calls[:-1]], calls, strict=True)
             if c.done > (0 if before is None else before.done)]
    assert len(rises) == 4 and done == sorted(done) and done[-1] == 10
    assert [c.elapsed for c in calls] == sorted(c.elapsed for c in calls)
    assert all(c.total == 10 for c in calls)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def loopback_cluster():
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the Dask scheduler did not start")
                time.sleep(0.2)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                 "1", "--nworkers", "1", "--dashboard-address", ":0"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.solver
def test_cli_sweep_on_a_scheduler_matches_the_local_run(loopback_cluster, serial):
    args = [sys.executable, "-m", "optimizer", "sweep", PILOT, "--budget", "300:550:62.5",
            "--labor-scale", "0.9,1.1", "--gap", "0", "--chunk-size", "3", "--json"]
    remote = subprocess.run([*args, "--scheduler", loopback_cluster], capture_output=True,
                            text=True, timeout=600)
    assert remote.returncode == 0, remote.stderr
    local = subprocess.run([*args, "--workers", "2"], capture_output=True, text=True,
                           timeout=600)
    assert local.returncode == 0, local.stderr
    remote_points = json.loads(remote.stdout)["points"]
    _same(json.loads(local.stdout)["points"], remote_points)
    _same(serial.points, remote_points)
    assert json.loads(remote.stdout)["workers"] == 2


def test_unreachable_scheduler_is_a_usage_error():
    port = _free_port()
    proc = subprocess.run([sys.executable, "-m", "optimizer", "sweep", PILOT, "--budget",
                           "400:500:100", "--scheduler", f"tcp://127.0.0.1:{port}", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot connect" in proc.stderr and error_object(proc.stdout)
