"""Persistence: SQLite by default, PostgreSQL through the same code, and a real server restart."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
from sqlalchemy import text

from geo.errors import Conflict, InvalidInput, UnknownLayer, UnknownScenario
from geo.storage.store import Store
from tests.postgres import ENV, ThrowawayPostgres
from tests.server import Server
from tests.system import PACKAGES, install_hint


@pytest.fixture(scope="session")
def postgres_url():
    if os.environ.get(ENV):
        yield os.environ[ENV]
        return
    try:
        server = ThrowawayPostgres()
    except Exception as exc:  # no binaries, or initdb failed: say why, visibly
        pytest.skip(f"PostgreSQL tests {install_hint(PACKAGES['postgresql'])} ({exc})")
    yield server.url
    server.stop()


def empty_database(request, tmp_path, backend_kind: str) -> str:
    """The URL of a database without regiomatch's tables: a new SQLite file, or the test
    PostgreSQL with its tables dropped (a first start, an upgrade from an older schema)."""
    if backend_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'leeg.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS scenarios, imported_layers, regiomatch_schema, alembic_version"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    else:
        url = request.getfixturevalue("postgres_url")
        s = Store(url)
        with s.engine.begin() as conn:  # each test starts empty
            conn.execute(text("DELETE FROM scenarios"))
            conn.execute(text("DELETE FROM imported_layers"))
    yield s
    s.dispose()


def test_scenario_round_trip(store):
    created = store.create_scenario("Proef", "eerstelijnszone", [{"nis_code": 34025, "to_zone": "elz18"}], "uitleg")
    loaded = store.get_scenario(created.id)
    assert (loaded.name, loaded.base_layer, loaded.moves, loaded.version, loaded.description) == (
        "Proef", "eerstelijnszone", [{"nis_code": 34025, "to_zone": "elz18"}], 1, "uitleg")
    assert [s.id for s in store.list_scenarios()] == [created.id]


def test_versioned_updates(store):
    created = store.create_scenario("a", "eerstelijnszone", [])
    updated = store.update_scenario(created.id, expected_version=1, name="b")
    assert (updated.name, updated.version) == ("b", 2)
    with pytest.raises(Conflict, match="version 2"):
        store.update_scenario(created.id, expected_version=1, name="c")
    assert store.get_scenario(created.id).name == "b"
    # Without a version, last write wins.
    assert store.update_scenario(created.id, expected_version=None, name="d").version == 3


def test_delete_and_unknown(store):
    created = store.create_scenario("a", "eerstelijnszone", [])
    store.delete_scenario(created.id)
    with pytest.raises(UnknownScenario):
        store.get_scenario(created.id)
    with pytest.raises(UnknownScenario):
        store.delete_scenario(created.id)


def test_imported_layers(store):
    members = [{"zone_code": "S1", "zone_name": "SEL", "nis_code": 34022, "share": 1.0}]
    store.create_layer("sel", "SEL", "import", "2025", "", members, None)
    assert store.get_layer("sel").members == members
    with pytest.raises(Conflict, match="sel"):
        store.create_layer("sel", "SEL", "import", "2025", "", members, None)
    store.delete_layer("sel")
    with pytest.raises(UnknownLayer):
        store.get_layer("sel")


def test_a_saved_layer_names_the_version_the_store_reads_back(store):
    """The import caches its layer under the record's version (geo.storage.workspace.remember_imported): it
    must be the version ``layer_stamp`` and ``layer_versions`` read later, in the database's
    precision and time zone, or the first request would read and parse the layer again."""
    members = [{"zone_code": "S1", "zone_name": "SEL", "nis_code": 34022, "share": 1.0}]
    record = store.create_layer("sel", "SEL", "import", "2025", "", members, None)
    assert record.created_at.isoformat() == store.layer_stamp("sel") == store.layer_versions()["sel"].isoformat()


def test_the_api_runs_on_postgresql(postgres_url, settings):
    """The same app code on PostgreSQL: a scenario saved through HTTP is read back through HTTP."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(settings.model_copy(update={"database_url": postgres_url}))) as client:
        name = f"pg-{uuid.uuid4().hex[:6]}"
        sid = client.post("/api/v1/scenarios", json={"name": name, "base_layer": "eerstelijnszone",
                                                     "moves": [{"nis_code": 34025, "to_zone": "elz18"}]}).json()["id"]
        assert client.get(f"/api/v1/scenarios/{sid}").json()["name"] == name
        overlay = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband", "b": f"scenario:{sid}"})
        assert overlay.status_code == 200


def test_saved_scenario_survives_a_server_restart(tmp_path):
    """A real server process on loopback: save, restart, find the scenario still there."""
    env = {"REGIOMATCH_STATE_DIR": str(tmp_path / "state")}
    with Server(env) as server:
        created = httpx.post(server.url + "/api/v1/scenarios", json={
            "name": "Blijft bewaard", "base_layer": "eerstelijnszone",
            "moves": [{"nis_code": 34025, "to_zone": "elz18"}]}, timeout=10)
        assert created.status_code == 201
        sid = created.json()["id"]
        server.restart()
        again = httpx.get(f"{server.url}/api/v1/scenarios/{sid}", timeout=10)
        assert again.status_code == 200
        assert again.json()["name"] == "Blijft bewaard"
        assert again.json()["moves"] == [{"nis_code": 34025, "to_zone": "elz18"}]
    assert (tmp_path / "state" / "regiomatch.sqlite3").exists()


def test_a_layer_deleted_while_the_layers_are_listed_is_left_out(store, catalog):
    """The soak test found it: the versions are read first, each record after; a layer deleted in
    between must drop out of the list, not turn every page that lists layers into a 404."""
    from geo.storage.workspace import Workspace

    members = [{"zone_code": "S1", "zone_name": "SEL", "nis_code": 34022, "share": 1.0}]
    store.create_layer("blijft", "Blijft", "import", "2025", "", members, None)
    store.create_layer("weg", "Weg", "import", "2025", "", members, None)
    workspace = Workspace(catalog, store)
    versions = store.layer_versions()
    store.delete_layer("weg")
    store.layer_versions = lambda: versions  # the version read happened before the delete
    ids = [layer.id for layer in workspace.layers()]
    assert "blijft" in ids and "weg" not in ids


def test_a_layer_keeps_how_its_shares_were_computed(store):
    """A polygon import's weighting and the zones it left out are saved with it, so another
    process (or the server after a restart) describes the layer as the import did."""
    members = [{"zone_code": "S1", "zone_name": "SEL", "nis_code": 34022, "share": 0.5}]
    store.create_layer("sel", "SEL", "import", "2025", "", members, None, weighting="population+area",
                       left_out=["C9", "C10"])
    record = store.get_layer("sel")
    assert (record.weighting, record.left_out) == ("population+area", ("C9", "C10"))
    store.create_layer("tabel", "Tabel", "import", "2025", "", members, None)
    assert (store.get_layer("tabel").weighting, store.get_layer("tabel").left_out) == ("", ())
    with pytest.raises(InvalidInput, match="weighting"):
        store.create_layer("fout", "Fout", "import", "2025", "", members, None, weighting="inwoners")
    with pytest.raises(UnknownLayer):
        store.get_layer("fout")  # refused before anything was written


_VERSION_1 = ("CREATE TABLE imported_layers (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, "
              "source TEXT NOT NULL, vintage VARCHAR(32) NOT NULL, description TEXT NOT NULL, members TEXT NOT NULL, "
              "polygons TEXT, created_at TIMESTAMP WITH TIME ZONE NOT NULL)",
              "CREATE TABLE regiomatch_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)",
              "INSERT INTO regiomatch_schema (id, version) VALUES (1, 1)",
              "INSERT INTO imported_layers VALUES ('oud', 'Oud', 'import', '2025', 'van voor de upgrade', "
              "'[{\"zone_code\": \"A\", \"zone_name\": \"A\", \"nis_code\": 34022, \"share\": 1.0}]', NULL, "
              "'2026-11-01 10:00:00+00:00')")


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_a_database_of_schema_version_1_is_upgraded_and_keeps_its_layers(request, tmp_path, backend_kind):
    from sqlalchemy import create_engine

    from geo.storage.store import SCHEMA_VERSION

    url = empty_database(request, tmp_path, backend_kind)
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in _VERSION_1:
            conn.execute(text(statement))
    engine.dispose()
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
        old = store.get_layer("oud")
        assert (old.name, old.description, old.weighting, old.left_out) == ("Oud", "van voor de upgrade", "", ())
        members = [{"zone_code": "S1", "zone_name": "SEL", "nis_code": 34022, "share": 1.0}]
        store.create_layer("nieuw", "Nieuw", "import", "2025", "", members, None, weighting="area", left_out=["X"])
        assert store.get_layer("nieuw").left_out == ("X",)
        Store(url).dispose()  # a second start finds the upgraded schema and changes nothing
        assert sorted(r.id for r in store.list_layers()) == ["nieuw", "oud"]
    finally:
        if backend_kind == "postgresql":
            with store.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS scenarios, imported_layers, regiomatch_schema, alembic_version"))
        store.dispose()
