"""Validation on the real layers: territory, gaps/doubles, contiguity with exclaves, bounds, nesting."""

from __future__ import annotations

import pytest

from geo.engine.scenario import Move, apply_moves
from geo.errors import InvalidInput
from geo.reference.norms import CALL_2018, PopulationNorm
from geo.zoning.validation import adjacency_graph, exclaves, make_norm, territory_for, validate

VOEREN, BAARLE_HERTOG = 73109, 13002
BLANKENBERGE, ZUIENKERKE, DAMME, KNOKKE = 31004, 31042, 31006, 31043


def test_voeren_has_no_neighbour_and_is_a_named_exclave(catalog):
    graph = adjacency_graph(catalog.atoms)
    assert graph.degree(VOEREN) == 0
    found = exclaves(graph)
    assert VOEREN in found and BAARLE_HERTOG in found
    # Zondereigen (part of Baarle-Hertog) borders Belgian municipalities in the 2025 polygons.
    assert graph.degree(BAARLE_HERTOG) > 0


def test_primary_care_zones_cover_flanders_and_brussels_once(catalog):
    report = validate(catalog.layer("eerstelijnszone"))
    assert report.territory.size == len(catalog.atoms)
    assert "Brussels" in report.territory.label
    assert report.errors["gaps"] == report.errors["doubles"] == report.errors["partial"] == 0


def test_voeren_is_an_exception_and_oostkust_a_real_detached_piece(catalog):
    report = validate(catalog.layer("eerstelijnszone"))
    pieces = {p.nis_codes: p for z in report.contiguity for p in z.pieces}
    assert pieces[(VOEREN,)].status == "exclave"
    assert pieces[(BLANKENBERGE, ZUIENKERKE)].status == "violation"
    assert report.errors["not_contiguous"] == 1


def test_a_scenario_inherits_the_base_layers_detached_piece(catalog):
    elz = catalog.layer("eerstelijnszone")
    scenario = apply_moves(elz, [Move(34025, "elz18")])
    report = validate(scenario, base=elz)
    statuses = {p.nis_codes: p.status for z in report.contiguity for p in z.pieces}
    assert statuses[(BLANKENBERGE, ZUIENKERKE)] == "inherited"
    assert statuses[(VOEREN,)] == "exclave"
    assert report.errors["not_contiguous"] == 0


def test_a_scenario_that_cuts_a_zone_is_reported(catalog):
    elz = catalog.layer("eerstelijnszone")
    # Mol (13025) holds Baldemore (elz3) together; moving it to Kempenland cuts the zone.
    report = validate(apply_moves(elz, [Move(13025, "elz41")]), base=elz)
    violations = [(z.code, p) for z in report.contiguity for p in z.violations]
    assert violations and not report.valid
    assert {code for code, _ in violations} == {"elz3"}


def test_a_scenario_keeping_a_base_piece_unchanged_inherits_it(catalog):
    elz = catalog.layer("eerstelijnszone")
    # Damme leaves Oostkust: Knokke-Heist stays the main piece, Blankenberge-Zuienkerke stays as it was.
    brugge_zone = elz.zones_of(31005)[0][0]
    report = validate(apply_moves(elz, [Move(DAMME, brugge_zone)]), base=elz)
    statuses = {p.nis_codes: p.status for z in report.contiguity for p in z.pieces}
    assert statuses[(KNOKKE,)] == "main"
    assert statuses[(BLANKENBERGE, ZUIENKERKE)] == "inherited"


def test_associations_list_gaps_and_doubles_over_flanders_only(catalog):
    layer = catalog.layer("samenwerkingsverband")
    report = validate(layer)
    assert report.territory.label == "Vlaams Gewest"
    assert report.territory.size == int(catalog.atoms.flemish.sum())
    doubles = {d["nis_code"]: d["zones"] for d in report.assignment.doubles}
    # On the pinned date Neteland's 5 members are also WZK's (ISOM, ended 2018, had 7).
    assert len(doubles) == 5 and all(set(z) == {"NETELAND", "WZK"} for z in doubles.values())
    covered = (layer.coverage()[catalog.atoms.flemish] > 0).sum()
    assert len(report.assignment.gaps) == catalog.atoms.flemish.sum() - covered


def test_population_bounds_are_configurable_and_brussels_is_not_judged(catalog):
    elz = catalog.layer("eerstelijnszone")
    report = validate(elz, norm=CALL_2018)
    low = {v["code"] for v in report.population if v["problem"] == "below_minimum"}
    high = {v["code"] for v in report.population if v["problem"] == "above_maximum"}
    population = dict(zip(elz.zone_codes, elz.zone_weight("population")))
    assert low == {c for c, p in population.items() if p < 75_000} - {"elz7"}
    assert high == {c for c, p in population.items() if p > 125_000} - {"elz7"}
    assert validate(elz, norm=PopulationNorm("tiny", 1, None)).population == []


def test_nesting_in_reference_regions_lists_the_regions_touched(catalog):
    report = validate(catalog.layer("eerstelijnszone"), nest_in=[catalog.layer("referentieregio")])
    nesting = report.nesting[0]
    assert "elz7" in nesting.not_judged  # Bruzel: Brussels, outside the reference regions
    by_code = {v["code"]: v for v in nesting.violations}
    assert "elz40" in by_code  # RITS straddles two reference regions through Lendelede
    touched = by_code["elz40"]["zones_touched"]
    assert len(touched) >= 2
    assert sum(z["population"] for z in touched) == by_code["elz40"]["population"]


def test_reference_regions_nest_in_themselves(catalog):
    layer = catalog.layer("referentieregio")
    assert validate(layer, nest_in=[layer]).nesting[0].violations == []


def test_make_norm_keeps_the_default_bound_not_given():
    default = PopulationNorm("d", 60_000, None)
    assert make_norm(None, None, default) is default
    assert (make_norm(None, 125_000, default).minimum, make_norm(None, 125_000, default).maximum) == (60_000, 125_000)
    assert make_norm(0, 125_000, default).minimum is None
    with pytest.raises(InvalidInput):
        make_norm(200_000, 100_000)


def test_unknown_territory_is_refused(catalog):
    with pytest.raises(InvalidInput, match="territory"):
        territory_for(catalog.layer("eerstelijnszone"), "europe")  # type: ignore[arg-type]
