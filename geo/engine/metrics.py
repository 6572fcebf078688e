"""Congruence measures on a weighted contingency table.

``table[i, j]`` is the population (or area) that zone ``i`` of layer A shares with zone ``j``
of layer B. Every measure treats each inhabitant as an item placed in one cell, so the measures
are population-weighted versions of the classic clustering comparisons. All functions are pure
and take microseconds on tables of Flemish size.

In one sentence each, for a planner:

* **nested share**: the share of the inhabitants of A whose A-zone lies entirely inside one
  B-zone (1 = every A-zone fits in a B-zone).
* **adjusted Rand index**: of all pairs of inhabitants, how much more often than chance the two
  layers agree on "same zone" versus "different zone" (1 = identical zonings, 0 = as good as
  random).
* **variation of information**: how many bits of information you lose and must add to go from
  one zoning to the other (0 = identical; larger = more different).
* **normalised mutual information**: how much knowing someone's A-zone tells you about their
  B-zone, scaled from 0 (nothing) to 1 (everything, both ways).

Conventions (the one place they are stated):

* **Each inhabitant counts once.** With overlapping zones (ISOM's members are also WZK's), the
  nested share is the share of the inhabitants covered by A who live in at least one A-zone that
  lies entirely inside one B-zone, over the inhabitants covered by A counted once
  (:func:`nested_share_once`), not a sum over zones that would count them twice.
* **Area is not a count.** Weighted by area, the ARI is the unit-free (large-sample) form, on
  shares of the total: km² and hectares give the same value. VI and NMI depend on shares only
  already. Weighted by population, the classic pair-counting ARI is used.
* **Only the cells with weight.** A table may be a dense array or a ``scipy.sparse`` array (what
  the overlay gives: two layers of 10,000 zones meet in a few hundred thousand of their
  100,000,000 cells); every measure reads the non-empty cells and the margins only.
* **Undefined is not perfect.** Two layers that share no inhabitants, or a layer of heavily
  overlapping zones, get no ARI/VI/NMI (``geo.engine.overlay.UNDEFINED_REASONS`` says why).

Examples
--------
>>> import numpy as np
>>> adjusted_rand_index(np.diag([10.0, 20.0]))
1.0
>>> variation_of_information(np.diag([10.0, 20.0]))
0.0
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from scipy import sparse

from geo.engine.cells import column_sums, row_max, row_sums

NESTED_TOLERANCE = 1e-6
Table: TypeAlias = np.ndarray | sparse.sparray | sparse.spmatrix


def _as_table(table: Table) -> np.ndarray | sparse.csr_array:
    if sparse.issparse(table):
        csr: sparse.csr_array = (table if isinstance(table, sparse.csr_array) and table.dtype == float
                                 else sparse.csr_array(table, dtype=float))
        if csr.ndim != 2:
            raise ValueError("a contingency table is two-dimensional")
        if not csr.has_canonical_format:
            csr = sparse.csr_array(csr, copy=True)
            csr.sum_duplicates()
        if np.any(csr.data < 0):
            raise ValueError("a contingency table has no negative cells")
        return csr
    t = np.asarray(table, dtype=float)
    if t.ndim != 2:
        raise ValueError("a contingency table is two-dimensional")
    if (t < 0).any():
        raise ValueError("a contingency table has no negative cells")
    return t


def _margins(t: np.ndarray | sparse.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-empty cells, the row sums and the column sums of a table."""
    if isinstance(t, sparse.csr_array):
        values = np.asarray(t.data)
        return values[values > 0], row_sums(t), column_sums(t)
    return t[t > 0], t.sum(axis=1), t.sum(axis=0)


def _pairs(x: np.ndarray) -> np.ndarray:
    """Number of unordered pairs among x items (x may be fractional: x(x-1)/2, floored at 0)."""
    return np.maximum(x * (x - 1.0), 0.0) / 2.0


def adjusted_rand_index(table: Table, unit_free: bool = False) -> float:
    """Adjusted Rand index (Hubert & Arabie) of the weighted table.

    Pairs of inhabitants put together or apart by both layers, corrected for chance:
    1 for identical zonings, about 0 for unrelated ones. ``unit_free``: for weights that are not
    counts (area), the limit for many items, computed on shares (the same in km² and ha).

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse array
        The weighted contingency table: A-zones x B-zones (inhabitants or km²), non-negative.
    unit_free : bool
        Compute on shares (for areas) instead of on pairs of counted items.

    Returns
    -------
    float
        At most 1; 1 when both layers put everyone together (or everyone apart).

    Examples
    --------
    >>> t = np.array([[3.0, 1.0], [0.5, 2.0]])
    >>> adjusted_rand_index(t, unit_free=True) == adjusted_rand_index(t * 100, unit_free=True)
    True
    """
    t = _as_table(table)
    return _unit_free_ari(t) if unit_free else _adjusted_rand_index(t)


def _unit_free_ari(t: np.ndarray | sparse.csr_array) -> float:
    n = t.sum()
    if n <= 0:
        return 1.0
    values, row_totals, column_totals = _margins(t)
    cells = float(((values / n) ** 2).sum())
    rows, cols = float(((row_totals / n) ** 2).sum()), float(((column_totals / n) ** 2).sum())
    expected = rows * cols
    maximum = (rows + cols) / 2.0
    if abs(maximum - expected) <= 1e-12 * max(abs(expected), 1e-300):
        return 1.0
    return float((cells - expected) / (maximum - expected))


def _adjusted_rand_index(t: np.ndarray | sparse.csr_array) -> float:
    n = t.sum()
    if n <= 1:
        return 1.0
    # Only the non-empty cells (an empty one has no pairs): a table of 300 x 300 municipalities
    # is 99.7 % empty, and three temporaries of its full size were most of an overlay's time.
    values, row_totals, column_totals = _margins(t)
    sum_cells = _pairs(values).sum()
    sum_rows = _pairs(row_totals).sum()
    sum_cols = _pairs(column_totals).sum()
    expected = sum_rows * sum_cols / _pairs(np.array(n))
    maximum = (sum_rows + sum_cols) / 2.0
    # Same test as np.isclose(maximum, expected, rtol=1e-12, atol=0) on these finite scalars,
    # without its array machinery (it was a third of this function's time).
    if abs(maximum - expected) <= 1e-12 * abs(expected):
        # Both layers put everyone in one zone (or each in their own): they agree perfectly.
        return 1.0
    return float((sum_cells - expected) / (maximum - expected))


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _information(table: Table) -> tuple[float, float, float]:
    """Entropies H(A), H(B) and mutual information I(A;B), in bits."""
    return _information_of(_as_table(table))


def _information_of(t: np.ndarray | sparse.csr_array) -> tuple[float, float, float]:
    n = t.sum()
    if n <= 0:
        return 0.0, 0.0, 0.0
    if isinstance(t, sparse.csr_array):
        pa, pb = row_sums(t) / n, column_sums(t) / n
        rows = np.repeat(np.arange(t.shape[0]), np.diff(t.indptr))
        kept = t.data > 0
        cells, rows, cols = t.data[kept] / n, rows[kept], t.indices[kept]
        mutual = float((cells * np.log2(cells / (pa[rows] * pb[cols]))).sum())
        return _entropy(pa), _entropy(pb), max(mutual, 0.0)
    p = t / n
    pa, pb = p.sum(axis=1), p.sum(axis=0)
    h_a, h_b = _entropy(pa), _entropy(pb)
    # Only the non-empty cells: the full outer product of the margins was most of this function's
    # time for a 10,000-zone imported layer (the same products, in the same order).
    rows, cols = np.nonzero(p > 0)
    cells = p[rows, cols]
    mutual = float((cells * np.log2(cells / (pa[rows] * pb[cols]))).sum())
    return h_a, h_b, max(mutual, 0.0)


def _vi(h_a: float, h_b: float, mutual: float) -> float:
    vi = h_a + h_b - 2.0 * mutual
    # Rounding leaves ~1e-16 bits for identical zonings; report those as exactly 0.
    return 0.0 if vi < 1e-12 else vi


def _nmi(h_a: float, h_b: float, mutual: float) -> float:
    if h_a + h_b == 0:
        return 1.0
    return float(min(2.0 * mutual / (h_a + h_b), 1.0))


def variation_of_information(table: Table) -> float:
    """Variation of information H(A|B) + H(B|A), in bits: 0 for identical zonings.

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse array
        The weighted contingency table: A-zones x B-zones (inhabitants or km²), non-negative.

    Returns
    -------
    float
        At least 0.

    Examples
    --------
    >>> variation_of_information(np.array([[1.0, 1.0]]))  # B splits A's one zone in halves: one bit
    1.0
    """
    return _vi(*_information(table))


def normalized_mutual_information(table: Table) -> float:
    """Mutual information divided by the mean of the two entropies (0 to 1).

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse array
        The weighted contingency table: A-zones x B-zones (inhabitants or km²), non-negative.

    Returns
    -------
    float
        1 for identical zonings (and when both layers have a single zone), 0 for independent ones.

    Examples
    --------
    >>> normalized_mutual_information(np.array([[1.0, 1.0], [1.0, 1.0]]))
    0.0
    """
    return _nmi(*_information(table))


def partition_measures(table: Table, unit_free: bool = False) -> tuple[float, float, float]:
    """``(adjusted_rand_index, variation_of_information, normalized_mutual_information)`` at once.

    The same numbers as the three functions, computed from one validated table and one pass of
    entropies: the scenario evaluator calls this for every candidate move.

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse array
        The weighted contingency table: A-zones x B-zones (inhabitants or km²), non-negative.
    unit_free : bool
        As for :func:`adjusted_rand_index`.

    Returns
    -------
    tuple of float
        ``(adjusted_rand_index, variation_of_information, normalized_mutual_information)``.

    Examples
    --------
    >>> ari, vi, nmi = partition_measures(np.diag([10.0, 20.0]))
    >>> ari, vi, round(nmi, 9)
    (1.0, 0.0, 1.0)
    """
    t = _as_table(table)
    information = _information_of(t)
    ari = _unit_free_ari(t) if unit_free else _adjusted_rand_index(t)
    return ari, _vi(*information), _nmi(*information)


def nested_zones(table: Table, zone_totals: np.ndarray | None = None) -> np.ndarray:
    """Boolean per row: does all of the row's weight lie in one column?

    ``zone_totals`` is the full weight of each A-zone, including any part that B does not cover;
    such an uncovered part makes a zone not nested. Zones without weight are not nested.

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse array
        The weighted contingency table: A-zones x B-zones (inhabitants or km²), non-negative.
    zone_totals : numpy.ndarray, optional
        Per A-zone its full weight (default: the row sums).

    Returns
    -------
    numpy.ndarray
        One bool per A-zone.

    Examples
    --------
    >>> nested_zones(np.array([[5.0, 0.0], [3.0, 2.0]])).tolist()
    [True, False]
    """
    t = _as_table(table)
    totals = _row_totals(t) if zone_totals is None else np.asarray(zone_totals, dtype=float)
    return _nested_zones(t, totals)


def _row_totals(t: np.ndarray | sparse.csr_array) -> np.ndarray:
    return row_sums(t) if sparse.issparse(t) else t.sum(axis=1)


def _nested_zones(t: np.ndarray | sparse.csr_array, totals: np.ndarray) -> np.ndarray:
    if t.shape[1] == 0:
        return np.zeros(t.shape[0], dtype=bool)
    best = row_max(t) if sparse.issparse(t) else t.max(axis=1)
    return (totals > 0) & (best >= totals * (1.0 - NESTED_TOLERANCE))


def nested_share(table: Table, zone_totals: np.ndarray | None = None) -> float:
    """Share of A's weight in A-zones that lie entirely inside one B-zone.

    Parameters
    ----------
    table : numpy.ndarray or scipy.sparse array
        The weighted contingency table: A-zones x B-zones (inhabitants or km²), non-negative.
    zone_totals : numpy.ndarray, optional
        Per A-zone its full weight (default: the row sums); see :func:`nested_zones`.

    Returns
    -------
    float
        0 to 1; 0 when A has no weight.

    Examples
    --------
    >>> nested_share(np.array([[5.0, 0.0], [3.0, 2.0]]))
    0.5
    """
    t = _as_table(table)
    totals = _row_totals(t) if zone_totals is None else np.asarray(zone_totals, dtype=float)
    whole = totals.sum()
    if whole <= 0:
        return 0.0
    return float(totals[_nested_zones(t, totals)].sum() / whole)


def nested_share_once(membership, weights: np.ndarray, nested: np.ndarray) -> float:
    """Nested share with each inhabitant counted once (overlapping A-zones).

    ``membership``: atoms x A-zones shares; ``nested``: per A-zone, does it lie in one B-zone.
    The inhabitants of an atom count as nested for the part of them (at most all) that lives in
    nested A-zones, over the inhabitants covered by A (at most all of the atom's).

    Parameters
    ----------
    membership : scipy.sparse array or numpy.ndarray
        Atoms x A-zones shares.
    weights : numpy.ndarray
        Per atom its weight (inhabitants or km²).
    nested : numpy.ndarray
        Per A-zone: does it lie in one B-zone (:func:`nested_zones`).

    Returns
    -------
    float
        0 to 1; 0 when A covers no weight.

    Examples
    --------
    >>> m = sparse.csr_array(np.array([[1.0, 1.0], [0.0, 1.0]]))  # atom 0 in both zones
    >>> nested_share_once(m, np.array([10.0, 30.0]), np.array([True, False]))
    0.25
    """
    m = sparse.csr_array(membership)
    covered = np.minimum(np.asarray(m.sum(axis=1)).ravel(), 1.0)
    in_nested = np.minimum(np.asarray(m @ np.asarray(nested, dtype=float)).ravel(), 1.0)
    w = np.asarray(weights, dtype=float)
    whole = float((w * covered).sum())
    return float((w * in_nested).sum() / whole) if whole > 0 else 0.0
