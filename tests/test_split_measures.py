"""Measures that stay true when layers split municipalities (issue 16, point 4), on the real data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.engine import metrics
from geo.engine.overlay import overlay
from geo.geometry.polygons import municipal_polygons
from geo.paths import SHIPPED_DATA
from geo.reference.catalog import load_catalog
from geo.uploads.importing import layer_from_polygons

ANTWERP_2024 = {"1": 210_008, "2": 141_512, "3": 111_731, "4": 92_148}


@pytest.fixture(scope="module")
def split_antwerp(catalog):
    """An imported polygon layer that cuts Antwerp (and Schoten) in two along a north-south line."""
    polygons = municipal_polygons()
    area = polygons.loc[[11002, 11040]].union_all()
    minx, miny, maxx, maxy = area.bounds
    middle = (minx + maxx) / 2
    west = box(minx - 10, miny - 10, middle, maxy + 10).intersection(area)
    east = box(middle, miny - 10, maxx + 10, maxy + 10).intersection(area)
    frame = gpd.GeoDataFrame({"code": ["W", "O"], "name": ["West", "Oost"]}, geometry=[west, east], crs=31370)
    return layer_from_polygons("antwerpen_gesplitst", frame.to_json().encode(), "gesplitst.geojson", catalog)


def test_every_layer_against_itself_is_perfect_agreement(catalog, split_antwerp):
    for layer in [*catalog.layers(), split_antwerp]:
        s = overlay(layer, layer).summary
        if s.undefined == "overlapping_zones":
            # The register's ~286 overlapping associations are no partition (geo.reference.associations).
            assert layer.id == "samenwerkingsverbanden"
            continue
        assert s.undefined is None, layer.id
        assert s.adjusted_rand_index == pytest.approx(1.0, abs=1e-12), layer.id
        assert s.variation_of_information == pytest.approx(0.0, abs=1e-9), layer.id
        assert s.normalized_mutual_information == pytest.approx(1.0, abs=1e-12), layer.id
        assert s.nested_share == pytest.approx(1.0), layer.id


def test_antwerp_centrum_lies_in_itself_not_half_in_noord(catalog):
    antwerp = catalog.layer("eerstelijnszone_antwerpen_stad")
    detail = overlay(antwerp, antwerp).zone_detail("1")
    assert detail.dominant_zone == "1" and detail.dominant_share == pytest.approx(1.0)
    assert detail.members_outside_dominant == [] and len(detail.zones_touched) == 1


def test_a_split_layer_against_the_sub_zones_counts_people_where_they_live(catalog, split_antwerp):
    """The joint table inside Antwerp comes from the sectors, recomputed here by hand; Schoten (split
    by one layer only, wholly in Noord) is its share of the split layer, as before."""
    antwerp = catalog.layer("eerstelijnszone_antwerpen_stad")
    result = overlay(split_antwerp, antwerp)
    sectors = pd.read_csv(SHIPPED_DATA / "sectors.csv", dtype={"sector": str, "elzantw": str})
    city = sectors[sectors["nis_code"] == 11002]
    assigned = split_antwerp.sector_assignment()[catalog.atoms.sectors.of(catalog.atoms.position(11002))]
    codes = split_antwerp.zones["code"].to_numpy()
    city = city.assign(split=[codes[z] for z in assigned])
    joint = city.groupby(["split", "elzantw"])["population"].sum() / city["population"].sum()
    schoten = split_antwerp.members().query("nis_code == 11040").set_index("zone_code")["share"]
    table = pd.DataFrame(result.table.toarray(), index=split_antwerp.zone_codes, columns=antwerp.zone_codes)
    for (w, z), share in joint.items():
        expected = share * catalog.atoms.population(11002)
        if z == "4":
            expected += schoten.get(w, 0.0) * catalog.atoms.population(11040)
        assert table.loc[w, z] == pytest.approx(expected, rel=1e-9)
    assert table.to_numpy().sum() == pytest.approx(catalog.atoms.population(11002) + catalog.atoms.population(11040))


def test_layers_that_share_no_inhabitants_have_undefined_measures(catalog):
    result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone_antwerpen_stad"))
    s = result.summary
    assert s.undefined == "no_shared_population" and "geen inwoners" in s.undefined_reason
    assert np.isnan(s.adjusted_rand_index) and np.isnan(s.variation_of_information)
    assert s.as_dict()["adjusted_rand_index"] is None


def test_register_layer_gets_per_association_measures_only(catalog):
    result = overlay(catalog.layer("samenwerkingsverbanden"), catalog.layer("referentieregio"))
    assert result.summary.undefined == "overlapping_zones"
    iok = result.zone_table().set_index("name").loc["IOK"]
    assert iok["zones_touched"] >= 1 and 0 < iok["dominant_share"] <= 1


def test_area_weighted_ari_does_not_depend_on_the_unit(catalog):
    result = overlay(catalog.layer("eerstelijnszone"), catalog.layer("politiezone"), "area")
    in_hectares = metrics.partition_measures(result.table * 100.0, unit_free=True)
    assert result.summary.adjusted_rand_index == pytest.approx(in_hectares[0], abs=1e-12)
    assert result.summary.variation_of_information == pytest.approx(in_hectares[1], abs=1e-12)
    # By population it stays the classic pair-counting ARI (inhabitants are individuals).
    by_people = overlay(catalog.layer("eerstelijnszone"), catalog.layer("politiezone"))
    assert by_people.summary.adjusted_rand_index == pytest.approx(metrics.adjusted_rand_index(by_people.table))


def test_nested_share_counts_each_inhabitant_once():
    """Neteland's members are also WZK's: counted once, 7.7 % (69,049 of 892,769; not 69,049 of
    961,818 = 7.2 %) of the associations' inhabitants live in an association that lies in one
    primary care zone (Neteland in Middenkempen), 2020 figures, on the pinned date."""
    catalog = load_catalog(population_year=2020)
    a = catalog.layer("samenwerkingsverband")
    result = overlay(a, catalog.layer("eerstelijnszone"))
    population = catalog.atoms.table["population"]
    covered = population[a.coverage() > 0].sum()
    neteland = population.loc[a.members("NETELAND")["nis_code"]].sum()
    assert result.summary.nested_share == pytest.approx(neteland / covered)
    assert round(result.summary.nested_share, 3) == 0.077


def test_antwerp_sub_zones_are_population_weighted_from_the_sectors(catalog):
    assert catalog.atoms.population_year == 2024
    antwerp = catalog.layer("eerstelijnszone_antwerpen_stad")
    members = antwerp.members()
    city = members[members["nis_code"] == 11002].set_index("zone_code")["share"]
    population = catalog.atoms.population(11002)
    assert population == 555_399 == sum(ANTWERP_2024.values())  # incl. Borsbeek since 2025
    # The left bank is no longer lost: every inhabitant of the city is in a sub-zone.
    assert city.sum() == pytest.approx(1.0, abs=1e-9)
    for code, expected in ANTWERP_2024.items():
        assert city[code] * population == pytest.approx(expected, abs=0.01)


def test_a_scenario_on_a_split_layer_against_itself_is_perfect_agreement(catalog, split_antwerp):
    """Scenarios keep the sector assignment; a moved (now whole) municipality is a plain product."""
    from geo.engine.scenario import Move, apply_moves

    for base, move in ((catalog.layer("eerstelijnszone_antwerpen_stad"), Move(11040, "1")),
                       (split_antwerp, Move(11040, "W"))):
        scenario = apply_moves(base, [move], id="scenario:proef")
        s = overlay(scenario, scenario).summary
        assert (s.adjusted_rand_index, s.variation_of_information) == (pytest.approx(1.0), pytest.approx(0.0, abs=1e-9))
        # Against its base: Antwerp itself is unchanged, so its sub-zones still match one to one.
        detail = overlay(scenario, base).zone_detail(base.zone_codes[0])
        assert detail.dominant_zone == base.zone_codes[0]


def test_a_square_of_only_uninhabited_sectors_gives_no_empty_number(catalog):
    """An imported grid against itself: a square holding only sectors without inhabitants in a
    municipality the grid splits put 0/0 (NaN) in the joint table."""
    from benchmarks.grid import grid_geojson

    grid = layer_from_polygons("raster", grid_geojson(150), "raster.geojson", catalog)
    result = overlay(grid, grid)
    assert np.isfinite(result.table.data).all()
    assert result.table.sum() == pytest.approx(grid.zone_weight().sum())
    assert result.summary.nested_share == pytest.approx(1.0)
