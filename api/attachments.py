"""The one call site that turns a document's bytes into a download response.

Every CSV, XLSX, GeoPackage and PDF the service hands out goes through :func:`attachment`, so the
file name and ``Content-Disposition`` are written one way (and can be hardened in one place).

Examples
--------
>>> attachment(b"a;b\\r\\n", CSV, "overlay_samenwerkingsverband_eerstelijnszone.csv").headers["content-disposition"]
'attachment; filename="overlay_samenwerkingsverband_eerstelijnszone.csv"'
"""

from __future__ import annotations

import re

from fastapi.responses import Response

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG = "application/geopackage+sqlite3"
PDF = "application/pdf"


def safe_filename(name: str) -> str:
    """A file name any office machine accepts: ``scenario:ab12`` -> ``scenario-ab12``.

    Examples
    --------
    >>> safe_filename('overlay_scenario:x/"y".csv')
    'overlay_scenario-x-y.csv'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name.replace('"', "")).strip("-") or "download"


def attachment(content: bytes, media_type: str, filename: str, inline: bool = False) -> Response:
    """``content`` as a download named ``filename`` (``inline`` opens it in the browser, e.g. a PDF)."""
    disposition = "inline" if inline else "attachment"
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{safe_filename(filename)}"'})
