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
- **branching** (:data:`BRANCHINGS`): by default on the fractional column of largest LP
  value, its up branch first (a dive towards funding what the LP likes); or by
  pseudo-costs (the LP bound lost per unit moved, learnt from every child solved, the
  product rule, the cheaper child first). The first found better plans, as measured;
- **reduced-cost fixing**: with a best plan of value z*, a column at a bound of a node's
  LP whose reduced cost d has |d| > z_node - z* (less one where every return is whole)
  is fixed at that bound below the node; at the root, for the whole search, each time
  the best plan improves. Nothing better than z* is lost.

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
from optimizer.solving.heuristics import SwapSearch
from optimizer.solving.quiet import match_thread_scheduler
from optimizer.solving.shape import INF, INTEGRALITY, Shape, why_not_tree

__all__ = ["TreeResult", "tree_search", "why_not_tree"]

#: Without numba, a node's plan is climbed (by the numpy swap search) only when it comes
#: within this share of the best plan's value; compiled, every node's plan is climbed.
#: Measured on problems 3 and 17 of mknapcb4, 5, 7 and 8 at 10 s (mean gap to best-known):
#: numpy 0.0607% / 0.0581% / 0.0565% within 0.005 / 0.01 / 0.02; compiled 0.0556%
#: within 0.02 and 0.0334% climbing every plan.
CLIMB_WITHIN = 0.02
#: How to choose the column to branch on: ``largest`` (the fractional column of largest
#: LP value, its up branch searched first: a dive towards funding what the LP likes) or
#: ``pseudocost`` (the product rule over learnt pseudo-costs, the cheaper child first).
#: Measured as above, climbing every plan: 0.0334% with ``largest``, 0.0569% with
#: ``pseudocost`` (0.1121% with its up branch always first).
BRANCHINGS = ("largest", "pseudocost")
#: The open nodes may hold at most this many bytes of bounds; past it the worse half is
#: dropped (the search then no longer bounds the program, and says so).
MAX_OPEN_BYTES = 256 * 2**20


@dataclass
class TreeResult:
    """What the tree search found: the best plan (column values, or None), its value (as
    a return to maximise, however the model states it; as are the bounds), the root LP's
    value, solution and reduced costs (of that maximisation), the best bound of
    the nodes still open when it stopped (None when it stopped before the root LP) and
    whether the tree was searched to the end (then the plan is optimal within HiGHS's LP
    tolerances, and ``bound`` equals its value)."""

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


@dataclass(order=True)
class _Node:
    key: tuple[float, int]  # (-LP bound, order made): the heap pops the best bound
    lo: np.ndarray = field(compare=False)  # bounds of the integer columns
    hi: np.ndarray = field(compare=False)
    bound: float = field(compare=False)
    # how the node was made: (column, down?, fractional part) of its parent's branching
    made: tuple[int, bool, float] | None = field(compare=False, default=None)


class _Search:
    def __init__(self, lp: Any, options: dict[str, Any], deadline: float,
                 climb: bool, branching: str,
                 stop: Callable[[], bool] | None,
                 on_plan: Callable[[float, float], None] | None) -> None:
        import highspy

        if branching not in BRANCHINGS:
            raise ValueError(f"branching must be one of {BRANCHINGS}, got {branching!r}")
        p = self.p = Shape(lp)
        self.deadline, self.branching = deadline, branching
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
        self.plans, self.climbed = 0, 0.0
        self.history: list[tuple[float, float]] = []
        k = len(p.ints)
        self.pc_sum = np.zeros((2, k))  # pseudo-costs: [down, up] bound lost per unit
        self.pc_count = np.zeros((2, k))
        self.position = np.full(n, -1)
        self.position[p.ints] = np.arange(k)
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

    def fix(self, z: float, x: np.ndarray, d: np.ndarray, lo: np.ndarray,
            hi: np.ndarray) -> int:
        """Reduced-cost fixing below a node of LP value ``z`` (bounds changed in place):
        a column at a bound whose reduced cost exceeds what separates ``z`` from a plan
        better than the best stays there. How many were fixed."""
        if self.best is None:
            return 0
        slack = z - self.best_value - (1 - 1e-6 if self.p.integral else 0.0)
        slack = max(slack, 0.0) + 1e-7 * max(1.0, abs(z))
        free = self.p.whole & (hi > lo)
        at_hi = free & (np.abs(x - hi) <= INTEGRALITY) & (d > slack)
        at_lo = free & (np.abs(x - lo) <= INTEGRALITY) & (-d > slack)
        lo[at_hi] = hi[at_hi]
        hi[at_lo] = lo[at_lo]
        return int(at_hi.sum() + at_lo.sum())

    def choose(self, x: np.ndarray) -> tuple[int, float, bool] | None:
        """The column to branch on, its fractional part and whether to search its up
        branch first (None: the LP solution is whole)."""
        xi = x[self.p.ints]
        frac = xi - np.floor(xi)
        fractional = np.flatnonzero((frac > INTEGRALITY) & (frac < 1 - INTEGRALITY))
        if not len(fractional):
            return None
        f = frac[fractional]
        if self.branching == "largest":
            k = int(np.argmax(xi[fractional]))
            return int(self.p.ints[fractional[k]]), float(f[k]), True
        count = self.pc_count[:, fractional]
        known = self.pc_count.sum(axis=1)
        mean = np.where(known > 0, self.pc_sum.sum(axis=1) / np.maximum(known, 1), 1.0)
        pc = np.where(count > 0, self.pc_sum[:, fractional] / np.maximum(count, 1),
                      mean[:, None])
        loss_down, loss_up = pc[0] * f, pc[1] * (1 - f)
        score = np.maximum(loss_down, 1e-6) * np.maximum(loss_up, 1e-6)
        k = int(np.argmax(score))
        return int(self.p.ints[fractional[k]]), float(f[k]), bool(loss_up[k] <= loss_down[k])

    def learn(self, made: tuple[int, bool, float] | None, parent: float, z: float) -> None:
        """Record the LP bound a branching lost, per unit moved."""
        if made is None:
            return
        j, down, f = made
        side = 0 if down else 1
        self.pc_sum[side, self.position[j]] += max(parent - z, 0.0) / max(
            f if down else 1 - f, 1e-9)
        self.pc_count[side, self.position[j]] += 1

    # ------------------------------------------------------------------- run
    def run(self) -> TreeResult:
        p = self.p
        glob_lo, glob_hi = p.lower.copy(), p.upper.copy()
        root = self.solve_lp(glob_lo, glob_hi)
        if root is None:
            return TreeResult(self.best, None if self.best is None else self.best_value,
                              math.nan, np.zeros(self.n), np.zeros(self.n), None,
                              seconds=time.perf_counter() - self.started)
        z_root, x_root, d_root, _ = root
        ints = p.ints
        per_node = 2 * len(ints) * np.dtype(self.bound_type).itemsize + 200
        counter = itertools.count()
        heap: list[_Node] = []
        node: _Node | None = _Node((-z_root, next(counter)),
                                   p.lower[ints].astype(self.bound_type),
                                   p.upper[ints].astype(self.bound_type), z_root)
        nodes, fixed_root, complete = 0, 0, True
        solved: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = root
        while True:
            if time.perf_counter() >= self.deadline or (self.stop and self.stop()):
                if node is not None:
                    heapq.heappush(heap, node)
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
            if nodes:
                solved = self.solve_lp(lo, hi)
            nodes += 1
            if solved is None:  # nothing fits below these bounds
                node = None
                continue
            z, x, d, y = solved
            self.learn(node.made, node.bound, z)
            if not self.beats(z):
                node = None
                continue
            before = self.best_value
            self.offer(self.node_plan(x, lo, hi, y, glob_lo, glob_hi))
            if self.best_value > before:
                fixed_root += self.fix(z_root, x_root, d_root, glob_lo, glob_hi)
                lo, hi = np.maximum(lo, glob_lo), np.minimum(hi, glob_hi)
                if not self.beats(z):
                    node = None
                    continue
            branch = self.choose(x)
            if branch is None:  # a whole LP solution: its plan was offered above
                node = None
                continue
            self.fix(z, x, d, lo, hi)
            j, f, up_first = branch
            down_hi, up_lo = hi.copy(), lo.copy()
            down_hi[j] = math.floor(x[j])
            up_lo[j] = math.ceil(x[j])
            t = self.bound_type
            down = _Node((-z, next(counter)), lo[ints].astype(t), down_hi[ints].astype(t), z,
                         (j, True, f))
            up = _Node((-z, next(counter)), up_lo[ints].astype(t), hi[ints].astype(t), z,
                       (j, False, f))
            node, other = (up, down) if up_first else (down, up)  # plunge into one
            heapq.heappush(heap, other)
            if len(heap) * per_node > MAX_OPEN_BYTES:
                heap = heapq.nsmallest(len(heap) // 2, heap)  # keep the better half
                complete = False
        exhausted = complete and not heap and node is None
        best = self.best_value
        if exhausted:
            bound = best if self.best is not None else None
        elif complete:
            bound = max(max((o.bound for o in heap), default=-math.inf), best)
        else:
            bound = None
        return TreeResult(self.best, None if self.best is None else best, z_root, x_root,
                          d_root, bound, exhausted, nodes, self.plans, self.climbed,
                          fixed_root, self.compiled, self.node_lp is not None,
                          0 if self.node_lp is None else self.node_lp.failed,
                          time.perf_counter() - self.started, self.history)


def tree_search(lp: Any, options: dict[str, Any], budget: float, climb: bool = True,
                branching: str = "largest", stop: Callable[[], bool] | None = None,
                on_plan: Callable[[float, float], None] | None = None) -> TreeResult:
    """Search ``lp`` (a ``HighsLp`` that :func:`why_not_tree` accepts) for at most
    ``budget`` seconds, climbing from every node's plan when ``climb`` (with numba;
    without it, from the plans near the best, by
    :class:`~optimizer.solving.heuristics.SwapSearch`). ``options`` are the HiGHS options
    of the main solve (threads, seed, tolerance). ``stop`` is asked at every node whether
    to stop now; ``on_plan`` hears (seconds, value) of every new best plan."""
    deadline = time.perf_counter() + max(budget, 0.0)
    search = _Search(lp, options, deadline, climb, branching, stop, on_plan)
    return search.run()
