"""What the server refuses before a route runs: request bodies over the configured size (413) or
slower than the body deadline (408), and everything when it listens beyond loopback without a
token (503); and the bounds on work per request (heavy-route slots, upload slots per client,
snapped output parameters)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("regiomatch.api")


class BodySizeLimit:
    """ASGI middleware: 413 when Content-Length or the streamed body exceeds ``max_bytes``, and
    408 (connection closed) when the body does not arrive within ``body_seconds``
    (``REGIOMATCH_BODY_SECONDS``): a client trickling a body holds no upload slot or worker for long.

    A chunked body (no Content-Length) is counted as it streams; when it runs over, the route's
    body parser fails, and whatever error response the app makes of that is replaced by the 413
    (or the 408).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, body_seconds: float | None = None):
        self.app = app
        self.limit = max_bytes
        # Multipart framing adds a little around the file itself.
        self.max_bytes = max_bytes + 64 * 1024
        self.body_seconds = body_seconds

    def _seconds(self) -> float:
        if self.body_seconds is None:
            from api.settings import current_settings

            self.body_seconds = float(current_settings().body_seconds)
        return self.body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.limit)
            return
        received = 0
        failure: str | None = None  # "large" or "slow"
        sent_response = False
        body_done = False
        deadline: float | None = None
        seconds = self._seconds()

        async def limited_receive() -> Message:
            nonlocal received, failure, body_done, deadline
            if body_done:
                return await receive()  # the body is in; waiting for a disconnect is not slowness
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + seconds
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                failure = "slow"
                raise _BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    failure = "large"
                    raise _BodyTooLarge()
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def refuse() -> None:
            if failure == "slow":
                await _too_slow(send, seconds)
            else:
                await _too_large(send, self.limit)

        async def tracking_send(message: Message) -> None:
            nonlocal sent_response
            if failure is not None:
                # The app made its own error (a 400 'error parsing the body') of the cut-off body.
                if message["type"] == "http.response.start" and not sent_response:
                    sent_response = True
                    await refuse()
                return
            if message["type"] == "http.response.start":
                sent_response = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (_BodyTooLarge, _BodyTooSlow):
            if not sent_response:
                await refuse()


class _BodyTooLarge(Exception):
    pass


class _BodyTooSlow(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    await _json(send, 413, f"request body larger than the limit of {limit} bytes (REGIOMATCH_MAX_UPLOAD_BYTES)",
                "too_large")


async def _too_slow(send: Send, seconds: float) -> None:
    await _json(send, 408, f"the request body did not arrive within {seconds:g} s (REGIOMATCH_BODY_SECONDS); "
                "the connection is closed", "too_slow", close=True)


async def _json(send: Send, status: int, detail: str, code: str, close: bool = False) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ExposureGuard:
    """ASGI middleware: answer 503 to everything if this process listens beyond loopback without
    ``REGIOMATCH_API_TOKEN``.

    The startup check (``api.settings.refuse_exposure_at_startup``) catches ``--host`` and sockets
    bound before the app starts; a single uvicorn process started from Python code binds only
    after startup, so the sockets are checked again when the first request arrives (it cannot
    arrive before the bind), before anything is served.
    """

    def __init__(self, app: ASGIApp):
        self.app = app
        self.exposed: list[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.exposed is None:
                from api.settings import current_settings, exposed_hosts, listening_hosts

                self.exposed = exposed_hosts(current_settings(), listening_hosts())
                if self.exposed:
                    log.error("listening on %s without REGIOMATCH_API_TOKEN: refusing every request",
                              ", ".join(self.exposed))
            if self.exposed:
                await _json(send, 503, f"this server listens on {', '.join(self.exposed)} without "
                                       "REGIOMATCH_API_TOKEN; it refuses to serve until a token is set",
                            "exposed_without_token")
                return
        await self.app(scope, receive, send)


# -- bounded work per request ---------------------------------------------------------------------
# The simplification tolerances (metres) a GeoJSON answer is made with: any other value is snapped
# to the nearest of these, so a client cannot miss the cache on purpose (?simplify=0.001xxx with a
# new value each time cost 1.5-7 s per request).
SIMPLIFY_STEPS = (0.0, 10.0, 25.0, 50.0, 100.0, 150.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)


def snapped(value: float, steps: tuple[float, ...] = SIMPLIFY_STEPS) -> float:
    """The allowed value nearest to ``value`` (the smaller one on a tie).

    Examples
    --------
    >>> snapped(0.001), snapped(49.9), snapped(150.0), snapped(4000)
    (0.0, 50.0, 150.0, 5000.0)
    """
    return min(steps, key=lambda step: (abs(step - value), step))


def _simplify_dependency():  # noqa: ANN202
    from fastapi import Query

    from geo.geometry.polygons import DEFAULT_SIMPLIFY_METRES, MAX_SIMPLIFY_METRES

    def simplify_metres(simplify: float = Query(DEFAULT_SIMPLIFY_METRES, ge=0, le=MAX_SIMPLIFY_METRES,
                                                description="Douglas-Peucker tolerance in metres (EPSG:31370), "
                                                "snapped to one of " + ", ".join(f"{s:g}" for s in SIMPLIFY_STEPS))
                        ) -> float:
        return snapped(simplify)

    return simplify_metres


simplify_metres = _simplify_dependency()

def unique_list(values: list | None, name: str, limit: int) -> list:
    """``values`` without repeats (first occurrence kept); more than ``limit`` distinct is a 422.

    Examples
    --------
    >>> unique_list(["provincie"] * 1000, "nest_in", 10)
    ['provincie']
    """
    from geo.errors import InvalidInput

    distinct = list(dict.fromkeys(values or []))
    if len(distinct) > limit:
        raise InvalidInput(f"{name}: at most {limit} different values, got {len(distinct)}")
    return distinct


_slot_lock = threading.Lock()
_slots: dict[str, threading.BoundedSemaphore] = {}


def slot(kind: str, message: str) -> Callable[[], contextlib.AbstractContextManager]:
    """A context manager factory: at most ``max_parallel_<kind>`` holders at once in this process;
    one more raises ``Busy`` (503 ``busy`` with ``Retry-After: 5``) with ``message``, so a flood of
    heavy requests cannot take every worker thread from ``/health`` and light reads.

    The render cache (:func:`api.render_cache.cached`) holds a slot only while it renders, so an
    answer it already has is never refused. ``message`` may use ``{limit}``.

    Examples
    --------
    >>> maps_slot = slot("maps", "Er worden al {limit} kaarten getekend; probeer het zo dadelijk opnieuw.")
    >>> with maps_slot():
    ...     print("rendering")
    rendering
    """
    from api.settings import current_settings
    from geo.errors import Busy

    @contextlib.contextmanager
    def held():
        limit = int(getattr(current_settings().caches, f"max_parallel_{kind}"))
        with _slot_lock:
            semaphore = _slots.get(f"{kind}:{limit}")
            if semaphore is None:
                semaphore = _slots[f"{kind}:{limit}"] = threading.BoundedSemaphore(limit)
        if not semaphore.acquire(blocking=False):
            raise Busy(message.format(limit=limit))
        try:
            yield
        finally:
            semaphore.release()

    return held


def heavy(kind: str, message: str):
    """:func:`slot` as a FastAPI dependency, for a heavy route that is not cached."""
    held = slot(kind, message)

    def dependency():
        with held():
            yield

    return dependency


class WaitingSlots:
    """At most ``limit`` holders at once; others wait on the event loop (holding no worker
    thread) up to ``timeout`` seconds, and at most ``max_waiting`` of them; beyond that a 503.

    One client (``client``: its address) holds at most ``per_client`` slots at a time: its further
    uploads wait for its own turn (at most ``MAX_WAITING_PER_CLIENT`` of them), so one slow or
    hostile client cannot take every upload slot from the others.

    Used for uploads: each one is read by a child process, so a few at a time is all the machine
    does well, and a queue of waiting uploads must not take threads from ``/health``.
    """

    MAX_WAITING_PER_CLIENT = 8

    def __init__(self) -> None:
        self._semaphores: dict[tuple[int, int], asyncio.Semaphore] = {}
        self.waiting = 0
        # client -> (its semaphore, how many of its uploads hold or wait for it)
        self._clients: dict[tuple[int, str], list] = {}

    @contextlib.asynccontextmanager
    async def slot(self, limit: int, message: str, timeout: float = 60.0, max_waiting: int = 32,
                   client: str | None = None, per_client: int | None = None):
        from geo.errors import Busy

        loop_id = id(asyncio.get_running_loop())
        semaphore = self._semaphores.setdefault((loop_id, limit), asyncio.Semaphore(limit))
        if self.waiting >= max_waiting:
            raise Busy(message)
        own = None
        if client is not None and per_client is not None:
            own = self._clients.setdefault((loop_id, client), [asyncio.Semaphore(per_client), 0])
            if own[1] >= per_client + self.MAX_WAITING_PER_CLIENT:
                raise Busy(f"u laat al {own[1]} bestanden tegelijk inlezen; wacht tot die klaar zijn "
                           f"(hoogstens {per_client} tegelijk per gebruiker)")
            own[1] += 1
        try:
            self.waiting += 1
            try:
                if own is not None:  # first this client's own turn, then a slot of all
                    await asyncio.wait_for(own[0].acquire(), timeout)
                try:
                    await asyncio.wait_for(semaphore.acquire(), timeout)
                except BaseException:
                    if own is not None:
                        own[0].release()
                    raise
            except asyncio.TimeoutError:
                raise Busy(message) from None
            finally:
                self.waiting -= 1
            try:
                yield
            finally:
                semaphore.release()
                if own is not None:
                    own[0].release()
        finally:
            if own is not None:
                own[1] -= 1
                if own[1] == 0:
                    self._clients.pop((loop_id, client), None)


uploads = WaitingSlots()


def client_share(parallel: int) -> int:
    """Upload slots one client may hold at once: half of them, at least one.

    Examples
    --------
    >>> client_share(2), client_share(5)
    (1, 2)
    """
    return max(1, parallel // 2)


def upload_slot(request, limits):  # noqa: ANN001, ANN201
    """The upload slot of one import or preview, within its client's share (the client is the
    peer address, or what a trusted proxy says it is: uvicorn's ``--forwarded-allow-ips``)."""
    client = request.client.host if request.client is not None else None
    return uploads.slot(limits.parallel, f"er worden al {limits.parallel} bestanden ingelezen en er wachten er "
                        "meer; probeer het over een minuut opnieuw", timeout=limits.wall_seconds, client=client,
                        per_client=client_share(limits.parallel))
