"""The zoning workbench in the browser: edit, compare, export, import, sign in.

Pages (HTML, Dutch): ``/werkbank?base=<layer>`` and ``/werkbank/{scenario_id}`` (edit a zoning
with live feedback from ``POST /api/v1/evaluate``), ``/vergelijk?base=..&other=..`` (and
``/vergelijk.pdf``), ``/lagen/nieuw`` (import a layer with a preview), ``/aanmelden`` (sign in
for writes when an API token is configured). Exports of a scenario:
``/api/v1/scenarios/{id}/export?format=csv|xlsx|geojson|gpkg``. Saving, duplicating and
deleting go through the scenario routes (``api/routes/scenarios.py``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import session
from starlette.concurrency import run_in_threadpool

from api.deps import get_workspace
from api.render_cache import cached, render_ahead
from api.downloads import content_disposition, download
from geo.storage.workspace import SCENARIO_PREFIX, Workspace
from api.errors import TooLarge
from api.limits import uploads
from api.routes.evaluate import DEFAULT_NEST_IN
from api.routes.zonings import ASSOCIATIONS
from api.settings import Settings, get_settings
from geo.zoning.compare import compare, order_against
from geo.geometry.polygons import DEFAULT_SIMPLIFY_METRES, layer_geojson, zone_polygons
from geo.errors import Busy, LimitExceeded, RegiomatchError
from geo.uploads.preview import ImportPreview, preview_import
from geo.uploads.importing import check_suffix
from geo.uploads.sandbox import parse_upload
from geo.reference.norms import norm_for
from geo.paths import ATTRIBUTION
from geo.zoning.workbench import editing_context
from maps.exports import CSV, GPKG, XLSX, geopackage_bytes, xlsx_bytes as workbook
from maps.pdf import html_to_pdf
from maps.workbench_pages import (comparison_context, membership_csv, membership_frame, render_comparison,
                                  render_layer_new, render_signin, render_workbench)

router = APIRouter(tags=["workbench"])
GEOMETRY_URL = "/api/v1/layers/gemeente/geojson?simplify=150"
NO_STORE = {"Cache-Control": "no-store"}


def _writer(request: Request, settings: Settings) -> dict:
    """What the page needs to write: whether a sign-in is needed, and the CSRF token if signed in."""
    if not settings.api_token:
        return {"needs_signin": False, "signed_in": True, "csrf": ""}
    cookie = request.cookies.get(session.COOKIE)
    if session.valid_session(cookie, settings.api_token):
        return {"needs_signin": True, "signed_in": True, "csrf": session.csrf_token(cookie, settings.api_token)}
    return {"needs_signin": True, "signed_in": False, "csrf": ""}


def _reference_choices(ws: Workspace, base_id: str) -> list[dict]:
    layers = [layer for layer in order_against(ws.layers()) if layer.id not in (base_id, "gemeente")]
    return [{"id": layer.id, "name": layer.name} for layer in layers]


def _workbench(request: Request, ws: Workspace, settings: Settings, base_id: str, scenario: dict | None) -> HTMLResponse:
    base = ws.layer(base_id)
    choices = _reference_choices(ws, base.id)
    ids = {c["id"] for c in choices}
    norm = norm_for(base, ws.base_id_of(base.id))
    data = {
        "base_layer": base.id, "base_name": base.name, **editing_context(base),
        "geometry_url": GEOMETRY_URL, "scenario": scenario, "attribution": ATTRIBUTION,
        "references": choices, "against": [ASSOCIATIONS] if ASSOCIATIONS in ids else [],
        "nest_in": DEFAULT_NEST_IN if DEFAULT_NEST_IN in ids else None,
        "norm": None if norm is None else {"label": norm.label, "minimum": norm.minimum, "maximum": norm.maximum},
        "writer": _writer(request, settings),
    }
    return HTMLResponse(render_workbench(data), headers=NO_STORE)


@router.get("/werkbank", response_class=HTMLResponse, summary="Zoning workbench: edit a zoning with live feedback (HTML)",
            responses={303: {"description": "base is scenario:<id>: the workbench of that scenario"}})
def workbench_page(request: Request, base: str = Query("eerstelijnszone", max_length=100,
                                                       description="Layer (or scenario:<id>) to start from"),
                   zone: str | None = Query(None, max_length=100, description="Zoom to this zone and paint into it"),
                   ws: Workspace = Depends(get_workspace), settings: Settings = Depends(get_settings)):
    if base.startswith(SCENARIO_PREFIX):
        return RedirectResponse(f"/werkbank/{base.removeprefix(SCENARIO_PREFIX)}", status_code=303)
    return _workbench(request, ws, settings, base, None)


@router.get("/werkbank/{scenario_id}", response_class=HTMLResponse, summary="Continue a saved scenario in the workbench (HTML)")
def workbench_scenario(scenario_id: str, request: Request, ws: Workspace = Depends(get_workspace),
                       settings: Settings = Depends(get_settings)) -> HTMLResponse:
    record = ws.store.get_scenario(scenario_id)
    scenario = {"id": record.id, "name": record.name, "description": record.description, "version": record.version,
                "moves": record.moves, "layer_id": record.layer_id}
    return _workbench(request, ws, settings, record.base_layer, scenario)


# -- comparison --------------------------------------------------------------------------------
def _comparison(ws: Workspace, base: str, other: str, against: list[str]) -> tuple[dict, dict]:
    base_layer, other_layer = ws.layer(base), ws.layer(other)
    chosen = [ws.layer(a) for a in dict.fromkeys(against) if a not in (base, other)]
    norm = norm_for(base_layer, ws.base_id_of(base)) or norm_for(
        other_layer, ws.base_id_of(other))
    result = compare(base_layer, other_layer, chosen, "population", norm=norm)
    context = comparison_context(result, base, other)
    data = {"geometry_url": GEOMETRY_URL,
            "left": {"title": base_layer.name, "zones": editing_context(base_layer)["municipalities"]},
            "right": {"title": other_layer.name, "zones": editing_context(other_layer)["municipalities"]},
            "moved": [m["nis_code"] for m in result.moved]}
    return context, data


AGAINST_QUERY = Query([ASSOCIATIONS, "referentieregio"], description="Layers to measure the fit with (associations first)")


def _comparison_layers(p: dict) -> list[str]:
    return [p["base"], p["other"], *p["against"]]


@router.get("/vergelijk", response_class=HTMLResponse, summary="Compare two zonings side by side (HTML)")
@cached(_comparison_layers)
def compare_page(base: str = Query(..., max_length=100, examples=["eerstelijnszone"]),
                 other: str = Query(..., max_length=100, examples=["scenario:<id>"]),
                 against: list[str] = AGAINST_QUERY, ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    context, data = _comparison(ws, base, other, against)
    # Who compares prints: the PDF is printed in the background, so the print button answers at once.
    render_ahead(compare_pdf.sync, base=base, other=other, against=against, ws=ws)
    return HTMLResponse(render_comparison(context, data))


@router.get("/vergelijk.pdf", summary="Comparison of two zonings as PDF", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
@cached(_comparison_layers)
def compare_pdf(base: str = Query(..., max_length=100), other: str = Query(..., max_length=100),
                against: list[str] = AGAINST_QUERY, ws: Workspace = Depends(get_workspace)) -> Response:
    context, data = _comparison(ws, base, other, against)
    if data["moved"]:
        from maps.comparison_png import comparison_png  # matplotlib: on first use, not at start-up
        from maps.static_map import data_uri

        png = comparison_png(ws.layer(base), ws.layer(other), data["moved"], ws.catalog.data_dir)
        context["map_png"] = data_uri(png)
    pdf = html_to_pdf(render_comparison(context, data, pdf=True))
    return download(pdf, f"vergelijking_{base}_{other}.pdf", "application/pdf")


# -- exports -----------------------------------------------------------------------------------
EXPORT_TYPES = {
    "csv": CSV,
    "xlsx": XLSX,
    "geojson": "application/geo+json",
    "gpkg": GPKG,
}


@router.get("/api/v1/scenarios/{scenario_id}/export", summary="A scenario as membership table or dissolved zones",
            response_class=Response, responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()}}})
@cached(lambda p: [SCENARIO_PREFIX + p["scenario_id"]])
def export_scenario(scenario_id: str, format: Literal["csv", "xlsx", "geojson", "gpkg"] = Query("csv"),
                    ws: Workspace = Depends(get_workspace)) -> Response:
    """``csv`` (';', UTF-8 with BOM, decimal comma: Belgian Excel) and ``xlsx``: one row per
    municipality with its zone, inhabitants and whether it moved; ``geojson`` (EPSG:4326) and
    ``gpkg`` (EPSG:31370): the dissolved zones with population."""
    record = ws.store.get_scenario(scenario_id)
    layer, base = ws.layer(record.layer_id), ws.layer(record.base_layer)
    stem = f"scenario_{record.id}"
    year = layer.atoms.population_year
    if format == "csv":
        content = membership_csv(membership_frame(layer, base))
    elif format == "xlsx":
        notes = [f"Scenario '{record.name}' op basis van {base.name} ({base.id})",
                 *([record.description] if record.description else []),
                 f"Bevolking: Statbel, 1 januari {year}"]
        content = workbook({"indeling": membership_frame(layer, base)}, notes)
    elif format == "geojson":
        import json

        content = json.dumps(layer_geojson(layer, DEFAULT_SIMPLIFY_METRES, ws.catalog.data_dir)).encode()
    else:
        zones = zone_polygons(layer, ws.catalog.data_dir)
        summary = layer.summary()[["code", "population", "members"]]
        zones = zones.merge(summary, on="code", how="left")
        content = geopackage_bytes(zones, "zones")
    return Response(content, media_type=EXPORT_TYPES[format],
                    headers={"Content-Disposition": content_disposition(f"{stem}.{format}")})


# -- importing a layer -------------------------------------------------------------------------
@router.get("/lagen/nieuw", response_class=HTMLResponse, summary="Import a layer in the browser (HTML)")
def layer_new_page(request: Request, ws: Workspace = Depends(get_workspace),
                   settings: Settings = Depends(get_settings)) -> HTMLResponse:
    imported = [layer for layer in ws.layers() if layer.id not in ws.catalog.builtin]
    data = {"writer": _writer(request, settings)}
    return HTMLResponse(render_layer_new(imported, data, ws.catalog.atoms.population_year), headers=NO_STORE)


@router.post("/api/v1/layers/preview", summary="Preview an import: matched municipalities and every problem row")
async def preview_layer(
    file: UploadFile = File(..., description="CSV/XLSX membership table or GeoJSON/GeoPackage/zipped shapefile"),
    id: str = Form("voorbeeld", max_length=63, description="The id the layer would get"),
    name: str | None = Form(None, max_length=200), source: str | None = Form(None, max_length=500),
    vintage: str | None = Form(None, max_length=20), code_column: str | None = Form(None, max_length=100),
    name_column: str | None = Form(None, max_length=100),
    ws: Workspace = Depends(get_workspace), settings: Settings = Depends(get_settings),
) -> dict:
    """Nothing is saved. ``problems`` lists every problem row of a table at once, in Dutch; with
    none, ``members`` is municipality -> zone with share and population, as the import would
    store it."""
    content = await file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise TooLarge(f"upload larger than {settings.max_upload_bytes} bytes")
    layer_id = id.strip() or "voorbeeld"
    taken = [f"een laag met de code {layer_id} bestaat al: kies een andere code"] if (
        layer_id in ws.catalog.builtin or ws.store.layer_exists(layer_id)) else []
    options = {k: v for k, v in {"name": name, "source": source, "vintage": vintage, "code_column": code_column,
                                 "name_column": name_column}.items() if v}
    limits = settings.import_limits()
    # Read in the limited child process, like a real import (geo.uploads.sandbox); over a limit a 413.
    async with uploads.slot(limits.parallel, f"{limits.parallel} uploads are being read already and more are "
                            "waiting; try again in a minute", timeout=limits.wall_seconds):
        preview = await run_in_threadpool(_preview, content, file.filename or "", ws, limits, options)
    out = preview.as_dict()
    out["problems"] = taken + out["problems"]
    return out


def _preview(content: bytes, filename: str, ws: Workspace, limits, options: dict):  # noqa: ANN001
    try:
        check_suffix(filename)
        parsed = parse_upload(content, filename, limits)
    except (LimitExceeded, Busy):
        raise
    except RegiomatchError as exc:
        return ImportPreview(None, [exc.detail])
    return preview_import("voorbeeld", content, filename, ws.catalog, parsed=parsed, **options)


# -- signing in --------------------------------------------------------------------------------
@router.get("/aanmelden", response_class=HTMLResponse, summary="Sign in for writes from the browser (HTML)")
def signin_page(request: Request, next: str = Query("/", max_length=500),
                settings: Settings = Depends(get_settings)) -> HTMLResponse:
    signed_in = bool(settings.api_token) and session.valid_session(request.cookies.get(session.COOKIE), settings.api_token)
    return HTMLResponse(render_signin(session.safe_next(next), None, signed_in, bool(settings.api_token)),
                        headers=NO_STORE)


@router.post("/aanmelden", response_class=HTMLResponse, summary="Sign in with the API token (sets a session cookie)",
             responses={303: {"description": "signed in: back to the page you came from"}})
def signin(request: Request, token: str = Form(..., max_length=500), next: str = Form("/", max_length=500),
           settings: Settings = Depends(get_settings)):
    import hmac

    target = session.safe_next(next)
    if not settings.api_token:
        return RedirectResponse(target, status_code=303)
    if not hmac.compare_digest(token.strip().encode(), settings.api_token.encode()):
        return HTMLResponse(render_signin(target, "Deze sleutel klopt niet. Vraag de juiste sleutel aan wie "
                                          "regiomatch beheert.", False, True), status_code=401, headers=NO_STORE)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(session.COOKIE, session.new_session(settings.api_token), max_age=session.SESSION_SECONDS,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/afmelden", summary="Sign out (clears the session cookie)",
             responses={303: {"description": "signed out"}})
def signout() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(session.COOKIE, path="/", httponly=True, samesite="strict")
    return response


