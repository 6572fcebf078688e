"""Importing a user layer: membership tables and polygons in any declared CRS."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box, mapping

from geo.errors import InvalidGeometry, InvalidInput, UnknownMunicipality, UnsupportedFormat, WrongCRS
from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.paths import SHIPPED_DATA
from geo.uploads.importing import import_layer, layer_from_polygons, layer_from_table


def _geojson(frame: gpd.GeoDataFrame) -> bytes:
    return frame.to_json().encode()


def test_table_with_names_old_codes_and_semicolons(catalog):
    csv = "gemeente;zone;zonenaam\nKortrijk;SEL1;SEL Zuid-West\n34025;SEL1;SEL Zuid-West\n11007;SEL2;SEL Antwerpen\n"
    layer = layer_from_table("sel", csv.encode(), "sel.csv", catalog, name="SEL-regio's")
    members = layer.members()
    assert layer.zone_codes == ["SEL1", "SEL2"]
    assert members.loc[members["zone_code"] == "SEL1", "municipality"].tolist() == ["Kortrijk", "Lendelede"]
    # Borsbeek is now part of Antwerpen: Antwerpen gets Borsbeek's population share, not all of it.
    antwerpen = members[members["zone_code"] == "SEL2"]
    assert antwerpen["nis_code"].tolist() == [11002]
    assert antwerpen["share"].iloc[0] == pytest.approx(0.02, abs=0.001)


def test_latin1_table_with_accented_names(catalog):
    csv = "gemeente,zone_code,zone_name\nSint-Genesius-Rode,R1,Rand\nDrogenbos,R1,Rand\n".encode("latin-1")
    layer = layer_from_table("rand", csv, "rand.csv", catalog)
    assert sorted(layer.members()["nis_code"]) == [23098, 23101]


def test_excel_table(catalog):
    buffer = io.BytesIO()
    pd.DataFrame({"nis_code": [72003, 72004], "zone_code": ["N", "N"], "zone_name": ["Noord", "Noord"],
                  "share": [1, 0.5]}).to_excel(buffer, index=False)
    layer = layer_from_table("x", buffer.getvalue(), "x.xlsx", catalog)
    assert layer.members()["share"].tolist() == [1.0, 0.5]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"nis_code,zone_code\n99999,A\n", "99999"),
    (b"nis_code,zone_code,share\n34025,A,1.5\n", "share"),
    (b"nis_code,zone_code,zone_name\n34025,A,X\n34022,A,Y\n", "more than one name"),
    (b"foo,bar\n1,2\n", "municipality"),
    (b"nis_code,zone_code\n34025,A\n34025,A\n", "twice"),
])
def test_bad_tables_are_refused_with_the_problem_named(catalog, content, message):
    with pytest.raises((InvalidInput, UnknownMunicipality), match=message):
        layer_from_table("bad", content, "bad.csv", catalog)
    assert "bad" not in catalog.layer_ids()


def test_unknown_format_is_refused(catalog):
    with pytest.raises(UnsupportedFormat, match="docx"):
        import_layer("x", b"abc", "x.docx", catalog)


def test_bad_layer_id_is_refused(catalog):
    with pytest.raises(InvalidInput, match="layer id"):
        layer_from_table("../etc", b"nis_code,zone_code\n34025,A\n", "a.csv", catalog)


def test_polygons_that_are_unions_of_municipalities_give_whole_memberships(catalog):
    """W13's outline, exported to WGS84 GeoJSON and imported again, gives back W13's 14 members."""
    associations = catalog.layer("samenwerkingsverband")
    outline = zone_polygons(associations).query("code == 'W13'")[["code", "name", "geometry"]].to_crs(4326)
    layer = layer_from_polygons("w13", _geojson(outline), "w13.geojson", catalog)
    assert sorted(layer.members()["nis_code"]) == sorted(associations.members("W13")["nis_code"])
    assert (layer.members()["share"] == 1.0).all()


def test_polygon_that_cuts_a_municipality_gives_a_population_share(catalog):
    """Half of Kortrijk's area is not half of its people: the share counts the inhabitants of the
    sectors whose centroid lies in the polygon (recomputed here from the shipped sector table)."""
    kortrijk = municipal_polygons().loc[34022].geometry
    minx, miny, maxx, maxy = kortrijk.bounds
    middle = (minx + maxx) / 2
    west_half = box(minx - 10, miny - 10, middle, maxy + 10).intersection(kortrijk.buffer(0))
    frame = gpd.GeoDataFrame({"code": ["W"], "name": ["West"]}, geometry=[west_half], crs=31370)
    layer = layer_from_polygons("half", _geojson(frame), "half.geojson", catalog)
    members = layer.members().set_index("nis_code")
    sectors = pd.read_csv(SHIPPED_DATA / "sectors.csv", dtype={"sector": str})
    in_kortrijk = sectors[sectors["nis_code"] == 34022]
    west = in_kortrijk[[west_half.contains(Point(x, y)) for x, y in zip(in_kortrijk["x"], in_kortrijk["y"])]]
    expected = west["population"].sum() / in_kortrijk["population"].sum()
    assert 0.2 < expected < 0.8 and abs(expected - west_half.area / kortrijk.area) > 0.01
    assert members.loc[34022, "share"] == pytest.approx(expected, abs=1e-9)
    assert layer.weighting == "population" and "bevolkingsgewogen" in layer.description
    assert layer.polygons is not None


def test_polygon_without_inhabitants_falls_back_to_area_and_says_so(catalog):
    """A zone that holds no sector centroid gets area-weighted shares, stated in the result."""
    sectors = catalog.atoms.sectors
    kortrijk = municipal_polygons().loc[34022].geometry
    points = [Point(x, y) for x, y in sectors.xy[sectors.of(catalog.atoms.position(34022))]]
    # A 600 m square inside Kortrijk that holds no sector centroid.
    minx, miny, maxx, maxy = kortrijk.bounds
    empty = None
    for x in np.arange(minx, maxx, 300.0):
        for y in np.arange(miny, maxy, 300.0):
            square = box(x, y, x + 600, y + 600)
            if kortrijk.contains(square) and not any(square.contains(p) for p in points):
                empty = square
                break
        if empty is not None:
            break
    assert empty is not None
    frame = gpd.GeoDataFrame({"code": ["E", "W"], "name": ["Leeg", "West"]},
                             geometry=[empty, box(minx - 10, miny - 10, (minx + maxx) / 2, maxy + 10)
                                       .intersection(kortrijk).difference(empty)], crs=31370)
    layer = layer_from_polygons("leeg", _geojson(frame), "leeg.geojson", catalog)
    members = layer.members()
    share = members.loc[members["zone_code"] == "E", "share"]
    if empty.area / kortrijk.area >= 0.005:
        assert share.iloc[0] == pytest.approx(empty.area / kortrijk.area, rel=1e-6)
        assert layer.weighting == "population+area" and "oppervlaktegewogen" in layer.description
    else:
        # Too small for the area fallback: the zone covers nobody, is left out and reported.
        assert share.empty and layer.left_out == ("E",) and "weggelaten: E" in layer.description


def test_people_on_the_area_fallback_are_taken_from_the_other_zones_not_added(catalog):
    """Squares without a sector centroid get their area share of a municipality's inhabitants;
    the squares holding its sectors keep their proportions of the rest. No municipality counts
    more than its inhabitants (a 2,000-square grid once counted 288,448 people twice), and one
    the grid covers whole counts exactly them."""
    import io

    from benchmarks.grid import grid_geojson
    from geo.uploads.importing import polygon_memberships

    frame = gpd.read_file(io.BytesIO(grid_geojson(2000)))
    members, outline = polygon_memberships(frame, catalog)
    fallback = members["zone_code"].isin(members.attrs["area_weighted"])
    assert members.attrs["weighting"] == "population+area" and fallback.any()  # the fallback is used
    coverage = members.groupby("nis_code")["share"].sum()
    assert coverage.max() <= 1.0 + 1e-9
    shared = sorted(set(members.loc[fallback, "nis_code"]) & set(members.loc[~fallback, "nis_code"]))
    assert shared  # municipalities where both kinds of zone meet
    rest = municipal_polygons().loc[shared].geometry.difference(outline.union_all()).area
    whole = rest[rest < 1.0].index
    assert len(whole)
    # Fully covered: every inhabitant in some zone, once.
    assert coverage.loc[whole].to_numpy() == pytest.approx(np.ones(len(whole)), abs=1e-9)


def test_grid_cells_that_cover_nobody_are_left_out_not_refused(catalog):
    """A plain grid over Flanders: cells over the sea or across the border are reported, the rest kept."""
    flanders = municipal_polygons().union_all()
    minx, miny, maxx, maxy = flanders.bounds
    size = 20_000.0
    cells = [box(x, y, x + size, y + size) for x in np.arange(minx, maxx, size) for y in np.arange(miny, maxy, size)]
    cells = [c for c in cells if c.intersects(flanders)] + [box(minx - 3 * size, maxy, minx - 2 * size, maxy + size)]
    frame = gpd.GeoDataFrame({"code": [f"C{i}" for i in range(len(cells))]}, geometry=cells, crs=31370)
    layer = layer_from_polygons("grid", _geojson(frame), "grid.geojson", catalog)
    assert f"C{len(cells) - 1}" in layer.left_out  # the cell far out at sea
    assert len(layer) + len(layer.left_out) == len(cells)
    # Every inhabitant is in exactly one cell (population-weighted, one cell per sector).
    assert layer.coverage()[catalog.atoms.flemish] == pytest.approx(1.0, abs=1e-9)
    assert "weggelaten" in layer.description


def test_zipped_shapefile_in_lambert72(catalog, tmp_path):
    frame = zone_polygons(catalog.layer("samenwerkingsverband")).query("code == 'WRNL'")[["code", "name", "geometry"]]
    frame.to_file(tmp_path / "wrnl.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in tmp_path.glob("wrnl.*"):
            archive.write(part, part.name)
    layer = import_layer("wrnl", buffer.getvalue(), "wrnl.zip", catalog)
    assert len(layer.members()) == 6  # WRNL on the pinned date (history): without Oudsbergen and Pelt


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_polygons_without_crs_are_refused(catalog, tmp_path):
    frame = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(70000, 170000, 80000, 180000)])
    frame.to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in tmp_path.glob("nocrs.*"):
            archive.write(part, part.name)
    with pytest.raises(WrongCRS, match="coordinate reference system"):
        import_layer("nocrs", buffer.getvalue(), "nocrs.zip", catalog)


def test_self_intersecting_polygon_is_refused_naming_the_feature(catalog):
    bowtie = Polygon([(3.2, 50.8), (3.4, 50.9), (3.4, 50.8), (3.2, 50.9), (3.2, 50.8)])
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "B", "name": "Strik"}, "geometry": mapping(bowtie)}]}
    with pytest.raises(InvalidGeometry, match="feature 0.*Self-intersection"):
        layer_from_polygons("bow", json.dumps(doc).encode(), "bow.geojson", catalog)


def test_latitude_longitude_swapped_is_explained(catalog):
    swapped = box(50.8, 3.2, 50.9, 3.4)  # (lat, lon) instead of (lon, lat) around Kortrijk
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "S"}, "geometry": mapping(swapped)}]}
    with pytest.raises(InvalidGeometry, match="longitude first"):
        layer_from_polygons("swap", json.dumps(doc).encode(), "swap.geojson", catalog)


def test_empty_geometry_is_refused(catalog):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "E"}, "geometry": {"type": "Polygon", "coordinates": []}}]}
    with pytest.raises(InvalidGeometry, match="empty"):
        layer_from_polygons("empty", json.dumps(doc).encode(), "e.geojson", catalog)


def test_points_are_not_zones(catalog):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "P"}, "geometry": {"type": "Point", "coordinates": [3.2, 50.8]}}]}
    with pytest.raises(InvalidGeometry, match="Point"):
        layer_from_polygons("pt", json.dumps(doc).encode(), "p.geojson", catalog)


def test_garbage_geojson_is_refused(catalog):
    with pytest.raises(InvalidInput, match="could not be read"):
        layer_from_polygons("g", b"{not json", "g.geojson", catalog)


def test_geojson_naming_an_unknown_crs_is_refused(catalog):
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:999999"}},
           "features": [{"type": "Feature", "properties": {"code": "A"},
                         "geometry": mapping(box(3.2, 50.8, 3.3, 50.9))}]}
    with pytest.raises(WrongCRS, match="999999"):
        layer_from_polygons("unknowncrs", json.dumps(doc).encode(), "u.geojson", catalog)


def test_geojson_declaring_lambert72_is_read_in_lambert72(catalog):
    kortrijk = municipal_polygons().loc[34022].geometry
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31370"}},
           "features": [{"type": "Feature", "properties": {"code": "K"}, "geometry": mapping(kortrijk)}]}
    layer = layer_from_polygons("lambert", json.dumps(doc).encode(), "l.geojson", catalog)
    assert layer.members()[["nis_code", "share"]].values.tolist() == [[34022, 1.0]]
