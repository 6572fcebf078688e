"""The workspace: the shipped catalog plus what users saved, for every front end (API, CLI, maps, reports).

A workspace resolves any layer id a user may give: a shipped layer, an imported one (from the
database), or ``scenario:<id>`` (a saved scenario applied to its base layer). Resolved layers are
cached by id and version, so every process sees the database's truth. All layers of one workspace
share the same municipalities (one catalog), so any two of them can be overlaid.

Examples
--------
>>> ws = open_workspace(None, "sqlite://", 2020)
>>> ws.layer("eerstelijnszone").kind
'municipal'
>>> ws.base_of("eerstelijnszone") is None
True
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geo.engine.layer import Layer
from geo.engine.scenario import Move, apply_moves
from geo.errors import UnknownLayer
from geo.paths import METRIC_CRS, SHIPPED_DATA
from geo.reference.catalog import Catalog, default_as_of, default_population_year, load_catalog
from geo.storage.records import LayerRecord, ScenarioRecord, scenario_id

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.storage.store import Store

CACHE_SIZE = 256


def dated_layer_id(layer_id: str) -> tuple[str, str] | None:
    """``"samenwerkingsverband@2018-06-30"`` -> ``("samenwerkingsverband", "2018-06-30")``; None for
    any other id.

    Examples
    --------
    >>> dated_layer_id("samenwerkingsverband@2018-06-30"), dated_layer_id("eerstelijnszone")
    (('samenwerkingsverband', '2018-06-30'), None)
    """
    base, at, day = str(layer_id).partition("@")
    if not at or len(day) != 10 or day[4] != "-" or day[7] != "-":
        return None
    return base, day


class Workspace:
    """The shipped catalog plus the imported layers and scenarios of one database.

    Parameters
    ----------
    catalog : Catalog
        The shipped atoms and layers.
    store : Store or str
        The database with saved scenarios and imported layers, or its SQLAlchemy URL: then it is
        opened on first use (a shipped layer needs no database, so the first overlay after
        start-up does not wait for the database library).
    """

    def __init__(self, catalog: Catalog, store: "Store | str"):
        self.catalog = catalog
        self._store = None if isinstance(store, str) else store
        self._database_url = store if isinstance(store, str) else None
        self._store_lock = threading.Lock()
        self._cache: OrderedDict[tuple, Layer] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def store(self) -> "Store":
        """The database, opened (and its schema created) on first use."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    from geo.storage.store import Store

                    assert self._database_url is not None  # no store given: a URL was
                    self._store = Store(self._database_url)
        return self._store

    # -- layers ------------------------------------------------------------------------------
    def layer(self, layer_id: str) -> Layer:
        """Any layer by id: shipped, imported, or ``scenario:{id}``."""
        if layer_id in self.catalog.builtin:
            return self.catalog.builtin[layer_id]
        dated = dated_layer_id(layer_id)
        if dated is not None and dated[0] in self.catalog.builtin:
            # An association layer on a date ("samenwerkingsverband@2018-06-30": ISOM as it was).
            from geo.reference.associations import layer_on

            return self._cached(("dated", *dated), lambda: layer_on(self.catalog, dated[0], dated[1]))
        sid = scenario_id(layer_id)
        if sid is not None:
            # Keyed by the whole chain of bases and their versions (and when an imported base was
            # saved), so an undo anywhere down the chain shows at once, in every process.
            chain = self.store.chain(layer_id)
            base_id = chain[-1][0]
            stamp = None if base_id in self.catalog.builtin else self.store.layer_stamp(base_id)
            record = self.store.get_scenario(sid)
            key = ("scenario", tuple(chain), stamp)
            return self._cached(key, lambda: self.scenario_layer(record))
        stamp = self.store.layer_stamp(layer_id)
        if stamp is None:
            raise UnknownLayer(f"unknown layer {layer_id!r}; known layers: "
                               f"{', '.join(self.layer_ids())} (or scenario:<id>)")
        return self._imported(layer_id, stamp)

    def version_key(self, layer_id: str) -> tuple:
        """What identifies the current content of a layer, without building it: ``(id,)`` for a
        shipped layer, ``(id, saved at)`` for an imported one, and for a scenario the ``(id,
        version)`` of its whole chain of bases with when an imported base was saved. Unknown ids
        raise the usual errors. Caches of what is computed from layers (rendered pages) key on it.

        Examples
        --------
        >>> open_workspace(None, "sqlite://", 2020).version_key("eerstelijnszone")
        ('eerstelijnszone',)
        """
        if layer_id in self.catalog.published:
            # Served on the catalog's date: another date is other content.
            return (layer_id, str(self.catalog.as_of))
        if layer_id in self.catalog.builtin:
            return (layer_id,)
        if scenario_id(layer_id) is not None:
            chain = self.store.chain(layer_id)
            base_id = chain[-1][0]
            return ("scenario", tuple(chain), None if base_id in self.catalog.builtin else self.version_key(base_id))
        stamp = self.store.layer_stamp(layer_id)
        if stamp is None:
            self.layer(layer_id)  # raises UnknownLayer naming the known layers
        return (layer_id, stamp)

    def base_of(self, layer_id: str) -> Layer | None:
        """The base layer of ``scenario:<id>`` (the layer its moves apply to); None for other layers.

        Examples
        --------
        >>> open_workspace(None, "sqlite://", 2020).base_of("samenwerkingsverband") is None
        True
        """
        sid = scenario_id(layer_id)
        if sid is None:
            return None
        return self.layer(self.store.get_scenario(sid).base_layer)

    def base_id_of(self, layer_id: str) -> str | None:
        """The id of the base layer of ``scenario:<id>``; None for other layers (for ``norm_for``)."""
        sid = scenario_id(layer_id)
        return None if sid is None else self.store.get_scenario(sid).base_layer

    def layer_ids(self) -> list[str]:
        """Ids of the shipped and imported layers (scenarios are listed by the store)."""
        return [*self.catalog.builtin, *self.store.layer_versions()]

    def layers(self) -> list[Layer]:
        """Every shipped and imported layer from one read of the database. Listing ids and then
        resolving each one raced with deletes (a layer deleted in between made the whole request
        a 404) and cost a query per imported layer."""
        imported = []
        for layer_id, stamp in self.store.layer_versions().items():
            try:
                imported.append(self._imported(layer_id, stamp.isoformat()))
            except UnknownLayer:
                continue  # deleted between the version read and the record read: no longer listed
        return [*self.catalog.builtin.values(), *imported]

    def _imported(self, layer_id: str, stamp: str) -> Layer:
        """An imported layer, parsed once per version: the database record (members and polygons
        as JSON, megabytes for a big polygon import) is read only when its version is not cached."""
        return self._cached(_imported_key(layer_id, stamp),
                            lambda: self.imported_layer(self.store.get_layer(layer_id)))

    def remember_imported(self, record: LayerRecord, polygons: gpd.GeoSeries | None = None) -> Layer:
        """Cache the layer of a record just saved, under the version the database gave it, so the
        first request for it (an overlay right after the import) does not read the record back
        and parse it again. ``polygons``: its outlines as already in memory (a GeoSeries indexed
        by zone code, as stored), instead of parsing the stored GeoJSON. The layer is built from
        the record's members (shares as stored), so it is exactly what any other process reads.

        Examples
        --------
        >>> ws = Workspace(catalog, "sqlite://")  # a workspace of its own: the example writes to it
        >>> members = [{"zone_code": "K", "zone_name": "Kortrijk e.o.", "nis_code": 34022, "share": 1.0}]
        >>> record = ws.store.create_layer("eigen", "Eigen", "", "2025", "", members, None)
        >>> ws.remember_imported(record) is ws.layer("eigen")
        True
        """
        layer = self.imported_layer(record, polygons)
        return self._cached(_imported_key(record.id, record.created_at.isoformat()), lambda: layer)

    def imported_layer(self, record: LayerRecord, polygons: gpd.GeoSeries | None = None) -> Layer:
        """The layer of an imported-layer record, over this workspace's municipalities. Its
        stored outlines are parsed on first use (maps need them; an overlay mostly does not);
        ``polygons`` gives them ready instead."""
        if not record.polygons:
            polygons = None
        elif polygons is None:
            text = record.polygons
            polygons = lambda: _read_polygons(text)  # noqa: E731 - called by Layer.polygons when first asked
        # Not dataclasses.replace afterwards: it would read (parse) the outlines it copies.
        return Layer.from_members(record.id, pd.DataFrame(record.members), self.catalog.atoms, name=record.name,
                                  kind="imported", vintage=record.vintage, source=record.source,
                                  description=record.description, polygons=polygons,
                                  weighting=record.weighting, left_out=record.left_out)

    def scenario_layer(self, record: ScenarioRecord) -> Layer:
        """The layer of a scenario record: its moves applied to its base layer."""
        base = self.layer(record.base_layer)
        moves = [Move(int(m["nis_code"]), str(m["to_zone"])) for m in record.moves]
        return apply_moves(base, moves, id=record.layer_id, name=record.name, description=record.description)

    def _cached(self, key: tuple, build: Callable[[], Layer]) -> Layer:
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


def _imported_key(layer_id: str, stamp: str) -> tuple:
    return ("layer", layer_id, stamp)


def _read_polygons(geojson: str) -> gpd.GeoSeries:
    """The outlines of an imported layer as stored (GeoJSON in EPSG:31370) -> GeoSeries by zone code."""
    import geopandas as gpd  # only for imported polygons, not at start-up

    frame = gpd.read_file(io.StringIO(geojson))
    frame = frame.set_crs(METRIC_CRS, allow_override=True)
    return frame.set_index(frame["code"].astype(str)).geometry


@lru_cache(maxsize=8)
def _open(data_dir: str, database_url: str, population_year: int, as_of: str) -> Workspace:
    return Workspace(load_catalog(data_dir, population_year, as_of), database_url)


def open_workspace(data_dir: str | Path | None, database_url: str,
                   population_year: int | None = None, as_of: date | str | None = None) -> Workspace:
    """The workspace of a data folder and a database, opened once per process.

    Parameters
    ----------
    data_dir : str, Path or None
        The shipped data folder (None: the package's ``data/``).
    database_url : str
        SQLAlchemy URL of the database with scenarios and imported layers.
    population_year : int, optional
        Statbel population year of the municipalities (default the latest shipped).
    as_of : date or "YYYY-MM-DD", optional
        The date the association layer is served on (default
        :func:`geo.reference.catalog.default_as_of`: ``REGIOMATCH_AS_OF``, else today).

    Examples
    --------
    >>> from geo.paths import SHIPPED_DATA
    >>> open_workspace(None, "sqlite://", 2020) is open_workspace(SHIPPED_DATA, "sqlite://", 2020)
    True
    """
    from geo.reference.history import parse_date

    folder = str(Path(data_dir or SHIPPED_DATA).resolve())
    day = parse_date(as_of) if as_of is not None else default_as_of()
    year = default_population_year() if population_year is None else int(population_year)
    return _open(folder, database_url, year, day.isoformat())


open_workspace.cache_clear = _open.cache_clear  # type: ignore[attr-defined]
