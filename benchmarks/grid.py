"""A square grid over Flanders and Brussels as GeoJSON (EPSG:31370): the "big imported layer"
of issue 13 (10,000 polygons that are not unions of municipalities)."""

from __future__ import annotations

import json
import math

import numpy as np
import shapely

from geo.geometry.polygons import municipal_polygons


def grid_geojson(cells: int = 10_000, offset: float = 0.0) -> bytes:
    """About ``cells`` squares whose centres lie in a municipality, with ``code`` and ``name``.

    ``offset``: the grid's origin shifted by this fraction of a square's side in x and y (0.5: a
    second grid whose squares each straddle four squares of the first).

    Examples
    --------
    >>> body = grid_geojson(100)  # doctest: +SKIP
    """
    munis = municipal_polygons()
    territory = shapely.union_all(munis.geometry.values)
    tree = shapely.STRtree(munis.geometry.values)
    muni_area = munis.geometry.area.to_numpy()
    xmin, ymin, xmax, ymax = territory.bounds
    side = math.sqrt(territory.area / cells)
    xmin, ymin = xmin - offset * side, ymin - offset * side
    features: list[dict] = []
    for _ in range(20):  # adjust the side until the count is within 1 %
        xs = np.arange(xmin, xmax, side)
        ys = np.arange(ymin, ymax, side)
        cx, cy = np.meshgrid(xs + side / 2, ys + side / 2)
        points = shapely.points(cx.ravel(), cy.ravel())
        hit_point, hit_muni = tree.query(points, predicate="within")
        inside = np.zeros(len(points), bool)
        inside[hit_point] = True
        # The import drops pieces under 0.5 % of a municipality as slivers: keep cells with more.
        x0, y0 = cx.ravel() - side / 2, cy.ravel() - side / 2
        boxes = shapely.box(x0, y0, x0 + side, y0 + side)
        cell, muni = tree.query(boxes, predicate="intersects")
        share = shapely.area(shapely.intersection(boxes[cell], munis.geometry.values[muni])) / muni_area[muni]
        kept = np.zeros(len(points), bool)
        kept[cell[share >= 0.006]] = True
        inside &= kept
        count = int(inside.sum())
        if abs(count - cells) <= cells // 100:
            break
        side *= math.sqrt(count / cells)
    for n, (x, y) in enumerate(zip(cx.ravel()[inside] - side / 2, cy.ravel()[inside] - side / 2)):
        ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
        features.append({"type": "Feature", "properties": {"code": f"g{n:05d}", "name": f"Vak {n}"},
                         "geometry": {"type": "Polygon",
                                      "coordinates": [[[round(a, 1), round(b, 1)] for a, b in ring]]}})
    return json.dumps({"type": "FeatureCollection", "features": features,
                       "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31370"}}}).encode()
