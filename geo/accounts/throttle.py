"""Sign-in throttling: after a few failures for one name or from one address, refuse for a while.

Counted per process (each worker keeps its own count; with N workers an attacker gets N times the
attempts, still a handful a minute against argon2-hashed passwords).

Examples
--------
>>> t = Throttle(failures=2, window=60.0)
>>> t.fail(["ann", "10.0.0.1"], now=0.0); t.fail(["ann"], now=1.0)
>>> t.blocked(["ann"], now=2.0) > 0, t.blocked(["bob"], now=2.0)
(True, 0.0)
>>> t.blocked(["ann"], now=100.0)
0.0
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_KEYS = 10_000  # a flood of made-up names cannot grow memory without end


class Throttle:
    """At most ``failures`` failed sign-ins per key (user name, client address) in ``window`` seconds."""

    def __init__(self, failures: int = 5, window: float = 300.0):
        self.failures = failures
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until the first of ``keys`` may try again (0: may try now)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.failures:
                    wait = max(wait, times[0] + self.window - now)
        return wait

    def fail(self, keys: list[str], now: float | None = None) -> None:
        """Count a failed attempt for each of ``keys`` (old keys are pruned when too many are kept)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > MAX_KEYS:
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
            for key in keys:
                self._recent(key, now).append(now)

    def succeed(self, keys: list[str]) -> None:
        """Forget the failures of the first key (the name) after a successful attempt."""
        with self._lock:
            for key in keys[:1]:  # the name's count; an address's failures stay counted
                self._seen.pop(key, None)

    def reset(self) -> None:
        """Forget every failure (a restart does the same)."""
        with self._lock:
            self._seen.clear()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque(maxlen=self.failures))
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
