"""The graph of ``requires`` pairs: whether it has a cycle, and which projects require
each other in one (funded all together or not at all). The loader warns of them and the
dependencies family notes them; both ask here."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["has_cycle", "requires_cycles"]


def has_cycle(pairs: np.ndarray) -> bool:
    """Whether the directed graph of ``pairs`` has a cycle: peel off nodes with no
    incoming edge (Kahn's algorithm) until none is left; a cycle is what remains."""
    nodes, edges = np.unique(pairs, return_inverse=True)
    edges = edges.reshape(-1, 2)
    indegree = np.bincount(edges[:, 1], minlength=len(nodes))
    order = np.argsort(edges[:, 0], kind="stable")
    starts = np.searchsorted(edges[order, 0], np.arange(len(nodes) + 1))
    ready = list(np.flatnonzero(indegree == 0))
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for target in edges[order[starts[node]:starts[node + 1]], 1]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return removed < len(nodes)


def requires_cycles(pairs: np.ndarray, n: int) -> list[np.ndarray]:
    """The groups of projects (positions, out of ``n``) whose ``requires`` pairs form a
    cycle: each group is funded all together or not at all."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0 or not has_cycle(pairs):
        return []
    from scipy.sparse.csgraph import connected_components  # 0.1 s to import: only here

    graph = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    return [np.flatnonzero(labels == label) for label in np.flatnonzero(sizes > 1)]
