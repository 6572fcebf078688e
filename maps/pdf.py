"""HTML -> PDF for printable reports: one renderer, so the web button and the CLI print the same.

WeasyPrint (PyPI, needs Pango from the OS) is the renderer: it runs in-process and honours the
CSS paged media the report's layout is checked against (A4, margins, wrapping tables). Headless
Chromium's print-to-PDF stays available only when asked for by name (``regiomatch report
--renderer chromium``); it is never picked silently, so a document never changes with the
machine it is printed on. Without WeasyPrint, a clear domain error says what to install.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gc
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from geo.errors import RegiomatchError

RENDERERS = ("weasyprint", "chromium")
DEFAULT_RENDERER = "weasyprint"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_TIMEOUT_SECONDS = 90
# Chromium must not phone home or touch the user's profile when it runs inside the service.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--no-pdf-header-footer", "--print-to-pdf-no-header")


class PdfUnavailable(RegiomatchError):
    """No PDF renderer is installed (the HTML report is still available)."""

    code = "pdf_unavailable"


def _weasyprint_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        # OSError: the Python package is there but Pango is not.
        return False
    return True


def chromium_path() -> str | None:
    """The Chromium executable: ``$REGIOMATCH_CHROMIUM`` or the first one on ``PATH``."""
    configured = os.environ.get("REGIOMATCH_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def available_renderers() -> list[str]:
    """The renderers that work here, preferred first.

    Examples
    --------
    >>> set(available_renderers()) <= set(RENDERERS)
    True
    """
    found = []
    if _weasyprint_available():
        found.append("weasyprint")
    if chromium_path():
        found.append("chromium")
    return found


def html_to_pdf(html: str, renderer: str | None = None) -> bytes:
    """Render a self-contained HTML page (images as data URIs) to PDF bytes.

    Parameters
    ----------
    html : str
        The page; it must not need the network (no external CSS, fonts or images).
    renderer : {"weasyprint", "chromium"}, optional
        By default WeasyPrint, the renderer the report layout is made and tested for.

    Raises
    ------
    PdfUnavailable
        When no renderer (or not the requested one) is installed.

    Examples
    --------
    Not run with the tests: it needs WeasyPrint's system libraries, which a doctest cannot skip
    without, and takes seconds (tests/test_report_pdf.py prints PDFs, marked ``pdf``).

    >>> html_to_pdf("<h1>W13</h1>")[:5]  # doctest: +SKIP
    b'%PDF-'
    """
    available = available_renderers()
    if renderer is not None and renderer not in RENDERERS:
        raise PdfUnavailable(f"unknown PDF renderer {renderer!r}; expected one of {', '.join(RENDERERS)}")
    chosen = renderer or DEFAULT_RENDERER
    if chosen not in available:
        raise PdfUnavailable(f"{chosen} is not available on this server: install WeasyPrint "
                             "(pip install weasyprint; needs Pango); the HTML report works without it")
    if chosen == "weasyprint":
        return _weasyprint_pdf(html)
    return _chromium_pdf(html)


STATIC_DIR = (Path(__file__).resolve().parent / "static").resolve()


class RefusedResource(Exception):
    """A URL the PDF renderer does not fetch (anything but the service's own assets)."""


def own_asset(url: str) -> bool:
    """Whether the PDF renderer may fetch ``url``: an inline ``data:`` URL, or a file of
    ``maps/static`` (the service's own assets). Never ``http:``, ``https:``, or any other file.

    Examples
    --------
    >>> own_asset("data:image/png;base64,AAAA"), own_asset("file:///etc/passwd")
    (True, False)
    >>> own_asset("http://127.0.0.1:8000/api/v1/scenarios"), own_asset((STATIC_DIR / "leaflet.css").as_uri())
    (False, True)
    """
    from urllib.parse import unquote, urlsplit

    scheme = urlsplit(url).scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file":
        return False
    try:
        path = Path(unquote(urlsplit(url).path)).resolve()
    except (OSError, ValueError):
        return False
    return path.is_relative_to(STATIC_DIR)


# An inlined image: what the page carries so that it stays one file.
_DATA_IMAGE = re.compile(r'src="data:(image/(?:png|jpeg|gif|svg\+xml));base64,([A-Za-z0-9+/=]*)"')
_IMAGE_SCHEME = "regiomatch-image"
# The page's own style sheets: the ``<style>`` elements of its head (every page carries the same
# one, from base.html).
_HEAD_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def _fetcher(images: dict[str, tuple[str, str]]):
    """WeasyPrint's URL fetcher for one document: its inlined ``images`` by their stand-in URL,
    and otherwise only the service's own assets."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url in images:
                mime, data = images[url]
                return URLFetcherResponse(url, base64.b64decode(data), {"Content-Type": mime})
            if not own_asset(url):
                # WeasyPrint leaves the resource out and goes on: hostile text that ever reached the
                # HTML cannot read files or reach the network (or this service) through the PDF.
                raise RefusedResource(f"the PDF renderer fetches only regiomatch's own assets, not {url[:200]!r}")
            return super().fetch(url, headers)

    return Fetcher()


@functools.lru_cache(maxsize=8)
def _style_sheet(css: str):
    """The page's style sheet, parsed once per process (every page carries the same one): a
    document's own ``<style>`` is parsed anew each time, 4-6 % of a print. Handed to WeasyPrint as
    a user style sheet, which the cascade ranks as it ranked the page's own: above the
    renderer's defaults, below ``style`` attributes (``!important`` above them, as before)."""
    import weasyprint

    return weasyprint.CSS(string=css, url_fetcher=_fetcher({}))


_idle_font_configurations: list = []
_font_lock = threading.Lock()


@contextlib.contextmanager
def _font_configuration():
    """A WeasyPrint font configuration for one print, kept for the next one: a fresh one (what
    WeasyPrint makes by default) loads the fonts and their Pango caches again for every document.
    Each is used by one print at a time (Pango's font map is not shared between threads)."""
    from weasyprint.text.fonts import FontConfiguration

    with _font_lock:
        fonts = _idle_font_configurations.pop() if _idle_font_configurations else None
    try:
        fonts = fonts or FontConfiguration()
        yield fonts
    finally:
        if fonts is not None:
            with _font_lock:
                _idle_font_configurations.append(fonts)


def _weasyprint_pdf(html: str) -> bytes:
    """WeasyPrint's PDF of ``html``, with its inlined images handed over beside the page: the HTML
    parser then reads a few dozen kilobytes instead of the images' base64 (a sixth of a second).
    The style sheets of the page's head are parsed once per process (:func:`_style_sheet`)."""
    import weasyprint

    images: dict[str, tuple[str, str]] = {}
    url_of: dict[str, str] = {}  # the same image twice is one URL, so the PDF holds it once

    def set_aside(match: re.Match) -> str:
        url = url_of.setdefault(match.group(2), f"{_IMAGE_SCHEME}:{len(url_of)}")
        images[url] = (match.group(1), match.group(2))
        return f'src="{url}"'

    light = _DATA_IMAGE.sub(set_aside, html)
    head_end = light.find("</head>")
    sheets = [_style_sheet(m.group(1)) for m in _HEAD_STYLE.finditer(light, 0, max(head_end, 0))]
    if sheets:
        light = _HEAD_STYLE.sub("", light[:head_end]) + light[head_end:]
    with _cycles_collected_after(), _font_configuration() as fonts:
        return weasyprint.HTML(string=light, url_fetcher=_fetcher(images)).write_pdf(
            stylesheets=sheets, font_config=fonts)


_collection_paused = 0
_collection_lock = threading.Lock()


@contextlib.contextmanager
def _cycles_collected_after():
    """No cyclic garbage collection while WeasyPrint lays out a document: its boxes point at
    their parents, so each collection rescans tens of thousands of young objects, and in a server
    holding every layer's frames a PDF took a quarter longer (0.85 s against 0.63 s for W13's
    8 pages). Memory does not grow meanwhile (reference counting still frees everything else);
    the interpreter collects the document's cycles later, as usual. Nested or concurrent renders
    switch collection back on when the last one ends; if it was off already, it stays off."""
    global _collection_paused
    with _collection_lock:
        if _collection_paused == 0 and not gc.isenabled():
            paused_here = False
        else:
            paused_here = True
            _collection_paused += 1
            gc.disable()
    try:
        yield
    finally:
        if paused_here:
            with _collection_lock:
                _collection_paused -= 1
                if _collection_paused == 0:
                    gc.enable()


def _chromium_pdf(html: str) -> bytes:
    executable = chromium_path()
    with tempfile.TemporaryDirectory(prefix="regiomatch-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                   f"--print-to-pdf={out}", page.as_uri()]
        try:
            run = subprocess.run(command, capture_output=True, timeout=CHROMIUM_TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Chromium could not print the report to PDF: {exc}") from None
        if not out.exists() or out.stat().st_size == 0:
            tail = run.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PdfUnavailable(f"Chromium produced no PDF (exit {run.returncode}): {' | '.join(tail)}")
        return out.read_bytes()
