"""Cost shares add up to the amount to the cent; seats follow the population rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InvalidInput
from geo.views.costshare import SeatRule, cost_share, largest_remainder_cents, per_inhabitant, to_cents
from tests.examples import examples

amounts = st.decimals(min_value=0, max_value=Decimal("10000000"), places=2, allow_nan=False, allow_infinity=False)


@given(amount=amounts, weights=st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=40)
       .filter(lambda w: sum(w) > 0))
def test_largest_remainder_adds_up_to_the_cent(amount, weights):
    parts = largest_remainder_cents(amount, weights)
    assert sum(parts) == to_cents(amount)
    assert all(p >= 0 for p in parts)
    # No part is more than one cent away from its exact share.
    total = sum(weights)
    for part, w in zip(parts, weights):
        assert abs(part - to_cents(amount) * w / total) < 1 + 1e-6


@settings(max_examples=examples(40), deadline=None)
@given(amount=amounts, fixed=st.decimals(min_value=0, max_value=1000, places=2),
       weight=st.sampled_from(["population", "area", "equal"]), zone=st.sampled_from(["W13", "WRNL", "WZK", "NETELAND"]))
def test_association_shares_add_up_to_the_amount(catalog, amount, fixed, weight, zone):
    layer = catalog.layer("samenwerkingsverband")
    members = len(layer.members(zone))
    if fixed * members > amount:
        with pytest.raises(InvalidInput, match="exceed"):
            cost_share(layer, zone, amount, weight=weight, fixed_per_member=fixed)
        return
    share = cost_share(layer, zone, amount, weight=weight, fixed_per_member=fixed)
    assert int(share.table["total_cents"].sum()) == to_cents(amount)
    assert (share.table["fixed_cents"] == to_cents(fixed)).all()
    assert Decimal(str(share.as_dict()["total"])) == amount


def test_w13_pays_one_euro_per_inhabitant(catalog):
    layer = catalog.layer("samenwerkingsverband")
    amount = per_inhabitant(layer, "W13", 1)
    share = cost_share(layer, "W13", amount)
    population = catalog.atoms.table["population"]
    # One euro per inhabitant: every member pays exactly its population.
    for row in share.table.itertuples():
        assert row.total_cents == population[row.nis_code] * 100


def test_seats_second_seat_strictly_above_20000(catalog):
    rule = SeatRule()
    assert (rule.seats(20_000), rule.seats(20_001), rule.seats(5_000)) == (1, 2, 1)
    custom = SeatRule(base=2, thresholds=(50_000, 20_000), extra=1)
    assert custom.thresholds == (20_000, 50_000) and custom.seats(60_000) == 4
    share = cost_share(catalog.layer("samenwerkingsverband"), "W13", "1000")
    for row in share.table.itertuples():
        assert row.seats == (2 if row.population > 20_000 else 1)
    assert share.table.loc[share.table["municipality"] == "Kortrijk", "seats"].item() == 2


def test_equal_split_is_deterministic_ties_to_lower_nis_code(catalog):
    share = cost_share(catalog.layer("samenwerkingsverband"), "WRNL", "100", weight="equal")
    cents = share.table["total_cents"].tolist()
    assert sum(cents) == 10_000
    assert cents == [1667] * 4 + [1666] * 2  # 6 members (the dated history): the 4 cents left to the lowest NIS codes
    from geo.reference.history import associations_as_of

    share = cost_share(associations_as_of(catalog, "2018-06-30"), "ISOM", "1", weight="equal")
    assert share.table["total_cents"].tolist() == [15, 15, 14, 14, 14, 14, 14]


@pytest.mark.parametrize("bad", ["-1", "abc", "1.001", "nan", "inf"])
def test_bad_amounts_are_refused(catalog, bad):
    with pytest.raises(InvalidInput):
        cost_share(catalog.layer("samenwerkingsverband"), "W13", bad)


def test_rows_for_csv_state_the_population_year(catalog):
    rows = cost_share(catalog.layer("samenwerkingsverband"), "W13", "10").rows()
    assert set(rows["population_year"]) == {catalog.atoms.population_year}
    assert sum(Decimal(v) for v in rows["total"]) == Decimal("10.00")


@pytest.mark.parametrize("rate", ["Infinity", "1e30", "-1", "abc", "NaN"])
def test_bad_rates_per_inhabitant_are_refused(catalog, rate):
    with pytest.raises(InvalidInput, match="per inhabitant"):
        per_inhabitant(catalog.layer("samenwerkingsverband"), "W13", rate)
