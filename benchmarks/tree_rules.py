"""The tree search alone under several settings, side by side in one run: mean gap to
best-known.

On each OR-Library problem named, ``optimizer.solving.tree.tree_search`` (one thread,
the seed given) runs for the same number of seconds once per variant, in this process,
the variants taking turns problem by problem. A variant is its branching rule, or
several joined by ``+`` (one tree each, in turn: ``largest+pseudocost``), optionally
followed by ``:NAME=VALUE`` settings of the module's constants
(``largest+pseudocost:RIVAL_TURNS=8``). Every plan is re-checked against the
OR-Library data. It prints each variant's plan per problem and its mean gap.

    python benchmarks/tree_rules.py --seconds 40 --problems mknapcb5:1,mknapcb8:13 \\
        --variants largest,largest+pseudocost
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peers import plan_value  # noqa: E402
from benchmarks.tree_nodes import knapsack_lp  # noqa: E402
from optimizer.program.orlib import best_known, read_orlib  # noqa: E402
from optimizer.solving import kernels, tree  # noqa: E402
from optimizer.solving.quiet import quiet_stdout  # noqa: E402


def parse_variant(text: str) -> tuple[tuple[str, ...], dict[str, float]]:
    """(branching rules, {constant: value}) of ``rule+rule:NAME=VALUE:...``."""
    rules, *settings = text.split(":")
    constants = {}
    for item in settings:
        name, _, value = item.partition("=")
        if not (name.isupper() and hasattr(tree, name)):
            raise SystemExit(f"tree_rules.py: --variants {text!r}: no constant {name!r}")
        constants[name] = type(getattr(tree, name))(float(value))
    return tuple(rules.split("+")), constants


def run(name: str, index: int, problem, seconds: float, variant: str, seed: int) -> float:
    """The value of the plan the tree finds on ``problem`` (``name``-``index``),
    re-checked against the OR-Library data."""
    rules, constants = parse_variant(variant)
    saved = {key: getattr(tree, key) for key in constants}
    for key, value in constants.items():
        setattr(tree, key, value)
    try:
        with quiet_stdout():  # (HiGHS's banner)
            found = tree.tree_search(knapsack_lp(name, index),
                                     {"threads": 1, "random_seed": seed}, seconds,
                                     branching=rules if len(rules) > 1 else rules[0])
    finally:
        for key, value in saved.items():
            setattr(tree, key, value)
    if found.values is None:
        return 0.0
    value = plan_value(problem, list(np.flatnonzero(np.round(found.values) == 1)))
    if value == -np.inf:
        raise SystemExit(f"tree_rules.py: {name}-{index:02d} {variant}: the plan does "
                         "not fit")
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--problems", default="mknapcb5:1,mknapcb8:1",
                    help="FILE:INDEX, comma separated")
    ap.add_argument("--variants", default="largest,largest+pseudocost")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    variants = args.variants.split(",")
    for variant in variants:
        parse_variant(variant)
    if not (kernels.COMPILED and kernels.ready()):
        kernels.compile_all()
    table = best_known(ROOT / "instances" / "orlib" / "best_known.csv")
    gaps: dict[str, list[float]] = {v: [] for v in variants}
    print("| problem | best-known | " + " | ".join(variants) + " |")
    print("|---|---|" + "---|" * len(variants))
    for item in args.problems.split(","):
        name, index = item.split(":")
        known = table[(f"{name}.txt", int(index))][0]
        problem = read_orlib(ROOT / "instances" / "orlib" / f"{name}.txt")[int(index)]
        values = [run(name, int(index), problem, args.seconds, v, args.seed)
                  for v in variants]
        for variant, value in zip(variants, values, strict=True):
            gaps[variant].append(100 * (known - value) / known)
        print(f"| {name}-{int(index):02d} | {known:,.0f} | "
              + " | ".join(f"{v:,.0f}" for v in values) + " |", flush=True)
    print("| mean gap | | " + " | ".join(f"{np.mean(g):.4f}%" for g in gaps.values()) + " |")


if __name__ == "__main__":
    main()
