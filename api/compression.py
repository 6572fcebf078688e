"""Compress a body once, not on every request: gzip for answers that carry an ``ETag``.

Every body with an ``ETag`` is named by its content (the render cache's bodies, the browser
geometry), so its gzip can be kept under that name: a 600 KB overlay JSON costs about 10 ms to
compress, every time, and nothing the second time. Other answers (HTML, whose CSP nonce differs
per response, and streamed downloads) are left to Starlette's ``GZipMiddleware`` outside this one.

The compressed representation gets its own strong ETag (``"<tag>-gz"``, RFC 9110 8.8.3: another
content coding is another representation, :func:`api.render_cache.gzip_etag`);
:class:`api.render_cache.NotModified` accepts either name in ``If-None-Match``.
"""

from __future__ import annotations

import gzip

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.render_cache import Entry, RenderCache, gzip_etag
from maps.exports import XLSX

MIN_BYTES = 1024
# Bodies above this size are compressed at zlib level 1 instead of 6: a 4 MB overlay of an
# imported 10,000-square grid takes 19 ms instead of 53 ms for 24 % more bytes, once per ETag.
FAST_LEVEL_BYTES = 1024 * 1024
# Already compressed: never gzipped, by this middleware or by Starlette's GZipMiddleware (which
# api.main gives the same list). Media types as Starlette matches them: exact, or "type/*". PDF
# streams are deflated by the PDF writer; an .xlsx is a zip. (A GeoPackage is an SQLite file and
# shrinks to about half: it is compressed.)
INCOMPRESSIBLE_TYPES = ("image/*", "application/pdf", "application/zip", "application/gzip", "application/x-gzip",
                        XLSX)
# HTML carries a fresh CSP nonce per response: it has no ETag to keep a gzip under, and is left
# to GZipMiddleware.
_SKIPPED_HERE = frozenset((*INCOMPRESSIBLE_TYPES, "text/html"))


class GzipOnce:
    """ASGI middleware: a one-message answer with an ``ETag`` to a client that accepts gzip goes
    out gzipped, compressed once per ETag. Place it inside ``GZipMiddleware`` (which then leaves
    the answer alone, as it is encoded) and outside :class:`~api.render_cache.NotModified`."""

    def __init__(self, app: ASGIApp, max_bytes: int = 32 * 1024 * 1024):
        self.app = app
        # Gzip bodies by ETag, least recently used out first, bounded by compressed bytes.
        self.store = RenderCache(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def once(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                names = {k.lower(): v for k, v in headers}
                content_type = names.get(b"content-type", b"").decode("latin-1")
                if (message["status"] == 200 and b"etag" in names and b"content-encoding" not in names
                        and _media_types(content_type).isdisjoint(_SKIPPED_HERE)):
                    start = message  # held until the body shows whether it is one message
                    return
                await send(message)
                return
            if start is not None and message["type"] == "http.response.body":
                held, start = start, None
                body = message.get("body", b"")
                if message.get("more_body", False) or len(body) < MIN_BYTES:
                    await send(held)
                    await send(message)
                    return
                etag = next(v for k, v in held["headers"] if k.lower() == b"etag").decode("latin-1")
                packed = self._compressed(etag, body)
                vary = [v for k, v in held["headers"] if k.lower() == b"vary"]
                headers = [(k, v) for k, v in held["headers"]
                           if k.lower() not in (b"content-length", b"etag", b"vary")]
                headers += [(b"content-encoding", b"gzip"), (b"vary", b", ".join([*vary, b"Accept-Encoding"])),
                            (b"etag", gzip_etag(etag).encode("latin-1")),
                            (b"content-length", str(len(packed)).encode())]
                await send({**held, "headers": headers})
                await send({"type": "http.response.body", "body": packed})
                return
            await send(message)

        await self.app(scope, receive, once)


    def _compressed(self, etag: str, body: bytes) -> bytes:
        entry = self.store.get((etag,))
        if entry is None:
            level = 1 if len(body) > FAST_LEVEL_BYTES else 6
            entry = Entry(gzip.compress(body, compresslevel=level, mtime=0), (), None)
            self.store.put((etag,), entry)
        return entry.body


def _media_types(content_type: str) -> set[str]:
    """The names a ``Content-Type`` goes by in a list of media types: itself and ``type/*``.

    Examples
    --------
    >>> sorted(_media_types("image/png")), sorted(_media_types("Application/PDF; q=1"))
    (['image/*', 'image/png'], ['application/*', 'application/pdf'])
    """
    media_type = content_type.partition(";")[0].strip().lower()
    return {media_type, media_type.partition("/")[0] + "/*"}


def _accepts_gzip(scope: Scope) -> bool:
    """Whether ``Accept-Encoding`` names gzip with a quality above 0.

    Examples
    --------
    >>> [_accepts_gzip({"headers": [(b"accept-encoding", v)]}) for v in (b"gzip, br", b"br", b"gzip;q=0")]
    [True, False, False]
    """
    for key, value in scope.get("headers") or []:
        if key != b"accept-encoding":
            continue
        for part in value.decode("latin-1").lower().split(","):
            name, _, params = part.partition(";")
            if name.strip() != "gzip":
                continue
            quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False
