"""Named users, for beheerders: the users page (``/beheer``), the audit trail (``/beheer/logboek``)
and the same as JSON (``/api/v1/users``, ``/api/v1/audit``).

Without users or a token (one person on one machine) these pages are open from this machine,
like every write; adding the first user switches the service to named accounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from api import session
from api.deps import current_actor, require_beheerder
from api.errors import Unauthorized
from api.settings import Settings, get_settings, workspace_for
from geo.accounts.roles import ROLES, Actor, check_beheerder
from geo.errors import RegiomatchError
from maps.accounts_pages import render_audit, render_refused, render_users

if TYPE_CHECKING:  # the account tables bring the database library: loaded with the first use
    from geo.storage.accounts import Accounts

NO_STORE = {"Cache-Control": "no-store"}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_PAGE = {"text/html": {"schema": {"type": "string"}}}
# Every route here needs a beheerder once a token or users are configured (GETs included).
# Entry ids are 64-bit database integers: a larger one is a 422 naming the bound, never a 500
# (SQLite cannot even compare with it; the fuzz test found /beheer/logboek?voor=2**63).
MAX_ROW_ID = 2**63 - 1

router = APIRouter(tags=["accounts"], responses={
    401: {"description": "No credentials, or wrong ones (when a token or users are configured)", "content": _ERROR},
    403: {"description": "Signed in, but not as a beheerder (a Dutch page for the HTML routes)",
          "content": {**_ERROR, **_PAGE}}})
REDIRECT = {303: {"description": "not signed in: to /aanmelden (pages), or done: back to /beheer (forms)"}}


def _accounts(settings: Settings) -> Accounts:
    return workspace_for(settings).store.accounts


def _user_rows(accounts: Accounts) -> list[dict]:
    return [{"name": u.name, "role": u.role, "can_sign_in": u.can_sign_in, "tokens": u.tokens,
             "sessions": accounts.session_count(u.name), "created_at": u.created_at} for u in accounts.list_users()]


# -- JSON ------------------------------------------------------------------------------------------
class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=64, examples=["w13.planner"])
    role: str = Field(..., examples=list(ROLES))
    password: str | None = Field(None, max_length=200, description="None: API tokens only, no browser sign-in")


@router.get("/api/v1/users", summary="Users with their role, tokens and open sessions (beheerder)")
def list_users(settings: Settings = Depends(get_settings), _: Actor = Depends(require_beheerder)) -> list[dict]:
    return [{**row, "created_at": row["created_at"].isoformat()} for row in _user_rows(_accounts(settings))]


@router.post("/api/v1/users", status_code=status.HTTP_201_CREATED, summary="Add a user (beheerder)")
def add_user(body: UserIn, settings: Settings = Depends(get_settings),
             actor: Actor = Depends(require_beheerder)) -> dict:
    user = _accounts(settings).add_user(body.name, body.role, body.password, actor=actor)
    return {"name": user.name, "role": user.role, "can_sign_in": user.can_sign_in}


@router.delete("/api/v1/users/{name}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a user with their tokens and sessions (beheerder)")
def remove_user(name: str, settings: Settings = Depends(get_settings),
                actor: Actor = Depends(require_beheerder)) -> None:
    _accounts(settings).remove_user(name, actor=actor)


@router.post("/api/v1/users/{name}/tokens", status_code=status.HTTP_201_CREATED,
             summary="A new API token for a user, shown once (beheerder)")
def add_token(name: str, label: str = Query("", max_length=200), settings: Settings = Depends(get_settings),
              actor: Actor = Depends(require_beheerder)) -> dict:
    return {"user": name, "token": _accounts(settings).add_token(name, label, actor=actor)}


@router.delete("/api/v1/users/{name}/tokens", summary="Revoke every API token of a user (beheerder)")
def revoke_tokens(name: str, settings: Settings = Depends(get_settings),
                  actor: Actor = Depends(require_beheerder)) -> dict:
    return {"user": name, "revoked": _accounts(settings).revoke_tokens(name, actor=actor)}


@router.delete("/api/v1/users/{name}/sessions", summary="End every browser session of a user (beheerder)")
def revoke_sessions(name: str, settings: Settings = Depends(get_settings),
                    actor: Actor = Depends(require_beheerder)) -> dict:
    return {"user": name, "ended": _accounts(settings).revoke_sessions(name, actor=actor)}


@router.get("/api/v1/audit", summary="The audit trail of every write, newest first (beheerder)")
def audit(limit: int = Query(200, ge=1, le=1000), before: int | None = Query(None, ge=1, le=MAX_ROW_ID,
          description="Older than this entry id (the next page)"), object_id: str | None = Query(None, max_length=100),
          actor: str | None = Query(None, max_length=64), settings: Settings = Depends(get_settings),
          _: Actor = Depends(require_beheerder)) -> list[dict]:
    """``[{id, at, actor, action (create, update, delete), kind (scenario, layer, user, token,
    sessions), object_id, before_version, after_version, detail}]``."""
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "kind": e.kind,
             "object_id": e.object_id, "before_version": e.before_version, "after_version": e.after_version,
             "detail": e.detail}
            for e in _accounts(settings).audit_trail(limit, before, object_id, actor)]


# -- pages -----------------------------------------------------------------------------------------
def _page_beheerder(request: Request, settings: Settings, csrf: str | None = None) -> Actor | HTMLResponse:
    """The beheerder behind a page (a form post also needs the session's CSRF token), or the page
    to show instead: the sign-in for nobody, a refusal for a bijdrager."""
    write = csrf is not None
    actor = current_actor(request, settings, write=False)
    if actor is not None and write and request.cookies.get(session.COOKIE) and not request.headers.get("authorization"):
        if not session.valid_csrf(request.cookies.get(session.COOKIE), csrf):
            raise Unauthorized("this form needs the CSRF token of your session; reload the page")
    if actor is None:
        return RedirectResponse(f"/aanmelden?next={quote(request.url.path)}", status_code=303)
    try:
        check_beheerder(actor, "Het beheer van gebruikers")
    except RegiomatchError as exc:
        return HTMLResponse(render_refused(exc.detail), status_code=403, headers=NO_STORE)
    return actor


def _someone(request: Request, settings: Settings = Depends(get_settings)) -> None:
    """A form post needs credentials before its fields are even read (401 otherwise); the route
    then checks the role and the form's CSRF token."""
    if current_actor(request, settings, write=False) is None:
        raise Unauthorized("this needs a beheerder: 'Authorization: Bearer <token>' or a session from /aanmelden")


SIGNED = [Depends(_someone)]


def _csrf(request: Request) -> str:
    cookie = request.cookies.get(session.COOKIE)
    return session.csrf_token(cookie) if cookie else ""


def _users_page(request: Request, settings: Settings, **messages: object) -> HTMLResponse:
    return HTMLResponse(render_users(_user_rows(_accounts(settings)), _csrf(request),
                                     **messages),  # type: ignore[arg-type]
                        headers=NO_STORE)


@router.get("/beheer", response_class=HTMLResponse, summary="Users and their rights (HTML, beheerder)",
            responses=REDIRECT)
def users_page(request: Request, melding: str | None = Query(None, max_length=200),
               settings: Settings = Depends(get_settings)):
    actor = _page_beheerder(request, settings)
    if not isinstance(actor, Actor):
        return actor
    return _users_page(request, settings, message=melding)


@router.post("/beheer/gebruikers", response_class=HTMLResponse, summary="Add a user from the users page (HTML)",
             responses=REDIRECT, dependencies=SIGNED)
def users_add(request: Request, name: str = Form(..., max_length=64), role: str = Form(..., max_length=16),
              password: str = Form(..., max_length=200), csrf_token: str = Form("", max_length=100),
              settings: Settings = Depends(get_settings)):
    actor = _page_beheerder(request, settings, csrf_token)
    if not isinstance(actor, Actor):
        return actor
    try:
        _accounts(settings).add_user(name.strip().lower(), role, password, actor=actor)
    except RegiomatchError as exc:
        return _users_page(request, settings, error=exc.detail)
    return RedirectResponse(f"/beheer?melding={quote(f'Gebruiker {name} toegevoegd.')}", status_code=303)


@router.post("/beheer/gebruikers/{name}/sleutel", response_class=HTMLResponse,
             summary="A new API token for a user, shown once (HTML)", responses=REDIRECT, dependencies=SIGNED)
def users_token(request: Request, name: str, csrf_token: str = Form("", max_length=100),
                settings: Settings = Depends(get_settings)):
    actor = _page_beheerder(request, settings, csrf_token)
    if not isinstance(actor, Actor):
        return actor
    token = _accounts(settings).add_token(name, "aangemaakt op de beheerpagina", actor=actor)
    return _users_page(request, settings, new_token={"user": name, "token": token})


@router.post("/beheer/gebruikers/{name}/afmelden", response_class=HTMLResponse,
             summary="End every session of a user (HTML)", responses=REDIRECT, dependencies=SIGNED)
def users_sign_out(request: Request, name: str, csrf_token: str = Form("", max_length=100),
                   settings: Settings = Depends(get_settings)):
    actor = _page_beheerder(request, settings, csrf_token)
    if not isinstance(actor, Actor):
        return actor
    count = _accounts(settings).revoke_sessions(name, actor=actor)
    return RedirectResponse(f"/beheer?melding={quote(f'{count} sessie(s) van {name} beëindigd.')}", status_code=303)


@router.post("/beheer/gebruikers/{name}/verwijderen", response_class=HTMLResponse, summary="Remove a user (HTML)",
             responses=REDIRECT, dependencies=SIGNED)
def users_remove(request: Request, name: str, csrf_token: str = Form("", max_length=100),
                 settings: Settings = Depends(get_settings)):
    actor = _page_beheerder(request, settings, csrf_token)
    if not isinstance(actor, Actor):
        return actor
    try:
        _accounts(settings).remove_user(name, actor=actor)
    except RegiomatchError as exc:
        return _users_page(request, settings, error=exc.detail)
    return RedirectResponse(f"/beheer?melding={quote(f'Gebruiker {name} verwijderd.')}", status_code=303)


@router.get("/beheer/logboek", response_class=HTMLResponse, summary="The audit trail (HTML, beheerder)",
            responses=REDIRECT)
def audit_page(request: Request, voor: int | None = Query(None, ge=1, le=MAX_ROW_ID),
               settings: Settings = Depends(get_settings)):
    actor = _page_beheerder(request, settings)
    if not isinstance(actor, Actor):
        return actor
    entries = _accounts(settings).audit_trail(100, voor)
    older = entries[-1].id if len(entries) == 100 else None
    return HTMLResponse(render_audit(entries, older), headers=NO_STORE)
