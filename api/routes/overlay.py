"""Overlay of two layers: contingency table, mismatches and measures."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from api import serialize
from api.downloads import content_disposition
from api.deps import get_workspace
from geo.overlay import overlay
from geo.workspace import Workspace

router = APIRouter(prefix="/api/v1", tags=["overlay"])


@router.get("/overlay", summary="Overlay layer A on layer B", responses={200: {
    "description": "JSON (``format=json``) or one CSV row per member and zone it touches (``format=csv``)",
    "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}})
def get_overlay(
    a: str = Query(..., description="Layer id (or scenario:<id>) whose zones are examined", examples=["samenwerkingsverband"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) they are held against", examples=["eerstelijnszone"]),
    weight: Literal["population", "area"] = Query("population"),
    direction: Literal["a", "b"] = Query("a", description="'a': one entry per A-zone; 'b': per B-zone"),
    format: Literal["json", "csv"] = Query("json"),
    ws: Workspace = Depends(get_workspace),
):
    """Per zone: population, the zones of the other layer it touches with their members, the
    dominant zone and its share, and the members outside it. Whole-layer measures in ``summary``
    (always A against B). Population is Statbel's count on 1 January of ``population_year``."""
    result = overlay(ws.layer(a), ws.layer(b), weight)
    shown = result if direction == "a" else result.transposed()
    if format == "csv":
        text = serialize.csv_text(serialize.overlay_rows(shown))
        return PlainTextResponse(text, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": content_disposition(f"overlay_{shown.a.id}_{shown.b.id}.csv")})
    body = serialize.overlay(shown)
    body["summary"] = serialize.summary(result)
    body["a"], body["b"], body["direction"] = a, b, direction
    return body
