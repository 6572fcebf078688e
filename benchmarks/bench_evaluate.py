"""Measure 6: the workbench's live feedback, ``POST /api/v1/evaluate`` with 10 moves.

Through real HTTP (a uvicorn server started as ``make run`` does, one keep-alive connection):

* ``evaluate_http``: a 10-move ``POST /api/v1/evaluate`` (against the associations, nesting in the
  reference regions): population and norms per zone, contiguity, nesting and per-association fit
  before and after. Target: p50 < 20 ms on this 2-core machine.
* ``full_overlay_http``: the same question answered by re-running the full overlays: the moves
  saved as a scenario, then ``GET /api/v1/compare`` (apply_moves + overlays from scratch) per
  request.

In process, without HTTP: :func:`geo.zoning.workbench.evaluate_moves` against the naive recomputation
(``apply_moves`` + ``overlay`` per reference + ``check_contiguity`` + ``check_nesting``), and the
ratios.
"""

from __future__ import annotations

import http.client
import json
import random
import tempfile
import time
from pathlib import Path

from benchmarks.bench_server import server
from benchmarks.common import peak_rss_mib, percentiles, repeat

AGAINST = ["samenwerkingsverband"]
NEST_IN = "referentieregio"
MOVES = 10


def ten_moves(seed: int = 0) -> list[dict]:
    """10 moves of Flemish municipalities into a neighbour's primary care zone (deterministic)."""
    return moves(MOVES, seed)


def moves(count: int, seed: int = 0) -> list[dict]:
    """``count`` moves of Flemish municipalities into a neighbour's primary care zone (deterministic)."""
    from geo.reference.catalog import load_catalog
    from geo.zoning.validation import adjacency_graph

    catalog = load_catalog()
    elz = catalog.layer("eerstelijnszone")
    graph = adjacency_graph(catalog.atoms)
    flemish_zones = {c for c, f in zip(elz.zone_codes, elz.flemish_zones()) if f}
    flemish = sorted(int(c) for c, f in zip(catalog.atoms.nis_codes, catalog.atoms.flemish) if f)
    rng = random.Random(seed)
    chosen: dict[int, str] = {}
    while len(chosen) < count:
        nis = rng.choice(flemish)
        own = {c for c, _, _ in elz.zones_of(nis)}
        options = sorted({c for n in graph.neighbors(nis) for c, _, _ in elz.zones_of(int(n))} - own & flemish_zones)
        if options and nis not in chosen:
            chosen[nis] = rng.choice(options)
    return [{"nis_code": n, "to_zone": z} for n, z in chosen.items()]


def _http_samples(base: str, method: str, path: str, body: dict | None, runs: int) -> list[float]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    samples = []
    try:
        for i in range(runs + 5):
            t0 = time.perf_counter()
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - t0
            if response.status != 200:
                raise RuntimeError(f"{method} {path} answered {response.status}")
            if i >= 5:  # the first requests build caches
                samples.append(elapsed)
    finally:
        conn.close()
    return samples


def in_process(moves: list[dict]) -> dict:
    from geo.engine.overlay import overlay
    from geo.engine.scenario import Move, apply_moves
    from geo.reference.catalog import load_catalog
    from geo.reference.norms import norm_for
    from geo.zoning.validation import check_contiguity, check_nesting
    from geo.zoning.workbench import evaluate_moves

    catalog = load_catalog()
    base = catalog.layer("eerstelijnszone")
    references = [catalog.layer(a) for a in AGAINST]
    parent = catalog.layer(NEST_IN)
    norm = norm_for(base)
    typed = [Move(m["nis_code"], m["to_zone"]) for m in moves]
    evaluate_moves(base, typed, references, parent, norm)

    def naive() -> None:
        scenario = apply_moves(base, typed)
        for reference in references:
            overlay(reference, base)
            overlay(reference, scenario).zone_table()
        check_contiguity(scenario, base)
        check_nesting(scenario, parent)

    incremental = percentiles(repeat(lambda: evaluate_moves(base, typed, references, parent, norm), min_runs=50))
    full = percentiles(repeat(naive, min_runs=20))
    return {"evaluate_moves": incremental, "naive_recompute": full,
            "ratio_median": full["median_ms"] / incremental["median_ms"]}


def as_the_page_does(base: str, sequences: int, count: int = 50) -> dict:
    """Issue 25, target 3: the workbench's requests as the page sends them, each with every move so
    far (1, 2, ..., ``count`` moves), for ``sequences`` different edits (different moves each, so
    nothing of one edit is remembered for the next): p50 of the request with 1 move and of the one
    with ``count``; and ``count`` moves sent at once without the requests before (a reloaded page)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    first, last, cold = [], [], []

    def post(moves_so_far: list[dict]) -> float:
        body = json.dumps({"base_layer": "eerstelijnszone", "moves": moves_so_far, "against": AGAINST,
                           "nest_in": NEST_IN}).encode()
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/evaluate", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"POST /api/v1/evaluate answered {response.status}")
        return time.perf_counter() - t0

    try:
        for _ in range(5):  # the first requests prepare the evaluator
            post(moves(1, seed=1000))
        for seed in range(1, sequences + 1):
            edit = moves(count, seed=seed)
            cold.append(post(moves(count, seed=seed + 500)))
            for k in range(1, count + 1):
                seconds = post(edit[:k])
                if k == 1:
                    first.append(seconds)
                elif k == count:
                    last.append(seconds)
    finally:
        conn.close()
    one, many, at_once = percentiles(first), percentiles(last), percentiles(cold)
    return {"sequences": sequences, "moves": count, "one_move": one, f"{count}_moves_after_{count - 1}": many,
            f"{count}_moves_at_once": at_once, "ratio": many["median_ms"] / one["median_ms"],
            "ratio_at_once": at_once["median_ms"] / one["median_ms"], "target": "ratio within 1.5x, under 10 ms"}


def measure(quick: bool = False, baseline: Path | None = None) -> dict:
    moves = ten_moves()
    runs = 100 if quick else 400
    body = {"base_layer": "eerstelijnszone", "moves": moves, "against": AGAINST, "nest_in": NEST_IN}
    log = Path(tempfile.mkdtemp(prefix="regiomatch-bench-")) / "server.log"
    sequences = 4 if quick else 12
    # The render cache off: the full recomputation (GET /api/v1/compare) is then computed per request.
    no_cache = {"REGIOMATCH_RENDER_CACHE_BYTES": "0"}
    with server(log, env=no_cache) as (_, base, _ready):
        evaluate = percentiles(_http_samples(base, "POST", "/api/v1/evaluate", body, runs))
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/api/v1/scenarios", body=json.dumps({"name": "bench", "base_layer": "eerstelijnszone",
                                                                   "moves": moves}),
                     headers={"Content-Type": "application/json"})
        scenario = json.loads(conn.getresponse().read())["id"]
        conn.close()
        path = f"/api/v1/compare?base=eerstelijnszone&other=scenario:{scenario}&against=samenwerkingsverband"
        full = percentiles(_http_samples(base, "GET", path, None, max(runs // 4, 20)))
        growth = as_the_page_does(base, sequences)
    result = {
        "moves": MOVES, "against": AGAINST, "nest_in": NEST_IN,
        "evaluate_http": evaluate, "full_overlay_http": full,
        "ratio_http_median": full["median_ms"] / evaluate["median_ms"],
        "target_p50_ms": 20.0, "meets_target": evaluate["median_ms"] < 20.0,
        "one_versus_fifty_moves": growth,
        "in_process": in_process(moves),
        "peak_rss_mib": peak_rss_mib(),
    }
    if baseline is not None:
        with server(log, env=no_cache, repo=baseline) as (_, base, _ready):
            result["baseline"] = {"evaluate_http": percentiles(_http_samples(base, "POST", "/api/v1/evaluate",
                                                                             body, runs)),
                                  "one_versus_fifty_moves": as_the_page_does(base, sequences)}
    return result


if __name__ == "__main__":
    print(json.dumps(measure(quick=True), indent=2))
