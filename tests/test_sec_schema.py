"""Schema version 3 (named users): a version-2 database is upgraded in place on SQLite and
PostgreSQL, keeps every scenario and layer (owned by nobody, so only a beheerder changes them),
and the upgrade step is idempotent and independent of the other steps."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from geo.storage.store import MIGRATIONS, SCHEMA_VERSION, Store, _upgrade
from tests.test_store import postgres_url  # noqa: F401 (the fixture)

ALL_TABLES = "scenarios, imported_layers, regiomatch_schema, alembic_version, users, api_tokens, sessions, audit"
_VERSION_2 = (
    "CREATE TABLE scenarios (id VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL, base_layer VARCHAR(100) NOT NULL, "
    "description TEXT NOT NULL, moves TEXT NOT NULL, version INTEGER NOT NULL, "
    "created_at TIMESTAMP WITH TIME ZONE NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL)",
    "CREATE TABLE imported_layers (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, source TEXT NOT NULL, "
    "vintage VARCHAR(32) NOT NULL, description TEXT NOT NULL, members TEXT NOT NULL, polygons TEXT, "
    "created_at TIMESTAMP WITH TIME ZONE NOT NULL, weighting VARCHAR(32), left_out TEXT)",
    "CREATE TABLE regiomatch_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)",
    "INSERT INTO regiomatch_schema (id, version) VALUES (1, 2)",
    "INSERT INTO scenarios VALUES ('abc123', 'Oud plan', 'eerstelijnszone', '', '[]', 4, "
    "'2026-11-01 10:00:00+00:00', '2026-11-02 10:00:00+00:00')",
    "INSERT INTO imported_layers VALUES ('oud', 'Oud', 'import', '2025', 'van voor de upgrade', "
    "'[{\"zone_code\": \"A\", \"zone_name\": \"A\", \"nis_code\": 34022, \"share\": 1.0}]', NULL, "
    "'2026-11-01 10:00:00+00:00', NULL, NULL)",
)


def _version_2_database(request, tmp_path, backend_kind: str) -> str:
    if backend_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'v2.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        if backend_kind == "postgresql":
            conn.execute(text(f"DROP TABLE IF EXISTS {ALL_TABLES}"))
        for statement in _VERSION_2:
            conn.execute(text(statement))
    engine.dispose()
    return url


@pytest.mark.parametrize("backend_kind", ["sqlite", "postgresql"])
def test_a_version_2_database_gets_owners_users_and_an_audit_trail(request, tmp_path, backend_kind):
    from geo.accounts.roles import Actor
    from geo.errors import Forbidden

    assert SCHEMA_VERSION >= 3 and 3 in MIGRATIONS
    url = _version_2_database(request, tmp_path, backend_kind)
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM regiomatch_schema")).all() == [(SCHEMA_VERSION,)]
            tables = set(inspect(conn).get_table_names())
        assert {"users", "api_tokens", "sessions", "audit"} <= tables
        old = store.get_scenario("abc123")
        assert (old.name, old.version, old.owner) == ("Oud plan", 4, None)
        assert store.get_layer("oud").owner is None
        # Made before accounts: a bijdrager may not change it, a beheerder may.
        store.accounts.add_user("ann", "bijdrager", "een lang wachtwoord")
        with pytest.raises(Forbidden):
            store.update_scenario("abc123", expected_version=4, name="gekaapt", actor=Actor("ann", "bijdrager"))
        store.update_scenario("abc123", expected_version=4, name="nagekeken", actor=Actor("els", "beheerder"))
        # The step again, on the upgraded database: nothing to do, nothing fails (idempotent).
        with store.engine.begin() as conn:
            _upgrade(conn, 3)
            _upgrade(conn, 2)
        Store(url).dispose()  # a second start finds version 3 and changes nothing
        assert store.get_scenario("abc123").name == "nagekeken"
        trail = store.accounts.audit_trail()
        assert [(e.actor, e.action, e.object_id, e.before_version, e.after_version) for e in trail
                if e.kind == "scenario"] == [("els", "update", "abc123", "4", "5")]
    finally:
        if backend_kind == "postgresql":
            with store.engine.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {ALL_TABLES}"))
        store.dispose()
