"""Overlay of two layers: contingency table, mismatches and measures."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api import serialize
from api.deps import LayerPair, get_workspace, layer_pair
from api.downloads import download
from api.render_cache import cached
from api.serialize_overlay import overlay_json
from geo.storage.workspace import Workspace
from maps.exports import CSV, csv_bytes, dialect_for

router = APIRouter(prefix="/api/v1", tags=["overlay"])
DEFAULT_LIMIT = 500  # more zones than any shipped layer has; a big imported layer is paged
MAX_LIMIT = 10_000


@router.get("/overlay", summary="Overlay layer A on layer B", response_class=Response, responses={200: {
    "description": "JSON (``format=json``) or one CSV row per member and zone it touches (``format=csv``)",
    "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}})
@cached(lambda p: [p["pair"].a, p["pair"].b])
def get_overlay(
    pair: LayerPair = Depends(layer_pair),
    direction: Literal["a", "b"] = Query("a", description="'a': one entry per A-zone; 'b': per B-zone"),
    format: Literal["json", "csv"] = Query("json"),
    sep: Literal[",", ";"] = Query(",", description="CSV only: ';' writes what Excel on a Belgian machine "
                                                      "opens directly (decimal comma, UTF-8 byte-order mark)"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="JSON: details of at most this many zones "
                       "(``zones_total`` says how many there are); CSV has every zone"),
    offset: int = Query(0, ge=0, description="JSON: skip the details of this many zones (the next page)"),
    ws: Workspace = Depends(get_workspace),
) -> Response:
    """Per zone: population, the zones of the other layer it touches with their members, the
    dominant zone and its share, and the members outside it. Whole-layer measures in ``summary``
    (always A against B). Population is Statbel's count on 1 January of ``population_year``.
    A layer with more than ``limit`` zones comes in pages: ``offset``, ``limit``, ``zones_total``."""
    result = pair.overlay(ws)
    shown = result if direction == "a" else result.transposed()
    if format == "csv":
        content = csv_bytes(serialize.overlay_rows(shown), dialect_for(sep))
        return download(content, f"overlay_{shown.a.id}_{shown.b.id}.csv", CSV)
    # The zones' details written straight from arrays: 10,000 zones at once in tens of milliseconds.
    body = overlay_json(shown, offset, limit, summary=serialize.summary(result), a=pair.a, b=pair.b,
                        direction=direction)
    return Response(body, media_type="application/json")
