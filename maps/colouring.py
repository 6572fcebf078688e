"""Colouring zones so that neighbours differ: shared by the web maps (:mod:`maps.base`) and the
report maps (:mod:`maps.zone_map`), without the web map library (folium, half a second of import
that a report's first map would otherwise wait for).
"""

from __future__ import annotations

from collections.abc import Iterable

# Zones closer than this look like neighbours on a map of Flanders (Regio Menen and RITS are 905 m
# apart): they get different colours, as zones that share a border do.
NEAR_METRES = 1500.0


def greedy_colouring(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Colour numbers such that no edge joins two nodes of one colour: nodes of most neighbours
    first, each the smallest number its coloured neighbours do not have. The same colours as
    ``networkx.greedy_color(graph, strategy="largest_first")`` on the graph of these nodes and
    edges (ties in the order the nodes come; a node only named in an edge comes after them),
    without its 0.2 s of import on a map's first request.

    Examples
    --------
    >>> greedy_colouring(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    {'c': 0, 'a': 1, 'b': 2, 'd': 1}
    """
    neighbours: dict[str, set[str]] = {node: set() for node in nodes}
    for u, v in edges:
        if u == v:  # a graph's self-loop; zones never touch themselves here
            neighbours.setdefault(u, set())
            continue
        neighbours.setdefault(u, set()).add(v)
        neighbours.setdefault(v, set()).add(u)
    colours: dict[str, int] = {}
    for node in sorted(neighbours, key=lambda n: len(neighbours[n]), reverse=True):
        taken = {colours[n] for n in neighbours[node] if n in colours}
        colour = 0
        while colour in taken:
            colour += 1
        colours[node] = colour
    return colours
