"""The start repair of geo/ensemble/start.py on a hand-made path of six municipalities.

    atom        0     1     2     3     4     5
    population 40    30    30    50    10    60      (thousands)
    nest        A     A     A     B     B     B
    zone       Z1    Z1    Z2    Z2    Z3    Z3      Z2 crosses the A|B line

Bordering: a path 0 - 1 - 2 - 3 - 4 - 5. Lower bound 50.
"""

from __future__ import annotations

import numpy as np
import pytest

from geo.ensemble.graph import neighbour_lists
from geo.ensemble.start import StartState, repair, repairs
from geo.errors import InvalidInput

POPULATION = np.array([40, 30, 30, 50, 10, 60], dtype=float) * 1000
NEST = np.array([0, 0, 0, 1, 1, 1])
ZONES = np.array([0, 0, 1, 1, 2, 2])
CODES = ["Z1", "Z2", "Z3"]


def state(lower: float = 50_000, upper: float | None = None, fixed: tuple[int, ...] = ()) -> StartState:
    edges = np.array([[i, i + 1] for i in range(5)])
    mask = np.zeros(6, dtype=bool)
    mask[list(fixed)] = True
    return StartState(labels=ZONES.copy(), zone_codes=list(CODES), zone_names=[f"Zone {c}" for c in CODES],
                      zone_nest=[-1, -1, -1], movable=np.ones(6, dtype=bool), nest=NEST, nest_names=["A", "B"],
                      population=POPULATION, neighbours=neighbour_lists(6, edges), exclave=np.zeros(6, dtype=bool),
                      names=[f"M{i}" for i in range(6)], nis=np.arange(11001, 11007), lower=lower, upper=upper,
                      fixed=mask, large=np.zeros(6, dtype=bool), groups=[])


def test_a_zone_across_the_line_keeps_its_majority_side_and_small_zones_merge():
    s = repair(state())
    # Z2 (30 in A, 50 in B) belongs to B: atom 2 joins Z1 in A. Z3 (70) is fine; Z2 keeps atom 3 (50).
    assert s.labels.tolist() == [0, 0, 0, 1, 2, 2]
    found = {r.nis_code: r for r in repairs(s, ZONES, CODES, [f"Zone {c}" for c in CODES])}
    assert list(found) == [11003] and found[11003].reason == "nesting"
    assert found[11003].explanation == ("M2 lag in een zone die grotendeels in een andere referentieregio ligt: "
                                        "van Zone Z2 naar Zone Z1.")


def test_below_the_lower_bound_merges_with_the_smallest_neighbour():
    s = repair(state(lower=60_000))
    # Z2 = {3} has 50 < 60: it merges into Z3 (the only neighbour in B); B becomes one zone.
    assert s.labels.tolist() == [0, 0, 0, 2, 2, 2]


def test_a_zone_above_the_upper_bound_is_split_when_no_neighbour_has_room():
    s = repair(state(lower=20_000, upper=90_000))
    # Z1 gets atom 2 (100 in all) and has no neighbour in A to hand a municipality to: split in two.
    populations = [POPULATION[s.labels == z].sum() for z in sorted(set(s.labels.tolist()))]
    assert len(populations) == 4 and max(populations) <= 90_000 and min(populations) >= 20_000
    assert "nieuw-1" in s.zone_codes


def test_a_zone_above_the_upper_bound_hands_a_border_municipality_over():
    s = repair(state(lower=20_000, upper=65_000))
    # Z3 = {4, 5} (70 > 65) hands atom 4 (10) to Z2 = {3} (50 -> 60), which has room.
    assert s.labels[4] == s.labels[3] != s.labels[5]
    assert s.why[4] == "shift"
    populations = [POPULATION[s.labels == z].sum() for z in sorted(set(s.labels.tolist()))]
    assert max(populations) <= 65_000 and min(populations) >= 20_000


def test_a_fixed_municipality_on_the_wrong_side_is_refused():
    with pytest.raises(InvalidInput, match="Vaste gemeente M2"):
        repair(state(fixed=(2,)))
