"""Issue 13: what a user waits for, through a real server, with the render cache on and off.

Every page of the issue's table (maps, reports, the PDF, the overlay JSON, GeoJSON) plus the
HTML pages (landing, municipality profile, overlay table) is requested through HTTP/1.1 with
keep-alive and ``Accept-Encoding: gzip``, as a browser does:

* **first view**: the first request of each page after the server answered its first overlay
  (with ``--quick`` all pages on one server in table order; otherwise each page on a fresh
  server, so no page profits from another's imports);
* **warm**: ``WARM_RUNS`` requests after that, p50/p90; size as sent (gzip) and as rendered;
* the same warm run on a server with ``REGIOMATCH_RENDER_CACHE_BYTES=0`` (every request
  renders): the "before" of each ratio;
* **overlay JSON for every ordered pair of shipped layers**: warm p50 over HTTP, cache on and
  off, against ``geopandas.overlay`` of the same pair's polygons with population shares (the
  function of :mod:`benchmarks.bench_overlay`), timed in this run;
* **a 10,000-polygon import** (:mod:`benchmarks.grid`): the import itself, then its overlay
  JSON (first and warm, both directions, every zone at once), its choropleth map and its overlay
  maps against the primary care zones, both ways (first, warm, size);
* **cold start**: ``Popen`` to the first overlay answer, and ``-X importtime`` of ``api.main``.
"""

from __future__ import annotations

import gzip
import http.client
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.bench_server import REPO, server
from benchmarks.common import percentiles

WARM_RUNS = 22
SCENARIO_MOVES = [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 34041, "to_zone": "elz18"}]
PAGES = [
    ("/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone", "map"),
    ("/maps/overlay?a=gemeente&b=eerstelijnszone", "map"),
    ("/maps/scenario/{scenario}", "map"),
    ("/maps/municipality/34025", "map"),
    ("/maps/choropleth/eerstelijnszone", "map"),
    ("/reports/samenwerkingsverband/W13", "report"),  # linked from the landing page: rendered ahead
    ("/reports/samenwerkingsverband/W13?format=pdf", "pdf"),  # linked from the landing page: printed ahead
    ("/reports/eerstelijnszone/elz18?format=pdf", "pdf"),  # a PDF the warm-up does not print
    ("/reports/eerstelijnszone/elz18", "report"),  # a report the warm-up does not render (after its PDF,
    # which it would otherwise print in the background, when --quick sends every page to one server)
    ("/api/v1/layers/eerstelijnszone/geojson", "json"),
    ("/api/v1/overlay?a=gemeente&b=politiezone", "json"),
    ("/api/v1/overlay?a=samenwerkingsverband&b=eerstelijnszone", "json"),
    ("/", "page"),
    ("/municipalities/34025", "page"),
    ("/overlay?a=samenwerkingsverband&b=eerstelijnszone", "page"),
]
# The upload limits (geo.uploads.sandbox) refuse a municipality in more than 50 zones and stop a read after
# 30 CPU seconds; Antwerp lies in ~130 squares of the grid, and a loaded machine reads slowly.
BIG_IMPORT_LIMITS = {"REGIOMATCH_IMPORT_ZONES_PER_MUNICIPALITY": "1000", "REGIOMATCH_IMPORT_CPU_SECONDS": "600",
                     "REGIOMATCH_IMPORT_WALL_SECONDS": "900"}
# What the 10,000-square import is timed on, in this order, each first right after the import (the
# overlay JSON both ways and with every zone's details at once, the choropleth, the overlay maps).
BIG_IMPORT_PAGES = [
    ("overlay raster x eerstelijnszone", "/api/v1/overlay?a=raster&b=eerstelijnszone"),
    ("overlay eerstelijnszone x raster", "/api/v1/overlay?a=eerstelijnszone&b=raster"),
    ("overlay raster x eerstelijnszone, every zone", "/api/v1/overlay?a=raster&b=eerstelijnszone&limit=10000"),
    ("overlay raster x gemeente, every zone", "/api/v1/overlay?a=raster&b=gemeente&limit=10000"),
    ("choropleth map of the raster", "/maps/choropleth/raster"),
    ("overlay map raster x eerstelijnszone", "/maps/overlay?a=raster&b=eerstelijnszone"),
    ("overlay map eerstelijnszone x raster", "/maps/overlay?a=eerstelijnszone&b=raster"),
]
QUICK_GEOPANDAS_PAIRS = [("samenwerkingsverband", "eerstelijnszone"), ("gemeente", "politiezone"),
                         ("eerstelijnszone", "referentieregio")]
GEOPANDAS_PAIRS = [*QUICK_GEOPANDAS_PAIRS, ("politiezone", "eerstelijnszone"), ("logo", "gezondheidsmakers"),
                   ("igs_woonbeleid", "woonmaatschappij"), ("vervoerregio", "arrondissement"),
                   ("eerstelijnszone_antwerpen_stad", "gemeente")]


class Client:
    """One keep-alive HTTP/1.1 connection that asks for gzip, as a browser does."""

    def __init__(self, base: str, timeout: float = 60.0):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str) -> tuple[float, int, int, int]:
        """``(seconds, status, bytes sent over the wire, bytes after decompression)``; status 0
        when no answer came within the timeout (the connection is then opened anew)."""
        t0 = time.perf_counter()
        try:
            self.connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = self.connection.getresponse()
            body = response.read()
        except (TimeoutError, OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            return time.perf_counter() - t0, 0, 0, 0
        seconds = time.perf_counter() - t0
        raw = gzip.decompress(body) if response.getheader("Content-Encoding") == "gzip" else body
        return seconds, response.status, len(body), len(raw)

    def send(self, method: str, path: str, body: dict | None = None) -> tuple[float, int, int, int]:
        """Like :meth:`get` for any method, with a JSON body."""
        if method == "GET" and body is None:
            return self.get(path)
        t0 = time.perf_counter()
        try:
            self.connection.request(method, path, body=None if body is None else json.dumps(body).encode(),
                                    headers={"Content-Type": "application/json", "Accept-Encoding": "gzip"})
            response = self.connection.getresponse()
            data = response.read()
        except (TimeoutError, OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            return time.perf_counter() - t0, 0, 0, 0
        seconds = time.perf_counter() - t0
        raw = gzip.decompress(data) if response.getheader("Content-Encoding") == "gzip" else data
        return seconds, response.status, len(data), len(raw)

    def post_json(self, path: str, payload: dict) -> dict:
        self.connection.request("POST", path, body=json.dumps(payload).encode(),
                                headers={"Content-Type": "application/json"})
        response = self.connection.getresponse()
        body = response.read()
        if response.status >= 300:
            raise RuntimeError(f"POST {path}: {response.status} {body[:300]!r}")
        return json.loads(body)

    def close(self) -> None:
        self.connection.close()


def _warm(client: Client, path: str, runs: int) -> dict:
    seconds, status, sent, raw = client.get(path)  # the run's first request: not counted
    if status != 200:
        return {"status": status}
    samples = []
    for _ in range(runs):
        s, status, sent, raw = client.get(path)
        samples.append(s)
    p = percentiles(samples)
    return {"p50_ms": p["median_ms"], "p90_ms": p["p90_ms"], "sent_bytes": sent, "html_or_body_bytes": raw}


def save_scenario(client: Client) -> str:
    """The benchmarks' example scenario (Lendelede and Wevelgem moved to Kortrijk's zone), saved."""
    return client.post_json("/api/v1/scenarios", {"name": "Lendelede en Wevelgem naar Kortrijk",
                                                   "base_layer": "eerstelijnszone", "moves": SCENARIO_MOVES})["id"]


def _paths(scenario: str) -> list[tuple[str, str]]:
    return [(p.format(scenario=scenario), kind) for p, kind in PAGES]


def first_views(log: Path, quick: bool) -> dict:
    """Seconds of each page's first request after start-up (cache on), twice: the moment the
    server answered its first overlay (the warm-up thread still busy beside it), and once the
    warm-up is done (a few seconds later: when a planner opens a page after starting the service).

    With ``--quick`` all pages go to one server in table order (each profits from the pages before
    it); otherwise every page gets a fresh server, so no page profits from another's work.
    """
    out: dict = {}

    def one_server(templates: list[str], after_warm_up: bool) -> None:
        t0 = time.perf_counter()
        with server(log, warm=after_warm_up) as (_, base, ready):
            warm_s = time.perf_counter() - t0 - ready if after_warm_up else None
            client = Client(base)
            scenario = save_scenario(client)
            for template in templates:
                seconds, status, _, _ = client.get(template.format(scenario=scenario))
                key = "first_view_after_warm_up_ms" if after_warm_up else "first_view_ms"
                entry = out.setdefault(template, {"server_ready_s": ready})
                entry.update({key: seconds * 1e3, f"{key}_status": status})
                if warm_s is not None:
                    entry["warm_up_s"] = warm_s
            client.close()

    templates = [t for t, _ in PAGES]
    for after_warm_up in (False, True):
        if quick:
            one_server(templates, after_warm_up)
        else:
            for template in templates:
                one_server([template], after_warm_up)
    return out


def warm_pages(log: Path, cache_bytes: int | None, runs: int) -> dict:
    env = {} if cache_bytes is None else {"REGIOMATCH_RENDER_CACHE_BYTES": str(cache_bytes)}
    with server(log, env=env) as (_, base, _ready):
        client = Client(base)
        scenario = save_scenario(client)
        out = {template: _warm(client, path, runs) for (template, _), (path, _) in zip(PAGES, _paths(scenario))}
        client.close()
    return out


def overlay_pairs(log: Path, cache_bytes: int | None, pairs: list[tuple[str, str]], runs: int) -> dict:
    env = {} if cache_bytes is None else {"REGIOMATCH_RENDER_CACHE_BYTES": str(cache_bytes)}
    with server(log, env=env) as (_, base, _ready):
        client = Client(base)
        out = {f"{a}|{b}": _warm(client, f"/api/v1/overlay?a={a}&b={b}", runs) for a, b in pairs}
        client.close()
    return out


def geopandas_times(pairs: list[tuple[str, str]]) -> dict:
    """``geopandas.overlay`` of each pair's zones, then with the municipalities for population shares."""
    from benchmarks.bench_overlay import geopandas_pair
    from geo.geometry.polygons import municipal_polygons, zone_polygons
    from geo.reference.catalog import load_catalog

    catalog = load_catalog()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = sorted({i for pair in pairs for i in pair})
        zones = {i: zone_polygons(catalog.layer(i))[["code", "geometry"]].dropna(subset=["geometry"]) for i in ids}
    munis = municipal_polygons().reset_index()[["nis_code", "geometry"]]
    munis["population"] = munis["nis_code"].map(catalog.atoms.table["population"]).astype(float)
    munis["muni_area"] = munis.geometry.area
    return {f"{a}|{b}": geopandas_pair(zones[a], zones[b], munis)[0]["population_table_s"] * 1e3 for a, b in pairs}


def big_import(log: Path, runs: int) -> dict:
    """Import a ~10,000-square grid, then its overlay JSON and its map."""
    import httpx

    from benchmarks.grid import grid_geojson

    body = grid_geojson(10_000)
    out: dict = {"upload_bytes": len(body), "limits": BIG_IMPORT_LIMITS}
    with server(log, env=BIG_IMPORT_LIMITS) as (_, base, _ready):
        t0 = time.perf_counter()
        created = httpx.post(base + "/api/v1/layers", data={"id": "raster", "name": "Raster van 10.000 vakken"},
                             files={"file": ("raster.geojson", body, "application/geo+json")}, timeout=600)
        out["import_s"] = time.perf_counter() - t0
        if created.status_code != 201:
            out["import_error"] = created.text[:500]
            return out
        out["zones"] = created.json()["zone_count"]
        client = Client(base)
        for label, path in BIG_IMPORT_PAGES:
            seconds, status, sent, raw = client.get(path)
            out[label] = {"path": path, "first_ms": seconds * 1e3, "status": status, "first_sent_bytes": sent,
                          "first_body_bytes": raw, **(_warm(client, path, max(5, runs // 4)) if status == 200 else {})}
            if status == 0:
                out[label]["note"] = f"no answer within {client.timeout:.0f} s"
        client.close()
    return out


def import_time() -> dict:
    """``python -X importtime -c 'import api.main'``: total and the heaviest top-level packages."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import api.main, sys; "
                          "print(sorted(m for m in ('folium', 'weasyprint', 'matplotlib', 'networkx', 'geopandas') "
                          "if m in sys.modules))"], cwd=REPO, capture_output=True, text=True, check=True)
    per_package: dict[str, int] = {}
    total = 0
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line.removeprefix("import time:").split("|")
        per_package[name.strip().split(".")[0]] = per_package.get(name.strip().split(".")[0], 0) + int(self_us)
        if name.strip() == "api.main":
            total = int(cumulative)
    top = sorted(per_package.items(), key=lambda kv: -kv[1])[:10]
    return {"api_main_s": total / 1e6, "top_packages_ms": {k: v / 1e3 for k, v in top},
            "heavy_modules_loaded": out.stdout.strip()}


def cold_starts(log: Path, runs: int) -> dict:
    times = []
    for _ in range(runs):
        with server(log, warm=False) as (_, _base, ready):
            times.append(ready)
    return {"runs_s": times, "median_s": statistics.median(times)}


def measure(quick: bool = False) -> dict:
    log = Path(tempfile.gettempdir()) / "regiomatch-bench-pages.log"
    log.write_bytes(b"")
    from geo.reference.catalog import load_catalog

    ids = load_catalog().layer_ids()
    pairs = list(itertools.product(ids, ids))
    if quick:
        pairs = pairs[::10]
    gp_pairs = QUICK_GEOPANDAS_PAIRS if quick else GEOPANDAS_PAIRS
    runs = 8 if quick else WARM_RUNS
    result: dict = {"warm_runs": runs}
    result["cold_start"] = cold_starts(log, 1 if quick else 3)
    result["import_time"] = import_time()
    result["first_view"] = first_views(log, quick)
    result["warm_cache_on"] = warm_pages(log, None, runs)
    result["warm_cache_off"] = warm_pages(log, 0, max(3, runs // 2) if quick else runs)
    result["overlay_pairs_cache_on"] = overlay_pairs(log, None, pairs, 20)
    result["overlay_pairs_cache_off"] = overlay_pairs(log, 0, pairs, 20)
    result["geopandas_population_ms"] = geopandas_times(gp_pairs)
    try:
        result["big_import"] = big_import(log, runs)
    except Exception as exc:  # noqa: BLE001 - a failed import is a result to report, not a lost run
        result["big_import"] = {"error": repr(exc)[:500]}
    on = [v["p50_ms"] for v in result["overlay_pairs_cache_on"].values() if "p50_ms" in v]
    off = [v["p50_ms"] for v in result["overlay_pairs_cache_off"].values() if "p50_ms" in v]
    result["overlay_pairs_summary"] = {
        "pairs": len(on), "cache_on_p50_ms_median": statistics.median(on), "cache_on_p50_ms_max": max(on),
        "cache_off_p50_ms_median": statistics.median(off), "cache_off_p50_ms_max": max(off)}
    ratios = {}
    for key, gp_ms in result["geopandas_population_ms"].items():
        on_ms = result["overlay_pairs_cache_on"].get(key, {}).get("p50_ms")
        off_ms = result["overlay_pairs_cache_off"].get(key, {}).get("p50_ms")
        if on_ms is None:  # a pair the quick run did not time over HTTP
            with server(log) as (_, base, _ready):
                client = Client(base)
                on_ms = _warm(client, "/api/v1/overlay?a={}&b={}".format(*key.split("|")), 20)["p50_ms"]
                client.close()
        ratios[key] = {"geopandas_ms": gp_ms, "http_cache_on_p50_ms": on_ms, "http_cache_off_p50_ms": off_ms,
                       "ratio_cache_on": gp_ms / on_ms, "ratio_cache_off": gp_ms / off_ms if off_ms else None}
    result["geopandas_vs_http"] = ratios
    result["server_log"] = str(log)
    return result


# -- issue 25: every route the app serves ----------------------------------------------------------
def every_route(log: Path, runs: int, repo: Path = REPO, cache_bytes: int | None = None) -> dict:
    """Every example of :mod:`benchmarks.routes` on one server (started from ``repo``) once its
    warm-up is done: the first request (a render, or the first print of a PDF) and ``runs`` warm
    ones (p50/p90), with the status and bytes. The routes come from this checkout's app, so a route
    without an example stops the benchmark before any server starts (:class:`MissingExample`)."""
    from api.main import app
    from benchmarks.bench_evaluate import moves as evaluate_moves
    from benchmarks.routes import FIFTY, requests_for

    examples = requests_for(app, "{scenario}")
    fifty = evaluate_moves(50)
    env = {} if cache_bytes is None else {"REGIOMATCH_RENDER_CACHE_BYTES": str(cache_bytes)}
    out: dict = {}
    with server(log, env=env, repo=repo) as (_, base, _ready):
        client = Client(base)
        scenario = save_scenario(client)
        for template in examples:
            example = template.filled(scenario)
            body = example.body
            if body is not None and body.get("moves") == FIFTY:
                body = {**body, "moves": fifty}
            seconds, status, sent, raw = client.send(example.method, example.path, body)
            entry = {"method": example.method, "path": example.path, "note": example.note, "status": status,
                     "expected_status": example.status, "first_ms": seconds * 1e3, "sent_bytes": sent,
                     "body_bytes": raw}
            if status == example.status:
                samples = [client.send(example.method, example.path, body)[0] for _ in range(runs)]
                p = percentiles(samples)
                entry.update(p50_ms=p["median_ms"], p90_ms=p["p90_ms"])
            out[template.label] = entry  # "{scenario}" in the label: the same key on every server
        client.close()
    return out


def every_route_measure(quick: bool = False, baseline: Path | None = None) -> dict:
    """:func:`every_route` on this checkout and, in the same run, on ``baseline`` (another checkout)."""
    log = Path(tempfile.gettempdir()) / "regiomatch-bench-routes.log"
    log.write_bytes(b"")
    runs = 5 if quick else 15
    result: dict = {"warm_runs": runs, "now": every_route(log, runs)}
    if baseline is not None:
        try:
            result["baseline"] = every_route(log, runs, repo=baseline)
        except Exception as exc:  # noqa: BLE001 - the new code's figures are kept
            result["baseline"] = {"error": repr(exc)[:500]}
    now = result["now"]
    timed = {k: v for k, v in now.items() if "p50_ms" in v}
    result["summary"] = {
        "routes": len(now), "timed": len(timed),
        "wrong_status": sorted(k for k, v in now.items() if v["status"] != v["expected_status"]),
        "warm_p50_over_100_ms": sorted(k for k, v in timed.items() if v["p50_ms"] > 100),
        "pdf_first_over_500_ms": sorted(k for k, v in now.items() if "pdf" in k and v["first_ms"] > 500),
        "max_warm_p50_ms": max(v["p50_ms"] for v in timed.values()),
    }
    return result
