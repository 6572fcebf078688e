"""Issue 28 item 4: an ensemble as a job beside ordinary requests.

Starts the service as ``make run`` does, submits an ensemble of the primary care zones through
``POST /api/v1/ensembles`` and, while the job runs, asks ``/health`` and a cached overlay every
0.2 s: their answer times while the chains run (the issue: ``/health`` under 1 s). Then the job's
own figures: time to done, the stored result's size, and how fast the same inputs are served
again (from the database, not recomputed)::

    python -m benchmarks.bench_jobs             # 10,000 plans, 4 chains
    python -m benchmarks.bench_jobs --quick     # 1,000 plans, 2 chains
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.bench_server import server

OVERLAY = "/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone"


def _timed(client: httpx.Client, url: str) -> float:
    t0 = time.perf_counter()
    client.get(url).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(values), "median_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1)}


def measure(quick: bool = False) -> dict:
    plans, chains = (1000, 2) if quick else (10000, 4)
    body = {"base_layer": "eerstelijnszone", "plans": plans, "chains": chains, "seed": 28}
    log = Path(tempfile.mkdtemp(prefix="regiomatch-bench-jobs-")) / "server.log"
    with server(log) as (_, base, _ready), httpx.Client(base_url=base, timeout=120) as client:
        idle = {"health": _summary([_timed(client, "/health") for _ in range(20)]),
                "overlay": _summary([_timed(client, OVERLAY) for _ in range(20)])}
        t0 = time.perf_counter()
        submitted = client.post("/api/v1/ensembles", json=body)
        submit_ms = (time.perf_counter() - t0) * 1000
        job = submitted.json()
        health: list[float] = []
        overlay: list[float] = []
        while True:
            state = client.get(job["url"]).json()
            if state["status"] not in ("queued", "running"):
                break
            health.append(_timed(client, "/health"))
            overlay.append(_timed(client, OVERLAY))
            time.sleep(0.2)
        done_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = client.post("/api/v1/ensembles", json=body)
        again_ms = (time.perf_counter() - t1) * 1000
        t2 = time.perf_counter()
        summary = client.get(job["url"]).json()
        summary_ms = (time.perf_counter() - t2) * 1000
        csv = client.get(job["url"] + "/export", params={"format": "csv"})
    return {"plans": plans, "chains": chains, "status": state["status"], "submit_ms": round(submit_ms, 1),
            "done_s": round(done_s, 2), "health_idle": idle["health"], "overlay_idle": idle["overlay"],
            "health_during_job": _summary(health), "overlay_during_job": _summary(overlay),
            "same_inputs_again_ms": round(again_ms, 1), "same_inputs_status": again.status_code,
            "summary_get_ms": round(summary_ms, 1), "summary_bytes": len(json.dumps(summary)),
            "csv_bytes": len(csv.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(measure(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
