"""Numbers that hold where a layer or a membership is finer than a municipality (issue 23, points 1-3).

Partial memberships (only Borsbeek of today's Antwerpen), sub-municipal layers (the Antwerp
sub-zones) and imported polygons are counted from the statistical sectors and, by area, from
the polygons' intersections, never as a product of two shares.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.engine.areas import area_gap, area_view, zone_areas
from geo.engine.overlay import overlay
from geo.geometry.polygons import municipal_polygons
from geo.paths import SHIPPED_DATA
from geo.uploads.importing import layer_from_polygons

ANTWERPEN, BORSBEEK = 11002, 11007
OOST = "2"


@pytest.fixture(scope="module")
def register(catalog):
    return catalog.layer("samenwerkingsverbanden")


@pytest.fixture(scope="module")
def antwerp(catalog):
    return catalog.layer("eerstelijnszone_antwerpen_stad")


@pytest.fixture(scope="module")
def split_layer(catalog):
    """An imported polygon layer cutting Antwerpen and Schoten in two along a north-south line."""
    polygons = municipal_polygons()
    area = polygons.loc[[ANTWERPEN, 11040]].union_all()
    minx, miny, maxx, maxy = area.bounds
    middle = (minx + maxx) / 2
    west = box(minx - 10, miny - 10, middle, maxy + 10).intersection(area)
    east = box(middle, miny - 10, maxx + 10, maxy + 10).intersection(area)
    frame = gpd.GeoDataFrame({"code": ["W", "O"], "name": ["West", "Oost"]}, geometry=[west, east], crs=31370)
    return layer_from_polygons("gesplitst", frame.to_json().encode(), "gesplitst.geojson", catalog)


def _sectors() -> pd.DataFrame:
    return pd.read_csv(SHIPPED_DATA / "sectors.csv", dtype={"sector": str, "elzantw": str}, keep_default_na=False)


def _code(layer, name: str) -> str:
    return str(layer.zones.loc[layer.zones["name"] == name, "code"].iloc[0])


def test_borsbeek_lives_in_sub_zone_oost(catalog, register, antwerp):
    """All 11,372 Borsbeek inhabitants live in Oost: Streekvereniging Zuidrand (only Borsbeek of
    Antwerpen is a member) touches Oost alone, not all four sub-zones with Centrum dominant."""
    sectors = _sectors()
    borsbeek = sectors[sectors["nis_2019_2024"] == BORSBEEK]
    assert borsbeek["elzantw"].unique().tolist() == [OOST] and borsbeek["population"].sum() == 11_372

    result = overlay(register, antwerp)
    detail = result.zone_detail(_code(register, "Streekvereniging Zuidrand"))
    assert [z.code for z in detail.zones_touched] == [OOST]
    assert detail.zones_touched[0].weight == pytest.approx(11_372)


def test_partial_members_in_every_sub_zone_match_the_sectors(catalog, register, antwerp):
    """The Antwerpen part of every association per sub-zone, recomputed from the sector table:
    Borsbeek's sectors for a Borsbeek-only member, the rest of the city for an Antwerpen-only one."""
    sectors = _sectors()
    city = sectors[sectors["nis_code"] == ANTWERPEN]
    row = catalog.atoms.position(ANTWERPEN)
    cells = overlay(register, antwerp).split[row]
    parts = register.member_parts()
    parts = parts[parts["nis_code"] == ANTWERPEN]
    assert len(parts) >= 10
    for member in parts.itertuples():
        inside = city[city["nis_2019_2024"].isin([int(p) for p in member.parts.split(";")])]
        expected = inside.groupby("elzantw")["population"].sum()
        i = register.zone_position(member.zone_code)
        for j, zone in enumerate(antwerp.zone_codes):
            assert cells.get((i, j), 0.0) == pytest.approx(expected.get(zone, 0.0), abs=0.01), (member.zone_name, zone)


def test_zone_page_api_counts_associations_where_their_members_live(client):
    """``GET /api/v1/zones/eerstelijnszone_antwerpen_stad/2``: Zuidrand 11,372 (was 2,897.5), Cipal,
    IKA and Pidpa 24,738 (were 16,263.5), ZNA, ISVAG and Water-link 130,140 (were 138,614.5)."""
    body = client.get("/api/v1/zones/eerstelijnszone_antwerpen_stad/2").json()
    found = {a["name"]: a["population"] for a in body["associations"] if a["layer"] == "samenwerkingsverbanden"}
    assert found["Streekvereniging Zuidrand"] == pytest.approx(11_372)
    for name in ("Cipal", "IKA", "Pidpa"):
        assert found[name] == pytest.approx(24_738), name
    for name in ("ISVAG", "Water-link"):
        assert found[name] == pytest.approx(130_140), name


def test_partial_membership_counts_the_year_of_the_part(catalog_2020):
    """In 2020 Cipal's Antwerpen member is Borsbeek's own 10,949 inhabitants (Statbel 2020), not the
    2024 share of the merged city carried over to 2020."""
    register = catalog_2020.layer("samenwerkingsverbanden")
    members = register.members(_code(register, "Cipal")).set_index("nis_code")
    assert members.loc[ANTWERPEN, "share"] * catalog_2020.atoms.population(ANTWERPEN) == pytest.approx(10_949)


@pytest.mark.parametrize("weight", ["population", "area"])
def test_a_layer_that_splits_municipalities_against_itself_is_perfect(antwerp, split_layer, weight):
    """By area the sub-zones against themselves gave ARI 0.125, VI 3.52 bits, NMI 0.0996 and nested 0."""
    for layer in (antwerp, split_layer):
        s = overlay(layer, layer, weight).summary
        assert s.adjusted_rand_index == pytest.approx(1.0, abs=1e-9), (layer.id, weight)
        assert s.variation_of_information == pytest.approx(0.0, abs=1e-9), (layer.id, weight)
        assert s.normalized_mutual_information == pytest.approx(1.0, abs=1e-9), (layer.id, weight)
        assert s.nested_share == pytest.approx(1.0), (layer.id, weight)
        assert s.gap_weight == pytest.approx(0.0, abs=1e-6), (layer.id, weight)
    detail = overlay(antwerp, antwerp, weight).zone_detail("3")  # "Zuid lies mostly in Centrum" no more
    assert detail.dominant_zone == "3" and detail.dominant_share == pytest.approx(1.0)


def test_sub_zone_areas_are_their_polygons_areas(antwerp):
    """Shown were 78.74 / 66.05 / 41.89 / 85.47 km² (population share x the city's area); the
    polygons measure 30.22 / 33.82 / 31.91 / 159.95 km² (slivers along other borders aside)."""
    areas = zone_areas(antwerp)
    polygons = antwerp.polygons.reindex(antwerp.zone_codes).area.to_numpy() / 1e6
    assert np.abs(areas - polygons).max() < 0.06
    assert [round(float(a), 1) for a in areas] == [30.2, 33.8, 31.9, 160.0]


def test_an_imported_polygon_layer_against_itself_has_no_gap(catalog):
    """Was the sum of population x s x (1 - s) over every municipality the layer splits."""
    from benchmarks.grid import grid_geojson

    grid = layer_from_polygons("raster", grid_geojson(400), "raster.geojson", catalog)
    split_rows = ((grid.membership.toarray() > 0) & (grid.membership.toarray() < 1)).any(axis=1)
    assert split_rows.sum() > 100  # the grid splits most municipalities
    for weight in ("population", "area"):
        s = overlay(grid, grid, weight).summary
        assert s.gap_weight == pytest.approx(0.0, abs=1e-6), weight
        assert s.nested_share == pytest.approx(1.0), weight


def test_the_layer_api_shows_the_sub_zones_polygon_areas(client):
    zones = client.get("/api/v1/layers/eerstelijnszone_antwerpen_stad").json()["zones"]
    polygons = [30.22, 33.82, 31.91, 159.95]  # shown were 78.74, 66.05, 41.89, 85.47
    assert all(abs(z["area_km2"] - a) < 0.06 for z, a in zip(zones, polygons)), [z["area_km2"] for z in zones]


def _part_areas() -> pd.DataFrame:
    return pd.read_csv(SHIPPED_DATA / "part_areas.csv")


def _part_outlines() -> gpd.GeoSeries:
    frame = gpd.read_file(SHIPPED_DATA / "part_outlines.gpkg")
    return frame.set_index(frame["nis_2019_2024"].astype(int)).geometry


def test_part_areas_add_up_to_the_municipal_polygons():
    """The shipped parts of each merged municipality measure its polygon (scaled by the build)."""
    parts = _part_areas()
    polygons = municipal_polygons().geometry.area / 1e6
    summed = parts.groupby("nis_2025")["area_km2"].sum()
    assert len(summed) == 13 and BORSBEEK in set(parts["nis_2019_2024"])
    assert np.abs(summed.to_numpy() - polygons.reindex(summed.index).to_numpy()).max() < 1e-3


def test_zuidrand_by_area_covers_borsbeeks_area(catalog, register, antwerp):
    """By area Streekvereniging Zuidrand's Antwerpen member is Borsbeek's own area (about 3.9 km²),
    not Borsbeek's 2 % population share of Antwerpen's 208 km², and it lies in sub-zone Oost: its
    area there is Borsbeek's outline intersected with Oost's polygon."""
    parts = _part_areas().set_index("nis_2019_2024")["area_km2"]
    borsbeek = float(parts[BORSBEEK])
    zuidrand = _code(register, "Streekvereniging Zuidrand")
    members = register.members(zuidrand)
    whole = members[members["nis_code"] != ANTWERPEN]
    assert (whole["share"] == 1).all() and ANTWERPEN in set(members["nis_code"])
    areas = municipal_polygons().geometry.area / 1e6
    expected = float(areas.reindex(whole["nis_code"]).sum()) + borsbeek
    assert zone_areas(register)[register.zone_position(zuidrand)] == pytest.approx(expected, abs=1e-3)

    # Where: Borsbeek's outline against the sub-zones' polygons (all but 0.007 km² along the city's
    # border, which no sub-zone polygon covers, lies in Oost).
    outline = _part_outlines().loc[BORSBEEK]
    zones = gpd.read_file(SHIPPED_DATA / "geometry.gpkg", layer="eerstelijnszone_antwerpen_stad")
    inside = zones.set_index("code").geometry.intersection(outline).area / 1e6
    row = catalog.atoms.position(ANTWERPEN)
    cells = overlay(register, antwerp, "area").split[row]
    mine = {antwerp.zone_codes[j]: v for (i, j), v in cells.items() if i == register.zone_position(zuidrand)}
    assert mine == {OOST: pytest.approx(float(inside[OOST]), rel=1e-4)}
    assert float(inside.drop(OOST).sum()) == 0 and borsbeek - mine[OOST] < 0.01


@pytest.mark.parametrize("weight", ["population", "area"])
def test_a_layer_of_partial_members_against_itself_is_perfect(catalog, register, weight):
    """The associations whose Antwerpen member is Borsbeek alone or the old city alone (no overlap
    between them there): against itself ARI 1, VI 0, NMI 1, nested 1 by area as by population."""
    parts = register.member_parts()
    city = parts[parts["nis_code"] == ANTWERPEN]
    chosen = [city[city["parts"] == str(BORSBEEK)]["zone_code"].iloc[0],
              city[city["parts"] == str(ANTWERPEN)]["zone_code"].iloc[0]]
    members = register.members().merge(parts[["zone_code", "nis_code", "parts"]], how="left",
                                       on=["zone_code", "nis_code"])
    members = members[members["zone_code"].isin(chosen)]
    # Keep each municipality in one zone: the layer must be a partition for the measures.
    members = members[~members["nis_code"].duplicated(keep=False) | (members["nis_code"] == ANTWERPEN)]
    from geo.engine.layer import Layer

    layer = Layer.from_members("delen", members, catalog.atoms)
    s = overlay(layer, layer, weight).summary
    assert s.undefined is None
    assert s.adjusted_rand_index == pytest.approx(1.0, abs=1e-9)
    assert s.variation_of_information == pytest.approx(0.0, abs=1e-9)
    assert s.normalized_mutual_information == pytest.approx(1.0, abs=1e-9)
    assert s.nested_share == pytest.approx(1.0)
    assert s.gap_weight == pytest.approx(0.0, abs=1e-6)


def test_cost_share_by_area_counts_the_parts_area(register):
    """Split by area, Streekvereniging Zuidrand's Antwerpen member pays for Borsbeek's area."""
    from geo.views.costshare import cost_share

    borsbeek = float(_part_areas().set_index("nis_2019_2024")["area_km2"][BORSBEEK])
    table = cost_share(register, _code(register, "Streekvereniging Zuidrand"), "10000", weight="area").table
    assert table.set_index("nis_code").loc[ANTWERPEN, "area_km2"] == pytest.approx(borsbeek, abs=1e-6)


@pytest.fixture(scope="module")
def cut_through_borsbeek(catalog):
    """An imported polygon layer cutting Antwerpen in two along the north-south line through
    Borsbeek's centre: Borsbeek, a 2019-2024 part of today's Antwerpen, lies in both halves."""
    city = municipal_polygons().geometry[ANTWERPEN]
    minx, miny, maxx, maxy = city.bounds
    middle = _part_outlines()[BORSBEEK].centroid.x
    west = box(minx - 10, miny - 10, middle, maxy + 10).intersection(city)
    east = box(middle, miny - 10, maxx + 10, maxy + 10).intersection(city)
    frame = gpd.GeoDataFrame({"code": ["W", "O"], "name": ["West", "Oost"]}, geometry=[west, east], crs=31370)
    return layer_from_polygons("doorsneden", frame.to_json().encode(), "doorsneden.geojson", catalog)


def test_partial_memberships_against_polygons_by_area_are_the_outlines_intersections(catalog, register,
                                                                                       cut_through_borsbeek):
    """By area, a zone with a partial membership of Antwerpen (Borsbeek alone, or the old city alone)
    against a polygon layer cutting Antwerpen covers in each polygon the intersection of its parts'
    outlines with that polygon (geopandas on the shipped outlines), in both orders; a whole member
    covers the polygon's own area there."""
    cut = cut_through_borsbeek
    outlines = _part_outlines()
    halves = gpd.GeoSeries(list(cut.polygons), index=list(cut.polygons.index), crs=31370)
    parts = register.member_parts()
    city = parts[parts["nis_code"] == ANTWERPEN].set_index("zone_code")["parts"].astype(str)
    whole_member = next(z for z in register.zone_codes
                        if z not in city.index and ANTWERPEN in set(register.members(z)["nis_code"]))
    row = catalog.atoms.position(ANTWERPEN)
    forward = overlay(register, cut, "area").split[row]
    backward = overlay(cut, register, "area").split[row]
    checked = 0
    for zone in [*city.index, whole_member]:
        codes = [int(c) for c in city[zone].split(";")] if zone in city.index else list(
            outlines.index[outlines.index.isin(_part_areas().query("nis_2025 == @ANTWERPEN")["nis_2019_2024"])])
        covered = outlines.loc[codes].union_all()
        expected = halves.intersection(covered).area / 1e6
        i = register.zone_position(zone)
        for half, area in expected.items():
            j = cut.zone_position(half)
            assert forward.get((i, j), 0.0) == pytest.approx(area, abs=1e-4), (zone, half)
            assert backward.get((j, i), 0.0) == pytest.approx(area, abs=1e-4), (zone, half)
            checked += 1
    borsbeek_only = [z for z in city.index if city[z] == str(BORSBEEK)]
    assert borsbeek_only and checked >= 6
    # Borsbeek lies in both halves: the sectors' inhabitants would have put it where its people live.
    split = halves.intersection(outlines[BORSBEEK]).area / 1e6
    assert (split > 1.0).all(), split.to_dict()


def test_by_area_the_gap_a_polygon_layer_leaves_to_members_by_parts_is_measured_on_the_outlines(
        catalog, register, antwerp):
    """By area, what the register covers of Antwerpen and the city's primary care zones' polygons
    do not is the outlines' difference: the register covers every part (a whole member and the
    associations of Borsbeek and of the old city), the polygons 92 % of the city. The sectors'
    inhabitants said 0 km² (nobody lives in the rest); shapely on the shipped polygons says 16 km²."""
    row = int(catalog.atoms.position(ANTWERPEN))
    gap = area_gap(area_view(antwerp), area_view(register), np.array([row]))[row]
    whole = municipal_polygons().geometry[ANTWERPEN]
    parts = _part_outlines().loc[_part_areas().query("nis_2025 == @ANTWERPEN")["nis_2019_2024"]]
    assert parts.union_all().symmetric_difference(whole).area / whole.area < 1e-6  # the parts tile it
    uncovered = whole.difference(gpd.GeoSeries(list(antwerp.polygons), crs=31370).union_all()).area
    expected = float(catalog.atoms.weights("area")[row]) * uncovered / whole.area
    assert gap == pytest.approx(expected, abs=1e-3) and gap > 10
    # the other way round: all the polygons cover lies inside what the register covers
    assert area_gap(area_view(register), area_view(antwerp), np.array([row]))[row] == pytest.approx(0.0, abs=1e-6)
