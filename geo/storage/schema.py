"""The database's schema version: Alembic's revisions (``geo/storage/migrations``) run on start.

A start reads ``alembic_version`` with one plain query; only when it is not :data:`HEAD` is
Alembic imported (it costs about a tenth of a second) to bring the database there:

- a new database: the tables as the models say, recorded at :data:`HEAD` (Alembic's recipe for a
  new database; without the models, every revision from the baseline on);
- a database made before Alembic (``regiomatch_schema`` present, no ``alembic_version``): first the
  hand-written steps of :data:`geo.storage.store.MIGRATIONS` up to version 4, then the baseline, which
  adds the tables it lacks and records it, then the newer revisions;
- an older revision: the revisions after it.

Several processes may start on one new database at once: the loser of a race retries and finds the
schema done. A database at a revision this regiomatch does not know (a newer one) is refused.

Examples
--------
>>> from geo.storage.store import make_engine
>>> engine = make_engine("sqlite://")
>>> revision(engine) is None
True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from geo.errors import DatabaseUnavailable

log = logging.getLogger("regiomatch.store")

# The newest revision in geo/storage/migrations/versions (a test checks it against Alembic's own
# answer). A new revision changes this line too.
HEAD = "0001_baseline"
# The revision that is the schema of the last regiomatch without Alembic (schema version 4).
BASELINE = "0001_baseline"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The tables of the first regiomatch, which kept no schema version (schema version 1).
UNVERSIONED = frozenset({"scenarios", "imported_layers"})


def revision(engine: Engine) -> str | None:
    """The database's Alembic revision, read with plain SQL; None when it has none (new, or made
    before Alembic)."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):  # no such table
            return None


def alembic_config(connection: Connection | None = None) -> Any:
    """Alembic's configuration in code (no ``alembic.ini``): the scripts in ``geo/storage/migrations``,
    run on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # rev_<id>_<slug>.py: a name Python can import (the structure test imports every module)
    config.set_main_option("file_template", "rev_%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, legacy_steps: Callable[[Connection, int], None],
            new_database: Callable[[Connection], None] | None = None, attempts: int = 10) -> None:
    """Bring the database to :data:`HEAD` (see the module's description). ``legacy_steps(conn,
    version)`` runs the hand-written steps after ``version`` of a database made before Alembic;
    ``new_database(conn)``, if given, creates the tables of an empty database from the models, which
    is then recorded at :data:`HEAD` without running (or importing) Alembic: Alembic's own recipe
    for a new database, a tenth of a second less on every first start and in every test that makes
    one (``tests/test_migrations.py`` checks that the models and the revisions agree)."""
    for attempt in range(attempts):
        try:
            if revision(engine) == HEAD:
                return
            if new_database is not None and _is_empty(engine):
                _create_at_head(engine, new_database)
            else:
                _upgrade(engine, legacy_steps)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            # 'table ... already exists', a duplicate pg_type row, a locked database: another
            # process is creating or upgrading the same schema right now.
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _is_empty(engine: Engine) -> bool:
    from sqlalchemy import inspect

    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


_VERSION_TABLE = ("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                  "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")  # as Alembic makes it


def _create_at_head(engine: Engine, new_database: Callable[[Connection], None]) -> None:
    with engine.begin() as conn:
        new_database(conn)
        conn.execute(text(_VERSION_TABLE))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD})
    log.info("new database created at schema revision %s", HEAD)


def _upgrade(engine: Engine, legacy_steps: Callable[[Connection, int], None]) -> None:
    from alembic import command
    from alembic.util.exc import CommandError
    from sqlalchemy import inspect

    with engine.begin() as conn:  # PostgreSQL: all of it or none
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and "regiomatch_schema" not in tables and tables & UNVERSIONED:
            # Made by the first regiomatch, before the schema had a version: its tables are those
            # of version 1. Without this row the baseline would take it for version 4 and leave
            # out every column added since (a saved scenario could no longer be read).
            conn.execute(text("CREATE TABLE regiomatch_schema (id INTEGER NOT NULL PRIMARY KEY, "
                              "version INTEGER NOT NULL)"))
            conn.execute(text("INSERT INTO regiomatch_schema (id, version) VALUES (1, 1)"))
            tables.add("regiomatch_schema")
        if "regiomatch_schema" in tables and "alembic_version" not in tables:
            found = conn.execute(text("SELECT version FROM regiomatch_schema WHERE id = 1")).scalar() or 1
            if found > 4:
                raise DatabaseUnavailable(f"the database has schema version {found}, newer than this "
                                          "regiomatch knows; upgrade regiomatch")
            legacy_steps(conn, found)
            log.info("database made before Alembic (schema version %d): brought to the baseline", found)
        before = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            if "alembic_version" in tables else None
        try:
            command.upgrade(alembic_config(conn), "head")
        except CommandError as exc:  # a revision this regiomatch does not have: made by a newer one
            raise DatabaseUnavailable(f"the database's schema ({before}) is newer than this regiomatch "
                                      f"knows ({HEAD}); upgrade regiomatch ({exc})") from None
        log.info("database schema upgraded from %s to %s", before or "nothing", HEAD)
