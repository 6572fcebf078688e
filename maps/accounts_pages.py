"""The beheerder's pages: users (``/beheer``) and the audit trail (``/beheer/logboek``), in Dutch."""

from __future__ import annotations

from geo import dutch
from maps.workbench_pages import render

ACTIONS = {"create": "aangemaakt", "update": "gewijzigd", "delete": "verwijderd"}
KINDS = {"scenario": "scenario", "layer": "laag", "user": "gebruiker", "token": "API-sleutel", "sessions": "sessies"}


def _when(value) -> str:  # noqa: ANN001
    local = value.astimezone()
    return f"{dutch.date(local.date())} {local:%H:%M:%S}"


def render_users(users: list[dict], csrf: str, message: str | None = None, error: str | None = None,
                 new_token: dict | None = None) -> str:
    rows = [{**u, "created": _when(u["created_at"])} for u in users]
    return render("beheer.html", users=rows, csrf=csrf, message=message, error=error, new_token=new_token,
                  population_year=None)


def render_audit(entries: list, older: int | None) -> str:  # noqa: ANN001
    rows = [{"at": _when(e.at), "actor": e.actor, "action": ACTIONS.get(e.action, e.action),
             "kind": KINDS.get(e.kind, e.kind), "object_id": e.object_id, "before": e.before_version,
             "after": e.after_version, "detail": e.detail} for e in entries]
    return render("audit.html", entries=rows, older=older, population_year=None)


def render_refused(reason: str) -> str:
    """The Dutch page for a signed-in user who may not open a beheerder's page."""
    from maps.pages import render_not_found

    return render_not_found("Geen toegang", f"{reason}. Meld u aan als beheerder, of vraag een beheerder om hulp.",
                            [{"href": "/", "label": "Startpagina"}, {"href": "/aanmelden", "label": "Aanmelden"}],
                            suggestions_heading="Verder")
