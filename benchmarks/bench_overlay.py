"""Measure 1: overlay of every pair of shipped layers, regiomatch engine vs. geopandas.overlay.

The engine: ``geo.engine.overlay.overlay(a, b)``: the population contingency table plus every
whole-layer measure (nested share, ARI, VI, NMI, gap, overlap), per ordered pair.

The alternative, as a GIS user would do it with the same data: the zones of each layer
dissolved from the municipal polygons once (``geo.geometry.polygons.zone_polygons``, untimed, like the
engine's loaded layers); then per pair, timed:

1. ``gpd.overlay(zones_a, zones_b, how="intersection")`` and the area of each piece per
   (A-zone, B-zone): the area table;
2. ``gpd.overlay(pieces, municipalities, how="intersection")`` and each piece's population by
   areal interpolation (municipal population x piece area / municipal polygon area), summed
   per (A-zone, B-zone): the population table the engine gives.

No measures are computed on the geopandas side: it is timed for less work than the engine.
"""

from __future__ import annotations

import itertools
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from benchmarks.common import peak_rss_mib, percentiles, repeat, rss_mib
from geo.engine.overlay import overlay
from geo.geometry.polygons import municipal_polygons, zone_polygons
from geo.reference.catalog import load_catalog

QUICK_PAIRS = [("samenwerkingsverband", "eerstelijnszone"), ("eerstelijnszone", "politiezone"),
               ("referentieregio", "eerstelijnszone"), ("gezondheidsmakers", "vervoerregio"),
               ("provincie", "arrondissement"), ("woonmaatschappij", "igs_woonbeleid")]


def geopandas_pair(za: gpd.GeoDataFrame, zb: gpd.GeoDataFrame, munis: gpd.GeoDataFrame) -> tuple[dict, pd.Series]:
    """The GIS way, timed in its two steps; returns timings and the population table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        pieces = gpd.overlay(za, zb, how="intersection", keep_geom_type=True)
        pieces["area_km2"] = pieces.geometry.area / 1e6
        area_table = pieces.groupby(["code_1", "code_2"])["area_km2"].sum()
        t1 = time.perf_counter()
        fine = gpd.overlay(pieces[["code_1", "code_2", "geometry"]], munis, how="intersection", keep_geom_type=True)
        fine["population_part"] = fine["population"] * fine.geometry.area / fine["muni_area"]
        population_table = fine.groupby(["code_1", "code_2"])["population_part"].sum()
        t2 = time.perf_counter()
    return ({"area_table_s": t1 - t0, "population_table_s": t2 - t0, "pieces": len(pieces), "fine_pieces": len(fine),
             "area_cells": len(area_table)}, population_table)


def point_join_pair(za: gpd.GeoDataFrame, zb: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> tuple[float, pd.Series]:
    """The population-weighted point join: each municipality's representative point joined to the
    zones of A and of B (``geopandas.sjoin``), its inhabitants summed per (A-zone, B-zone). Exact
    for layers made of whole municipalities, the fastest GIS answer; returns seconds and the table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        in_a = gpd.sjoin(points, za, how="inner", predicate="within")[["nis_code", "population", "code"]]
        in_b = gpd.sjoin(points, zb, how="inner", predicate="within")[["nis_code", "code"]]
        joined = in_a.merge(in_b, on="nis_code", suffixes=("_1", "_2"))
        table = joined.groupby(["code_1", "code_2"])["population"].sum()
        seconds = time.perf_counter() - t0
    return seconds, table


def municipality_points(munis: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One point inside each municipality (``representative_point``) with its population."""
    return gpd.GeoDataFrame(munis[["nis_code", "population"]], geometry=munis.geometry.representative_point(),
                            crs=munis.crs)


def agreement(engine_table: np.ndarray, a_codes: list[str], b_codes: list[str], gis: pd.Series) -> float:
    """Share of the engine's table weight that the GIS table puts elsewhere (0 = identical)."""
    gis_table = np.zeros_like(engine_table)
    ai = {c: i for i, c in enumerate(a_codes)}
    bi = {c: j for j, c in enumerate(b_codes)}
    for (a, b), value in gis.items():
        gis_table[ai[str(a)], bi[str(b)]] += value
    total = engine_table.sum()
    return float(np.abs(gis_table - engine_table).sum() / 2.0 / total) if total else 0.0


def measure(quick: bool = False) -> dict:
    catalog = load_catalog()
    ids = catalog.layer_ids()
    layers = {i: catalog.layer(i) for i in ids}

    engine: dict[str, dict] = {}
    started = time.perf_counter()
    for a, b in itertools.product(ids, ids):
        samples = repeat(lambda: overlay(layers[a], layers[b]), min_runs=20, min_seconds=0.03)
        engine[f"{a}|{b}"] = percentiles(samples)
    engine_seconds = time.perf_counter() - started

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zones = {i: zone_polygons(layers[i])[["code", "geometry"]].dropna(subset=["geometry"]) for i in ids}
    munis = municipal_polygons().reset_index()[["nis_code", "geometry"]]
    munis["population"] = munis["nis_code"].map(catalog.atoms.table["population"]).astype(float)
    munis["muni_area"] = munis.geometry.area
    prepare_s = time.perf_counter() - t0

    pairs = QUICK_PAIRS if quick else list(itertools.combinations(ids, 2))
    points = municipality_points(munis)
    point_rows = []
    for a, b in itertools.product(ids, ids):  # every ordered pair, as the engine
        seconds = min(point_join_pair(zones[a], zones[b], points)[0] for _ in range(3))
        engine_ms = engine[f"{a}|{b}"]["median_ms"]
        point_rows.append({"a": a, "b": b, "engine_ms": engine_ms, "point_join_ms": seconds * 1e3,
                           "ratio": seconds * 1e3 / engine_ms})
    point_frame = pd.DataFrame(point_rows)
    rows = []
    for a, b in pairs:
        timing, population_table = geopandas_pair(zones[a], zones[b], munis)
        result = overlay(layers[a], layers[b])
        engine_ms = engine[f"{a}|{b}"]["median_ms"]
        rows.append({
            "a": a, "b": b, "engine_ms": engine_ms,
            "geopandas_area_ms": timing["area_table_s"] * 1e3,
            "geopandas_population_ms": timing["population_table_s"] * 1e3,
            "ratio_area": timing["area_table_s"] * 1e3 / engine_ms,
            "ratio_population": timing["population_table_s"] * 1e3 / engine_ms,
            "pieces": timing["pieces"], "fine_pieces": timing["fine_pieces"],
            "population_misplaced_share": agreement(result.table.toarray(), layers[a].zone_codes, layers[b].zone_codes,
                                                    population_table),
        })
    frame = pd.DataFrame(rows)
    engine_medians = np.array([v["median_ms"] for v in engine.values()])
    return {
        "what": "overlay of every ordered pair with the engine (table + all measures); geopandas on every "
                "unordered pair of distinct layers (its (B, A) is the same work transposed)",
        "layers": ids,
        "engine_pairs": len(engine),
        "engine_total_s": engine_seconds,
        "engine_median_ms_over_pairs": float(np.median(engine_medians)),
        "engine_max_ms_over_pairs": float(engine_medians.max()),
        "engine": engine,
        "geopandas_prepare_dissolve_s": prepare_s,
        "geopandas_pairs": len(rows),
        "geopandas_median_area_ms": float(frame["geopandas_area_ms"].median()),
        "geopandas_median_population_ms": float(frame["geopandas_population_ms"].median()),
        "geopandas_total_s": float(frame["geopandas_population_ms"].sum() / 1e3),
        "ratio_population_median": float(frame["ratio_population"].median()),
        "ratio_population_min": float(frame["ratio_population"].min()),
        "ratio_area_median": float(frame["ratio_area"].median()),
        "ratio_area_min": float(frame["ratio_area"].min()),
        "pairs_at_least_100x": int((frame["ratio_area"] >= 100).sum()),
        "population_misplaced_share_median": float(frame["population_misplaced_share"].median()),
        "population_misplaced_share_max": float(frame["population_misplaced_share"].max()),
        "pairs": rows,
        "point_join": {
            "what": "population-weighted join of municipality points (representative_point) to the zones of A "
                    "and of B, summed per cell; best of 3 per ordered pair",
            "pairs": len(point_frame), "median_ms": float(point_frame["point_join_ms"].median()),
            "ratio_median": float(point_frame["ratio"].median()), "ratio_min": float(point_frame["ratio"].min()),
            "pairs_at_least_20x": int((point_frame["ratio"] >= 20).sum()),
            "slowest_engine_pair": point_frame.sort_values("ratio").iloc[0].to_dict(),
            "rows": point_rows,
        },
        "rss_mib_end": rss_mib(),
        "peak_rss_mib": peak_rss_mib(),
    }
