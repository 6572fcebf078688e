"""The overlay engine on the real shipped layers, with facts a planner can check on a map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.engine.atoms import Atoms
from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.errors import InvalidInput, UnknownZone

# The association layer on the pinned date (REGIOMATCH_AS_OF, 1 December 2026): ISOM ended in 2018 and
# Neteland (Grobbendonk, Herentals, Herenthout, Olen, Vorselaar) continued it; WRNL counts 6 members
# (Oudsbergen and Pelt: start unknown). The shipped snapshot (ISOM 104,495, WRNL 163,356) is history.
ASSOCIATION_POPULATION = {"W13": 321_235, "WRNL": 106_665, "WZK": 464_869, "NETELAND": 69_049}


@pytest.fixture(scope="module")
def catalog(catalog_2020):
    """The golden figures below are Statbel's municipal count of 1 January 2020: pinned."""
    return catalog_2020


@pytest.fixture(scope="module")
def associations_vs_zones(catalog):
    return overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))


def test_association_populations(associations_vs_zones, catalog):
    members = catalog.layer("samenwerkingsverband").members()
    population = catalog.atoms.table["population"]
    for code, expected in ASSOCIATION_POPULATION.items():
        by_hand = population.loc[members.loc[members["zone_code"] == code, "nis_code"]].sum()
        assert by_hand == expected
    table = associations_vs_zones.zone_table().set_index("code")
    assert table["population"].to_dict() == pytest.approx(ASSOCIATION_POPULATION)
    # The contingency table distributes each association's population, nothing lost or invented.
    assert associations_vs_zones.table.sum() == pytest.approx(sum(ASSOCIATION_POPULATION.values()))


def test_isom_is_nested_in_primary_care_zone_middenkempen(catalog):
    """ISOM ended in 2018: not a current zone, still overlaid on a date when it existed."""
    from geo.reference.history import associations_as_of

    assert not catalog.layer("samenwerkingsverband").has_zone("ISOM")
    isom = overlay(associations_as_of(catalog, "2018-06-30"), catalog.layer("eerstelijnszone")).zone_detail("ISOM")
    assert isom.nested
    assert (isom.dominant_zone, isom.dominant_zone_name, isom.dominant_share) == ("elz25", "Middenkempen", 1.0)
    assert isom.members_outside_dominant == []


def test_neteland_is_nested_in_primary_care_zone_middenkempen(associations_vs_zones):
    neteland = associations_vs_zones.zone_detail("NETELAND")
    assert neteland.nested and neteland.dominant_zone == "elz25"


def test_w13_is_split_and_names_who_is_on_the_other_side(associations_vs_zones):
    w13 = associations_vs_zones.zone_detail("W13")
    assert not w13.nested
    assert w13.dominant_zone == "elz18"
    assert {z.code for z in w13.zones_touched} == {"elz18", "elz50", "elz24", "elz40"}
    outside = {m.name for m in w13.members_outside_dominant}
    assert {"Lendelede", "Menen", "Wevelgem", "Wervik", "Waregem"} <= outside
    assert not outside & {"Kortrijk", "Kuurne", "Harelbeke"}
    # Population outside the dominant zone = all of W13 minus Kortrijk, Kuurne and Harelbeke.
    assert w13.weight_outside_dominant == pytest.approx(321_235 - 77_109 - 13_676 - 28_502)
    rits = next(z for z in w13.zones_touched if z.code == "elz40")
    assert [(m.name, m.weight) for m in rits.members] == [("Lendelede", 5787.0)]


def test_overlapping_members_form_one_group_for_the_partition_measures(catalog):
    layer = catalog.layer("samenwerkingsverband")
    partition = layer.partition()
    # 4 associations + one combined group "WZK+NETELAND" for Neteland's 5 members.
    assert partition.shape == (304, 5)
    assert np.asarray(partition.sum(axis=1)).ravel().max() == 1.0
    assert np.asarray(partition[:, [4]].sum()).item() == 5


def test_gaps_and_overlaps(associations_vs_zones, catalog):
    summary = associations_vs_zones.summary
    # Neteland's members are also WZK's: counted in two associations.
    assert summary.overlap_weight == pytest.approx(ASSOCIATION_POPULATION["NETELAND"])
    in_some_association = (catalog.layer("samenwerkingsverband").coverage() > 0)
    outside = catalog.atoms.table.loc[~in_some_association, "population"].sum()
    assert summary.gap_weight == pytest.approx(outside)


def test_identical_layers_agree_perfectly(catalog):
    for layer_id in ("eerstelijnszone", "politiezone", "samenwerkingsverband"):
        layer = catalog.layer(layer_id)
        s = overlay(layer, layer).summary
        assert s.adjusted_rand_index == pytest.approx(1.0)
        assert s.variation_of_information == pytest.approx(0.0, abs=1e-9)
        assert s.normalized_mutual_information == pytest.approx(1.0)


def test_municipalities_nest_in_everything(catalog):
    gemeente = catalog.layer("gemeente")
    for layer in catalog.layers():
        if layer.kind == "municipal":
            assert overlay(gemeente, layer).zone_table().query("population > 0")["nested"].sum() == \
                (layer.coverage() > 0).sum()


def test_provinces_nest_arrondissements(catalog):
    result = overlay(catalog.layer("arrondissement"), catalog.layer("provincie"))
    assert result.summary.nested_share == 1.0
    # The other way round only Brussels nests: it is one "province" and one arrondissement.
    reverse = overlay(catalog.layer("provincie"), catalog.layer("arrondissement")).zone_table()
    assert reverse.loc[reverse["nested"], "name"].tolist() == ["Brussels Hoofdstedelijk Gewest"]


def test_transposed_overlay_is_the_transposed_table(catalog):
    a, b = catalog.layer("logo"), catalog.layer("gezondheidsmakers")
    assert np.allclose(overlay(a, b).table.toarray(), overlay(b, a).table.T.toarray())
    assert overlay(a, b).transposed().a.id == "gezondheidsmakers"


def test_area_weight_distributes_the_territory(catalog):
    result = overlay(catalog.layer("gemeente"), catalog.layer("eerstelijnszone"), "area")
    assert result.table.sum() == pytest.approx(catalog.atoms.table["area_km2"].sum())


def test_antwerp_sub_zones_nest_in_their_primary_care_zone(catalog):
    result = overlay(catalog.layer("eerstelijnszone_antwerpen_stad"), catalog.layer("eerstelijnszone"))
    table = result.zone_table()
    assert table["nested"].all()
    assert set(table["dominant_zone"]) == {"elz2"}
    # Population-weighted: each sub-zone carries its sectors' share of each municipality's population.
    members = catalog.layer("eerstelijnszone_antwerpen_stad").members()
    population = members["nis_code"].map(catalog.atoms.table["population"]) * members["share"]
    by_hand = population.groupby(members["zone_code"]).sum().to_dict()
    assert table.set_index("code")["population"].to_dict() == pytest.approx(by_hand)
    # Noord Antwerpen: 92,148 of the city's 555,399 inhabitants (2024 sectors) plus all of Schoten and Stabroek.
    north = by_hand["4"]
    assert north == pytest.approx(92_148 / 555_399 * catalog.atoms.population(11002)
                                  + catalog.atoms.population(11040) + catalog.atoms.population(11044), rel=1e-6)


def test_unknown_zone_is_named(associations_vs_zones):
    with pytest.raises(UnknownZone, match="W14"):
        associations_vs_zones.zone_detail("W14")


def test_layers_over_other_atoms_are_refused(catalog):
    atoms = Atoms.from_frame(pd.DataFrame({"nis_code": [1], "name": ["X"], "region": "Vlaams Gewest",
                                           "area_km2": [1.0], "population": [1]}), 2020)
    other = Layer.from_members("x", pd.DataFrame({"zone_code": ["A"], "nis_code": [1]}), atoms)
    with pytest.raises(InvalidInput, match="same municipalities"):
        overlay(other, catalog.layer("eerstelijnszone"))


def test_a_tiny_handmade_overlay():
    """Three municipalities, two zonings, readable at a glance."""
    atoms = Atoms.from_frame(pd.DataFrame({
        "nis_code": [11111, 22222, 33333], "name": ["Aa", "Bee", "Cee"], "region": "Vlaams Gewest",
        "area_km2": [1.0, 1.0, 2.0], "population": [100, 200, 300]}), 2020)
    a = Layer.from_members("a", pd.DataFrame({"zone_code": ["X", "X", "Y"], "nis_code": [11111, 22222, 33333]}), atoms)
    b = Layer.from_members("b", pd.DataFrame({"zone_code": ["P", "Q", "Q"], "nis_code": [11111, 22222, 33333]}), atoms)
    result = overlay(a, b)
    assert result.table.toarray().tolist() == [[100.0, 200.0], [0.0, 300.0]]
    x = result.zone_detail("X")
    assert (x.dominant_zone, x.dominant_share) == ("Q", pytest.approx(2 / 3))
    assert [m.name for m in x.members_outside_dominant] == ["Aa"]
    assert result.summary.nested_share == pytest.approx(300 / 600)
