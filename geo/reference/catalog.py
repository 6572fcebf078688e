"""The catalog: the shipped atoms, layers, crosswalk and association history, loaded once.

The catalog holds only what ships with regiomatch. Imported layers and scenarios live in the
service's database and are resolved on top of it (:class:`geo.storage.workspace.Workspace`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from geo.dutch import join as dutch_join
from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.errors import InvalidInput, UnknownLayer
from geo.kept import kept
from geo.paths import SHIPPED_DATA
from geo.reference.vintages import Crosswalk

if TYPE_CHECKING:
    import geopandas as gpd



@lru_cache(maxsize=4)
def population_years(data_dir: Path = SHIPPED_DATA) -> tuple[int, ...]:
    """The years ``data/population.csv`` has, ascending: the only list of selectable years.

    Examples
    --------
    >>> population_years()[-1] == default_population_year()
    True
    """
    years = pd.read_csv(Path(data_dir) / "population.csv", usecols=["year"])["year"].unique()
    return tuple(sorted(int(y) for y in years))


def require_population_year(year: int, years: tuple[int, ...] | None = None) -> int:
    """``year`` if the data has its population (``years``, default :func:`population_years`),
    else :class:`~geo.errors.InvalidInput` naming the years there are, in English and in Dutch.

    Examples
    --------
    >>> require_population_year(2024)
    2024
    >>> try:
    ...     require_population_year(1850, (2020, 2024))
    ... except InvalidInput as exc:
    ...     print(exc.detail, "|", exc.dutch)
    no population for 1850; available years: 2020, 2024 | Er zijn geen bevolkingscijfers van 1850; wel van 2020 en 2024.
    """
    years = population_years() if years is None else years
    if year not in years:
        raise InvalidInput(f"no population for {year}; available years: {', '.join(map(str, years))}",
                           dutch=f"Er zijn geen bevolkingscijfers van {year}; wel van "
                                 f"{dutch_join([str(y) for y in years])}.")
    return year


@lru_cache(maxsize=16)
def population_note(year: int, data_dir: Path = SHIPPED_DATA) -> str:
    """The sentence to say once wherever ``year`` is named: non-empty for a sector-summed year
    (see :attr:`geo.engine.atoms.Atoms.population_note`), empty for Statbel's municipal count.

    Examples
    --------
    >>> population_note(2020)
    ''
    >>> "0,1 à 0,3 %" in population_note(2024)
    True
    """
    from geo.engine.atoms import SECTOR_SUM_NOTE

    table = pd.read_csv(Path(data_dir) / "population.csv", usecols=lambda c: c in ("year", "basis"))
    rows = table[table["year"] == int(year)]
    sectors = "basis" in rows and bool((rows["basis"] == "sectors").any())
    return SECTOR_SUM_NOTE.format(year=int(year)) if sectors else ""


def default_population_year() -> int:
    """The latest year shipped: the default; older years stay selectable. Read on first use, not
    when this module is imported (``DEFAULT_POPULATION_YEAR`` is the same, looked up lazily)."""
    return population_years()[-1]


def __getattr__(name: str) -> int:
    if name == "DEFAULT_POPULATION_YEAR":
        return default_population_year()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# The setting (environment variable) that pins the date of the association layer served, as
# ``REGIOMATCH_AS_OF`` in api/settings.py; the test suite pins it so results do not follow the calendar.
AS_OF_VARIABLE = "REGIOMATCH_AS_OF"


def default_as_of() -> date:
    """The date the association layer is served on when none is asked: ``REGIOMATCH_AS_OF``
    (``YYYY-MM-DD``) when set, else today.

    Examples
    --------
    >>> isinstance(default_as_of(), date)
    True
    """
    value = os.environ.get(AS_OF_VARIABLE, "").strip()
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{AS_OF_VARIABLE} must be a date as YYYY-MM-DD, got {value!r}") from None


@dataclass(eq=False)
class Catalog:
    """Atoms, crosswalk and the shipped layers, on a date.

    The association layer (role "associations") is the one the dated membership history counts
    on ``as_of`` (:func:`geo.reference.history.current_layer`): ISOM, ended in 2018, is not a
    current zone, WRNL has the members known to hold. The hand-compiled list as shipped stays in
    ``published``; the layer on another date is ``samenwerkingsverband@YYYY-MM-DD``.

    Examples
    --------
    >>> catalog = load_catalog(as_of="2026-12-01")
    >>> catalog.layer("samenwerkingsverband").zone_codes
    ['NETELAND', 'W13', 'WRNL', 'WZK']
    >>> catalog.published_layer("samenwerkingsverband").zone_codes
    ['ISOM', 'W13', 'WRNL', 'WZK']
    """

    atoms: Atoms
    crosswalk: Crosswalk
    history: pd.DataFrame
    data_dir: Path
    builtin: dict[str, Layer]
    as_of: date | None = None  # None: every layer as shipped
    published: dict[str, Layer] = field(default_factory=dict)  # the shipped layers replaced by their dated one

    def published_layer(self, layer_id: str) -> Layer:
        """The layer as shipped (for the association layer: the hand-compiled snapshot)."""
        return self.published.get(layer_id) or self.layer(layer_id)

    def layer(self, layer_id: str) -> Layer:
        """The layer with this id, as published; unknown ids are refused with the id named.

        The association layers on a date: :func:`geo.reference.associations.layer_on`.
        """
        found = self.builtin.get(layer_id)
        if found is None:
            raise UnknownLayer(f"unknown layer {layer_id!r}; known layers: {', '.join(self.layer_ids())}")
        return found

    def layer_ids(self) -> list[str]:
        """Ids of the built-in layers."""
        return list(self.builtin)

    def layers(self) -> list[Layer]:
        """The built-in layers."""
        return list(self.builtin.values())


def read_atoms(data_dir: Path = SHIPPED_DATA, population_year: int | None = None) -> Atoms:
    """The municipalities with their population of ``population_year`` (default
    :func:`default_population_year`) from ``data_dir``."""
    population_year = default_population_year() if population_year is None else population_year
    municipalities = pd.read_csv(data_dir / "municipalities.csv")
    population = pd.read_csv(data_dir / "population.csv")
    require_population_year(population_year, tuple(int(y) for y in sorted(population["year"].unique())))
    rows = population[population["year"] == population_year]
    counts = rows.set_index("nis_code")["inhabitants"]
    municipalities["population"] = municipalities["nis_code"].map(counts).astype(int)
    basis: Literal["municipal", "sectors"] = ("sectors" if "basis" in rows and (rows["basis"] == "sectors").any()
                                              else "municipal")
    sectors_file = data_dir / "sectors.csv"
    sectors = (pd.read_csv(sectors_file, dtype={"sector": str, "elzantw": str}, keep_default_na=False)
               if sectors_file.exists() else None)
    if sectors is not None:
        sectors = sectors_in_year(sectors, data_dir, population_year, counts)
    areas_file = data_dir / "part_areas.csv"
    part_areas = pd.read_csv(areas_file) if areas_file.exists() else None
    return Atoms.from_frame(municipalities, population_year, basis, sectors, part_areas)


def sectors_in_year(sectors: pd.DataFrame, data_dir: Path, year: int, municipal: pd.Series) -> pd.DataFrame:
    """The sectors with their inhabitants estimated for 1 January of ``year``.

    Statbel's sector figures are of 2024. For another year each sector keeps its 2024 share of its
    2019-2024 municipality (``data/population_parts.csv`` has those municipalities' own counts for
    2019 and 2020), else of its 2025 municipality: the sectors of a part then add up to that
    part's count of the year, and a partial membership (only Borsbeek of today's Antwerpen) counts
    that year's Borsbeek. ``population_2024`` keeps Statbel's figure.

    Examples
    --------
    >>> table = sectors_in_year(pd.DataFrame({"nis_code": [1, 1], "population": [30, 10]}),
    ...                         Path("."), 2020, pd.Series({1: 20}))
    >>> table["population"].tolist()
    [15.0, 5.0]
    """
    table = sectors.copy()
    table["population_2024"] = table["population"]
    people = table["population"].astype(float)
    factor = municipal.reindex(table["nis_code"]).to_numpy(dtype=float) / \
        people.groupby(table["nis_code"]).transform("sum").to_numpy()
    parts_file = data_dir / "population_parts.csv"
    if "nis_2019_2024" in table and parts_file.exists():
        parts = pd.read_csv(parts_file)
        own = parts[parts["year"] == int(year)].set_index("nis_2019_2024")["inhabitants"]
        if len(own):
            by_part = people.groupby(table["nis_2019_2024"]).transform("sum").to_numpy()
            scaled = table["nis_2019_2024"].map(own).to_numpy(dtype=float) / by_part
            factor = pd.Series(scaled).fillna(pd.Series(factor)).to_numpy()
    table["population"] = people.to_numpy() * pd.Series(factor).fillna(1.0).to_numpy()
    return table


def read_layers(data_dir: Path, atoms: Atoms) -> dict[str, Layer]:
    """The layers listed in ``layers.json`` of ``data_dir``, keyed by id."""
    registry = json.loads((data_dir / "layers.json").read_text(encoding="utf-8"))
    members = pd.read_csv(data_dir / "memberships.csv", dtype={"zone_code": str})
    layers: dict[str, Layer] = {}
    for meta in registry:
        rows = members[members["layer"] == meta["id"]]
        layer = Layer.from_members(
            meta["id"], rows, atoms, name=meta["name"], kind=meta["kind"], vintage=meta["vintage"],
            source=meta["source"], description=meta.get("description", ""))
        if meta.get("sector_column") and atoms.sectors is not None:
            # The sectors name their zone in this layer: the assignment is data, not geometry.
            layer = layer.with_sector_zones(atoms.sectors.table[meta["sector_column"]].astype(str).to_numpy())
        if meta["kind"] == "polygon":
            # Read from data/geometry.gpkg when a map or an overlay first needs the outlines, not
            # at start-up (geopandas and the GeoPackage reader are a tenth of a second).
            layer = replace(layer, polygons=partial(_layer_polygons, data_dir, meta["id"]))
        layers[meta["id"]] = layer
    return layers


def _layer_polygons(data_dir: Path, layer_id: str) -> gpd.GeoSeries:
    from geo.geometry.polygons import read_layer_polygons

    return read_layer_polygons(data_dir, layer_id)


def read_catalog(data_dir: Path = SHIPPED_DATA, population_year: int | None = None) -> Catalog:
    """Read the shipped data as shipped (no date: the association layer as published)."""
    data_dir = Path(data_dir)
    atoms = read_atoms(data_dir, population_year)
    codes = pd.read_csv(data_dir / "municipality_codes.csv", dtype={"vintage": str})
    history = pd.read_csv(data_dir / "association_history.csv",
                          dtype={"valid_from": str, "valid_to": str, "registered_on": str})
    return Catalog(atoms=atoms, crosswalk=Crosswalk(codes, atoms), history=history, data_dir=data_dir,
                   builtin=read_layers(data_dir, atoms))


def on_date(catalog: Catalog, as_of: date | str) -> Catalog:
    """The catalog with its association layer as the dated history counts it on ``as_of``.

    Shares the atoms (and so the municipalities) of ``catalog``: layers of two dates overlay.
    The replaced layer stays in ``published``.

    Examples
    --------
    >>> shipped = read_catalog()
    >>> dated = on_date(shipped, "2015-06-30")
    >>> dated.layer("samenwerkingsverband").zone_codes, dated.atoms is shipped.atoms
    (['ISOM'], True)
    """
    from geo.reference.history import current_layer, parse_date
    from geo.reference.roles import association_layer

    day = parse_date(as_of)
    layer_id = association_layer()
    published = {**catalog.published}
    if layer_id in catalog.builtin:
        published.setdefault(layer_id, catalog.builtin[layer_id])
    builtin = {i: _described(current_layer(catalog, published[i], day), day) if i in published else layer
               for i, layer in catalog.builtin.items()}
    return replace(catalog, builtin=builtin, as_of=day, published=published)


def _described(layer: Layer, day: date) -> Layer:
    """The layer's description names the associations it has on ``day`` (the shipped one names
    the hand list's four, ISOM among them)."""
    from geo.dutch import date as dutch_date

    names = [str(n) for n in layer.zones["name"]]
    listed = f"{', '.join(names[:-1])} en {names[-1]}" if len(names) > 1 else "".join(names)
    return replace(layer, description=f"{listed}: de lidmaatschappen geldig op {dutch_date(day)} volgens de "
                                      "ledengeschiedenis; een gemeente kan in meer dan een verband zitten.")


def load_catalog_from(data_dir: Path = SHIPPED_DATA, population_year: int | None = None,
                      as_of: date | str | None = None) -> Catalog:
    """Read the shipped data into a fresh catalog on ``as_of`` (default :func:`default_as_of`; use
    :func:`load_catalog` for the shared one)."""
    return on_date(read_catalog(data_dir, population_year), as_of or default_as_of())


@lru_cache(maxsize=4)
def _read_catalog(data_dir: str, population_year: int) -> Catalog:
    # Built once and kept on disk for the next process while the data and code are the same
    # (geo.kept): 0.1 s of every start-up.
    return kept(Path(data_dir), f"catalog-{population_year}", lambda: read_catalog(Path(data_dir), population_year))


@lru_cache(maxsize=16)
def _load_catalog(data_dir: str, population_year: int, as_of: str) -> Catalog:
    return on_date(_read_catalog(data_dir, population_year), as_of)


def load_catalog(data_dir: str | Path | None = None, population_year: int | None = None,
                 as_of: date | str | None = None) -> Catalog:
    """The catalog of the shipped data on a date (default :func:`default_as_of`), loaded once per process.

    Every spelling of the same folder (None, relative, absolute) gives the same catalog: layers of
    two catalogs have different municipalities and cannot be overlaid. The catalogs of two dates
    share their municipalities.
    """
    from geo.reference.history import parse_date

    day = parse_date(as_of) if as_of is not None else default_as_of()
    year = default_population_year() if population_year is None else int(population_year)
    return _load_catalog(str(Path(data_dir or SHIPPED_DATA).resolve()), year, day.isoformat())
