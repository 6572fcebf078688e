"""The ensemble engine (issue 28): rules, the valid start, seeded chains, every plan valid, the
measures equal to the overlay's, summaries in Dutch, proposals, bad input refused at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.ensemble.measures import layer_measures, measure_data, plan_measures
from geo.ensemble.problem import prepare
from geo.ensemble.propose import plan_moves, plan_zone_codes, propose
from geo.ensemble.run import run_ensemble
from geo.ensemble.sampler import run_chain
from geo.ensemble.spec import MAX_CHAINS, MAX_PLANS, EnsembleSpec
from geo.ensemble.summary import summarise
from geo.ensemble.validate import validate_plan
from geo.errors import Cancelled, InvalidInput, LimitExceeded
from geo.storage.workspace import open_workspace

SEED = 11


@pytest.fixture(scope="module")
def workspace():
    return open_workspace(None, "sqlite://")


@pytest.fixture(scope="module")
def problem(workspace):
    return prepare(workspace, EnsembleSpec("eerstelijnszone", plans=240, chains=2, seed=SEED))


@pytest.fixture(scope="module")
def chains(problem):
    return [run_chain(problem, c) for c in range(problem.spec.chains)]


def _plan_layer(problem, plan, atoms) -> Layer:
    rows = np.nonzero(plan >= 0)[0]
    frame = pd.DataFrame({"zone_code": [problem.zone_codes[z] for z in plan[rows]], "nis_code": problem.nis[rows]})
    return Layer.from_members("plan", frame, atoms)


# -- the valid start ---------------------------------------------------------------------------------
def test_start_is_valid_and_repairs_are_reported(problem):
    assert validate_plan(problem, problem.start) == []
    moved = {r.nis_code: r for r in problem.repairs}
    # The six zones across a reference-region line lose their minority members ...
    assert {"elz11", "elz16", "elz40", "elz45", "elz48", "elz50"} <= {r.from_zone for r in moved.values()
                                                                       if r.reason == "nesting"}
    # ... and Oostkust's detached piece (Blankenberge, across Brugge's port) is reconnected.
    assert moved[31004].reason == "contiguity" and moved[31004].from_zone == "elz31"
    assert all(r.explanation.startswith(r.municipality) for r in moved.values())
    assert "verplaatst" in problem.to_dict()["repairs_text"]
    # Brussels never moves and sits outside the chain.
    brussels = ~problem.flemish
    assert problem.fixed[brussels].all() and not problem.in_chain[brussels].any()


def test_default_nesting_is_the_reference_regions_by_role(problem):
    assert problem.nest_id == "referentieregio"
    assert sum(problem.zone_counts.values()) == int((problem.zone_nest >= 0).sum())


# -- chains: valid, reproducible, equal in a process pool --------------------------------------------
def test_every_plan_of_a_seeded_run_is_valid(problem, chains):
    for chain in chains:
        assert chain.plans.shape == (problem.plans_per_chain(chain.chain), len(problem.nis))
        for plan in chain.plans:
            assert validate_plan(problem, plan) == []
        assert 0.5 < chain.acceptance_rate <= 1.0
        # The chain moves: later plans differ from the start.
        assert (chain.plans[-1] != problem.start).any()


def test_same_seed_same_plans_and_other_seed_other_plans(problem, chains, workspace):
    again = run_chain(problem, 0)
    assert np.array_equal(again.plans, chains[0].plans)
    assert not np.array_equal(chains[0].plans, chains[1].plans)
    other = prepare(workspace, EnsembleSpec("eerstelijnszone", plans=240, chains=2, seed=SEED + 1))
    assert not np.array_equal(run_chain(other, 0).plans, chains[0].plans)


def test_local_process_pool_gives_the_in_process_plans(problem, chains, monkeypatch):
    monkeypatch.delenv("REGIOMATCH_DASK_SCHEDULER", raising=False)
    seen = []
    result = run_ensemble(problem, progress=seen.append)
    assert np.array_equal(result.plans, np.concatenate([c.plans for c in chains]))
    assert result.executor == "local" and seen[-1] == 1.0
    assert result.chain_of.tolist() == [0] * 120 + [1] * 120


def test_cancel_and_time_cap(problem, workspace):
    with pytest.raises(Cancelled):
        run_chain(problem, 0, cancelled=lambda: True)
    slow = prepare(workspace, EnsembleSpec("eerstelijnszone", plans=400, chains=1, max_seconds=1e-6))
    with pytest.raises(LimitExceeded, match="maximum van 1e-06 seconden"):
        run_chain(slow, 0)


# -- measures ----------------------------------------------------------------------------------------------
def test_measures_equal_the_overlay_on_real_plans(problem, chains, catalog):
    associations = catalog.layer("samenwerkingsverband")
    plans = np.stack([problem.start, chains[0].plans[-1], chains[1].plans[77]])
    measured = plan_measures(problem.measures, plans, problem.n_zones)
    for k, plan in enumerate(plans):
        result = overlay(associations, _plan_layer(problem, plan, catalog.atoms))
        summary = result.summary
        assert measured["nested_share"][k] == pytest.approx(summary.nested_share, abs=1e-12)
        assert measured["adjusted_rand_index"][k] == pytest.approx(summary.adjusted_rand_index, abs=1e-12)
        assert measured["variation_of_information"][k] == pytest.approx(summary.variation_of_information, abs=1e-12)
        assert measured["normalized_mutual_information"][k] == pytest.approx(summary.normalized_mutual_information,
                                                                             abs=1e-12)
        for a, code in enumerate(problem.measures.codes):
            detail = result.zone_detail(code)
            assert measured["zones_touched"][k, a] == len(detail.zones_touched)
            assert measured["dominant_share"][k, a] == pytest.approx(detail.dominant_share, abs=1e-12)
            assert measured["outside"][k, a] == pytest.approx(detail.weight_outside_dominant, abs=1e-6)
        populations = _plan_layer(problem, plan, catalog.atoms).zone_weight()
        flemish = _plan_layer(problem, plan, catalog.atoms).flemish_zones()
        assert measured["population_spread"][k] == pytest.approx(populations[flemish].max() - populations[flemish].min())
        assert measured["crossing"][k] == sum(len(result.zone_detail(c).zones_touched) > 1
                                              for c in problem.measures.codes)
        assert measured["nesting_share"][k] == 1.0  # every drawn zone lies in one reference region


def test_nesting_share_of_today_matches_the_nesting_check(problem, catalog):
    from geo.zoning.validation import check_nesting

    today = catalog.layer("eerstelijnszone")
    measured = layer_measures(problem.measures, today)["nesting_share"][0]
    crossing = {v["code"] for v in check_nesting(today, catalog.layer("referentieregio")).violations}
    population, flemish = today.zone_weight(), today.flemish_zones()
    inside = [p for code, p, f in zip(today.zone_codes, population, flemish) if f and code not in crossing]
    assert measured == pytest.approx(sum(inside) / population[flemish].sum())
    assert len(crossing) == 6


def test_measures_on_the_tiny_catalog(tiny):
    """Zones Z1 {Alfa, Beta, Gamma}, Z2 {Delta, Epsilon, Zeta}; V1 {Beta, Gamma, Delta}, V2 {Epsilon}."""
    atoms = tiny.atoms
    data = measure_data(tiny.layer("associations"), atoms.weights(), atoms.flemish)
    today = layer_measures(data, tiny.layer("zones"))
    assert today["zones_touched"][0].tolist() == [2, 1]  # V1 is cut by the line between Gamma and Delta
    assert today["outside"][0].tolist() == [4000.0, 0.0]  # Delta (4,000) outside V1's main zone
    assert today["crossing"][0] == 1
    # Moving Delta to Z1 heals V1: every association in one zone.
    healed = plan_measures(data, np.array([[0, 0, 0, 0, 1, 1]]), 2)
    assert healed["zones_touched"][0].tolist() == [1, 1] and healed["nested_share"][0] == 1.0
    assert healed["population_spread"][0] == 10000 - 6500


# -- summary, proposals, moves -------------------------------------------------------------------------
def test_summary_places_today_in_dutch(problem, chains, catalog):
    from geo.ensemble.sampler import EnsembleResult

    plans = np.concatenate([c.plans for c in chains])
    result = EnsembleResult(tuple(chains), plans, np.repeat([0, 1], 120).astype(np.int32),
                            plan_measures(problem.measures, plans, problem.n_zones), 1.0)
    summary = summarise(problem, result, {"Variant": catalog.layer("eerstelijnszone")})
    w13 = summary.measure("zones_touched", "W13")
    assert w13.base.value == 4.0
    assert w13.base.sentence.startswith("Vandaag valt W13 in 4 eerstelijnszones; in ")
    assert "240 geldige indelingen valt het in hoogstens 3" in w13.base.sentence
    assert 0 <= w13.base.percentile <= 100 and sum(w13.counts) == 240
    assert dict(w13.scenarios)["Variant"].value == 4.0
    crossing = summary.measure("crossing")
    assert crossing.quantiles["0.5"] is not None and crossing.bins
    statement = summary.convergence.statement
    assert statement.startswith("De 2 ketens") and "R-hat" in statement
    assert set(summary.convergence.rhat) >= {"crossing", "nested_share"}
    body = summary.to_dict()
    assert body["plans"] == 240 and body["associations"][0]["base"]["percentile"] is not None


def test_propose_heals_and_is_valid(problem):
    proposals = propose(problem, "crossings", n=2)
    assert proposals and proposals[0].score <= proposals[-1].score
    start_crossing = plan_measures(problem.measures, problem.start[None, :], problem.n_zones)["crossing"][0]
    for p in proposals:
        assert validate_plan(problem, p.plan) == []
        assert p.measures["crossing"] <= start_crossing
        assert p.explanation.startswith("Voorstel met zo weinig mogelijk samenwerkingsverbanden")
        assert all(isinstance(n, int) for n, _, _ in p.moves)
    with pytest.raises(InvalidInput, match="Onbekend doel"):
        propose(problem, "prettiest")


def test_plan_moves_rebuild_the_plan(problem, chains, catalog):
    from geo.engine.scenario import apply_moves

    plan = chains[0].plans[-1]
    codes = plan_zone_codes(problem, plan)
    scenario = apply_moves(catalog.layer("eerstelijnszone"), plan_moves(problem, plan))
    for row in np.nonzero(problem.movable)[0][:300]:
        assert scenario.zones_of(int(problem.nis[row]))[0][0] == codes[row]


# -- large municipalities, fixed, together --------------------------------------------------------------
def test_upper_bound_makes_antwerpen_and_gent_their_own_fixed_zones(workspace):
    problem = prepare(workspace, EnsembleSpec("eerstelijnszone", lower=60_000, upper=200_000, plans=60, chains=1,
                                              seed=2, fixed=(34022,), together=((24062, 24038),)))
    large = {int(problem.nis[i]) for i in np.nonzero(problem.large)[0]}
    assert large == {11002, 44021}
    chain = run_chain(problem, 0)
    for plan in chain.plans:
        assert validate_plan(problem, plan) == []
        for nis in (11002, 44021):
            assert (plan == plan[problem.position(nis)]).sum() == 1  # alone in its zone
        assert plan[problem.position(34022)] == problem.start[problem.position(34022)]
        assert plan[problem.position(24062)] == plan[problem.position(24038)]  # Leuven and Herent together


def test_chosen_number_of_zones(workspace):
    problem = prepare(workspace, EnsembleSpec("eerstelijnszone", zones=40, plans=30, chains=1, seed=4))
    flemish_zones = int((problem.zone_nest >= 0).sum())
    assert flemish_zones == 40 and validate_plan(problem, problem.start) == []
    assert all(validate_plan(problem, plan) == [] for plan in run_chain(problem, 0).plans)
    with pytest.raises(InvalidInput, match="kan het van"):
        plan_moves(problem, problem.start) if False else prepare(
            workspace, EnsembleSpec("eerstelijnszone", zones=5, plans=10, chains=1))


@pytest.mark.parametrize("spec, message", [
    (EnsembleSpec("eerstelijnszone", plans=MAX_PLANS + 1), "het maximum is 100.000"),
    (EnsembleSpec("eerstelijnszone", chains=MAX_CHAINS + 1), f"het maximum is {MAX_CHAINS}"),
    (EnsembleSpec("eerstelijnszone", lower=200_000), "Bevolkingsgrenzen: Middenkust telt"),
    (EnsembleSpec("eerstelijnszone", lower=90_000, upper=80_000), "ondergrens (90.000) ligt boven de bovengrens"),
    (EnsembleSpec("eerstelijnszone", zones=2000), "Aantal zones: 2000 kan niet binnen de regels"),
    (EnsembleSpec("eerstelijnszone", fixed=(23033,)), "Vaste gemeente Hoeilaart"),
    (EnsembleSpec("eerstelijnszone", together=((11002, 44021),)), "Samen in één zone"),
    (EnsembleSpec("samenwerkingsverbanden"), "geen indeling"),
])
def test_impossible_rules_are_refused_at_once_in_dutch(workspace, spec, message):
    with pytest.raises(InvalidInput) as caught:
        prepare(workspace, spec)
    assert message in caught.value.detail


def test_a_plan_saved_as_a_scenario_is_a_valid_start_as_it_is(problem, chains, workspace):
    plan = chains[1].plans[-1]
    moves = [{"nis_code": m.nis_code, "to_zone": m.to_zone} for m in plan_moves(problem, plan)]
    record = workspace.store.create_scenario("Ensembleplan", "eerstelijnszone", moves)
    again = prepare(workspace, EnsembleSpec(f"scenario:{record.id}", plans=20, chains=1, seed=1))
    assert again.repairs == () and again.lower == 60_000
    assert validate_plan(again, again.start) == []
    codes = plan_zone_codes(problem, plan)
    assert [again.zone_codes[z] for z in again.start[problem.movable]] == [codes[r] for r in
                                                                          np.nonzero(problem.movable)[0]]


def test_propose_closest_stays_near_today(problem):
    from geo.ensemble.propose import _score

    [closest] = propose(problem, "closest", n=1)
    assert validate_plan(problem, closest.plan) == []
    assert closest.score <= _score(problem, "closest", problem.start.astype(np.int64))
    assert closest.to_dict()["objective"] == "closest"
