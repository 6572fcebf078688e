r"""A preview of an import before it is saved: what was matched, and every problem row at once.

:func:`geo.uploads.importing.import_layer` refuses a file at its first problem, which is right for the
API but slow going for a person fixing a spreadsheet: they fix row 3, upload again, learn about
row 17. :func:`preview_import` checks every row of a membership table and lists all problems in
Dutch (unknown municipality, no zone code, a share that is not a number in (0, 1], a
municipality twice in one zone); when there are none it builds the layer exactly as the import
would and lists municipality -> zone with population. Polygon files get the same treatment
(:func:`polygon_problems`: every feature that is empty, not a polygon, invalid, without a code or
outside Flanders, named by its number and zone), and a feature the import leaves out because it
covers nobody is named with its likely cause (:func:`dropped_features`: "coördinaten
omgewisseld?"). The page runs this preview before it saves, so a person sees the same Dutch list
whether they press "Voorbeeld" or "Opslaan".

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> csv = b"nis_code,zone_code\n34022,A\n99999,A\n34025,\n"
>>> [p for p in preview_import("x", csv, "x.csv", load_catalog()).problems]  # doctest: +NORMALIZE_WHITESPACE
['rij 3: gemeente 99999 niet herkend (geen NIS-code of naam van 2025, 2019-2024 of 2018)',
 'rij 4: geen zonecode']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.engine.layer import Layer
from geo.errors import RegiomatchError
from geo.reference.catalog import Catalog
from geo.uploads import importing


@dataclass(frozen=True)
class ImportPreview:
    """The layer the file would give (None while there are problems), the problems in Dutch, and
    the features the import would leave out (Dutch, each with its likely cause)."""

    layer: Layer | None
    problems: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The preview as a JSON-ready dict."""
        out: dict = {"problems": self.problems, "dropped": self.dropped, "zone_count": 0, "members": [],
                     "zones": [], "population": 0, "population_year": None, "weighting": None}
        if self.layer is None:
            return out
        atoms = self.layer.atoms
        members = []
        for r in self.layer.members().itertuples():
            population = int(round(atoms.population(int(r.nis_code)) * float(r.share)))
            members.append({"nis_code": int(r.nis_code), "municipality": r.municipality, "zone_code": r.zone_code,
                            "zone_name": r.zone_name, "share": round(float(r.share), 6), "population": population})
        zones: dict[str, dict] = {}
        for m in members:
            zone = zones.setdefault(m["zone_code"], {"code": m["zone_code"], "name": m["zone_name"], "members": 0,
                                                     "population": 0})
            zone["members"] += 1
            zone["population"] += m["population"]
        out.update(zone_count=len(self.layer.zones), members=members, zones=list(zones.values()),
                   population=sum(m["population"] for m in members), population_year=atoms.population_year,
                   weighting=self.layer.description if self.layer.weighting else None)
        return out


def table_problems(frame: pd.DataFrame, catalog: Catalog, vintage: str | None = None) -> list[str]:
    """Every problem row of a membership table, in Dutch (row numbers as in a spreadsheet)."""
    columns = list(frame.columns)
    try:
        muni = importing._pick(columns, importing._MUNICIPALITY_COLUMNS, "municipality (NIS code or name)")
        zone = importing._pick([c for c in columns if c != muni], importing._ZONE_CODE_COLUMNS, "zone code")
    except RegiomatchError:
        return ["geen kolom met de gemeente of de zonecode gevonden; "
                f"kolommen in het bestand: {', '.join(map(str, columns))}. "
                "Noem ze bv. 'nis_code' (of 'gemeente') en 'zone_code'."]
    share = importing._pick(columns, importing._SHARE_COLUMNS, "share", required=False)
    problems: list[str] = []
    seen: dict[tuple[int, str], int] = {}
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        values = dict(zip(columns, row))
        municipality = "" if pd.isna(values[muni]) else str(values[muni]).strip().removesuffix(".0")
        code = "" if pd.isna(values[zone]) else str(values[zone]).strip()
        try:
            nis = catalog.crosswalk.resolve(municipality, vintage) if municipality else None
        except RegiomatchError:
            nis = None
            problems.append(f"rij {i}: gemeente {municipality} niet herkend (geen NIS-code of naam van 2025, "
                            "2019-2024 of 2018)")
        if not municipality:
            problems.append(f"rij {i}: geen gemeente")
        if not code or code.lower() == "nan":
            problems.append(f"rij {i}: geen zonecode")
        if share:
            value = pd.to_numeric(str(values[share]).replace(",", "."), errors="coerce")
            if pd.isna(value) or not 0 < value <= 1:
                problems.append(f"rij {i}: aandeel {values[share]!s} is geen getal tussen 0 en 1")
        if nis is not None and code:
            key = (nis, code)
            if key in seen:
                problems.append(f"rij {i}: {catalog.atoms.name(nis)} staat al in zone {code} (rij {seen[key]})")
            seen.setdefault(key, i)
    name = importing._pick([c for c in columns if c not in (muni, zone)], importing._ZONE_NAME_COLUMNS, "zone name",
                           required=False)
    if name:
        names = pd.DataFrame({"code": frame[zone].astype(str).str.strip(),
                              "name": frame[name].astype(str).str.strip()}).groupby("code")["name"].unique()
        for code, several in names.items():
            if len(several) > 1:
                problems.append(f"zone {code} heeft meer dan één naam: {', '.join(map(str, several))}")
    return problems


# -- polygons -------------------------------------------------------------------------------------
_GEOMETRY_WORDS = {"Point": "een punt", "MultiPoint": "punten", "LineString": "een lijn", "LinearRing": "een ring",
                   "MultiLineString": "lijnen", "GeometryCollection": "een verzameling van geometrieën"}
_INVALID_WORDS = {"Ring Self-intersection": "een rand raakt zichzelf", "Self-intersection": "de rand snijdt zichzelf",
                  "Too few points in geometry component": "te weinig punten",
                  "Hole lies outside shell": "een gat ligt buiten de buitenrand",
                  "Nested shells": "buitenranden liggen in elkaar", "Interior is disconnected": "de vlakte valt uiteen",
                  "Nested holes": "gaten liggen in elkaar", "Duplicate Rings": "een rand staat er twee keer in",
                  "Invalid Coordinate": "een ongeldige coördinaat"}
SWAPPED = ("coördinaten omgewisseld? GeoJSON wil eerst de lengtegraad (x, ongeveer 2,5 tot 6) en dan de "
           "breedtegraad (y, ongeveer 50,6 tot 51,5)")


def _invalid_reason(reason: str) -> str:
    """Shapely's reason ('Self-intersection[4.1 50.8]') in Dutch, with the place it names."""
    what, _, where = reason.partition("[")
    text = _INVALID_WORDS.get(what.strip(), what.strip())
    if where:
        text += " bij " + " ".join(part.replace(".", ",") for part in where.rstrip("]").split())
    return text


def _feature(i: int, code: object) -> str:
    code = "" if code is None or (isinstance(code, float) and pd.isna(code)) else str(code).strip()
    return f"object {i + 1} (zone {code})" if code else f"object {i + 1}"


def _flanders_box(catalog: Catalog):
    """Flanders and Brussels as a box in EPSG:31370: a feature outside it covers nobody."""
    import shapely

    from geo.geometry.polygons import municipal_polygons

    return shapely.box(*municipal_polygons(catalog.data_dir).total_bounds)


def _swapped_would_fit(geometry, crs, box) -> bool:  # noqa: ANN001
    """Would this feature lie in Flanders with x and y swapped (latitude written first)?"""
    import geopandas as gpd
    import shapely

    if geometry is None or geometry.is_empty or crs is None or not crs.is_geographic:
        return False
    swapped = shapely.transform(geometry, lambda xy: xy[:, ::-1])
    try:
        metric = gpd.GeoSeries([swapped], crs=crs).to_crs(importing.METRIC_CRS).iloc[0]
    except Exception:  # noqa: BLE001 - a swap that does not transform is not the cause
        return False
    return bool(metric.intersects(box))


def _outside(frame, catalog: Catalog) -> list[bool]:  # noqa: ANN001
    """Per feature: does it lie wholly outside Flanders and Brussels?"""
    box = _flanders_box(catalog)
    try:
        metric = frame.geometry.to_crs(importing.METRIC_CRS)
    except Exception:  # noqa: BLE001 - reported as a CRS problem by the import
        return [False] * len(frame)
    return [g is not None and not g.is_empty and not g.intersects(box) for g in metric]


def polygon_problems(frame, catalog: Catalog, code_column: str | None = None,  # noqa: ANN001
                     name_column: str | None = None) -> list[str]:
    """Every problem of a polygon file, in Dutch, each feature named by its number and zone code.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from geo.reference.catalog import load_catalog
    >>> frame = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[shapely.Point(4, 51), None], crs="EPSG:4326")
    >>> polygon_problems(frame, load_catalog())
    ['object 1 (zone A): een punt, geen polygoon', 'object 2 (zone B): lege geometrie']
    >>> swapped = gpd.GeoDataFrame({"code": ["K"]}, geometry=[shapely.box(50.8, 3.2, 50.9, 3.3)], crs="EPSG:4326")
    >>> polygon_problems(swapped, load_catalog())[0].startswith("object 1 (zone K): ligt buiten Vlaanderen en Brussel "
    ...                                                     "(coördinaten omgewisseld?")
    True
    """
    if frame.crs is None:
        return ["het bestand zegt niet in welk coördinatenstelsel het staat: voeg een .prj of een CRS toe "
                "(EPSG:31370 of EPSG:4326 voor Vlaanderen)"]
    if frame.empty:
        return ["het bestand bevat geen objecten"]
    columns = [c for c in frame.columns if c != frame.geometry.name]
    try:
        code_col = code_column or importing._pick(columns, importing._ZONE_CODE_COLUMNS, "zone code")
    except RegiomatchError:
        code_col = None
    if code_col not in frame:
        return [f"geen kolom met de zonecode; noem ze bv. 'zone_code' of 'code' (kolommen in het bestand: "
                f"{', '.join(map(str, columns)) or 'geen'})"]
    name_col = name_column if name_column in frame else next(
        (c for c in columns if c != code_col and c.strip().lower() in importing._ZONE_NAME_COLUMNS), None)
    problems = []
    codes = frame[code_col].tolist()
    for i, (geometry, code) in enumerate(zip(frame.geometry, codes)):
        where = _feature(i, code)
        if code is None or not str(code).strip() or str(code).strip().lower() == "nan":
            problems.append(f"{where}: geen zonecode")
        if geometry is None or geometry.is_empty:
            problems.append(f"{where}: lege geometrie")
        elif geometry.geom_type not in ("Polygon", "MultiPolygon"):
            kind = _GEOMETRY_WORDS.get(geometry.geom_type, geometry.geom_type)
            problems.append(f"{where}: {kind}, geen polygoon")
        elif not geometry.is_valid:
            import shapely

            problems.append(f"{where}: geen geldige polygoon ({_invalid_reason(shapely.is_valid_reason(geometry))})")
    if name_col is not None:
        names = pd.DataFrame({"code": frame[code_col].astype(str).str.strip(),
                              "name": frame[name_col].astype(str).str.strip()}).groupby("code")["name"].unique()
        for code, several in names.items():
            if len(several) > 1:
                problems.append(f"zone {code} heeft meer dan één naam: {', '.join(map(str, several))}")
    if problems:
        return problems
    outside = _outside(frame, catalog)
    if all(outside):
        box = _flanders_box(catalog)
        for i, geometry in enumerate(frame.geometry):
            cause = SWAPPED if _swapped_would_fit(geometry, frame.crs, box) else \
                f"staat het bestand wel in {frame.crs.to_string()}?"
            problems.append(f"{_feature(i, codes[i])}: ligt buiten Vlaanderen en Brussel ({cause})")
    return problems


def dropped_features(frame, layer: Layer, catalog: Catalog, code_column: str | None = None) -> list[str]:  # noqa: ANN001
    """The features an import left out (``layer.left_out``), each named with its likely cause, in Dutch.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from geo.reference.catalog import load_catalog
    >>> from geo.geometry.polygons import municipal_polygons
    >>> lendelede = municipal_polygons().loc[34025].geometry
    >>> far = shapely.affinity.translate(lendelede, 0, 400_000)  # somewhere in the North Sea
    >>> frame = gpd.GeoDataFrame({"code": ["L", "X"]}, geometry=[lendelede, far], crs="EPSG:31370")
    >>> dropped_features(frame, importing.layer_from_polygons("x", b"", "x.geojson", load_catalog(),
    ...                  parsed=frame), load_catalog())
    ['zone X (object 2) weggelaten: ligt buiten Vlaanderen en Brussel']
    """
    if not layer.left_out:
        return []
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = code_column or importing._pick(columns, importing._ZONE_CODE_COLUMNS, "zone code")
    codes = frame[code_col].astype(str).str.strip().tolist()
    box, outside = _flanders_box(catalog), _outside(frame, catalog)
    out = []
    for code in layer.left_out:
        rows = [i for i, c in enumerate(codes) if c == str(code)]
        where = f"zone {code} (object {', '.join(str(i + 1) for i in rows)})" if rows else f"zone {code}"
        if rows and all(outside[i] for i in rows):
            swapped = any(_swapped_would_fit(frame.geometry.iloc[i], frame.crs, box) for i in rows)
            cause = f"ligt buiten Vlaanderen en Brussel: {SWAPPED}" if swapped else "ligt buiten Vlaanderen en Brussel"
        else:
            cause = "bevat geen inwoners en geen noemenswaardig deel van een gemeente"
        out.append(f"{where} weggelaten: {cause}")
    return out


# -- any file ---------------------------------------------------------------------------------------
_READ_WORDS = (("is empty", "is leeg"), ("has no rows", "heeft geen rijen"),
               ("could not be read as a table", "kon niet als tabel gelezen worden"),
               ("could not be read as polygons", "kon niet als polygonen gelezen worden"),
               ("is not a readable zip archive", "is geen leesbaar zip-bestand (stuur een shapefile als .zip met "
                                                 "zijn .shp, .shx, .dbf en .prj)"),
               ("expected a table", "is geen tabel (.csv, .txt, .xlsx, .xls) en geen polygonen (.geojson, .json, "
                                    ".gpkg, .zip met een shapefile)"))


def dutch_problem(exc: RegiomatchError, filename: str) -> str:
    """A problem reading a file, in Dutch where it is one of the usual ones (else the detail as is).

    Examples
    --------
    >>> from geo.errors import InvalidInput
    >>> dutch_problem(InvalidInput("'a.csv' has no rows"), "a.csv")
    'het bestand a.csv heeft geen rijen'
    """
    for english, dutch in _READ_WORDS:
        if english in exc.detail:
            return f"het bestand {Path(filename).name} {dutch}"
    if "coordinate reference system" in exc.detail:
        return ("het coördinatenstelsel van het bestand is onbekend of ontbreekt: geef bv. "
                "'urn:ogc:def:crs:EPSG::31370', of laat het weg voor WGS84 (EPSG:4326)")
    return exc.detail


def preview_import(layer_id: str, content: bytes, filename: str, catalog: Catalog, *,
                   parsed: pd.DataFrame | None = None, **options: object) -> ImportPreview:
    """What importing this file would give, without saving it (see the module docstring).
    ``parsed``: the file as already read by ``geo.uploads.sandbox.parse_upload`` (the server does that)."""
    suffix = Path(filename).suffix.lower()
    polygons = suffix in importing.POLYGON_SUFFIXES
    try:
        if suffix in importing.TABLE_SUFFIXES:
            frame = importing.read_table(content, filename) if parsed is None else parsed
            problems = table_problems(frame, catalog, options.get("vintage"))  # type: ignore[arg-type]
        elif polygons:
            frame = importing.read_polygons(content, filename) if parsed is None else parsed
            problems = polygon_problems(frame, catalog, options.get("code_column"),  # type: ignore[arg-type]
                                        options.get("name_column"))  # type: ignore[arg-type]
        else:
            importing.check_suffix(filename)
            frame, problems = None, []
    except RegiomatchError as exc:
        return ImportPreview(None, [dutch_problem(exc, filename)])
    if problems:
        return ImportPreview(None, problems)
    try:
        layer = importing.import_layer(layer_id, content, filename, catalog, parsed=frame, **options)
    except RegiomatchError as exc:
        return ImportPreview(None, [dutch_problem(exc, filename)])
    dropped = dropped_features(frame, layer, catalog, options.get("code_column")) if polygons else []  # type: ignore[arg-type]
    return ImportPreview(layer, dropped=dropped)
