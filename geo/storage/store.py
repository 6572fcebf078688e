"""Saved scenarios and imported layers in a real database (SQLite by default, PostgreSQL by URL).

Every write is one transaction; a scenario carries a ``version`` that each update checks and
increments, so two writers cannot silently overwrite each other (the loser gets a conflict).
SQLite runs in WAL mode with full sync, so an acknowledged write survives a killed process.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from geo.accounts.roles import Actor, check_may_change
from geo.engine.layer import WEIGHTINGS
from geo.errors import Conflict, Corrupt, DatabaseUnavailable, InvalidInput, UnknownLayer, UnknownScenario
from geo.storage import accounts as account_tables
from geo.storage import records, schema
from geo.storage.accounts import Accounts
from geo.storage.base import aware as _aware
from geo.storage.base import metadata
from geo.storage.base import translated as _translated
from geo.storage.base import valid_id as _valid_id
from geo.storage.jobs import JobStore
from geo.storage.jobs import create_table as _create_jobs
from geo.storage.records import TEXT_LIMITS, LayerRecord, ScenarioRecord, check_text  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from geo.storage.jobs import JobStore

log = logging.getLogger("regiomatch.store")
SCHEMA_VERSION = 4  # the last hand-written version: Alembic's baseline revision (geo.storage.schema)
# A scenario may be based on a scenario, and so on: at most this many levels.
MAX_CHAIN_DEPTH = 20


scenarios = Table(
    "scenarios", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("base_layer", String(100), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("moves", Text, nullable=False),  # JSON list of {nis_code, to_zone}
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("owner", String(64), nullable=True),  # schema version 3: the user who made it
)

imported_layers = Table(
    "imported_layers", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("source", Text, nullable=False),
    Column("vintage", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("members", Text, nullable=False),  # JSON list of {zone_code, zone_name, nis_code, share}
    Column("polygons", Text, nullable=True),  # GeoJSON in EPSG:31370 for non-municipal outlines
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Schema version 2: how a polygon import's shares were computed, and the zones it left out.
    Column("weighting", String(32), nullable=True),
    Column("left_out", Text, nullable=True),  # JSON list of zone codes
    Column("owner", String(64), nullable=True),  # schema version 3: the user who imported it
)

# Before Alembic (geo/storage/migrations, from schema version 4 on), these steps took a database of the
# version before to the next one; they are frozen: a schema change now is an Alembic revision.
# What takes a database of the version before to this one: columns and tables added, nothing
# rewritten, so a database that an older regiomatch wrote keeps every scenario and layer. Each step is
# independent of the others and idempotent (a column is added only where it is missing; a callable
# creates its tables if missing), so steps merged from different branches, or run twice, agree.
MIGRATIONS: dict[int, tuple] = {
    2: (("imported_layers", "weighting", "VARCHAR(32)"), ("imported_layers", "left_out", "TEXT")),
    # Named users (geo.storage.accounts: users, api_tokens, sessions, audit): owners.
    3: (("scenarios", "owner", "VARCHAR(64)"), ("imported_layers", "owner", "VARCHAR(64)")),
    4: (_create_jobs,),
}


def _upgrade(conn: Any, version: int) -> None:
    """Run upgrade step ``version``: add each of its columns that the table lacks."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for step in MIGRATIONS.get(version, ()):
        if callable(step):  # DDL that differs between the databases (e.g. a table, created if missing)
            step(conn)
            continue
        if isinstance(step, str):  # a plain statement: its own guard (e.g. IF NOT EXISTS)
            conn.execute(text(step))
            continue
        table, column, kind = step
        if not inspector.has_table(table):
            continue  # made before the table existed: the baseline revision creates it whole
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))

schema_version = Table(
    "regiomatch_schema", metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)


def bring_to_version_4(conn: Any, found: int) -> None:
    """The hand-written steps after schema version ``found`` up to 4 (:data:`MIGRATIONS`), on a
    database made before Alembic; :mod:`geo.storage.schema` runs them before the baseline revision."""
    for version in range(found + 1, SCHEMA_VERSION + 1):
        _upgrade(conn, version)
    conn.execute(update(schema_version).where(schema_version.c.id == 1).values(version=SCHEMA_VERSION))


def create_schema(engine: Engine, attempts: int = 10) -> None:
    """Create the tables or bring them to the newest revision (:func:`geo.storage.schema.upgrade`),
    safe when several processes start on a new database at once."""
    schema.upgrade(engine, bring_to_version_4, _create_tables, attempts)


def _create_tables(conn: Any) -> None:
    """Every table of a new database, as the models say, and its schema-version row."""
    metadata.create_all(conn)
    account_tables.metadata.create_all(conn)
    conn.execute(insert(schema_version).values(id=1, version=SCHEMA_VERSION))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url`` (SQLite: directory created, timeout and threads set)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")  # first, so the others wait for a busy database
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Persistence of scenarios and imported layers.

    Examples
    --------
    >>> store = Store("sqlite://")  # in memory; a file: "sqlite:///var/demo.sqlite3"
    >>> store.create_scenario("Lendelede naar Kortrijk", "eerstelijnszone", [], "").version
    1
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        with _translated():
            create_schema(self.engine)
        self.accounts = Accounts(self.engine, _translated)

    def check(self) -> None:
        """Read both tables and the schema version; :class:`DatabaseUnavailable` if that fails."""
        try:
            with _translated(), self.engine.connect() as conn:
                conn.execute(select(scenarios.c.id).limit(1)).all()
                conn.execute(select(imported_layers.c.id).limit(1)).all()
                conn.execute(select(schema_version.c.version)).all()
        except DatabaseUnavailable:
            raise
        except Exception as exc:  # any failure to read is what the health check reports
            raise DatabaseUnavailable(f"the database cannot be read: {str(exc).splitlines()[0][:200]}") from None

    def dispose(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()

    @property
    def jobs(self) -> JobStore:
        """The job table (:class:`geo.storage.jobs.JobStore`)."""
        return JobStore(self.engine)

    # -- scenarios ------------------------------------------------------------------------
    def create_scenario(self, name: str, base_layer: str, moves: list[dict], description: str = "", *,
                        actor: Actor | None = None) -> ScenarioRecord:
        """Save a new scenario, owned by ``actor`` (a user; nobody for the shared token), with its
        audit row in the same transaction."""
        for field, value in (("name", name), ("base_layer", base_layer), ("description", description)):
            check_text(field, value)
        for move in moves:
            check_text("to_zone", str(move.get("to_zone", "")))
        self.chain(base_layer, extra=1)  # refuses a chain of scenarios deeper than MAX_CHAIN_DEPTH
        now = _now()
        owner = actor.owner if actor is not None else None
        record = ScenarioRecord(secrets.token_hex(6), name, base_layer, description, moves, 1, now, now, owner)
        with _translated(), self.engine.begin() as conn:
            conn.execute(insert(scenarios).values(
                id=record.id, name=name, base_layer=base_layer, description=description,
                moves=json.dumps(moves), version=1, created_at=now, updated_at=now, owner=owner))
            account_tables.record(conn, actor, "create", "scenario", record.id, None, 1, name)
        return record

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        """The scenario with this id; UnknownScenario if there is none."""
        if not _valid_id(scenario_id):
            raise UnknownScenario(f"unknown scenario {scenario_id!r}")
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(scenarios).where(scenarios.c.id == scenario_id)).mappings().first()
        if row is None:
            raise UnknownScenario(f"unknown scenario {scenario_id!r}")
        return _scenario(row)

    def list_scenarios(self) -> list[ScenarioRecord]:
        """Every readable scenario; a damaged row is logged and skipped, not an error for everyone."""
        with _translated(), self.engine.connect() as conn:
            rows = conn.execute(select(scenarios).order_by(scenarios.c.created_at, scenarios.c.id)).mappings().all()
        return _readable(rows, _scenario, "scenario")

    def chain(self, layer_id: str, extra: int = 0) -> list[tuple[str, int]]:
        """``(id, version)`` of every scenario from ``layer_id`` down to its first non-scenario base,
        then ``(base id, 0)``; :class:`InvalidInput` when deeper than :data:`MAX_CHAIN_DEPTH`
        (``extra``: levels about to be added on top). Read without recursion.

        Examples
        --------
        >>> Store("sqlite://").chain("provincie")
        [('provincie', 0)]
        """
        links: list[tuple[str, int]] = []
        current = layer_id
        while (based_on := records.scenario_id(current)) is not None:
            if len(links) + extra >= MAX_CHAIN_DEPTH:
                raise InvalidInput(f"{layer_id!r} is based on a chain of more than {MAX_CHAIN_DEPTH} scenarios; "
                                   "base the scenario on a layer or a shorter chain")
            record = self.get_scenario(based_on)
            links.append((record.id, record.version))
            current = record.base_layer
        return [*links, (current, 0)]

    def dependents(self, layer_id: str) -> list[str]:
        """Ids of the scenarios based directly on ``layer_id`` (a layer id or ``scenario:<id>``)."""
        with _translated(), self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(scenarios.c.id).where(scenarios.c.base_layer == layer_id)
                                               .order_by(scenarios.c.id))]

    def update_scenario(self, scenario_id: str, *, expected_version: int | None, moves: list[dict] | None = None,
                        name: str | None = None, description: str | None = None,
                        actor: Actor | None = None) -> ScenarioRecord:
        """Compare-and-set on ``version``: without ``expected_version`` the current one is used
        (last write wins), with it a stale version is a conflict. A bijdrager changes only its own
        scenarios (:class:`geo.errors.Forbidden`); the audit row commits with the change."""
        for field, value in (("name", name), ("description", description)):
            check_text(field, value)
        if not _valid_id(scenario_id):
            raise UnknownScenario(f"unknown scenario {scenario_id!r}")
        with _translated(), self.engine.begin() as conn:
            row = conn.execute(select(scenarios).where(scenarios.c.id == scenario_id)).mappings().first()
            if row is None:
                raise UnknownScenario(f"unknown scenario {scenario_id!r}")
            current = int(row["version"])
            check_may_change(actor, row["owner"], f"scenario {scenario_id}")
            if expected_version is not None and expected_version != current:
                raise Conflict(f"scenario {scenario_id!r} is at version {current}, not {expected_version}: "
                               "someone else changed it; reload and apply your change again")
            values: dict[str, Any] = {"version": current + 1, "updated_at": _now()}
            if moves is not None:
                values["moves"] = json.dumps(moves)
            if name is not None:
                values["name"] = name
            if description is not None:
                values["description"] = description
            result = conn.execute(update(scenarios).where(scenarios.c.id == scenario_id)
                                  .where(scenarios.c.version == current).values(**values))
            if result.rowcount != 1:
                raise Conflict(f"scenario {scenario_id!r} was changed by another writer after version {current}; "
                               "reload and apply your change again")
            changed = [f for f, v in (("zetten", moves), ("naam", name), ("beschrijving", description))
                       if v is not None]
            account_tables.record(conn, actor, "update", "scenario", scenario_id, current, current + 1,
                                  ", ".join(changed))
        return self.get_scenario(scenario_id)

    def delete_scenario(self, scenario_id: str, *, actor: Actor | None = None) -> None:
        """Delete a scenario; :class:`Conflict` naming the scenarios based on it, if any;
        :class:`geo.errors.Forbidden` for a bijdrager and someone else's scenario."""
        if not _valid_id(scenario_id):
            raise UnknownScenario(f"unknown scenario {scenario_id!r}")
        with _translated(), self.engine.begin() as conn:
            row = conn.execute(select(scenarios.c.owner, scenarios.c.version, scenarios.c.name)
                               .where(scenarios.c.id == scenario_id)).first()
            if row is None:
                raise UnknownScenario(f"unknown scenario {scenario_id!r}")
            check_may_change(actor, row[0], f"scenario {scenario_id}")
            _refuse_if_used(conn, records.scenario_layer_id(scenario_id), f"scenario {scenario_id!r}")
            if conn.execute(delete(scenarios).where(scenarios.c.id == scenario_id)
                            .where(scenarios.c.version == row[1])).rowcount != 1:
                raise Conflict(f"scenario {scenario_id!r} was changed while it was being deleted; try again")
            account_tables.record(conn, actor, "delete", "scenario", scenario_id, row[1], None, row[2])

    # -- imported layers ----------------------------------------------------------------------
    def create_layer(self, layer_id: str, name: str, source: str, vintage: str, description: str,
                     members: list[dict], polygons: str | None, *, weighting: str = "",
                     left_out: Sequence[str] = (), actor: Actor | None = None) -> LayerRecord:
        """Save an imported layer. ``weighting`` and ``left_out`` say how a polygon import's shares
        were computed and which of its zones got no municipality (kept, so every process and a
        restarted server describe the layer as its import did)."""
        check_text("layer id", layer_id)
        for field, value in (("name", name), ("source", source), ("vintage", vintage), ("description", description)):
            check_text(field, value)
        if weighting not in WEIGHTINGS:
            raise InvalidInput(f"weighting must be one of {', '.join(repr(w) for w in WEIGHTINGS)}, got {weighting!r}")
        left_out = tuple(str(code) for code in left_out)
        for code in left_out:
            check_text("zone_code", code)
        for member in members:
            check_text("zone_code", str(member.get("zone_code", "")))
            check_text("zone_name", str(member.get("zone_name", "")))
        now = _now()
        owner = actor.owner if actor is not None else None
        try:
            with _translated(), self.engine.begin() as conn:
                conn.execute(insert(imported_layers).values(
                    id=layer_id, name=name, source=source, vintage=vintage, description=description,
                    members=json.dumps(members), polygons=polygons, created_at=now, weighting=weighting or None,
                    left_out=json.dumps(list(left_out)) if left_out else None, owner=owner))
                # The version as the database keeps it (its precision and time zone), so the record
                # names the same version that layer_stamp and layer_versions will read.
                saved = conn.execute(select(imported_layers.c.created_at)
                                     .where(imported_layers.c.id == layer_id)).scalar_one()
                account_tables.record(conn, actor, "create", "layer", layer_id, None, _aware(saved).isoformat(),
                                      name)
        except IntegrityError:
            raise Conflict(f"a layer with id {layer_id!r} already exists; "
                           "choose another id or delete it first") from None
        return LayerRecord(layer_id, name, source, vintage, description, members, polygons, _aware(saved),
                           weighting, left_out, owner)

    def get_layer(self, layer_id: str) -> LayerRecord:
        """The imported layer with this id; UnknownLayer if there is none."""
        if not _valid_id(layer_id):
            raise UnknownLayer(f"unknown layer {layer_id!r}")
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(imported_layers).where(imported_layers.c.id == layer_id)).mappings().first()
        if row is None:
            raise UnknownLayer(f"unknown layer {layer_id!r}")
        return _layer(row)

    def layer_exists(self, layer_id: str) -> bool:
        """Whether an imported layer has this id (reads the id only, not the members)."""
        if not _valid_id(layer_id):
            return False
        with _translated(), self.engine.connect() as conn:
            found = conn.execute(select(imported_layers.c.id).where(imported_layers.c.id == layer_id)).first()
            return found is not None

    def layer_stamp(self, layer_id: str) -> str | None:
        """When the imported layer ``layer_id`` was saved (ISO text; reads no members), or None."""
        if not _valid_id(layer_id):
            return None
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(imported_layers.c.created_at).where(imported_layers.c.id == layer_id)).first()
        return None if row is None else _aware(row[0]).isoformat()

    def layer_versions(self) -> dict[str, datetime]:
        """Id -> version (``created_at``) of every imported layer, ordered by id, without the members."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(imported_layers.c.id, imported_layers.c.created_at)
                                .order_by(imported_layers.c.id)).all()
        return {r[0]: _aware(r[1]) for r in rows}

    def scenario_versions(self) -> dict[str, tuple[int, str]]:
        """Id -> (version, base layer) of every saved scenario, without the moves."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(scenarios.c.id, scenarios.c.version, scenarios.c.base_layer)
                                .order_by(scenarios.c.id)).all()
        return {r[0]: (int(r[1]), r[2]) for r in rows}

    def list_layers(self) -> list[LayerRecord]:
        """All imported layers, by id."""
        with _translated(), self.engine.connect() as conn:
            rows = conn.execute(select(imported_layers).order_by(imported_layers.c.id)).mappings().all()
        return _readable(rows, _layer, "imported layer")

    def delete_layer(self, layer_id: str, *, actor: Actor | None = None) -> None:
        """Delete an imported layer; :class:`Conflict` naming the scenarios based on it, if any;
        :class:`geo.errors.Forbidden` for a bijdrager and someone else's layer."""
        if not _valid_id(layer_id):
            raise UnknownLayer(f"unknown layer {layer_id!r}")
        with _translated(), self.engine.begin() as conn:
            row = conn.execute(select(imported_layers.c.owner, imported_layers.c.created_at, imported_layers.c.name)
                               .where(imported_layers.c.id == layer_id)).first()
            if row is None:
                raise UnknownLayer(f"unknown layer {layer_id!r}")
            check_may_change(actor, row[0], f"laag {layer_id}")
            _refuse_if_used(conn, layer_id, f"layer {layer_id!r}")
            if conn.execute(delete(imported_layers).where(imported_layers.c.id == layer_id)).rowcount != 1:
                raise UnknownLayer(f"unknown layer {layer_id!r}")
            account_tables.record(conn, actor, "delete", "layer", layer_id, _aware(row[1]).isoformat(), None, row[2])


def _refuse_if_used(conn: Any, layer_id: str, what: str) -> None:
    used_by = [r[0] for r in conn.execute(select(scenarios.c.id).where(scenarios.c.base_layer == layer_id)
                                          .order_by(scenarios.c.id))]
    if used_by:
        raise Conflict(f"{what} cannot be deleted: scenario(s) {', '.join(used_by)} are based on it; "
                       "delete those first")


def _readable(rows: Sequence[Any], read: Any, what: str) -> list:
    """The rows that decode; each one that does not is logged (with its id) and left out."""
    records = []
    for row in rows:
        try:
            records.append(read(row))
        except Corrupt as exc:
            log.error("skipped a damaged %s row: %s", what, exc.detail)
    return records


def _decoded(row: Any, read: Any, what: str) -> Any:
    """``read(row)``, or :class:`Corrupt` naming the ``what`` and its id when the row does not decode."""
    try:
        return read(row)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise Corrupt(f"{what} {row['id']!r} is damaged in the database ({type(exc).__name__}: "
                      f"{str(exc)[:100]}); delete it or restore it from a backup") from None


def _scenario(row: Any) -> ScenarioRecord:
    return _decoded(row, _scenario_unchecked, "scenario")


def _layer(row: Any) -> LayerRecord:
    return _decoded(row, _layer_unchecked, "imported layer")


def _scenario_unchecked(row: Any) -> ScenarioRecord:
    moves = json.loads(row["moves"])
    if not isinstance(moves, list) or not all(isinstance(m, dict) and "nis_code" in m and "to_zone" in m
                                              for m in moves):
        raise ValueError("moves is not a list of {nis_code, to_zone}")
    return ScenarioRecord(row["id"], row["name"], row["base_layer"], row["description"] or "",
                          moves, int(row["version"]), _aware(row["created_at"]),
                          _aware(row["updated_at"]), row["owner"])


def _layer_unchecked(row: Any) -> LayerRecord:
    members = json.loads(row["members"])
    if not isinstance(members, list):
        raise ValueError("members is not a list")
    left_out = json.loads(row["left_out"]) if row["left_out"] else []
    if not isinstance(left_out, list):
        raise ValueError("left_out is not a list")
    return LayerRecord(row["id"], row["name"], row["source"], row["vintage"], row["description"],
                       members, row["polygons"], _aware(row["created_at"]), row["weighting"] or "",
                       tuple(str(code) for code in left_out), row["owner"])
