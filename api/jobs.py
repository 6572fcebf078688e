"""The server's job runner: one background thread per process and workspace (see :mod:`geo.jobs.runner`).

Started with the app (its first act, in the thread, is to mark jobs that an earlier process left
running as interrupted) and on first use by a route, stopped when the app stops. The CLI does
not use it: it runs its ensemble in the foreground.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runner brings the database library: loaded with the first job, not at start-up
    from geo.jobs.runner import JobRunner
    from geo.storage.workspace import Workspace

_runners: "dict[int, tuple[Workspace, JobRunner]]" = {}
_lock = threading.RLock()
# Counts the app's stops: a start still waiting for a quiet moment when the app stopped (a short-lived
# app, as in the tests) must not start a runner that nobody stops, on a database that may be gone.
_stops = 0


def runner_for(ws: "Workspace") -> "JobRunner":
    """The running runner of this workspace's database (started on first use)."""
    with _lock:
        found = _runners.get(id(ws))
        if found is not None and found[0] is ws and found[1].alive:
            return found[1]
        from geo.jobs.ensembles import handlers
        from geo.jobs.runner import JobRunner

        runner = JobRunner(ws.store.jobs, handlers(ws)).start()
        _runners[id(ws)] = (ws, runner)
        return runner


def start(ws: "Workspace") -> None:
    """Start the runner in the background (opening the database there, not in the start-up), once
    no request is being answered: like the warm-up, it steps aside for the first requests."""
    stops = _stops

    def run() -> None:
        from api.warmup import requests

        requests.wait_until_idle()
        with _lock:
            if stops == _stops:  # the app has not stopped meanwhile
                runner_for(ws)

    threading.Thread(target=run, name="regiomatch-jobs-start", daemon=True).start()


def stop_all(timeout: float = 10.0) -> None:
    """Stop every runner of this process (the app is shutting down): running jobs are cancelled
    and count as interrupted."""
    global _stops
    with _lock:
        _stops += 1
        runners = [runner for _, runner in _runners.values()]
        _runners.clear()
    for runner in runners:
        runner.stop(timeout)
