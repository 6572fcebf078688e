"""Rendered pages, maps, PDFs and JSON bodies cached in memory, per process, by what they depend on.

A cached response is keyed by its route, its parameters, the population year and the version
of every layer it shows: a shipped layer never changes while the process runs; an imported
layer's version is its ``created_at`` (replacing it creates a new one); a scenario's version is
its own ``version`` together with the versions of its whole chain of bases (a scenario on a
scenario changes when the base scenario changes). Pages that list every layer and scenario
(the landing page, a municipality's profile) depend on all of their versions. Computing the key
costs one or two indexed reads of the database, so every worker process sees the database's
truth: a saved change to a scenario makes exactly the pages that show it miss.

The cache is bounded by bytes (least recently used out first; ``REGIOMATCH_RENDER_CACHE_BYTES``,
0 turns it off). HTML is cached with the CSP nonce placeholder (see :mod:`maps.csp`), never a
response's nonce: the HTTP layer applies the nonce on the way out. Non-HTML bodies (PDF, JSON,
CSV) get an ``ETag``, answered with 304 by :class:`NotModified`; HTML does not, as a browser's
cached copy carries an old nonce.

Examples
--------
>>> from fastapi import APIRouter, Depends
>>> from fastapi.responses import HTMLResponse
>>> from api.deps import get_workspace
>>> from geo.storage.workspace import Workspace
>>> router = APIRouter()
>>> @router.get("/maps/overlay")
... @cached(lambda p: [p["a"], p["b"]])
... def get_overlay_map(a: str, b: str, ws: Workspace = Depends(get_workspace)) -> HTMLResponse: ...
>>> [route.path for route in router.routes]
['/maps/overlay']
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.activity import requests
from api.settings import YEAR_COOKIE
from geo.errors import RegiomatchError

RENDER_WAIT_SECONDS = 60.0  # longest a request waits for the same render under way elsewhere
ALL_LAYERS = "*"  # a page listing every layer and scenario depends on all of their versions
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_SKIPPED_HEADERS = {"content-length", "set-cookie", "etag"}


@dataclass(frozen=True)
class Entry:
    """One cached response: its body and the headers to send it with (no length, no cookie)."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str | None

    def response(self) -> Response:
        headers = dict(self.headers)
        if self.etag:
            headers["ETag"] = self.etag
        return Response(self.body, headers=headers)


class RenderCache:
    """A least-recently-used map from keys to :class:`Entry`, bounded by the bytes of the bodies.

    Examples
    --------
    >>> cache = RenderCache(max_bytes=10)
    >>> cache.put(("a",), Entry(b"12345678", (), None))
    >>> cache.put(("b",), Entry(b"1234", (), None))  # over 10 bytes: ("a",) goes
    >>> cache.get(("a",)) is None, cache.get(("b",)).body
    (True, b'1234')
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[tuple, threading.Event] = {}

    def begin(self, key: tuple) -> threading.Event | None:
        """Claim the render of ``key``: None when the caller renders it (and then calls
        :meth:`end`), else the event of the render already under way, to wait for. A page's PDF
        asked for while it is being printed in the background waits for that print."""
        with self._lock:
            under_way = self._rendering.get(key)
            if under_way is None:
                self._rendering[key] = threading.Event()
            return under_way

    def end(self, key: tuple) -> None:
        with self._lock:
            done = self._rendering.pop(key, None)
        if done is not None:
            done.set()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple, count_miss: bool = True) -> Entry | None:
        """The entry of ``key`` or None; ``count_miss=False`` for a first look that is followed by
        the counted one (a miss is then counted once)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += count_miss
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        size = len(entry.body)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= len(old.body)
            self._entries[key] = entry
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= len(dropped.body)

    def peek(self, key: tuple) -> bool:
        """Whether ``key`` is cached (counts as neither a hit nor a miss)."""
        with self._lock:
            return key in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0


_caches: "weakref.WeakKeyDictionary[Any, RenderCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(ws: Any) -> RenderCache | None:
    """The cache of this workspace (one per database and data directory), or None when turned off."""
    from api.settings import current_settings

    max_bytes = current_settings().caches.render_cache_bytes
    if max_bytes <= 0:
        return None
    with _caches_lock:
        cache = _caches.get(ws)
        if cache is None or cache.max_bytes != max_bytes:
            cache = _caches[ws] = RenderCache(max_bytes)
        return cache


def all_versions(ws: Any) -> tuple:
    """Versions of every imported layer and saved scenario (shipped layers never change)."""
    layers = tuple((i, v.isoformat()) for i, v in ws.store.layer_versions().items())
    return layers, tuple(ws.store.scenario_versions().items())


def dependency_key(ws: Any, layer_ids: Iterable[str] | str) -> tuple:
    """The population year and the versions of the layers a response shows
    (``Workspace.version_key``: a scenario's includes its chain of bases)."""
    year = ws.catalog.atoms.population_year
    if layer_ids == ALL_LAYERS:
        return (year, ALL_LAYERS, all_versions(ws))
    return (year, *(ws.version_key(i) for i in dict.fromkeys(layer_ids)))


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if _is_parameter_group(value):
        return (type(value).__qualname__, tuple(_freeze(getattr(value, f.name)) for f in dataclasses.fields(value)))
    return value


def _is_parameter_group(value: Any) -> bool:
    """A frozen dataclass of query parameters (such as :class:`api.deps.LayerPair`): part of the key."""
    return (dataclasses.is_dataclass(value) and not isinstance(value, type)
            and type(value).__dataclass_params__.frozen)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


GZIP_SUFFIX = "-gz"


def gzip_etag(etag: str) -> str:
    """The ETag of the gzip representation of the body tagged ``etag`` (:mod:`api.compression`):
    another content coding is another representation (RFC 9110 8.8.3).

    Examples
    --------
    >>> gzip_etag('"abc"'), gzip_etag('W/"abc"')
    ('"abc-gz"', 'W/"abc-gz"')
    """
    return etag[:-1] + GZIP_SUFFIX + '"' if etag.endswith('"') else etag + GZIP_SUFFIX


def identity_etag(etag: str) -> str:
    """The ETag a tag of either representation names (for ``If-None-Match``).

    Examples
    --------
    >>> identity_etag('"abc-gz"'), identity_etag('"abc"')
    ('"abc"', '"abc"')
    """
    return etag[: -len(GZIP_SUFFIX) - 1] + '"' if etag.endswith(GZIP_SUFFIX + '"') else etag


def cached(layers: Callable[[dict], Iterable[str] | str],
           busy: Callable[[], contextlib.AbstractContextManager] | None = None,
           then: Callable[[dict], dict | None] | None = None,
           extra: Callable[[Any], tuple] | None = None) -> Callable:
    """Decorate a synchronous route that takes ``ws: Workspace`` and returns a ``Response`` (or a
    JSON-ready dict or list, answered as FastAPI would: ``JSONResponse(jsonable_encoder(...))``).

    The decorated route is asynchronous: an answer already cached for shipped layers only (whose
    key needs no database read) is sent from the event loop, without a hop to the thread pool;
    anything else (a render, a key that reads the versions of imported layers or scenarios) runs
    in the thread pool as a synchronous route does. ``route.sync`` is the synchronous route
    (for callers outside a request, such as the warm-up).

    ``layers`` gets the route's keyword arguments and names the layer ids the response shows
    (or :data:`ALL_LAYERS`). Only 200 responses are kept. When a layer is unknown the route runs
    uncached and answers as it always did (its own validation first, then the 404).

    ``busy`` (an :func:`api.limits.slot`) is held only while the route renders: a cached answer
    costs a dictionary lookup and is never refused for lack of a slot.

    ``then`` names, from a rendered request's keyword arguments, the request a user usually makes
    next (a report's PDF after its page): it is rendered in the background and kept, when a slot
    is free and few such renders wait (:data:`MAX_WAITING_PREFETCHES`), so it opens at once.

    ``extra`` gets the workspace and names anything else the response shows that can change
    (e.g. the latest finished ensemble a report includes); it is part of the key.
    """

    def decorate(func: Callable) -> Callable:
        def render(*args: Any, **kwargs: Any) -> Any:
            with busy() if busy is not None else contextlib.nullcontext():
                return func(*args, **kwargs)

        def key_of(kwargs: dict) -> tuple:
            params = tuple(sorted((k, _freeze(v)) for k, v in kwargs.items()
                                  if k != "ws" and (v is None or isinstance(v, (str, int, float, list, tuple))
                                                    or _is_parameter_group(v))))
            # One function may serve several paths (a map page and its .png): the path is part of the key.
            request = kwargs.get("request")
            path = request.url.path if request is not None else None
            more = extra(kwargs["ws"]) if extra is not None else ()
            return (func.__module__, func.__qualname__, path, params, dependency_key(kwargs["ws"], layers(kwargs)),
                    more)

        def prefetch(cache: RenderCache, kwargs: dict) -> None:
            try:
                key = key_of(kwargs)
            except Exception:  # noqa: BLE001 - a guess that fails (unknown) is simply not rendered
                return
            if cache.peek(key) or cache.begin(key) is not None:
                return
            try:
                entry = _entry(_as_response(render(**kwargs)))
                if entry is not None:
                    cache.put(key, entry)
            except Exception:  # noqa: BLE001 - a guess that fails (busy, no renderer) is simply not kept
                return
            finally:
                cache.end(key)

        def shipped_only(ws: Any, kwargs: dict) -> bool:
            """Whether the answer shows shipped layers only and nothing else that can change
            (``extra``): its key then never changes while the process runs, so the raw request may
            name it (:class:`CachedAnswers`) and it is found without reading the database."""
            if extra is not None:
                return False
            ids = layers(kwargs)
            return ids != ALL_LAYERS and all(i in ws.catalog.builtin for i in ids)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ws = kwargs["ws"]
            cache = cache_for(ws)
            if cache is None:
                return render(*args, **kwargs)
            try:
                key = key_of(kwargs)
            except RegiomatchError:
                # An unknown layer or scenario: the route answers it, with its own checks first
                # (e.g. too many layers is a 422 before any of them is looked up).
                return render(*args, **kwargs)
            entry = cache.get(key)
            if entry is not None:
                _remember_request(cache, entry, shipped_only(ws, kwargs))
                return entry.response()
            under_way = cache.begin(key)
            if under_way is not None:  # rendered right now (a PDF printed ahead): wait for it
                under_way.wait(RENDER_WAIT_SECONDS)
                entry = cache.get(key)
                if entry is not None:
                    return entry.response()
                response = _as_response(render(*args, **kwargs))  # that render failed or was too slow
            else:
                try:
                    response = _as_response(render(*args, **kwargs))
                    entry = _entry(response)
                    if entry is not None:
                        cache.put(key, entry)
                finally:
                    cache.end(key)
            entry = _entry(response)
            if entry is None:
                return response
            cache.put(key, entry)
            _remember_request(cache, entry, shipped_only(ws, kwargs))
            following = then(kwargs) if then is not None else None
            if following is not None:
                _submit(prefetch, cache, following)
            return entry.response()

        @functools.wraps(func)
        async def answer(*args: Any, **kwargs: Any) -> Any:
            ws = kwargs["ws"]
            cache = cache_for(ws)
            if cache is not None:
                try:
                    shipped = shipped_only(ws, kwargs)
                    entry = cache.get(key_of(kwargs), count_miss=False) if shipped else None
                except (RegiomatchError, TypeError, KeyError):
                    entry = None  # the route answers it (its own checks), in the thread pool
                if entry is not None:
                    _remember_request(cache, entry, shipped)
                    return entry.response()
            return await run_in_threadpool(wrapper, *args, **kwargs)

        answer.sync = wrapper  # type: ignore[attr-defined]
        return answer

    return decorate


# The raw request (path and query string) being answered, set by :class:`CachedAnswers`.
_raw_request: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("regiomatch_raw_request", default=None)


def _remember_request(cache: RenderCache, entry: Entry, shipped: bool) -> None:
    """Let the raw request name ``entry`` too, when its answer shows only shipped layers (it can
    never change while the process runs): :class:`CachedAnswers` then sends it without routing."""
    raw = _raw_request.get()
    if shipped and raw is not None:
        cache.put(raw, entry)


class CachedAnswers:
    """ASGI middleware: a GET whose exact path and query string were answered from a cached
    render of shipped layers only (:func:`cached`) is answered with that entry again, without
    routing, parameter parsing and dependencies (most of a cached answer's time in FastAPI).

    Innermost: every other middleware (headers, CSP, gzip once per ETag, 304, the warm-up's
    request count) treats the answer exactly as the route's. An answer that depends on imported
    layers or scenarios (whose versions the route's key reads from the database) is never kept
    here; a query string written another way is only a miss.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        from api.deps import app_workspace

        cache = cache_for(app_workspace(scope["app"]))
        if cache is None:
            await self.app(scope, receive, send)
            return
        if any(name == b"cookie" and YEAR_COOKIE_BYTES in value for name, value in scope.get("headers", ())):
            # A population year chosen on the pages: the answer is that year's, not the one kept
            # under this path for the configured year.
            await self.app(scope, receive, send)
            return
        raw = (_RAW, scope["path"], scope.get("query_string", b""))
        entry = cache.get(raw, count_miss=False)
        if entry is not None:
            await entry.response()(scope, receive, send)
            return
        token = _raw_request.set(raw)
        try:
            await self.app(scope, receive, send)
        finally:
            _raw_request.reset(token)


_RAW = "raw request"
# The first item of the keys of raw requests (a route's key starts with its module).
YEAR_COOKIE_BYTES = (YEAR_COOKIE + "=").encode()


def _as_response(result: Any) -> Any:
    """A route's dict or list as the JSON response FastAPI would make of it; anything else as is."""
    if isinstance(result, (dict, list)):
        from fastapi.encoders import jsonable_encoder
        from fastapi.responses import JSONResponse

        return JSONResponse(jsonable_encoder(result))
    return result


# Background renders of the likely next request: one at a time, once no request is being
# answered, a few waiting, the rest dropped.
MAX_WAITING_PREFETCHES = 4
_prefetcher: Any = None
_prefetch_lock = threading.Lock()
_waiting = 0


def _submit(job: Callable, *args: Any) -> bool:
    """Run ``job(*args)`` on the one prefetch thread; False (dropped) when too many wait."""
    global _prefetcher, _waiting
    from concurrent.futures import ThreadPoolExecutor

    with _prefetch_lock:
        if _waiting >= MAX_WAITING_PREFETCHES:
            return False
        if _prefetcher is None:
            _prefetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regiomatch-prefetch")
        _waiting += 1

    def run() -> None:
        global _waiting
        try:
            # Not beside a request: a report's page is still being sent (compressed, 700 KB)
            # when its PDF is queued. Waited for before the render is claimed, so a request for
            # this very answer never waits on a render that waits on it.
            requests.wait_until_idle()
            job(*args)
        finally:
            with _prefetch_lock:
                _waiting -= 1

    _prefetcher.submit(run)
    return True


def render_ahead(route: Callable, **kwargs: Any) -> bool:
    """Call the synchronous cached ``route`` (``route.sync`` of a :func:`cached` route) with
    ``kwargs`` on the prefetch thread, so the request a user makes next (a page's PDF) finds its
    answer cached; False when too many such renders wait already (it is then rendered when asked).

    Examples
    --------
    >>> render_ahead(compare_pdf.sync, base="eerstelijnszone", other="scenario:ab12",  # doctest: +SKIP
    ...              against=[], ws=ws)
    True
    """
    if "ws" in kwargs and cache_for(kwargs["ws"]) is None:
        return False  # nothing would keep it

    def job() -> None:
        try:
            route(**kwargs)
        except Exception:  # noqa: BLE001 - a guess that fails (busy, no renderer) is rendered when asked for
            return

    return _submit(job)


def prefetches_done(timeout: float = 60.0) -> bool:
    """Wait until no background render waits or runs (tests, benchmarks); False on timeout."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _prefetch_lock:
            if _waiting == 0:
                return True
        time.sleep(0.02)
    return False


def _entry(response: Any) -> Entry | None:
    """A cacheable copy of a finished 200 response (not a streaming one, not one setting a cookie)."""
    if not isinstance(response, Response) or response.status_code != 200 or not isinstance(response.body, bytes):
        return None
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers
                    if k.decode("latin-1").lower() not in _SKIPPED_HEADERS)
    if any(k.lower() == "set-cookie" for k, _ in response.raw_headers):
        return None
    html = (response.media_type or "").startswith("text/html")
    return Entry(response.body, headers, None if html else etag_of(response.body))


class NotModified:
    """ASGI middleware: a GET whose ``If-None-Match`` names the 200 response's ``ETag`` gets a
    bodiless 304 with the same headers (the body is not sent; streaming is not buffered)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        wanted = next((v for k, v in scope.get("headers") or [] if k == b"if-none-match"), None)
        if wanted is None:
            await self.app(scope, receive, send)
            return
        # A tag of the gzip representation (api.compression) names the same content.
        tags = {identity_etag(t.strip().removeprefix("W/")) for t in wanted.decode("latin-1").split(",")}
        skipping = False

        async def conditional_send(message: Message) -> None:
            nonlocal skipping
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = message.get("headers") or []
                etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
                if etag is not None and (etag in tags or "*" in tags):
                    skipping = True
                    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            if skipping:
                return
            await send(message)

        await self.app(scope, receive, conditional_send)
