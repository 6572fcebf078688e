"""Saved scenarios and imported layers in a real database (SQLite by default, PostgreSQL by URL).

Every write is one transaction; a scenario carries a ``version`` that each update checks and
increments, so two writers cannot silently overwrite each other (the loser gets a conflict).
SQLite runs in WAL mode with full sync, so an acknowledged write survives a killed process.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, event, insert,
                        select, update, delete)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from geo.errors import Conflict, UnknownLayer, UnknownScenario

metadata = MetaData()

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
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ScenarioRecord:
    id: str
    name: str
    base_layer: str
    description: str
    moves: list[dict]
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def layer_id(self) -> str:
        return f"scenario:{self.id}"


@dataclass(frozen=True)
class LayerRecord:
    id: str
    name: str
    source: str
    vintage: str
    description: str
    members: list[dict]
    polygons: str | None
    created_at: datetime


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """Persistence of scenarios and imported layers.

    Examples
    --------
    >>> store = Store("sqlite:///var/demo.sqlite3")  # doctest: +SKIP
    >>> store.create_scenario("Lendelede naar Kortrijk", "eerstelijnszone", [], "")  # doctest: +SKIP
    """

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- scenarios ------------------------------------------------------------------------
    def create_scenario(self, name: str, base_layer: str, moves: list[dict], description: str = "") -> ScenarioRecord:
        now = _now()
        record = ScenarioRecord(secrets.token_hex(6), name, base_layer, description, moves, 1, now, now)
        with self.engine.begin() as conn:
            conn.execute(insert(scenarios).values(
                id=record.id, name=name, base_layer=base_layer, description=description,
                moves=json.dumps(moves), version=1, created_at=now, updated_at=now))
        return record

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(scenarios).where(scenarios.c.id == scenario_id)).mappings().first()
        if row is None:
            raise UnknownScenario(f"unknown scenario {scenario_id!r}")
        return _scenario(row)

    def list_scenarios(self) -> list[ScenarioRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(scenarios).order_by(scenarios.c.created_at, scenarios.c.id)).mappings().all()
        return [_scenario(r) for r in rows]

    def update_scenario(self, scenario_id: str, *, expected_version: int | None, moves: list[dict] | None = None,
                        name: str | None = None, description: str | None = None) -> ScenarioRecord:
        """Compare-and-set on ``version``: without ``expected_version`` the current one is used
        (last write wins), with it a stale version is a conflict."""
        with self.engine.begin() as conn:
            row = conn.execute(select(scenarios).where(scenarios.c.id == scenario_id)).mappings().first()
            if row is None:
                raise UnknownScenario(f"unknown scenario {scenario_id!r}")
            current = int(row["version"])
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
        return self.get_scenario(scenario_id)

    def delete_scenario(self, scenario_id: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(delete(scenarios).where(scenarios.c.id == scenario_id)).rowcount != 1:
                raise UnknownScenario(f"unknown scenario {scenario_id!r}")

    # -- imported layers ----------------------------------------------------------------------
    def create_layer(self, layer_id: str, name: str, source: str, vintage: str, description: str,
                     members: list[dict], polygons: str | None) -> LayerRecord:
        now = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(imported_layers).values(
                    id=layer_id, name=name, source=source, vintage=vintage, description=description,
                    members=json.dumps(members), polygons=polygons, created_at=now))
        except IntegrityError:
            raise Conflict(f"a layer with id {layer_id!r} already exists; choose another id or delete it first") from None
        return LayerRecord(layer_id, name, source, vintage, description, members, polygons, now)

    def get_layer(self, layer_id: str) -> LayerRecord:
        with self.engine.connect() as conn:
            row = conn.execute(select(imported_layers).where(imported_layers.c.id == layer_id)).mappings().first()
        if row is None:
            raise UnknownLayer(f"unknown layer {layer_id!r}")
        return _layer(row)

    def layer_exists(self, layer_id: str) -> bool:
        """Whether an imported layer has this id (reads the id only, not the members)."""
        with self.engine.connect() as conn:
            return conn.execute(select(imported_layers.c.id).where(imported_layers.c.id == layer_id)).first() is not None

    def layer_version(self, layer_id: str) -> datetime | None:
        """When the imported layer ``layer_id`` was created (its version), or None: one indexed
        read of two columns, not the members, so callers can skip re-parsing an unchanged layer."""
        with self.engine.connect() as conn:
            value = conn.execute(select(imported_layers.c.created_at)
                                 .where(imported_layers.c.id == layer_id)).scalar_one_or_none()
        return None if value is None else _aware(value)

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
        with self.engine.connect() as conn:
            rows = conn.execute(select(imported_layers).order_by(imported_layers.c.id)).mappings().all()
        return [_layer(r) for r in rows]

    def delete_layer(self, layer_id: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(delete(imported_layers).where(imported_layers.c.id == layer_id)).rowcount != 1:
                raise UnknownLayer(f"unknown layer {layer_id!r}")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _scenario(row: Any) -> ScenarioRecord:
    return ScenarioRecord(row["id"], row["name"], row["base_layer"], row["description"] or "",
                          json.loads(row["moves"]), int(row["version"]), _aware(row["created_at"]),
                          _aware(row["updated_at"]))


def _layer(row: Any) -> LayerRecord:
    return LayerRecord(row["id"], row["name"], row["source"], row["vintage"], row["description"],
                       json.loads(row["members"]), row["polygons"], _aware(row["created_at"]))
