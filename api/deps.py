"""FastAPI dependencies: the workspace of the configured data and database, and who writes.

Three modes, from the simplest: no token and no users (writes open from this machine, as a
beheerder); one shared ``REGIOMATCH_API_TOKEN`` (whoever has it is a beheerder); named users
(``regiomatch users add``; as soon as one exists every write needs a user: their API token, or a
browser session from ``/aanmelden``; the shared token, if set, stays a beheerder's key).

The workspace itself (layer resolution: shipped, imported, ``scenario:<id>``) is framework-free:
:mod:`geo.storage.workspace`. The CLI opens the same one from the same ``REGIOMATCH_*`` settings.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api import session
from api.errors import Unauthorized
from api.settings import YEAR_COOKIE, Settings, workspace_for
from geo.accounts.roles import LOCAL, OPERATOR, Actor, check_beheerder
from geo.engine.overlay import OverlayResult, overlay
from geo.reference.catalog import population_years, require_population_year
from geo.storage.workspace import Workspace

if TYPE_CHECKING:  # the account tables bring the database library: loaded with the first sign-in
    from geo.storage.accounts import Session


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




def app_settings(request: Request) -> Settings:
    """The settings the answering app was created with (:func:`api.main.create_app` keeps them on
    ``app.state`` and overrides ``Depends(api.settings.get_settings)`` with this)."""
    return request.app.state.settings


def app_workspace(app: Any) -> Workspace:
    """The workspace of an app's settings (:func:`api.settings.workspace_for`), kept on
    ``app.state`` (resolving its paths costs a few system calls, on every request)."""
    ws = getattr(app.state, "workspace", None)
    if ws is None:
        ws = app.state.workspace = workspace_for(app.state.settings)
    return ws


async def get_workspace(request: Request, population_year: int | None = Query(
        None, description="Statbel population year of every figure (1 January); default the "
        "page's chosen year, else the latest shipped", examples=[2020])) -> Workspace:
    """The workspace of the requested population year: ``population_year`` in the query, else the
    year chosen on the pages (cookie), else the configured one. Every route gets its layers here,
    so every page, map, report and export counts that year's inhabitants (a partial member: that
    year's population of the member part).

    Asynchronous: the configured year's workspace, opened at start-up, is looked up without a hop
    to the thread pool (a synchronous dependency costs one on every request); another year's is
    opened in the pool the first time (its catalog takes a second to read)."""
    settings = app_settings(request)
    year = population_year
    if year is None:
        chosen = request.cookies.get(YEAR_COOKIE, "")
        year = int(chosen) if chosen.isdigit() and int(chosen) in population_years() else None
    year = year or settings.population_year
    if year == settings.population_year:
        return app_workspace(request.app)
    require_population_year(year)
    return await run_in_threadpool(workspace_for, settings, None, year)


# -- who writes ------------------------------------------------------------------------------------
def _accounts(settings: Settings):  # noqa: ANN202
    return workspace_for(settings).store.accounts


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def signed_in(request: Request, settings: Settings) -> Session | None:
    """The live server-side session of this browser (shared-token or user session), or ``None``."""
    cookie = request.cookies.get(session.COOKIE)
    if not cookie:
        return None
    accounts = _accounts(settings)
    found = accounts.session(cookie, session.ACCOUNTS_KEY)
    if found is None and settings.api_token:
        found = accounts.session(cookie, session.shared_key(settings.api_token))
    return found


def _session_actor(found: Session) -> Actor:
    return found.user.actor if found.user is not None else OPERATOR


def current_actor(request: Request, settings: Settings, *, write: bool) -> Actor | None:
    """Who makes this request: the shared token's or a user's bearer token, or a browser session
    (for a write with its CSRF token); ``LOCAL`` when neither a token nor users are configured;
    ``None`` when credentials are needed and missing or wrong."""
    accounts = _accounts(settings)
    token = _bearer(request)
    if token is not None:
        if settings.api_token and hmac.compare_digest(token.encode(), settings.api_token.encode()):
            return OPERATOR
        user = accounts.token_user(token)
        return user.actor if user is not None else None
    found = signed_in(request, settings)
    if found is not None:
        cookie = request.cookies.get(session.COOKIE)
        if not write or session.valid_csrf(cookie, request.headers.get(session.CSRF_HEADER)):
            return _session_actor(found)
    if not settings.api_token and not accounts.has_users():
        return LOCAL
    return None


def require_writer(request: Request, settings: Settings = Depends(app_settings)) -> Actor:
    """Who writes: writes need ``Authorization: Bearer <token>`` (the shared token or a user's)
    when a token or users are configured, or a browser session with its CSRF token in
    ``X-CSRF-Token``. Routes that check ownership take the returned :class:`Actor`."""
    actor = current_actor(request, settings, write=True)
    if actor is None:
        raise Unauthorized("this write needs 'Authorization: Bearer <token>' with the configured API token or "
                           "a user's API token (or, in the browser, a session from /aanmelden and its CSRF token)")
    return actor


def require_beheerder(request: Request, settings: Settings = Depends(app_settings)) -> Actor:
    """A beheerder (users, the audit trail): 401 without credentials, 403 for a bijdrager."""
    actor = current_actor(request, settings, write=request.method not in ("GET", "HEAD"))
    if actor is None:
        raise Unauthorized("this needs a beheerder: 'Authorization: Bearer <token>' or a session from /aanmelden")
    check_beheerder(actor, "dit")
    return actor


def page_writer(request: Request, settings: Settings) -> dict:
    """What a page needs to write: whether a sign-in is needed, who is signed in, the CSRF token."""
    accounts_on = _accounts(settings).has_users()
    if not settings.api_token and not accounts_on:
        return {"needs_signin": False, "signed_in": True, "csrf": "", "user": None, "role": "beheerder"}
    found = signed_in(request, settings)
    if found is None:
        return {"needs_signin": True, "signed_in": False, "csrf": "", "user": None, "role": None}
    actor = _session_actor(found)
    return {"needs_signin": True, "signed_in": True, "csrf": session.csrf_token(request.cookies[session.COOKIE]),
            "user": actor.name, "role": actor.role}
