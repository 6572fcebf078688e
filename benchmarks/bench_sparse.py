"""Issue 25, target 4: an overlay of two imported grids of 10,000 squares each, sparse end to end.

Two grids over Flanders and Brussels (:mod:`benchmarks.grid`), the second shifted by half a
square, so every square of one is split over four of the other and both split almost every
municipality (counted from its statistical sectors). Timed in one process, alternated:

* **engine**: :func:`geo.engine.overlay.overlay` with its measures (nested share, ARI, VI, NMI,
  gap, overlap), then the zone table (dominant zone per zone) and the details of 100 zones;
* **dense numpy table**: the same cells written into a dense zones x zones array and the same
  measures computed on it (what the engine did before, 800 MB for 10,000 x 10,000);
* **pandas groupby**: the per-atom products of shares as a frame, grouped by (A-zone, B-zone),
  and the measures from the grouped frame;
* **geopandas overlay**: the intersection of the two grids' squares (areas only, no population);
* **previous code** (with ``--baseline``: another checkout, e.g. the commit before): its overlay of
  the same two grids, in a process started in that checkout.

Memory: the peak of Python allocations (tracemalloc, numpy's included) during one warm overlay,
against the ``zones_a x zones_b x 8`` bytes of one dense table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from benchmarks.common import peak_rss_mib, percentiles

CELLS = 10_000
QUICK_CELLS = 3_000
RUNS = 9

# Run in the baseline checkout: the previous code's overlay of the two grids, as JSON on stdout.
BASELINE_SCRIPT = """
import json, sys, time
from geo.reference.catalog import load_catalog
from geo.uploads.importing import import_layer
from geo.engine.overlay import overlay
catalog = load_catalog()
a = import_layer("rastera", open(sys.argv[1], "rb").read(), "a.geojson", catalog)
b = import_layer("rasterb", open(sys.argv[2], "rb").read(), "b.geojson", catalog)
t0 = time.perf_counter(); overlay(a, b); first = time.perf_counter() - t0
runs = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter(); overlay(a, b); runs.append(time.perf_counter() - t0)
print(json.dumps({"first_s": first, "runs_s": runs}))
"""


def _timed(fn, runs: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def dense_alternative(result) -> dict:  # noqa: ANN001
    """The engine's cells in a dense array, and the measures computed on it."""
    from geo.engine import metrics

    table = result.table
    dense = np.zeros(table.shape)
    rows = np.repeat(np.arange(table.shape[0]), np.diff(table.indptr))
    dense[rows, table.indices] = table.data
    ari, vi, nmi = metrics.partition_measures(dense)
    return {"nested": metrics.nested_share(dense, result.a_totals), "ari": ari, "vi": vi, "nmi": nmi,
            "dominant": dense.argmax(axis=1)}


def pandas_alternative(a, b) -> dict:  # noqa: ANN001
    """Per-atom products of shares grouped by (A-zone, B-zone) with pandas, then the measures."""
    import pandas as pd

    w = a.atoms.weights("population")
    ma, mb = a.membership.tocoo(), b.membership.tocoo()
    left = pd.DataFrame({"atom": ma.row, "a": ma.col, "wa": ma.data * w[ma.row]})
    right = pd.DataFrame({"atom": mb.row, "b": mb.col, "sb": mb.data})
    pieces = left.merge(right, on="atom")
    pieces["weight"] = pieces["wa"] * pieces["sb"]
    cells = pieces.groupby(["a", "b"], sort=False)["weight"].sum()
    n = cells.sum()
    rows = cells.groupby(level=0).sum()
    cols = cells.groupby(level=1).sum()
    p, pa, pb = cells / n, rows / n, cols / n
    joint = p.to_numpy()
    mutual = float((joint * np.log2(joint / (pa.reindex(cells.index.get_level_values(0)).to_numpy()
                                             * pb.reindex(cells.index.get_level_values(1)).to_numpy()))).sum())
    dominant = cells.groupby(level=0).idxmax()
    return {"cells": len(cells), "mutual": mutual, "dominant": len(dominant)}


def geopandas_alternative(first: bytes, second: bytes) -> float:
    """Seconds for the geometric intersection of the two grids' squares."""
    import geopandas as gpd

    ga, gb = (gpd.read_file(__import__("io").BytesIO(body)) for body in (first, second))
    t0 = time.perf_counter()
    pieces = gpd.overlay(ga[["code", "geometry"]], gb[["code", "geometry"]], how="intersection", keep_geom_type=True)
    pieces.area.groupby([pieces["code_1"], pieces["code_2"]]).sum()
    return time.perf_counter() - t0


def measure(quick: bool = False, baseline: Path | None = None) -> dict:
    from benchmarks.grid import grid_geojson
    from geo.engine.details import detail_arrays
    from geo.engine.overlay import overlay
    from geo.reference.catalog import load_catalog
    from geo.uploads.importing import import_layer

    cells = QUICK_CELLS if quick else CELLS
    runs = 5 if quick else RUNS
    catalog = load_catalog()
    first, second = grid_geojson(cells), grid_geojson(cells, offset=0.5)
    t0 = time.perf_counter()
    a = import_layer("rastera", first, "a.geojson", catalog)
    b = import_layer("rasterb", second, "b.geojson", catalog)
    out: dict = {"zones": [len(a), len(b)], "import_both_s": time.perf_counter() - t0,
                 "load_average_start": os.getloadavg()}
    t0 = time.perf_counter()
    result = overlay(a, b)
    out["first_overlay_s"] = time.perf_counter() - t0  # builds each layer's sector membership once
    out["cells"] = int(result.table.nnz)
    out["split_municipalities"] = len(result.split)
    out["summary"] = result.summary.as_dict()

    engine_wall, engine_cpu, dense_wall, dense_cpu, pandas_wall, pandas_cpu = [], [], [], [], [], []
    for _ in range(runs):  # alternated, so the machine's load falls on each alike
        w, c = _timed(lambda: overlay(a, b), 1)
        engine_wall += w
        engine_cpu += c
        w, c = _timed(lambda: dense_alternative(result), 1)
        dense_wall += w
        dense_cpu += c
        w, c = _timed(lambda: pandas_alternative(a, b), 1)
        pandas_wall += w
        pandas_cpu += c
    zone_table_wall, _ = _timed(lambda: result.zone_table(), 3)
    page_wall, _ = _timed(lambda: detail_arrays(overlay(a, b), 0, 100), 3)
    all_details_wall, _ = _timed(lambda: detail_arrays(result), 1)

    tracemalloc.start()
    overlay(a, b)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense_bytes = len(a) * len(b) * 8
    out.update({
        "engine_overlay": percentiles(engine_wall), "engine_overlay_cpu": percentiles(engine_cpu),
        "dense_numpy_table": percentiles(dense_wall), "dense_numpy_table_cpu": percentiles(dense_cpu),
        "pandas_groupby": percentiles(pandas_wall), "pandas_groupby_cpu": percentiles(pandas_cpu),
        "ratio_dense_over_engine": float(np.median(dense_wall) / np.median(engine_wall)),
        "ratio_pandas_over_engine": float(np.median(pandas_wall) / np.median(engine_wall)),
        "zone_table": percentiles(zone_table_wall), "overlay_and_100_details": percentiles(page_wall),
        "all_details_arrays_s": all_details_wall[0],
        "overlay_peak_traced_mib": peak / 2**20, "dense_table_mib": dense_bytes / 2**20,
        "peak_over_dense": peak / dense_bytes,
    })
    t = geopandas_alternative(first, second)
    out["geopandas_overlay_s"] = t
    out["ratio_geopandas_over_engine"] = t / float(np.median(engine_wall))
    if baseline is not None:
        out["baseline"] = _baseline(baseline, first, second, max(3, runs // 3))
        out["ratio_baseline_over_engine"] = (float(np.median(out["baseline"]["runs_s"])) /
                                             float(np.median(engine_wall)))
    out["load_average_end"] = os.getloadavg()
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def _baseline(checkout: Path, first: bytes, second: bytes, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = Path(tmp) / "a.geojson", Path(tmp) / "b.geojson"
        pa.write_bytes(first)
        pb.write_bytes(second)
        done = subprocess.run([sys.executable, "-c", BASELINE_SCRIPT, str(pa), str(pb), str(runs)], cwd=checkout,
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(checkout), "OPENBLAS_NUM_THREADS": "1"})
    return json.loads(done.stdout.strip().splitlines()[-1])
