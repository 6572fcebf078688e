"""The vendored browser files the API serves from ``maps/static/`` (Leaflet, the map loader, the
workbench, Swagger UI): a whitelist, so no path from a request touches the disk. Kept apart from
:mod:`maps.assets` so serving a file or the API docs does not import Folium.
"""

from __future__ import annotations

from pathlib import Path

from geo.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/maps/static"
# The only files the API serves from STATIC_DIR (a whitelist: no path from a request touches the disk).
STATIC_FILES: dict[str, str] = {
    "leaflet.js": "text/javascript; charset=utf-8",
    "leaflet.css": "text/css; charset=utf-8",
    "regiomatch.js": "text/javascript; charset=utf-8",
    "workbench.js": "text/javascript; charset=utf-8",
    "alternatives.js": "text/javascript; charset=utf-8",
    "suggest.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
    "images/layers.png": "image/png",
    "images/layers-2x.png": "image/png",
    "images/marker-icon.png": "image/png",
    "LICENSES.md": "text/markdown; charset=utf-8",
    # Swagger UI for /docs (api/routes/docs.py), also offline.
    "swagger/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger/swagger-ui.css": "text/css; charset=utf-8",
    "swagger/favicon-32x32.png": "image/png",
    "swagger/LICENSE": "text/plain; charset=utf-8",
    "swagger/NOTICE": "text/plain; charset=utf-8",
    "swagger/swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
}


def static_file(name: str) -> tuple[Path, str]:
    """Path and media type of a vendored asset; names outside the whitelist are refused.

    Examples
    --------
    >>> static_file("leaflet.css")[1]
    'text/css; charset=utf-8'
    """
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no map asset {name!r}; available: {', '.join(sorted(STATIC_FILES))}")
    return STATIC_DIR / name, media_type
