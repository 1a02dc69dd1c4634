"""Whole-process comparison, side by side in one run: this project's ``optimizer solve``
against the raw highspy reference (``benchmarks/raw_highspy.py``) on the same files.

Each route runs as a fresh process, alternating, ``--repeat`` times; the table gives the
median wall time and the peak resident memory of each, and their ratios. Timings on a
shared machine are noisy: read the ratios, measured in the same run, not the seconds.

    python benchmarks/compare_routes.py --sizes 20000,100000 --repeat 3
    python benchmarks/compare_routes.py --format 2 --starts 3 --sizes 20000 --repeat 5
    python benchmarks/compare_routes.py --files some/program.yaml

``--format 2`` generates version-2 part-A programs (``optimizer generate --format 2``:
start windows, cash flows and the memorandum's split, the deadline, lags, the
per-project hurdle, a recycled budget); ``--starts K`` then widens every project's
window to exactly K start years (inside the horizon), the issue's "three start years
each".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS in MB, exit code, stdout) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, out


def _count_projects(path: Path) -> int:
    out = subprocess.run([sys.executable, "-m", "optimizer", "validate", str(path)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return int(out.split("valid (")[1].split()[0])


_WIDEN = """
import sys, yaml, pandas as pd
folder, k = sys.argv[1], int(sys.argv[2])
first, last = yaml.safe_load(open(folder + "/program.yaml"))["horizon"]
table = pd.read_csv(folder + "/projects.csv", dtype=str, keep_default_na=False)
start = pd.to_numeric(table["start"], errors="coerce")
profiles = pd.read_csv(folder + "/profiles.csv")
start = start.fillna(table["id"].map(profiles.groupby("project")["year"].min()))
early = start.clip(upper=last - k + 1).clip(lower=first).astype(int)
table["earliest_start"], table["latest_start"] = early, early + k - 1
table.to_csv(folder + "/projects.csv", index=False)
"""


def _widen(folder: Path, k: int) -> None:
    """Every project of the version-2 program in ``folder`` may start in exactly ``k``
    years (in a child process: this one stays small)."""
    subprocess.run([sys.executable, "-c", _WIDEN, str(folder), str(k)], cwd=ROOT, check=True)


def _cold_start(repeat: int) -> None:
    """The pilot solved as a whole process against importing highspy alone."""
    pilot = [sys.executable, "-m", "optimizer", "solve",
             str(ROOT / "instances" / "pilot-v1" / "program.yaml"), "--json"]
    bare = [sys.executable, "-c", "import highspy"]
    seen: dict[str, list[tuple[float, float]]] = {"pilot": [], "import highspy": []}
    for _ in range(repeat):
        for name, cmd in (("pilot", pilot), ("import highspy", bare)):
            wall, peak, code, _ = run(cmd)
            if code != 0:
                raise SystemExit(f"{name} failed with exit {code}")
            seen[name].append((wall, peak))
    for name, runs in seen.items():
        print(f"cold start, {name:<15} median {statistics.median(w for w, _ in runs):.2f} s, "
              f"peak {max(p for _, p in runs):.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20000,100000")
    ap.add_argument("--files", nargs="*", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--presolve", default="auto", choices=("auto", "on", "off"))
    ap.add_argument("--format", default="1", choices=("1", "2"))
    ap.add_argument("--starts", type=int, default=None,
                    help="version 2: every project's window exactly this many years")
    ap.add_argument("--cold-start", action="store_true",
                    help="also time `optimizer solve` on the pilot against "
                         "`python -c 'import highspy'`, alternating")
    args = ap.parse_args()
    if args.cold_start:
        _cold_start(args.repeat)

    # this process stays small (no pandas, no Pyomo): a child's peak memory as the kernel
    # reports it includes what it inherited from here before it started its program
    threshold = int(subprocess.run(
        [sys.executable, "-c",
         "from optimizer.solving.highs import PRESOLVE_OFF_FROM as t; print(t)"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    tmp = Path(tempfile.mkdtemp(prefix="routes-"))
    files = [Path(f) for f in args.files] if args.files else []
    if not files:
        for n in (int(s) for s in args.sizes.split(",")):
            folder = tmp / f"n{n}"
            subprocess.run([sys.executable, "-m", "optimizer", "generate", "--projects", str(n),
                            "--seed", "2026", "--format", args.format, "--out", str(folder)],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            if args.starts:
                _widen(folder, args.starts)
            files.append(folder / "program.yaml")
    rows = []
    for path in files:
        n = _count_projects(path)
        presolve = args.presolve
        if presolve == "auto":
            presolve = "off" if n >= threshold else "on"
        ours = [sys.executable, "-m", "optimizer", "solve", str(path), "--json",
                "--threads", str(args.threads), "--gap", str(args.gap), "--presolve", presolve]
        raw = [sys.executable, str(ROOT / "benchmarks" / "raw_highspy.py"), str(path),
               "--threads", str(args.threads), "--gap", str(args.gap), "--presolve", presolve]
        times: dict[str, list[float]] = {"ours": [], "raw": []}
        peaks: dict[str, list[float]] = {"ours": [], "raw": []}
        objective: dict[str, float | None] = {}
        for _ in range(args.repeat):
            for name, cmd in (("ours", ours), ("raw", raw)):
                wall, peak, code, out = run(cmd)
                if code != 0:
                    raise SystemExit(f"{name} failed with exit {code} on {path}")
                times[name].append(wall)
                peaks[name].append(peak)
                objective[name] = json.loads(out).get("objective")
        t_ours, t_raw = statistics.median(times["ours"]), statistics.median(times["raw"])
        m_ours, m_raw = max(peaks["ours"]), max(peaks["raw"])
        rows.append((path, n, t_ours, t_raw, m_ours, m_raw, objective))
    print(f"{'program':<40} {'projects':>9} {'ours s':>8} {'raw s':>8} {'time x':>7} "
          f"{'ours MB':>8} {'raw MB':>8} {'mem x':>6}  objectives (ours / raw)")
    for path, n, t_ours, t_raw, m_ours, m_raw, obj in rows:
        print(f"{str(path)[-40:]:<40} {n:>9,} {t_ours:>8.2f} {t_raw:>8.2f} {t_ours / t_raw:>7.2f}"
              f" {m_ours:>8.0f} {m_raw:>8.0f} {m_ours / m_raw:>6.2f}  "
              f"{obj['ours']} / {obj['raw']}")


if __name__ == "__main__":
    main()
