"""The open nodes of the tree search (:mod:`optimizer.solving.tree`): a node, one tree's
frontier, and the bound that several trees over the same program prove together."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from optimizer.solving.branching import Branching

__all__ = ["Frontier", "Node", "joint_bound"]


@dataclass(order=True)
class Node:
    key: tuple[float, int]  # (-LP bound, order made): the heap pops the best bound
    lo: np.ndarray = field(compare=False)  # bounds of the integer columns
    hi: np.ndarray = field(compare=False)
    bound: float = field(compare=False)
    # how the node was made: (column, down?, fractional part) of its parent's branching
    made: tuple[int, bool, float] | None = field(compare=False, default=None)


@dataclass
class Frontier:
    """One tree: its columns' bounds (tightened by reduced-cost fixing at its root), its
    root LP, its branching rule (with the pseudo-costs it learns), its open nodes and the
    node it plunges into next (and its LP, if solved)."""

    lo: np.ndarray
    hi: np.ndarray
    z: float
    x: np.ndarray
    d: np.ndarray
    solved: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None
    node: Node | None
    branching: Branching
    heap: list[Node] = field(default_factory=list)
    last_x: np.ndarray | None = None  # the LP solution of the last node searched
    complete: bool = True  # False once open nodes were dropped
    nodes: int = 0
    fixed: int = 0

    def ended(self) -> bool:
        """Whether no node is left open."""
        return self.node is None and not self.heap


def joint_bound(trees: list[Frontier], best: float | None) -> tuple[float | None, bool]:
    """The bound that ``trees`` (each over the whole program, pruned against the same
    best plan, of value ``best`` or None) prove when the search stops, and whether the
    search was exhausted (a complete tree with no node left: ``best`` is optimal). Each
    complete tree bounds the program by its best open node, so the lowest of those
    holds; a tree that dropped nodes bounds nothing."""
    bounds, exhausted = [], False
    for tree in trees:
        if tree.node is not None:
            heapq.heappush(tree.heap, tree.node)
            tree.node = tree.solved = None
        exhausted |= tree.complete and tree.ended()
        if tree.complete:
            bounds.append(max((o.bound for o in tree.heap), default=-math.inf))
    if exhausted:
        return best, True
    if not bounds:
        return None, False
    return (min(bounds) if best is None else max(min(bounds), best)), False
