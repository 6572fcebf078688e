"""Interactive maps as HTML pages (Folium/Leaflet), and the vendored Leaflet they load.

Every map links Leaflet from ``/maps/static/`` (no CDN: the service and its users may be
offline). Unknown layers, zones, NIS codes and scenarios come back as the usual JSON errors.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import get_workspace
from api.limits import heavy, unique_list
from api.render_cache import ALL_LAYERS, cached
from geo.norms import NORM_LINES, norm_for
from geo.overlay import overlay
from geo.workspace import Workspace
from maps.csp import mark_scripts

# Folium, branca and the map builders are imported by each route on first use (importlib caches
# them), not at start-up: they were 0.35 s of the service's cold start (issue 13).

router = APIRouter(prefix="/maps", tags=["maps"])
ASSETS = "served"
# Building a map costs seconds of CPU: a few at a time, so a flood leaves /health and reads alone.
BUSY = [Depends(heavy("maps", "De server tekent al {limit} kaarten tegelijk; probeer het over enkele seconden "
                              "opnieuw."))]


def _page(html: str) -> HTMLResponse:
    """The one place map HTML leaves the app: Folium's own scripts get the CSP nonce placeholder
    (``maps.csp``); the security middleware swaps it for each response's nonce. User text in the
    map must be escaped by the map builders: a script it contained would be marked too."""
    return HTMLResponse(mark_scripts(html))


@router.get("/overlay", response_class=HTMLResponse, dependencies=BUSY, summary="Map of layer A over layer B")
@cached(lambda p: [p["a"], p["b"]])
def get_overlay_map(
    a: str = Query(..., description="Layer id (or scenario:<id>) drawn as bold outlines", examples=["samenwerkingsverband"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) drawn as coloured zones", examples=["eerstelijnszone"]),
    focus: str | None = Query(None, description="Zoom to this zone of layer A", examples=["W13"]),
    ws: Workspace = Depends(get_workspace),
) -> HTMLResponse:
    """B-zones as fills, A-zones as outlines, members outside their A-zone's dominant B-zone hatched."""
    from maps.base import render
    from maps.overlay_map import overlay_map

    result = overlay(ws.layer(a), ws.layer(b), "population")
    return _page(render(overlay_map(result, focus, data_dir=ws.catalog.data_dir, assets=ASSETS)))


@router.get("/municipality/{nis_code}", response_class=HTMLResponse, dependencies=BUSY, summary="Every zone a municipality belongs to")
@cached(lambda p: p["layers"] or ALL_LAYERS)
def get_municipality_map(
    nis_code: int,
    layers: list[str] | None = Query(None, description="Only these layers (default: all shipped and imported layers)"),
    ws: Workspace = Depends(get_workspace),
) -> HTMLResponse:
    from maps.base import render
    from maps.municipality_map import municipality_map

    ws.catalog.atoms.position(nis_code)
    chosen = [ws.layer(i) for i in unique_list(layers, "layers", 50)] if layers else ws.layers()
    return _page(render(municipality_map(nis_code, chosen, data_dir=ws.catalog.data_dir, assets=ASSETS)))


@router.get("/scenario/{scenario_id}", response_class=HTMLResponse, dependencies=BUSY, summary="Today's zoning and a scenario side by side")
@cached(lambda p: ["scenario:" + p["scenario_id"]])
def get_scenario_map(scenario_id: str, ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    from maps.base import render
    from maps.scenario_map import scenario_map

    record = ws.store.get_scenario(scenario_id)
    base_layer = ws.layer(record.base_layer)
    scenario = ws.layer(record.layer_id)
    norm = norm_for(scenario, record.base_layer)
    return _page(render(scenario_map(base_layer, scenario, norm, data_dir=ws.catalog.data_dir, assets=ASSETS)))


@router.get("/choropleth/{layer_id}", response_class=HTMLResponse, dependencies=BUSY, summary="Population per zone with the norms")
@cached(lambda p: [p["layer_id"]])
def get_choropleth(
    layer_id: str,
    norms: list[int] = Query(list(NORM_LINES), description="Population thresholds shown as class boundaries"),
    ws: Workspace = Depends(get_workspace),
) -> HTMLResponse:
    """Zones failing the layer's default norm (if any, e.g. 60.000 for primary care zones) are outlined."""
    from maps.base import render
    from maps.choropleth import population_map

    norms = unique_list(norms, "norms", 12)
    layer = ws.layer(layer_id)
    html = render(population_map(layer, norm_for(layer, ws.base_id_of(layer_id)), norms, data_dir=ws.catalog.data_dir,
                                 assets=ASSETS))
    return _page(html)


@router.get("/static/{name:path}", summary="Vendored Leaflet files the maps load", include_in_schema=False)
def get_static(name: str) -> FileResponse:
    from maps.assets import static_file

    path, media_type = static_file(name)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
