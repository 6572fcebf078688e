"""Measure 2: scenario evaluation, one move at a time, at Flemish scale.

Base layer: the primary care zones (``eerstelijnszone``); reference: the association layer
(``samenwerkingsverband``). A valid move puts a municipality in the zone of one of its
neighbours that it is not in yet (what a planner clicks on a map). Per move, timed:

* ``Evaluator.try_move``: apply the move and recompute every measure (nested share, ARI, VI,
  NMI, gap, overlap), then take it back;
* ``Evaluator.apply``: the same, kept (1,000 moves in a row, a random walk);
* the naive path: ``apply_moves`` + ``overlay`` from scratch (the same numbers);
* ``try_move`` against all 13 other shipped layers at once;
* the scenario's GeoJSON export (issue 25): written once per version as bytes
  (``layer_geojson_bytes``) against dissolving, simplifying and ``json.loads`` + ``json.dumps`` per
  request, a new version (first export) and the same version again (warm, render cache aside).
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import peak_rss_mib, percentiles, rss_mib
from geo.engine.evaluate import Evaluator
from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.engine.scenario import Move, apply_moves
from geo.geometry.polygons import adjacency
from geo.reference.catalog import load_catalog

BASE = "eerstelijnszone"
REFERENCE = "samenwerkingsverband"


def neighbour_moves(base: Layer, pairs: np.ndarray, count: int, seed: int = 20250101) -> list[Move]:
    """``count`` random moves of a municipality into a neighbour's zone it is not in (from the
    unedited base; with ``apply`` in sequence a move may undo an earlier one, as planners do)."""
    rng = np.random.default_rng(seed)
    zone_of = {int(nis): [c for c, _, _ in base.zones_of(int(nis))] for nis in base.atoms.nis_codes}
    neighbours: dict[int, list[int]] = {}
    for x, y in pairs:
        neighbours.setdefault(int(x), []).append(int(y))
        neighbours.setdefault(int(y), []).append(int(x))
    candidates = [(nis, z) for nis, ns in neighbours.items() for n in ns for z in zone_of[n] if z not in zone_of[nis]]
    picks = rng.integers(0, len(candidates), size=count)
    return [Move(*candidates[i]) for i in picks]


def timed(fn, moves: list[Move]) -> list[float]:
    samples = []
    for move in moves:
        t0 = time.perf_counter()
        fn(move)
        samples.append(time.perf_counter() - t0)
    return samples


def measure(quick: bool = False, count: int = 1000) -> dict:
    catalog = load_catalog()
    base, reference = catalog.layer(BASE), catalog.layer(REFERENCE)
    pairs = adjacency()[["nis_a", "nis_b"]].to_numpy()
    moves = neighbour_moves(base, pairs, count)

    t0 = time.perf_counter()
    ev = Evaluator(base, reference)
    build_s = time.perf_counter() - t0
    ev.try_move(moves[0].nis_code, moves[0].to_zone)  # warm-up
    try_move = timed(lambda m: ev.try_move(m.nis_code, m.to_zone), moves)
    touches = [bool(len(reference.zones_of(m.nis_code))) for m in moves]
    touched = sum(touches)

    walk = Evaluator(base, reference)
    apply = timed(lambda m: walk.apply(m.nis_code, m.to_zone), moves)

    naive_moves = moves[: (50 if quick else 200)]
    naive = timed(lambda m: overlay(reference, apply_moves(base, [m])).summary, naive_moves)

    others = [catalog.layer(i) for i in catalog.layer_ids() if i != BASE]
    t0 = time.perf_counter()
    ev_all = Evaluator(base, others)
    build_all_s = time.perf_counter() - t0
    all_refs = timed(lambda m: ev_all.try_move(m.nis_code, m.to_zone), moves[: (200 if quick else count)])

    # The walk's end state agrees with the overlay engine (a benchmark that checks what it times).
    final = overlay(reference, walk.layer()).summary
    got = walk.summaries()[REFERENCE]
    worst = max(abs(getattr(final, k) - getattr(got, k)) for k in
                ("nested_share", "adjusted_rand_index", "variation_of_information", "normalized_mutual_information"))
    return {
        "what": f"one move of a municipality to a neighbour's zone of {BASE!r}, all measures of {REFERENCE!r} "
                "against it; 'try_move' takes the move back, 'apply' keeps it (random walk)",
        "moves": len(moves),
        "moves_touching_an_association": touched,
        "build_evaluator_ms": build_s * 1e3,
        "try_move": percentiles(try_move),
        # Moves of municipalities in no association leave the tables as they are (cached measures);
        # these are the moves that change the tables and recompute the measures.
        "try_move_touching_an_association": percentiles([t for t, hit in zip(try_move, touches) if hit]),
        "apply": percentiles(apply),
        "naive_apply_moves_plus_overlay": percentiles(naive),
        "speedup_median_vs_naive": float(np.median(naive) / np.median(try_move)),
        "all_13_references": {"build_ms": build_all_s * 1e3, **percentiles(all_refs)},
        "walk_max_abs_difference_vs_overlay": worst,
        "geojson_export": geojson_export(base, moves[:2], 3 if quick else 7),
        "rss_mib_end": rss_mib(),
        "peak_rss_mib": peak_rss_mib(),
    }


def geojson_export(base: Layer, moves: list[Move], runs: int) -> dict:
    """The scenario GeoJSON export, first (a new version) and warm, now and as before, alternated."""
    import json

    from geo.geometry.polygons import DEFAULT_SIMPLIFY_METRES, layer_geojson, layer_geojson_bytes

    def before(layer: Layer) -> bytes:
        return json.dumps(layer_geojson(layer, DEFAULT_SIMPLIFY_METRES)).encode()

    samples: dict[str, list[float]] = {"first_now": [], "first_before": [], "warm_now": [], "warm_before": []}
    same = True
    for _ in range(runs):
        for name, fn in (("now", layer_geojson_bytes), ("before", before)):
            layer = apply_moves(base, moves)  # a new version: a new layer object, nothing cached for it
            t0 = time.perf_counter()
            body = fn(layer)
            samples[f"first_{name}"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = fn(layer)
            samples[f"warm_{name}"].append(time.perf_counter() - t0)
            same &= body == again
    layer = apply_moves(base, moves)
    same &= layer_geojson_bytes(layer) == before(layer)
    out = {k: percentiles(v) for k, v in samples.items()}
    out["identical_bytes"] = bool(same)
    out["ratio_first"] = float(np.median(samples["first_before"]) / np.median(samples["first_now"]))
    out["ratio_warm"] = float(np.median(samples["warm_before"]) / np.median(samples["warm_now"]))
    return out
