"""Comparison: moving one municipality changes exactly the measures it should."""

from __future__ import annotations

import pytest

from geo.engine.overlay import overlay
from geo.engine.scenario import Move, apply_moves
from geo.errors import InvalidInput
from geo.reference.norms import CALL_2018
from geo.zoning.compare import compare, moved_municipalities, order_against

LENDELEDE = 34025  # W13 member in primary care zone RITS (elz40)


@pytest.fixture(scope="module")
def elz(catalog):
    return catalog.layer("eerstelijnszone")


def measure(result, layer, name):
    row = result.measures[(result.measures["against"] == layer) & (result.measures["measure"] == name)]
    return row.iloc[0]


def test_moving_an_association_member_changes_its_fit_and_nothing_else(catalog, elz):
    scenario = apply_moves(elz, [Move(LENDELEDE, "elz18")])
    result = compare(elz, scenario, [catalog.layer("referentieregio"), catalog.layer("samenwerkingsverband")])
    assert [l.id for l in result.against] == ["samenwerkingsverband", "referentieregio"]  # associations first
    assert [m["nis_code"] for m in result.moved] == [LENDELEDE]
    assert result.moved[0]["from_zones"] == ["elz40"] and result.moved[0]["to_zones"] == ["elz18"]

    outside = measure(result, "samenwerkingsverband", "population_outside_dominant")
    assert outside.change == pytest.approx(-catalog.atoms.population(LENDELEDE))
    assert measure(result, "samenwerkingsverband", "adjusted_rand_index").change > 0
    # Gap and overlap depend on the association layer only.
    assert measure(result, "samenwerkingsverband", "population_gap").change == 0
    assert measure(result, "samenwerkingsverband", "population_overlap").change == 0
    # Only W13 among the associations is affected.
    changed = result.against_zones[result.against_zones["against"] == "samenwerkingsverband"]
    assert changed["code"].tolist() == ["W13"]
    # Exactly the two zones change population, by Lendelede's inhabitants.
    pop = result.population.set_index("code")
    assert set(pop.index) == {"elz18", "elz40"}
    assert (pop.loc["elz18", "population_after"] - pop.loc["elz18", "population_before"]
            == catalog.atoms.population(LENDELEDE))


def test_measures_match_the_overlay_engine(catalog, elz):
    scenario = apply_moves(elz, [Move(LENDELEDE, "elz18")])
    assoc = catalog.layer("samenwerkingsverband")
    result = compare(elz, scenario, [assoc])
    after = overlay(assoc, scenario).summary
    assert measure(result, "samenwerkingsverband", "adjusted_rand_index").after == pytest.approx(after.adjusted_rand_index)
    assert measure(result, "samenwerkingsverband", "nested_share").after == pytest.approx(after.nested_share)
    assert measure(result, "samenwerkingsverband", "variation_of_information").before == pytest.approx(
        overlay(assoc, elz).summary.variation_of_information)


def test_moving_a_non_member_leaves_association_measures_alone(catalog, elz):
    assoc = catalog.layer("samenwerkingsverband")
    assert assoc.zones_of(31004) == []  # Blankenberge is in no association
    result = compare(elz, apply_moves(elz, [Move(31004, elz.zones_of(31005)[0][0])]), [assoc])
    rows = result.measures[result.measures["measure"] != "zoning_nested_share"]
    assert (rows["change"].abs() < 1e-12).all()
    assert result.against_zones.empty


def test_norm_crossings_are_reported(catalog, elz):
    # Lendelede pushes Kortrijk-Kuurne-Harelbeke over the 125,000 maximum of the 2018 call.
    result = compare(elz, apply_moves(elz, [Move(LENDELEDE, "elz18")]), [catalog.layer("samenwerkingsverband")],
                     norm=CALL_2018)
    pop = result.population.set_index("code")
    assert 125_000 in result.thresholds and 125_000 in pop.loc["elz18", "crossed"]
    assert pop.loc["elz18", "meets_norm_before"] and not pop.loc["elz18", "meets_norm_after"]
    assert [c["code"] for c in result.as_dict()["norm_crossings"]] == ["elz18"]


def test_identical_zonings_compare_as_unchanged(catalog, elz):
    result = compare(elz, elz, [catalog.layer("samenwerkingsverband")])
    assert result.moved == [] and result.population.empty and (result.measures["change"] == 0).all()


def test_readable_table_has_every_section(catalog, elz):
    result = compare(elz, apply_moves(elz, [Move(LENDELEDE, "elz18")]), [catalog.layer("samenwerkingsverband")])
    rows = result.rows()
    assert set(rows["section"]) == {"verplaatst", "maat", "zone van vergeleken laag", "bevolking"}
    assert len(rows[rows["section"] == "maat"]) == 8


def test_two_different_layers_can_be_compared(catalog):
    moved = moved_municipalities(catalog.layer("logo"), catalog.layer("gezondheidsmakers"))
    assert len(moved) == len(catalog.atoms)  # zone codes differ everywhere


def test_no_layer_to_compare_against_is_refused(elz):
    with pytest.raises(InvalidInput):
        compare(elz, elz, [])
    assert order_against([elz, elz]) == [elz]
