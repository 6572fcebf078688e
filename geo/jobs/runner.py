"""The runner: one background thread per process that takes queued jobs and runs them.

The thread only coordinates; the heavy work of a job is handed to the engine's executor (a
process pool by default), so requests answered beside a running job stay fast. Each job kind has
a handler ``handler(job, progress, cancelled) -> bytes``. Progress is written to the database at
most every :data:`REPORT_SECONDS`; a cancel asked from any process is seen within about as long.

A runner holds the jobs it claimed under an owner name (host, process and a random token). When
a runner starts, and every :data:`SWEEP_SECONDS` after, running jobs whose owner is gone (its
process ended, or on another machine its heartbeat went quiet) are marked interrupted: after a
restart the page says so, and submitting the same inputs runs the job again.

Examples
--------
>>> from geo.storage.store import Store
>>> store = Store("sqlite://")
>>> runner = JobRunner(store.jobs, {"echo": lambda job, progress, cancelled: b"hallo"})
>>> job, _ = store.jobs.submit("echo", "k", "", {})
>>> runner.run_once()
True
>>> store.jobs.get(job.id).status, store.jobs.result(job.id)
('done', b'hallo')
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from geo.errors import RegiomatchError
from geo.jobs.records import CANCELLED, FAILED, INTERRUPTED, JobRecord
from geo.storage.jobs import JobStore, stale

log = logging.getLogger("regiomatch.jobs")

Progress = Callable[[float], None]
Cancelled = Callable[[], bool]
Handler = Callable[[JobRecord, Progress, Cancelled], bytes]

REPORT_SECONDS = 0.5  # progress and cancel checks in the database, at most this often
HEARTBEAT_SECONDS = 10.0  # a running job says it is alive this often, even without progress
STALE_SECONDS = 60.0  # a job on another machine whose heartbeat is older is interrupted
SWEEP_SECONDS = 30.0
POLL_SECONDS = 2.0  # looks for jobs queued by other processes this often

HOST = socket.gethostname()
STOPPED = "the server stopped while this job ran"
INTERNAL = "internal error: "  # an error that is a bug, not the user's rules (logged with its traceback)
_live_tokens: set[str] = set()  # owners of the runners alive in this process
_live_lock = threading.Lock()


class JobCancelled(RegiomatchError):
    """Raised by a handler that noticed its job was cancelled (the engine raises its own)."""

    code = "cancelled"


def owner_alive(owner: str, heartbeat: datetime | None) -> bool:
    """Whether the runner named ``owner`` may still be running its job.

    On this machine: its process exists (and, for this very process, the runner is alive). On
    another machine: its heartbeat is recent.

    Examples
    --------
    >>> owner_alive(f"{HOST}:999999999:x", None)
    False
    """
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != HOST or not pid_text.isdigit():
        return not stale(heartbeat, STALE_SECONDS)
    pid = int(pid_text)
    if pid == os.getpid():
        with _live_lock:
            return token in _live_tokens
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    """Runs queued jobs of the kinds in ``handlers``, one at a time, in a background thread."""

    def __init__(self, jobs: JobStore, handlers: Mapping[str, Handler]):
        self.jobs = jobs
        self.handlers = dict(handlers)
        self.token = secrets.token_hex(6)
        self.owner = f"{HOST}:{os.getpid()}:{self.token}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel: dict[str, threading.Event] = {}
        self._thread: threading.Thread | None = None
        self.current: str | None = None
        with _live_lock:
            _live_tokens.add(self.token)

    # -- control ------------------------------------------------------------------------------
    def start(self) -> "JobRunner":
        """Start the background thread (once) and return the runner."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="regiomatch-jobs", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Look for queued jobs now (after a submit)."""
        self._wake.set()

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a job (here at once if this runner runs it; elsewhere through the database)."""
        record = self.jobs.cancel(job_id)
        event = self._cancel.get(job_id)
        if event is not None:
            event.set()
        return record

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current job is cancelled; jobs it held count as interrupted from now."""
        self._stop.set()
        for event in list(self._cancel.values()):
            event.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with _live_lock:
            _live_tokens.discard(self.token)

    @property
    def alive(self) -> bool:
        """Whether the background thread is running."""
        return self._thread is not None and self._thread.is_alive()

    # -- the loop -----------------------------------------------------------------------------
    def _loop(self) -> None:
        last_sweep = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_sweep > SWEEP_SECONDS:
                    gone = self.jobs.interrupt_orphans(owner_alive)
                    if gone:
                        log.warning("jobs interrupted by a stop of the server: %s", ", ".join(gone))
                    last_sweep = time.monotonic()
                if self.run_once():
                    continue
            except Exception:  # noqa: BLE001 - the database may be away a moment; never let the thread die
                log.exception("the job runner could not read the job table; trying again")
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def run_once(self) -> bool:
        """Claim one queued job of a known kind and run it to its end; False when none waits."""
        job = self.jobs.claim(self.owner)
        if job is None:
            return False
        self._run(job)
        return True

    def _run(self, job: JobRecord) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            self.jobs.end(job.id, self.owner, FAILED, f"no handler for jobs of kind {job.kind!r}")
            return
        event = self._cancel.setdefault(job.id, threading.Event())
        self.current = job.id
        last, latest = [0.0], [0.0]
        beat = threading.Event()

        def tick(force: bool = False) -> None:
            # One throttle for both: the progress written is the latest, a cancel is seen as often.
            now = time.monotonic()
            if force or now - last[0] >= REPORT_SECONDS:
                last[0] = now
                if self.jobs.report(job.id, self.owner, latest[0]):
                    event.set()

        def progress(fraction: float) -> None:
            latest[0] = min(max(float(fraction), 0.0), 1.0)
            tick(force=fraction >= 1.0)

        def cancelled() -> bool:
            if not event.is_set():
                tick()
            return event.is_set()

        def heartbeat() -> None:
            while not beat.wait(HEARTBEAT_SECONDS):
                try:
                    if self.jobs.report(job.id, self.owner):
                        event.set()
                except Exception:  # noqa: BLE001 - a missed heartbeat is harmless
                    pass

        beating = threading.Thread(target=heartbeat, name=f"regiomatch-job-{job.id}", daemon=True)
        beating.start()
        try:
            result = handler(job, progress, cancelled)
        except Exception as exc:  # noqa: BLE001 - every failure ends the job with its reason
            if self._stop.is_set():
                self.jobs.end(job.id, self.owner, INTERRUPTED, STOPPED)
            elif event.is_set() or type(exc).__name__ == "Cancelled" or isinstance(exc, JobCancelled):
                self.jobs.end(job.id, self.owner, CANCELLED)
            else:
                detail = exc.detail if isinstance(exc, RegiomatchError) else f"{INTERNAL}{type(exc).__name__}: {exc}"
                if not isinstance(exc, RegiomatchError):
                    log.exception("job %s (%s) failed", job.id, job.kind)
                self.jobs.end(job.id, self.owner, FAILED, detail)
        else:
            if self._stop.is_set():
                self.jobs.end(job.id, self.owner, INTERRUPTED, STOPPED)
            elif event.is_set():
                self.jobs.end(job.id, self.owner, CANCELLED)
            else:
                self.jobs.finish(job.id, self.owner, result)
        finally:
            beat.set()
            self.current = None
            self._cancel.pop(job.id, None)
