"""Import a user layer: a membership table (CSV/XLSX) or polygons (GeoJSON/GeoPackage/shapefile).

This is how the known gaps in open data (SEL regions, CAW regions, a hand-drawn proposal) are
filled without code changes. Tables may use NIS codes of any vintage or municipality names;
they are carried to 2025 municipalities. Polygons that are not unions of municipalities get
fractional memberships from an area-weighted overlay in EPSG:31370.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalog import Catalog
from geo.errors import InvalidGeometry, InvalidInput, UnsupportedFormat, WrongCRS
from geo.geometry import municipal_polygons
from geo.layer import Layer
from geo.paths import METRIC_CRS
from geo.vintages import carry_forward

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
POLYGON_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
# A municipality whose area lies less than this share in a polygon is a sliver of the drawing,
# not a member; one with at least 1 - this share is a whole member.
SLIVER_SHARE = 0.005
# A zipped shapefile may not unpack to more than this (a zip bomb would fill memory and disk).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
LAYER_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,62}$")

_MUNICIPALITY_COLUMNS = ("nis_code", "nis", "niscode", "nis-code", "refnis", "code_ins", "gemeente",
                         "municipality", "naam_gemeente", "gemeentenaam")
_ZONE_CODE_COLUMNS = ("zone_code", "zone", "zonecode", "code", "id", "regio_code", "zone_id")
_ZONE_NAME_COLUMNS = ("zone_name", "zonenaam", "naam", "name", "regio", "regionaam", "zone_naam")
_SHARE_COLUMNS = ("share", "aandeel", "fraction")


def validate_layer_id(layer_id: str) -> str:
    if not isinstance(layer_id, str) or not LAYER_ID_PATTERN.match(layer_id):
        raise InvalidInput(f"layer id {layer_id!r} must be 1-63 lowercase letters, digits, '_' or '-', "
                           "starting with a letter")
    return layer_id


def _pick(columns: list[str], candidates: tuple[str, ...], what: str, required: bool = True) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    if required:
        raise InvalidInput(f"no {what} column; expected one of {', '.join(candidates)} (got {', '.join(columns)})")
    return None


def read_table(content: bytes, filename: str) -> pd.DataFrame:
    """Read a CSV (comma or semicolon, UTF-8 or Latin-1) or Excel sheet into text columns."""
    suffix = Path(filename).suffix.lower()
    if not content.strip():
        raise InvalidInput(f"{filename!r} is empty")
    try:
        if suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(io.BytesIO(content), dtype=str)
        elif suffix in (".csv", ".txt"):
            try:
                # Excel's "Unicode text" is UTF-16 with a byte order mark.
                text = content.decode("utf-16" if content.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig")
            except UnicodeDecodeError:
                # Excel on Windows still writes Latin-1 CSVs; names like 'Herk-de-Stad' are ASCII
                # but 'Sint-Genesius-Rode/Rhode-Saint-Genèse' is not.
                text = content.decode("latin-1")
            frame = pd.read_csv(io.StringIO(text), sep=None, engine="python", dtype=str)
        else:
            raise UnsupportedFormat(f"{filename!r}: a membership table must be {', '.join(TABLE_SUFFIXES)}")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, zipfile.BadZipFile, KeyError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{filename!r} could not be read as a table: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InvalidInput(f"{filename!r} has no rows")
    return frame


def members_from_table(frame: pd.DataFrame, catalog: Catalog, vintage: str | None = None) -> pd.DataFrame:
    """Normalise a user table to ``zone_code, zone_name, nis_code, share`` over 2025 municipalities."""
    columns = list(frame.columns)
    muni = _pick(columns, _MUNICIPALITY_COLUMNS, "municipality (NIS code or name)")
    zone = _pick([c for c in columns if c != muni], _ZONE_CODE_COLUMNS, "zone code")
    name = _pick([c for c in columns if c not in (muni, zone)], _ZONE_NAME_COLUMNS, "zone name", required=False)
    share = _pick(columns, _SHARE_COLUMNS, "share", required=False)
    # fillna first: pandas' string dtype keeps a blank cell missing through astype(str).
    table = pd.DataFrame({
        "municipality": frame[muni].fillna("").astype(str).str.strip(),
        "zone_code": frame[zone].fillna("").astype(str).str.strip(),
        "zone_name": (frame[name] if name else frame[zone]).fillna("").astype(str).str.strip(),
    })
    if share:
        table["share"] = pd.to_numeric(frame[share].astype(str).str.replace(",", ".", regex=False), errors="coerce")
        bad = table[table["share"].isna() | (table["share"] <= 0) | (table["share"] > 1)]
        if len(bad):
            raise InvalidInput(f"share must be a number in (0, 1]; row {bad.index[0] + 2} has "
                               f"{frame[share].iloc[bad.index[0]]!r}")
    else:
        table["share"] = 1.0
    blank = table[(table["zone_code"] == "") | (table["zone_code"].str.lower() == "nan")]
    if len(blank):
        raise InvalidInput(f"row {blank.index[0] + 2} has no zone code")
    duplicated = table.duplicated(["municipality", "zone_code"])
    if duplicated.any():
        row = table[duplicated].iloc[0]
        raise InvalidInput(f"municipality {row['municipality']!r} is listed twice in zone {row['zone_code']!r} "
                           f"(row {table[duplicated].index[0] + 2})")
    return carry_forward(table, catalog.crosswalk, column="municipality", vintage=vintage)


def layer_from_table(layer_id: str, content: bytes, filename: str, catalog: Catalog, *, name: str | None = None,
                     source: str = "", vintage: str | None = None, parsed: pd.DataFrame | None = None) -> Layer:
    """A layer from a membership table (CSV/XLSX: municipality -> zone code, zone name, share).

    Examples
    --------
    >>> csv = b"nis_code,zone_code,zone_name\\n34022,Z1,Kortrijk e.o.\\n"
    >>> layer_from_table("sel", csv, "sel.csv", load_catalog()).zone_codes  # doctest: +SKIP
    ['Z1']
    """
    validate_layer_id(layer_id)
    # ``parsed``: the table already read from ``content`` (by the upload sandbox, geo.sandbox).
    members = members_from_table(read_table(content, filename) if parsed is None else parsed, catalog, vintage)
    return Layer.from_members(layer_id, members, catalog.atoms, name=name or layer_id, kind="imported",
                              vintage=vintage or "2025", source=source or f"import: {Path(filename).name}",
                              description="Geimporteerde lidmaatschapstabel.")


def read_polygons(content: bytes, filename: str) -> gpd.GeoDataFrame:
    """Read GeoJSON, GeoPackage or a zipped shapefile from bytes. The file must declare its CRS
    (GeoJSON without a ``crs`` member is WGS84 by the standard)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in POLYGON_SUFFIXES:
        raise UnsupportedFormat(f"{filename!r}: polygons must be {', '.join(POLYGON_SUFFIXES)}")
    if not content.strip():
        raise InvalidInput(f"{filename!r} is empty")
    with tempfile.TemporaryDirectory(prefix="regiomatch-import-") as tmp:
        # The user's file name is never used as a path: only its suffix chooses the driver.
        path = Path(tmp) / f"upload{'.zip' if suffix == '.shp' else suffix}"
        path.write_bytes(content)
        target = path
        if suffix in (".zip", ".shp"):
            try:
                with zipfile.ZipFile(path) as archive:
                    shp = [n for n in archive.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
                    if len(shp) != 1:
                        raise InvalidInput(f"{filename!r}: a zipped shapefile must hold exactly one .shp, found {len(shp)}")
                    stem = shp[0][:-4]
                    # Only the part after the stem is kept, and only without a path separator, so
                    # no member name ('k.shp/../../x') can lead outside the temporary directory.
                    parts = [m for m in archive.infolist() if m.filename.startswith(stem + ".")
                             and not any(sep in m.filename[len(stem):] for sep in "/\\")]
                    if sum(m.file_size for m in parts) > MAX_UNZIPPED_BYTES:
                        raise InvalidInput(f"{filename!r} unpacks to more than {MAX_UNZIPPED_BYTES} bytes")
                    for member in parts:
                        (Path(tmp) / ("layer" + member.filename[len(stem):].lower())).write_bytes(archive.read(member))
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
                # RuntimeError: encrypted; NotImplementedError: unsupported compression.
                raise InvalidInput(f"{filename!r} is not a readable zip archive (send a shapefile as .zip "
                                   "with its .shp, .shx, .dbf and .prj)") from None
            target = Path(tmp) / "layer.shp"
        try:
            frame = gpd.read_file(target)
        except Exception as exc:  # pyogrio raises DataSourceError, ValueError, ... on bad files
            # The message names the temporary file; the user knows their file by its own name.
            reason = str(exc).splitlines()[0].replace(str(target), filename)[:300]
            raise InvalidInput(f"{filename!r} could not be read as polygons: {reason}") from None
    if suffix in (".geojson", ".json"):
        _check_declared_crs(content, filename)
    return frame


def _check_declared_crs(content: bytes, filename: str) -> None:
    """A GeoJSON ``crs`` member that names an unknown CRS is refused: GDAL would silently read
    the coordinates as WGS84 (the default when no ``crs`` is given, which is fine)."""
    import json

    import pyproj

    try:
        declared = json.loads(content).get("crs")
    except (ValueError, AttributeError):
        return
    if not isinstance(declared, dict):
        return
    name = (declared.get("properties") or {}).get("name") if isinstance(declared.get("properties"), dict) else None
    if not name:
        raise WrongCRS(f"{filename!r} has a 'crs' member without a name; give e.g. "
                       "'urn:ogc:def:crs:EPSG::31370' or leave it out for WGS84")
    try:
        pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError:
        raise WrongCRS(f"{filename!r} declares an unknown coordinate reference system {name!r}") from None


def polygon_memberships(frame: gpd.GeoDataFrame, catalog: Catalog, code_column: str | None = None,
                        name_column: str | None = None) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Area-weighted memberships of the 2025 municipalities in each polygon, in EPSG:31370.

    A municipality's share in a zone is the part of its area inside the zone's polygon
    (area-weighted, not population-weighted: no finer population data is open). Shares below
    ``SLIVER_SHARE`` are dropped as drawing slivers; shares above ``1 - SLIVER_SHARE`` become 1.
    """
    if frame.crs is None:
        raise WrongCRS("the polygons declare no coordinate reference system; add a .prj or a CRS "
                       "(EPSG:31370 or EPSG:4326 for Flanders)")
    if frame.empty:
        raise InvalidInput("the file has no features")
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = code_column or _pick(columns, _ZONE_CODE_COLUMNS, "zone code")
    name_col = name_column or _pick([c for c in columns if c != code_col], _ZONE_NAME_COLUMNS, "zone name",
                                    required=False)
    if code_col not in frame:
        raise InvalidInput(f"no column {code_col!r} in the polygons")
    geoms = frame.geometry
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            raise InvalidGeometry(f"feature {i} (zone {frame[code_col].iloc[i]!r}) has an empty geometry")
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidGeometry(f"feature {i} (zone {frame[code_col].iloc[i]!r}) is a {geom.geom_type}, "
                                  "not a polygon")
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            raise InvalidGeometry(f"feature {i} (zone {frame[code_col].iloc[i]!r}) is not a valid polygon: {reason}")
    try:
        metric = frame.to_crs(METRIC_CRS)
    except Exception as exc:
        raise WrongCRS(f"cannot transform from {frame.crs} to {METRIC_CRS}: {exc}") from None
    if not np.isfinite(metric.total_bounds).all():
        raise WrongCRS(f"coordinates do not transform to {METRIC_CRS}: are they in the declared CRS "
                       f"({frame.crs.to_string()})?")
    zones = pd.DataFrame({"code": metric[code_col].astype(str).str.strip(),
                          "name": (metric[name_col] if name_col else metric[code_col]).astype(str).str.strip()})
    zones = pd.concat([zones, metric.geometry.rename("geometry")], axis=1)
    dup = zones["code"].duplicated()
    if dup.any():
        # Several features with one code are one zone (a multipolygon drawn as pieces).
        names = zones.groupby("code")["name"].nunique()
        if (names > 1).any():
            raise InvalidInput(f"zone code {names[names > 1].index[0]!r} has more than one name")
    dissolved = gpd.GeoDataFrame(zones, geometry="geometry", crs=METRIC_CRS).dissolve(by="code", as_index=False,
                                                                                       aggfunc="first")
    munis = municipal_polygons(catalog.data_dir).reset_index()[["nis_code", "geometry"]]
    pieces = gpd.overlay(munis, dissolved[["code", "name", "geometry"]], how="intersection", keep_geom_type=True)
    if pieces.empty:
        lon_lat_hint = ""
        bounds = frame.total_bounds
        if frame.crs.to_epsg() == 4326 and 49 <= bounds[0] <= 52 and 2 <= bounds[1] <= 7:
            lon_lat_hint = " The coordinates look like latitude, longitude: GeoJSON wants longitude first."
        raise InvalidGeometry("the polygons do not overlap any municipality of Flanders or Brussels." + lon_lat_hint)
    area = munis.set_index("nis_code").geometry.area
    pieces["share"] = pieces.geometry.area / pieces["nis_code"].map(area)
    pieces = pieces[pieces["share"] >= SLIVER_SHARE].copy()
    pieces.loc[pieces["share"] > 1 - SLIVER_SHARE, "share"] = 1.0
    pieces = pieces.groupby(["code", "name", "nis_code"], as_index=False)["share"].sum()
    pieces["share"] = pieces["share"].clip(upper=1.0).round(6)
    members = pieces.rename(columns={"code": "zone_code", "name": "zone_name"})
    missing = set(dissolved["code"]) - set(members["zone_code"])
    if missing:
        raise InvalidGeometry(f"zone(s) {sorted(missing)} do not overlap any municipality of Flanders or Brussels")
    outline = dissolved.set_index("code").geometry
    return members[["zone_code", "zone_name", "nis_code", "share"]], outline


def layer_from_polygons(layer_id: str, content: bytes, filename: str, catalog: Catalog, *, name: str | None = None,
                        source: str = "", code_column: str | None = None, name_column: str | None = None,
                        parsed: gpd.GeoDataFrame | None = None) -> Layer:
    """A layer from polygons in any CRS that declares itself (area-weighted memberships).
    ``parsed``: the polygons already read from ``content`` (by the upload sandbox, geo.sandbox)."""
    validate_layer_id(layer_id)
    frame = read_polygons(content, filename) if parsed is None else parsed
    members, outline = polygon_memberships(frame, catalog, code_column, name_column)
    whole = bool((members["share"] == 1.0).all())
    return Layer.from_members(layer_id, members, catalog.atoms, name=name or layer_id,
                              kind="imported", vintage="2025", source=source or f"import: {Path(filename).name}",
                              description="Geimporteerde polygonen; aandelen per gemeente zijn oppervlakteaandelen "
                                          "(area-weighted).",
                              polygons=None if whole else outline)


def check_suffix(filename: str) -> str:
    """The lowercase suffix of an importable file; :class:`UnsupportedFormat` for any other."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in TABLE_SUFFIXES + POLYGON_SUFFIXES:
        raise UnsupportedFormat(f"{filename!r}: expected a table ({', '.join(TABLE_SUFFIXES)}) or polygons "
                                f"({', '.join(POLYGON_SUFFIXES)})")
    return suffix


def import_layer(layer_id: str, content: bytes, filename: str, catalog: Catalog, *, parsed: object | None = None,
                 **options: object) -> Layer:
    """Dispatch on the file suffix: a table or polygons. ``parsed``: the file as already read by
    ``geo.sandbox.parse_upload`` (the server reads uploads in a limited child process)."""
    suffix = Path(filename or "").suffix.lower()
    given = {k: v for k, v in options.items() if v is not None}
    if parsed is not None:
        given["parsed"] = parsed
    if suffix in TABLE_SUFFIXES:
        allowed = {k: v for k, v in given.items() if k in ("name", "source", "vintage", "parsed")}
        return layer_from_table(layer_id, content, filename, catalog, **allowed)  # type: ignore[arg-type]
    if suffix in POLYGON_SUFFIXES:
        allowed = {k: v for k, v in given.items() if k in ("name", "source", "code_column", "name_column", "parsed")}
        return layer_from_polygons(layer_id, content, filename, catalog, **allowed)  # type: ignore[arg-type]
    raise UnsupportedFormat(f"{filename!r}: expected a table ({', '.join(TABLE_SUFFIXES)}) or polygons "
                            f"({', '.join(POLYGON_SUFFIXES)})")
