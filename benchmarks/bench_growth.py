"""Measure 5: how overlay and scenario evaluation grow with the number of atoms.

Each size runs in its own process (for its peak RSS): the 304 municipalities split into
``parts`` synthetic atoms each (:mod:`benchmarks.synthetic`: 1 -> 304, 4 -> 1,216 (about the
deelgemeenten), 33 -> 10,032, 329 -> 100,016 (about Europe's local administrative units)).
Timed per size: the overlay of ``samenwerkingsverband`` on ``eerstelijnszone`` (first call,
which builds and caches the layers' partition matrices, and steady state), the overlay of
every ordered pair of the 14 layers, building the :class:`~geo.engine.evaluate.Evaluator`, one
``try_move`` (1,000 random moves of an atom into a zone of a neighbouring municipality) and
the naive ``apply_moves`` + ``overlay`` of one move.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from benchmarks.common import peak_rss_mib, percentiles, repeat, rss_mib
from benchmarks.synthetic import neighbour_lists, subdivide
from geo.engine.evaluate import Evaluator
from geo.engine.overlay import overlay
from geo.engine.scenario import Move, apply_moves
from geo.geometry.polygons import adjacency
from geo.reference.catalog import load_catalog

BASE = "eerstelijnszone"
REFERENCE = "samenwerkingsverband"
PARTS = [1, 4, 33, 329]
QUICK_PARTS = [1, 4, 33]


def random_moves(fine_base, parent_base, neighbours: dict[int, list[int]], parts: int, count: int,
                 seed: int = 7) -> list[Move]:
    """Random atoms, each into a zone of a neighbouring municipality that the atom is not in."""
    rng = np.random.default_rng(seed)
    codes = fine_base.atoms.nis_codes
    zones = fine_base.zones["code"].to_numpy()
    membership = fine_base.membership
    out: list[Move] = []
    while len(out) < count:
        i = int(rng.integers(0, len(codes)))
        parent = int(codes[i]) // 1000
        options = {c for n in neighbours.get(parent, []) for c, _, _ in parent_base.zones_of(n)}
        current = {str(zones[j]) for j in membership[[i], :].tocoo().col}
        options -= current
        if options:
            out.append(Move(int(codes[i]), sorted(options)[int(rng.integers(0, len(options)))]))
    return out


def measure(parts: int, quick: bool = False) -> dict:
    catalog = load_catalog()
    neighbours = neighbour_lists(adjacency())
    t0 = time.perf_counter()
    atoms, layers = subdivide(catalog.atoms, catalog.layers(), parts, perturb=0.0 if parts == 1 else 0.1,
                              neighbours=neighbours, seed=parts)
    build_s = time.perf_counter() - t0
    rss_after_build = rss_mib()
    base, reference = layers[BASE], layers[REFERENCE]

    t0 = time.perf_counter()
    overlay(reference, base)
    first_s = time.perf_counter() - t0
    for layer in layers.values():  # build every layer's cached partition outside the timings
        layer.partition()
    headline = percentiles(repeat(lambda: overlay(reference, base), min_runs=10, min_seconds=0.3))
    # BLAS threads (issue 25): the same overlay with OpenBLAS's default threads and with one (what
    # the server sets, geo/engine/threads.py), alternated.
    from threadpoolctl import threadpool_info, threadpool_limits

    from geo.engine import threads

    # The benchmark's process limited BLAS at start (benchmarks.run): its own default was read then.
    default_threads = threads.DEFAULT_THREADS or max(
        (i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)
    blas: dict[str, list[float]] = {"default": [], "one": []}
    for _ in range(5):
        for name, limit in (("default", default_threads), ("one", 1)):
            with threadpool_limits(limits=limit, user_api="blas"):
                blas[name] += repeat(lambda: overlay(reference, base), min_runs=5, min_seconds=0.05)
    blas_threads = {"default_threads": default_threads, **{k: percentiles(v) for k, v in blas.items()}}
    every_pair = [min(repeat(lambda: overlay(layers[a], layers[b]), min_runs=2, min_seconds=0.0, max_runs=2))
                  for a, b in itertools.product(layers, layers)]

    count = 300 if quick else 1000
    moves = random_moves(base, catalog.layer(BASE), neighbours, parts, count)
    t0 = time.perf_counter()
    ev = Evaluator(base, reference)
    evaluator_build_s = time.perf_counter() - t0
    samples = []
    for m in moves:
        t = time.perf_counter()
        ev.try_move(m.nis_code, m.to_zone)
        samples.append(time.perf_counter() - t)
    touching = [s for s, m in zip(samples, moves) if reference.membership[[atoms.position(m.nis_code)], :].nnz]

    naive_moves = moves[: (5 if parts > 100 else 20)]
    naive = []
    for m in naive_moves:
        t = time.perf_counter()
        overlay(reference, apply_moves(base, [m])).summary
        naive.append(time.perf_counter() - t)
    return {
        "parts": parts,
        "atoms": len(atoms),
        "build_synthetic_s": build_s,
        "rss_mib_after_build": rss_after_build,
        "overlay_first_call_ms": first_s * 1e3,
        "overlay": headline,
        "overlay_blas_threads": blas_threads,
        "overlay_every_pair_median_ms": float(np.median(every_pair) * 1e3),
        "overlay_every_pair_max_ms": float(np.max(every_pair) * 1e3),
        "evaluator_build_ms": evaluator_build_s * 1e3,
        "try_move": percentiles(samples),
        "try_move_touching_an_association": percentiles(touching) if touching else None,
        "naive_apply_moves_plus_overlay": percentiles(naive),
        "peak_rss_mib": peak_rss_mib(),
    }


def worker_memory(parts: int = 329) -> dict:
    """What one server worker holds at ``parts`` atoms per municipality (329: 100,016 atoms): RSS
    after the atoms and the 14 layers are built, and after an overlay of every ordered pair (each
    layer's cached partition and sector data then built, as a worker that has served them all);
    the peak is the process's own ``ru_maxrss`` (interpreter and libraries included)."""
    import gc
    import os

    catalog = load_catalog()
    neighbours = neighbour_lists(adjacency())
    rss_start = rss_mib()
    atoms, layers = subdivide(catalog.atoms, catalog.layers(), parts, perturb=0.0 if parts == 1 else 0.1,
                              neighbours=neighbours, seed=parts)
    gc.collect()
    rss_built = rss_mib()
    membership_mib = sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
                         for m in (layer.membership for layer in layers.values())) / 2**20
    t0 = time.perf_counter()
    for a, b in itertools.product(layers, layers):
        overlay(layers[a], layers[b])
    every_pair_s = time.perf_counter() - t0
    gc.collect()
    return {"parts": parts, "atoms": len(atoms), "layers": len(layers), "rss_mib_catalog_loaded": rss_start,
            "rss_mib_after_build": rss_built, "rss_mib_after_every_pair": rss_mib(),
            "membership_mib": membership_mib, "every_pair_s": every_pair_s, "peak_rss_mib": peak_rss_mib(),
            "load_average": os.getloadavg()}
