"""Geometry: municipal polygons in EPSG:31370, zones dissolved from them, simplified browser
outlines in EPSG:4326, and the outlines prepared with the data (read here, written by ``build``).

Public parts (imported on first use, so importing one module never loads its siblings):
- ``polygons``: municipal_polygons, zone_polygons, to_web, layer_geojson, layer_geojson_bytes, adjacency, neighbours,
  web_geometry,
  compute_web_geometry
- ``prepared``: shipped_web_geometry, fingerprint
- ``build``: write_web_geometry
- ``crs``: Crs, OFFERED, parse_crs, parse_bbox, from_metric (the CRSs of the feature service)
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "municipal_polygons": "geo.geometry.polygons",
    "zone_polygons": "geo.geometry.polygons",
    "to_web": "geo.geometry.polygons",
    "layer_geojson": "geo.geometry.polygons",
    "layer_geojson_bytes": "geo.geometry.polygons",
    "adjacency": "geo.geometry.polygons",
    "neighbours": "geo.geometry.polygons",
    "web_geometry": "geo.geometry.polygons",
    "compute_web_geometry": "geo.geometry.polygons",
    "shipped_web_geometry": "geo.geometry.prepared",
    "fingerprint": "geo.geometry.prepared",
    "write_web_geometry": "geo.geometry.build",
    "Crs": "geo.geometry.crs",
    "OFFERED": "geo.geometry.crs",
    "parse_crs": "geo.geometry.crs",
    "parse_bbox": "geo.geometry.crs",
    "from_metric": "geo.geometry.crs",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
