"""HTML pages for people who never call an API: the front door, search, municipality profiles
and the overlay table (with CSV and XLSX downloads)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import serialize
from api.deps import LayerPair, get_workspace, layer_pair
from api.downloads import download
from api.limits import slot
from api.render_cache import ALL_LAYERS, cached
from api.settings import YEAR_COOKIE
from geo import dutch
from geo.engine.overlay import overlay
from geo.reference.catalog import require_population_year
from geo.reference.roles import association_layer, zoning_layer
from geo.storage.workspace import Workspace
from geo.views.atlas import fit_atlas, municipality_counts
from geo.views.profile import municipality_profile
from maps.atlas_page import association_facts_of
from maps.exports import CSV, DUTCH_HEADERS, EXCEL, XLSX, csv_bytes, xlsx_bytes
from maps.pages import (
    ASSOCIATION_LAYER,
    overlay_sheets,
    render_landing,
    render_municipality,
    render_overlay_table,
    render_search,
    search_hits,
    single_match,
)

router = APIRouter(tags=["pages"])


@router.get("/bevolkingsjaar", summary="Choose the population year of the pages (sets a cookie, back to the page)",
            response_class=RedirectResponse, status_code=303)
def choose_population_year(request: Request,
                           jaar: int = Query(..., description="One of the shipped years")) -> Response:
    """The selector on every page: remembers the year (cookie ``bevolkingsjaar``) and returns to the
    page it was chosen on, so every link after it shows that year's figures."""
    require_population_year(jaar)
    back = urlsplit(request.headers.get("referer", ""))
    target = back.path if back.path.startswith("/") and not back.path.startswith("//") else "/"
    if back.query:
        query = [(k, v) for k, v in parse_qsl(back.query, keep_blank_values=True) if k != "population_year"]
        target += "?" + urlencode(query) if query else ""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(YEAR_COOKIE, str(jaar), max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def _layers(ws: Workspace) -> list:
    return ws.layers()  # one read: a layer deleted meanwhile is not listed rather than a 404


@router.get("/", response_class=HTMLResponse, summary="Landing page (HTML)")
@cached(lambda p: ALL_LAYERS)
def landing(ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    scenarios = [{"id": r.id, "name": r.name, "base_layer": r.base_layer, "layer_id": r.layer_id,
                  "moves": len(r.moves), "description": r.description} for r in ws.store.list_scenarios()]
    associations = ws.catalog.builtin.get(ASSOCIATION_LAYER)
    facts = {} if associations is None else {
        code: association_facts_of(ws.catalog, associations.id, code) for code in associations.zone_codes}
    return HTMLResponse(render_landing(_layers(ws), scenarios, ws.catalog.atoms.population_year, associations, facts))


@router.get("/search", response_class=HTMLResponse,
            summary="Find a municipality, zone or association (HTML; redirects to a single match)",
            responses={303: {"description": "exactly one municipality matches: its profile page"}})
def search(q: str = Query("", max_length=100,
                          description="Name, old name, NIS code or postal code of a municipality; "
                                      "name or code of a zone or association"),
           ws: Workspace = Depends(get_workspace)):
    query = q.strip()
    hits = search_hits(ws.catalog, query, _layers(ws), limit=50) if query else []
    target = single_match(hits, query) if hits else None
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return HTMLResponse(render_search(query, hits, ws.catalog.atoms.population_year))


@router.get("/municipalities/{nis_code}", response_class=HTMLResponse, summary="Municipality profile (HTML)")
@cached(lambda p: ALL_LAYERS)
def municipality_page(nis_code: int = Path(..., description="5-digit NIS code; an older code is carried to 2025"),
                      ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    from geo.reference.history import ended_before

    # Associations that ended (ISOM, until 2018): shown as they were on their last day.
    former = [(ws.layer(f"{ASSOCIATION_LAYER}@{day.isoformat()}"), code)
              for code, day in sorted(ended_before(ws.catalog, ws.catalog.as_of).items())] \
        if ws.catalog.as_of is not None and ASSOCIATION_LAYER in ws.catalog.builtin else []
    profile = municipality_profile(nis_code, _layers(ws), ws.catalog.crosswalk, data_dir=ws.catalog.data_dir,
                                   former=former)
    current = profile.nis_code
    atlas = fit_atlas(ws.catalog)
    border = {**municipality_counts(atlas, current), "against": atlas.against.id}
    facts = {a["code"]: association_facts_of(ws.catalog, a["layer"].id, a["code"]) for a in profile.associations}
    # The status of every association in the structures table too: inactive ones are marked there.
    facts.update({z["code"]: association_facts_of(ws.catalog, s["layer"].id, z["code"])
                  for s in profile.structures for z in s["zones"] if z["code"] not in facts})
    return HTMLResponse(render_municipality(profile, border=border, association_facts=facts))



@router.get("/overlay", response_class=HTMLResponse, summary="Overlay of two layers as a sortable table (HTML)")
@cached(lambda p: ALL_LAYERS)  # the page's layer pickers list every layer
def overlay_page(
    a: str = Query(association_layer(), description="Layer whose zones are the rows"),
    b: str = Query(zoning_layer(), description="Layer they are held against"),
    weight: Literal["population", "area"] = Query("population"),
    sort: str | None = Query(None, max_length=40, description="Column to sort the zone table on"),
    order: Literal["asc", "desc"] = Query("asc"),
    ws: Workspace = Depends(get_workspace),
) -> HTMLResponse:
    result = overlay(ws.layer(a), ws.layer(b), weight)
    scenarios = [{"layer_id": r.layer_id, "name": r.name} for r in ws.store.list_scenarios()]
    return HTMLResponse(render_overlay_table(result, _layers(ws), sort, order, scenarios))


@router.get("/overlay.xlsx", summary="Overlay of two layers as an Excel workbook",
            response_class=Response, responses={200: {"content": {
                XLSX: {}}}})
@cached(lambda p: [p["pair"].a, p["pair"].b], busy=slot("reports", "De server maakt al {limit} rapporten tegelijk; "
                                                                   "probeer het over enkele seconden opnieuw."))
def overlay_xlsx(pair: LayerPair = Depends(layer_pair), ws: Workspace = Depends(get_workspace)) -> Response:
    result = pair.overlay(ws)
    notes = [f"{result.a.name} ({result.a.id}) tegenover {result.b.name} ({result.b.id})",
             f"Bevolking: Statbel, 1 januari {result.population_year}" if pair.weight == "population"
             else "Gewogen naar oppervlakte (km², berekend in EPSG:31370)",
             f"{result.a.name}: {result.a.source} ({dutch.vintage(result.a.vintage)})",
             f"{result.b.name}: {result.b.source} ({dutch.vintage(result.b.vintage)})"]
    content = xlsx_bytes(overlay_sheets(result, serialize.overlay_rows(result)), notes)
    return download(content, f"overlay_{result.a.id}_{result.b.id}.xlsx", XLSX)


@router.get("/layers/{layer_id}/leden.csv", summary="Membership table of a layer as CSV for Excel (Dutch headers)",
            response_class=Response, responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
@cached(lambda p: [p["layer_id"]])
def members_csv(layer_id: str = Path(..., description="Layer id or scenario:<id>", examples=["samenwerkingsverband"]),
                ws: Workspace = Depends(get_workspace)) -> Response:
    """Zone, municipality and share per row, as a Belgian Dutch Excel opens it with a double click
    (``;``, decimal comma, UTF-8 byte-order mark, Dutch headers)."""
    import pandas as pd

    layer = ws.layer(layer_id)
    frame = pd.DataFrame(serialize.members(layer), columns=["zone_code", "zone_name", "nis_code", "municipality",
                                                            "share"])
    return download(csv_bytes(frame, EXCEL, DUTCH_HEADERS), f"leden_{layer.id}.csv", CSV)


@router.get("/overlay.csv", summary="Overlay of two layers as CSV for Excel (';', decimal comma, Dutch headers)",
            response_class=Response, responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
@cached(lambda p: [p["pair"].a, p["pair"].b])
def overlay_csv(pair: LayerPair = Depends(layer_pair), ws: Workspace = Depends(get_workspace)) -> Response:
    """One row per member and zone it touches, as a Belgian Dutch Excel opens it with a double
    click: ``;`` between fields, a decimal comma, a UTF-8 byte-order mark, Dutch column headers and
    "ja"/"nee". Scripts use ``/api/v1/overlay?format=csv`` (``,`` and English field names)."""
    result = pair.overlay(ws)
    content = csv_bytes(serialize.overlay_rows(result), EXCEL, DUTCH_HEADERS)
    return download(content, f"overlay_{result.a.id}_{result.b.id}.csv", CSV)
