"""HiGHS presolve on against off, on generated programs: the measurement behind
``PRESOLVE_OFF_FROM``. One thread, relative gap 1e-4, both settings on the same programs.

    python benchmarks/presolve_sweep.py [--sizes 200,2000,20000] [--seeds 2026,7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from optimizer import SolveOptions, load, solve
    from optimizer.program.generate import generate, write

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="200,2000,20000")
    ap.add_argument("--seeds", default="2026,7")
    ap.add_argument("--time-limit", type=float, default=120)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="presolve-"))
    for n in (int(s) for s in args.sizes.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            instance = load(write(generate(n, seed=seed), root / f"n{n}-s{seed}"))
            cells = []
            for presolve in ("on", "off"):
                r = solve(instance, SolveOptions(threads=1, gap=1e-4, presolve=presolve,
                                                 time_limit=args.time_limit))
                cells.append(f"{presolve}: {r.timings['solve']:6.2f} s {r.termination:<10} "
                             f"objective {r.objective:.4f}")
            print(f"{n:>7} seed {seed:<5} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
