"""After start-up, in one background thread: open the database, prepare the browser geometry of
every shipped layer, and load the map, image and PDF libraries (:func:`maps.preload.preload`).

Start-up itself loads only what the first overlay needs (about 1.3 s); everything here then takes
a few seconds of one core beside the first answers, so a planner's first map, report or PDF does
not wait for it. ``REGIOMATCH_WARM_UP=0`` turns it off (the tests do, as each starts many apps);
the database still opens on first use. ``/health`` says whether the warm-up is done.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("regiomatch.api")


class _Run:
    """One warm-up: its own state, so a thread of an app that has since stopped (tests start
    many apps in one process) can never mark a newer app's warm-up as done."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.state: dict[str, object] = {}  # seconds and what was prepared, once done


_current = _Run()
_current.done.set()  # no app started: nothing to wait for


def start(ws, warm_up: bool) -> threading.Thread:
    """Start the thread; returns it (joined by nobody: a daemon, it ends with the process)."""
    global _current
    run = _current = _Run()
    thread = threading.Thread(target=_run, args=(ws, warm_up, run), name="regiomatch-warm-up", daemon=True)
    thread.start()
    return thread


def status() -> dict:
    """``{"warm": bool, "seconds": float, "prepared": [...]}`` for ``/health``."""
    return {"warm": _current.done.is_set(), **_current.state}


def wait(timeout: float | None = None) -> bool:
    """Block until the latest warm-up is done (tests, benchmarks); False on timeout."""
    return _current.done.wait(timeout)


def _run(ws, warm_up: bool, run: _Run) -> None:
    t0 = time.perf_counter()
    prepared: list[str] = []
    try:
        ws.store  # noqa: B018 - opens the database and creates its schema
        prepared.append("database")
    except Exception:  # noqa: BLE001 - said in the log; a request that needs the database answers it by name
        log.exception("the database could not be opened at start-up; requests that need it will say why")
    if warm_up:
        try:
            from geo.geometry import prepare_web_geometry
            from maps.preload import preload

            layers = list(ws.catalog.builtin.values())
            prepare_web_geometry(layers, ws.catalog.data_dir)
            prepared.append("geometry")
            prepared += preload(min(layers, key=len), ws.catalog.data_dir)
        except Exception:  # noqa: BLE001 - a warm-up failure only means the first request does the work
            log.exception("warming up failed; the first requests will prepare what they need")
    run.state.update(seconds=round(time.perf_counter() - t0, 2), prepared=prepared)
    run.done.set()
