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
from starlette.concurrency import run_in_threadpool

from api import session
from api.deps import get_workspace, page_writer, require_writer
from api.deps import signed_in as signed_in_session
from api.downloads import content_disposition, download
from api.errors import TooLarge
from api.limits import slot, upload_slot
from api.render_cache import cached, render_ahead
from api.routes.evaluate import DEFAULT_NEST_IN
from api.routes.zonings import ASSOCIATIONS
from api.settings import Settings, get_settings, workspace_for
from geo.accounts.throttle import Throttle
from geo.errors import Busy, LimitExceeded, RegiomatchError
from geo.geometry.polygons import DEFAULT_SIMPLIFY_METRES, layer_geojson_bytes, zone_polygons
from geo.paths import ATTRIBUTION
from geo.reference.roles import compare_with, municipality_layer, nesting_layer, zoning_layer
from geo.storage import records
from geo.storage.records import scenario_layer_id
from geo.storage.workspace import Workspace
from geo.uploads.importing import check_suffix
from geo.uploads.preview import ImportPreview, dutch_problem
from geo.uploads.sandbox import build_upload
from geo.usecases.norms import layer_norm
from geo.zoning.compare import compare, order_against
from geo.zoning.workbench import editing_context
from maps.exports import CSV, GPKG, XLSX, geopackage_bytes
from maps.exports import xlsx_bytes as workbook
from maps.pdf import html_to_pdf
from maps.workbench_pages import (
    comparison_context,
    membership_csv,
    membership_frame,
    render_comparison,
    render_layer_new,
    render_signin,
    render_workbench,
)

router = APIRouter(tags=["workbench"])
GEOMETRY_URL = "/api/v1/layers/gemeente/geojson?simplify=150"
NO_STORE = {"Cache-Control": "no-store"}
# Heavy answers count against the same limits as every other report and map while they render
# (the render cache holds the slot only while it renders: a kept answer is never refused).
REPORTS_BUSY = slot("reports",
                    "De server maakt al {limit} rapporten tegelijk; probeer het over enkele seconden opnieuw.")
MAPS_BUSY = slot("maps", "De server maakt al {limit} kaarten of geodata tegelijk; probeer het over enkele seconden "
                         "opnieuw.")


def _zone_colours(layer, data_dir):  # noqa: ANN001, ANN202
    """The maps' zone colours (maps.base loads folium and geopandas: on first use, not at start-up)."""
    from maps.base import zone_colours

    return zone_colours(layer, data_dir)


def _writer(request: Request, settings: Settings) -> dict:
    """What the page needs to write: whether a sign-in is needed, who is signed in, the CSRF token
    (api.deps.page_writer: the session is looked up on the server)."""
    return page_writer(request, settings)


def _reference_choices(ws: Workspace, base_id: str) -> list[dict]:
    layers = [layer for layer in order_against(ws.layers()) if layer.id not in (base_id, municipality_layer())]
    return [{"id": layer.id, "name": layer.name} for layer in layers]


def _workbench(request: Request, ws: Workspace, settings: Settings, base_id: str,
               scenario: dict | None) -> HTMLResponse:
    base = ws.layer(base_id)
    choices = _reference_choices(ws, base.id)
    ids = {c["id"] for c in choices}
    norm = layer_norm(ws, base.id)
    data = {
        "base_layer": base.id, "base_name": base.name, **editing_context(base),
        "geometry_url": GEOMETRY_URL, "scenario": scenario, "attribution": ATTRIBUTION,
        "references": choices, "against": [ASSOCIATIONS] if ASSOCIATIONS in ids else [],
        "nest_in": DEFAULT_NEST_IN if DEFAULT_NEST_IN in ids else None,
        "norm": None if norm is None else {"label": norm.label, "minimum": norm.minimum, "maximum": norm.maximum},
        "writer": _writer(request, settings),
        # The same colours as every map of this layer (zones that touch or nearly touch differ).
        "colours": _zone_colours(base, ws.catalog.data_dir),
    }
    return HTMLResponse(render_workbench(data), headers=NO_STORE)


@router.get("/werkbank", response_class=HTMLResponse,
            summary="Zoning workbench: edit a zoning with live feedback (HTML)",
            responses={303: {"description": "base is scenario:<id>: the workbench of that scenario"}})
def workbench_page(request: Request, base: str = Query(zoning_layer(), max_length=100,
                                                       description="Layer (or scenario:<id>) to start from"),
                   zone: str | None = Query(None, max_length=100, description="Zoom to this zone and paint into it"),
                   ws: Workspace = Depends(get_workspace), settings: Settings = Depends(get_settings)):
    if records.scenario_id(base) is not None:
        return RedirectResponse(f"/werkbank/{records.scenario_id(base)}", status_code=303)
    return _workbench(request, ws, settings, base, None)


@router.get("/werkbank/{scenario_id}", response_class=HTMLResponse,
            summary="Continue a saved scenario in the workbench (HTML)")
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
    norm = layer_norm(ws, base) or layer_norm(ws, other)
    result = compare(base_layer, other_layer, chosen, "population", norm=norm)
    context = comparison_context(result, base, other)
    data = {"geometry_url": GEOMETRY_URL,
            "left": {"title": base_layer.name, "zones": editing_context(base_layer)["municipalities"]},
            "right": {"title": other_layer.name, "zones": editing_context(other_layer)["municipalities"]},
            "moved": [m["nis_code"] for m in result.moved],
            "colours": _zone_colours(ws.layer(ws.base_id_of(base)) if ws.base_id_of(base) else base_layer,
                                    ws.catalog.data_dir)}
    return context, data


AGAINST_QUERY = Query([ASSOCIATIONS, nesting_layer()],
                      description="Layers to measure the fit with (associations first)")


def _comparison_layers(p: dict) -> list[str]:
    return [p["base"], p["other"], *p["against"]]


@router.get("/vergelijk", response_class=HTMLResponse, summary="Compare two zonings side by side (HTML)")
@cached(_comparison_layers, busy=REPORTS_BUSY)
def compare_page(base: str = Query(..., max_length=100, examples=["eerstelijnszone"]),
                 other: str = Query(..., max_length=100, examples=["scenario:<id>"]),
                 against: list[str] = AGAINST_QUERY, ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    context, data = _comparison(ws, base, other, against)
    # Who compares prints: the PDF is printed in the background, so the print button answers at once.
    render_ahead(compare_pdf.sync, base=base, other=other, against=against, ws=ws)
    return HTMLResponse(render_comparison(context, data))


@router.get("/vergelijk.pdf", summary="Comparison of two zonings as PDF", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
@cached(_comparison_layers, busy=REPORTS_BUSY)
def compare_pdf(base: str = Query(..., max_length=100), other: str = Query(..., max_length=100),
                against: list[str] = AGAINST_QUERY, ws: Workspace = Depends(get_workspace)) -> Response:
    context, data = _comparison(ws, base, other, against)
    if data["moved"]:
        from maps.comparison_png import comparison_svg, svg_data_uri  # on first use, not at start-up

        drawn = comparison_svg(ws.layer(base), ws.layer(other), data["moved"], ws.catalog.data_dir)
        context["map_image"] = svg_data_uri(drawn)
    pdf = html_to_pdf(render_comparison(context, data, pdf=True))
    # Named as people know the two zonings (a scenario by its name, never its internal id).
    names = [ws.layer(base).name, ws.layer(other).name]
    return download(pdf, f"vergelijking {names[0]} - {names[1]}.pdf", "application/pdf")


# -- exports -----------------------------------------------------------------------------------
EXPORT_TYPES = {
    "csv": CSV,
    "xlsx": XLSX,
    "geojson": "application/geo+json",
    "gpkg": GPKG,
}


@router.get("/api/v1/scenarios/{scenario_id}/export", summary="A scenario as membership table or dissolved zones",
            response_class=Response, responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()}}})
@cached(lambda p: [scenario_layer_id(p["scenario_id"])], busy=MAPS_BUSY)
def export_scenario(scenario_id: str, format: Literal["csv", "xlsx", "geojson", "gpkg"] = Query("csv"),
                    ws: Workspace = Depends(get_workspace)) -> Response:
    """``csv`` (';', UTF-8 with BOM, decimal comma: Belgian Excel) and ``xlsx``: one row per
    municipality with its zone, inhabitants and whether it moved; ``geojson`` (EPSG:4326) and
    ``gpkg`` (EPSG:31370): the dissolved zones with population."""
    record = ws.store.get_scenario(scenario_id)
    layer, base = ws.layer(record.layer_id), ws.layer(record.base_layer)
    stem = f"scenario {record.name}"  # the name people gave it (safe_filename cleans it), never the id
    year = layer.atoms.population_year
    if format == "csv":
        content = membership_csv(membership_frame(layer, base))
    elif format == "xlsx":
        notes = [f"Scenario '{record.name}' op basis van {base.name} ({base.id})",
                 *([record.description] if record.description else []),
                 f"Bevolking: Statbel, 1 januari {year}"]
        content = workbook({"indeling": membership_frame(layer, base)}, notes)
    elif format == "geojson":  # dissolved, simplified and written once per scenario version
        content = layer_geojson_bytes(layer, DEFAULT_SIMPLIFY_METRES, ws.catalog.data_dir)
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
    # Where an imported layer is looked at first: what any layer is compared with by default.
    compare = next((ws.layer(c) for c in compare_with(ASSOCIATIONS, ws.catalog.data_dir) if c in ws.catalog.builtin),
                   None)
    data = {"writer": _writer(request, settings),
            "compare": None if compare is None else {"id": compare.id, "name": compare.name},
            "geometry_url": GEOMETRY_URL, "attribution": ATTRIBUTION}
    return HTMLResponse(render_layer_new(imported, data, ws.catalog.atoms.population_year), headers=NO_STORE)


@router.post("/api/v1/layers/preview", summary="Preview an import: matched municipalities and every problem row",
             dependencies=[Depends(require_writer)])
async def preview_layer(
    request: Request,
    file: UploadFile = File(..., description="CSV/XLSX membership table or GeoJSON/GeoPackage/zipped shapefile"),
    id: str = Form("voorbeeld", max_length=63, description="The id the layer would get"),
    name: str | None = Form(None, max_length=200), source: str | None = Form(None, max_length=500),
    vintage: str | None = Form(None, max_length=20), code_column: str | None = Form(None, max_length=100),
    name_column: str | None = Form(None, max_length=100),
    ws: Workspace = Depends(get_workspace), settings: Settings = Depends(get_settings),
) -> dict:
    """Nothing is saved. ``problems`` lists every problem row of a table at once, in Dutch; with
    none, ``members`` is municipality -> zone with share and population, as the import would
    store it. Needs the same rights as an import, and runs the same steps under the same limits
    (a file over a limit is the same 413 with the same words as its import)."""
    content = await file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise TooLarge(f"upload larger than {settings.max_upload_bytes} bytes")
    layer_id = id.strip() or "voorbeeld"
    taken = [f"een laag met de code {layer_id} bestaat al: kies een andere code"] if (
        layer_id in ws.catalog.builtin or ws.store.layer_exists(layer_id)) else []
    options = {k: v for k, v in {"name": name, "source": source, "vintage": vintage, "code_column": code_column,
                                 "name_column": name_column}.items() if v}
    limits = settings.import_limits()
    # Read and built in the limited child process, like a real import (geo.uploads.sandbox).
    async with upload_slot(request, limits):
        preview = await run_in_threadpool(_preview, content, file.filename or "", ws, limits, options)
    out = preview.as_dict()
    out["problems"] = taken + out["problems"]
    return out


def _preview(content: bytes, filename: str, ws: Workspace, limits, options: dict):  # noqa: ANN001
    try:
        check_suffix(filename)
        built = build_upload(content, filename, ws.catalog, limits, options=options, preview=True)
    except (LimitExceeded, Busy):
        raise  # the same 413 (or 503) as the import
    except RegiomatchError as exc:
        return ImportPreview(None, [dutch_problem(exc, filename)])
    if built.problems:
        return ImportPreview(None, built.problems)
    return ImportPreview(built.layer("voorbeeld", ws.catalog.atoms), dropped=built.dropped)


# -- signing in --------------------------------------------------------------------------------
SIGNIN_THROTTLE = Throttle(failures=5, window=300.0)


def _accounts_on(settings: Settings) -> bool:
    return workspace_for(settings).store.accounts.has_users()


@router.get("/aanmelden", response_class=HTMLResponse, summary="Sign in for writes from the browser (HTML)")
def signin_page(request: Request, next: str = Query("/", max_length=500),
                settings: Settings = Depends(get_settings)) -> HTMLResponse:
    accounts_on = _accounts_on(settings)
    found = signed_in_session(request, settings)
    user = found.user.name if found is not None and found.user is not None else None
    return HTMLResponse(render_signin(session.safe_next(next), None, found is not None,
                                      bool(settings.api_token) or accounts_on, accounts=accounts_on, user=user),
                        headers=NO_STORE)


@router.post("/aanmelden", response_class=HTMLResponse,
             summary="Sign in with a user name and password, or the API token (a server-side session)",
             responses={303: {"description": "signed in: back to the page you came from"},
                        429: {"description": "too many failed sign-ins for this name or address; wait"}})
def signin(request: Request, token: str = Form(..., max_length=500), next: str = Form("/", max_length=500),
           name: str | None = Form(None, max_length=64), settings: Settings = Depends(get_settings)):
    import hmac

    target = session.safe_next(next)
    accounts = workspace_for(settings).store.accounts
    accounts_on = accounts.has_users()
    if not settings.api_token and not accounts_on:
        return RedirectResponse(target, status_code=303)
    name = (name or "").strip().lower() or None
    client = request.client.host if request.client is not None else "?"
    keys = [f"naam:{name or '(sleutel)'}", f"adres:{client}"]
    wait = SIGNIN_THROTTLE.blocked(keys)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return HTMLResponse(render_signin(target, f"Te veel mislukte pogingen. Probeer het over {minutes} minuten "
                                          "opnieuw.", False, True, accounts=accounts_on), status_code=429,
                            headers={**NO_STORE, "Retry-After": str(int(wait) + 1)})
    user = None
    if name is not None:
        found = accounts.check_password(name, token)
        user, ok = (found.name if found else None), found is not None
    else:
        ok = bool(settings.api_token) and hmac.compare_digest(token.strip().encode(), settings.api_token.encode())
    if not ok:
        SIGNIN_THROTTLE.fail(keys)
        message = ("Deze naam en dit wachtwoord horen niet bij elkaar." if name is not None else
                   "Deze sleutel klopt niet. Vraag de juiste sleutel aan wie regiomatch beheert.")
        return HTMLResponse(render_signin(target, message, False, True, accounts=accounts_on), status_code=401,
                            headers=NO_STORE)
    SIGNIN_THROTTLE.succeed(keys)
    session_id = accounts.start_session(user, session.key_for(settings.api_token, user), session.SESSION_SECONDS)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(session.COOKIE, session_id, max_age=session.SESSION_SECONDS,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/afmelden", summary="Sign out: the session ends on the server and its cookie is cleared",
             responses={303: {"description": "signed out"}})
def signout(request: Request, settings: Settings = Depends(get_settings)) -> RedirectResponse:
    workspace_for(settings).store.accounts.end_session(request.cookies.get(session.COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(session.COOKIE, path="/", httponly=True, samesite="strict")
    return response
