"""One benchmark solve: an instance solved in a fresh process (``optimizer solve --json``)
so that its peak memory is its own; and what a run records about where it ran (the
commit, the machine)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import optimizer
from optimizer.bench.suites import Options

#: The folder that holds the ``optimizer`` package (the checkout, or site-packages): the
#: solves run there so that they import this very package.
ROOT = Path(__file__).resolve().parents[2]


def _git_commit() -> str:
    if not (ROOT / ".git").exists():  # an installed copy: its version stands for it
        return f"v{optimizer.__version__}"
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus " \
           f"python {platform.python_version()}"


def _solve(path: Path, opts: Options) -> tuple[dict[str, Any], float, int]:
    cmd = [sys.executable, "-m", "optimizer", "solve", str(path), "--json", "--threads",
           str(opts.threads), "--gap", str(opts.gap), "--time-limit", str(opts.time_limit)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    data = json.loads(out) if out.strip() else {"status": "error", "termination": "error"}
    return data, usage.ru_maxrss / 1024, code
