"""Quality at a fixed time limit against the peers, side by side in one run.

On Chu-Beasley multidimensional knapsack problems, each solver gets the same time limit
and one thread, in a fresh process per problem, and its best plan is compared with the
best-known value:

- ``project``: ``optimizer solve PROGRAM --json --threads 1 --time-limit T`` (with any
  ``--project-flags``), on the converted program; its plan passes the checker;
- ``highs``: plain HiGHS, defaults (presolve on), on the same matrix
  (``benchmarks/raw_highspy.py --presolve on``);
- ``cpsat``: OR-Tools CP-SAT, one worker, on the knapsack read from the OR-Library file;
- ``scip``: SCIP through pyscipopt, on the same, at its defaults;
- ``scip-nosep``: SCIP with every cut separator off (``setSeparating(OFF)``), which
  explores more nodes and was measured the stronger at these limits;
- any ``--variant NAME=FLAGS``: this project again, with those ``optimizer solve`` flags
  (``--variant "tree=--heuristic tree"``), so that settings are compared in one run.

Every plan is re-checked here against the OR-Library data (capacities and profit), so a
solver's own report is never trusted. Beside the plans, the table reports how far each
solver's bound stays above the best-known value (mean) and its branch-and-bound nodes
(median; CP-SAT's branches). ``--jobs 2`` runs two problems at once (one per
core on a 2-core machine); the solvers take turns so that each sees the same load.

    pip install ortools pyscipopt   # the peers (not dependencies of the project)
    python benchmarks/peers.py --time-limit 10 --files 4,5,7,8 --problems 0,7,14,21,28

With ``--seeds 1,2,3`` every solver runs every problem once per seed (the solvers'
random seeds), and the table's means are over all of those runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOLVERS = ("project", "highs", "cpsat", "scip", "scip-nosep")


# ------------------------------------------------------------------ one solve, in a child
def _peer(solver: str, orlib_file: str, index: int, time_limit: float, seed: int) -> dict:
    """Run CP-SAT or SCIP on one problem (in this process: the caller is a fresh child)."""
    from optimizer.program.orlib import read_orlib

    problem = read_orlib(orlib_file)[index]
    p, w, b = problem.profits, problem.weights, problem.capacities
    n = len(p)
    started = time.perf_counter()
    if solver == "cpsat":
        from ortools.sat.python import cp_model

        model = cp_model.CpModel()
        x = [model.NewBoolVar(f"x{j}") for j in range(n)]
        for i in range(len(b)):
            model.Add(sum(int(w[i, j]) * x[j] for j in range(n) if w[i, j]) <= int(b[i]))
        model.Maximize(sum(int(p[j]) * x[j] for j in range(n)))
        cp = cp_model.CpSolver()
        cp.parameters.max_time_in_seconds = time_limit
        cp.parameters.num_workers = 1
        cp.parameters.random_seed = seed
        status = cp.Solve(model)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        chosen = [j for j in range(n) if found and cp.Value(x[j])]
        proven = status == cp_model.OPTIMAL
        bound = cp.BestObjectiveBound()
        nodes = int(cp.NumBranches())
    else:
        from pyscipopt import SCIP_PARAMSETTING, Model, quicksum

        model = Model()
        model.hideOutput()
        if solver == "scip-nosep":
            model.setSeparating(SCIP_PARAMSETTING.OFF)
        model.setParam("limits/time", time_limit)
        model.setParam("randomization/randomseedshift", seed)
        model.setParam("limits/gap", 0.0)
        x = [model.addVar(vtype="B", name=f"x{j}") for j in range(n)]
        for i in range(len(b)):
            model.addCons(quicksum(float(w[i, j]) * x[j] for j in range(n) if w[i, j])
                          <= float(b[i]))
        model.setObjective(quicksum(float(p[j]) * x[j] for j in range(n)), "maximize")
        model.optimize()
        found = model.getNSols() > 0
        best = model.getBestSol() if found else None
        chosen = [j for j in range(n) if found and model.getSolVal(best, x[j]) > 0.5]
        proven = model.getStatus() == "optimal"
        bound = model.getDualbound()
        nodes = int(model.getNNodes())
    return {"chosen": chosen, "proven": proven, "bound": float(bound), "nodes": nodes,
            "seconds": time.perf_counter() - started}


def _child(args: argparse.Namespace) -> None:
    out = _peer(args.one, args.orlib, args.index, args.time_limit, args.seed)
    sys.stdout.write(json.dumps(out) + "\n")


# ---------------------------------------------------------------------- the driver
def plan_value(problem, chosen: list[int]) -> float:
    """The plan's profit, after checking every capacity (None-safe: -inf if broken)."""
    x = np.zeros(len(problem.profits))
    x[chosen] = 1
    if np.any(problem.weights @ x > problem.capacities + 1e-9):
        return -np.inf
    return float(problem.profits @ x)


def run_one(solver: str, orlib_file: Path, index: int, program: Path, time_limit: float,
            seed: int, project_flags: list[str], variants: dict[str, list[str]]) -> dict:
    started = time.perf_counter()
    if solver in variants:
        project_flags = variants[solver]
    if solver == "project" or solver in variants:
        cmd = [sys.executable, "-m", "optimizer", "solve", str(program), "--json",
               "--threads", "1", "--time-limit", str(time_limit), "--seed", str(seed),
               *project_flags]
    elif solver == "highs":
        cmd = [sys.executable, str(ROOT / "benchmarks" / "raw_highspy.py"), str(program),
               "--threads", "1", "--time-limit", str(time_limit), "--presolve", "on",
               "--seed", str(seed), "--units"]
    else:
        cmd = [sys.executable, __file__, "--one", solver, "--orlib", str(orlib_file),
               "--index", str(index), "--time-limit", str(time_limit), "--seed", str(seed)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    try:
        text = proc.stdout.strip()  # one JSON object (indented), or one JSON line
        whole = solver == "project" or solver in variants
        data = json.loads(text if whole else text.splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"solver": solver, "error": proc.stderr[-500:], "wall": wall}
    if solver == "project" or solver in variants:
        chosen = [int(s["id"][1:]) for s in data["selected"]]
        proven = data["status"] == "optimal" and data["gap"] == 0
        nodes = data["solver"].get("nodes")
    elif solver == "highs":
        chosen = [j for j, u in enumerate(data.get("units") or []) if u > 0.5]
        proven = data["status"] == "optimal" and (data.get("gap") or 0) == 0
        nodes = data.get("nodes")
    else:
        chosen, proven, nodes = data["chosen"], data["proven"], data["nodes"]
    return {"solver": solver, "chosen": chosen, "proven": proven, "wall": wall,
            "bound": data.get("bound"), "nodes": nodes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--files", default="4,5,7,8", help="mknapcb file numbers")
    ap.add_argument("--problems", default="0,7,14,21,28", help="problem indices per file")
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--seeds", default="0", help="the solvers' random seeds, e.g. 1,2,3")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=FLAGS",
                    help="this project with these flags, as solver NAME (repeatable)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--project-flags", default="", help="extra flags for optimizer solve")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write every row")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--orlib", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        _child(args)
        return
    from optimizer.program.orlib import best_known, convert, read_orlib

    table = best_known(ROOT / "instances" / "orlib" / "best_known.csv")
    variants = {}
    for text in args.variant:
        name, _, flags = text.partition("=")
        variants[name] = flags.split()
    solvers = args.solvers.split(",") + [v for v in variants if v not in args.solvers]
    seeds = [int(s) for s in args.seeds.split(",")]
    tasks = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.files.split(","):
            orlib_file = ROOT / "instances" / "orlib" / f"mknapcb{k}.txt"
            problems = read_orlib(orlib_file)
            programs = {p.parent.name: p for p in convert(orlib_file, Path(tmp) / k)}
            for i in map(int, args.problems.split(",")):
                name = f"mknapcb{k}-{i:02d}"
                known = table[(f"mknapcb{k}.txt", i)][0]
                for seed in seeds:
                    for solver in solvers:  # the solvers take turns, problem by problem
                        tasks.append((solver, orlib_file, i, programs[name], problems[i],
                                      name, known, seed))

        def work(task: tuple) -> dict:
            solver, orlib_file, i, program, problem, name, known, seed = task
            row = run_one(solver, orlib_file, i, program, args.time_limit, seed,
                          args.project_flags.split(), variants)
            if "error" not in row:
                row["value"] = plan_value(problem, row.pop("chosen"))
                row["gap"] = 100 * (known - row["value"]) / known
                row["reach"] = row["value"] >= known - 1e-6
            row.update(problem=name, known=known, seed=seed)
            print(json.dumps({k: v for k, v in row.items() if k != "error"}), flush=True)
            return row

        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(work, tasks))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    runs = len(rows) // len(solvers)
    print(f"\n{runs // len(seeds)} problems x {len(seeds)} seed(s), {args.time_limit:g} s, "
          f"1 thread\n")
    print("| solver | mean gap to best-known | by seed | reach it | proven | failed | "
          "bound above best-known | nodes (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for solver in solvers:
        mine = [r for r in rows if r["solver"] == solver]
        ok = [r for r in mine if "error" not in r]
        gap = statistics.mean(r["gap"] for r in ok) if ok else float("nan")
        # how far the solver's proven bound stays above the best-known value: the part
        # of the search that decides whether better plans can still be found
        above = [100 * (r["bound"] - r["known"]) / r["known"] for r in ok
                 if r.get("bound") is not None]
        nodes = [r["nodes"] for r in ok if r.get("nodes") is not None]
        by_seed = " / ".join(
            f"{statistics.mean(r['gap'] for r in ok if r['seed'] == s):.4f}%"
            for s in seeds if any(r["seed"] == s for r in ok))
        print(f"| {solver} | {gap:.4f}% | {by_seed} | {sum(r['reach'] for r in ok)} | "
              f"{sum(r['proven'] for r in ok)} | {len(mine) - len(ok)} | "
              f"{statistics.mean(above) if above else float('nan'):.4f}% | "
              f"{statistics.median(nodes) if nodes else float('nan'):.0f} |")


if __name__ == "__main__":
    main()
