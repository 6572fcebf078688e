"""After start-up, in one background thread: render the page of the report the landing page gives
as its example (W13's: a request for it, the first most visitors make, waits for this render
rather than sharing the interpreter with the other steps), open the database, prepare the
browser geometry of every shipped layer, load the map, image and PDF libraries (:func:`maps.preload.preload_steps`),
and render and print the four reports the landing page links to, page and PDF
(:func:`api.routes.reports.print_ahead`: a PDF asked for before its page takes a second or more).

Start-up itself loads only what the first overlay needs (about 1.3 s); everything here then takes
about 7 s of one core (4 of them the PDFs), in steps that wait while a request is being answered
(:class:`YieldToRequests`), so a planner's first map, report or PDF neither waits for it nor
shares the interpreter with it for long (a step takes at most about a second, a PDF). Work queued
later (:func:`in_background`, after an import) waits for a quiet moment instead.
``REGIOMATCH_WARM_UP=0`` turns it off (the tests do, as each starts many apps); the database
still opens on first use. ``/health`` says whether the warm-up is done.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from api import startup
from api.activity import YieldToRequests, requests  # noqa: F401 (YieldToRequests: wired by api.main)
from geo.reference.roles import zoning_layer

log = logging.getLogger("regiomatch.api")


class _Run:
    """One warm-up: its own state, so a thread of an app that has since stopped (tests start
    many apps in one process) can never mark a newer app's warm-up as done."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.state: dict[str, object] = {}  # seconds and what was prepared, once done


_current = _Run()
_current.done.set()  # no app started: nothing to wait for


def start(ws, warm_up: bool, routes: Sequence[object] = ()) -> threading.Thread:
    """Start the thread; returns it (joined by nobody: a daemon, it ends with the process).
    ``routes``: the app's, whose routers are built ahead (:func:`build_routes`)."""
    global _current
    run = _current = _Run()
    thread = threading.Thread(target=_run, args=(ws, warm_up, run, routes), name="regiomatch-warm-up",
                              daemon=True)
    thread.start()
    return thread


def status() -> dict:
    """``{"warm": bool, "seconds": float, "prepared": [...]}`` for ``/health``."""
    return {"warm": _current.done.is_set(), **_current.state}


def wait(timeout: float | None = None) -> bool:
    """Block until the latest warm-up is done (tests, benchmarks); False on timeout."""
    return _current.done.wait(timeout)


def _run(ws, warm_up: bool, run: _Run, routes: Sequence[object] = ()) -> None:
    t0 = time.perf_counter()
    prepared: list[str] = []
    # A request being answered goes first, here and between the steps below: two threads share
    # one interpreter lock, so warming up beside it would slow it down; it loads what it needs.
    requests.wait_until_idle()
    steps: list[tuple[str, Callable[[], object]]] = []
    if warm_up:
        try:
            steps = _steps(ws)
            # Right after the first report: every router's routes, which FastAPI otherwise
            # builds on the first request that passes it (0.07 s for all 17).
            steps[1:1] = [("routes", lambda: build_routes(routes))]
        except Exception:  # noqa: BLE001 - a warm-up failure only means the first request does the work
            log.exception("warming up failed; the first requests will prepare what they need")
    # The first report's page before all else (it opens the database itself): its request, which
    # comes as soon as the server listens, then waits for this render (or this step for its
    # render) instead of sharing the interpreter with the other steps.
    first = [step for step in steps[:1] if step[0] == "report"]
    try:
        _do(first, prepared)
    finally:
        startup.resume()  # paused by `regiomatch serve` while the app loaded (api.startup)
    try:
        ws.store  # noqa: B018 - opens the database and creates its schema
        prepared.append("database")
    except Exception:  # noqa: BLE001 - said in the log; a request that needs the database answers it by name
        log.exception("the database could not be opened at start-up; requests that need it will say why")
    _do(steps[len(first):], prepared)
    if steps:
        requests.wait_until_idle()
        startup.settle()
    run.state.update(seconds=round(time.perf_counter() - t0, 2), prepared=prepared)
    run.done.set()


def _do(steps: list[tuple[str, Callable[[], object]]], prepared: list[str]) -> None:
    """Run ``steps`` in order, each once no request is being answered; add each name to
    ``prepared`` once. A failure ends them (logged): the first requests then do the work."""
    try:
        for name, step in steps:
            requests.wait_until_idle()
            if step() is not False and name not in prepared:
                prepared.append(name)
    except Exception:  # noqa: BLE001 - a warm-up failure only means the first request does the work
        log.exception("warming up failed; the first requests will prepare what they need")


def build_routes(routes: Sequence[object]) -> None:
    """Build what FastAPI builds of each included router on the first request that passes it
    (its routes with the inclusion's prefix, dependencies and tags), here, ahead of requests.

    Examples
    --------
    >>> from fastapi import APIRouter, FastAPI
    >>> app, router = FastAPI(), APIRouter()
    >>> _ = router.get("/x")(lambda: 1)
    >>> app.include_router(router, prefix="/a")
    >>> build_routes(app.routes)
    """
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)  # fastapi.routing._IncludedRouter
        if callable(candidates):
            build_routes(candidates())


def _steps(ws) -> list[tuple[str, Callable[[], object]]]:
    """The warm-up in small steps, the most needed first: the page of the report the landing page
    gives as its example (W13's, the first page most planners open), the map library, the browser
    geometry of each shipped layer, the municipalities' neighbours and the associations' atlas (a
    municipality's profile), the workbench's graph, the template, image and PDF libraries, the
    dummy password hash of sign-ins, the drawing of a comparison PDF, each layer's dissolved
    outlines in metres (for report maps), the features of the GIS service (/ogc), then the
    reports the landing page links to, page and PDF (one step each)."""
    from api.routes.reports import print_ahead
    from geo.accounts.credentials import dummy_hash
    from geo.geometry.polygons import adjacency, prepare_web_geometry, zone_polygons
    from geo.views.atlas import fit_atlas
    from geo.views.features import prepare_steps
    from geo.zoning.validation import adjacency_graph
    from maps.pages import ASSOCIATION_LAYER
    from maps.preload import preload_steps

    layers = list(ws.catalog.builtin.values())
    data_dir = ws.catalog.data_dir
    associations = ws.catalog.builtin.get(ASSOCIATION_LAYER)
    printed = [] if associations is None else associations.zone_codes
    first = [code for code in printed if code == FIRST_REPORT][:1]
    libraries = preload_steps(min(layers, key=len), data_dir)
    # The first report's page before anything else: a request for it waits for this render
    # instead of sharing the interpreter with other steps (its PDF is printed with the others).
    # Then the map library (half a second of imports a map asked for now would wait for), then
    # every layer's outlines, then the rest.
    return [*[("report", lambda code=code: print_ahead(ws, ASSOCIATION_LAYER, code, pdf=False)) for code in first],
            *libraries[:1],
            *[("geometry", lambda layer=layer: prepare_web_geometry([layer], data_dir)) for layer in layers],
            # What a municipality's profile and the contiguity checks compute once per process.
            ("neighbours", lambda: adjacency(data_dir)), ("atlas", lambda: fit_atlas(ws.catalog)),
            # The workbench's graph (networkx, a third of a second of import a first comparison waited for).
            ("graph", lambda: adjacency_graph(ws.catalog.atoms)),
            *libraries[1:], ("accounts", dummy_hash),
            # What a first comparison PDF draws: the municipalities and the zoning scenarios start from.
            ("comparison", lambda: _prepare_comparison(ws)),
            *[("outlines", lambda layer=layer: zone_polygons(layer, data_dir)) for layer in layers],
            # The GIS service's features (/ogc) in Lambert 72 and CRS84, what GDAL and QGIS ask first.
            *[("features", step) for step in prepare_steps(ws)],
            *[("reports", lambda code=code: print_ahead(ws, ASSOCIATION_LAYER, code)) for code in printed]]


def _prepare_comparison(ws) -> None:
    from maps.comparison_png import prepare  # matplotlib: imported by this step, not before the first report

    prepare([ws.catalog.builtin[i] for i in [zoning_layer()] if i in ws.catalog.builtin], ws.catalog.data_dir)


# The association whose report the landing page gives as its example (``regiomatch report
# samenwerkingsverband W13``): the first page most visitors open, rendered first.
FIRST_REPORT = "W13"


def in_background(job: Callable[[], object]) -> None:
    """Run ``job`` later in one background thread, when no request is being answered (as the
    warm-up's steps): work a coming page will need, such as a new layer's map outlines.

    Examples
    --------
    >>> done = threading.Event()
    >>> in_background(done.set)  # e.g. lambda: web_geometry(imported_layer)
    >>> done.wait(10)
    True
    """
    global _worker
    _jobs.put(job)
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="regiomatch-background", daemon=True)
            _worker.start()


_jobs: queue.SimpleQueue = queue.SimpleQueue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


# A background job starts only once no request has come for this long: who just imported a layer
# asks for its overlay and maps right away, and a job started between two of those requests
# would share the interpreter with the next one.
QUIET_SECONDS = 0.3


def _work() -> None:
    while True:
        job = _jobs.get()
        requests.wait_until_quiet(QUIET_SECONDS)
        try:
            job()
        except Exception:  # noqa: BLE001 - only a head start: the request that needs it does the work
            log.exception("a background preparation failed; the first request that needs it will do it")
