"""The browser assets every map needs (Leaflet and the small regiomatch loader), vendored in ``maps/static/``
so maps work offline.

A map either links them from the API (``served``: ``/maps/static/leaflet.js``, cached by the
browser) or carries them inline (``inline``: one self-contained HTML file, for the CLI and for
opening a saved map from disk). Folium's other defaults (jQuery, Bootstrap, Font Awesome,
awesome-markers) are not used by these maps and are dropped, so no CDN is ever contacted.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Literal

import folium
from branca.element import Element, Figure
from jinja2 import Template

from maps.static_files import STATIC_DIR, STATIC_URL

AssetMode = Literal["served", "inline"]
ASSET_MODES: tuple[str, ...] = ("served", "inline")


class RawHTML(Element):
    """HTML inserted verbatim (vendored code may contain ``{{`` that Jinja must not parse)."""

    _template = Template("{{ this.html }}")

    def __init__(self, html: str):
        super().__init__()
        self._name = "RawHTML"
        self.html = html


@lru_cache(maxsize=1)
def _inline_css() -> str:
    css = (STATIC_DIR / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        payload = base64.b64encode((STATIC_DIR / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    # The layer-control icon is a CSS background image; a data URI keeps the file self-contained.
    return re.sub(r"url\((images/[\w-]+\.png)\)", data_uri, css)


@lru_cache(maxsize=2)
def _inline_js(name: str = "leaflet.js") -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def use_assets(m: folium.Map, mode: AssetMode) -> None:
    """Point a map (and its figure) at the vendored Leaflet instead of folium's CDN links.

    Call before rendering; maps sharing a figure need it only once for inline mode but it is
    harmless to repeat.
    """
    if mode not in ASSET_MODES:
        raise ValueError(f"asset mode must be one of {ASSET_MODES}, got {mode!r}")
    if mode == "served":
        m.default_js = [("leaflet", f"{STATIC_URL}/leaflet.js"), ("regiomatch", f"{STATIC_URL}/regiomatch.js")]
        m.default_css = [("leaflet_css", f"{STATIC_URL}/leaflet.css")]
        return
    m.default_js = []
    m.default_css = []
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(RawHTML(f"<style>{_inline_css()}</style>"), name="leaflet_css")
    figure.header.add_child(RawHTML(f"<script>{_inline_js()}</script>"), name="leaflet")
    figure.header.add_child(RawHTML(f"<script>{_inline_js('regiomatch.js')}</script>"), name="regiomatch")
