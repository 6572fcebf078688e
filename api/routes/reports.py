"""Printable fit reports: one zone of any layer against primary care zones, regions, ..."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from api.deps import get_workspace
from api.downloads import download
from api.errors import error_response
from api.limits import slot
from api.render_cache import cache_for, cached
from geo.jobs.ensembles import ensembles_stamp
from geo.storage.workspace import Workspace
from geo.usecases.reports import default_against
from maps.pdf import PdfUnavailable, available_renderers, html_to_pdf
from maps.report import report_html

router = APIRouter(tags=["reports"])


@router.get("/reports/{layer}/{code:path}", response_class=HTMLResponse,
            summary="Printable fit report of one zone (HTML or PDF)",
            responses={200: {"content": {"application/pdf": {}}, "description": "HTML page, or PDF with format=pdf"},
                       501: {"description": "format=pdf but WeasyPrint (the PDF renderer) "
                                             "is not installed on the server"}})
@cached(lambda p: [p["layer"], *(p["against"] or default_against())], extra=ensembles_stamp,
        busy=slot("reports",
                  "De server maakt al {limit} rapporten tegelijk; probeer het over enkele seconden opnieuw."),
        then=lambda p: {**p, "format": "pdf"} if p["format"] == "html" else None)  # who reads a report prints it
def get_report(
    layer: str = Path(..., description="Layer id (or scenario:<id>) of the zone", examples=["samenwerkingsverband"]),
    code: str = Path(..., description="Zone code", examples=["W13"]),
    against: list[str] | None = Query(None, description="Comparison layers (repeatable); default: "
                                      + ", ".join(default_against())),
    format: Literal["html", "pdf"] = Query("html"),
    ws: Workspace = Depends(get_workspace),
):
    """How zone ``code`` fits the zones of other layers: a map, members per zone with population
    (Statbel, 1 January of the population year), the measures in plain Dutch, the members outside
    the dominant zone, population norms and the data sources. ``format=pdf`` needs WeasyPrint on
    the server (the CLI prints with the same renderer); without one the answer is 501 ``pdf_unavailable``."""
    query = [("against", a) for a in against or []]
    # A zone code may hold '/', '?' or '#' (the route takes the rest of the path as the code).
    pdf_link = f"/reports/{quote(layer, safe=':')}/{quote(code, safe='/')}?" + urlencode([*query, ("format", "pdf")])
    html, filename = report_html(ws, layer, code, against, pdf_link, for_print=format == "pdf")
    if format == "html":
        return HTMLResponse(html)
    try:
        pdf = html_to_pdf(html)
    except PdfUnavailable as exc:
        return error_response(501, exc.detail, exc.code)
    return download(pdf, f"{filename}.pdf", "application/pdf", inline=True)


def print_ahead(ws: Workspace, layer_id: str, code: str, pdf: bool = True) -> bool:
    """Render zone ``code``'s report and print its PDF into the render cache, as
    ``GET /reports/{layer}/{code}`` and ``...?format=pdf`` would: the server's warm-up does it for
    the reports the landing page links to, so both open at once. ``pdf=False``: the page only
    (the page is then followed by its PDF in the background, as when a planner opens it). False
    when nothing is kept (the cache is off, or there is no PDF renderer).

    Examples
    --------
    Not run with the tests: it prints a PDF, seconds of WeasyPrint (tests/test_warmup.py runs it).

    >>> print_ahead(ws, "samenwerkingsverband", "W13")  # doctest: +SKIP
    True
    """
    if cache_for(ws) is None:
        return False
    if not pdf:
        return get_report.sync(layer=layer_id, code=code, against=None, format="html", ws=ws).status_code == 200
    if "weasyprint" not in available_renderers():
        return False
    # The PDF first: the page's own request for its PDF (``then``) then finds it printed.
    printed = get_report.sync(layer=layer_id, code=code, against=None, format="pdf", ws=ws).status_code == 200
    return get_report.sync(layer=layer_id, code=code, against=None, format="html", ws=ws).status_code == 200 and printed
