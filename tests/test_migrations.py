"""Alembic's revisions (geo/storage/migrations) on SQLite and PostgreSQL: a database the previous
regiomatch made keeps every row and ends at head, the models and the revisions agree, a database of
a newer regiomatch is refused, and a start on a new database or one at head does not load Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from geo.errors import DatabaseUnavailable
from geo.storage import schema
from geo.storage.store import SCHEMA_VERSION, Store
from tests.test_store import postgres_url  # noqa: F401 (the session's PostgreSQL)

REPO = Path(__file__).resolve().parent.parent
TABLES = ("jobs", "scenarios", "imported_layers", "regiomatch_schema", "alembic_version", "users", "api_tokens",
          "sessions", "audit")

# The tables as the previous regiomatch (schema version 4, before Alembic) created them, with rows.
_TS = "TIMESTAMP WITH TIME ZONE"
_PREVIOUS = (
    f"CREATE TABLE scenarios (id VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL, base_layer VARCHAR(100) "
    f"NOT NULL, description TEXT NOT NULL, moves TEXT NOT NULL, version INTEGER NOT NULL, created_at {_TS} NOT NULL, "
    f"updated_at {_TS} NOT NULL, owner VARCHAR(64))",
    f"CREATE TABLE imported_layers (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, source TEXT NOT NULL, "
    f"vintage VARCHAR(32) NOT NULL, description TEXT NOT NULL, members TEXT NOT NULL, polygons TEXT, "
    f"created_at {_TS} NOT NULL, weighting VARCHAR(32), left_out TEXT, owner VARCHAR(64))",
    "CREATE TABLE regiomatch_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)",
    f"CREATE TABLE jobs (id VARCHAR(32) PRIMARY KEY, kind VARCHAR(32) NOT NULL, key VARCHAR(128) NOT NULL UNIQUE, "
    f"subject VARCHAR(100) NOT NULL, params TEXT NOT NULL, status VARCHAR(16) NOT NULL, progress FLOAT NOT NULL, "
    f"message TEXT NOT NULL, error TEXT NOT NULL, cancel_requested INTEGER NOT NULL, owner VARCHAR(200), "
    f"heartbeat {_TS}, created_at {_TS} NOT NULL, started_at {_TS}, finished_at {_TS}, result BLOB_TYPE, saved TEXT)",
    "CREATE INDEX jobs_by_status ON jobs (status, created_at)",
    "CREATE INDEX jobs_by_subject ON jobs (kind, subject, status)",
    f"CREATE TABLE users (name VARCHAR(64) PRIMARY KEY, role VARCHAR(16) NOT NULL, password_hash VARCHAR(200), "
    f"created_at {_TS} NOT NULL)",
    f"CREATE TABLE api_tokens (token_hash VARCHAR(64) PRIMARY KEY, user_name VARCHAR(64) NOT NULL, "
    f"label VARCHAR(200) NOT NULL, created_at {_TS} NOT NULL)",
    "CREATE INDEX ix_api_tokens_user_name ON api_tokens (user_name)",
    f"CREATE TABLE sessions (id_hash VARCHAR(64) PRIMARY KEY, user_name VARCHAR(64), key VARCHAR(64) NOT NULL, "
    f"created_at {_TS} NOT NULL, expires_at {_TS} NOT NULL)",
    "CREATE INDEX ix_sessions_user_name ON sessions (user_name)",
    f"CREATE TABLE audit (id SERIAL_TYPE PRIMARY KEY, at {_TS} NOT NULL, actor VARCHAR(64) NOT NULL, "
    f"action VARCHAR(16) NOT NULL, kind VARCHAR(16) NOT NULL, object_id VARCHAR(100) NOT NULL, "
    f"before_version VARCHAR(40), after_version VARCHAR(40), detail TEXT NOT NULL)",
    "INSERT INTO regiomatch_schema (id, version) VALUES (1, 4)",
    "INSERT INTO scenarios VALUES ('abc123', 'Oud plan', 'eerstelijnszone', 'voor de upgrade', "
    "'[{\"nis_code\": 34022, \"to_zone\": \"elz18\"}]', 7, '2026-11-01 10:00:00+00:00', "
    "'2026-11-02 10:00:00+00:00', 'ann')",
    "INSERT INTO imported_layers VALUES ('oud', 'Oud', 'import', '2025', 'van voor de upgrade', "
    "'[{\"zone_code\": \"A\", \"zone_name\": \"A\", \"nis_code\": 34022, \"share\": 1.0}]', NULL, "
    "'2026-11-01 10:00:00+00:00', 'area', '[\"B\"]', 'ann')",
    "INSERT INTO users VALUES ('ann', 'bijdrager', 'scrypt$x', '2026-10-01 09:00:00+00:00')",
    "INSERT INTO api_tokens VALUES ('f00d', 'ann', 'qgis', '2026-10-02 09:00:00+00:00')",
    "INSERT INTO sessions VALUES ('beef', 'ann', 'accounts', '2026-12-01 09:00:00+00:00', '2026-12-31 09:00:00+00:00')",
    "INSERT INTO audit (at, actor, action, kind, object_id, before_version, after_version, detail) VALUES "
    "('2026-11-02 10:00:00+00:00', 'ann', 'update', 'scenario', 'abc123', '6', '7', '')",
    "INSERT INTO jobs VALUES ('j1', 'ensemble', 'k1', 'eerstelijnszone', '{\"seed\": 1}', 'done', 1.0, 'klaar', '', "
    "0, NULL, NULL, '2026-11-03 10:00:00+00:00', '2026-11-03 10:00:01+00:00', '2026-11-03 10:05:00+00:00', "
    "NULL, '{\"1\": \"abc123\"}')",
)


def _empty(request, tmp_path, backend_kind: str) -> str:
    if backend_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    _drop(url)
    return url


def _drop(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(TABLES)}"))
        engine.dispose()


def _rows(url: str) -> dict[str, list]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {table: sorted(tuple(str(v) for v in row) for row in conn.execute(text(f"SELECT * FROM {table}")))
                 for table in TABLES if table not in ("alembic_version", "regiomatch_schema")}
    engine.dispose()
    return found


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_a_database_of_the_previous_regiomatch_keeps_every_row_and_ends_at_head(request, tmp_path, backend_kind):
    url = _empty(request, tmp_path, backend_kind)
    engine = create_engine(url)
    blob, serial = ("BLOB", "INTEGER") if backend_kind == "sqlite" else ("BYTEA", "SERIAL")
    with engine.begin() as conn:
        for statement in _PREVIOUS:
            conn.execute(text(statement.replace("BLOB_TYPE", blob).replace("SERIAL_TYPE", serial)))
    engine.dispose()
    before = _rows(url)
    assert all(before.values())  # a row in every table
    try:
        store = Store(url)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(schema.HEAD,)]
            assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
        assert _rows(url) == before
        assert store.get_scenario("abc123").moves == [{"nis_code": 34022, "to_zone": "elz18"}]
        assert store.accounts.get_user("ann").role == "bijdrager"
        assert store.jobs.get("j1").status == "done"
        store.dispose()
        Store(url).dispose()  # a second start finds head and changes nothing
        assert _rows(url) == before
    finally:
        _drop(url)


# The first regiomatch's tables (no schema version at all), with a saved scenario and a layer.
_FIRST = (
    f"CREATE TABLE scenarios (id VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL, base_layer VARCHAR(100) "
    f"NOT NULL, description TEXT NOT NULL, moves TEXT NOT NULL, version INTEGER NOT NULL, created_at {_TS} NOT NULL, "
    f"updated_at {_TS} NOT NULL)",
    f"CREATE TABLE imported_layers (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, source TEXT NOT NULL, "
    f"vintage VARCHAR(32) NOT NULL, description TEXT NOT NULL, members TEXT NOT NULL, polygons TEXT, "
    f"created_at {_TS} NOT NULL)",
    "INSERT INTO scenarios VALUES ('first1', 'Eerste plan', 'eerstelijnszone', '', "
    "'[{\"nis_code\": 34022, \"to_zone\": \"elz18\"}]', 2, '2026-10-01 10:00:00+00:00', '2026-10-01 10:00:00+00:00')",
    "INSERT INTO imported_layers VALUES ('eerst', 'Eerst', 'import', '2025', '', "
    "'[{\"zone_code\": \"A\", \"zone_name\": \"A\", \"nis_code\": 34022, \"share\": 1.0}]', NULL, "
    "'2026-10-01 10:00:00+00:00')",
)


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_a_database_of_the_first_regiomatch_without_a_schema_version_gets_every_column(request, tmp_path,
                                                                                        backend_kind):
    """No regiomatch_schema, no alembic_version: version 1's tables. Every later column is added
    (the owner of a scenario, the weighting of a layer) and the saved work is read as before."""
    url = _empty(request, tmp_path, backend_kind)
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in _FIRST:
            conn.execute(text(statement))
    engine.dispose()
    try:
        store = Store(url)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(schema.HEAD,)]
            assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
        scenario = store.get_scenario("first1")
        assert (scenario.name, scenario.moves, scenario.owner) == ("Eerste plan", [{"nis_code": 34022, "to_zone": "elz18"}],
                                                                  None)
        assert store.create_scenario("na", "eerstelijnszone", []).owner is None  # writes work (owner column)
        assert "eerst" in {layer.id for layer in store.list_layers()}
        store.dispose()
    finally:
        _drop(url)


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_the_models_and_the_revisions_agree(request, tmp_path, backend_kind):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from geo.storage import accounts, store

    assert ScriptDirectory.from_config(schema.alembic_config()).get_heads() == [schema.HEAD]
    url = _empty(request, tmp_path, backend_kind)
    try:
        engine = store.make_engine(url)
        with engine.begin() as conn:  # every revision from the baseline on, as for an old database
            command.upgrade(schema.alembic_config(conn), "head")
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, [store.metadata, accounts.metadata]) == []
            assert set(inspect(conn).get_table_names()) == set(TABLES)
            by_revisions = _rows(url)
        engine.dispose()
        assert by_revisions["jobs"] == [] and schema.revision(create_engine(url)) == schema.HEAD
    finally:
        _drop(url)


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_a_new_database_made_from_the_models_is_at_head_and_upgrades_from_there(request, tmp_path, backend_kind):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from geo.storage import accounts, store

    url = _empty(request, tmp_path, backend_kind)
    try:
        Store(url).dispose()  # a new database: the models' tables, recorded at head
        engine = store.make_engine(url)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == schema.HEAD  # Alembic reads it
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, [store.metadata, accounts.metadata]) == []
            assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
        with engine.begin() as conn:  # Alembic finds nothing to do
            command.upgrade(schema.alembic_config(conn), "head")
        engine.dispose()
        assert schema.revision(create_engine(url)) == schema.HEAD
    finally:
        _drop(url)


def test_a_database_of_a_newer_regiomatch_is_refused_and_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'nieuwer.sqlite3'}"
    Store(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    engine.dispose()
    with pytest.raises(DatabaseUnavailable, match="newer than this regiomatch"):
        Store(url)
    assert schema.revision(create_engine(url)) == "ffff_from_the_future"


def test_a_start_on_a_new_database_or_one_at_head_does_not_load_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'kop.sqlite3'}"
    code = ("import sys; from geo.storage.store import Store; Store(sys.argv[1]).dispose(); "
            "print('alembic' in sys.modules)")
    for _ in ("new", "at head"):
        out = subprocess.run([sys.executable, "-c", code, url], cwd=REPO, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"
    assert schema.revision(create_engine(url)) == schema.HEAD
