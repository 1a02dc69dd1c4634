"""What local search costs a solve to a proof, on generated programs.

For each size and seed, :func:`optimizer.program.generate.generate` writes a program; it is then
solved to a proof (no time limit, one thread) with ``local_search`` off and on,
alternating, and the median solver time of each is printed with the search's own report.
Nothing else should run meanwhile.

    python benchmarks/local_search_proof.py --sizes 500,1000,2000,3000 --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="500,1000,2000,3000")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from optimizer import SolveOptions, solve
    from optimizer.program.generate import generate, write

    print("| projects | seed | objective | off (s) | on (s) | plans handed back | search (s) |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in map(int, args.sizes.split(",")):
            for seed in map(int, args.seeds.split(",")):
                program = write(generate(n, seed=seed), Path(tmp) / f"{n}-{seed}")
                seconds: dict[str, list[float]] = {"off": [], "on": []}
                objective: dict[str, float] = {}
                report = None
                for _ in range(args.repeat):
                    for flag in ("off", "on"):
                        result = solve(program, SolveOptions(threads=1, local_search=flag))
                        if result.status != "optimal" or not result.valid:
                            raise SystemExit(f"{program}: {result.status}, {result.message}")
                        seconds[flag].append(result.timings["solve"])
                        objective[flag] = result.objective
                        report = result.solver["options"].get("local_search", report)
                assert report is not None
                print(f"| {n} | {seed} | {objective['on']:.4f} "
                      f"| {statistics.median(seconds['off']):.2f} "
                      f"| {statistics.median(seconds['on']):.2f} | {report['plans']} "
                      f"| {report['seconds']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
