"""Every measure recomputed independently (issue 23, point 7): scikit-learn on the sector table.

Random layers are drawn as random groupings of the real statistical sectors: whole municipalities,
municipalities split sector by sector, partial memberships of merged municipalities (a zone with only
some of its 2019-2024 parts) and polygons (municipalities cut in two). Each inhabitant is then a
labelled item (its sector's zone in each layer), and the overlay's table and measures must equal
what scikit-learn and pandas compute from those labels; by area, from the areas of the polygons'
intersections (geopandas), and for partial memberships from the areas of the 2019-2024 parts
(``data/part_areas.csv``, read here with pandas; whole municipalities: their polygons' area).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is missing: pip install 'scikit-learn>=1.4' "
                                                                 "(the test extra)")

from geo.engine.areas import zone_areas  # noqa: E402
from geo.engine.layer import Layer  # noqa: E402
from geo.engine.overlay import overlay  # noqa: E402
from geo.geometry.polygons import municipal_polygons  # noqa: E402
from geo.paths import SHIPPED_DATA  # noqa: E402
from geo.uploads.importing import SLIVER_SHARE, layer_from_polygons  # noqa: E402
from tests.examples import examples  # noqa: E402

ZONES = ["Z1", "Z2", "Z3", "Z4"]
# Merged municipalities of 2025 whose sectors name two or more 2019-2024 parts.
MERGED = [11002, 23106, 37021, 44086, 46030, 71071, 73110]
WHOLE_OR_SPLIT = [11001, 11004, 11005, 11008, 11009, 11013, 12002, 12005, 13001, 13002, 23002, 44021, 73109]


@st.composite
def groupings(draw, catalog):
    """A random layer over some municipalities: per municipality whole, split by sector, or (merged
    ones) partial per 2019-2024 part. Returns the membership table and each sector's zone ('' = none)."""
    sectors = catalog.atoms.sectors
    table = sectors.table
    label = np.full(len(table), "", dtype=object)
    municipalities = draw(st.lists(st.sampled_from(MERGED + WHOLE_OR_SPLIT), min_size=2, max_size=7, unique=True))
    rows = []
    for nis in municipalities:
        index = sectors.of(catalog.atoms.position(nis))
        parts = table["nis_2019_2024"].to_numpy()[index]
        mode = draw(st.sampled_from(["whole", "split", "partial"] if nis in MERGED else ["whole", "split"]))
        if mode == "whole":
            label[index] = draw(st.sampled_from(ZONES))
        elif mode == "split":
            label[index] = draw(st.lists(st.sampled_from(ZONES), min_size=len(index), max_size=len(index)))
        else:
            for part in np.unique(parts):
                label[index[parts == part]] = draw(st.sampled_from(ZONES))
        people = sectors.population[index]
        for zone in sorted(set(label[index])):
            inside = label[index] == zone
            share = people[inside].sum() / people.sum()
            if share <= 0:
                continue
            row = {"zone_code": zone, "zone_name": f"Zone {zone}", "nis_code": nis, "share": min(share, 1.0)}
            if mode == "partial":
                row["parts"] = ";".join(str(p) for p in sorted(set(parts[inside])))
            rows.append(row)
    return pd.DataFrame(rows), label


def build(catalog, name: str, members: pd.DataFrame, label: np.ndarray) -> Layer:
    layer = Layer.from_members(name, members[members["share"] > 0], catalog.atoms)
    return layer.with_sector_zones(label)


def reference(catalog, label_a: np.ndarray, label_b: np.ndarray) -> dict:
    """The measures from the sector table alone: every inhabitant of a sector both layers place."""
    people = catalog.atoms.sectors.population.round().astype(int)
    both = (label_a != "") & (label_b != "") & (people > 0)
    a = np.repeat(label_a[both].astype(str), people[both])
    b = np.repeat(label_b[both].astype(str), people[both])
    crosstab = pd.crosstab(pd.Series(a, name="a"), pd.Series(b, name="b"))
    return measures_of(a, b, crosstab)


def measures_of(a: np.ndarray, b: np.ndarray, crosstab: pd.DataFrame) -> dict:
    mutual = sklearn_metrics.mutual_info_score(a, b) / math.log(2)
    h_a = sklearn_metrics.mutual_info_score(a, a) / math.log(2)
    h_b = sklearn_metrics.mutual_info_score(b, b) / math.log(2)
    totals = crosstab.sum(axis=1)
    nested = totals[crosstab.max(axis=1) >= totals * (1 - 1e-9)].sum() / totals.sum()
    return {"ari": sklearn_metrics.adjusted_rand_score(a, b),
            "nmi": sklearn_metrics.normalized_mutual_info_score(a, b, average_method="arithmetic"),
            "vi": h_a + h_b - 2 * mutual, "nested": nested, "table": crosstab}


def check(result, expected: dict, ari_tolerance: float = 1e-9, tolerance: float = 1e-6) -> None:
    s = result.summary
    assert s.adjusted_rand_index == pytest.approx(expected["ari"], abs=ari_tolerance)
    assert s.normalized_mutual_information == pytest.approx(expected["nmi"], abs=tolerance)
    assert s.variation_of_information == pytest.approx(expected["vi"], abs=tolerance * 10)
    assert s.nested_share == pytest.approx(expected["nested"], abs=tolerance)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_population_measures_equal_scikit_learn_on_the_sectors(catalog, data):
    """Whole, split and partial memberships, drawn over the same municipalities for both layers."""
    members_a, label_a = data.draw(groupings(catalog))
    members_b, label_b = data.draw(groupings(catalog))
    a, b = build(catalog, "a", members_a, label_a), build(catalog, "b", members_b, label_b)
    only = (label_a != "") & (label_b != "")
    if catalog.atoms.sectors.population[only].sum() <= 1:
        return  # no shared inhabitants: the overlay calls the measures undefined (tested elsewhere)
    expected = reference(catalog, label_a, label_b)
    result = overlay(a, b)
    check(result, {**expected, "nested": _nested_in_b(catalog, label_a, label_b)})
    table = pd.DataFrame(result.table.toarray(), index=a.zone_codes, columns=b.zone_codes)
    for (za, zb), count in expected["table"].stack().items():
        assert table.loc[za, zb] == pytest.approx(count, abs=0.5 + 1e-6 * count), (za, zb)
    # Gap: inhabitants B places and A does not.
    people = catalog.atoms.sectors.population
    assert result.summary.gap_weight == pytest.approx(people[(label_b != "") & (label_a == "")].sum(), abs=1.0)


def _nested_in_b(catalog, label_a: np.ndarray, label_b: np.ndarray) -> float:
    """Nested share over every inhabitant A places: an A-zone with people B does not place is not nested."""
    people = catalog.atoms.sectors.population
    frame = pd.DataFrame({"a": label_a, "b": label_b, "people": people})
    frame = frame[(frame["a"] != "") & (frame["people"] > 0)]
    totals = frame.groupby("a")["people"].sum()
    best = frame[frame["b"] != ""].groupby(["a", "b"])["people"].sum().groupby("a").max().reindex(totals.index).fillna(0)
    return float(totals[best >= totals * (1 - 1e-6)].sum() / totals.sum())


@st.composite
def part_groupings(draw):
    """A random layer of whole municipalities and partial memberships: per municipality one zone
    (or none), or (merged ones) per 2019-2024 part one zone or none. Returns the membership table
    and each part's zone as ``{(nis_2025, part): zone}`` ('' = none)."""
    parts = _part_table()
    municipalities = draw(st.lists(st.sampled_from(MERGED + WHOLE_OR_SPLIT), min_size=2, max_size=7, unique=True))
    labels, rows = {}, []
    for nis in municipalities:
        own = parts[parts["nis_2025"] == nis]["nis_2019_2024"].tolist() or [nis]
        if nis in MERGED and draw(st.booleans()):
            zones = draw(st.lists(st.sampled_from(ZONES + [""]), min_size=len(own), max_size=len(own)))
        else:
            zones = [draw(st.sampled_from(ZONES))] * len(own)
        labels.update({(nis, part): zone for part, zone in zip(own, zones)})
        for zone in sorted(set(zones) - {""}):
            inside = [part for part, z in zip(own, zones) if z == zone]
            row = {"zone_code": zone, "zone_name": f"Zone {zone}", "nis_code": nis, "share": 1.0}
            if len(inside) < len(own):
                row["parts"] = ";".join(str(p) for p in inside)
            rows.append(row)
    return pd.DataFrame(rows), labels


def _part_table() -> pd.DataFrame:
    return pd.read_csv(SHIPPED_DATA / "part_areas.csv")


def _item_areas(keys) -> dict:
    """km² of each (2025 municipality, 2019-2024 part): the shipped part's area, or the polygon's."""
    parts = _part_table().set_index(["nis_2025", "nis_2019_2024"])["area_km2"]
    polygons = municipal_polygons().geometry.area / 1e6
    return {key: float(parts[key]) if key in parts.index else float(polygons[key[0]]) for key in keys}


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_partial_memberships_by_area_equal_scikit_learn_on_the_part_areas(catalog, data):
    """By area a partial member covers its parts' area: the table, ARI, NMI, VI, nested share and gap
    equal what scikit-learn and pandas compute with each part's area as the items' weight."""
    members_a, labels_a = data.draw(part_groupings())
    members_b, labels_b = data.draw(part_groupings())
    a = Layer.from_members("a", members_a, catalog.atoms)
    b = Layer.from_members("b", members_b, catalog.atoms)
    keys = sorted(set(labels_a) | set(labels_b))
    area = _item_areas(keys)
    frame = pd.DataFrame({"a": [labels_a.get(k, "") for k in keys], "b": [labels_b.get(k, "") for k in keys],
                          "hectares": [area[k] * 100 for k in keys]})
    result = overlay(a, b, "area")
    # Gap: the area B places and A does not.
    gap = frame[(frame["b"] != "") & (frame["a"] == "")]["hectares"].sum() / 100
    assert result.summary.gap_weight == pytest.approx(gap, abs=1e-3)
    both = frame[(frame["a"] != "") & (frame["b"] != "")]
    if both["hectares"].sum() < 100:
        return  # no shared area: the measures are undefined (tested elsewhere)
    crosstab = both.pivot_table(index="a", columns="b", values="hectares", aggfunc="sum", fill_value=0.0)
    table = pd.DataFrame(result.table.toarray(), index=a.zone_codes, columns=b.zone_codes) * 100
    for (za, zb), hectares in crosstab.stack().items():
        assert table.loc[za, zb] == pytest.approx(hectares, abs=0.1), (za, zb)  # km² to 4 decimals
    placed = frame[frame["a"] != ""]
    totals = placed.groupby("a")["hectares"].sum()
    best = crosstab.max(axis=1).reindex(totals.index).fillna(0.0)
    nested = float(totals[best >= totals * (1 - 1e-6)].sum() / totals.sum())
    counts = np.round(crosstab.to_numpy()).astype(int)
    rows, cols = np.nonzero(counts)
    items_a = np.repeat(crosstab.index.to_numpy()[rows], counts[rows, cols])
    items_b = np.repeat(crosstab.columns.to_numpy()[cols], counts[rows, cols])
    expected = measures_of(items_a, items_b, crosstab)
    rounding = 2 * int(np.count_nonzero(counts)) / max(int(counts.sum()), 1)  # whole hectares as items
    tolerance = max(1e-3, rounding)
    check(result, {**expected, "nested": nested}, ari_tolerance=tolerance, tolerance=tolerance)


@st.composite
def cut_municipalities(draw, catalog):
    """Polygons: some municipalities, each whole or cut in two by a vertical line at a random
    fraction of its width, each piece given a random zone."""
    polygons = municipal_polygons()
    chosen = draw(st.lists(st.sampled_from(WHOLE_OR_SPLIT + MERGED), min_size=2, max_size=5, unique=True))
    pieces, zones = [], []
    for nis in chosen:
        shape = polygons.geometry[nis]
        if draw(st.booleans()):
            minx, miny, maxx, maxy = shape.bounds
            x = minx + (maxx - minx) * draw(st.floats(0.3, 0.7))
            for cut in (box(minx - 1, miny - 1, x, maxy + 1), box(x, miny - 1, maxx + 1, maxy + 1)):
                pieces.append(shape.intersection(cut))
                zones.append(draw(st.sampled_from(ZONES)))
        else:
            pieces.append(shape)
            zones.append(draw(st.sampled_from(ZONES)))
    frame = gpd.GeoDataFrame({"zone": zones}, geometry=pieces, crs=31370).dissolve(by="zone", as_index=False)
    return gpd.GeoDataFrame({"code": frame["zone"], "name": "Zone " + frame["zone"]}, geometry=frame.geometry, crs=31370)


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_polygon_layers_by_population_and_by_area_equal_scikit_learn(catalog, data):
    frame_a, frame_b = data.draw(cut_municipalities(catalog)), data.draw(cut_municipalities(catalog))
    a = layer_from_polygons("pa", frame_a.to_json().encode(), "a.geojson", catalog)
    b = layer_from_polygons("pb", frame_b.to_json().encode(), "b.geojson", catalog)
    # By population: each sector's inhabitants go to the polygon holding its centroid.
    points = gpd.GeoSeries(gpd.points_from_xy(*catalog.atoms.sectors.xy.T), crs=31370)
    label_a, label_b = (_containing(points, frame) for frame in (frame_a, frame_b))
    # A zone holding no inhabited sector centroid (half of Baarle-Hertog's enclaves) gets, as the
    # importer states, its area share of each municipality's inhabitants: people that the centroid
    # labelling gives to another zone or to none, so no partition of the sectors (what scikit-learn
    # compares) reproduces it. There each stated share is checked instead: the centroids' share of
    # the inhabitants, or for such a zone the polygon's share of the municipality's area.
    fallback = [(layer, frame, label) for layer, frame, label in ((a, frame_a, label_a), (b, frame_b, label_b))
                if layer.weighting != "population"]
    for layer, frame, label in fallback:
        _check_stated_shares(catalog, layer, frame, label)
    event("population: stated shares checked (area fallback)" if fallback else "population: scikit-learn")
    if not fallback and catalog.atoms.sectors.population[(label_a != "") & (label_b != "")].sum() > 1:
        result = overlay(a, b)
        expected = reference(catalog, label_a, label_b)
        check(result, {**expected, "nested": _nested_in_b(catalog, label_a, label_b)})
    # By area: the areas of the polygons' intersections, in hectares as items for the pair counts.
    pieces = gpd.overlay(frame_a.rename(columns={"code": "a"})[["a", "geometry"]],
                         frame_b.rename(columns={"code": "b"})[["b", "geometry"]], how="intersection",
                         keep_geom_type=True)
    pieces = pieces.assign(hectares=pieces.geometry.area / 1e4)
    crosstab = pieces.pivot_table(index="a", columns="b", values="hectares", aggfunc="sum", fill_value=0.0)
    if crosstab.to_numpy().sum() < 100:
        return
    result = overlay(a, b, "area")
    table = pd.DataFrame(result.table.toarray(), index=a.zone_codes, columns=b.zone_codes) * 100  # km² -> ha
    for (za, zb), hectares in crosstab.stack().items():
        assert table.loc[za, zb] == pytest.approx(hectares, rel=1e-5, abs=1e-2), (za, zb)  # km² to 4 decimals
    counts = np.round(crosstab.to_numpy()).astype(int)
    rows, cols = np.nonzero(counts)
    items_a = np.repeat(crosstab.index.to_numpy()[rows], counts[rows, cols])
    items_b = np.repeat(crosstab.columns.to_numpy()[cols], counts[rows, cols])
    area_totals = (frame_a.set_index("code").geometry.area / 1e4).to_dict()  # every A-zone, also outside B
    nested = sum(t for z, t in area_totals.items()
                 if z in crosstab.index and crosstab.loc[z].max() >= t * (1 - 1e-6)) / sum(area_totals.values())
    expected = measures_of(items_a, items_b, crosstab)
    # Hectares as countable items: rounding each cell to whole hectares moves the pair-counting
    # measures by about (cells / hectares); the table itself is checked to 1e-5 above.
    rounding = 2 * int(np.count_nonzero(counts)) / max(int(counts.sum()), 1)
    tolerance = max(1e-3, rounding)
    check(result, {**expected, "nested": nested}, ari_tolerance=tolerance, tolerance=tolerance)


def _containing(points: gpd.GeoSeries, frame: gpd.GeoDataFrame) -> np.ndarray:
    label = np.full(len(points), "", dtype=object)
    for code, shape in zip(frame["code"], frame.geometry):
        label[points.within(shape).to_numpy()] = code
    return label


def _check_stated_shares(catalog, layer, frame: gpd.GeoDataFrame, label: np.ndarray) -> None:
    sectors = catalog.atoms.sectors
    people = sectors.population
    populated = set(label[people > 0]) - {""}
    municipalities = municipal_polygons().geometry
    shapes = frame.set_index("code").geometry

    def area_share(zone: str, nis: int) -> float:
        muni = municipalities[nis]
        share = shapes[zone].intersection(muni).area / muni.area
        return 1.0 if share > 1 - SLIVER_SHARE else share

    members = layer.members()
    # What the zones on the fallback take of each municipality: its other zones keep the rest.
    taken = {nis: min(sum(area_share(row.zone_code, nis) for row in group.itertuples()
                          if row.zone_code not in populated), 1.0)
             for nis, group in members.groupby("nis_code")}
    for row in members.itertuples():
        if row.zone_code in populated:
            index = sectors.of(catalog.atoms.position(row.nis_code))
            expected = people[index][label[index] == row.zone_code].sum() / people[index].sum()
            expected *= 1.0 - taken[row.nis_code]
        else:
            expected = area_share(row.zone_code, row.nis_code)
        assert row.share == pytest.approx(expected, abs=1e-6), (row.zone_code, row.nis_code)
    # Nobody is counted twice: a municipality's shares add up to at most 1.
    assert members.groupby("nis_code")["share"].sum().max() <= 1.0 + 1e-9


def test_a_cut_where_nobody_lives_is_still_a_cut_by_area(catalog):
    """Baarle-Hertog cut at half its width: every inhabited sector centroid lies in the east half,
    so by population each zone holds whole municipalities (shares of 1), yet by area the west half's
    30 % of the land is zone Z2's. The imported layer keeps its polygons for the area overlay: it
    counted all of Baarle-Hertog's 7.42 km² in Z1 (found by the property test above)."""
    baarle = municipal_polygons().geometry[13002]
    minx, miny, maxx, maxy = baarle.bounds
    middle = (minx + maxx) / 2
    west, east = (baarle.intersection(box(*cut)) for cut in ((minx - 1, miny - 1, middle, maxy + 1),
                                                              (middle, miny - 1, maxx + 1, maxy + 1)))
    aartselaar = municipal_polygons().geometry[11001]
    frame_a = gpd.GeoDataFrame({"code": ["Z1", "Z2"], "name": ["Oost", "West"]},
                               geometry=[east, aartselaar.union(west)], crs=31370)
    frame_b = gpd.GeoDataFrame({"code": ["Z1"], "name": ["Alles"]}, geometry=[aartselaar.union(baarle)], crs=31370)
    a = layer_from_polygons("pa", frame_a.to_json().encode(), "a.geojson", catalog)
    b = layer_from_polygons("pb", frame_b.to_json().encode(), "b.geojson", catalog)
    assert set(a.members()["share"]) == {1.0}
    result = overlay(a, b, "area")
    table = pd.DataFrame(result.table.toarray(), index=a.zone_codes, columns=b.zone_codes)
    assert table.loc["Z1", "Z1"] == pytest.approx(east.area / 1e6, abs=1e-4)
    assert table.loc["Z2", "Z1"] == pytest.approx((aartselaar.area + west.area) / 1e6, abs=1e-4)
    assert zone_areas(a) == pytest.approx([east.area / 1e6, (aartselaar.area + west.area) / 1e6], abs=1e-4)
    assert a.polygons is not None
