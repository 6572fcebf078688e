"""FastAPI dependencies: the workspace of the configured data and database, and write auth.

The workspace itself (layer resolution: shipped, imported, ``scenario:<id>``) is framework-free:
:mod:`geo.storage.workspace`. The CLI opens the same one from the same ``REGIOMATCH_*`` settings.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, Query, Request

from api import session
from api.errors import Unauthorized
from geo.errors import InvalidInput
from geo.reference.catalog import population_years
from api.settings import Settings, get_settings, workspace_for
from geo.engine.overlay import OverlayResult, overlay
from geo.storage.workspace import Workspace


@dataclass(frozen=True)
class LayerPair:
    """The ``a``, ``b`` and ``weight`` query parameters every overlay download and the overlay
    API take, parsed once (a parameter group, as titiler's dependencies). Frozen: the render
    cache keys a response by it."""

    a: str
    b: str
    weight: Literal["population", "area"]

    def overlay(self, ws: Workspace) -> OverlayResult:
        """A's zones against B's, weighted by population or area."""
        return overlay(ws.layer(self.a), ws.layer(self.b), self.weight)


def layer_pair(
    a: str = Query(..., description="Layer id (or scenario:<id>) whose zones are examined (the rows)",
                   examples=["samenwerkingsverband"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) they are held against", examples=["eerstelijnszone"]),
    weight: Literal["population", "area"] = Query("population", description="Count inhabitants (Statbel, 1 "
                                                  "January of the population year) or km² (EPSG:31370)"),
) -> LayerPair:
    return LayerPair(a, b, weight)


# The population year a browser chose with the selector on every page (``/bevolkingsjaar``).
YEAR_COOKIE = "bevolkingsjaar"


def get_workspace(request: Request, settings: Settings = Depends(get_settings),
                  population_year: int | None = Query(
                      None, description="Statbel population year of every figure (1 January); default the "
                      "page's chosen year, else the latest shipped", examples=[2020])) -> Workspace:
    """The workspace of the requested population year: ``population_year`` in the query, else the
    year chosen on the pages (cookie), else the configured one. Every route gets its layers here,
    so every page, map, report and export counts that year's inhabitants (a partial member: that
    year's population of the member part)."""
    year = population_year
    if year is None:
        chosen = request.cookies.get(YEAR_COOKIE, "")
        year = int(chosen) if chosen.isdigit() and int(chosen) in population_years() else None
    year = year or settings.population_year
    if year not in population_years():
        raise InvalidInput(f"no population for {year}; available years: {', '.join(map(str, population_years()))}")
    return workspace_for(settings, population_year=year)


def require_writer(request: Request, settings: Settings = Depends(get_settings)) -> None:
    """Writes need ``Authorization: Bearer <token>`` when a token is configured, or a browser
    session cookie with its CSRF token in ``X-CSRF-Token``."""
    if not settings.api_token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.api_token.encode()):
        return
    # A signed-in browser: session cookie plus the CSRF token of that session (api/session.py).
    if session.valid_csrf(request.cookies.get(session.COOKIE), request.headers.get(session.CSRF_HEADER),
                          settings.api_token):
        return
    raise Unauthorized("this write needs 'Authorization: Bearer <token>' with the configured API token "
                       "(or, in the browser, a session from /aanmelden and its CSRF token)")
