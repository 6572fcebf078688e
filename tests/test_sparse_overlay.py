"""Overlays are sparse end to end (issue 25, target 4): two imported grids, the second shifted by half
a square so every square is split over four and both layers split almost every municipality.

The overlay never holds a dense zones x zones array (a size bound on its Python allocations,
numpy's included, not a timing), and its table and measures are those of the dense table of the
same cells and of scikit-learn.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy import sparse

from benchmarks.grid import grid_geojson
from geo.engine import metrics
from geo.engine.details import detail_arrays
from geo.engine.overlay import overlay
from geo.uploads.importing import import_layer

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is missing: pip install 'scikit-learn>=1.4' "
                                      "(the test extra)")

SQUARES = 3_000  # a dense table of them: 69 MiB; the overlay allocates a few


@pytest.fixture(scope="module")
def grids(catalog):
    a = import_layer("raster_a", grid_geojson(SQUARES), "a.geojson", catalog)
    b = import_layer("raster_b", grid_geojson(SQUARES, offset=0.5), "b.geojson", catalog)
    overlay(a, b)  # each layer's sector membership, built once and kept with the layer
    return a, b


def test_the_overlay_of_two_grids_never_allocates_a_zones_by_zones_table(grids):
    a, b = grids
    dense = len(a) * len(b) * 8
    tracemalloc.start()
    try:
        result = overlay(a, b)
        result.zone_table()
        detail_arrays(result, 0, 50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Both grids split (nearly) every municipality: the sector path ran for those the sectors place
    # (a municipality with squares on the area fallback is counted by its shares).
    assert len(result.split) > 200
    assert result.table.nnz < len(a) * len(b) / 20
    assert peak < dense / 4, f"peak {peak / 2**20:.1f} MiB against {dense / 2**20:.1f} MiB for one dense table"


def test_the_sparse_table_gives_the_measures_of_its_dense_table(grids):
    a, b = grids
    result = overlay(a, b)
    dense = result.table.toarray()
    s = result.summary
    assert s.undefined is None or s.undefined == "overlapping_zones"
    assert metrics.nested_share(dense, result.a_totals) == pytest.approx(metrics.nested_share(result.table,
                                                                                              result.a_totals), abs=1e-12)
    for sparse_value, dense_value in zip(metrics.partition_measures(result.table), metrics.partition_measures(dense)):
        assert sparse_value == pytest.approx(dense_value, abs=1e-10)
    # The zone table's dominant zone, its weight and the zones touched, as the dense rows say.
    table = result.zone_table()
    has_dominant = dense.max(axis=1) > 1e-9
    dominant = np.array(b.zone_codes, dtype=object)[dense.argmax(axis=1)]
    assert (table["dominant_zone"].to_numpy()[has_dominant] == dominant[has_dominant]).all()
    assert table["zones_touched"].tolist() == (dense > 1e-9).sum(axis=1).tolist()
    assert np.allclose(table["dominant_share"] * result.a_totals, dense.max(axis=1), rtol=1e-12, atol=1e-6)


def test_the_measures_of_the_sparse_table_equal_scikit_learn(grids):
    a, b = grids
    # scikit-learn counts items: the table in whole inhabitants (its contingency is integer).
    table = overlay(a, b).table
    table.data = np.round(table.data)
    table.eliminate_zeros()
    counted = table.astype(np.int64)
    ari, vi, nmi = metrics.partition_measures(table)
    # Mutual information and entropies from the full sparse table (scikit-learn takes it as a contingency).
    mutual = sklearn_metrics.mutual_info_score(None, None, contingency=counted) / math.log(2)
    rows, cols = np.asarray(counted.sum(axis=1)).ravel(), np.asarray(counted.sum(axis=0)).ravel()
    h_a = sklearn_metrics.mutual_info_score(None, None, contingency=sparse.diags_array(rows[rows > 0])) / math.log(2)
    h_b = sklearn_metrics.mutual_info_score(None, None, contingency=sparse.diags_array(cols[cols > 0])) / math.log(2)
    assert vi == pytest.approx(h_a + h_b - 2 * mutual, abs=1e-9)
    assert nmi == pytest.approx(2 * mutual / (h_a + h_b), abs=1e-12)
    # The pair-counting ARI: a block of A-zones, one label per inhabitant.
    block = counted[:150].tocoo()
    labels_a, labels_b = np.repeat(block.row, block.data), np.repeat(block.col, block.data)
    block_ari = metrics.adjusted_rand_index(table[:150])
    assert block_ari == pytest.approx(sklearn_metrics.adjusted_rand_score(labels_a, labels_b), abs=1e-9)
    assert block_ari == pytest.approx(metrics.adjusted_rand_index(table[:150].toarray()), abs=1e-12)
    assert -1.0 <= ari <= 1.0
