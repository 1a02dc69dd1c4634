"""A primal search of the project's own: an LP-based tree with rounding at every node.

HiGHS runs no heuristic at each node of its tree, and from Python nothing can be added
inside it. On programs whose rows only limit (``<=``, with non-negative coefficients in
the integer columns: every OR-Library knapsack and many capital programs) the LP solution
of any node, rounded down, is a plan. SCIP's best plans on the hard Chu-Beasley problems
come from exactly that rounding, deep in its tree. This search does it at every node:

- **the tree**: best-bound search with plunging over one ``highspy.Highs`` holding the
  LP relaxation. A node is a set of column bounds, changed in place, and its LP is
  re-solved by the dual simplex from the last basis (bounds change, the basis stays
  dual feasible). Where every coefficient is non-negative and every column bounded,
  and numba is at hand, the node LPs run in the project's own compiled dual simplex
  (:mod:`optimizer.solving.simplex`, twice the nodes per second of highspy's calls on
  mknapcb8-00), and in HiGHS where it gives up. No cuts. A node is pruned when its LP
  bound cannot beat the best plan (by one, where every return is whole);
- **at every node** the LP solution is rounded down (a plan, since the rows only limit),
  filled greedily (the units that still fit, by return per unit of the node's
  dual-weighted use of the rows) and climbed: fund a unit that fits, drop a losing unit,
  make the best exchange of one unit for another, until no move gains. Compiled by numba
  (:mod:`optimizer.solving.kernels`) the climb costs microseconds and runs at every
  node; without numba, the numpy :class:`~optimizer.solving.heuristics.SwapSearch` climbs
  from the plans that come within :data:`CLIMB_WITHIN` of the best;
- **branching and fixing** (:mod:`optimizer.solving.branching`): on the fractional
  column of largest LP value, up first, or by pseudo-costs; with a best plan of value
  z*, a column at a bound of a node's LP whose reduced cost exceeds z_node - z* stays
  there below the node (at the root, for the whole search);
- **neighbourhoods** (RINS): after :data:`STALL_NODES` nodes in a row without a better
  plan, a sub-tree of the same kind searches the plans that agree with the best one
  wherever it agrees with the LP solution of the last node, but for a random share of
  those columns, adapted as it goes; then the tree goes on;
- **several trees** (``branching`` a tuple of rules, off by default): each rule grows a
  tree of its own over the whole program, sharing the best plan; the first runs alone
  until it stalls :data:`RIVAL_TURNS` times, then the next joins and they take turns.

:mod:`optimizer.solving.strategies` runs it for a share of the time limit and hands its
plan to HiGHS for the rest. Every plan the search keeps is checked against every row (at
a relative 1e-9) and every column bound. Its bound (the best of the nodes left open, or
its plan's value once no node is left) holds for the whole program.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.solving import kernels, simplex
from optimizer.solving.branching import Branching, fix_by_reduced_costs
from optimizer.solving.frontier import Frontier, Node, joint_bound
from optimizer.solving.heuristics import SwapSearch
from optimizer.solving.quiet import match_thread_scheduler
from optimizer.solving.shape import INF, INTEGRALITY, Shape, why_not_tree

__all__ = ["TreeResult", "tree_search", "why_not_tree"]

#: Without numba, a node's plan is climbed (by the numpy swap search) only when it comes
#: within this share of the best plan's value; compiled, every node's plan is climbed.
#: Measured on problems 3 and 17 of mknapcb4, 5, 7 and 8 at 10 s (mean gap): numpy 0.0607%
#: / 0.0581% / 0.0565% within 0.005 / 0.01 / 0.02; compiled 0.0556% within 0.02, 0.0334% all.
CLIMB_WITHIN = 0.02
#: The open nodes may hold at most this many bytes of bounds; past it the worse half is
#: dropped (the search then no longer bounds the program, and says so).
MAX_OPEN_BYTES = 256 * 2**20
#: After this many nodes in a row without a better plan, the tree stops for a
#: neighbourhood search (:meth:`_Search.neighbourhood`) of at most
#: :data:`NEIGHBOURHOOD_NODES` nodes, then goes on. Measured on problems 3, 10, 17 and 24
#: of mknapcb5, 7 and 8, the tree alone for 20 s (mean gap): 0.0339% without; 0.0180% with
#: 2000 / 1000, 0.0266% with 1000 / 1000, 0.0417% with 1000 / 2000.
STALL_NODES = 2000
NEIGHBOURHOOD_NODES = 1000
#: The share of the agreeing columns a neighbourhood frees at random grows by this step
#: after a neighbourhood searched to the end in vain (up to :data:`MAX_FREED`), and falls
#: by it after one that was not searched to the end.
FREED_STEP, MAX_FREED = 0.05, 0.5
#: With several trees, the next joins after this many turns per tree running brought no
#: better plan. Measured, the tree alone for 40 s (mean gap): on problems 3, 10, 17 and
#: 24 of mknapcb5, 7 and 8 with mknapcb5-00 and 8-00, "largest" 0.0308%, with
#: "pseudocost" joining after 3 / 8 turns 0.0249% / 0.0304%; on problems 1, 6 and 13 of
#: mknapcb5 and 8 and 1, 13 of mknapcb7, 0.1140% alone, 0.1198% after 3: so off.
RIVAL_TURNS = 3


@dataclass
class TreeResult:
    """What the tree search found: the best plan (column values, or None), its value (as
    a return to maximise, however the model states it; as are the bounds), the root LP's
    value, solution and reduced costs (of that maximisation), the best bound of the nodes
    still open when it stopped (None when it stopped before the root LP) and whether the
    tree was searched to the end (then the plan is optimal within HiGHS's LP tolerances)."""

    values: np.ndarray | None
    objective: float | None
    lp_objective: float
    lp_values: np.ndarray
    reduced_costs: np.ndarray
    bound: float | None
    exhausted: bool = False
    nodes: int = 0
    plans: int = 0  # times the best plan improved
    climbed: float = 0.0  # what the climbs from node plans added, in all
    fixed_at_root: int = 0
    compiled: bool = False  # whether the fill and climb ran compiled (numba)
    compiled_lp: bool = False  # whether node LPs ran in the compiled dual simplex
    lp_failed: int = 0  # node LPs it handed to HiGHS
    seconds: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)  # (seconds, value)
    neighbourhoods: int = 0  # neighbourhoods searched (RINS)
    improved_by_neighbourhoods: int = 0  # of them, those that found a better plan
    trees: int = 1  # trees that took turns (one per branching rule, as they joined)


class _Search:
    def __init__(self, lp: Any, options: dict[str, Any], deadline: float,
                 climb: bool, branching: str | tuple[str, ...], neighbourhoods: bool,
                 stop: Callable[[], bool] | None,
                 on_plan: Callable[[float, float], None] | None) -> None:
        import highspy

        p = self.p = Shape(lp)
        self.deadline = deadline
        # one rule per tree (an unknown one refused before any LP is solved)
        self.rules = [Branching(p, kind) for kind in
                      ((branching,) if isinstance(branching, str) else branching)]
        self.stop, self.on_plan = stop, on_plan
        self.compiled = kernels.COMPILED and kernels.ready()
        self.climbing = climb
        limited = p.dense[p.has_upper]
        self.node_lp = (simplex.NodeLP(p.dense, p.row_upper, p.has_upper, p.cost)
                        if self.compiled and simplex.takes(limited, p.lower, p.upper)
                        else None)
        # without numba, the numpy swap search climbs (from the plans near the best)
        self.swap = SwapSearch(lp, math.inf) if climb and not self.compiled else None
        movable = np.flatnonzero(p.whole & (p.upper > p.lower))
        self.by_cost = movable[np.argsort(-p.cost[movable], kind="stable")].astype(np.int64)
        self.scale = 1e-9 * max(1.0, float(np.abs(p.cost).max(initial=0.0)))
        self.started = time.perf_counter()
        match_thread_scheduler(options.get("threads"))
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for name in ("threads", "random_seed", "primal_feasibility_tolerance"):
            if name in options:
                h.setOptionValue(name, options[name])
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        h.passModel(lp)
        n = self.n = lp.num_col_
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                np.full(n, highspy.HighsVarType.kContinuous))
        self.h = h
        self.all_cols = np.arange(n, dtype=np.int32)
        self.optimal = highspy.HighsModelStatus.kOptimal
        self.best: np.ndarray | None = None
        self.best_value = -math.inf
        self.counter = itertools.count()  # the order nodes are made, across every tree
        self.neighbourhoods_on = neighbourhoods
        self.neighbourhoods = self.improved_by_neighbourhoods = 0
        self.freed = 0.0  # the share of agreeing columns a neighbourhood frees
        self.rng = np.random.default_rng(options.get("random_seed", 0))
        self.plans, self.climbed = 0, 0.0
        self.history: list[tuple[float, float]] = []
        # a node keeps its integer columns' bounds, in the smallest type that holds them
        span = np.concatenate([p.lower[p.ints], p.upper[p.ints]])
        small = len(span) and span.min() >= 0 and span.max() <= 255
        self.bound_type = np.uint8 if small else np.float64

    # ----------------------------------------------------------------- plans
    def offer(self, x: np.ndarray) -> None:
        """Keep plan ``x`` (whole in its integer columns) if it beats the best; without
        numba, climb from it first when it comes near the best."""
        p = self.p
        value = p.value(x)
        near = self.best_value - CLIMB_WITHIN * abs(self.best_value)
        if value <= near:
            return
        if self.swap is not None:  # (only without numba)
            climbed, gained = self.swap.improve(x, self.deadline)
            if gained > 0:
                x, value = climbed, p.value(climbed)
                self.climbed += gained
        if value <= self.best_value + 1e-9 * max(1.0, abs(value)) or not p.fits(x):
            return
        self.best, self.best_value = x.copy(), value
        self.plans += 1
        elapsed = time.perf_counter() - self.started
        self.history.append((elapsed, value))
        if self.on_plan is not None:
            self.on_plan(elapsed, value)

    def node_plan(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, y: np.ndarray,
                  glob_lo: np.ndarray, glob_hi: np.ndarray) -> np.ndarray:
        """The node's LP solution ``x`` rounded down, filled greedily within the node's
        bounds by return per unit of dual-weighted (``y``) use of the rows and, compiled,
        climbed within the search's bounds."""
        p = self.p
        plan = np.clip(np.where(p.whole, np.floor(x + INTEGRALITY), x), lo, hi)
        weights = y if y.any() else 1.0 / np.maximum(np.where(p.has_upper, p.row_upper,
                                                              1.0), 1e-9)
        slack = np.where(p.has_upper, p.row_upper + p.slack_tol - p.a @ plan, INF)
        room = np.flatnonzero(p.whole & (plan < hi - 0.5) & (p.cost > 0))
        if len(room):
            score = p.cost[room] / np.maximum(weights @ p.dense[:, room], 1e-12)
            order = room[np.argsort(-score, kind="stable")].astype(np.int64)
            (kernels.fill if self.compiled else kernels.fill_numpy)(p.dense, slack, plan,
                                                                    hi, order)
        if self.compiled and self.climbing:
            self.climbed += kernels.climb(p.dense, slack, plan, glob_lo, glob_hi, p.cost,
                                          self.by_cost, self.scale, 10 * self.n)
        return plan

    def beats(self, bound: float) -> bool:
        """Whether a node of LP value ``bound`` may hold a plan better than the best."""
        if self.best is None:
            return True
        if self.p.integral:
            return math.floor(bound + 1e-6) >= self.best_value + 1
        return bound > self.best_value + 1e-9 * max(1.0, abs(self.best_value))

    # ------------------------------------------------------------------ nodes
    def solve_lp(self, lo: np.ndarray, hi: np.ndarray
                 ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        """The LP within these column bounds: (value, solution, reduced costs, row duals'
        sizes), from the last basis; None when it has no optimal solution."""
        if self.node_lp is not None:  # compiled, where the rows allow it
            solved = self.node_lp.solve(lo, hi)
            if not isinstance(solved, int):
                z, x, d, y = solved
                return z + self.p.offset, x, d, y
            if solved == simplex.INFEASIBLE:
                return None
        h = self.h  # HiGHS: without numba, or where the compiled simplex gave up
        h.changeColsBounds(self.n, self.all_cols, lo, hi)
        h.run()
        if h.getModelStatus() != self.optimal:
            return None
        solution = h.getSolution()
        x = np.asarray(solution.col_value, dtype=float)
        d = self.p.sign * np.asarray(solution.col_dual, dtype=float)
        y = np.abs(np.asarray(solution.row_dual, dtype=float))
        return float(h.getInfo().objective_function_value) * self.p.sign, x, d, y

    def fix(self, z: float, x: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray
            ) -> int:
        """Reduced-cost fixing below a node of LP value ``z`` (in place; how many)."""
        if self.best is None:
            return 0
        return fix_by_reduced_costs(self.p, self.best_value, z, x, d, lo, hi)

    # ------------------------------------------------------------------- run
    def frontier(self, lo: np.ndarray, hi: np.ndarray,
                 root: tuple[float, np.ndarray, np.ndarray, np.ndarray],
                 branching: Branching) -> Frontier:
        """A tree over the columns' bounds ``lo``, ``hi`` (its own, changed by its
        reduced-cost fixing), whose root LP is ``root``, branching by ``branching``."""
        ints, t = self.p.ints, self.bound_type
        z = root[0]
        return Frontier(lo, hi, z, root[1], root[2], root,
                         Node((-z, next(self.counter)), lo[ints].astype(t),
                               hi[ints].astype(t), z), branching)

    def grow(self, tree: Frontier, stall: float = math.inf, limit: float = math.inf
             ) -> None:
        """Search ``tree`` until it has no node left, the time is up, ``stall`` nodes
        in a row bring no better plan or ``limit`` nodes have been searched."""
        ints, t = self.p.ints, self.bound_type
        glob_lo, glob_hi = tree.lo, tree.hi
        per_node = (2 * len(ints) * np.dtype(t).itemsize + 200) * len(self.rules)
        heap, node, solved = tree.heap, tree.node, tree.solved
        since, searched = 0, 0
        while True:
            if time.perf_counter() >= self.deadline or (self.stop and self.stop()) or \
                    since >= stall or searched >= limit:
                break
            if node is None:
                if not heap:
                    break
                node = heapq.heappop(heap)
                if not self.beats(node.bound):
                    heap.clear()  # best-bound order: no open node can beat the best
                    node = None
                    break
            lo, hi = glob_lo.copy(), glob_hi.copy()
            lo[ints] = np.maximum(node.lo, glob_lo[ints])
            hi[ints] = np.minimum(node.hi, glob_hi[ints])
            if np.any(lo > hi):
                node = None
                continue
            if solved is None:
                solved = self.solve_lp(lo, hi)
            tree.nodes += 1
            searched += 1
            since += 1
            if solved is None:  # nothing fits below these bounds
                node = None
                continue
            z, x, d, y = solved
            solved = None
            tree.last_x = x
            tree.branching.learn(node.made, node.bound, z)
            if not self.beats(z):
                node = None
                continue
            before = self.best_value
            self.offer(self.node_plan(x, lo, hi, y, glob_lo, glob_hi))
            if self.best_value > before:
                since = 0
                tree.fixed += self.fix(tree.z, tree.x, tree.d, glob_lo, glob_hi)
                lo, hi = np.maximum(lo, glob_lo), np.minimum(hi, glob_hi)
                if not self.beats(z):
                    node = None
                    continue
            branch = tree.branching.choose(x)
            if branch is None:  # a whole LP solution: its plan was offered above
                node = None
                continue
            self.fix(z, x, d, lo, hi)
            j, f, up_first = branch
            down_hi, up_lo = hi.copy(), lo.copy()
            down_hi[j] = math.floor(x[j])
            up_lo[j] = math.ceil(x[j])
            down = Node((-z, next(self.counter)), lo[ints].astype(t),
                         down_hi[ints].astype(t), z, (j, True, f))
            up = Node((-z, next(self.counter)), up_lo[ints].astype(t), hi[ints].astype(t),
                       z, (j, False, f))
            node, other = (up, down) if up_first else (down, up)  # plunge into one
            heapq.heappush(heap, other)
            if len(heap) * per_node > MAX_OPEN_BYTES:
                heap[:] = heapq.nsmallest(len(heap) // 2, heap)  # keep the better half
                tree.complete = False
        tree.node, tree.solved = node, solved

    def neighbourhood(self, tree: Frontier) -> None:
        """Search, for at most :data:`NEIGHBOURHOOD_NODES` nodes, the plans that keep
        the best plan's value in the columns where it agrees with the LP solution of the
        tree's last node (RINS), but for a random share of them (``self.freed``): larger
        after a neighbourhood searched to the end in vain, smaller after one that was
        not searched to the end."""
        p, best = self.p, self.best
        assert best is not None and tree.last_x is not None
        agree = p.whole & (tree.hi > tree.lo) & (np.abs(best - tree.last_x) <= INTEGRALITY)
        agree &= self.rng.random(len(agree)) >= self.freed
        lo, hi = tree.lo.copy(), tree.hi.copy()
        lo[agree] = hi[agree] = best[agree]
        root = self.solve_lp(lo, hi)
        self.neighbourhoods += 1
        before = self.best_value
        if root is not None and self.beats(root[0]):
            sub = self.frontier(lo, hi, root, tree.branching)
            self.grow(sub, limit=NEIGHBOURHOOD_NODES)
            ended = sub.ended()
        else:
            ended = True
        if self.best_value > before:
            self.improved_by_neighbourhoods += 1
            tree.fixed += self.fix(tree.z, tree.x, tree.d, tree.lo, tree.hi)
        elif ended:
            self.freed = min(self.freed + FREED_STEP, MAX_FREED)
        else:
            self.freed = max(self.freed - FREED_STEP, 0.0)

    def run(self) -> TreeResult:
        p = self.p
        root = self.solve_lp(p.lower.copy(), p.upper.copy())
        if root is None:
            return TreeResult(self.best, None if self.best is None else self.best_value,
                              math.nan, np.zeros(self.n), np.zeros(self.n), None,
                              seconds=time.perf_counter() - self.started)
        trees = [self.frontier(p.lower.copy(), p.upper.copy(), root, rule)
                 for rule in self.rules]
        stall = STALL_NODES if self.neighbourhoods_on or len(trees) > 1 else math.inf
        going, waiting, idle = trees[:1], trees[1:], 0
        for turn in itertools.count():
            if waiting and (not going or idle >= RIVAL_TURNS * len(going)):
                going.append(waiting.pop(0))  # the trees so far stall: one more joins
                idle = 0
            if not going or time.perf_counter() >= self.deadline or \
                    (self.stop and self.stop()):
                break
            tree = going[turn % len(going)]
            tree.fixed += self.fix(tree.z, tree.x, tree.d, tree.lo, tree.hi)
            before = self.best_value
            self.grow(tree, stall=stall)
            if tree.ended():
                if tree.complete:
                    break  # searched to the end: the best plan is optimal
                going.remove(tree)
            elif self.neighbourhoods_on and self.best is not None and \
                    tree.last_x is not None and time.perf_counter() < self.deadline:
                self.neighbourhood(tree)
            idle = 0 if self.best_value > before else idle + 1
        best = None if self.best is None else self.best_value
        bound, exhausted = joint_bound(trees, best)
        tree = trees[0]
        return TreeResult(self.best, best, tree.z, tree.x, tree.d, bound, exhausted,
                          sum(t.nodes for t in trees), self.plans, self.climbed,
                          tree.fixed, self.compiled, self.node_lp is not None,
                          0 if self.node_lp is None else self.node_lp.failed,
                          time.perf_counter() - self.started, self.history,
                          self.neighbourhoods, self.improved_by_neighbourhoods,
                          len(trees) - len(waiting))


def tree_search(lp: Any, options: dict[str, Any], budget: float, climb: bool = True,
                branching: str | tuple[str, ...] = "largest", neighbourhoods: bool = True,
                stop: Callable[[], bool] | None = None,
                on_plan: Callable[[float, float], None] | None = None) -> TreeResult:
    """Search ``lp`` (a ``HighsLp`` that :func:`why_not_tree` accepts) for at most
    ``budget`` seconds, climbing from every node's plan when ``climb`` (with numba;
    without it, from the plans near the best, by
    :class:`~optimizer.solving.heuristics.SwapSearch`). ``options`` are the HiGHS options
    of the main solve (threads, seed, tolerance). ``branching`` names the rule
    (:class:`~optimizer.solving.branching.Branching`), or several: one tree each, in
    turn. With ``neighbourhoods``, a tree stops for a neighbourhood search (RINS)
    whenever it stalls. ``stop`` is asked at
    every node whether to stop now; ``on_plan`` hears (seconds, value) of every new best plan."""
    deadline = time.perf_counter() + max(budget, 0.0)
    search = _Search(lp, options, deadline, climb, branching, neighbourhoods, stop,
                     on_plan)
    return search.run()
