"""The incremental evaluator gives the overlay engine's numbers for any moves, on the real layers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.engine.evaluate import Evaluator
from geo.engine.overlay import Summary, overlay
from geo.engine.scenario import Move, apply_moves
from geo.errors import InvalidInput, UnknownMunicipality
from tests.examples import examples

# Bases of every kind: full partitions, layers with gaps (Brussels, non-members), an
# association layer with a municipality in two zones, and a polygon layer with partial shares.
BASES = ["eerstelijnszone", "politiezone", "referentieregio", "igs_woonbeleid", "samenwerkingsverband",
         "eerstelijnszone_antwerpen_stad"]
REFERENCES = ["samenwerkingsverband", "eerstelijnszone_antwerpen_stad", "arrondissement", "woonmaatschappij"]
MEASURES = ["nested_share", "adjusted_rand_index", "variation_of_information", "normalized_mutual_information"]
# The association layer on the pinned date (1 December 2026): Neteland, not ISOM (ended 2018); WRNL 6 members.
W13 = {"W13": 321_235, "WRNL": 106_665, "WZK": 464_869, "NETELAND": 69_049}

_evaluators: dict[tuple[str, str, str], Evaluator] = {}


def evaluator(catalog, base: str, weight: str, base_as: str) -> Evaluator:
    """Evaluators are reused across examples: ``score`` must leave them as they were."""
    key = (base, weight, base_as)
    if key not in _evaluators:
        refs = [catalog.layer(r) for r in REFERENCES if r != base]
        _evaluators[key] = Evaluator(catalog.layer(base), refs, weight, base_as=base_as)  # type: ignore[arg-type]
    return _evaluators[key]


def expected(catalog, scenario, reference: str, weight: str, base_as: str) -> Summary:
    ref = catalog.layer(reference)
    result = overlay(ref, scenario, weight) if base_as == "b" else overlay(scenario, ref, weight)
    return result.summary


def assert_same(got: Summary, want: Summary) -> None:
    for name in MEASURES:
        assert getattr(got, name) == pytest.approx(getattr(want, name), abs=1e-9, rel=0, nan_ok=True), name
    assert got.undefined == want.undefined
    for name in ("gap_weight", "overlap_weight"):
        assert math.isclose(getattr(got, name), getattr(want, name), rel_tol=1e-9, abs_tol=1e-9), name


@st.composite
def scenarios(draw, catalog):
    base = draw(st.sampled_from(BASES))
    layer = catalog.layer(base)
    n_atoms, n_zones = len(catalog.atoms), len(layer)
    moves = draw(st.lists(st.tuples(st.integers(0, n_atoms - 1), st.integers(0, n_zones - 1)),
                          min_size=1, max_size=8))
    codes, zones = catalog.atoms.nis_codes, layer.zones["code"]
    return base, [Move(int(codes[i]), str(zones.iloc[z])) for i, z in moves]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), weight=st.sampled_from(["population", "area"]), base_as=st.sampled_from(["a", "b"]))
def test_score_equals_overlay_of_the_applied_moves(catalog, data, weight, base_as):
    base, moves = data.draw(scenarios(catalog))
    ev = evaluator(catalog, base, weight, base_as)
    before = {rid: s.as_dict() for rid, s in ev.summaries().items()}

    scores = ev.score(moves)

    scenario = apply_moves(catalog.layer(base), moves)
    assert set(scores) == {r for r in REFERENCES if r != base}
    for reference, summary in scores.items():
        assert_same(summary, expected(catalog, scenario, reference, weight, base_as))
    # Scoring is a question: the evaluator still describes the unedited base.
    assert {rid: s.as_dict() for rid, s in ev.summaries().items()} == before
    assert ev.moves == []


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), base_as=st.sampled_from(["a", "b"]), undo_every=st.integers(2, 5))
def test_applying_and_undoing_moves_one_by_one_tracks_the_overlay(catalog, data, base_as, undo_every):
    base, moves = data.draw(scenarios(catalog))
    ev = Evaluator(catalog.layer(base), [catalog.layer(r) for r in REFERENCES if r != base], base_as=base_as)
    applied: dict[int, Move] = {}
    for k, move in enumerate(moves, start=1):
        ev.apply(move.nis_code, move.to_zone)
        applied.pop(move.nis_code, None)
        applied[move.nis_code] = move
        if k % undo_every == 0:
            ev.undo(move.nis_code)
            applied.pop(move.nis_code)
    assert ev.moves == list(applied.values())
    scenario = apply_moves(catalog.layer(base), list(applied.values()))
    assert (ev.layer().membership != scenario.membership).nnz == 0
    for reference, summary in ev.summaries().items():
        assert_same(summary, expected(catalog, scenario, reference, "population", base_as))
        want = overlay(catalog.layer(reference), scenario).table.toarray()
        assert np.allclose(ev.table(reference), want if base_as == "b" else
                           overlay(scenario, catalog.layer(reference)).table.toarray(), rtol=1e-12, atol=1e-9)


def test_moving_all_of_w13_into_one_zone_nests_it():
    """Neteland alone lies in one primary care zone; put every W13 member in elz18 and W13 does too.
    Each inhabitant counts once: Neteland's members are also WZK's (figures of 1 January 2020, pinned)."""
    from geo.reference.catalog import load_catalog

    catalog = load_catalog(population_year=2020)
    ev = Evaluator(catalog.layer("eerstelijnszone"), catalog.layer("samenwerkingsverband"))
    total = sum(W13.values()) - W13["NETELAND"]
    assert ev.summaries()["samenwerkingsverband"].nested_share == pytest.approx(W13["NETELAND"] / total)
    members = catalog.layer("samenwerkingsverband").members("W13")["nis_code"].tolist()
    assert len(members) == 14
    scored = ev.score([Move(nis, "elz18") for nis in members])["samenwerkingsverband"]
    assert scored.nested_share == pytest.approx((W13["NETELAND"] + W13["W13"]) / total)
    for nis in members:
        ev.apply(nis, "elz18")
    assert ev.summaries()["samenwerkingsverband"].nested_share == pytest.approx(scored.nested_share)
    assert ev.zones_of(members[0]) == ["elz18"]


def test_trial_tables_are_those_of_a_fresh_evaluator_on_the_scenario(catalog):
    """What an updater reads in a trial (table and weight outside every association) equals the
    state built from scratch on the moved layer; the trial leaves nothing behind."""
    elz, assoc = catalog.layer("eerstelijnszone"), catalog.layer("samenwerkingsverband")
    ev = Evaluator(elz, assoc)
    moves = [Move(34025, "elz18"), Move(72004, "elz28"), Move(11002, "elz55")]  # Antwerpen: in no association
    before = {k: (t.table.copy(), t.outside.copy()) for k, t in ev.tables().items()}

    def snapshot(state: Evaluator) -> tuple[np.ndarray, np.ndarray]:
        t = state.tables()["samenwerkingsverband"]
        return t.table.copy(), t.outside.copy()

    table, outside = ev.trial(moves, snapshot)
    fresh = Evaluator(apply_moves(elz, moves), assoc).tables()["samenwerkingsverband"]
    assert np.allclose(table, fresh.table) and np.allclose(outside, fresh.outside)
    assert not np.allclose(outside, before["samenwerkingsverband"][1])  # Antwerpen's inhabitants moved zone
    after = ev.tables()["samenwerkingsverband"]
    assert np.array_equal(after.table, before["samenwerkingsverband"][0])
    assert np.array_equal(after.outside, before["samenwerkingsverband"][1])
    assert ev.moves == []


def test_a_move_within_the_same_zone_changes_nothing(catalog):
    ev = Evaluator(catalog.layer("eerstelijnszone"), catalog.layer("samenwerkingsverband"))
    before = ev.summaries()["samenwerkingsverband"].as_dict()
    table = ev.table("samenwerkingsverband")
    assert ev.try_move(34022, "elz18")["samenwerkingsverband"].as_dict() == before  # Kortrijk is in elz18
    ev.apply(34022, "elz18")
    assert np.array_equal(ev.table("samenwerkingsverband"), table)


def test_bad_moves_are_refused_by_name_and_change_nothing(catalog):
    ev = Evaluator(catalog.layer("eerstelijnszone"), catalog.layer("samenwerkingsverband"))
    before = ev.summaries()["samenwerkingsverband"].as_dict()
    with pytest.raises(UnknownMunicipality, match="99999"):
        ev.try_move(99999, "elz18")
    with pytest.raises(InvalidInput, match="elz999"):
        ev.apply(34022, "elz999")
    with pytest.raises(InvalidInput, match="elz999"):
        ev.score([Move(34041, "elz18"), Move(34022, "elz999")])
    with pytest.raises(InvalidInput, match="logo"):
        ev.table("logo")
    assert ev.moves == []
    assert ev.summaries()["samenwerkingsverband"].as_dict() == before


def test_references_must_be_distinct_and_over_the_same_atoms(catalog):
    from geo.reference.catalog import load_catalog_from

    other = load_catalog_from()
    with pytest.raises(InvalidInput, match="same municipalities"):
        Evaluator(catalog.layer("eerstelijnszone"), other.layer("samenwerkingsverband"))
    with pytest.raises(InvalidInput, match="distinct"):
        Evaluator(catalog.layer("eerstelijnszone"), [catalog.layer("logo"), catalog.layer("logo")])
    with pytest.raises(InvalidInput, match="base_as"):
        Evaluator(catalog.layer("eerstelijnszone"), catalog.layer("logo"), base_as="c")  # type: ignore[arg-type]
