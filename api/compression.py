"""Compress a body once, not on every request: gzip for answers that carry an ``ETag``.

Every body with an ``ETag`` is named by its content (the render cache's bodies, the browser
geometry), so its gzip can be kept under that name: a 600 KB overlay JSON costs about 10 ms to
compress, every time, and nothing the second time. HTML, whose CSP nonce differs per response, is
compressed once per page around its nonces (:class:`NonceGzip`, used by
:class:`api.security.SecurityMiddleware`); other answers (streamed downloads, small pages) are
left to Starlette's ``GZipMiddleware`` outside this one.

The compressed representation gets its own strong ETag (``"<tag>-gz"``, RFC 9110 8.8.3: another
content coding is another representation, :func:`api.render_cache.gzip_etag`);
:class:`api.render_cache.NotModified` accepts either name in ``If-None-Match``.
"""

from __future__ import annotations

import gzip
import struct
import threading
import zlib
from collections import OrderedDict

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
# HTML carries a fresh CSP nonce per response: it has no ETag to keep a gzip under (NonceGzip
# compresses it around the nonce).
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
        if scope["type"] != "http" or scope["method"] != "GET" or not accepts_gzip(scope):
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


def accepts_gzip(scope: Scope) -> bool:
    """Whether ``Accept-Encoding`` names gzip with a quality above 0.

    Examples
    --------
    >>> [accepts_gzip({"headers": [(b"accept-encoding", v)]}) for v in (b"gzip, br", b"br", b"gzip;q=0")]
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


class NonceGzip:
    """gzip of an HTML body whose CSP nonce differs per response, compressed once per body.

    A page is cached with :data:`maps.csp.NONCE_PLACEHOLDER` where each response has its own
    nonce (:class:`api.security.SecurityMiddleware`). The parts between the placeholders are
    deflated once, each on its own and ended on a byte boundary (a sync flush), and kept; a
    response is those parts with its nonce between them as stored (uncompressed) deflate blocks,
    one gzip stream whose checksum is the only pass over the whole body (a CRC-32, about a
    millisecond for 700 KB, against 15-30 ms to gzip the page again). A body is known by
    identity: the render cache sends the same ``bytes`` object for every answer of a page, and
    the kept parts hold it, so its ``id`` cannot be reused while they are kept.

    Examples
    --------
    >>> spliced = NonceGzip()
    >>> page = b"<script nonce='@@'>go()</script>" + b"<p>tekst</p>" * 200
    >>> packed = spliced.compress(page, b"@@", b"abc123")
    >>> gzip.decompress(packed) == page.replace(b"@@", b"abc123")
    True
    >>> spliced.compress(page, b"@@", b"xyz789") != packed, len(spliced)  # kept: compressed once
    (True, 1)
    """

    def __init__(self, max_bytes: int = 16 * 1024 * 1024, level: int = 6):
        self.max_bytes = max_bytes
        self.level = level
        self.bytes = 0
        self._entries: OrderedDict[int, tuple[bytes, list[memoryview], list[bytes], int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def compress(self, body: bytes, placeholder: bytes, nonce: bytes) -> bytes:
        """``body`` with every ``placeholder`` replaced by ``nonce``, gzipped."""
        parts, packed = self._parts(body, placeholder)
        stored = b"\x00" + struct.pack("<HH", len(nonce), len(nonce) ^ 0xFFFF) + nonce  # one stored block
        crc = zlib.crc32(parts[0])
        out = [_GZIP_HEADER, packed[0]]
        for part, deflated in zip(parts[1:], packed[1:]):
            crc = zlib.crc32(part, zlib.crc32(nonce, crc))
            out += [stored, deflated]
        size = len(body) + (len(parts) - 1) * (len(nonce) - len(placeholder))
        out += [_FINAL_BLOCK, struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)]
        return b"".join(out)

    def _parts(self, body: bytes, placeholder: bytes) -> tuple[list[memoryview], list[bytes]]:
        with self._lock:
            kept = self._entries.get(id(body))
            if kept is not None and kept[0] is body:
                self._entries.move_to_end(id(body))
                return kept[1], kept[2]
        view = memoryview(body)
        parts, start = [], 0
        while (found := body.find(placeholder, start)) >= 0:
            parts.append(view[start:found])
            start = found + len(placeholder)
        parts.append(view[start:])
        packed = []
        for part in parts:
            deflate = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
            packed.append(deflate.compress(part) + deflate.flush(zlib.Z_SYNC_FLUSH))
        size = sum(map(len, packed))
        if size <= self.max_bytes:
            with self._lock:
                old = self._entries.pop(id(body), None)
                if old is not None:
                    self.bytes -= old[3]
                self._entries[id(body)] = (body, parts, packed, size + len(body))
                self.bytes += size + len(body)
                while self.bytes > self.max_bytes:
                    _, dropped = self._entries.popitem(last=False)
                    self.bytes -= dropped[3]
        return parts, packed


# A gzip member's header (no file name, no time, unknown system) and the deflate stream's last,
# empty, block (fixed Huffman codes: BFINAL=1, BTYPE=01, end of block).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_FINAL_BLOCK = b"\x03\x00"
