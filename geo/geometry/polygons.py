"""Geometry for maps: municipal polygons, zones dissolved from them, simplified for the browser.

Areas and overlays are computed in EPSG:31370 (metres); GeoJSON is served in EPSG:4326. The
conversion happens here and only here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from geo.errors import InvalidInput
from geo.geometry.crs import require_crs
from geo.geometry.prepared import fingerprint, prepared_fingerprints, shipped_web_geometry
from geo.kept import kept
from geo.lazy import lazy_module
from geo.paths import METRIC_CRS, SHIPPED_DATA, WEB_CRS

if TYPE_CHECKING:  # annotations only: the engine never waits for geometry, nor geometry for it
    from geo.engine.layer import Layer

# Only drawing and importing polygons need geopandas: not a start-up, nor an overlay.
if TYPE_CHECKING:  # the real module for the type checker; at run time imported on first use
    import geopandas as gpd
else:
    gpd = lazy_module("geopandas")

DEFAULT_SIMPLIFY_METRES = 50.0
MAX_SIMPLIFY_METRES = 5000.0


@lru_cache(maxsize=4)
def municipal_polygons(data_dir: Path = SHIPPED_DATA) -> gpd.GeoDataFrame:
    """The 2025 municipalities in EPSG:31370, indexed by NIS code (kept for the next process,
    :mod:`geo.kept`)."""
    return kept(Path(data_dir), "municipalities", lambda: _read_municipal_polygons(Path(data_dir)))


def _read_municipal_polygons(data_dir: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(Path(data_dir) / "geometry.gpkg", layer="gemeente_2025")
    frame["nis_code"] = frame["nis_code"].astype(int)
    return frame.set_index("nis_code").sort_index()


PART_OUTLINES_FILE, PART_OUTLINES_LAYER = "part_outlines.gpkg", "deelgemeente_2019_2024"


@lru_cache(maxsize=4)
def part_outlines(data_dir: Path = SHIPPED_DATA) -> gpd.GeoSeries | None:
    """The outlines of the 2019-2024 municipalities that merged into a 2025 one (EPSG:31370; they
    tile the 2025 polygon), indexed by 2019-2024 NIS code, or None where they are not shipped.

    Examples
    --------
    >>> round(float(part_outlines()[11007].area) / 1e6, 2)  # Borsbeek, part of Antwerpen since 2025
    3.9
    """
    path = Path(data_dir) / PART_OUTLINES_FILE
    if not path.exists():
        return None
    frame = gpd.read_file(path, layer=PART_OUTLINES_LAYER)
    frame["nis_2019_2024"] = frame["nis_2019_2024"].astype(int)
    return frame.set_index("nis_2019_2024").sort_index().geometry


def read_layer_polygons(data_dir: Path, layer_id: str) -> gpd.GeoSeries:
    """The polygons of a layer from ``geometry.gpkg``, indexed by zone code."""
    frame = gpd.read_file(Path(data_dir) / "geometry.gpkg", layer=layer_id)
    frame["code"] = frame["code"].astype(str)
    return frame.set_index("code").geometry


def zone_polygons(layer: Layer, data_dir: Path = SHIPPED_DATA) -> gpd.GeoDataFrame:
    """One (multi)polygon per zone in EPSG:31370, dissolved from its member municipalities.

    Zones of polygon layers keep their own outline. A municipality counts towards a zone's
    outline when at least half of it lies in the zone. The dissolve is cached per layer object
    (layers are immutable; a scenario's new version is a new object), so maps and GeoJSON do not
    redo it on every request.
    """
    return _zone_polygons(layer, Path(data_dir)).copy()


@lru_cache(maxsize=128)
def _zone_polygons(layer: Layer, data_dir: Path) -> gpd.GeoDataFrame:
    # A shipped layer's outlines (the prepared index names its make-up: zones and who counts
    # towards which) are kept for the next process (geo.kept); a scenario's or an imported
    # layer's are dissolved each time. The zones' names and details are the layer's own.
    key = fingerprint(layer)
    if key is not None and key in prepared_fingerprints(data_dir):
        frame = kept(data_dir, f"outlines-{key}", lambda: _outlines(layer, data_dir))
    else:
        frame = _outlines(layer, data_dir)
    frame = frame.merge(layer.zones, on="code", how="right")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=METRIC_CRS)


def _outlines(layer: Layer, data_dir: Path) -> gpd.GeoDataFrame:
    """Code and outline of each zone (of at least one member or polygon)."""
    if layer.polygons is not None:
        series = gpd.GeoSeries(layer.polygons, crs=METRIC_CRS)
        return gpd.GeoDataFrame({"code": series.index.astype(str)}, geometry=series.values, crs=METRIC_CRS)
    munis = municipal_polygons(data_dir)
    members = layer.members()
    members = members[members["share"] >= 0.5]
    geoms = munis.geometry.reindex(members["nis_code"].to_numpy())
    parts = gpd.GeoDataFrame({"code": members["zone_code"].to_numpy()}, geometry=geoms.values, crs=METRIC_CRS)
    # The municipalities tile the territory: a coverage union is several times faster than a
    # general one and gives the same outlines.
    return parts.dissolve(by="code", as_index=False, method="coverage")


def to_web(frame: gpd.GeoDataFrame, simplify_metres: float = DEFAULT_SIMPLIFY_METRES,
           coverage: bool | None = None) -> gpd.GeoDataFrame:
    """Simplify in metres (topology-preserving per feature) and reproject to EPSG:4326.

    ``coverage=False`` says the zones overlap (no shared-border simplification is attempted);
    ``None`` lets the geometry tell."""
    require_crs(frame, METRIC_CRS)
    if not 0 <= simplify_metres <= MAX_SIMPLIFY_METRES:
        raise InvalidInput(f"simplify must be between 0 and {MAX_SIMPLIFY_METRES:g} metres, got {simplify_metres}")
    out = frame.copy()
    if simplify_metres > 0:
        out["geometry"] = _simplify(out.geometry.values, simplify_metres, coverage)
    return out.to_crs(WEB_CRS)


def _simplify(geoms: np.ndarray, tolerance: float, coverage: bool | None = None) -> np.ndarray:
    """Simplify zones that tile the territory together, so neighbours keep one shared border
    (simplifying each zone on its own leaves hairline gaps between them)."""
    present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    out = np.array(geoms, dtype=object)
    if (coverage is not False and present.any() and _may_be_coverage(out[present])
            and bool(shapely.coverage_is_valid(out[present]))):
        out[present] = shapely.coverage_simplify(out[present], tolerance, simplify_boundary=True)
        return out
    return shapely.simplify(out, tolerance, preserve_topology=True)


# In a coverage (zones that tile the territory) a zone's bounding box meets a handful of others.
MAX_BOX_PAIRS_PER_ZONE = 40


def _may_be_coverage(geoms: np.ndarray) -> bool:
    """A cheap test before ``coverage_is_valid``, which is quadratic when many zones lie on top of
    each other (an imported layer that puts one municipality in thousands of zones)."""
    left, _ = shapely.STRtree(geoms).query(geoms)
    return len(left) <= MAX_BOX_PAIRS_PER_ZONE * len(geoms)


def geojson(frame: gpd.GeoDataFrame) -> dict:
    """A FeatureCollection (EPSG:4326) with 6-decimal coordinates (about 0.1 m)."""
    return json.loads(_geojson_text(frame))


def _geojson_text(frame: gpd.GeoDataFrame) -> str:
    """:func:`geojson` as JSON text (``json.dumps`` of that dict gives the same text).

    The features as ``GeoDataFrame.to_json(drop_id=True)`` writes them (missing values as null),
    with the coordinates of each ring read as one array instead of point by point (shapely's
    ``mapping`` was most of the time of a scenario's export)."""
    require_crs(frame, WEB_CRS)
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    values = plain.astype(object)
    values[pd.isna(plain).to_numpy()] = None
    columns = list(plain.columns)
    features = [{"type": "Feature", "properties": dict(zip(columns, row)),
                 "geometry": _geometry_json(geom) if geom else None}
                for row, geom in zip(values.to_numpy(), frame.geometry.to_numpy())]
    return json.dumps({"type": "FeatureCollection", "features": features})


def _geometry_json(geom: shapely.Geometry) -> dict:
    """A geometry's GeoJSON mapping with coordinates rounded to 6 decimals (about 0.1 m)."""
    def rings(polygon: shapely.Polygon) -> list:
        return [np.round(shapely.get_coordinates(ring), 6).tolist() for ring in (polygon.exterior, *polygon.interiors)]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": rings(geom)}
    if geom.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [rings(p) for p in geom.geoms]}
    return mapping(shapely.transform(geom, lambda xy: np.round(xy, 6)))


def layer_geojson(layer: Layer, simplify_metres: float = DEFAULT_SIMPLIFY_METRES,
                  data_dir: Path = SHIPPED_DATA) -> dict:
    """Zones of a layer as GeoJSON in EPSG:4326 with population and member count."""
    return geojson(_layer_web_frame(layer, simplify_metres, data_dir))


def layer_geojson_bytes(layer: Layer, simplify_metres: float = DEFAULT_SIMPLIFY_METRES,
                        data_dir: Path = SHIPPED_DATA) -> bytes:
    """:func:`layer_geojson` as the bytes ``json.dumps(...).encode()`` gives, dissolved, simplified
    and written once per layer object and detail: a layer never changes (a scenario's new version
    is a new object, so each version is written once and a warm export only returns the bytes).

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> elz = load_catalog().layer("eerstelijnszone")
    >>> layer_geojson_bytes(elz) == json.dumps(layer_geojson(elz)).encode()
    True
    >>> layer_geojson_bytes(elz) is layer_geojson_bytes(elz)
    True
    """
    return _layer_geojson_bytes(layer, float(simplify_metres), Path(data_dir))


@lru_cache(maxsize=32)
def _layer_geojson_bytes(layer: Layer, simplify_metres: float, data_dir: Path) -> bytes:
    return _geojson_text(_layer_web_frame(layer, simplify_metres, data_dir)).encode()


def _layer_web_frame(layer: Layer, simplify_metres: float, data_dir: Path) -> gpd.GeoDataFrame:
    zones = zone_polygons(layer, data_dir)
    summary = layer.summary().rename(columns={"name": "_name"})
    zones = zones.merge(summary[["code", "population", "members"]], on="code", how="left")
    zones["population"] = zones["population"].round().astype("Int64")
    zones = zones[~zones.geometry.is_empty & zones.geometry.notna()]
    return to_web(zones, simplify_metres)


def municipalities_web(data_dir: Path = SHIPPED_DATA,
                       simplify_metres: float = DEFAULT_SIMPLIFY_METRES) -> gpd.GeoDataFrame:
    """The municipalities simplified and in EPSG:4326 (cached: every map draws them)."""
    return _municipalities_web(Path(data_dir), float(simplify_metres)).copy()


@lru_cache(maxsize=8)
def _municipalities_web(data_dir: Path, simplify_metres: float) -> gpd.GeoDataFrame:
    return to_web(municipal_polygons(data_dir).reset_index(), simplify_metres)


def adjacency(data_dir: Path = SHIPPED_DATA) -> pd.DataFrame:
    """Pairs of municipalities sharing a border (not just a corner), as ``nis_a < nis_b``."""
    return _adjacency(Path(data_dir)).copy()


def neighbours(nis_code: int, data_dir: Path = SHIPPED_DATA) -> list[int]:
    """NIS codes of the municipalities sharing a border with ``nis_code`` (a 2025 code).

    Examples
    --------
    >>> 34022 in neighbours(34025)  # Lendelede borders Kortrijk
    True
    """
    pairs = _adjacency(Path(data_dir))
    return sorted(int(n) for n in [*pairs.loc[pairs["nis_a"] == nis_code, "nis_b"],
                                   *pairs.loc[pairs["nis_b"] == nis_code, "nis_a"]])


@lru_cache(maxsize=4)
def _adjacency(data_dir: Path) -> pd.DataFrame:
    munis = municipal_polygons(data_dir)
    frame = munis.reset_index()[["nis_code", "geometry"]]
    # A 1 m buffer absorbs slivers left by simplifying the source polygons.
    buffered = frame.copy()
    buffered["geometry"] = buffered.geometry.buffer(1.0)
    pairs = gpd.sjoin(buffered, frame, predicate="intersects")
    pairs = pairs[pairs["nis_code_left"] < pairs["nis_code_right"]]
    shared = buffered.geometry.iloc[pairs.index].reset_index(drop=True).intersection(
        frame.set_index("nis_code").geometry.loc[pairs["nis_code_right"]].reset_index(drop=True))
    keep = (shared.length > 10.0).to_numpy() | (shared.area > 10.0).to_numpy()
    out = pd.DataFrame({"nis_a": pairs["nis_code_left"].to_numpy()[keep],
                        "nis_b": pairs["nis_code_right"].to_numpy()[keep]})
    return out.sort_values(["nis_a", "nis_b"]).reset_index(drop=True)


# -- browser geometry: prepared once per layer and detail, served from its own URL -----------------
# Douglas-Peucker tolerances (metres) per named detail level: "coarse" for views of (a large part
# of) Flanders, "fine" for a municipality and its surroundings.
WEB_DETAIL_METRES: dict[str, float] = {"coarse": 120.0, "fine": 60.0}
# The default detail: views of (a large part of) Flanders.
DEFAULT_WEB_DETAIL = "coarse"
# 5 decimals of a degree is about 1 m here: far below what a 60 m simplification keeps.
WEB_DECIMALS = 5


def detail_metres(detail: str) -> float:
    """The simplification tolerance of a named detail level.

    Examples
    --------
    >>> detail_metres("coarse")
    120.0
    """
    try:
        return WEB_DETAIL_METRES[detail]
    except KeyError:
        raise InvalidInput(f"unknown detail {detail!r}; choose one of {', '.join(WEB_DETAIL_METRES)}") from None


def web_zones(layer: Layer, detail: str = "coarse", data_dir: Path = SHIPPED_DATA) -> gpd.GeoDataFrame:
    """The zones of a layer with geometry (EPSG:4326), simplified as a coverage and rounded to
    :data:`WEB_DECIMALS`: exactly what :func:`web_geometry` serves, so bounds and label points
    computed from it match what the browser draws. Cached per layer object and detail.

    Examples
    --------
    >>> web_zones(provincie)["code"].size
    6
    """
    return _web_zones(layer, detail_metres(detail), Path(data_dir)).copy()


@lru_cache(maxsize=128)
def _web_zones(layer: Layer, metres: float, data_dir: Path) -> gpd.GeoDataFrame:
    shipped = _shipped_frame(layer, metres, data_dir)
    return shipped if shipped is not None else _computed_web_zones(layer, metres, data_dir)


def _computed_web_zones(layer: Layer, metres: float, data_dir: Path) -> gpd.GeoDataFrame:
    frame = _zone_polygons(layer, data_dir)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)
    coverage = None if layer.polygons is not None else not _zones_overlap(layer)
    return _rounded(to_web(gpd.GeoDataFrame(frame, geometry="geometry", crs=METRIC_CRS), metres, coverage))


def _zones_overlap(layer: Layer) -> bool:
    """Whether a municipality counts towards two zones' outlines (overlapping associations): read
    from the membership table, since testing the polygons for that is quadratic in overlaps."""
    members = layer.members()
    return bool(members.loc[members["share"] >= 0.5, "nis_code"].duplicated().any())


def web_municipalities(detail: str = "coarse", data_dir: Path = SHIPPED_DATA) -> gpd.GeoDataFrame:
    """The municipalities as :func:`web_zones` gives zones (column ``code`` is the NIS code as text)."""
    return _web_municipalities(detail_metres(detail), Path(data_dir)).copy()


@lru_cache(maxsize=8)
def _web_municipalities(metres: float, data_dir: Path) -> gpd.GeoDataFrame:
    shipped = _shipped_frame(None, metres, data_dir)
    return shipped if shipped is not None else _computed_web_municipalities(metres, data_dir)


def _computed_web_municipalities(metres: float, data_dir: Path) -> gpd.GeoDataFrame:
    frame = municipal_polygons(data_dir).reset_index()[["nis_code", "geometry"]]
    frame["code"] = frame["nis_code"].astype(str)
    return _rounded(to_web(frame, metres))


# In compact_geojson's output every feature starts with its id (a JSON string).
_FEATURE_ID = re.compile(rb'"id":"((?:[^"\\]|\\.)*)"')


@lru_cache(maxsize=128)
def _shipped_body(layer: Layer | None, metres: float, data_dir: Path) -> bytes | None:
    """The prepared file's bytes, read and decompressed once for both the body served and the
    frame maps read (the same bytes object sits in both caches)."""
    return shipped_web_geometry(layer, metres, data_dir)


def _shipped_frame(layer: Layer | None, metres: float, data_dir: Path) -> gpd.GeoDataFrame | None:
    """What ``_computed_web_zones`` (or, for None, ``_computed_web_municipalities``) gives, read
    from the geometry prepared with the data (:mod:`geo.geometry.prepared`); None when there is none."""
    body = _shipped_body(layer, metres, data_dir)
    if body is None:
        return None
    ids = [json.loads(b'"' + raw + b'"') for raw in _FEATURE_ID.findall(body)]
    geometries = shapely.get_parts(shapely.from_geojson(body.decode("utf-8")))
    if len(ids) != len(geometries):
        return None  # not a file this module wrote: prepare it instead
    if layer is None:
        frame = pd.DataFrame({"nis_code": np.array(ids, dtype=np.int64), "code": ids})
        return gpd.GeoDataFrame(frame, geometry=geometries, crs=WEB_CRS)[["nis_code", "geometry", "code"]]
    frame = pd.DataFrame({"code": ids}).merge(layer.zones, on="code", how="left")
    out = gpd.GeoDataFrame(frame, geometry=geometries, crs=WEB_CRS)
    return out[["code", "geometry", *[c for c in frame.columns if c != "code"]]]


def _rounded(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["geometry"] = shapely.transform(frame.geometry.values, lambda xy: np.round(xy, WEB_DECIMALS))
    return frame


def compact_geojson(frame: gpd.GeoDataFrame) -> bytes:
    """A FeatureCollection of a EPSG:4326 frame with only ``id`` (its ``code``) and geometry, in
    compact UTF-8 JSON: whatever else a map shows travels in the page, keyed by that id.

    Examples
    --------
    >>> compact_geojson(web_zones(provincie))[:30]
    b'{"type":"FeatureCollection","f'
    """
    require_crs(frame, WEB_CRS)
    features = [{"type": "Feature", "id": str(code), "properties": {}, "geometry": mapping(geom)}
                for code, geom in zip(frame["code"], frame.geometry.values)]
    # Floats print with the shortest repr; rounding above keeps them at most WEB_DECIMALS long.
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def prepare_web_geometry(layers: list[Layer], data_dir: Path = SHIPPED_DATA) -> int:
    """Prepare the browser geometry of the municipalities and of ``layers`` at every detail
    level, both as served and as the frame a map page reads its bounds and label points from, so
    no map waits for it (the server does this for the shipped layers after start-up). Returns how
    many geometries were prepared.

    Examples
    --------
    >>> prepare_web_geometry([provincie])
    4
    """
    steps = web_geometry_steps(layers, data_dir)
    for step in steps:
        step()
    return len(steps) // 2


def web_geometry_steps(layers: list[Layer], data_dir: Path = SHIPPED_DATA,
                       municipalities: bool = True) -> list[Callable[[], object]]:
    """:func:`prepare_web_geometry` as steps of a fraction of a second each (the served outlines,
    then the frame, per layer and detail), for a background thread that lets requests go first
    between two steps. ``municipalities=False`` leaves out the municipal outlines (prepared with
    the shipped layers)."""
    steps: list[Callable[[], object]] = []
    for detail in WEB_DETAIL_METRES:
        metres = detail_metres(detail)
        for layer in [None, *layers] if municipalities else layers:
            steps.append(functools.partial(web_geometry, layer, detail, data_dir))
            steps.append(functools.partial(_web_municipalities, metres, Path(data_dir)) if layer is None
                         else functools.partial(_web_zones, layer, metres, Path(data_dir)))
    return steps


def web_geometry(layer: Layer | None, detail: str = "coarse", data_dir: Path = SHIPPED_DATA) -> tuple[bytes, str]:
    """Compact GeoJSON of a layer's zones (``None``: the municipalities, ids are NIS codes) and a
    digest of it (for an HTTP ETag). Prepared once per layer object and detail, then reused by
    every map that draws the layer.

    Examples
    --------
    >>> body, digest = web_geometry(provincie)
    >>> len(digest)
    32
    """
    return _web_geometry(layer, detail_metres(detail), Path(data_dir))


@lru_cache(maxsize=128)
def _web_geometry(layer: Layer | None, metres: float, data_dir: Path) -> tuple[bytes, str]:
    body = _shipped_body(layer, metres, data_dir)
    if body is None:
        frame = _web_municipalities(metres, data_dir) if layer is None else _web_zones(layer, metres, data_dir)
        body = compact_geojson(frame)
    return body, hashlib.blake2b(body, digest_size=16).hexdigest()


def compute_web_geometry(layer: Layer | None, metres: float, data_dir: Path = SHIPPED_DATA) -> bytes:
    """:func:`web_geometry`'s body at tolerance ``metres``, always computed (never read from the
    prepared files): what ``data/build_data.py`` ships (:func:`geo.geometry.build.write_web_geometry`)."""
    data_dir = Path(data_dir)
    if layer is None:
        return compact_geojson(_computed_web_municipalities(float(metres), data_dir))
    return compact_geojson(_computed_web_zones(layer, float(metres), data_dir))
