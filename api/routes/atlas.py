"""The fit atlas, any zone with every overlap, and one search over everything (JSON and HTML)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import get_workspace
from api.downloads import content_disposition
from api.render_cache import ALL_LAYERS, cached
from geo import dutch
from geo.errors import NotFound
from geo.reference.associations import STATUSES, associations, reconciliation
from geo.storage.workspace import Workspace
from geo.views.atlas import AGAINST_LAYERS, ALL_STATUSES, DEFAULT_AGAINST, Atlas, fit_atlas
from geo.views.search import association_layers, search
from geo.views.zones import zone_overlaps
from maps.atlas_page import (
    association_facts_of,
    atlas_csv,
    atlas_rows,
    atlas_table,
    border_table,
    headline,
    render_atlas,
    render_zone,
)
from maps.exports import XLSX
from maps.exports import xlsx_bytes as workbook

router = APIRouter(tags=["atlas"])

Against = Query(DEFAULT_AGAINST, description="Layer the associations are held against: " + ", ".join(AGAINST_LAYERS))
LegalType = Query(None, max_length=80, description="Only this legal type, e.g. 'OCMW vereniging' (case and "
                                                    "hyphens do not matter)")
Status = Query("Actief", max_length=20, description=f"{', '.join(STATUSES)} or '{ALL_STATUSES}'")


def _atlas(ws: Workspace, against: str, type: str | None, status: str) -> Atlas:
    return fit_atlas(ws.catalog, against, legal_type=type or None,
                     status=None if status.strip().lower() == ALL_STATUSES else status)


@router.get("/api/v1/atlas", summary="Every association against one layer, worst fit first (JSON, CSV or XLSX)",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
@cached(lambda p: [p["against"]])
def get_atlas(against: str = Against, type: str | None = LegalType, status: str = Status,
              format: Literal["json", "csv", "xlsx"] = Query("json"), ws: Workspace = Depends(get_workspace)):
    """Per association: zones touched, the dominant zone and its share of the inhabitants, the
    members outside it with their inhabitants; a headline count; per municipality the number of
    associations, of crossing ones, and of crossing ones where it is on the minority side.
    ``format=csv`` is ``;``-separated UTF-8 with a BOM and Dutch headers (opens in Excel)."""
    atlas = _atlas(ws, against, type, status)
    name = f"atlas_{atlas.against.id}"
    if format == "csv":
        return Response(atlas_csv(atlas), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": content_disposition(f"{name}.csv")})
    if format == "xlsx":
        notes = [headline(atlas), f"Bevolking: Statbel, 1 januari {atlas.population_year}",
                 "Samenwerkingsverbanden: Agentschap Binnenlands Bestuur, Organisatieportaal",
                 f"{atlas.against.name}: {atlas.against.source} ({dutch.vintage(atlas.against.vintage)})"]
        content = workbook({"samenwerkingsverbanden": atlas_table(atlas), "grensgemeenten": border_table(atlas)}, notes)
        return Response(content, media_type=XLSX, headers={"Content-Disposition": content_disposition(f"{name}.xlsx")})
    return {
        "against": atlas.against.id, "association_layer": atlas.layer.id, "legal_type": atlas.legal_type,
        "status": atlas.status, "population_year": atlas.population_year,
        "association_count": atlas.association_count, "crossing_count": atlas.crossing_count,
        "headline": headline(atlas), "associations": atlas_rows(atlas),
        "municipalities": atlas.municipalities.to_dict("records"),
    }


@router.get("/atlas", response_class=HTMLResponse, summary="The fit atlas (HTML)")
@cached(lambda p: [p["against"]])
def atlas_page(against: str = Against, type: str | None = LegalType, status: str = Status,
               ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    from maps.atlas_map import border_map_png  # matplotlib: on first use, not at start-up
    from maps.static_map import data_uri

    atlas = _atlas(ws, against, type, status)
    query = {"against": atlas.against.id, "status": status, **({"type": type} if type else {})}
    legal_types = sorted({a.legal_type for a in associations(ws.catalog) if a.layer_id == atlas.layer.id})
    html = render_atlas(atlas, map_uri=data_uri(border_map_png(atlas, ws.catalog.data_dir)), legal_types=legal_types,
                        statuses=[*STATUSES, ALL_STATUSES], query=query,
                        against_layers=[ws.catalog.layer(i) for i in AGAINST_LAYERS])
    return HTMLResponse(html)


def _facts(ws: Workspace, layer_id: str, code: str) -> dict | None:
    return association_facts_of(ws.catalog, layer_id, code)


def _zone_view(ws: Workspace, layer_id: str, code: str):  # noqa: ANN202 - (view, associations)
    layer = ws.layer(layer_id)
    view = zone_overlaps(layer, code, ws.layers())
    found = []
    associations = association_layers()
    for group in view.groups:
        if group.layer.id in associations:
            found += [{"layer_id": group.layer.id, "facts": _facts(ws, group.layer.id, o.code) or
                       {"code": o.code, "name": o.name, "legal_type": "onbekend", "status": "onbekend",
                        "historical": False, "vintage": group.layer.vintage, "registered_on": "onbekend"},
                       "population": o.population, "share_of_zone": o.share_of_zone, "members": o.members}
                      for o in group.overlaps]
    found.sort(key=lambda a: (a["facts"]["historical"], a["facts"]["status"] != "Actief", -a["population"]))
    others = [g for g in view.groups if g.layer.id not in associations]
    return view, others, found


@router.get("/api/v1/zones/{layer}/{code:path}", summary="A zone with every overlapping zone of every other layer")
@cached(lambda p: ALL_LAYERS)  # against every layer, imported ones and scenarios too
def get_zone(layer: str = Path(..., examples=["politiezone"]), code: str = Path(..., examples=["ipz1"]),
             ws: Workspace = Depends(get_workspace)) -> dict:
    """Population figures are Statbel, 1 January of ``population_year``; ``share_of_zone`` is the
    common inhabitants over this zone's, ``share_of_other`` over the other zone's."""
    view, others, found = _zone_view(ws, layer, code)
    return {
        "layer": view.layer.id, "layer_name": view.layer.name, "code": view.code, "name": view.name,
        "population": view.population, "population_year": view.population_year,
        "association": _facts(ws, layer, code),
        "members": [{"nis_code": n, "name": m, "share": s} for n, m, s in view.members],
        "layers": [{"layer": g.layer.id, "layer_name": g.layer.name, "zones": [
            {"code": o.code, "name": o.name, "population": o.population, "share_of_zone": o.share_of_zone,
             "share_of_other": o.share_of_other, "members": o.members,
             "url": f"/zones/{quote(g.layer.id, safe=':')}/{quote(o.code, safe='')}"} for o in g.overlaps]}
            for g in others],
        "associations": [{"layer": a["layer_id"], **{k: a["facts"].get(k) for k in (
            "code", "name", "legal_type", "status", "historical", "vintage", "registered_on")},
            "population": a["population"], "share_of_zone": a["share_of_zone"]} for a in found],
    }


# {code:path}: an imported zone code may hold "/" (even "../../api/v1/layers"); every page takes every code.
@router.get("/zones/{layer}/{code:path}", response_class=HTMLResponse, summary="A zone with every overlap (HTML)")
@cached(lambda p: ALL_LAYERS)  # against every layer, imported ones and scenarios too
def zone_page(layer: str, code: str, ws: Workspace = Depends(get_workspace)) -> HTMLResponse:
    view, others, found = _zone_view(ws, layer, code)
    recon = None
    if layer in association_layers():
        try:
            recon = reconciliation(ws.catalog, code)
        except NotFound:
            recon = None
    return HTMLResponse(render_zone(replace(view, groups=others), facts=_facts(ws, layer, code),
                                    associations=found, reconciliation=recon))


@router.get("/api/v1/search", summary="Municipalities (name, old name, NIS code, postal code, small typos), "
                                      "zones and associations")
def search_everything(q: str = Query(..., min_length=1, max_length=100), limit: int = Query(20, ge=1, le=50),
                      ws: Workspace = Depends(get_workspace)) -> list[dict]:
    return [{"kind": h.kind, "name": h.label, "match": h.match, "matched": h.matched, "nis_code": h.nis_code,
             "layer": h.layer_id, "code": h.code,
             "url": (f"/municipalities/{h.nis_code}" if h.kind == "municipality"
                     else f"/zones/{quote(str(h.layer_id), safe=':')}/{quote(str(h.code), safe='')}")}
            for h in search(ws.catalog, q, ws.layers(), limit)]
