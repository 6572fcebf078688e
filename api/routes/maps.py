"""Interactive maps as HTML pages (Folium/Leaflet), the vendored Leaflet they load, and the
geometry they draw.

Every map links Leaflet from ``/maps/static/`` (no CDN: the service and its users may be
offline) and fetches its outlines from ``/api/v1/geometry/...``: prepared once per layer, sent
with a strong ETag and cached by the browser for every map, so a page carries only its styles
and texts. Unknown layers, zones, NIS codes and scenarios come back as the usual JSON errors.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.deps import get_workspace
from api.limits import slot, unique_list
from api.render_cache import ALL_LAYERS, cached
from geo.engine.overlay import overlay
from geo.geometry.polygons import DEFAULT_WEB_DETAIL as DETAIL
from geo.geometry.polygons import WEB_DETAIL_METRES, web_geometry
from geo.reference.norms import NORM_LINES
from geo.reference.roles import association_layer
from geo.storage.records import scenario_layer_id
from geo.storage.workspace import Workspace
from geo.usecases.norms import layer_norm
from geo.usecases.scenarios import scenario_with_base
from maps.csp import mark_scripts
from maps.static_files import static_file

router = APIRouter(tags=["maps"])
ASSETS = "served"
ASSOCIATIONS = association_layer()  # the layer with role "associations" in data/layers.json
# Building a map costs up to seconds of CPU: a few at a time, so a flood leaves /health and reads
# alone. Held only while a map is drawn: a map the render cache has is always answered.
BUSY = slot("maps", "De server tekent al {limit} kaarten tegelijk; probeer het over enkele seconden opnieuw.")
# Served as application/geo+json (RFC 7946), with an ETag; 304 when the browser has it already.
GEOJSON_RESPONSE = {200: {"description": "GeoJSON FeatureCollection, EPSG:4326",
                          "content": {"application/geo+json": {"schema": {"type": "object"}}}},
                    304: {"description": "Not modified (If-None-Match)"}}
DETAIL_PATTERN = "^(" + "|".join(WEB_DETAIL_METRES) + ")$"
# The page names the geometry with its digest (?v=...): that URL never changes content, so the
# browser may keep it; without the matching digest it revalidates with the ETag every time.
IMMUTABLE = "public, max-age=86400"
REVALIDATE = "no-cache"


def _associations(ws: Workspace):
    """The layer of cooperation associations whose fit a scenario's moves are about (if shipped)."""
    return ws.catalog.builtin.get(ASSOCIATIONS)


# Each map route carries two decorators: the page, then (registered first, since decorators apply
# bottom-up) its ``.png``, so ``/maps/choropleth/x.png`` is never read as a layer called "x.png".
def _respond(request: Request, m) -> Response:
    """The one place a map becomes a response: the page (its scripts carrying the CSP nonce
    placeholder, swapped by the security middleware for each response's nonce; a "Download als
    PNG" link) or, on the ``.png`` route, the same view as an image. User text in the map is
    escaped by the map builders: a script it contained would be marked too."""
    path = request.url.path
    if path.endswith(".png"):
        from maps.static_map import map_png  # matplotlib only when an image is asked for

        return Response(map_png(m), media_type="image/png",
                        headers={"Content-Disposition": 'attachment; filename="regiomatch-kaart.png"'})
    from maps.base import render  # folium only when a map is asked for
    from maps.style import add_download

    png = _png_path(path) + (f"?{request.url.query}" if request.url.query else "")
    add_download(m, png)
    return HTMLResponse(mark_scripts(render(m)))


def _png_path(path: str) -> str:
    """``/maps/overlay`` -> ``/maps/overlay.png``: the image of the page at ``path``."""
    return path.rstrip("/") + ".png"


def _geometry(body_and_digest: tuple[bytes, str], detail: str, v: str | None) -> Response:
    """The outlines with a strong ETag; a matching ``If-None-Match`` is answered with 304 by
    :class:`api.render_cache.NotModified`, as every answer with an ETag is."""
    body, digest = body_and_digest
    headers = {"ETag": f'"{detail}-{digest}"', "Cache-Control": IMMUTABLE if v == digest else REVALIDATE}
    return Response(body, media_type="application/geo+json", headers=headers)


@router.get("/api/v1/geometry/municipalities.geojson", summary="Municipal outlines for the maps (EPSG:4326)",
            responses=GEOJSON_RESPONSE)
def get_municipality_geometry(
    detail: str = Query(DETAIL, pattern=DETAIL_PATTERN, description="coarse (120 m) or fine (60 m) simplification"),
    v: str | None = Query(None, description="Digest the page expects (lets the browser cache the answer)"),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """Compact GeoJSON: one feature per municipality, ``id`` its NIS code, no properties."""
    return _geometry(web_geometry(None, detail, ws.catalog.data_dir), detail, v)


@router.get("/api/v1/geometry/layers/{layer_id}.geojson", summary="Zone outlines of a layer for the maps (EPSG:4326)",
            responses=GEOJSON_RESPONSE)
def get_layer_geometry(
    layer_id: str,
    detail: str = Query(DETAIL, pattern=DETAIL_PATTERN, description="coarse (120 m) or fine (60 m) simplification"),
    v: str | None = Query(None, description="Digest the page expects (lets the browser cache the answer)"),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """Compact GeoJSON: one feature per zone with an outline, ``id`` its zone code, no properties;
    simplified as a coverage so neighbouring zones share their border."""
    return _geometry(web_geometry(ws.layer(layer_id), detail, ws.catalog.data_dir), detail, v)


@router.get("/maps/overlay", response_class=HTMLResponse, summary="Map of layer A over layer B")
@router.get("/maps/overlay.png", response_class=Response, summary="Map of layer A over layer B as a PNG")
@cached(lambda p: [p["a"], p["b"]], busy=BUSY)
def get_overlay_map(
    request: Request,
    a: str = Query(..., description="Layer id (or scenario:<id>) drawn as bold outlines",
                   examples=["samenwerkingsverband"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) drawn as coloured zones",
                   examples=["eerstelijnszone"]),
    focus: str | None = Query(None, description="Zoom to this zone of layer A", examples=["W13"]),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """B-zones as fills, A-zones as outlines, members outside their A-zone's dominant B-zone hatched."""
    result = overlay(ws.layer(a), ws.layer(b), "population")
    from maps.overlay_map import overlay_map

    return _respond(request, overlay_map(result, focus, data_dir=ws.catalog.data_dir, assets=ASSETS))


@router.get("/maps/overlay/zone", response_class=HTMLResponse,
            summary="The summary of one A-zone on the overlay map (an HTML fragment for its popup)")
@cached(lambda p: [p["a"], p["b"]], busy=BUSY)
def get_overlay_zone_summary(
    a: str = Query(..., description="Layer id (or scenario:<id>) of the zone", examples=["samenwerkingsverbanden"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) it is held against", examples=["eerstelijnszone"]),
    code: str = Query(..., description="Zone code in layer A", examples=["W13"]),
    ws: Workspace = Depends(get_workspace),
) -> HTMLResponse:
    """What the zone's outline shows when clicked: population, dominant zone of B and its share,
    the zones of B it touches with their members. A map of many A-zones fetches it on click."""
    result = overlay(ws.layer(a), ws.layer(b), "population")
    from maps.overlay_map import overlay_zone_summary

    return HTMLResponse(overlay_zone_summary(result, code))


@router.get("/maps/overlay/municipality", response_class=HTMLResponse,
            summary="The popup of one municipality on the overlay map (an HTML fragment)")
@cached(lambda p: [p["a"], p["b"]], busy=BUSY)
def get_overlay_municipality_popup(
    a: str = Query(..., description="Layer id (or scenario:<id>) drawn as outlines", examples=["raster"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) drawn as coloured zones",
                   examples=["eerstelijnszone"]),
    nis: int = Query(..., description="NIS code of the municipality", examples=[34025]),
    ws: Workspace = Depends(get_workspace),
) -> HTMLResponse:
    """What a municipality shows when clicked: its zones in both layers with their summaries. A map
    of a layer of many zones (an imported grid) fetches it on click."""
    ws.catalog.atoms.position(nis)
    result = overlay(ws.layer(a), ws.layer(b), "population")
    from maps.overlay_map import overlay_municipality_popup

    return HTMLResponse(overlay_municipality_popup(result, nis))


@router.get("/maps/municipality/{nis_code}", response_class=HTMLResponse,
            summary="Every zone a municipality belongs to")
@router.get("/maps/municipality/{nis_code}.png", response_class=Response,
            summary="Every zone a municipality belongs to, as a PNG")
@cached(lambda p: p["layers"] or ALL_LAYERS, busy=BUSY)
def get_municipality_map(
    request: Request,
    nis_code: int,
    layers: list[str] | None = Query(None, description="Only these layers (default: all shipped and imported layers)"),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    ws.catalog.atoms.position(nis_code)
    chosen = [ws.layer(i) for i in unique_list(layers, "layers", 50)] if layers else ws.layers()
    from maps.municipality_map import municipality_map

    return _respond(request, municipality_map(nis_code, chosen, data_dir=ws.catalog.data_dir, assets=ASSETS))


@router.get("/maps/scenario/{scenario_id}", response_class=HTMLResponse,
            summary="Today's zoning and a scenario side by side")
@router.get("/maps/scenario/{scenario_id}.png", response_class=Response,
            summary="Today's zoning and a scenario side by side, as a PNG")
@cached(lambda p: [scenario_layer_id(p["scenario_id"])], busy=BUSY)
def get_scenario_map(request: Request, scenario_id: str, ws: Workspace = Depends(get_workspace)) -> Response:
    view = scenario_with_base(ws, scenario_id)
    from maps.scenario_map import scenario_map

    return _respond(request, scenario_map(view.base, view.layer, view.norm, view.associations,
                                          data_dir=ws.catalog.data_dir, assets=ASSETS))


@router.get("/maps/choropleth/{layer_id}", response_class=HTMLResponse, summary="Population per zone with the norms")
@router.get("/maps/choropleth/{layer_id}.png", response_class=Response, summary="Population per zone, as a PNG")
@cached(lambda p: [p["layer_id"]], busy=BUSY)
def get_choropleth(
    request: Request,
    layer_id: str,
    norms: list[int] | None = Query(None, description="Population thresholds shown as norms (class boundaries); "
                                    f"default {', '.join(map(str, NORM_LINES))} for layers with a population norm, "
                                    "none for the others"),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """Zones failing the layer's default norm (if any, e.g. 60.000 for primary care zones) are outlined."""
    norms = unique_list(norms, "norms", 12) if norms is not None else None
    layer = ws.layer(layer_id)
    from maps.choropleth import population_map

    return _respond(request, population_map(layer, layer_norm(ws, layer_id), norms,
                                            data_dir=ws.catalog.data_dir, assets=ASSETS))


@router.get("/maps/static/{name:path}", summary="Vendored Leaflet files the maps load", include_in_schema=False)
def get_static(name: str) -> FileResponse:
    path, media_type = static_file(name)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
