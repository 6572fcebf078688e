"""How many HTTP requests are being answered, for work in background threads to step aside: the
warm-up (:mod:`api.warmup`) between its steps, a page's PDF printed ahead
(:func:`api.render_cache.render_ahead`) before it starts. Two threads share one interpreter lock,
so work beside a request slows its answer down.
"""

from __future__ import annotations

import threading
import time


class _Requests:
    """How many requests are being answered; the warm-up waits for none between its steps."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._last = 0.0  # time.monotonic() when the last request ended

    def enter(self) -> None:
        with self._lock:
            self._count += 1
            self._idle.clear()

    def leave(self) -> None:
        with self._lock:
            self._count -= 1
            self._last = time.monotonic()
            if self._count == 0:
                self._idle.set()

    def wait_until_idle(self) -> None:
        self._idle.wait()

    def wait_until_quiet(self, seconds: float) -> None:
        """Block until no request is in progress and none has ended for ``seconds``."""
        while True:
            self._idle.wait()
            with self._lock:
                left = self._last + seconds - time.monotonic() if self._count == 0 else seconds
            if left <= 0:
                return
            time.sleep(left)


requests = _Requests()


class YieldToRequests:
    """ASGI middleware: counts the HTTP requests in progress, for the warm-up to step aside."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        requests.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            requests.leave()
