"""Layers: list, zones, members (JSON or CSV), GeoJSON, GeoPackage, import and delete."""

from __future__ import annotations

import json
from typing import Literal

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import serialize, warmup
from api.deps import get_workspace, require_writer
from api.downloads import download
from api.errors import TooLarge
from api.limits import simplify_metres, slot, upload_slot
from api.render_cache import cached
from api.settings import Settings, get_settings
from geo.accounts.roles import Actor
from geo.errors import Conflict, ReadOnly
from geo.geometry.polygons import layer_geojson, web_geometry_steps, zone_polygons
from geo.storage.records import check_text
from geo.storage.workspace import Workspace
from geo.uploads.importing import LAYER_ID_PATTERN, check_suffix, validate_layer_id
from geo.uploads.sandbox import ImportLimits, build_upload, check_zones_per_municipality
from geo.views.features import RESERVED_IDS as OGC_RESERVED_IDS
from geo.views.zones import zone_members
from maps.exports import CSV, GPKG, csv_bytes, dialect_for, geopackage_bytes

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])


@router.get("", summary="All layers")
def list_layers(ws: Workspace = Depends(get_workspace)) -> list[dict]:
    """Shipped and imported layers: ``[{id, name, kind, vintage, zone_count, source}]``."""
    return [serialize.layer_info(layer) for layer in ws.layers()]


@router.get("/{layer_id}", summary="Zones of a layer with population and member count")
def get_layer(layer_id: str, ws: Workspace = Depends(get_workspace)) -> dict:
    return serialize.layer_zones(ws.layer(layer_id))


@router.get("/{layer_id}/members", summary="Membership table of a layer (JSON or CSV)", responses={200: {
    "description": "JSON, or CSV with ``format=csv``",
    "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}})
@cached(lambda p: [p["layer_id"]])
def get_members(layer_id: str, zone: str | None = Query(None, description="Only this zone"),
                format: Literal["json", "csv"] = Query("json"),
                sep: Literal[",", ";"] = Query(",", description="CSV only: ';' for Excel on a Belgian machine "
                                                                  "(decimal comma, UTF-8 byte-order mark)"),
                ws: Workspace = Depends(get_workspace)):
    """``[{zone_code, zone_name, nis_code, municipality, share}]``; ``format=csv`` as a table."""
    layer = ws.layer(layer_id)
    rows = serialize.members(layer, zone)
    if format == "csv":
        frame = pd.DataFrame(rows, columns=["zone_code", "zone_name", "nis_code", "municipality", "share"])
        return download(csv_bytes(frame, dialect_for(sep)), f"leden_{layer.id}.csv", CSV)
    return rows


@router.get("/{layer_id}/zones/{code:path}", summary="One zone: its members with their inhabitants in it")
def get_zone_members(layer_id: str, code: str, ws: Workspace = Depends(get_workspace)) -> dict:
    """``{layer, code, name, population, population_year, members: [{nis_code, name, share,
    population}]}``, members by NIS code; a member's ``population`` is its inhabitants counted in
    the zone (Statbel, 1 January of ``population_year``, times its share). What a map shows when a
    zone of a big layer is clicked: one zone at a time, so the page need not carry every zone's list."""
    return serialize.zone_members(zone_members(ws.layer(layer_id), code))


@router.get("/{layer_id}/geopackage", summary="Dissolved zones as a GeoPackage (EPSG:31370)",
            response_class=Response, responses={200: {"content": {GPKG: {}}}})
@cached(lambda p: [p["layer_id"]], busy=slot("maps", "De server maakt al {limit} kaarten of geodata tegelijk; probeer "
                                                   "het over enkele seconden opnieuw."))
def get_geopackage(layer_id: str, ws: Workspace = Depends(get_workspace)) -> Response:
    """The zones with code, name and population (Statbel, 1 January of ``population_year``) in
    Belgian Lambert 72 (EPSG:31370), unsimplified, for QGIS or ArcGIS."""
    layer = ws.layer(layer_id)
    zones = zone_polygons(layer, ws.catalog.data_dir)[["code", "name", "geometry"]]
    zones = zones.merge(layer.summary()[["code", "population", "members"]], on="code", how="left")
    zones = zones.round({"population": 0})
    zones["population_year"] = layer.atoms.population_year
    return download(geopackage_bytes(zones, layer.id.replace(":", "_")), f"{layer.id}.gpkg", GPKG)


@router.get("/{layer_id}/geojson", summary="Dissolved zones as GeoJSON (EPSG:4326)",
)
@cached(lambda p: [p["layer_id"]], busy=slot("maps", "{limit} maps or GeoJSON layers are being built already; "
                                                    "try again in a few seconds"))
def get_geojson(layer_id: str,
                simplify: float = Depends(simplify_metres),
                ws: Workspace = Depends(get_workspace)) -> Response:
    body = json.dumps(layer_geojson(ws.layer(layer_id), simplify, ws.catalog.data_dir), ensure_ascii=False,
                      separators=(",", ":"))
    return Response(body.encode(), media_type="application/json")


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Import a layer (membership table or polygons)")
async def create_layer(
    request: Request,
    file: UploadFile = File(..., description="CSV/XLSX membership table or GeoJSON/GeoPackage/zipped shapefile"),
    id: str = Form(..., description="New layer id: lowercase letters, digits, '_' or '-'",
                   pattern=LAYER_ID_PATTERN.pattern, max_length=63),
    name: str | None = Form(None, description="Dutch name shown to users", max_length=200),
    source: str | None = Form(None, description="Where the data comes from", max_length=1000),
    vintage: str | None = Form(None, description="Vintage of the NIS codes in a table: 2025, 2019-2024 or 2018"),
    code_column: str | None = Form(None, description="Polygons: column with the zone code"),
    name_column: str | None = Form(None, description="Polygons: column with the zone name"),
    ws: Workspace = Depends(get_workspace),
    settings: Settings = Depends(get_settings),
    actor: Actor = Depends(require_writer),
) -> dict:
    validate_layer_id(id)
    check_text("name", name)  # NUL or over-long text: a 422 before any work, on every backend
    check_text("source", source)
    if id in ws.catalog.builtin or id.startswith("scenario") or id in OGC_RESERVED_IDS:
        raise ReadOnly(f"layer id {id!r} is reserved for a shipped layer, scenarios or a collection of /ogc")
    content = await file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise TooLarge(f"upload larger than {settings.max_upload_bytes} bytes")
    # Reading and overlaying a file takes seconds for big polygons: off the event loop, so the
    # worker keeps answering other requests meanwhile.
    limits = settings.import_limits()
    # A few uploads are read at a time; the others wait here without holding a worker thread.
    async with upload_slot(request, limits):
        created = await run_in_threadpool(_import, ws, id, content, file.filename or "", limits, actor,
                                          name=name, source=source, vintage=vintage, code_column=code_column,
                                          name_column=name_column)
    if settings.caches.warm_up:
        # Its outlines for the browser (a second for 10,000 squares) before its first map asks, in
        # steps that wait for a quiet moment between the requests that follow an import.
        for step in web_geometry_steps([ws.layer(id)], ws.catalog.data_dir, municipalities=False):
            warmup.in_background(step)
    return created


def _import(ws: Workspace, layer_id: str, content: bytes, filename: str, limits: ImportLimits, actor: Actor,
            **options: str | None) -> dict:
    # Checked before the (possibly long) import; create_layer still refuses a race's loser.
    if ws.store.layer_exists(layer_id):
        raise Conflict(f"a layer with id {layer_id!r} already exists; choose another id or delete it first")
    check_suffix(filename)
    # The file is read, checked and overlaid with the municipalities in a limited child process
    # (CPU, memory, time, sizes; cheap counts first); only the layer's parts come back, so no
    # upload can stall or exhaust this server. The preview runs the very same steps.
    built = build_upload(content, filename, ws.catalog, limits, layer_id=layer_id, options=options)
    layer = built.layer(layer_id, ws.catalog.atoms)
    polygons = None
    if layer.polygons is not None:
        import geopandas as gpd

        frame = gpd.GeoDataFrame({"code": list(layer.polygons.index)}, geometry=list(layer.polygons.values),
                                 crs="EPSG:31370")
        polygons = frame.to_json(drop_id=True)
    members = [{"zone_code": r["zone_code"], "zone_name": r["zone_name"], "nis_code": r["nis_code"],
                "share": r["share"]} for r in serialize.members(layer)]
    check_zones_per_municipality(members, limits)
    record = ws.store.create_layer(layer.id, layer.name, layer.source, layer.vintage, layer.description, members,
                                   polygons, weighting=layer.weighting, left_out=layer.left_out, actor=actor)
    # The layer is in memory already: the first overlay or map of it does not parse it back.
    ws.remember_imported(record, layer.polygons)
    return {**serialize.layer_info(layer), "members": len(members),
            "municipalities_covered": len({m["nis_code"] for m in members})}


@router.delete("/{layer_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete an imported layer (a bijdrager: only its own)")
def delete_layer(layer_id: str, ws: Workspace = Depends(get_workspace), actor: Actor = Depends(require_writer)) -> None:
    if layer_id in ws.catalog.builtin:
        raise ReadOnly(f"layer {layer_id!r} is shipped with regiomatch and cannot be deleted")
    ws.store.delete_layer(layer_id, actor=actor)
