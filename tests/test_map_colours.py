"""No two neighbouring zones share a colour, and no two layers on one map share one (issue 26, item 5):
over every shipped layer's overlay colouring, every zone report map of the register against its
comparison layers (the Audio report coloured six pairs of its 15 regions alike), and a municipality
map with every shipped layer and imported ones (provinces and an imported layer were one teal)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import shapely

from geo.engine.layer import Layer
from geo.engine.overlay import overlay
from geo.geometry.polygons import zone_polygons
from geo.reference.roles import association_layer, compare_with
from maps import base
from maps.style import LAYER_COLOURS, ZONE_COLOURS

REGISTER = "samenwerkingsverbanden"  # the one shipped layer whose zones overlap (checked below)


def near_pairs(layer: Layer, data_dir, codes: list[str] | None = None) -> list[tuple[str, str]]:
    """Pairs of zones closer than base.NEAR_METRES (touching ones included)."""
    polygons = zone_polygons(layer, data_dir)
    polygons = polygons[polygons.geometry.notna() & ~polygons.geometry.is_empty]
    if codes is not None:
        polygons = polygons[polygons["code"].astype(str).isin(codes)]
    geometry = polygons.geometry.to_numpy()
    left, right = shapely.STRtree(geometry).query(geometry, predicate="dwithin", distance=base.NEAR_METRES)
    names = polygons["code"].astype(str).to_numpy()
    return [(names[a], names[b]) for a, b in zip(left, right) if a < b]


def test_neighbouring_zones_of_every_shipped_layer_differ(catalog):
    for layer in catalog.layers():
        colours = base.zone_colours(layer, catalog.data_dir)
        clashes = [(a, b) for a, b in near_pairs(layer, catalog.data_dir) if colours[a] == colours[b]]
        if layer.id == REGISTER:
            # 286 associations lie over each other: more of them meet at one place than there are colours.
            assert int((layer.membership > 0).sum(axis=1).max()) > len(ZONE_COLOURS)
            continue
        assert clashes == [], (layer.id, clashes[:5])


def test_regio_menen_and_rits_differ_on_the_w13_overlay_map(catalog):
    elz = catalog.layer("eerstelijnszone")
    code = {name: c for c, name in zip(elz.zone_codes, elz.zones["name"])}
    colours = base.zone_colours(elz, catalog.data_dir)
    assert colours[code["Regio Menen"]] != colours[code["RITS"]]


@pytest.mark.parametrize("against", compare_with(association_layer()))
def test_every_register_report_map_colours_neighbouring_regions_apart(catalog, against):
    from maps.zone_map import DOMINANT_COLOUR, zone_colours

    register, other = catalog.layer(REGISTER), catalog.layer(against)
    result = overlay(register, other)
    pairs = set(near_pairs(other, catalog.data_dir))
    checked = 0
    for code in register.zone_codes:
        detail = result.zone_detail(code)
        colours = zone_colours(detail, other, catalog.data_dir)
        touched = list(colours)
        clashes = [(a, b) for a, b in pairs if a in colours and b in colours and colours[a] == colours[b]]
        assert clashes == [], (code, clashes)
        assert list(colours.values()).count(DOMINANT_COLOUR) <= 1
        checked += len(touched) > 1
    assert checked > 50


def test_audio_report_map_of_15_regions(catalog):
    from maps.zone_map import zone_colours

    register, regions = catalog.layer(REGISTER), catalog.layer("referentieregio")
    code = next(c for c, n in zip(register.zone_codes, register.zones["name"]) if n == "Audio")
    colours = zone_colours(overlay(register, regions).zone_detail(code), regions, catalog.data_dir)
    assert len(colours) == 15
    clashes = [(a, b) for a, b in near_pairs(regions, catalog.data_dir) if colours[a] == colours[b]]
    assert clashes == []


def test_no_two_layers_share_a_colour_on_a_municipality_map(catalog):
    from maps.municipality_map import municipality_map

    atoms = catalog.atoms
    imported = [Layer.from_members(f"eigen_{i}", pd.DataFrame({"zone_code": ["Z"], "zone_name": [f"Eigen {i}"],
                                                               "nis_code": [34022], "share": [1.0]}),
                                   atoms, name=f"Eigen laag {i}", kind="imported")
                for i in range(3)]
    html = base.render(municipality_map(34022, [*catalog.layers(), *imported], data_dir=catalog.data_dir))
    drawn = re.findall(r"border:3px (?:solid|dashed) (#[0-9a-fA-F]{6})", html)
    assert len(drawn) >= len(catalog.layers())  # every layer Kortrijk is in, and the imported ones
    assert len(set(drawn)) == len(drawn), drawn
    assert len(set(LAYER_COLOURS)) == len(LAYER_COLOURS)
