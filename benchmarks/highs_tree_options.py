"""Does any HiGHS option move its branch and bound on hard Chu-Beasley problems?

For each problem and each option set, HiGHS (one thread, gap 0) runs for the time limit
on the knapsack itself and reports its best plan, its bound, the nodes it explored and
its simplex iterations. Run it alone on the machine: node counts are a rate.

    python benchmarks/highs_tree_options.py [--problems 7-07,5-07,8-00] [--time-limit 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The option sets tried, each against HiGHS's defaults (the first, empty, set).
OPTION_SETS: list[dict[str, object]] = [
    {},
    {"mip_heuristic_effort": 0.0},
    {"mip_pscost_minreliable": 0},
    {"mip_pool_soft_limit": 200},
    {"mip_lp_age_limit": 30, "mip_pool_age_limit": 100},
    {"mip_detect_symmetry": False, "presolve": "off"},
]


def main() -> None:
    import highspy

    from optimizer.program.orlib import read_orlib
    from optimizer.solving.highs import integer_lp, quiet_stdout

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", default="7-07,5-07,8-00",
                    help="mknapcb FILE-INDEX pairs, comma-separated")
    ap.add_argument("--time-limit", type=float, default=10.0)
    args = ap.parse_args()
    print("| problem | options | best plan | bound | nodes | simplex iterations |")
    print("|---|---|---|---|---|---|")
    for name in args.problems.split(","):
        k, i = name.split("-")
        problem = read_orlib(ROOT / "instances" / "orlib" / f"mknapcb{k}.txt")[int(i)]
        n, m = problem.n, problem.m
        lp = integer_lp(problem.profits.astype(float), np.zeros(n), np.ones(n),
                        sp.csc_array(problem.weights.astype(float)), np.full(m, -np.inf),
                        problem.capacities.astype(float))
        for options in OPTION_SETS:
            with quiet_stdout():  # HiGHS's banner
                h = highspy.Highs()
                settings = {"output_flag": False, "threads": 1, "mip_rel_gap": 0.0,
                            "time_limit": args.time_limit, **options}
                for key, value in settings.items():
                    h.setOptionValue(key, value)
                h.passModel(lp)
                h.run()
            info = h.getInfo()
            print(f"| mknapcb{name} | {options or 'defaults'} | "
                  f"{info.objective_function_value:.0f} | {info.mip_dual_bound:.0f} | "
                  f"{info.mip_node_count} | {info.simplex_iteration_count} |", flush=True)


if __name__ == "__main__":
    main()
