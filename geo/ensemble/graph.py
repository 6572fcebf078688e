"""The graphs an ensemble works on, as plain integer arrays (picklable, cheap to ship to a worker).

* The **municipal graph**: municipalities (by position in ``atoms``) sharing a border
  (:func:`geo.geometry.polygons.adjacency`, the graph :mod:`geo.zoning.validation` judges contiguity on).
* The **chain graph**: the units ReCom moves (a municipality, or a group that stays together, with
  an exclave tied to its zone's largest member) and the borders between units of the *same nest
  zone*. Cutting the borders between nest zones is what makes every ReCom step nest by
  construction: two zones of different reference regions never share a cut edge, so they are never
  merged and re-split together.

Examples
--------
>>> edges = np.array([[0, 1], [1, 2], [3, 4]])
>>> [c.tolist() for c in components(np.array([0, 1, 2, 3, 4]), neighbour_lists(5, edges))]
[[0, 1, 2], [3, 4]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geo.engine.atoms import Atoms
from geo.zoning.validation import EXCLAVES


def municipal_edges(atoms: Atoms) -> np.ndarray:
    """Pairs of atom positions sharing a border, ``(E, 2)`` int32 with ``i < j``, sorted."""
    from geo.geometry.polygons import adjacency

    pairs = adjacency()
    known = np.isin(pairs["nis_a"], atoms.nis_codes) & np.isin(pairs["nis_b"], atoms.nis_codes)
    a = atoms.positions(pairs["nis_a"][known])
    b = atoms.positions(pairs["nis_b"][known])
    edges = np.sort(np.stack([a, b], axis=1), axis=1).astype(np.int32)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    return edges[order]


def neighbour_lists(n: int, edges: np.ndarray) -> list[np.ndarray]:
    """Per node, its neighbours (sorted), from an edge array."""
    out: list[list[int]] = [[] for _ in range(n)]
    for a, b in np.asarray(edges).tolist():
        out[a].append(b)
        out[b].append(a)
    return [np.array(sorted(x), dtype=np.int64) for x in out]


def components(nodes: np.ndarray, neighbours: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Connected components of the subgraph induced by ``nodes``, each sorted, in order of their
    smallest node (deterministic)."""
    inside = set(int(x) for x in nodes)
    seen: set[int] = set()
    out = []
    for start in sorted(inside):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            comp.append(node)
            for other in neighbours[node].tolist():
                if other in inside and other not in seen:
                    seen.add(other)
                    stack.append(other)
        out.append(np.array(sorted(comp), dtype=np.int64))
    return out


def exclave_positions(atoms: Atoms, neighbours: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean per atom: a known exclave (:data:`geo.zoning.validation.EXCLAVES`) or a municipality
    without any neighbour (Voeren), as :func:`geo.zoning.validation.exclaves` says."""
    mask = np.array([len(n) == 0 for n in neighbours], dtype=bool)
    for nis in EXCLAVES:
        if nis in atoms:
            mask[atoms.position(nis)] = True
    return mask


def build_units(n: int, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Unit index per atom: atoms in one group share a unit; units numbered by smallest atom."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in groups:
        group = [int(g) for g in group]
        for other in group[1:]:
            ra, rb = find(group[0]), find(other)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots = [find(i) for i in range(n)]
    numbering: dict[int, int] = {}
    return np.array([numbering.setdefault(r, len(numbering)) for r in roots], dtype=np.int64)


def unit_edges(units: np.ndarray, edges: np.ndarray, nest: np.ndarray, in_chain: np.ndarray) -> np.ndarray:
    """Edges between distinct units of the chain whose atoms border each other inside one nest zone."""
    a, b = edges[:, 0], edges[:, 1]
    keep = in_chain[a] & in_chain[b] & (nest[a] == nest[b]) & (units[a] != units[b])
    pairs = np.sort(np.stack([units[a[keep]], units[b[keep]]], axis=1), axis=1)
    if not len(pairs):
        return np.zeros((0, 2), dtype=np.int32)
    return np.unique(pairs, axis=0).astype(np.int32)
