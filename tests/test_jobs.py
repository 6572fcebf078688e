"""Jobs in the database (schema version 4) and the runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, inspect, text

from geo.errors import UnknownJob
from geo.jobs.records import CANCELLED, DONE, FAILED, INTERRUPTED, QUEUED, RUNNING
from geo.jobs.runner import JobRunner, owner_alive
from geo.storage.jobs import create_table as _create_jobs
from geo.storage.store import SCHEMA_VERSION, Store
from tests.test_store import postgres_url  # noqa: F401 (the session's PostgreSQL)

TABLES = "jobs, scenarios, imported_layers, regiomatch_schema, alembic_version"


def _database(request, tmp_path, backend_kind: str) -> str:
    """An empty database: a new SQLite file, or the test PostgreSQL with regiomatch's tables dropped."""
    if backend_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLES}"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    s = Store(_database(request, tmp_path, request.param))
    yield s
    if request.param == "postgresql":
        with s.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {TABLES}"))
    s.dispose()


_VERSION_2 = ("CREATE TABLE scenarios (id VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL, base_layer VARCHAR(100) "
              "NOT NULL, description TEXT NOT NULL, moves TEXT NOT NULL, version INTEGER NOT NULL, "
              "created_at TIMESTAMP WITH TIME ZONE NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL)",
              "CREATE TABLE imported_layers (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, "
              "source TEXT NOT NULL, vintage VARCHAR(32) NOT NULL, description TEXT NOT NULL, members TEXT NOT NULL, "
              "polygons TEXT, created_at TIMESTAMP WITH TIME ZONE NOT NULL, weighting VARCHAR(32), left_out TEXT)",
              "CREATE TABLE regiomatch_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)",
              "INSERT INTO regiomatch_schema (id, version) VALUES (1, 2)",
              "INSERT INTO scenarios VALUES ('s1', 'Oud scenario', 'eerstelijnszone', '', '[]', 3, "
              "'2026-11-01 10:00:00+00:00', '2026-11-02 10:00:00+00:00')")


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_a_database_of_schema_version_2_gets_the_job_table_and_keeps_its_scenarios(request, tmp_path, backend_kind):
    url = _database(request, tmp_path, backend_kind)
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in _VERSION_2:
            conn.execute(text(statement))
    engine.dispose()
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION >= 4
        assert "jobs" in inspect(store.engine).get_table_names()
        assert store.get_scenario("s1").version == 3
        # The step is idempotent and independent of the others: run again on the upgraded schema.
        with store.engine.begin() as conn:
            _create_jobs(conn)
            _create_jobs(conn)
        job, new = store.jobs.submit("ensemble", "k", "eerstelijnszone", {"seed": 1})
        Store(url).dispose()  # a second start finds the upgraded schema and changes nothing
        assert new and store.jobs.get(job.id).status == QUEUED
    finally:
        if backend_kind == "postgresql":
            with store.engine.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {TABLES}"))
        store.dispose()


def test_the_same_inputs_give_the_same_job_and_a_result_is_kept(store):
    jobs = store.jobs
    job, new = jobs.submit("ensemble", "key-a", "eerstelijnszone", {"seed": 1})
    assert new and job.status == QUEUED and job.progress == 0.0
    assert jobs.submit("ensemble", "key-a", "eerstelijnszone", {"seed": 1}) == (jobs.get(job.id), False)
    claimed = jobs.claim("me")
    assert claimed.id == job.id and claimed.status == RUNNING and claimed.started_at is not None
    assert jobs.claim("someone else") is None  # one runner per job
    assert jobs.report(job.id, "me", 0.4, "keten 1 van 4") is False
    assert (jobs.get(job.id).progress, jobs.get(job.id).message) == (0.4, "keten 1 van 4")
    assert jobs.report(job.id, "someone else", 0.9) is False
    assert jobs.get(job.id).progress == 0.4  # only the owner reports
    result = bytes(range(256)) * 1000
    assert jobs.finish(job.id, "me", result)
    done = jobs.get(job.id)
    assert (done.status, done.progress, done.finished) == (DONE, 1.0, True)
    assert jobs.result(job.id) == result
    again, new = jobs.submit("ensemble", "key-a", "eerstelijnszone", {"seed": 1})
    assert (again.id, again.status, new) == (job.id, DONE, False)  # served, not recomputed
    assert jobs.latest("ensemble", "eerstelijnszone").id == job.id
    assert jobs.latest("ensemble", "logo") is None
    with pytest.raises(UnknownJob):
        jobs.get("nope")


def test_cancel_interrupt_and_run_again(store):
    jobs = store.jobs
    queued, _ = jobs.submit("ensemble", "q", "x", {})
    assert jobs.cancel(queued.id).status == CANCELLED  # queued: at once
    running, _ = jobs.submit("ensemble", "r", "x", {})
    jobs.claim("me")
    assert jobs.cancel(running.id).cancel_requested  # running: its runner is told
    assert jobs.report(running.id, "me", 0.5) is True
    assert jobs.end(running.id, "me", CANCELLED)
    assert jobs.finish(running.id, "me", b"late") is False  # a finish after the end changes nothing
    orphan, _ = jobs.submit("ensemble", "o", "x", {})
    jobs.claim("otherhost:1:dead")
    assert jobs.interrupt_orphans(lambda owner, beat: owner != "otherhost:1:dead") == [orphan.id]
    assert jobs.get(orphan.id).status == INTERRUPTED
    rerun, new = jobs.submit("ensemble", "o", "x", {"again": True})
    assert (rerun.id, rerun.status, new, rerun.params) == (orphan.id, QUEUED, True, {"again": True})
    failed, _ = jobs.submit("ensemble", "f", "x", {})
    assert jobs.claim("me").id == orphan.id  # the oldest queued first
    assert jobs.claim("me").id == failed.id
    jobs.end(failed.id, "me", FAILED, "boom")
    assert jobs.get(failed.id).error == "boom"
    assert jobs.submit("ensemble", "f", "x", {})[0].status == QUEUED


def test_plans_saved_as_scenarios_are_remembered(store):
    job, _ = store.jobs.submit("ensemble", "s", "x", {})
    store.jobs.remember_saved(job.id, 3, "abc123")
    assert store.jobs.get(job.id).saved == {"3": "abc123"}


def test_a_dead_process_owns_nothing():
    assert owner_alive("elders:12:t", None) is False  # another machine, no heartbeat
    assert owner_alive(f"{__import__('socket').gethostname()}:999999999:t", None) is False


def test_the_runner_runs_reports_cancels_and_interrupts(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'runner.sqlite3'}")
    started = threading.Event()
    seen: list[float] = []

    def slow(job, progress, cancelled):
        started.set()
        for i in range(400):
            if cancelled():
                raise RuntimeError("stopped on request")
            progress(i / 400)
            seen.append(i / 400)
            time.sleep(0.01)
        return b"klaar"

    def fails(job, progress, cancelled):
        raise ValueError("kapot")

    runner = JobRunner(store.jobs, {"slow": slow, "fails": fails, "quick": lambda j, p, c: b"ok"}).start()
    try:
        quick, _ = store.jobs.submit("quick", "1", "", {})
        runner.wake()
        _wait(lambda: store.jobs.get(quick.id).status == DONE)
        assert store.jobs.result(quick.id) == b"ok"
        bad, _ = store.jobs.submit("fails", "2", "", {})
        runner.wake()
        _wait(lambda: store.jobs.get(bad.id).status == FAILED)
        assert "kapot" in store.jobs.get(bad.id).error
        slow_job, _ = store.jobs.submit("slow", "3", "", {})
        runner.wake()
        assert started.wait(10)
        _wait(lambda: store.jobs.get(slow_job.id).progress > 0)
        runner.cancel(slow_job.id)
        _wait(lambda: store.jobs.get(slow_job.id).status == CANCELLED)
        assert len(seen) < 400
        # A runner that stops (the server shuts down) leaves its job interrupted, to run again.
        started.clear()
        store.jobs.submit("slow", "3", "", {})
        runner.wake()
        assert started.wait(10)
    finally:
        runner.stop()
    assert store.jobs.get(slow_job.id).status == INTERRUPTED
    store.dispose()


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never became true")
        time.sleep(0.02)
