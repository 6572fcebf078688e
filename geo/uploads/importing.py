"""Import a user layer: a membership table (CSV/XLSX) or polygons (GeoJSON/GeoPackage/shapefile).

This is how the known gaps in open data (SEL regions, CAW regions, a hand-drawn proposal) are
filled without code changes. Tables may use NIS codes of any vintage or municipality names;
they are carried to 2025 municipalities. Polygons that are not unions of municipalities get
fractional memberships weighted by population, from the statistical sectors' centroids (area-weighted
in EPSG:31370 where a zone holds no inhabited sector).
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geo.engine.layer import Layer, _natural_key, sectors_in_polygons
from geo.errors import InvalidGeometry, InvalidInput, LimitExceeded, UnsupportedFormat, WrongCRS
from geo.geometry.polygons import municipal_polygons
from geo.lazy import lazy_module
from geo.paths import METRIC_CRS
from geo.reference.catalog import Catalog
from geo.reference.vintages import carry_forward

# Only drawing and importing polygons need geopandas: not a start-up, nor an overlay.
if TYPE_CHECKING:  # the real module for the type checker; at run time imported on first use
    import geopandas as gpd
else:
    gpd = lazy_module("geopandas")

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
POLYGON_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
# A municipality whose area lies less than this share in a polygon is a sliver of the drawing,
# not a member; one with at least 1 - this share is a whole member.
SLIVER_SHARE = 0.005
# A zipped shapefile may not unpack to more than this (a zip bomb would fill memory and disk).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# Most zones of one layer per municipality, checked on the polygons before they are overlaid with
# the municipalities (the upload sandbox sets it in its child process; None: not checked there).
MAX_ZONES_PER_MUNICIPALITY: int | None = None
LAYER_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,62}$")

_MUNICIPALITY_COLUMNS = ("nis_code", "nis", "niscode", "nis-code", "refnis", "code_ins", "gemeente",
                         "municipality", "naam_gemeente", "gemeentenaam")
_ZONE_CODE_COLUMNS = ("zone_code", "zone", "zonecode", "code", "id", "regio_code", "zone_id")
_ZONE_NAME_COLUMNS = ("zone_name", "zonenaam", "naam", "name", "regio", "regionaam", "zone_naam")
_SHARE_COLUMNS = ("share", "aandeel", "fraction")


def validate_layer_id(layer_id: str) -> str:
    """The layer id if it is 1-63 lowercase letters, digits, '_' or '-' starting with a letter; else InvalidInput."""
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
    r"""A layer from a membership table (CSV/XLSX: municipality -> zone code, zone name, share).

    Examples
    --------
    >>> csv = b"nis_code,zone_code,zone_name\n34022,Z1,Kortrijk e.o.\n"
    >>> layer_from_table("sel", csv, "sel.csv", catalog).zone_codes
    ['Z1']
    """
    validate_layer_id(layer_id)
    # ``parsed``: the table already read from ``content`` (by the upload sandbox, geo.uploads.sandbox).
    members = members_from_table(read_table(content, filename) if parsed is None else parsed, catalog, vintage)
    return Layer.from_members(layer_id, members, catalog.atoms, name=name or layer_id, kind="imported",
                              vintage=vintage or "2025", source=source or f"import: {Path(filename).name}",
                              description="Geïmporteerde lidmaatschapstabel.")


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
                        raise InvalidInput(f"{filename!r}: a zipped shapefile must hold exactly one .shp, "
                                           f"found {len(shp)}")
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
    """Population-weighted memberships of the 2025 municipalities in each polygon, in EPSG:31370.

    A municipality's share in a zone is the share of its inhabitants (1 January 2024) living in
    the statistical sectors whose centroid lies in the zone's polygon: a sector's inhabitants go
    to the polygon that holds its centroid. Where a zone holds no inhabited sector centroid, the
    stated fallback is the area-weighted share (the part of a municipality's area inside it), of
    which shares below ``SLIVER_SHARE`` are dropped and shares above ``1 - SLIVER_SHARE`` become 1
    (drawing slivers; a sector's people are never a sliver). Those people are taken from the
    municipality's zones placed by the sectors, which keep their proportions of the rest: a
    municipality's shares add up to at most 1, never to more people than it has. A zone that
    covers nobody that way (a grid cell over the sea) is left out and reported, not a reason to
    refuse the file.

    The returned table's ``attrs`` say what was done: ``weighting`` ("population", "area" or
    "population+area"), ``area_weighted`` (zone codes on the fallback), ``left_out`` (zone
    codes that cover nobody) and ``cut_by_area`` (some kept zone holds a piece of a municipality,
    past the sliver rules, even where its inhabitants' share is 1 or 0).
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
    # The layer's own zone order, so a sector in two overlapping polygons goes to the same zone
    # here as in Layer.sector_assignment later.
    dissolved = dissolved.sort_values("code", key=_natural_key).reset_index(drop=True)
    munis = municipal_polygons(catalog.data_dir).reset_index()[["nis_code", "geometry"]]
    if MAX_ZONES_PER_MUNICIPALITY is not None:
        # The cheap count before the expensive cut: 300 copies of one rectangle over Flanders
        # would otherwise cut every municipality 300 times (a minute of CPU) to be refused after.
        check_zone_fanout(munis, dissolved, MAX_ZONES_PER_MUNICIPALITY)
    pieces = gpd.overlay(munis, dissolved[["code", "name", "geometry"]], how="intersection", keep_geom_type=True)
    if pieces.empty:
        lon_lat_hint = ""
        bounds = frame.total_bounds
        if frame.crs.to_epsg() == 4326 and 49 <= bounds[0] <= 52 and 2 <= bounds[1] <= 7:
            lon_lat_hint = " The coordinates look like latitude, longitude: GeoJSON wants longitude first."
        raise InvalidGeometry("the polygons do not overlap any municipality of Flanders or Brussels." + lon_lat_hint)
    area = munis.set_index("nis_code").geometry.area
    pieces["share"] = pieces.geometry.area / pieces["nis_code"].map(area)
    by_area = pd.DataFrame(pieces[["code", "name", "nis_code", "share"]])
    # Slivers are a drawing matter (polygons drawn on other borders): only area shares have them.
    # A sector is real people, however few, and its centroid lies well inside its sector.
    by_area = by_area[by_area["share"] >= SLIVER_SHARE].copy()
    by_area.loc[by_area["share"] > 1 - SLIVER_SHARE, "share"] = 1.0
    by_people = _population_shares(dissolved, catalog)
    people_zones = set(by_people["code"])
    fallback = by_area[~by_area["code"].isin(people_zones)]
    # The people a zone on the fallback is given come out of the municipality's zones placed by the
    # sectors, not on top of them: those keep their proportions of what is left, so a municipality's
    # shares never add up to more than its inhabitants (a 2,000-square grid counted 288,448 twice).
    taken = fallback.groupby("nis_code")["share"].sum().clip(upper=1.0)
    by_people = by_people.assign(share=by_people["share"] * (1.0 - by_people["nis_code"].map(taken).fillna(0.0)))
    by_people = by_people[by_people["share"] > 0]
    table = pd.concat([by_people, fallback], ignore_index=True)
    table = table.groupby(["code", "name", "nis_code"], as_index=False)["share"].sum()
    table["share"] = table["share"].clip(upper=1.0)
    members = table.rename(columns={"code": "zone_code", "name": "zone_name"})
    left_out = sorted(set(dissolved["code"]) - set(members["zone_code"]), key=lambda c: _natural_key(pd.Series([c]))[0])
    if members.empty:
        raise InvalidGeometry(f"zone(s) {left_out[:20]} do not overlap any municipality of Flanders or Brussels")
    kept = set(members["zone_code"])
    area_weighted = sorted(kept - people_zones)
    members = members[["zone_code", "zone_name", "nis_code", "share"]].reset_index(drop=True)
    # A municipality that the polygons cut by area, whatever its inhabitants' shares: all the sector
    # centroids of Baarle-Hertog may lie in one zone while another holds 30 % of its land. By area
    # the layer must then count its polygons, not a share of 1 (``Layer.polygons`` kept).
    cut = bool((by_area["code"].isin(kept) & (by_area["share"] < 1.0)).any())
    members.attrs.update(
        weighting="area" if not people_zones & kept else ("population+area" if area_weighted else "population"),
        area_weighted=area_weighted, left_out=left_out, cut_by_area=cut)
    outline = dissolved[dissolved["code"].isin(kept)].set_index("code").geometry
    return members, outline


def too_many_zones(nis_code: int, count: int, limit: int) -> LimitExceeded:
    """The one refusal of a layer with more than ``limit`` zones over one municipality (the same
    words whether counted before the overlay or after it, in a preview or an import).

    Examples
    --------
    >>> print(too_many_zones(34022, 300, 50).detail)  # doctest: +NORMALIZE_WHITESPACE
    gemeente 34022 ligt in 300 zones van deze laag; hoogstens 50 zones per gemeente zijn toegestaan
    (import_zones_per_municipality)
    """
    return LimitExceeded(f"gemeente {nis_code} ligt in {count} zones van deze laag; hoogstens {limit} zones per "
                         "gemeente zijn toegestaan (import_zones_per_municipality)")


# A zone that meets a municipality's interior may still not become its member (a sliver with
# nobody living in it), so the count before the overlay refuses only beyond this many times the
# limit; the exact count after the overlay holds the limit itself. Both run for preview and import.
FANOUT_SLACK = 2


def check_zone_fanout(munis: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, limit: int,
                      slack: int = FANOUT_SLACK) -> None:
    """:func:`too_many_zones` when some municipality's interior meets more than ``slack * limit``
    zones: then it surely lies in more than ``limit`` of them, and the overlay is not worth running.

    Counted with a spatial index (each municipality prepared once, against the rectangles around
    the zones), then, for the municipalities over the bound only, without the zones that merely
    touch its border: milliseconds where the overlay would take minutes.
    """
    bound = slack * limit
    if len(zones) <= bound:
        return
    geoms = np.asarray(munis.geometry.values)
    zone_geoms = np.asarray(zones.geometry.values)
    muni_index, zone_index = shapely.STRtree(zone_geoms).query(geoms, predicate="intersects")
    counts = np.bincount(muni_index, minlength=len(geoms))
    for i in np.argsort(-counts, kind="stable"):
        if counts[i] <= bound:
            return
        touching = zone_index[muni_index == i]
        inside = int((~shapely.touches(geoms[i], zone_geoms[touching])).sum())
        if inside > bound:
            raise too_many_zones(int(munis["nis_code"].iloc[i]), inside, limit)


def _population_shares(zones: gpd.GeoDataFrame, catalog: Catalog) -> pd.DataFrame:
    """``code, name, nis_code, share`` from the sector centroids each zone holds (inhabited ones);
    empty without shipped sectors."""
    sectors = catalog.atoms.sectors
    if sectors is None:
        return pd.DataFrame(columns=["code", "name", "nis_code", "share"])
    codes = zones["code"].astype(str).tolist()
    assigned = sectors_in_polygons(sectors.xy, zones.set_index("code").geometry, {c: i for i, c in enumerate(codes)})
    table = sectors.table[["nis_code", "population"]].assign(zone=assigned)
    totals = table.groupby("nis_code")["population"].sum()
    inside = table[(table["zone"] >= 0) & (table["population"] > 0)]
    if inside.empty:
        return pd.DataFrame(columns=["code", "name", "nis_code", "share"])
    per = inside.groupby(["zone", "nis_code"], as_index=False)["population"].sum()
    names = zones["name"].astype(str).tolist()
    return pd.DataFrame({
        "code": [codes[z] for z in per["zone"]],
        "name": [names[z] for z in per["zone"]],
        "nis_code": per["nis_code"].astype(int),
        "share": (per["population"] / per["nis_code"].map(totals)).to_numpy(),
    })


WEIGHTING_WORDS = {
    "population": "het aandeel van haar inwoners (1 januari 2024) dat in de statistische sectoren woont waarvan "
                  "het middelpunt in de zone ligt (bevolkingsgewogen)",
    "area": "het aandeel van haar oppervlakte dat in de zone ligt (oppervlaktegewogen)",
}


def weighting_description(weighting: str, area_weighted: list[str], left_out: list[str]) -> str:
    """The Dutch sentence that says how an imported polygon layer's shares were computed.

    Examples
    --------
    >>> weighting_description("population", [], ["C9"])[:40]
    'Geïmporteerde polygonen; het aandeel van'
    """
    if weighting == "area":
        text = f"Geïmporteerde polygonen; het aandeel van een gemeente in een zone is {WEIGHTING_WORDS['area']}."
    else:
        text = f"Geïmporteerde polygonen; het aandeel van een gemeente in een zone is {WEIGHTING_WORDS['population']}."
        if area_weighted:
            zones = "1 zone" if len(area_weighted) == 1 else f"{len(area_weighted)} zones"
            text += (f" Voor {zones} zonder bewoonde sector ({', '.join(area_weighted[:10])}"
                     f"{', ...' if len(area_weighted) > 10 else ''}) is het {WEIGHTING_WORDS['area']}.")
    if left_out:
        zones = ("1 zone bevat geen inwoners en geen noemenswaardig deel van een gemeente en is weggelaten"
                 if len(left_out) == 1 else
                 f"{len(left_out)} zones bevatten geen inwoners en geen noemenswaardig deel van een gemeente en "
                 "zijn weggelaten")
        text += f" {zones}: {', '.join(left_out[:10])}{', ...' if len(left_out) > 10 else ''}."
    return text


def layer_from_polygons(layer_id: str, content: bytes, filename: str, catalog: Catalog, *, name: str | None = None,
                        source: str = "", code_column: str | None = None, name_column: str | None = None,
                        parsed: gpd.GeoDataFrame | None = None) -> Layer:
    """A layer from polygons in any CRS that declares itself (population-weighted memberships,
    see :func:`polygon_memberships`; ``Layer.weighting`` and the description say how).
    ``parsed``: the polygons already read from ``content`` (by the upload sandbox, geo.uploads.sandbox)."""
    validate_layer_id(layer_id)
    frame = read_polygons(content, filename) if parsed is None else parsed
    members, outline = polygon_memberships(frame, catalog, code_column, name_column)
    info = dict(members.attrs)
    # Whole municipalities only when both the inhabitants and the land say so: the outline is what
    # the area overlay cuts by (geo.engine.areas), and shares of 1 by population may hide a cut.
    whole = bool((members["share"] == 1.0).all()) and not info.get("cut_by_area", True)
    # Said once, here: left on the table, pandas would deep-copy the lists of left-out and
    # area-weighted zones into every frame derived from it (30 ms per overlay of a big grid).
    members.attrs = {}
    return Layer.from_members(layer_id, members, catalog.atoms, name=name or layer_id,
                              kind="imported", vintage="2025", source=source or f"import: {Path(filename).name}",
                              description=weighting_description(info.get("weighting", "area"),
                                                                info.get("area_weighted", []),
                                                                info.get("left_out", [])),
                              polygons=None if whole else outline, weighting=info.get("weighting", "area"),
                              left_out=tuple(info.get("left_out", ())))


def check_suffix(filename: str) -> str:
    """The lowercase suffix of an importable file; :class:`UnsupportedFormat` for any other."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in TABLE_SUFFIXES + POLYGON_SUFFIXES:
        raise UnsupportedFormat(f"{filename!r}: expected a table ({', '.join(TABLE_SUFFIXES)}) or polygons "
                                f"({', '.join(POLYGON_SUFFIXES)})")
    return suffix


def import_layer(layer_id: str, content: bytes, filename: str, catalog: Catalog, *, parsed: pd.DataFrame | None = None,
                 **options: object) -> Layer:
    """Dispatch on the file suffix: a table or polygons. ``parsed``: the file as already read by
    ``geo.uploads.sandbox.parse_upload`` (the server reads uploads in a limited child process)."""
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
