"""A bounded HTTP load generator, used only when ``wrk`` is not installed.

``python -m benchmarks.loadgen URL --duration 30 --connections 4`` runs in its own process
(so it does not share the server's interpreter), keeps one persistent HTTP/1.1 connection per
thread and prints one JSON line: requests, errors, requests/s and latency percentiles. It is
slower than wrk (Python on the same 2 cores), so its requests/s is a lower bound.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import numpy as np


def run(url: str, duration: float, connections: int) -> dict:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    deadline = time.perf_counter() + duration

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[k] += 1
            except (OSError, http.client.HTTPException):
                errors[k] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            latencies[k].append(time.perf_counter() - t0)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ms = np.concatenate([np.asarray(x) for x in latencies]) * 1e3 if any(latencies) else np.zeros(1)
    return {"tool": "benchmarks.loadgen (Python, http.client)", "requests": int(sum(map(len, latencies))),
            "errors": int(sum(errors)), "duration_s": elapsed,
            "requests_per_s": sum(map(len, latencies)) / elapsed,
            "p50_ms": float(np.percentile(ms, 50)), "p90_ms": float(np.percentile(ms, 90)),
            "p99_ms": float(np.percentile(ms, 99)), "connections": connections}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.duration, args.connections)))


if __name__ == "__main__":
    main()
