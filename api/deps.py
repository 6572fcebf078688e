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


async def layer_pair(
    a: str = Query(..., description="Layer id (or scenario:<id>) whose zones are examined (the rows)",
                   examples=["samenwerkingsverband"]),
    b: str = Query(..., description="Layer id (or scenario:<id>) they are held against", examples=["eerstelijnszone"]),
    weight: Literal["population", "area"] = Query("population", description="Count inhabitants (Statbel, 1 "
                                                  "January of the population year) or km² (EPSG:31370)"),
) -> LayerPair:
    return LayerPair(a, b, weight)


async def get_workspace() -> Workspace:
    """The workspace of the current settings. Asynchronous, as it only looks up the workspace
    opened at start-up (``lifespan`` opens it): a synchronous dependency costs a hop to the
    thread pool on every request."""
    return current_workspace()


_opened: tuple[Settings, Workspace] | None = None


def current_workspace() -> Workspace:
    """:func:`api.settings.workspace_for` the current settings, remembered per settings object
    (resolving its paths costs a few system calls, on every request)."""
    global _opened
    settings = get_settings()
    opened = _opened
    if opened is None or opened[0] is not settings:
        opened = _opened = (settings, workspace_for(settings))
    return opened[1]


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
