"""Congruence measures: known values, and properties checked with hypothesis."""

from __future__ import annotations

from itertools import combinations
from math import log2

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geo.engine import metrics
from tests.examples import examples

tables = st.integers(1, 5).flatmap(lambda r: st.integers(1, 5).flatmap(
    lambda c: arrays(np.int64, (r, c), elements=st.integers(0, 12)))).filter(lambda t: t.sum() >= 2)


def _labels(table: np.ndarray) -> tuple[list[int], list[int]]:
    a, b = [], []
    for i, j in np.ndindex(table.shape):
        a += [i] * int(table[i, j])
        b += [j] * int(table[i, j])
    return a, b


def _ari_by_pairs(table: np.ndarray) -> float:
    """Adjusted Rand index the slow way: enumerate every pair of items."""
    a, b = _labels(table)
    n = len(a)
    both = same_a = same_b = 0
    for x, y in combinations(range(n), 2):
        sa, sb = a[x] == a[y], b[x] == b[y]
        both += sa and sb
        same_a += sa
        same_b += sb
    pairs = n * (n - 1) / 2
    expected = same_a * same_b / pairs
    maximum = (same_a + same_b) / 2
    return 1.0 if maximum == expected else (both - expected) / (maximum - expected)


def test_identical_zonings_score_perfectly():
    table = np.diag([100.0, 250.0, 30.0])
    assert metrics.adjusted_rand_index(table) == 1.0
    assert metrics.variation_of_information(table) == 0.0
    assert metrics.normalized_mutual_information(table) == pytest.approx(1.0)
    assert metrics.nested_share(table) == 1.0


def test_variation_of_information_of_a_split_in_two_halves():
    # One zone split evenly over two: knowing B tells all of A, but A leaves one bit about B.
    table = np.array([[50.0, 50.0]])
    assert metrics.variation_of_information(table) == pytest.approx(1.0)
    assert metrics.normalized_mutual_information(table) == pytest.approx(0.0)


def test_nested_share_counts_whole_zones_only():
    table = np.array([[10.0, 0.0], [5.0, 5.0], [0.0, 30.0]])
    assert metrics.nested_share(table) == pytest.approx(40 / 50)
    # A zone partly outside B's coverage is not nested even when all its covered part is in one zone.
    assert metrics.nested_share(table, zone_totals=np.array([20.0, 10.0, 30.0])) == pytest.approx(30 / 60)


@settings(max_examples=examples(60), deadline=None)
@given(tables)
def test_ari_equals_pair_counting(table):
    assert metrics.adjusted_rand_index(table) == pytest.approx(_ari_by_pairs(table), abs=1e-9)


@settings(max_examples=examples(100), deadline=None)
@given(tables)
def test_measures_are_symmetric(table):
    t = table.astype(float)
    assert metrics.adjusted_rand_index(t) == pytest.approx(metrics.adjusted_rand_index(t.T), abs=1e-12)
    assert metrics.variation_of_information(t) == pytest.approx(metrics.variation_of_information(t.T), abs=1e-12)
    assert metrics.normalized_mutual_information(t) == pytest.approx(
        metrics.normalized_mutual_information(t.T), abs=1e-12)


@settings(max_examples=examples(100), deadline=None)
@given(tables, st.randoms(use_true_random=False))
def test_measures_ignore_zone_labels(table, rnd):
    t = table.astype(float)
    rows = list(range(t.shape[0]))
    cols = list(range(t.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    shuffled = t[rows][:, cols]
    for measure in (metrics.adjusted_rand_index, metrics.variation_of_information,
                    metrics.normalized_mutual_information, metrics.nested_share):
        assert measure(shuffled) == pytest.approx(measure(t), abs=1e-12)


@settings(max_examples=examples(100), deadline=None)
@given(tables)
def test_bounds(table):
    t = table.astype(float)
    h_a = -sum(p * log2(p) for p in t.sum(axis=1) / t.sum() if p > 0)
    h_b = -sum(p * log2(p) for p in t.sum(axis=0) / t.sum() if p > 0)
    assert -1.0 <= metrics.adjusted_rand_index(t) <= 1.0 + 1e-12
    assert 0.0 <= metrics.variation_of_information(t) <= h_a + h_b + 1e-9
    assert 0.0 <= metrics.normalized_mutual_information(t) <= 1.0
    assert 0.0 <= metrics.nested_share(t) <= 1.0


@settings(max_examples=examples(60), deadline=None)
@given(tables, st.floats(0.5, 1000.0))
def test_measures_do_not_depend_on_units(table, scale):
    """Population or thousands of inhabitants: VI, NMI and nesting are scale-free."""
    t = table.astype(float)
    assert metrics.variation_of_information(t * scale) == pytest.approx(metrics.variation_of_information(t), abs=1e-9)
    assert metrics.normalized_mutual_information(t * scale) == pytest.approx(
        metrics.normalized_mutual_information(t), abs=1e-9)
    assert metrics.nested_share(t * scale) == pytest.approx(metrics.nested_share(t), abs=1e-12)


def test_negative_cells_are_refused():
    with pytest.raises(ValueError, match="negative"):
        metrics.adjusted_rand_index(np.array([[1.0, -1.0]]))
