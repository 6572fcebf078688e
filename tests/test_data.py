"""The shipped data, checked against figures a planner can verify by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geo.paths import SHIPPED_DATA


def test_municipalities_of_2025(catalog):
    atoms = catalog.atoms
    assert len(atoms) == 304
    assert atoms.flemish.sum() == 285
    assert (atoms.table["region"] == "Brussels Hoofdstedelijk Gewest").sum() == 19
    assert atoms.name(34025) == "Lendelede"


def test_population_2020_matches_statbel_region_totals(catalog_2020):
    table = catalog_2020.atoms.table
    assert catalog_2020.atoms.population_year == 2020 and catalog_2020.atoms.population_note == ""
    # Statbel, 1 January 2020: Flemish Region 6,629,143; Brussels-Capital Region 1,218,255.
    assert table.loc[catalog_2020.atoms.flemish, "population"].sum() == 6_629_143
    assert table.loc[~catalog_2020.atoms.flemish, "population"].sum() == 1_218_255


def test_population_is_carried_through_the_2025_mergers(catalog_2020):
    # Antwerpen (529,247) absorbed Borsbeek (10,949) on 1 January 2025.
    assert catalog_2020.atoms.population(11002) == 529_247 + 10_949


def test_population_2024_from_the_sectors_is_the_default(catalog):
    from geo.reference.catalog import DEFAULT_POPULATION_YEAR, population_years

    assert catalog.atoms.population_year == DEFAULT_POPULATION_YEAR == 2024
    # Years come from the data, not a list in the code.
    import pandas as pd

    assert list(population_years()) == sorted(pd.read_csv(SHIPPED_DATA / "population.csv")["year"].unique())
    assert list(population_years()) == [2018, 2019, 2020, 2024]
    table = catalog.atoms.table
    # Sector sums, 1 January 2024: Flanders 6,818,511 (Statbel's official 6,821,770), Brussels 1,246,136.
    assert table.loc[catalog.atoms.flemish, "population"].sum() == 6_818_511
    assert table.loc[~catalog.atoms.flemish, "population"].sum() == 1_246_136
    assert "0,1 à 0,3 %" in catalog.atoms.population_note and "2024" in catalog.atoms.population_note
    # Each municipality is the sum of its shipped sectors.
    sectors = pd.read_csv(SHIPPED_DATA / "sectors.csv", dtype={"sector": str})
    assert (sectors.groupby("nis_code")["population"].sum() == table["population"]).all()
    assert len(sectors) == 9_917 and sectors["sector"].is_unique


def test_every_sector_point_lies_in_its_own_municipality(catalog):
    import shapely

    from geo.geometry.polygons import municipal_polygons

    sectors = catalog.atoms.sectors
    own = municipal_polygons().loc[sectors.table["nis_code"]].geometry.to_numpy()
    assert shapely.contains_xy(own, sectors.xy[:, 0], sectors.xy[:, 1]).all()


def test_part_outlines_tile_their_municipality_and_measure_the_part_areas():
    """The outlines of the 28 parts (2019-2024) of the 13 merged municipalities are valid, tile the
    2025 polygon (gaps and overlaps under 1e-6 of its area) and measure ``part_areas.csv``."""
    import geopandas as gpd
    import pandas as pd

    outlines = gpd.read_file(SHIPPED_DATA / "part_outlines.gpkg", layer="deelgemeente_2019_2024")
    municipalities = gpd.read_file(SHIPPED_DATA / "geometry.gpkg", layer="gemeente_2025").set_index("nis_code")
    areas = pd.read_csv(SHIPPED_DATA / "part_areas.csv")
    assert outlines.crs.to_epsg() == 31370 and outlines.geometry.is_valid.all()
    assert len(outlines) == 28 and outlines["nis_2025"].nunique() == 13
    for nis, group in outlines.groupby("nis_2025"):
        whole = municipalities.geometry[int(nis)]
        union = group.geometry.union_all()
        assert abs(group.geometry.area.sum() - whole.area) < 1e-6 * whole.area, nis  # no overlap
        assert union.symmetric_difference(whole).area < 1e-6 * whole.area, nis  # no gap, nothing outside
    measured = outlines.set_index("nis_2019_2024").geometry.area / 1e6
    shipped = areas.set_index("nis_2019_2024")["area_km2"]
    assert np.abs(measured.reindex(shipped.index).to_numpy() - shipped.to_numpy()).max() <= 5e-5


def test_unknown_population_year_names_the_years(catalog):
    from geo.errors import InvalidInput
    from geo.reference.catalog import load_catalog_from

    with pytest.raises(InvalidInput, match="2018, 2019, 2020, 2024"):
        load_catalog_from(SHIPPED_DATA, population_year=2021)


def test_area_is_in_square_kilometres(catalog):
    area = catalog.atoms.table["area_km2"]
    # Flanders is about 13,600 km^2, Brussels about 162 km^2 (simplified polygons: within 1%).
    assert area[catalog.atoms.flemish].sum() == pytest.approx(13_625, rel=0.01)
    assert area[~catalog.atoms.flemish].sum() == pytest.approx(162, rel=0.02)


def test_layer_registry_lists_every_shipped_layer(catalog):
    ids = [m["id"] for m in json.loads((SHIPPED_DATA / "layers.json").read_text(encoding="utf-8"))]
    assert ids == catalog.layer_ids()
    for expected in ("gemeente", "provincie", "arrondissement", "eerstelijnszone", "referentieregio", "logo",
                     "gezondheidsmakers", "politiezone", "vervoerregio", "woonmaatschappij", "streekwerking",
                     "igs_woonbeleid", "samenwerkingsverband"):
        assert expected in ids


@pytest.mark.parametrize("layer_id, zones", [
    ("provincie", 6), ("arrondissement", 23), ("eerstelijnszone", 57), ("referentieregio", 15), ("logo", 15),
    ("gezondheidsmakers", 15), ("politiezone", 107), ("vervoerregio", 15), ("woonmaatschappij", 42),
    ("streekwerking", 23), ("igs_woonbeleid", 70), ("samenwerkingsverband", 4), ("gemeente", 304),
    ("samenwerkingsverbanden", 286),
])
def test_zone_counts(catalog, layer_id, zones):
    assert len(catalog.layer(layer_id)) == zones


def test_association_memberships(catalog):
    members = catalog.published_layer("samenwerkingsverband").members()  # the hand list as shipped
    counts = members.groupby("zone_code").size().to_dict()
    assert counts == {"W13": 14, "WRNL": 8, "WZK": 27, "ISOM": 7}
    # Served on the pinned date: what the dated history counts (ISOM ended 2018, WRNL without
    # Oudsbergen and Pelt, whose start is unknown; Neteland from 2019).
    served = catalog.layer("samenwerkingsverband").members().groupby("zone_code").size().to_dict()
    assert served == {"W13": 14, "WRNL": 6, "WZK": 27, "NETELAND": 5}
    # WZK is "the 27 municipalities of arrondissement Turnhout".
    turnhout = set(catalog.layer("arrondissement").members("13000")["nis_code"])
    assert set(members.loc[members["zone_code"] == "WZK", "nis_code"]) == turnhout
    # ISOM is one of WZK's subregions: an overlap, which is data, not an error.
    isom = set(members.loc[members["zone_code"] == "ISOM", "nis_code"])
    assert isom < turnhout


def test_primary_care_zones_cover_every_municipality_once(catalog):
    coverage = catalog.layer("eerstelijnszone").coverage()
    assert np.array_equal(coverage, np.ones(304))


def test_flemish_only_layers_leave_brussels_out(catalog):
    coverage = catalog.layer("referentieregio").coverage()
    assert np.array_equal(coverage, catalog.atoms.flemish.astype(float))


def test_housing_cooperations_have_gaps_not_a_fake_zone(catalog):
    layer = catalog.layer("igs_woonbeleid")
    assert "igs999" not in layer.zone_codes  # "Geen IGS" is a gap
    assert (layer.coverage()[catalog.atoms.flemish] == 0).sum() > 0


def test_antwerp_sub_zones_are_area_weighted_shares(catalog):
    layer = catalog.layer("eerstelijnszone_antwerpen_stad")
    members = layer.members()
    # The sub-zones split the city of Antwerp and take in Schoten, Stabroek and Wommelgem whole:
    # together they are primary care zone "Antwerpen en rand" (elz2).
    elz2 = set(catalog.layer("eerstelijnszone").members("elz2")["nis_code"])
    assert set(members["nis_code"]) == elz2 == {11002, 11040, 11044, 11052}
    city = members[members["nis_code"] == 11002]
    assert len(city) == 4 and (city["share"] < 1).all()
    # The zones predate the merger with Borsbeek: they cover most, not all, of the 2025 city.
    assert 0.85 < city["share"].sum() < 1.0
    assert (members.loc[members["nis_code"] != 11002, "share"] == 1.0).all()
    assert layer.polygons is not None and len(layer.polygons) == 4


def test_zone_names_as_published(catalog):
    elz = catalog.layer("eerstelijnszone")
    assert elz.zone_name("elz18") == "Kortrijk-Kuurne-Harelbeke"
    assert elz.zone_name("elz7") == "Bruzel"
    assert catalog.layer("referentieregio").zone_name("REFREG01") == "Regio Antwerpen"
