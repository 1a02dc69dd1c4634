"""What model reuse and parallel workers buy a sweep, measured side by side in one run.

    python benchmarks/sweep_scaling.py                        # 2,000 projects, 25 points
    python benchmarks/sweep_scaling.py --projects 200 --points 9 --workers 1,2

On a generated program (10 years, seed 2026), a budget sweep of ``--points`` values
from ``--low`` to ``--high`` times the program's own cap (60% to 110% by default: above
about 120%, the per-year caps bind instead and single points take up to a minute), one
thread per solve, gap 1e-4, ``--time-limit`` seconds per point:

1. in one process: the sweep reusing one model (one chunk, warm starts, shared plans)
   against every point solved cold (rebuilt, no start, no sharing);
2. as whole processes: one ``optimizer sweep`` run against one ``optimizer solve`` run per
   point (each on a program file with that budget);
3. on a Dask ``LocalCluster`` of 1, 2 and 4 single-thread workers: the same chunks (of
   ``--chunk-size`` points), timed from submission to the last point, after the cluster
   is up.

Nothing else should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer import SolveOptions, load, sweep  # noqa: E402
from optimizer.program.generate import generate, write  # noqa: E402


def _clock(fn):  # noqa: ANN001, ANN202
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=2000)
    ap.add_argument("--points", type=int, default=25)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--chunk-size", type=int, default=4)
    ap.add_argument("--low", type=float, default=0.6)
    ap.add_argument("--high", type=float, default=1.1)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--skip", default="", help="comma list of: inprocess,process,dask")
    ap.add_argument("--only", default="", help="comma list of: inprocess,process,dask")
    args = ap.parse_args()
    options = SolveOptions(threads=1, gap=1e-4, seed=0, time_limit=args.time_limit)
    skip = set(filter(None, args.skip.split(",")))
    if args.only:
        skip |= {"inprocess", "process", "dask"} - set(args.only.split(","))

    work = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    path = write(generate(args.projects, years=10, seed=2026), work / "base")
    base = load(path)
    cap = float(base.budget_total or 0)
    budgets = [round(cap * (args.low + (args.high - args.low) * k / (args.points - 1)), 3)
               for k in range(args.points)]
    grid = {"budget": budgets}
    print(f"program: {args.projects} projects, budget cap {cap:g}; {args.points} points "
          f"from {budgets[0]:g} to {budgets[-1]:g}")

    if "inprocess" not in skip:
        warm, t_warm = _clock(lambda: sweep(base, grid, options, chunk_size=len(budgets)))
        cold, t_cold = _clock(lambda: sweep(base, grid, options, reuse=False, share=False))
        diff = (warm.frame["objective"] - cold.frame["objective"]).abs().max()
        shared = int(warm.frame["shared_from"].notna().sum())
        print("\n| in one process | seconds | per point |\n|---|---|---|")
        print(f"| reused model, warm starts | {t_warm:.2f} | {t_warm / len(budgets):.3f} |")
        print(f"| every point cold | {t_cold:.2f} | {t_cold / len(budgets):.3f} |")
        print(f"speed-up {t_cold / t_warm:.2f}x; largest objective difference {diff:.3g} "
              f"(gap 1e-4); plans shared between points: {shared}; objective never falls: "
              f"{bool(warm.frame['objective'].is_monotonic_increasing)}")

    if "process" not in skip:
        text = path.read_text()
        files = []
        for k, b in enumerate(budgets):
            folder = work / f"point{k:02d}"
            folder.mkdir()
            edited, count = re.subn(r"(?m)^(budget:\n  total: ).*$", rf"\g<1>{b}", text,
                                    count=1)
            assert count == 1, "the generated program's budget.total line moved"
            for other in path.parent.iterdir():
                if other.name != path.name:
                    (folder / other.name).symlink_to(other)
            (folder / path.name).write_text(edited)
            files.append(folder / path.name)
        cmd = [sys.executable, "-m", "optimizer"]
        lo, hi = budgets[0], budgets[-1]
        step = (hi - lo) / (len(budgets) - 1)
        _, t_sweep = _clock(lambda: subprocess.run(
            [*cmd, "sweep", str(path), "--param", f"budget={','.join(map(str, budgets))}",
             "--workers", "1", "--chunk-size", str(len(budgets)), "--threads", "1",
             "--time-limit", str(args.time_limit), "--json"], check=True, capture_output=True))
        outs, t_solves = _clock(lambda: [subprocess.run(
            [*cmd, "solve", str(f), "--threads", "1", "--time-limit", str(args.time_limit),
             "--json"], capture_output=True)
            for f in files])
        ok = all(json.loads(o.stdout)["status"] in ("optimal", "feasible") for o in outs)
        print("\n| whole processes | seconds |\n|---|---|")
        print(f"| one `optimizer sweep` ({len(budgets)} points, 1 worker) | {t_sweep:.2f} |")
        print(f"| {len(budgets)} `optimizer solve` runs | {t_solves:.2f} |")
        print(f"ratio {t_solves / t_sweep:.2f}x (every solve found a plan: {ok}; step {step:g})")

    if "dask" not in skip:
        import distributed

        serial, t_serial = _clock(lambda: sweep(base, grid, options,
                                                chunk_size=args.chunk_size))
        chunks = -(-len(budgets) // args.chunk_size)
        print("\n| Dask workers | seconds | speed-up vs 1 worker | same points |\n"
              "|---|---|---|---|")
        print(f"| none (serial, same {chunks} chunks) | {t_serial:.2f} | - | - |")
        first = None
        for w in (int(x) for x in args.workers.split(",")):
            with distributed.LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                                          dashboard_address=None) as cluster, \
                    distributed.Client(cluster) as client:
                client.run(lambda: __import__("optimizer.whatif.sweeps"))  # warm the imports
                got, t = _clock(lambda c=client: sweep(base, grid, options,
                                                       chunk_size=args.chunk_size, client=c))
            first = first or t
            same = all(p["objective"] == q["objective"] and p["selected"] == q["selected"]
                       for p, q in zip(serial.points, got.points, strict=True))
            print(f"| {w} | {t:.2f} | {first / t:.2f}x | {same} |")


if __name__ == "__main__":
    main()
