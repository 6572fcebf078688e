"""The Dutch "not found" page of the HTML routes, with the search box and close matches.

``api.errors`` decides that a request gets this page (an HTML route, status 404); this module
works out what was missing from the request (which layer, zone, municipality or scenario) and
what the user probably meant, and lets ``maps.pages`` render it.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request

from geo import errors as e
from geo.reference.lookup import close_matches
from maps.pages import render_not_found

MAX_LISTED_ZONES = 30  # a short layer is listed whole when nothing resembles the typed code
MAX_SHOWN = 60  # typed text shown back on the page (a path segment may be thousands of characters)


def shown(text: str) -> str:
    """What the user typed, cut for the page (the matching cuts it too: geo.reference.lookup).

    Examples
    --------
    >>> shown("1" * 4290)[-3:], len(shown("1" * 4290))
    ('11…', 61)
    """
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _workspace():  # noqa: ANN202 - api.settings imports the workspace, which imports api.errors
    from api.settings import current_settings, workspace_for

    return workspace_for(current_settings())


def _unknown_layer_id(request: Request, ws) -> str:  # noqa: ANN001
    """The layer id in the request that does not resolve (path first, then layer, a, b, base,
    other and against in the query)."""
    params = request.scope.get("path_params") or {}
    query = request.query_params
    candidates = [params.get("layer"), *(query.get(name) for name in ("layer", "a", "b", "base", "other")),
                  *query.getlist("against")]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            ws.layer(candidate)
        except e.NotFound:
            return str(candidate)
    return str(next((c for c in candidates if c), ""))


def _with(request: Request, old: str, new: str) -> str:
    """The requested URL with layer id ``old`` replaced by ``new`` (path and query)."""
    path = "/".join(quote(new, safe=":") if part == quote(old, safe=":") or part == old else part
                    for part in request.url.path.split("/"))
    query = [(k, new if v == old else v) for k, v in request.query_params.multi_items()]
    return path + (f"?{urlencode(query)}" if query else "")


def not_found_html(request: Request, exc: Exception | None) -> str:
    """The page for a 404 on an HTML route.

    Examples
    --------
    >>> request = Request({"type": "http", "method": "GET", "path": "/zones/samenwerkingsverband/W31",
    ...                    "query_string": b"", "headers": [],
    ...                    "path_params": {"layer": "samenwerkingsverband", "code": "W31"}})
    >>> html = not_found_html(request, e.UnknownZone("layer 'samenwerkingsverband' has no zone 'W31'"))
    >>> "Bedoelde u misschien" in html, "/zones/samenwerkingsverband/W13" in html
    (True, True)
    """
    ws = _workspace()
    params = request.scope.get("path_params") or {}
    if isinstance(exc, e.UnknownMunicipality) or (exc is None and "nis_code" in params):
        typed = str(params.get("nis_code", ""))
        atoms = ws.catalog.atoms
        names = {str(int(code)): str(name) for code, name in zip(atoms.nis_codes, atoms.table["name"])}
        found = [c for c in close_matches(typed, names, limit=6, cutoff=0.6)]
        return render_not_found(
            "Gemeente niet gevonden",
            f"Er is geen gemeente met NIS-code {shown(typed)}, ook niet onder een code van voor de fusies van 2019 "
            f"of 2025. Een NIS-code heeft 5 cijfers, bijvoorbeeld 34025 voor Lendelede.",
            [{"href": f"/municipalities/{c}", "label": f"{names[c]} ({c})"} for c in found],
            suggestions_heading="Gemeenten met een gelijkaardige NIS-code")
    if isinstance(exc, e.UnknownZone) and "layer" in params:
        layer = ws.layer(str(params["layer"]))
        typed = str(params.get("code", ""))
        zones = {str(c): str(n) for c, n in zip(layer.zones["code"], layer.zones["name"])}
        found = close_matches(typed, zones, limit=8)
        heading = "Bedoelde u misschien"
        if not found and len(zones) <= MAX_LISTED_ZONES:
            found, heading = list(zones), f"Alle zones van {layer.name}"
        base = request.url.path.rsplit("/", 1)[0]
        return render_not_found(
            "Zone niet gevonden", f"{layer.name} heeft geen zone met code ‘{shown(typed)}’.",
            [{"href": f"{base}/{quote(c, safe='')}", "label": f"{zones[c]} ({c})"} for c in found],
            query=shown(typed) if not typed.isdigit() else "", suggestions_heading=heading)
    if isinstance(exc, e.UnknownLayer):
        typed = _unknown_layer_id(request, ws)
        layers = {layer.id: layer.name for layer in ws.layers()}
        found = close_matches(typed, layers, limit=5)
        return render_not_found(
            "Laag niet gevonden", f"Er is geen laag met de naam ‘{shown(typed)}’. Een laag wordt aangeduid met haar "
            "korte naam, bijvoorbeeld eerstelijnszone of samenwerkingsverband.",
            [{"href": _with(request, typed, i), "label": f"{layers[i]} ({i})"} for i in found] or
            [{"href": _with(request, typed, i), "label": f"{n} ({i})"} for i, n in layers.items()],
            suggestions_heading="Bedoelde u misschien" if found else "Alle lagen")
    if isinstance(exc, e.UnknownScenario):
        return render_not_found(
            "Scenario niet gevonden", "Dit scenario bestaat niet (meer): het is misschien verwijderd.",
            [{"href": "/#scenarios", "label": "De opgeslagen scenario's op de startpagina"}])
    return render_not_found(
        "Pagina niet gevonden", f"Het adres {request.url.path} bestaat niet in regiomatch.",
        [{"href": "/", "label": "Startpagina"},
         {"href": "/overlay?a=samenwerkingsverband&b=eerstelijnszone", "label": "Overlaytabel"},
         {"href": "/reports/samenwerkingsverband/W13", "label": "Rapport over de aansluiting van W13"}],
        suggestions_heading="Misschien zocht u")
