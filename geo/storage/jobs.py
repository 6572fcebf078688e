"""Jobs in the database: submitted, claimed by one runner, followed, finished with a stored result.

Every state change is one compare-and-set ``UPDATE`` on the job's status, so two server
processes on one database never run the same job twice, and a cancel or a finish that comes
too late changes nothing. Results are bytes (see :mod:`geo.jobs.codec`), kept compressed.

Examples
--------
>>> from geo.storage.store import Store
>>> jobs = Store("sqlite://").jobs
>>> job, new = jobs.submit("demo", "key-1", "eerstelijnszone", {"seed": 1})
>>> new, job.status
(True, 'queued')
>>> jobs.submit("demo", "key-1", "eerstelijnszone", {"seed": 1})[0].id == job.id
True
"""

from __future__ import annotations

import builtins
import json
import secrets
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Float, Index, Integer, LargeBinary, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from geo.errors import InvalidInput, UnknownJob
from geo.jobs.records import CANCELLED, DONE, FAILED, INTERRUPTED, QUEUED, RERUNNABLE, RUNNING, JobRecord
from geo.storage.base import aware as _aware
from geo.storage.base import metadata
from geo.storage.base import translated as _translated
from geo.storage.base import valid_id as _valid_id

# Columns read for a record: everything except the (possibly large) result.
# Schema version 4: long work as jobs (geo.jobs, geo.storage.jobs): inputs, status, progress and
# the compressed result, keyed by the inputs (``key``), so the same inputs are served, not recomputed.
table = Table(
    "jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(128), nullable=False, unique=True),
    Column("subject", String(100), nullable=False, default=""),  # what it is about: a layer id
    Column("params", Text, nullable=False),  # JSON: enough to run it again
    Column("status", String(16), nullable=False),  # geo.jobs.records.STATUSES
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", Text, nullable=False, default=""),
    Column("error", Text, nullable=False, default=""),
    Column("cancel_requested", Integer, nullable=False, default=0),
    Column("owner", String(200), nullable=True),  # host:pid:token of the runner holding it
    Column("heartbeat", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("result", LargeBinary, nullable=True),  # zlib-compressed (geo.jobs.codec)
    Column("saved", Text, nullable=True),  # JSON: plan number -> scenario id saved from it
    Index("jobs_by_status", "status", "created_at"),
    Index("jobs_by_subject", "kind", "subject", "status"),
)


def create_table(conn: Any) -> None:
    """Schema step 4: the job table and its indexes, if missing (so the step may run twice, and in
    any order with the other steps: it depends on none of them)."""
    table.create(conn, checkfirst=True)



_COLUMNS = [c for c in table.c if c.name != "result"]
MAX_MESSAGE = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


class JobStore:
    """The job table of one database (``Store(url).jobs``)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- submitting ---------------------------------------------------------------------------
    def submit(self, kind: str, key: str, subject: str, params: dict[str, Any]) -> tuple[JobRecord, bool]:
        """The job for these inputs and whether it was (re)queued now.

        A job with the same ``key`` that is queued, running or done is returned as it is (the
        result is served, not recomputed); one that failed, was cancelled or interrupted is queued
        again under its id. Otherwise a new job is queued.
        """
        for _ in range(3):
            existing = self.by_key(key)
            if existing is not None:
                if existing.status not in RERUNNABLE:
                    return existing, False
                with _translated(), self.engine.begin() as conn:
                    changed = conn.execute(update(table).where(table.c.id == existing.id)
                                           .where(table.c.status == existing.status).values(
                        status=QUEUED, progress=0.0, message="", error="", cancel_requested=0, owner=None,
                        started_at=None, finished_at=None, heartbeat=None, result=None,
                        params=json.dumps(params), created_at=_now())).rowcount
                if changed == 1:
                    return self.get(existing.id), True
                continue  # someone else requeued or changed it first: read again
            try:
                job_id = secrets.token_hex(8)
                with _translated(), self.engine.begin() as conn:
                    conn.execute(insert(table).values(
                        id=job_id, kind=kind, key=key, subject=subject, params=json.dumps(params), status=QUEUED,
                        progress=0.0, message="", error="", cancel_requested=0, saved="{}", created_at=_now()))
                return self.get(job_id), True
            except IntegrityError:
                continue  # the same inputs were submitted at the same moment: take theirs
        existing = self.by_key(key)
        if existing is None:
            raise InvalidInput(f"the job for key {key!r} could not be submitted; try again")
        return existing, False

    # -- reading ------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        """The job with this id; UnknownJob if there is none."""
        if not _valid_id(job_id):
            raise UnknownJob(f"unknown job {job_id!r}")
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(table.c.id == job_id)).mappings().first()
        if row is None:
            raise UnknownJob(f"unknown job {job_id!r}")
        return _record(row)

    def by_key(self, key: str) -> JobRecord | None:
        """The job with this key, or None."""
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(table.c.key == key)).mappings().first()
        return None if row is None else _record(row)

    def latest(self, kind: str, subject: str | None = None, status: str = DONE) -> JobRecord | None:
        """The most recently finished (or created) job of this kind about ``subject``, in ``status``."""
        query = select(*_COLUMNS).where(table.c.kind == kind).where(table.c.status == status)
        if subject is not None:
            query = query.where(table.c.subject == subject)
        query = query.order_by(table.c.finished_at.desc(), table.c.created_at.desc()).limit(1)
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _record(row)

    def list(self, kind: str | None = None, limit: int = 50) -> list[JobRecord]:
        """The latest ``limit`` jobs (of ``kind`` when given), newest first."""
        query = select(*_COLUMNS).order_by(table.c.created_at.desc()).limit(limit)
        if kind is not None:
            query = query.where(table.c.kind == kind)
        with _translated(), self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).mappings().all()]

    def result(self, job_id: str) -> bytes:
        """The stored result of a finished job (decompressed)."""
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(table.c.status, table.c.result).where(table.c.id == job_id)).first()
        if row is None:
            raise UnknownJob(f"unknown job {job_id!r}")
        if row[0] != DONE or row[1] is None:
            raise InvalidInput(f"job {job_id!r} has no result (status {row[0]})")
        return zlib.decompress(row[1])

    # -- running ------------------------------------------------------------------------------
    def claim(self, owner: str) -> JobRecord | None:
        """Take the oldest queued job for ``owner`` (one runner of one process), or None."""
        with _translated(), self.engine.connect() as conn:
            candidates = [r[0] for r in conn.execute(select(table.c.id).where(table.c.status == QUEUED)
                                                     .order_by(table.c.created_at).limit(5))]
        for job_id in candidates:
            now = _now()
            with _translated(), self.engine.begin() as conn:
                taken = conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == QUEUED)
                                     .values(status=RUNNING, owner=owner, started_at=now, heartbeat=now,
                                             progress=0.0)).rowcount
            if taken == 1:
                return self.get(job_id)
        return None

    def report(self, job_id: str, owner: str, progress: float | None = None, message: str | None = None) -> bool:
        """Record progress (and a heartbeat) of a running job; True when a cancel was asked."""
        values: dict[str, Any] = {"heartbeat": _now()}
        if progress is not None:
            values["progress"] = min(max(float(progress), 0.0), 1.0)
        if message is not None:
            values["message"] = message[:MAX_MESSAGE]
        with _translated(), self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == RUNNING)
                         .where(table.c.owner == owner).values(**values))
            row = conn.execute(select(table.c.cancel_requested).where(table.c.id == job_id)).first()
        return bool(row and row[0])

    def finish(self, job_id: str, owner: str, result: bytes, message: str = "") -> bool:
        """Store the result and mark the job done (only if this owner still runs it)."""
        packed = zlib.compress(result, 6)
        with _translated(), self.engine.begin() as conn:
            return conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == RUNNING)
                                .where(table.c.owner == owner).values(
                status=DONE, progress=1.0, result=packed, message=message[:MAX_MESSAGE], finished_at=_now(),
                heartbeat=_now())).rowcount == 1

    def end(self, job_id: str, owner: str, status: str, error: str = "") -> bool:
        """Mark a running job failed, cancelled or interrupted (its server stops)."""
        if status not in (FAILED, CANCELLED, INTERRUPTED):
            raise ValueError(f"a job ends as failed, cancelled or interrupted here, not {status!r}")
        with _translated(), self.engine.begin() as conn:
            return conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == RUNNING)
                                .where(table.c.owner == owner).values(
                status=status, error=error[:MAX_MESSAGE], finished_at=_now())).rowcount == 1

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a job: a queued one at once, a running one when its runner next looks (soon);
        a finished job stays as it is."""
        job = self.get(job_id)
        with _translated(), self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == QUEUED)
                         .values(status=CANCELLED, finished_at=_now()))
            conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == RUNNING)
                         .values(cancel_requested=1))
        return self.get(job.id)

    def interrupt_orphans(self, alive: Callable[[str, datetime | None], bool]) -> builtins.list[str]:
        """Mark running jobs whose runner is gone (``alive(owner, heartbeat)`` is False) as
        interrupted; their ids. Called when a runner starts and then now and then."""
        with _translated(), self.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.owner, table.c.heartbeat)
                                .where(table.c.status == RUNNING)).all()
        gone = [(r[0], r[1]) for r in rows if not alive(r[1] or "", _aware(r[2]) if r[2] else None)]
        interrupted = []
        for job_id, owner in gone:
            with _translated(), self.engine.begin() as conn:
                # Only if the same runner still holds it (not one that claimed it again meanwhile).
                if conn.execute(update(table).where(table.c.id == job_id).where(table.c.status == RUNNING)
                                .where(table.c.owner == owner).values(
                                    status=INTERRUPTED, finished_at=_now(),
                                    error="the server stopped while this job ran")).rowcount == 1:
                    interrupted.append(job_id)
        return interrupted

    def remember_saved(self, job_id: str, number: int, scenario_id: str) -> None:
        """Note that plan or proposal ``number`` of this job was saved as ``scenario_id``."""
        with _translated(), self.engine.begin() as conn:
            row = conn.execute(select(table.c.saved).where(table.c.id == job_id)).first()
            if row is None:
                raise UnknownJob(f"unknown job {job_id!r}")
            saved = json.loads(row[0] or "{}")
            saved[str(number)] = scenario_id
            conn.execute(update(table).where(table.c.id == job_id).values(saved=json.dumps(saved)))


def stale(heartbeat: datetime | None, seconds: float) -> bool:
    """Whether a heartbeat is older than ``seconds`` (or missing).

    Examples
    --------
    >>> stale(None, 60)
    True
    """
    return heartbeat is None or _now() - heartbeat > timedelta(seconds=seconds)


def _record(row: Any) -> JobRecord:
    return JobRecord(
        id=row["id"], kind=row["kind"], key=row["key"], subject=row["subject"] or "",
        params=json.loads(row["params"] or "{}"), status=row["status"], progress=float(row["progress"] or 0.0),
        message=row["message"] or "", error=row["error"] or "", created_at=_aware(row["created_at"]),
        started_at=_aware(row["started_at"]) if row["started_at"] else None,
        finished_at=_aware(row["finished_at"]) if row["finished_at"] else None,
        has_result=row["status"] == DONE, cancel_requested=bool(row["cancel_requested"]),
        saved={str(k): str(v) for k, v in json.loads(row["saved"] or "{}").items()})
