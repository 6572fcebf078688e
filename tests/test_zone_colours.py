"""maps.base.greedy_colouring: the colours networkx's largest-first greedy colouring gives (which
the maps used before), without importing networkx on a map's first request."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from maps.base import greedy_colouring


def _networkx(nodes, edges) -> dict:
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return nx.greedy_color(graph, strategy="largest_first")


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_get_the_colours_networkx_gives(seed):
    rng = random.Random(seed)
    nodes = [f"z{i}" for i in range(rng.randint(1, 60))]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randint(0, 200))]
    edges = [(u, v) for u, v in edges if u != v] + [("buiten", nodes[0])]  # a node only named in an edge
    ours = greedy_colouring(nodes, edges)
    assert ours == _networkx(nodes, edges)
    assert list(ours) == list(_networkx(nodes, edges))  # the same order too
    assert all(ours[u] != ours[v] for u, v in edges)


@pytest.mark.parametrize("layer_id", ["eerstelijnszone", "politiezone", "gemeente"])
def test_touching_zones_of_a_shipped_layer_differ_as_before(catalog, layer_id):
    """The real neighbour graph (zones within maps.base.NEAR_METRES, found as before by buffering
    every zone): the same colour per zone as networkx gives."""
    import shapely

    from geo.geometry.polygons import zone_polygons
    from maps.base import NEAR_METRES, zone_colours
    from maps.style import ZONE_COLOURS

    layer = catalog.layer(layer_id)
    metric = zone_polygons(layer, catalog.data_dir)
    tree = shapely.STRtree(metric.geometry.values)
    left, right = tree.query(metric.geometry.buffer(NEAR_METRES).values, predicate="intersects")
    codes = metric["code"].astype(str).to_numpy()
    edges = [(a, b) for a, b in zip(codes[left], codes[right]) if a != b]
    expected = {code: ZONE_COLOURS[i % len(ZONE_COLOURS)] for code, i in _networkx(layer.zone_codes, edges).items()}
    assert zone_colours(layer, catalog.data_dir) == expected
    assert len(set(expected.values())) >= 4
