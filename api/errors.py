"""One place that maps domain errors to HTTP statuses and JSON ``{"detail", "code"}``.

It also decides, by route, who gets a page instead: a 404 on one of the HTML pages people open
in a browser (``HTML_ROUTES``: the front door, search, municipality profiles, the overlay table,
reports) answers a Dutch HTML page with a search box and close matches (``api.not_found``); so
does a mistyped address outside ``/api`` when the browser asks for HTML. Everything under
``/api`` keeps ``{"detail", "code"}``.

It also documents those errors in the OpenAPI schema (every operation lists the error statuses
it can answer, all with the same ``Error`` body), so clients and the fuzz tests
(``tests/test_fuzz.py``) can hold every response to the documentation.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo import errors as e

log = logging.getLogger("regiomatch.api")

STATUS = [
    (e.LimitExceeded, 413),
    (e.StorageFull, 507),
    (e.Corrupt, 500),
    (e.DatabaseUnavailable, 503),
    (e.Busy, 503),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.ReadOnly, 403),
    (e.WrongCRS, 422),  # under /ogc a 400, as all bad input there
    (e.RegiomatchError, 422),
]
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid_input", 429: "too_many_requests", 500: "internal_error"}

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "title": "Detail", "description": "What is wrong, naming the field, id or code"},
        "code": {"type": "string", "title": "Code", "description": "Stable machine-readable error code",
                 "examples": ["unknown_layer", "invalid_input", "conflict"]},
        "description": {"type": "string", "title": "Description",
                        "description": "Under /ogc only (an OGC API exception): the same text as detail"},
    },
}
# Which error statuses an operation documents, by what it takes (see ``document_errors``).
_DESCRIPTIONS = {
    "400": "The request body could not be parsed (not JSON, not UTF-8, broken multipart); on /ogc any bad or "
           "unknown parameter (bbox, crs, limit, a property to filter on)",
    "401": "Write without the configured API token (only when REGIOMATCH_API_TOKEN is set)",
    "403": "The target is read-only (a shipped layer)",
    "404": "Unknown layer, zone, municipality, scenario or other id named in the request",
    "409": "Conflict: a stale scenario version, or an id that already exists",
    "413": "Request body or upload larger than REGIOMATCH_MAX_UPLOAD_BYTES, or an upload over one of the "
           "import limits (unpacked size, rows, features, vertices, zones per municipality, nesting, "
           "memory or time), named in the detail",
    "422": "Invalid input, naming the field, NIS code, zone or geometry at fault",
    "507": "The database's disk is full: nothing was saved",
}
# Paths of the HTML pages (OpenAPI templates as well as concrete paths match): their 404 is a page.
HTML_ROUTES = re.compile(r"^/(?:|search|overlay|municipalities/[^/]+|reports/[^/]+/[^/]+|zones/[^/]+/[^/]+"
                         r"|werkbank/[^/]+|alternatieven(?:(?:/voorstellen)?/[^/]+)?)$")
# Never pages, whatever the browser accepts: the API, its documentation and static files.
MACHINE_PREFIXES = ("/api/", "/health", "/openapi.json", "/docs", "/redoc", "/maps/static/", "/ogc/")
# The feature service (OGC API - Features) answers errors as OGC exceptions, bad input with 400.
OGC_PREFIX = "/ogc"
_WRITE_METHODS = {"post", "put", "patch", "delete"}
_METHODS = {"get", "head", "options", "post", "put", "patch", "delete", "trace"}


class TooLarge(e.RegiomatchError):
    code = "too_large"


class Unauthorized(e.RegiomatchError):
    code = "unauthorized"


def status_for(exc: e.RegiomatchError) -> int:
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, Unauthorized):
        return 401
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 422


def detail_for(request: Request, exc: e.RegiomatchError) -> str:
    """The error's detail: in English under ``/api`` and ``/ogc``, in Dutch for the pages (the
    workbench's forms show it) where the error has a Dutch text (:class:`geo.errors.WrongCRS`)."""
    dutch = getattr(exc, "dutch", None)
    if dutch and not request.url.path.startswith(MACHINE_PREFIXES):
        return dutch
    return exc.detail


def error_response(status: int, detail: str, code: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def is_ogc(path: str) -> bool:
    """Whether ``path`` belongs to the feature service (``/ogc``), whose errors are OGC exceptions."""
    return path == OGC_PREFIX or path.startswith(OGC_PREFIX + "/")


def ogc_error(status: int, detail: str, code: str, headers: dict | None = None) -> JSONResponse:
    """An OGC API exception (``code``, ``description``) that is also the service's ``{"detail", "code"}``;
    bad input is 400 there, as OGC API - Features requires, where the rest of the API says 422."""
    status = 400 if status == 422 else status
    return JSONResponse({"code": code, "description": detail, "detail": detail}, status_code=status, headers=headers)


def wants_page(request: Request, matched: bool = True) -> bool:
    """Whether a 404 on this request is answered with the Dutch HTML page.

    ``matched``: the path belongs to a route. An unmatched (mistyped) path outside the API gets the
    page when the client asks for HTML, as a browser does.
    """
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.url.path
    if HTML_ROUTES.match(path):
        return True
    if matched or path.startswith(MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _browser_page(request: Request) -> bool:
    """Whether a domain error or bad input on this request is answered with a Dutch page: a page
    route, or any route outside the API a browser asks for (``Accept: text/html``). It covers
    :func:`wants_page` for a matched route (a page route alone)."""
    path = request.url.path
    if request.method not in ("GET", "HEAD") or path.startswith(MACHINE_PREFIXES):
        return False
    return bool(HTML_ROUTES.match(path)) or "text/html" in request.headers.get("accept", "")


def invalid_page(problem: RequestValidationError | list[str]) -> HTMLResponse:
    """The Dutch page of a page's address with a value it cannot take (422): pydantic's errors,
    or the Dutch sentences of a domain error."""
    from api.invalid_page import problems
    from maps.pages import render_invalid

    said = problem if isinstance(problem, list) else problems(problem.errors())
    return HTMLResponse(render_invalid(said), status_code=422)


def not_found_page(request: Request, exc: Exception | None) -> HTMLResponse:
    from api.not_found import not_found_html  # imports the workspace, which imports this module

    return HTMLResponse(not_found_html(request, exc), status_code=404)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _allowed_methods(request: Request) -> list[str]:
    """Every documented method at this path. Starlette's own ``Allow`` names only the first
    route that matched the path, so a 405 on ``/layers`` hid ``POST /layers``."""
    app = request.app
    table = getattr(app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, item in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
            table.append((pattern, "{" not in template, {m.upper() for m in item if m in _METHODS}))
        app.state.allowed_methods = table
    matches = [(literal, allowed) for pattern, literal, allowed in table if pattern.match(request.url.path)]
    # As in OpenAPI, a literal path ('/scenarios/suggest') wins over a template ('/scenarios/{id}').
    if any(literal for literal, _ in matches):
        matches = [m for m in matches if m[0]]
    return sorted(set().union(*(allowed for _, allowed in matches)))


def install(app: FastAPI) -> None:
    @app.exception_handler(e.RegiomatchError)
    async def _domain(request: Request, exc: e.RegiomatchError) -> JSONResponse | HTMLResponse:
        if isinstance(exc, e.NotFound) and _browser_page(request):
            return not_found_page(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        if isinstance(exc, e.Busy):
            headers = {"Retry-After": "5"}
        if is_ogc(request.url.path):
            return ogc_error(status_for(exc), exc.detail, exc.code, headers)
        if status_for(exc) == 422 and exc.dutch and _browser_page(request):
            return invalid_page([exc.dutch])
        return error_response(status_for(exc), detail_for(request, exc), exc.code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse | HTMLResponse:
        if is_ogc(request.url.path):
            return ogc_error(400, _describe_validation(exc), "invalid_input")
        if _browser_page(request):
            return invalid_page(exc)
        return error_response(422, _describe_validation(exc), "invalid_input")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse | HTMLResponse:
        if exc.status_code == 404 and wants_page(request, matched="route" in request.scope):
            return not_found_page(request, None)
        headers = dict(getattr(exc, "headers", None) or {})
        detail = str(exc.detail)
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's words for a body that is not JSON, not UTF-8 or not multipart.
            detail = ("the request body could not be parsed: send JSON in UTF-8 "
                      "(multipart/form-data for uploads)")
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        if is_ogc(request.url.path):
            return ogc_error(exc.status_code, detail, HTTP_CODES.get(exc.status_code, "error"), headers or None)
        return error_response(exc.status_code, detail, HTTP_CODES.get(exc.status_code, "error"),
                              headers or None)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Defence in depth only: an exception reaching here is a bug to fix where it is raised
        # (the fuzz tests fail on any 5xx). The client gets JSON, the log gets the traceback.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # The server closes the connection after a 500; say so rather than drop it silently.
        return error_response(500, "internal error; it has been logged", "internal_error", {"Connection": "close"})

    document_errors(app)


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _page_content() -> dict[str, Any]:
    return {"text/html": {"schema": {"type": "string",
                                     "description": "Dutch page with a search box and close matches"}}}


def _statuses(method: str, operation: dict[str, Any], path: str = "") -> list[str]:
    params = operation.get("parameters") or []
    if is_ogc(path):
        # Unknown parameters and bad values are a 400, unknown collections and features a 404.
        return ["400", "404"]
    statuses = []
    if params or "requestBody" in operation:
        statuses += ["404", "422"]
    if "requestBody" in operation:
        statuses += ["400", "413"]
    if method in _WRITE_METHODS:
        statuses += ["401", "403", "404", "409", "507"]
    return sorted(set(statuses))


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI schema tell the truth about errors: FastAPI documents only its own 422
    body (a list of pydantic errors), which this API never sends."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = ERROR_SCHEMA
        for path, path_item in schema.get("paths", {}).items():
            for method, operation in path_item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if is_ogc(path):
                    responses.pop("422", None)  # OGC API: bad input is a 400
                for status in _statuses(method, operation, path):
                    if status == "422" or status not in responses:
                        responses[status] = {"description": _DESCRIPTIONS[status], "content": _error_content()}
                if method in ("get", "head") and HTML_ROUTES.match(path) and "404" in responses:
                    responses["404"] = {"description": "Not found: a Dutch HTML page naming what is missing, "
                                                       "with a search box and close matches",
                                        "content": _page_content()}
                if (method in ("get", "head") and not path.startswith(MACHINE_PREFIXES) and not HTML_ROUTES.match(path)
                        and "404" in responses):
                    # A browser (Accept: text/html) gets the Dutch page for what is not found here too.
                    responses["404"] = {"description": responses["404"].get("description", "Not found"),
                                        "content": {**_error_content(), **_page_content()}}
                if method in ("get", "head") and not path.startswith(MACHINE_PREFIXES) and "422" in responses:
                    # A page route, or a browser (Accept: text/html) elsewhere, gets the Dutch page
                    # naming the parameter; an error only the API words stays JSON.
                    responses["422"] = {"description": "A parameter the page cannot take: a Dutch HTML page "
                                                       "naming it, what it takes and what it got (or the "
                                                       "JSON error)",
                                        "content": {**_error_content(), **_page_content()}}
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
