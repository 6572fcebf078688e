r"""Downloads: one way to name a file in ``Content-Disposition`` (RFC 6266 with RFC 5987 encoding).

A file name is often built from user text (a zone code ``Q"; filename=evil.exe; x="``, a layer id
``scenario:abc``, ``Łódź€``). :func:`content_disposition` cleans it (no control characters, quotes,
separators or path parts), gives an ASCII ``filename=`` for old clients and the exact UTF-8 name in
``filename*=``; the header is always Latin-1 safe, one line, and one parameter per field.

Examples
--------
>>> content_disposition('Q"; filename=evil.exe; x=".pdf')
'attachment; filename="Q_filename_evil.exe_x_.pdf"; filename*=UTF-8\'\'Q_filename_evil.exe_x_.pdf'
>>> content_disposition("rapport_Łódź€.pdf", inline=True)
'inline; filename="rapport_odz_.pdf"; filename*=UTF-8\'\'rapport_%C5%81%C3%B3d%C5%BA%E2%82%AC.pdf'
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi.responses import Response

MAX_NAME = 150
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f"\\/:;*?<>|=,%\s]+')
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, default: str = "download") -> str:
    """``name`` without characters that a header or a file system could misread; never empty.

    Examples
    --------
    >>> safe_filename("../../etc/passwd"), safe_filename("overlay_scenario:ab12_provincie.csv")
    ('etc_passwd', 'overlay_scenario-ab12_provincie.csv')
    """
    name = unicodedata.normalize("NFC", str(name)).replace(":", "-")
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    name = _UNSAFE.sub("_", name).strip("._ ")
    name = re.sub(r"\.{2,}", ".", name)
    if len(name) > MAX_NAME:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:MAX_NAME - len(suffix) - 1] + dot + suffix) if dot and len(suffix) <= 8 else name[:MAX_NAME]
    return name or default


def _ascii_fallback(name: str) -> str:
    letters = (unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii") or "_" for ch in name)
    return re.sub("_{2,}", "_", _NOT_ASCII_SAFE.sub("_", "".join(letters))).strip("._") or "download"


def content_disposition(filename: str, inline: bool = False) -> str:
    """The ``Content-Disposition`` header value for a download named ``filename``."""
    name = safe_filename(filename)
    fallback = _ascii_fallback(name)
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download(content: bytes | str, filename: str, media_type: str, inline: bool = False) -> Response:
    """A response that a browser saves (or, ``inline``, shows) under ``filename``."""
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": content_disposition(filename, inline)})
