"""Issue 24: the feature service (/ogc) as GIS software asks it, through a real server.

Targets: a page of a layer's zones under 50 ms warm; all 304 municipalities in one page under
200 ms. Measured over HTTP/1.1 keep-alive with gzip (``benchmarks.bench_pages.Client``), after the
warm-up, for CRS84 (QGIS) and Lambert 72 (GDAL's default, the storage CRS):

* **first**: the first request of each page on the server (the warm-up prepared the features);
* **warm**: p50/p90 with the render cache on (a dictionary lookup and the gzip kept per ETag);
* **uncached**: the same on a server with ``REGIOMATCH_RENDER_CACHE_BYTES=0``: every request
  selects the features and joins their GeoJSON, encoded once per CRS and layer version;
* **the alternative**, in this process: what a provider plugin over the workspace would do per
  request if it served GeoJSON the way pygeoapi's providers do (a GeoDataFrame of the zones with
  their properties, ``to_crs``, ``to_json``), with the dissolved outlines already cached;
* **GDAL**: ``pyogrio.read_dataframe("OAPIF:.../ogc", layer=...)`` end to end, as a GIS user waits.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pages import Client, _warm
from benchmarks.bench_server import REPO, server

WARM_RUNS = 22
PAGES = {
    "layer zones, CRS84": "/ogc/collections/eerstelijnszone/items?f=json&limit=1000",
    "layer zones, Lambert 72": "/ogc/collections/eerstelijnszone/items?f=json&limit=1000"
                               "&crs=http://www.opengis.net/def/crs/EPSG/0/31370",
    "304 municipalities, CRS84": "/ogc/collections/gemeenten/items?f=json&limit=1000",
    "304 municipalities, Lambert 72": "/ogc/collections/gemeenten/items?f=json&limit=1000"
                                      "&crs=http://www.opengis.net/def/crs/EPSG/0/31370",
    "atlas associations, CRS84": "/ogc/collections/atlas/items?f=json&limit=1000",
    "collections": "/ogc/collections?f=json",
    "items page in HTML": "/ogc/collections/eerstelijnszone/items?f=html",
}


def _pages(base: str) -> dict:
    client = Client(base)
    out = {}
    for name, path in PAGES.items():
        t0 = time.perf_counter()
        _, status, sent, raw = client.get(path)
        first = time.perf_counter() - t0
        out[name] = {"path": path, "first_ms": round(first * 1000, 1), "status": status,
                     **_warm(client, path, WARM_RUNS)}
    client.close()
    return out


def _geopandas_alternative(runs: int = 9) -> dict:
    """Per request: the zones (or municipalities) with their properties as a GeoDataFrame, to
    EPSG:4326, to GeoJSON text: the outlines' dissolve is cached, as it would be in a plugin."""
    import geopandas as gpd

    from api.settings import get_settings, workspace_for
    from geo.geometry.polygons import municipal_polygons, zone_polygons

    ws = workspace_for(get_settings())
    layer = ws.layer("eerstelijnszone")
    data_dir = ws.catalog.data_dir
    zone_polygons(layer, data_dir)
    municipal_polygons(data_dir)
    layers = ws.layers()

    def zones() -> str:
        frame = zone_polygons(layer, data_dir)[["code", "name", "geometry"]]
        frame = frame.merge(layer.summary()[["code", "population", "members"]], on="code")
        return frame.to_crs(4326).to_json()

    def municipalities() -> str:
        atoms = layers[0].atoms
        frame = gpd.GeoDataFrame(municipal_polygons(data_dir).reset_index()[["nis_code", "geometry"]],
                                 geometry="geometry", crs=31370)
        frame["name"] = frame["nis_code"].map(dict(zip(atoms.nis_codes.astype(int), atoms.names)))
        frame["population"] = frame["nis_code"].map(dict(zip(atoms.nis_codes.astype(int),
                                                             atoms.weights("population").round())))
        for other in layers:
            frame[other.id] = [";".join(c for c, _, _ in other.zones_of(int(n))) for n in frame["nis_code"]]
        return frame.to_crs(4326).to_json()

    out = {}
    for name, build in (("layer zones, CRS84", zones), ("304 municipalities, CRS84", municipalities)):
        build()
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            build()
            samples.append(time.perf_counter() - t0)
        out[name] = {"p50_ms": round(statistics.median(samples) * 1000, 1), "runs": runs}
    return out


def _gdal(base: str) -> dict:
    import pyogrio

    out = {}
    for layer in ("eerstelijnszone", "gemeenten"):
        t0 = time.perf_counter()
        frame = pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer=layer)
        out[layer] = {"seconds": round(time.perf_counter() - t0, 3), "features": len(frame)}
    return out


def measure(quick: bool = False) -> dict:
    log = Path(tempfile.mkdtemp(prefix="bench-ogc-")) / "server.log"
    here = {"PYTHONPATH": str(REPO)}  # this checkout's code, whatever the environment installed
    with server(log, env=here) as (_, base, _ready):
        cached = _pages(base)
        gdal = _gdal(base)
    with server(log, env={**here, "REGIOMATCH_RENDER_CACHE_BYTES": "0"}) as (_, base, _ready):
        uncached = _pages(base)
    return {"cached": cached, "uncached": uncached, "geopandas_per_request": _geopandas_alternative(),
            "gdal_read": gdal, "targets_ms": {"layer zones": 50, "304 municipalities": 200}}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure("--quick" in sys.argv), indent=1))
