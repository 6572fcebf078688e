"""Issue 25, first answers: what the first visitor after a start waits for, through a real server.

* **the W13 report after start-up**: ``Popen("regiomatch serve")`` to the first 200 of the
  report page the landing page links to (``/reports/samenwerkingsverband/W13``), whole body
  read, polled every 10 ms from the start (target: under 1.5 s);
* **first prints after the warm-up**: once ``/health`` says the warm-up is done, the first
  request of a PDF nobody asked for yet (the comparison of a saved scenario, ``/vergelijk.pdf``,
  asked for without its page; a report the warm-up did not print), then the same PDF again
  (target: under 500 ms first, under 10 ms once printed);
* **large HTML pages**: warm p50 with gzip of the atlas (500 KB), a map of all municipalities
  and W13's report (700 KB), whose CSP nonce differs per answer.

With ``baseline`` (another checkout) every figure is measured on its server too, alternating
run by run for the start-ups, so each ratio comes from one run; the load average is recorded
beside each figure.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from benchmarks.bench_pages import Client, _warm, save_scenario
from benchmarks.bench_server import REPO, prepare, server

FIRST_PAGE = "/reports/samenwerkingsverband/W13"
FIRST_PRINTS = ["/vergelijk.pdf?base=eerstelijnszone&other=scenario:{scenario}&against=samenwerkingsverband"
                "&against=referentieregio",
                "/reports/eerstelijnszone/elz18?format=pdf"]
LARGE_PAGES = ["/atlas", "/maps/overlay?a=gemeente&b=eerstelijnszone", FIRST_PAGE]


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def first_page(log: Path, runs: int, repos: dict[str, Path]) -> dict:
    """Seconds from ``Popen`` to the first whole 200 of :data:`FIRST_PAGE`, per checkout,
    alternating checkouts run by run."""
    out: dict = {name: {"runs_s": [], "load": []} for name in repos}
    for _ in range(runs):
        for name, repo in repos.items():
            load = _load()
            with server(log, warm=False, repo=repo, ready_path=FIRST_PAGE) as (_, _base, ready):
                out[name]["runs_s"].append(round(ready, 3))
                out[name]["load"].append(load)
    for entry in out.values():
        entry["median_s"] = statistics.median(entry["runs_s"])
    return out


def after_warm_up(log: Path, repo: Path, runs: int) -> dict:
    """On one warmed-up server: the first and the second request of each of :data:`FIRST_PRINTS`,
    then warm p50 of :data:`LARGE_PAGES`."""
    out: dict = {"prints": {}, "pages": {}}
    with server(log, repo=repo) as (_, base, _ready):
        client = Client(base)
        scenario = save_scenario(client)
        for template in FIRST_PRINTS:
            path = template.format(scenario=scenario)
            load = _load()
            first, status, sent, _ = client.get(path)
            again = sorted(client.get(path)[0] for _ in range(5))[2]
            out["prints"][template] = {"status": status, "first_ms": round(first * 1e3, 2),
                                       "again_p50_ms": round(again * 1e3, 3), "bytes": sent, "load": load}
        for path in LARGE_PAGES:
            out["pages"][path] = {**_warm(client, path, runs), "load": _load()}
        client.close()
    return out


def measure(quick: bool = False, baseline: Path | None = None) -> dict:
    log = Path(tempfile.gettempdir()) / "regiomatch-bench-first.log"
    log.write_bytes(b"")
    repos = {"now": REPO, **({"baseline": baseline} if baseline is not None else {})}
    for repo in repos.values():
        prepare(repo)  # as `make run` does before serving
    result: dict = {"first_page": first_page(log, 2 if quick else 5, repos)}
    for name, repo in repos.items():
        result[name] = after_warm_up(log, repo, 10 if quick else 30)
    return result
