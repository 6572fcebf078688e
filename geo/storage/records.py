"""What the database holds, as plain records, and the text rules every backend shares.

Kept apart from :mod:`geo.storage.store` so that reading a record's type or checking a name does not
load the database library: a server answers its first overlay before it opens the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo.errors import InvalidInput

# The longest text each field takes, the same on every backend (PostgreSQL's varchar would
# otherwise refuse what SQLite takes). Zone codes and names are checked in imported members too.
TEXT_LIMITS = {"name": 200, "base_layer": 100, "description": 5000, "source": 1000, "vintage": 32,
               "zone_code": 100, "zone_name": 200, "to_zone": 100, "layer id": 64}


SCENARIO_PREFIX = "scenario:"


def scenario_layer_id(scenario_id: str) -> str:
    """The layer id of a saved scenario: ``scenario:<id>``.

    Examples
    --------
    >>> scenario_layer_id("3f2a9c")
    'scenario:3f2a9c'
    """
    return SCENARIO_PREFIX + scenario_id


def scenario_id(layer_id: str) -> str | None:
    """The scenario id in ``scenario:<id>``; None for any other layer id.

    Examples
    --------
    >>> scenario_id("scenario:3f2a9c"), scenario_id("eerstelijnszone")
    ('3f2a9c', None)
    """
    return layer_id.removeprefix(SCENARIO_PREFIX) if layer_id.startswith(SCENARIO_PREFIX) else None


def check_text(field: str, value: str | None) -> None:
    """Refuse text a backend cannot store the same way: NUL characters (PostgreSQL cannot store
    them at all) and text over the field's limit in :data:`TEXT_LIMITS`.

    Examples
    --------
    >>> check_text("name", "W13")
    >>> check_text("name", "a" + chr(0) + "b")
    Traceback (most recent call last):
    geo.errors.InvalidInput: name: NUL characters are not allowed
    """
    if value is None:
        return
    if "\x00" in value:
        raise InvalidInput(f"{field}: NUL characters are not allowed")
    limit = TEXT_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters, got {len(value)}")


@dataclass(frozen=True)
class ScenarioRecord:
    """A saved scenario: a base layer with moves."""

    id: str
    name: str
    base_layer: str
    description: str
    moves: list[dict]
    version: int
    created_at: datetime
    updated_at: datetime
    owner: str | None = None  # the user who created it (None: the shared token, or before accounts)

    @property
    def layer_id(self) -> str:
        """Id of the layer the scenario gives."""
        return scenario_layer_id(self.id)


@dataclass(frozen=True)
class LayerRecord:
    """An imported layer as stored."""

    id: str
    name: str
    source: str
    vintage: str
    description: str
    members: list[dict]
    polygons: str | None
    created_at: datetime
    weighting: str = ""  # how fractional shares were computed (geo.engine.layer.Layer.weighting); "" for a table
    left_out: tuple[str, ...] = ()  # zones of the file that got no municipality (Layer.left_out)
    owner: str | None = None  # the user who imported it (None: the shared token, or before accounts)
