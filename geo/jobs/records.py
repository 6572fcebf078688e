"""A job as the database keeps it: what it computes, where it stands, and what became of it.

Kept free of the database library (as :mod:`geo.storage.records`), so reading a job's status
or its Dutch wording loads nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED)
# Work still to come: a new request with the same inputs joins it instead of starting again.
PENDING = frozenset({QUEUED, RUNNING})
# Ended without a result: the same inputs submitted again run it again (same id).
RERUNNABLE = frozenset({FAILED, CANCELLED, INTERRUPTED})
FINISHED = frozenset({DONE, FAILED, CANCELLED, INTERRUPTED})

# What a user reads about a job's status (pages, reports).
STATUS_WORDS = {
    QUEUED: "wacht op zijn beurt",
    RUNNING: "wordt berekend",
    DONE: "klaar",
    FAILED: "mislukt",
    CANCELLED: "geannuleerd",
    INTERRUPTED: "onderbroken (de server werd herstart); u kunt de berekening opnieuw starten",
}


@dataclass(frozen=True)
class JobRecord:
    """One job. ``params`` are the inputs as JSON (enough to run it again after a restart);
    ``key`` identifies those inputs with the data they were computed on; ``subject`` is what the
    job is about (a layer id), so a report can find the latest finished job about its layer.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 12, 7, tzinfo=timezone.utc)
    >>> job = JobRecord("a1", "ensemble", "k", "eerstelijnszone", {}, "done", 1.0, "", "", t, t, t)
    >>> job.finished, job.to_dict()["status"]
    (True, 'done')
    """

    id: str
    kind: str
    key: str
    subject: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    has_result: bool = False
    cancel_requested: bool = False
    saved: dict[str, str] = field(default_factory=dict)  # plan/proposal number -> scenario id

    @property
    def finished(self) -> bool:
        """Whether the job has finished (in any final status)."""
        return self.status in FINISHED

    @property
    def pending(self) -> bool:
        """Whether the job is still waiting or running."""
        return self.status in PENDING

    def to_dict(self) -> dict[str, Any]:
        """The job's state for the API (English field names, ISO times)."""
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {"id": self.id, "kind": self.kind, "status": self.status, "progress": round(self.progress, 4),
                "message": self.message, "error": self.error or None, "subject": self.subject,
                "created_at": iso(self.created_at), "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at), "cancel_requested": self.cancel_requested}
