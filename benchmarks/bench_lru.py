"""The render cache's container two ways, in one run: the hand-written byte-bounded LRU
(:class:`api.render_cache.RenderCache`, an ``OrderedDict`` under a lock) and the same class over
``cachetools.LRUCache(maxsize=bytes, getsizeof=len of the body)`` under the same lock.

    .venv/bin/python -m benchmarks.bench_lru

Measures: gets (hits) and puts (with evictions: the cache holds a tenth of the keys) per second in
one thread, and the same with 4 threads; then cached answers of the app (``TestClient``, a JSON
overlay and a map page, each answered from the cache) with each container in turn.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import threading
import time

import numpy as np

from api.render_cache import Entry, RenderCache
from benchmarks.common import machine


class CachetoolsRenderCache(RenderCache):
    """:class:`RenderCache` with ``cachetools.LRUCache`` holding the entries (the alternative)."""

    def __init__(self, max_bytes: int):
        import cachetools

        super().__init__(max_bytes)
        self._entries = cachetools.LRUCache(maxsize=max_bytes, getsizeof=lambda entry: len(entry.body))

    def get(self, key: tuple, count_miss: bool = True) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)  # cachetools: get() marks it recently used
            if entry is None:
                self.misses += count_miss
                return None
            self.hits += 1
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        if len(entry.body) > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = entry  # evicts least recently used entries past maxsize

    @property
    def bytes(self) -> int:  # type: ignore[override]
        return int(self._entries.currsize)

    @bytes.setter
    def bytes(self, value: int) -> None:
        pass  # cachetools keeps the size itself


class CachetoolsTTLRenderCache(CachetoolsRenderCache):
    """The same over ``cachetools.TTLCache`` (an hour; the render cache needs no expiry, as its
    keys carry the versions of what they show: measured because it is the other obvious choice)."""

    def __init__(self, max_bytes: int):
        import cachetools

        super().__init__(max_bytes)
        self._entries = cachetools.TTLCache(maxsize=max_bytes, ttl=3600, getsizeof=lambda entry: len(entry.body))


CONTAINERS = {"hand": RenderCache, "cachetools": CachetoolsRenderCache, "cachetools_ttl": CachetoolsTTLRenderCache}


def _ops(cache_type, threads: int, n: int) -> dict:
    keys = [("overlay", f"a{i}", "b", (2025, ("raster", "2026-12-07T10:00:00"))) for i in range(1000)]
    body = Entry(b"x" * 1000, (("content-type", "application/json"),), '"etag"')
    cache = cache_type(max_bytes=100 * 1000)  # a tenth of the keys fit
    rng = np.random.default_rng(1)
    hot = [keys[i] for i in rng.integers(0, 100, n)]
    cold = [keys[i] for i in rng.integers(0, 1000, n)]
    for k in keys[:100]:
        cache.put(k, body)

    def run(fn, sequence) -> float:
        chunk = len(sequence) // threads
        workers = [threading.Thread(target=lambda part=sequence[i * chunk:(i + 1) * chunk]: [fn(k) for k in part])
                   for i in range(threads)]
        gc.collect()
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return len(sequence) / (time.perf_counter() - t0)

    return {"get_hits_per_s": run(cache.get, hot), "put_evicting_per_s": run(lambda k: cache.put(k, body), cold)}


def operations(rounds: int = 5, n: int = 200_000) -> dict:
    """Median operations per second per container, 1 and 4 threads, rounds interleaved."""
    samples: dict = {}
    for _ in range(rounds):
        for name, kind in CONTAINERS.items():
            for threads in (1, 4):
                for op, rate in _ops(kind, threads, n).items():
                    samples.setdefault(f"{op}/{threads}_threads", {}).setdefault(name, []).append(rate)
    return {op: {name: float(np.median(v)) for name, v in by.items()}
            | {f"ratio_{name}_to_hand": float(np.median(by[name]) / np.median(by["hand"]))
               for name in by if name != "hand"}
            for op, by in samples.items()}


PATHS = ("/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone",
         "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone")


def cached_answers(rounds: int = 5, requests: int = 100) -> dict:
    """Median milliseconds of a cached answer of the app, per container (the app's own cache
    replaced by each in turn)."""
    import tempfile

    from fastapi.testclient import TestClient

    from api import render_cache

    with tempfile.TemporaryDirectory() as state:
        os.environ["REGIOMATCH_STATE_DIR"] = state
        from api.main import create_app

        samples: dict = {}
        with TestClient(create_app(), base_url="http://localhost") as client:
            for path in PATHS:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.text[:200])
            paths = PATHS
            for _ in range(rounds):
                for name, kind in list(CONTAINERS.items())[:2]:
                    original = render_cache.RenderCache
                    render_cache.RenderCache = kind
                    render_cache._caches.clear()
                    try:
                        for path in paths:
                            client.get(path)  # rendered once into this container
                            gc.collect()
                            t0 = time.perf_counter()
                            for _ in range(requests):
                                client.get(path)
                            ms = (time.perf_counter() - t0) / requests * 1e3
                            samples.setdefault(path, {}).setdefault(name, []).append(ms)
                    finally:
                        render_cache.RenderCache = original
                        render_cache._caches.clear()
    return {path: {name: float(np.median(v)) for name, v in by.items()}
            | {"ratio_cachetools_to_hand": float(np.median(by["cachetools"]) / np.median(by["hand"]))}
            for path, by in samples.items()}


def main() -> None:
    """Print the measures as JSON with the machine and the load average before and after."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="ops,answers", help="ops, answers or both (comma-separated)")
    args = parser.parse_args()
    start = machine()
    found = {"operations_per_s": operations(args.rounds)} if "ops" in args.only else {}
    if "answers" in args.only:
        found["cached_answer_ms"] = cached_answers(args.rounds)
    print(json.dumps({"machine": start, "load_average_at_end": os.getloadavg(), "render_cache": found}, indent=1))


if __name__ == "__main__":
    main()
