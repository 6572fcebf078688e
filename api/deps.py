"""Dependencies shared by the routers: the workspace (shipped catalog + database) and auth.

The workspace resolves any layer id a user may send: a shipped layer, an imported one (from
the database), or ``scenario:{id}`` (a saved scenario applied to its base layer). Resolved
layers are cached by id and version, so every worker process sees the database's truth.
"""

from __future__ import annotations

import hmac
import io
import threading
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache

import pandas as pd
from fastapi import Depends, Request

from api.errors import Unauthorized
from api.settings import Settings, get_settings
from api.store import LayerRecord, ScenarioRecord, Store
from geo.catalog import Catalog, load_catalog
from geo.errors import InvalidInput, UnknownLayer
from geo.layer import Layer
from geo.paths import METRIC_CRS
from geo.scenario import Move, apply_moves

SCENARIO_PREFIX = "scenario:"
CACHE_SIZE = 256
MAX_SCENARIO_CHAIN = 32  # deeper chains of scenarios on scenarios are refused, not followed


class Workspace:
    """The shipped catalog plus what users saved."""

    def __init__(self, catalog: Catalog, store: Store):
        self.catalog = catalog
        self.store = store
        self._cache: OrderedDict[tuple, Layer] = OrderedDict()
        self._lock = threading.Lock()

    # -- layers ------------------------------------------------------------------------------
    def layer(self, layer_id: str) -> Layer:
        """Any layer by id: shipped, imported, or ``scenario:{id}``."""
        if layer_id in self.catalog.builtin:
            return self.catalog.builtin[layer_id]
        if layer_id.startswith(SCENARIO_PREFIX):
            record = self.store.get_scenario(layer_id.removeprefix(SCENARIO_PREFIX))
            # Keyed by the whole chain of bases: a scenario on a scenario changes when its base does.
            key = ("scenario", record.id, record.version, self.version_key(record.base_layer))
            return self._cached(key, lambda: self.scenario_layer(record))
        version = self.store.layer_version(layer_id)
        if version is None:
            raise UnknownLayer(f"unknown layer {layer_id!r}; known layers: "
                               f"{', '.join(self.layer_ids())} (or scenario:<id>)")
        return self._imported(layer_id, version)

    def version_key(self, layer_id: str, _depth: int = 0) -> tuple:
        """What identifies the current content of a layer, without building it: ``(id,)`` for a
        shipped layer, ``(id, created_at)`` for an imported one, ``(id, version, base's key)``
        for a scenario (its whole chain of bases). Unknown ids raise the usual errors.

        Examples
        --------
        >>> ws.version_key("scenario:3fa2c1")  # doctest: +SKIP
        ('scenario:3fa2c1', 4, ('eerstelijnszone',))
        """
        if _depth > MAX_SCENARIO_CHAIN:
            raise InvalidInput(f"{layer_id!r}: a chain of more than {MAX_SCENARIO_CHAIN} scenarios on scenarios")
        if layer_id in self.catalog.builtin:
            return (layer_id,)
        if layer_id.startswith(SCENARIO_PREFIX):
            record = self.store.get_scenario(layer_id.removeprefix(SCENARIO_PREFIX))
            return (layer_id, record.version, self.version_key(record.base_layer, _depth + 1))
        version = self.store.layer_version(layer_id)
        if version is None:
            self.layer(layer_id)  # raises UnknownLayer naming the known layers
        return (layer_id, version.isoformat())

    def layer_ids(self) -> list[str]:
        return [*self.catalog.builtin, *self.store.layer_versions()]

    def layers(self) -> list[Layer]:
        """Every shipped and imported layer from one read of the database. Listing ids and then
        resolving each one raced with deletes (a layer deleted in between made the whole request
        a 404) and cost a query per imported layer."""
        return [*self.catalog.builtin.values(),
                *(self._imported(i, v) for i, v in self.store.layer_versions().items())]

    def _imported(self, layer_id: str, version: datetime) -> Layer:
        """An imported layer, parsed once per version: the database record (members and polygons
        as JSON, megabytes for a big polygon import) is read only when its version is not cached."""
        return self._cached(("layer", layer_id, version.isoformat()),
                            lambda: self.imported_layer(self.store.get_layer(layer_id)))

    def imported_layer(self, record: LayerRecord) -> Layer:
        polygons = None
        if record.polygons:
            import geopandas as gpd  # only for imported polygons, not at start-up

            frame = gpd.read_file(io.StringIO(record.polygons))
            frame = frame.set_crs(METRIC_CRS, allow_override=True)
            polygons = frame.set_index(frame["code"].astype(str)).geometry
        return Layer.from_members(record.id, pd.DataFrame(record.members), self.catalog.atoms, name=record.name,
                                  kind="imported", vintage=record.vintage, source=record.source,
                                  description=record.description, polygons=polygons)

    def scenario_layer(self, record: ScenarioRecord) -> Layer:
        base = self.layer(record.base_layer)
        moves = [Move(int(m["nis_code"]), str(m["to_zone"])) for m in record.moves]
        return apply_moves(base, moves, id=record.layer_id, name=record.name, description=record.description)

    def _cached(self, key: tuple, build) -> Layer:  # noqa: ANN001 - a zero-argument factory
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        layer = build()
        with self._lock:
            self._cache[key] = layer
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return layer


@lru_cache(maxsize=8)
def _workspace(data_dir: str, database_url: str, population_year: int) -> Workspace:
    return Workspace(load_catalog(data_dir, population_year), Store(database_url))


def workspace_for(settings: Settings) -> Workspace:
    return _workspace(str(settings.data_dir), settings.resolved_database_url(), settings.population_year)


def get_workspace(settings: Settings = Depends(get_settings)) -> Workspace:
    return workspace_for(settings)


def require_writer(request: Request, settings: Settings = Depends(get_settings)) -> None:
    """Writes need ``Authorization: Bearer <token>`` when a token is configured."""
    if not settings.api_token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.api_token.encode()):
        raise Unauthorized("this write needs 'Authorization: Bearer <token>' with the configured API token")
