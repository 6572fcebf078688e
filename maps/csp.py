r"""Content-Security-Policy nonces for the HTML that regiomatch renders itself.

Trusted HTML (Jinja templates, Folium output built from escaped text) marks each of its own
``<script>`` tags with :data:`NONCE_PLACEHOLDER`. The HTTP layer replaces the placeholder with a
fresh random nonce on every response and names that nonce in the ``Content-Security-Policy``
header, so cached pages stay cacheable and a script that user text might smuggle in has no nonce.
The placeholder is random per process, so it cannot be guessed and typed into a layer name.

Examples
--------
>>> html = mark_scripts('<script src="/static/leaflet.js"></script>\n  <script>go()</script>')
>>> html.count(NONCE_PLACEHOLDER)
2
>>> mark_scripts('var tip = "<script>evil()</script>";').count(NONCE_PLACEHOLDER)
0
>>> apply_nonce(html, "abc").count('nonce="abc"')
2
"""

from __future__ import annotations

import re
import secrets

NONCE_PLACEHOLDER = "rm-nonce-" + secrets.token_hex(16)
# Only a ``<script`` that begins its line: generated HTML (Folium, Swagger UI) writes each of its
# own tags that way, while user text that slipped into a JSON or JavaScript string cannot start a
# line (the encoder escapes newlines), so it is never given the nonce.
_SCRIPT_OPEN = re.compile(r"^([ \t]*)<script(?![^>]*\bnonce=)(?=[\s>])", re.IGNORECASE | re.MULTILINE)


def nonce_attribute() -> str:
    """The attribute to write into a trusted template's ``<script>`` tag."""
    return f'nonce="{NONCE_PLACEHOLDER}"'


def mark_scripts(html: str) -> str:
    """Give every ``<script>`` tag of trusted, generated HTML (e.g. Folium's) the placeholder nonce."""
    return _SCRIPT_OPEN.sub(lambda m: f"{m.group(1)}<script {nonce_attribute()}", html)


def apply_nonce(html: str, nonce: str) -> str:
    """Replace the placeholder with this response's nonce (done by the HTTP layer)."""
    return html.replace(NONCE_PLACEHOLDER, nonce)
