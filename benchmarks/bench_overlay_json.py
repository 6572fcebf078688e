"""The overlay answer's JSON three ways, in one run: the hand writer (``api.serialize_overlay``,
pieces laid out from the detail arrays), ``orjson.dumps`` and the stdlib ``json.dumps`` of
``api.serialize.overlay`` (a dict per zone and member), for a small pair and a 10,000-square grid.

    .venv/bin/python -m benchmarks.bench_overlay_json [--cells 10000]

"uncached": a new overlay result each call (its detail arrays and per-layer fragments computed
again, as for the first request after a change); "cached": the same result again (what a
repeated request costs once the render cache has been cleared). ``encode_only``: orjson and json
on the dict already built, to show what the encoder itself costs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time

import numpy as np

from benchmarks.common import machine


def repeat(fn, *, min_runs: int = 7, min_seconds: float = 0.2) -> list[float]:
    """Seconds per call of ``fn``, each after a full garbage collection (not timed): a collection
    of the objects the writer before left behind would otherwise land in a random sample."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < min_runs or time.perf_counter() - started < min_seconds:
        gc.collect()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples

SMALL = ("samenwerkingsverband", "eerstelijnszone")


def _grid_layer(cells: int, catalog):
    from benchmarks.grid import grid_geojson
    from geo.uploads.importing import layer_from_polygons

    return layer_from_polygons("raster", grid_geojson(cells), "raster.geojson", catalog, name="Raster")


def _measure_pair(a, b, min_seconds: float) -> dict:
    import orjson

    from api import serialize
    from api.serialize_overlay import overlay_json
    from geo.engine.overlay import overlay

    fields = {"direction": "a"}

    def build(result):
        return {**serialize.overlay(result), **fields}

    writers = {
        "hand": lambda r: overlay_json(r, **fields),
        "orjson": lambda r: orjson.dumps(build(r)),
        "json": lambda r: serialize.json_bytes(build(r)),
    }
    result = overlay(a, b)
    out: dict = {"zones": len(result.a), "bytes": {k: len(w(result)) for k, w in writers.items()}}
    assert json.loads(writers["hand"](result)) == json.loads(writers["orjson"](result)) \
        == json.loads(writers["json"](result))
    order = list(writers)
    for case in ("uncached", "cached"):
        samples: dict[str, list[float]] = {k: [] for k in order}
        for _ in range(3):  # interleaved rounds: the load of the moment hits all three alike
            for name in order:
                if case == "uncached":
                    samples[name] += repeat(lambda w=writers[name]: w(overlay(a, b)), min_runs=7,
                                            min_seconds=min_seconds)
                    samples[name + "_overlay_only"] = samples.get(name + "_overlay_only", []) + repeat(
                        lambda: overlay(a, b), min_runs=7, min_seconds=min_seconds / 3)
                else:
                    samples[name] += repeat(lambda w=writers[name]: w(result), min_runs=7, min_seconds=min_seconds)
        ms = {k: float(np.median(v)) * 1e3 for k, v in samples.items()}
        if case == "uncached":  # the writer's share: the call minus the overlay itself
            base = float(np.median(sum((samples[k + "_overlay_only"] for k in order), [])) * 1e3)
            ms = {k: ms[k] - base for k in order} | {"overlay_itself": base}
        out[case] = {"median_ms": ms, "ratio_to_hand": {k: ms[k] / ms["hand"] for k in order}}
    body = build(result)
    enc = {"orjson": float(np.median(repeat(lambda: orjson.dumps(body), min_runs=7, min_seconds=min_seconds))) * 1e3,
           "json": float(np.median(repeat(lambda: serialize.json_bytes(body), min_runs=7,
                                          min_seconds=min_seconds))) * 1e3,
           "build_dict": float(np.median(repeat(lambda: build(result), min_runs=7, min_seconds=min_seconds))) * 1e3}
    out["encode_only_ms"] = enc
    return out


def measure(cells: int = 10_000, min_seconds: float = 0.5) -> dict:
    """Milliseconds per answer for the three writers, on the small pair and the grid pair."""
    from geo.reference.catalog import load_catalog

    catalog = load_catalog(None)
    grid = _grid_layer(cells, catalog)
    return {"small": _measure_pair(catalog.layer(SMALL[0]), catalog.layer(SMALL[1]), min_seconds),
            "grid": _measure_pair(grid, catalog.layer("eerstelijnszone"), min_seconds)}


def main() -> None:
    """Print the measure as JSON with the machine and the load average before and after."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    start = machine()
    found = measure(args.cells, args.seconds)
    print(json.dumps({"machine": start, "load_average_at_end": os.getloadavg(), "overlay_json": found}, indent=1))


if __name__ == "__main__":
    main()
