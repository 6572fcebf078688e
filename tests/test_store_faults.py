"""Faults answered by name (issue 14, items 6 and 7): the same text limits on SQLite and
PostgreSQL, a damaged row skipped in lists, a full disk a 507, a damaged database a 503 from
/health, schema creation safe under simultaneous first starts, dependents kept consistent."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from geo.storage.store import MAX_CHAIN_DEPTH, SCHEMA_VERSION, Store
from tests.server import REPO
from tests.test_store import empty_database, postgres_url  # noqa: F401 - the session fixture

NUL = "\x00"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, settings):
    """The app on SQLite and on PostgreSQL, each starting empty."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        store = Store(url)
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM scenarios"))
            conn.execute(text("DELETE FROM imported_layers"))
        store.dispose()
        settings = settings.model_copy(update={"database_url": url})
    from api.main import create_app

    with TestClient(create_app(settings)) as client:
        yield client


def _csv() -> bytes:
    return b"nis_code,zone_code\n34022,K\n"


@pytest.mark.parametrize("field", ["name", "description"])
def test_nul_in_scenario_text_is_a_422_on_every_backend(backend, field):
    body = {"name": "x", "base_layer": "provincie", field: f"a{NUL}b"}
    response = backend.post("/api/v1/scenarios", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    sid = backend.post("/api/v1/scenarios", json={"name": "x", "base_layer": "provincie"}).json()["id"]
    response = backend.patch(f"/api/v1/scenarios/{sid}", json={field: f"a{NUL}b"})
    assert response.status_code == 422 and field in response.json()["detail"]


def test_the_same_length_limits_on_every_backend(backend):
    assert backend.post("/api/v1/scenarios", json={"name": "n" * 200, "base_layer": "provincie"}).status_code == 201
    response = backend.post("/api/v1/scenarios", json={"name": "n" * 201, "base_layer": "provincie"})
    assert response.status_code == 422 and "name" in response.json()["detail"]
    for form in ({"name": "n" * 201}, {"name": f"a{NUL}b"}, {"source": f"s{NUL}"}, {"source": "s" * 1001}):
        response = backend.post("/api/v1/layers", data={"id": "eigen", **form}, files={"file": ("e.csv", _csv())})
        assert response.status_code == 422, (form, response.text)
        assert next(iter(form)) in response.json()["detail"]
    long_zone = b"nis_code,zone_code,zone_name\n34022,K," + b"z" * 201 + b"\n"
    response = backend.post("/api/v1/layers", data={"id": "eigen"}, files={"file": ("e.csv", long_zone)})
    assert response.status_code == 422 and "zone_name" in response.json()["detail"]
    assert backend.post("/api/v1/layers", data={"id": "eigen", "name": "n" * 200},
                        files={"file": ("e.csv", _csv())}).status_code == 201


def test_nul_in_a_path_id_is_a_404_on_every_backend(backend):
    for path in ("/api/v1/layers/ab%00cd", "/api/v1/scenarios/ab%00cd", "/maps/scenario/ab%00cd",
                 "/api/v1/layers/" + "x" * 300):
        response = backend.get(path)
        assert response.status_code == 404, (path, response.text)
    assert backend.delete("/api/v1/layers/ab%00cd").status_code == 404


# -- damaged rows and databases ----------------------------------------------------------------------
def _sqlite_file(state_dir) -> str:
    return str(state_dir / "regiomatch.sqlite3")


def test_a_corrupt_scenario_row_is_skipped_in_lists_and_named_when_asked_for(client, state_dir):
    good = client.post("/api/v1/scenarios", json={"name": "goed", "base_layer": "provincie"}).json()["id"]
    bad = client.post("/api/v1/scenarios", json={"name": "stuk", "base_layer": "provincie"}).json()["id"]
    with sqlite3.connect(_sqlite_file(state_dir)) as db:
        db.execute("UPDATE scenarios SET moves = '{not json' WHERE id = ?", (bad,))
    listed = client.get("/api/v1/scenarios")
    assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [good]
    assert client.get("/").status_code == 200
    response = client.get(f"/api/v1/scenarios/{bad}")
    assert response.status_code == 500 and response.json()["code"] == "corrupt_record"
    assert bad in response.json()["detail"]
    assert client.delete(f"/api/v1/scenarios/{bad}").status_code == 204  # it can be cleaned up


def test_a_full_disk_is_a_507_and_nothing_is_half_saved(client, state_dir):
    from api.settings import workspace_for

    store = workspace_for(client.app.state.settings).store
    with sqlite3.connect(_sqlite_file(state_dir)) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]

    @event.listens_for(store.engine, "connect")
    def _tiny_disk(dbapi_connection, _):  # SQLite says SQLITE_FULL, as on a full disk
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

    store.engine.dispose()
    try:
        big = b"nis_code,zone_code,zone_name\n" + b"".join(b"%d,Z%d,%s\n" % (nis, i, b"n" * 150) for i, nis in
                                                         enumerate([34022, 34025, 34027, 34041, 34042] * 8))
        response = client.post("/api/v1/layers", data={"id": "vol"},
                               files={"file": ("v.csv", big)})
        assert response.status_code == 507, response.text
        assert response.json()["code"] == "storage_full" and "disk is full" in response.json()["detail"]
        assert client.get("/api/v1/layers").status_code == 200  # reads go on
    finally:
        event.remove(store.engine, "connect", _tiny_disk)
        store.engine.dispose()
    assert client.get("/api/v1/layers/vol").status_code == 404
    assert client.post("/api/v1/layers", data={"id": "vol"}, files={"file": ("v.csv", _csv())}).status_code == 201


def test_health_says_when_the_database_is_damaged(client, state_dir):
    assert client.get("/health").status_code == 200
    # The job runner's thread reads the database too: stopped first, as a reader mapping the WAL index
    # ("-shm") that is truncated under it dies of SIGBUS (the damage below is done behind SQLite's back).
    from api import jobs
    from api.settings import workspace_for

    jobs.stop_all()
    store = workspace_for(client.app.state.settings).store
    store.engine.dispose()
    path = _sqlite_file(state_dir)
    for suffix in ("-wal", "-shm"):
        with open(path + suffix, "wb"):
            pass
    with open(path, "r+b") as handle:
        handle.write(b"this is no database any more" * 200)
    response = client.get("/health")
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"


_FIRST_START = """
import sys, threading
from geo.storage.store import Store
barrier_file = sys.argv[2]
import time
while not __import__('os').path.exists(barrier_file):
    time.sleep(0.005)
store = Store(sys.argv[1])
store.create_scenario('s', 'provincie', [])
print(len(store.list_scenarios()) >= 1)
"""


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_eleven_simultaneous_first_starts_all_succeed(request, tmp_path, backend_kind):
    url = empty_database(request, tmp_path, backend_kind)
    go = tmp_path / "go"
    starts = [subprocess.Popen([sys.executable, "-c", _FIRST_START, url, str(go)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(11)]
    import time

    time.sleep(1.0)  # every interpreter is up and waiting
    go.touch()
    results = [process.communicate(timeout=120) for process in starts]
    failures = [err[-500:] for (out, err), process in zip(results, starts) if process.returncode != 0]
    assert failures == []
    assert all(out.strip() == "True" for out, _ in results)
    store = Store(url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
    assert len(store.list_scenarios()) == 11
    store.dispose()


# -- dependents ----------------------------------------------------------------------------------
def test_a_scenario_on_a_scenario_shows_an_undo_in_its_base_at_once(client):
    base = client.post("/api/v1/scenarios", json={"name": "basis", "base_layer": "eerstelijnszone",
                                                  "moves": [{"nis_code": 34025, "to_zone": "elz18"}]}).json()
    top = client.post("/api/v1/scenarios", json={"name": "bovenop", "base_layer": f"scenario:{base['id']}"}).json()

    def zone_of_lendelede(layer_id: str) -> str:
        members = client.get(f"/api/v1/layers/{layer_id}/members").json()
        return next(m["zone_code"] for m in members if m["nis_code"] == 34025)

    assert zone_of_lendelede(f"scenario:{top['id']}") == "elz18"
    assert client.patch(f"/api/v1/scenarios/{base['id']}", json={"undo": [34025]}).status_code == 200
    assert zone_of_lendelede(f"scenario:{top['id']}") == zone_of_lendelede("eerstelijnszone") != "elz18"


def test_deleting_what_scenarios_use_is_a_409_naming_them(client):
    assert client.post("/api/v1/layers", data={"id": "eigen"}, files={"file": ("e.csv", _csv())}).status_code == 201
    first = client.post("/api/v1/scenarios", json={"name": "a", "base_layer": "eigen"}).json()["id"]
    second = client.post("/api/v1/scenarios", json={"name": "b", "base_layer": f"scenario:{first}"}).json()["id"]
    response = client.delete("/api/v1/layers/eigen")
    assert response.status_code == 409 and first in response.json()["detail"]
    response = client.delete(f"/api/v1/scenarios/{first}")
    assert response.status_code == 409 and second in response.json()["detail"]
    assert client.get(f"/maps/scenario/{second}").status_code == 200
    # In order, from the top, it all goes.
    assert client.delete(f"/api/v1/scenarios/{second}").status_code == 204
    assert client.delete(f"/api/v1/scenarios/{first}").status_code == 204
    assert client.delete("/api/v1/layers/eigen").status_code == 204


def test_a_chain_of_scenarios_has_a_depth_limit(client):
    base = "provincie"
    for _ in range(MAX_CHAIN_DEPTH):
        response = client.post("/api/v1/scenarios", json={"name": "s", "base_layer": base})
        assert response.status_code == 201, response.text
        base = f"scenario:{response.json()['id']}"
    response = client.post("/api/v1/scenarios", json={"name": "te diep", "base_layer": base})
    assert response.status_code == 422 and str(MAX_CHAIN_DEPTH) in response.json()["detail"]
    assert client.get(f"/api/v1/layers/{base}").status_code == 200  # the deepest allowed still resolves
