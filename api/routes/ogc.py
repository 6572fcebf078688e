"""OGC API - Features at ``/ogc``: every layer, scenario, the municipalities and the atlas for GIS
software (QGIS, ArcGIS Pro, GDAL), read-only.

Written as FastAPI routes beside the rest of the service, the way tipg serves PostGIS, rather
than a mounted pygeoapi (README, "In QGIS"): same workspace, population year, access rules,
render cache and ETags. Features come from :mod:`geo.views.features`, CRSs from
:mod:`geo.geometry.crs`; the HTML pages (``f=html`` or a browser's ``Accept``) from
:mod:`maps.ogc_pages`. Errors are OGC exceptions (``{"code", "description"}``, with the
service's ``detail`` beside them): 404 for an unknown collection or feature, 400 for a bad
``bbox``, ``crs``, ``limit`` or an unknown parameter (:mod:`api.errors`).
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import get_workspace
from api.errors import is_ogc
from api.limits import slot
from api.render_cache import ALL_LAYERS, cached
from geo.errors import InvalidInput
from geo.geometry.crs import DEFAULT, OFFERED, STORAGE, parse_bbox, parse_crs
from geo.storage.workspace import Workspace
from geo.views.features import ALL, Collection, FeatureTable, collection, collections, feature_table

router = APIRouter(prefix="/ogc", tags=["ogc"])

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
# Parameters of the whole service a link carries on (the population year a GIS user opened).
KEPT = ("population_year",)
ITEM_PARAMETERS = {"f", "limit", "offset", "bbox", "bbox-crs", "crs", *KEPT}

Format = Query(None, description="json (GeoJSON for features) or html; without it, the Accept header decides",
               pattern="^(json|html|geojson)$")

def _format(request: Request, f: str | None = Format) -> str:
    if f is not None:
        return "html" if f == "html" else "json"
    accept = request.headers.get("accept", "")
    return "html" if HTML in accept and "json" not in accept.split(HTML)[0] else "json"

def _root(request: Request) -> str:
    """The service's absolute address as the client reached it (part of the cache key)."""
    return str(request.base_url).rstrip("/") + "/ogc"

def _kept(request: Request) -> tuple[tuple[str, str], ...]:
    return tuple((k, request.query_params[k]) for k in KEPT if k in request.query_params)

def _href(root: str, path: str, kept: tuple, **params: object) -> str:
    query = [*kept, *((k.replace("_", "-") if k == "bbox_crs" else k, v) for k, v in params.items() if v is not None)]
    return root + path + ("?" + urlencode(query) if query else "")

def _seg(value: object) -> str:
    """A collection or feature id as one path segment (an imported zone code may hold '/' or spaces)."""
    return quote(str(value), safe="")


def _filters(request: Request) -> tuple[tuple[str, str], ...]:
    """Property filters (``?zone=elz40``, ``?legal_type=...``): every parameter the items route does
    not take itself, checked against the collection's properties when the features are selected."""
    return tuple(sorted((k, v) for k, v in request.query_params.multi_items() if k not in ITEM_PARAMETERS))

def _no_extra(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InvalidInput(f"unknown parameter(s) {', '.join(unknown)}; this request takes "
                           f"{', '.join(sorted(allowed))}")

def _json(document: dict, media_type: str = JSON, headers: dict | None = None) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, media_type=media_type, headers=headers)

def _alternates(root: str, path: str, kept: tuple, fmt: str, json_type: str = JSON, **params: object) -> list[dict]:
    """``self`` and ``alternate`` links of a resource in JSON and HTML."""
    kinds = [("json", json_type, "JSON"), ("html", HTML, "HTML")]
    return [{"href": _href(root, path, kept, f=f, **params), "rel": "self" if f == fmt else "alternate",
             "type": media, "title": f"dit document als {title}" if f == fmt else title} for f, media, title in kinds]

def _page(page: str, document: dict, ws: Workspace, root: str, kept: tuple, **context: object) -> HTMLResponse:
    from maps.ogc_pages import render_ogc

    return HTMLResponse(render_ogc(page, document, root=_href(root, "", kept),
                                   population_year=ws.catalog.atoms.population_year,
                                   **context))

def _collection_layers(p: dict) -> list[str] | str:
    """What a collection's answer depends on, for the render cache (unknown ids: uncached, then 404)."""
    c = collection(p["ws"], p["collection_id"])
    return ALL_LAYERS if c.layer_ids == ALL else list(c.layer_ids)

# Dissolving a big imported layer's zones takes seconds: a few at a time, as the maps and GeoJSON
# (held only while a page is built; a page the render cache has is always answered).
BUSY = slot("maps", "{limit} maps or feature pages are being built already; try again in a few seconds")
CollectionId = Path(..., description="A layer id, scenario-<id>, gemeenten, atlas or grensgemeenten",
                    examples=["eerstelijnszone"])

@router.get("", summary="Landing page of the feature service (OGC API - Features)",
            responses={200: {"content": {JSON: {}, HTML: {}}}})
@cached(lambda p: [])
def landing(request: Request, fmt: str = Depends(_format), root: str = Depends(_root),
            kept: tuple = Depends(_kept), ws: Workspace = Depends(get_workspace)) -> Response:
    """The landing page: links to the API description, the conformance classes and the collections."""
    _no_extra(request, {"f", *KEPT})
    document = {
        "title": "regiomatch: regionale indelingen in Vlaanderen",
        "description": "Alle lagen, opgeslagen scenario's, de gemeenten en de samenwerkingsverbanden van de atlas als "
                       "objecten (OGC API - Features), voor QGIS, ArcGIS Pro en GDAL.",
        "links": [
            *_alternates(root, "", kept, fmt),
            {"href": _href(root, "/api", kept), "rel": "service-desc", "type": OPENAPI,
             "title": "OpenAPI-beschrijving (3.0)"},
            {"href": str(request.base_url) + "docs", "rel": "service-doc", "type": HTML, "title": "API-documentatie"},
            {"href": _href(root, "/conformance", kept), "rel": "conformance", "type": JSON, "title": "Conformiteit"},
            {"href": _href(root, "/collections", kept), "rel": "data", "type": JSON, "title": "Collecties"},
        ],
    }
    if fmt == "html":
        return _page("landing", document, ws, root, kept, collections_href=_href(root, "/collections", kept, f="html"),
                     conformance_href=_href(root, "/conformance", kept, f="html"), trail=[])
    return _json(document)

@router.get("/conformance", summary="Conformance classes the feature service implements",
            responses={200: {"content": {JSON: {}, HTML: {}}}})
@cached(lambda p: [])
def conformance(request: Request, fmt: str = Depends(_format), root: str = Depends(_root),
                kept: tuple = Depends(_kept), ws: Workspace = Depends(get_workspace)) -> Response:
    """The conformance classes the service implements (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS)."""
    _no_extra(request, {"f", *KEPT})
    document = {"conformsTo": CONFORMANCE, "links": _alternates(root, "/conformance", kept, fmt)}
    if fmt == "html":
        return _page("conformance", document, ws, root, kept, heading="Conformiteit",
                     trail=[("Conformiteit", _href(root, "/conformance", kept, f="html"))])
    return _json(document)

@router.get("/api", summary="OpenAPI 3.0 description of the feature service",
            responses={200: {"content": {OPENAPI: {}}}})
def openapi_30(request: Request) -> Response:
    """The /ogc routes of the app's OpenAPI document, written as OpenAPI 3.0 (FastAPI writes 3.1)
    for the OGC API conformance class and for clients that read only 3.0."""
    _no_extra(request, {"f", *KEPT})
    document = request.app.state.__dict__.get("ogc_openapi")
    if document is None:
        document = request.app.state.ogc_openapi = as_openapi_30(request.app.openapi())
    return _json(document, OPENAPI)


def as_openapi_30(document: dict) -> dict:
    """The ``/ogc`` paths of an OpenAPI 3.1 document in OpenAPI 3.0.3: ``anyOf [X, null]`` becomes
    ``X`` with ``nullable``, a schema's ``examples`` its ``example``.

    Examples
    --------
    >>> doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/ogc": {"get": {
    ...     "parameters": [{"name": "f", "in": "query", "schema": {"anyOf": [{"type": "string"}, {"type": "null"}],
    ...                                                          "examples": ["json"]}}], "responses": {}}}}}
    >>> as_openapi_30(doc)["paths"]["/ogc"]["get"]["parameters"][0]["schema"]
    {'type': 'string', 'nullable': True, 'example': 'json'}
    """
    def convert(node: object) -> object:
        if isinstance(node, list):
            return [convert(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: convert(v) for k, v in node.items() if k not in ("anyOf", "examples")}
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o != {"type": "null"}]
            if len(options) == 1:
                out = {**convert(options[0]), **out}
            else:
                out["anyOf"] = convert(options)
            if len(options) < len(node["anyOf"]):
                out["nullable"] = True
        if "examples" in node:
            if isinstance(node["examples"], list) and "schema" not in node and node["examples"]:
                out["example"] = convert(node["examples"][0])
            elif isinstance(node["examples"], dict):
                out["examples"] = convert(node["examples"])
        return out

    paths = {p: item for p, item in document.get("paths", {}).items() if is_ogc(p)}
    schemas = document.get("components", {}).get("schemas", {})
    return {"openapi": "3.0.3", "info": {**document.get("info", {}), "title": "regiomatch OGC API - Features"},
            "paths": convert(paths), "components": {"schemas": convert({k: v for k, v in schemas.items()
                                                                        if k == "Error"})}}


def _collection_document(c: Collection, ws: Workspace, root: str, kept: tuple, fmt: str) -> dict:
    path = f"/collections/{_seg(c.id)}"
    return {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "extent": {"spatial": {"bbox": [_extent(ws, c)], "crs": DEFAULT.uri}},
        "crs": [crs.uri for crs in OFFERED], "storageCrs": STORAGE.uri,
        "links": [
            *_alternates(root, path, kept, fmt),
            {"href": _href(root, path + "/items", kept, f="json"), "rel": "items", "type": GEOJSON,
             "title": "Objecten als GeoJSON"},
            {"href": _href(root, path + "/items", kept, f="html"), "rel": "items", "type": HTML,
             "title": "Objecten als tabel"},
        ],
    }

def _extent(ws: Workspace, c: Collection) -> list[float]:
    """The territory's box (every collection is made of its municipalities), or an imported layer's own."""
    from geo.geometry.crs import crs84_bounds
    from geo.geometry.polygons import municipal_polygons

    if c.kind == "layer":
        layer = ws.layer(c.id)
        if layer.polygons is not None:
            import shapely

            return crs84_bounds(tuple(shapely.total_bounds(layer.polygons.values)))
    return crs84_bounds(tuple(municipal_polygons(ws.catalog.data_dir).total_bounds))

@router.get("/collections", summary="Every collection: layers, scenarios, municipalities, atlas, grensgemeenten",
            responses={200: {"content": {JSON: {}, HTML: {}}}})
@cached(lambda p: ALL_LAYERS)
def get_collections(request: Request, fmt: str = Depends(_format), root: str = Depends(_root),
                    kept: tuple = Depends(_kept), ws: Workspace = Depends(get_workspace)) -> Response:
    """Every collection with its extent, CRSs and links (a saved scenario is listed at once)."""
    _no_extra(request, {"f", *KEPT})
    found = [_collection_document(c, ws, root, kept, "json") for c in collections(ws)]
    document = {"links": _alternates(root, "/collections", kept, fmt), "collections": found,
                "crs": [crs.uri for crs in OFFERED]}
    if fmt == "html":
        for c in found:
            c["html_href"] = _href(root, f"/collections/{_seg(c['id'])}", kept, f="html")
            c["items_html_href"] = _href(root, f"/collections/{_seg(c['id'])}/items", kept, f="html")
            c["items_href"] = _href(root, f"/collections/{_seg(c['id'])}/items", kept, f="json")
        return _page("collections", document, ws, root, kept, heading="Collecties",
                     trail=[("Collecties", _href(root, "/collections", kept, f="html"))])
    return _json(document)

def _layer_names(ws: Workspace) -> dict[str, str]:
    return {layer.id: layer.name for layer in ws.layers()}

@router.get("/collections/{collection_id}", summary="One collection: what it holds, its CRSs and links",
            responses={200: {"content": {JSON: {}, HTML: {}}}})
@cached(_collection_layers)
def get_collection(request: Request, collection_id: str = CollectionId, fmt: str = Depends(_format),
                   root: str = Depends(_root), kept: tuple = Depends(_kept),
                   ws: Workspace = Depends(get_workspace)) -> Response:
    """One collection: title, description, extent, CRSs (storage: Lambert 72) and links to its items."""
    _no_extra(request, {"f", *KEPT})
    c = collection(ws, collection_id)
    document = _collection_document(c, ws, root, kept, fmt)
    if fmt == "html":
        table = feature_table(ws, c)
        return _page("collection", document, ws, root, kept, schema=table.schema, layer_names=_layer_names(ws),
                     crs_labels=OFFERED, items_href=_href(root, f"/collections/{_seg(c.id)}/items", kept, f="json"),
                     items_html_href=_href(root, f"/collections/{_seg(c.id)}/items", kept, f="html"),
                     trail=_trail(root, kept, c))
    return _json(document)

def _trail(root: str, kept: tuple, c: Collection) -> list[tuple[str, str]]:
    return [("Collecties", _href(root, "/collections", kept, f="html")),
            (c.title, _href(root, f"/collections/{_seg(c.id)}", kept, f="html"))]

@router.get("/collections/{collection_id}/items", summary="Features of a collection (GeoJSON or HTML), paged",
            responses={200: {"content": {GEOJSON: {}, HTML: {}}, "headers": {"Content-Crs": {
                "description": "The CRS of the coordinates, as <URI>", "schema": {"type": "string"}}}}})
@cached(_collection_layers, busy=BUSY)
def get_items(
    request: Request,
    collection_id: str = CollectionId,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Features per page"),
    offset: int = Query(0, ge=0, description="Features skipped (the next link gives it)"),
    bbox: str | None = Query(None, max_length=200, description="minx,miny,maxx,maxy in the axis order of bbox-crs"),
    bbox_crs: str | None = Query(None, alias="bbox-crs", max_length=200, description="CRS of bbox (default CRS84)"),
    crs: str | None = Query(None, max_length=200, description="CRS of the answer's coordinates (default CRS84)"),
    fmt: str = Depends(_format), root: str = Depends(_root), kept: tuple = Depends(_kept),
    filters: tuple = Depends(_filters), ws: Workspace = Depends(get_workspace),
) -> Response:
    """Filter on any property with ``?property=value`` (``?legal_type=Projectvereniging``), and on a
    zone code of any layer with ``?zone=elz40``."""
    c = collection(ws, collection_id)
    target, box_crs = parse_crs(crs), parse_crs(bbox_crs)
    if bbox_crs is not None and bbox is None:
        raise InvalidInput("bbox-crs is given without a bbox")
    table = feature_table(ws, c)
    chosen = table.select(parse_bbox(bbox, box_crs), _grouped(filters))
    page = chosen[offset:offset + limit]
    path = f"/collections/{_seg(c.id)}/items"
    params = {"limit": limit, "bbox": bbox, "bbox_crs": bbox_crs, "crs": crs, **dict(filters)}
    links = _alternates(root, path, kept, fmt, GEOJSON, offset=offset or None, **params)
    if offset + limit < len(chosen):
        links.append({"href": _href(root, path, kept, f=fmt, offset=offset + limit, **params), "rel": "next",
                      "type": GEOJSON if fmt == "json" else HTML, "title": "volgende pagina"})
    if offset > 0:
        links.append({"href": _href(root, path, kept, f=fmt, offset=max(offset - limit, 0) or None, **params),
                      "rel": "prev", "type": GEOJSON if fmt == "json" else HTML, "title": "vorige pagina"})
    links.append({"href": _href(root, f"/collections/{_seg(c.id)}", kept, f="json"), "rel": "collection", "type": JSON,
                  "title": c.title})
    headers = {"Content-Crs": f"<{target.uri}>"}
    if fmt == "html":
        document = {"numberMatched": len(chosen), "numberReturned": len(page), "links": links, "features": [
            {"properties": table.properties[i],
             "href": _href(root, f"{path}/{_seg(table.ids[i])}", kept, f="html")} for i in page]}
        return _page("items", document, ws, root, kept, heading=c.title, columns=list(table.schema),
                     kinds=table.schema, layer_names=_layer_names(ws), first=offset + 1, last=offset + len(page),
                     trail=_trail(root, kept, c))
    features = table.feature_json(target)
    head = json.dumps({"type": "FeatureCollection", "numberMatched": len(chosen), "numberReturned": len(page),
                       "links": links}, ensure_ascii=False, separators=(",", ":"))
    body = head[:-1] + ',"features":[' + ",".join(features[i] for i in page) + "]}"
    return Response(body.encode(), media_type=GEOJSON, headers=headers)

def _grouped(filters: tuple) -> dict[str, str]:
    grouped: dict[str, str] = {}
    for name, wanted in filters:
        if name in grouped:
            raise InvalidInput(f"filter {name!r} is given twice")
        grouped[name] = wanted
    return grouped

@router.get("/collections/{collection_id}/items/{feature_id:path}", summary="One feature (GeoJSON or HTML)",
            responses={200: {"content": {GEOJSON: {}, HTML: {}}}})
@cached(_collection_layers)
def get_item(request: Request, collection_id: str = CollectionId,
             feature_id: str = Path(..., description="Zone code, NIS code or enterprise number", examples=["elz40"]),
             crs: str | None = Query(None, max_length=200, description="CRS of the coordinates (default CRS84)"),
             fmt: str = Depends(_format), root: str = Depends(_root), kept: tuple = Depends(_kept),
             ws: Workspace = Depends(get_workspace)) -> Response:
    """One feature by its id (zone code, NIS code or enterprise number), in ``crs`` (default CRS84)."""
    _no_extra(request, {"f", "crs", *KEPT})
    c = collection(ws, collection_id)
    target = parse_crs(crs)
    table: FeatureTable = feature_table(ws, c)
    position = table.position(feature_id)
    path = f"/collections/{_seg(c.id)}/items/{_seg(table.ids[position])}"
    links = [*_alternates(root, path, kept, fmt, GEOJSON, crs=crs),
             {"href": _href(root, f"/collections/{_seg(c.id)}", kept, f="json"), "rel": "collection", "type": JSON,
              "title": c.title}]
    if fmt == "html":
        document = {"properties": table.properties[position], "links": links}
        return _page("item", document, ws, root, kept, heading=f"{c.title}: {_seg(table.ids[position])}",
                     columns=list(table.schema), layer_names=_layer_names(ws), trail=_trail(root, kept, c))
    feature = table.feature_json(target)[position]
    body = feature[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False, separators=(",", ":")) + "}"
    return Response(body.encode(), media_type=GEOJSON, headers={"Content-Crs": f"<{target.uri}>"})
