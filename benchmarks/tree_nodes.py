"""The tree search's speed per node: its node LPs in the compiled dual simplex
(``optimizer/solving/simplex.py``) and through highspy, side by side in one run.

On each OR-Library problem named, the tree (``optimizer.solving.tree.tree_search``,
one thread) runs for the same number of seconds twice, in this process: with its node
LPs compiled and with them in HiGHS (the compiled fill and climb in both). It prints,
per problem and route, the nodes searched, the time per node, the pivots per node (the
compiled route) and the best plan found, then the ratio of nodes per second.

    python benchmarks/tree_nodes.py --seconds 5 --problems mknapcb8:0,mknapcb5:0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.program.orlib import read_orlib  # noqa: E402
from optimizer.solving import kernels, simplex  # noqa: E402
from optimizer.solving.highs import integer_lp  # noqa: E402
from optimizer.solving.tree import tree_search  # noqa: E402


def knapsack_lp(name: str, index: int):
    problem = read_orlib(ROOT / "instances" / "orlib" / f"{name}.txt")[index]
    weights = sp.csc_array(np.asarray(problem.weights, dtype=float))
    n, m = weights.shape[1], weights.shape[0]
    return integer_lp(np.asarray(problem.profits, dtype=float), np.zeros(n), np.ones(n),
                      weights, np.full(m, -np.inf),
                      np.asarray(problem.capacities, dtype=float), minimize=False)


def run(lp, seconds: float, compiled_lp: bool) -> dict:
    takes = simplex.takes
    if not compiled_lp:
        simplex.takes = lambda *args: False  # type: ignore[assignment]
    pivots = []
    solve = simplex.NodeLP.solve

    def counted(self, lo, hi):
        result = solve(self, lo, hi)
        pivots.append(self.out[1])
        return result

    simplex.NodeLP.solve = counted  # type: ignore[method-assign]
    try:
        found = tree_search(lp, {"threads": 1, "random_seed": 1}, seconds)
    finally:
        simplex.takes, simplex.NodeLP.solve = takes, solve  # type: ignore[method-assign]
    return {"nodes": found.nodes, "ms_per_node": 1000 * found.seconds / max(found.nodes, 1),
            "pivots_per_node": float(np.mean(pivots)) if pivots else None,
            "best": found.objective, "compiled_lp": found.compiled_lp}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--problems", default="mknapcb8:0,mknapcb5:0,mknapcb7:7")
    args = ap.parse_args()
    if not (kernels.COMPILED and kernels.ready()):
        kernels.compile_all()
    print("| problem | node LPs | nodes | ms per node | pivots per node | best plan |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for item in args.problems.split(","):
        name, index = item.split(":")
        lp = knapsack_lp(name, int(index))
        rows = {route: run(lp, args.seconds, route == "compiled")
                for route in ("compiled", "highspy")}
        for route, r in rows.items():
            pivots = "" if r["pivots_per_node"] is None else f"{r['pivots_per_node']:.1f}"
            print(f"| {name}-{int(index):02d} | {route} | {r['nodes']:,} | "
                  f"{r['ms_per_node']:.3f} | {pivots} | {r['best']:,.0f} |")
        ratios.append(rows["compiled"]["nodes"] / max(rows["highspy"]["nodes"], 1))
    print(f"\nnodes per second, compiled / highspy: "
          f"{' / '.join(f'{r:.2f}' for r in ratios)} (geometric mean "
          f"{float(np.exp(np.mean(np.log(ratios)))):.2f})")


if __name__ == "__main__":
    main()
