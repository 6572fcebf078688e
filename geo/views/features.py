"""The feature collections the OGC API - Features service offers, framework-free.

Every shipped and imported layer (its zones dissolved from the municipalities), every saved
scenario (its zones, with the municipalities moved in and out), the municipalities (with, per
layer, the zone they belong to), the atlas's associations against the reference regions, and
the grensgemeenten counts. Geometry is computed in EPSG:31370 (:mod:`geo.geometry.polygons`) and
written in the CRS a request asks for (:mod:`geo.geometry.crs`); each feature's GeoJSON is
encoded once per CRS and layer version, so a page is a join of ready strings.

Examples
--------
>>> from geo.storage.workspace import open_workspace
>>> ws = open_workspace(None, "sqlite://")
>>> [c.id for c in collections(ws)][-3:]
['gemeenten', 'atlas', 'grensgemeenten']
>>> table = feature_table(ws, collection(ws, "provincie"))
>>> len(table), sorted(table.schema)[:3]
(6, ['code', 'members', 'name'])
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from geo import dutch
from geo.errors import InvalidInput, NotFound
from geo.geometry.crs import Crs, crs84_bounds, from_metric

if TYPE_CHECKING:
    from geo.engine.layer import Layer
    from geo.storage.workspace import Workspace

MUNICIPALITIES = "gemeenten"
ATLAS = "atlas"
BORDER = "grensgemeenten"
SCENARIO_COLLECTION_PREFIX = "scenario-"
# Ids no imported layer may take: the collections beside the layers (and scenarios' prefix).
RESERVED_IDS = (MUNICIPALITIES, ATLAS, BORDER)
ALL = "*"  # a collection that shows every layer depends on all their versions
SEPARATOR = "; "  # between the values of a multi-valued property ("elz40; elz41")


class UnknownCollection(NotFound):
    """No collection of the feature service has this id (404)."""

    code = "unknown_collection"


class UnknownFeature(NotFound):
    """The collection has no feature with this id (404)."""

    code = "unknown_feature"


@dataclass(frozen=True)
class Collection:
    """One collection: its id (in URLs), Dutch title and description, its kind (``layer``,
    ``scenario``, ``municipalities``, ``associations``, ``border``), and the layer ids its
    features are computed from (:data:`ALL`: every layer), for caches keyed on their versions."""

    id: str
    title: str
    description: str
    kind: str
    layer_ids: tuple[str, ...] | str


@dataclass(eq=False)
class FeatureTable:
    """The features of a collection: ids, JSON-ready properties and EPSG:31370 geometry, plus
    what the ``zone`` filter looks at. Immutable once built; encodings are added as asked."""

    ids: list[Any]
    properties: list[dict]
    geometry: np.ndarray
    schema: dict[str, str]
    zones: list[frozenset[str]]
    population_year: int
    _encoded: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, feature_id: str) -> int:
        """Index of the feature whose id reads ``feature_id``; :class:`UnknownFeature` otherwise."""
        index = self._memo("ids", lambda: {str(i): n for n, i in enumerate(self.ids)})
        try:
            return index[str(feature_id)]
        except KeyError:
            raise UnknownFeature(f"unknown feature {feature_id!r}") from None

    def select(self, bbox: tuple[float, float, float, float] | None = None,
               filters: dict[str, str] | None = None) -> np.ndarray:
        """Positions of the features meeting every filter (``property -> value``, equal as text,
        case-insensitive; a multi-valued property matches any of its values; ``zone`` matches a
        zone code of any layer) and intersecting ``bbox`` (EPSG:31370), in table order."""
        keep = np.ones(len(self), dtype=bool)
        for name, wanted in (filters or {}).items():
            values = self._values(name)
            target = wanted.strip().casefold()
            keep &= np.fromiter((target in v for v in values), dtype=bool, count=len(self))
        if bbox is not None:
            box = shapely.box(*bbox)
            present = ~shapely.is_missing(self.geometry)
            hits = np.zeros(len(self), dtype=bool)
            hits[present] = shapely.intersects(self.geometry[present], box)
            keep &= hits
        return np.flatnonzero(keep)

    def _values(self, name: str) -> list[frozenset[str]]:
        if name == "zone":
            return [frozenset(z.casefold() for z in zones) for zones in self.zones]
        if name not in self.schema:
            raise InvalidInput(f"unknown property {name!r} to filter on; properties: zone, {', '.join(self.schema)}")

        def build() -> list[frozenset[str]]:
            return [_text_values(p.get(name)) for p in self.properties]

        return self._memo(("values", name), build)

    def geometry_json(self, crs: Crs) -> list[str | None]:
        """Each feature's geometry as GeoJSON text in ``crs`` (None where it has none); not kept:
        :meth:`feature_json` keeps the whole features."""
        present = ~shapely.is_missing(self.geometry)
        out: list[str | None] = [None] * len(self)
        if present.any():
            converted = from_metric(self.geometry[present], crs)
            for i, text in zip(np.flatnonzero(present), shapely.to_geojson(converted)):
                out[i] = text
        return out

    def feature_json(self, crs: Crs) -> list[str]:
        """Each feature as GeoJSON text in ``crs``: ``{"type","id","geometry","properties"}``."""
        def build() -> list[str]:
            geometry = self.geometry_json(crs)
            return ['{"type":"Feature","id":' + json.dumps(i, ensure_ascii=False) + ',"geometry":'
                    + (g or "null") + ',"properties":' + json.dumps(p, ensure_ascii=False, separators=(",", ":"))
                    + "}" for i, g, p in zip(self.ids, geometry, self.properties)]

        return self._memo(("feature", crs.uri), build)

    def extent(self) -> list[float] | None:
        """``[lon_min, lat_min, lon_max, lat_max]`` around every feature (CRS84), None if none has geometry."""
        def build() -> list[float] | None:
            present = self.geometry[~shapely.is_missing(self.geometry)]
            if not len(present):
                return None
            return crs84_bounds(tuple(shapely.total_bounds(present)))

        return self._memo("extent", build)

    def _memo(self, key: Any, build: Any) -> Any:
        with self._lock:
            if key in self._encoded:
                return self._encoded[key]
        value = build()
        with self._lock:
            return self._encoded.setdefault(key, value)


def _text_values(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, bool):
        return frozenset({"true" if value else "false"})
    if isinstance(value, str):
        return frozenset(v.strip().casefold() for v in value.split(SEPARATOR)) | {value.casefold()}
    return frozenset({str(value).casefold()})


# -- the collections -----------------------------------------------------------------------------
def collections(ws: "Workspace") -> list[Collection]:
    """Every collection: shipped and imported layers, saved scenarios, then the municipalities,
    the atlas and the grensgemeenten. Read from the database on each call, so a scenario saved a
    moment ago is listed."""
    year = ws.catalog.atoms.population_year
    out = [_layer_collection(layer, year) for layer in ws.layers() if layer.id not in RESERVED_IDS]
    names = {layer_id: layer.name for layer_id, layer in ws.catalog.builtin.items()}
    out += [_scenario_collection(record, year, names) for record in ws.store.list_scenarios()]
    against = _atlas_against(ws)
    count = len(ws.catalog.atoms.nis_codes)
    out += [
        Collection(MUNICIPALITIES, "Gemeenten met hun zone in elke laag",
                   f"De {count} gemeenten met NIS-code, naam, inwoners op 1 januari {year} en per laag de zone(s) "
                   "waartoe ze behoren.", "municipalities", ALL),
        Collection(ATLAS, "Samenwerkingsverbanden tegenover de " + against.name.lower(),
                   "De actieve samenwerkingsverbanden uit het register met rechtsvorm, status, geraakte zones, de "
                   f"grootste zone en haar aandeel, de leden erbuiten en de inwoners (1 januari {year}), zoals "
                   "de atlas.",
                   "associations", ()),
        Collection(BORDER, "Grensgemeenten", "Per Vlaamse gemeente: in hoeveel actieve samenwerkingsverbanden ze zit, "
                   f"hoeveel daarvan een grens van de {against.name.lower()} overschrijden en in hoeveel daarvan ze "
                   "aan de minderheidskant ligt, zoals de atlas.", "border", ()),
    ]
    return out


def _scenario_collection(record: Any, year: int, names: dict[str, str]) -> Collection:
    about = f"{record.description} " if record.description else ""
    base = names.get(record.base_layer, record.base_layer)
    return Collection(SCENARIO_COLLECTION_PREFIX + record.id, f"Scenario: {record.name}",
                      f"{about}Zones van het scenario op {base}, met per zone de gemeenten die erin en "
                      f"eruit verschoven; inwoners op 1 januari {year}.", "scenario", (record.layer_id,))


def _layer_collection(layer: "Layer", year: int) -> Collection:
    source = f" Bron: {layer.source}" + (f" ({dutch.vintage(layer.vintage)})" if layer.vintage else "") + "." \
        if layer.source else ""
    # An import of polygons (its shares weighted by population or area) keeps its own outlines.
    made = "met hun eigen grenzen" if layer.weighting else "samengesteld uit gemeenten"
    return Collection(layer.id, layer.name, f"{len(layer)} zones {made}, met code, naam, inwoners op 1 januari "
                      f"{year} en aantal gemeenten.{source}", "layer", (layer.id,))


def collection(ws: "Workspace", collection_id: str) -> Collection:
    """One collection by id; :class:`UnknownCollection` naming a few known ids otherwise."""
    if collection_id.startswith(SCENARIO_COLLECTION_PREFIX):
        from geo.errors import UnknownScenario

        try:
            record = ws.store.get_scenario(collection_id.removeprefix(SCENARIO_COLLECTION_PREFIX))
        except UnknownScenario:
            raise UnknownCollection(f"unknown collection {collection_id!r}: no saved scenario has that id") from None
        names = {layer_id: layer.name for layer_id, layer in ws.catalog.builtin.items()}
        return _scenario_collection(record, ws.catalog.atoms.population_year, names)
    if collection_id in RESERVED_IDS:
        return next(c for c in collections(ws) if c.id == collection_id)
    from geo.errors import UnknownLayer

    try:
        layer = ws.layer(collection_id)
    except UnknownLayer:
        raise UnknownCollection(f"unknown collection {collection_id!r}; collections: "
                                f"{', '.join([*ws.layer_ids(), *RESERVED_IDS])} and scenario-<id>") from None
    return _layer_collection(layer, ws.catalog.atoms.population_year)


def _atlas_against(ws: "Workspace") -> "Layer":
    from geo.views.atlas import DEFAULT_AGAINST

    return ws.catalog.layer(DEFAULT_AGAINST)


def prepare_steps(ws: "Workspace") -> list:
    """Steps that encode the features of the shipped layers, the municipalities, the atlas and the
    grensgemeenten in the CRSs GIS software asks first (Lambert 72, which GDAL reads by default,
    and CRS84, QGIS's): for the server's warm-up, so the first GIS user does not wait."""
    from geo.geometry.crs import DEFAULT, STORAGE

    year = ws.catalog.atoms.population_year
    fixed = [Collection(MUNICIPALITIES, "", "", "municipalities", ALL), Collection(ATLAS, "", "", "associations", ()),
             Collection(BORDER, "", "", "border", ())]
    chosen = [*(_layer_collection(layer, year) for layer in ws.catalog.builtin.values()), *fixed]
    return [lambda c=c, crs=crs: feature_table(ws, c).feature_json(crs) for c in chosen for crs in (STORAGE, DEFAULT)]


# -- the features ---------------------------------------------------------------------------------
def feature_table(ws: "Workspace", c: Collection) -> FeatureTable:
    """The features of collection ``c`` (cached per version of the layers they come from)."""
    data_dir = Path(ws.catalog.data_dir)
    if c.kind == "layer":
        return _zones_table(ws.layer(c.id), None, data_dir)
    if c.kind == "scenario":
        layer_id = c.layer_ids[0]
        return _zones_table(ws.layer(layer_id), ws.base_of(layer_id), data_dir)
    if c.kind == "municipalities":
        return _municipalities_table(tuple(ws.layers()), data_dir)
    if c.kind == "associations":
        return _atlas_table(ws.catalog, data_dir)
    return _border_table(ws.catalog, data_dir)


ZONE_SCHEMA = {"code": "string", "name": "string", "population": "integer", "members": "integer",
               "population_year": "integer"}
SCENARIO_SCHEMA = {**ZONE_SCHEMA, "moved_in": "string", "moved_out": "string", "changed": "boolean"}


# A layer's features in four CRSs are a few MB; a big import's tens of MB: a few dozen tables at most.
@lru_cache(maxsize=32)
def _zones_table(layer: "Layer", base: "Layer | None", data_dir: Path) -> FeatureTable:
    from geo.geometry.polygons import zone_polygons

    polygons = zone_polygons(layer, data_dir).set_index("code").geometry
    summary = layer.summary()
    year = layer.atoms.population_year
    moved_in: dict[str, list[str]] = {}
    moved_out: dict[str, list[str]] = {}
    if base is not None:
        from geo.engine.scenario import moved

        for m in moved(base, layer):
            label = f"{m['municipality']} ({m['nis_code']})"
            for code in set(m["to_zones"]) - set(m["from_zones"]):
                moved_in.setdefault(code, []).append(label)
            for code in set(m["from_zones"]) - set(m["to_zones"]):
                moved_out.setdefault(code, []).append(label)
    ids, properties, geometry, zones = [], [], [], []
    for code, name, population, members in zip(summary["code"].astype(str), summary["name"].astype(str),
                                               summary["population"], summary["members"]):
        props = {"code": code, "name": name, "population": _whole(population), "members": int(members),
                 "population_year": year}
        if base is not None:
            ins, outs = moved_in.get(code, []), moved_out.get(code, [])
            props |= {"moved_in": SEPARATOR.join(sorted(ins)) or None,
                      "moved_out": SEPARATOR.join(sorted(outs)) or None, "changed": bool(ins or outs)}
        ids.append(code)
        properties.append(props)
        geometry.append(_geometry(polygons.get(code)))
        zones.append(frozenset({code}))
    return FeatureTable(ids, properties, np.array(geometry, dtype=object),
                        SCENARIO_SCHEMA if base is not None else ZONE_SCHEMA, zones, year)


def _whole(value: Any) -> int:
    return 0 if value is None or value != value else int(round(float(value)))


def _geometry(value: Any) -> Any:
    """A zone's outline as a MultiPolygon (one geometry type per collection, as GIS layers expect)."""
    if value is None or not isinstance(value, shapely.Geometry) or value.is_empty:
        return None
    return shapely.MultiPolygon([value]) if isinstance(value, shapely.Polygon) else value


MUNICIPALITY_SCHEMA = {"nis_code": "integer", "name": "string", "region": "string", "population": "integer",
                       "population_year": "integer"}


@lru_cache(maxsize=8)
def _municipalities_table(layers: tuple["Layer", ...], data_dir: Path) -> FeatureTable:
    from geo.geometry.polygons import municipal_polygons

    atoms = layers[0].atoms
    polygons = municipal_polygons(data_dir).geometry
    year = atoms.population_year
    people = atoms.weights("population")
    regions = atoms.table["region"].astype(str).tolist()
    # Per layer a property named by its id (a layer whose id is one of the fixed names is left out).
    schema = {**MUNICIPALITY_SCHEMA, **{layer.id: "string" for layer in layers if layer.id not in MUNICIPALITY_SCHEMA}}
    ids, properties, geometry, zones = [], [], [], []
    for row, (nis, name) in enumerate(zip(atoms.nis_codes.astype(int).tolist(), atoms.names.astype(str).tolist())):
        props: dict[str, Any] = {"nis_code": nis, "name": name, "region": regions[row],
                                 "population": _whole(people[row]), "population_year": year}
        codes: set[str] = set()
        for layer in layers:
            if layer.id in props:
                continue
            here = [c for c, _, _ in layer.zones_of(nis)]
            codes.update(here)
            props[layer.id] = SEPARATOR.join(here) or None
        ids.append(nis)
        properties.append(props)
        geometry.append(_geometry(polygons.get(nis)))
        zones.append(frozenset(codes))
    return FeatureTable(ids, properties, np.array(geometry, dtype=object), schema, zones, year)


ATLAS_SCHEMA = {"code": "string", "name": "string", "legal_type": "string", "status": "string",
                "population": "integer", "members": "integer", "zones_touched": "integer", "zones": "string",
                "dominant_zone": "string", "dominant_zone_name": "string", "dominant_share": "number",
                "crosses": "boolean", "members_outside": "integer", "outside": "string",
                "outside_population": "integer", "against": "string", "population_year": "integer"}


@lru_cache(maxsize=8)
def _atlas_table(catalog: Any, data_dir: Path) -> FeatureTable:
    from geo.geometry.polygons import zone_polygons
    from geo.views.atlas import fit_atlas

    atlas = fit_atlas(catalog)
    polygons = zone_polygons(atlas.layer, data_dir).set_index("code").geometry
    year = atlas.population_year
    ids, properties, geometry, zones = [], [], [], []
    for row in sorted(atlas.rows, key=lambda r: r.association.name.casefold()):
        a = row.association
        ids.append(a.code)
        properties.append({
            "code": a.code, "name": a.name, "legal_type": a.legal_type, "status": a.status,
            "population": _whole(row.population), "members": row.members, "zones_touched": len(row.zones),
            "zones": SEPARATOR.join(c for c, _, _ in row.zones) or None, "dominant_zone": row.dominant_zone,
            "dominant_zone_name": row.dominant_zone_name, "dominant_share": round(row.dominant_share, 4),
            "crosses": row.crosses, "members_outside": len(row.outside),
            "outside": SEPARATOR.join(f"{m.name} ({m.nis_code})" for m in row.outside) or None,
            "outside_population": _whole(row.outside_population), "against": atlas.against.id,
            "population_year": year})
        geometry.append(_geometry(polygons.get(a.code)))
        zones.append(frozenset({a.code, *(c for c, _, _ in row.zones)}))
    return FeatureTable(ids, properties, np.array(geometry, dtype=object), ATLAS_SCHEMA, zones, year)


BORDER_SCHEMA = {"nis_code": "integer", "name": "string", "associations": "integer", "crossing": "integer",
                 "minority_side": "integer", "against": "string", "population_year": "integer"}


@lru_cache(maxsize=8)
def _border_table(catalog: Any, data_dir: Path) -> FeatureTable:
    from geo.geometry.polygons import municipal_polygons
    from geo.views.atlas import fit_atlas

    atlas = fit_atlas(catalog)
    atoms = atlas.layer.atoms
    flemish = set(atoms.nis_codes[atoms.flemish].astype(int).tolist())
    polygons = municipal_polygons(data_dir).geometry
    ids, properties, geometry, zones = [], [], [], []
    for r in atlas.municipalities.sort_values("nis_code").itertuples():
        nis = int(r.nis_code)
        if nis not in flemish:
            continue
        ids.append(nis)
        properties.append({"nis_code": nis, "name": str(r.municipality), "associations": int(r.associations),
                           "crossing": int(r.crossing), "minority_side": int(r.minority_side),
                           "against": atlas.against.id, "population_year": atlas.population_year})
        geometry.append(_geometry(polygons.get(nis)))
        zones.append(frozenset(c for c, _, _ in atlas.against.zones_of(nis)))
    return FeatureTable(ids, properties, np.array(geometry, dtype=object), BORDER_SCHEMA, zones,
                        atlas.population_year)
