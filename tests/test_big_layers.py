"""Big imported layers (issue 13, item 5). An imported grid of squares is handed to the workspace by
its import (the first overlay does not read it back); its stored outlines are parsed only when a
map needs them; its choropleth carries numbers per zone instead of a tooltip and popup text per
zone: the browser composes the tooltip and fetches a clicked zone's members from
``/api/v1/layers/{layer}/zones/{code}``. The browser side is tests/test_big_layers_browser.py.

A small grid and a lowered ``MANY_ZONES`` keep these fast; they assert behaviour, never timings.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import numpy as np
import pytest

from api.settings import get_settings, workspace_for
from benchmarks.grid import grid_geojson
from geo.geometry import zone_polygons
from geo.norms import PopulationNorm, check_population
from geo.overlay import overlay
from geo.store import Store
from geo.workspace import Workspace
from maps import base, choropleth
from maps.choropleth import population_map

SQUARES = 150
SCRIPT_NAME = "Vak </script><script>window.__xss=1</script>"


@pytest.fixture(scope="module")
def grid() -> bytes:
    """About 150 squares over Flanders and Brussels (EPSG:31370); the first one's name is a payload."""
    body = json.loads(grid_geojson(SQUARES))
    body["features"][0]["properties"]["name"] = SCRIPT_NAME
    return json.dumps(body).encode()


@pytest.fixture
def raster(client, grid):
    """The grid imported through the API as layer ``raster``; the workspace the app uses."""
    created = client.post("/api/v1/layers", data={"id": "raster", "name": "Raster"},
                          files={"file": ("raster.geojson", grid, "application/geo+json")})
    assert created.status_code == 201, created.text
    return workspace_for(get_settings())


def _counting(monkeypatch, owner, name: str) -> list:
    calls: list = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args[1:] if owner is Store else args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


# -- the import hands its layer over; other processes parse the outlines only for maps -----------
def test_the_first_overlay_after_an_import_does_not_read_the_layer_back(client, raster, monkeypatch):
    reads = _counting(monkeypatch, Store, "get_layer")
    for b in ("eerstelijnszone", "gemeente"):
        r = client.get("/api/v1/overlay", params={"a": "raster", "b": b})
        assert r.status_code == 200 and r.json()["zones_total"] == len(raster.layer("raster"))
    assert reads == []
    # ... and what it handed over is what any other process reads from the database
    handed = raster.layer("raster")
    fresh = Workspace(raster.catalog, raster.store).layer("raster")
    assert reads == [("raster",)]
    assert fresh is not handed and fresh.kind == handed.kind == "imported"
    assert handed.zones.equals(fresh.zones) and handed.description == fresh.description
    assert (handed.membership != fresh.membership).nnz == 0
    assert handed.polygons.index.equals(fresh.polygons.index)
    assert bool(handed.polygons.geom_equals_exact(fresh.polygons, 0).all())


def test_stored_outlines_are_parsed_only_when_a_map_needs_them(raster, monkeypatch):
    import geo.workspace

    parses = _counting(monkeypatch, geo.workspace, "_read_polygons")
    layer = Workspace(raster.catalog, raster.store).layer("raster")
    result = overlay(layer, raster.layer("eerstelijnszone"))
    assert result.table.sum() > 0 and parses == []
    outlines = zone_polygons(layer, raster.catalog.data_dir)
    assert len(parses) == 1 and set(outlines["code"]) == set(layer.zone_codes)
    zone_polygons(layer, raster.catalog.data_dir)
    assert layer.polygons is layer.polygons and len(parses) == 1


# -- the overlay JSON of an imported grid, written from arrays ----------------------------------------
@pytest.mark.parametrize("params", [
    {"a": "raster", "b": "eerstelijnszone", "limit": 10_000},
    {"a": "eerstelijnszone", "b": "raster"},
    {"a": "raster", "b": "eerstelijnszone_antwerpen_stad", "limit": 10_000},  # Antwerp split by both
    {"a": "raster", "b": "samenwerkingsverbanden", "direction": "b"},  # overlapping zones, seen from B
    {"a": "raster", "b": "gemeente", "weight": "area", "offset": 40, "limit": 30},
], ids=lambda p: "-".join(map(str, p.values())))
def test_the_overlay_json_of_a_grid_is_the_same_as_building_every_zone_as_objects(client, raster, params):
    from tests.test_api import reference_overlay_body

    response = client.get("/api/v1/overlay", params=params)
    assert response.status_code == 200
    options = {k: params[k] for k in ("weight", "direction", "offset", "limit") if k in params}
    assert response.content == reference_overlay_body(raster, params["a"], params["b"], **options)
    if params.get("limit") == 10_000:
        assert len(response.json()["zones"]) == len(raster.layer("raster"))


# -- one zone's members, for the popup --------------------------------------------------------
def test_the_zone_route_gives_the_members_with_their_inhabitants_in_the_zone(client, raster):
    layer = raster.layer("raster")
    table = layer.members()
    split = table.loc[table["share"] < 0.999, "zone_code"].iloc[0]  # a square two municipalities share
    body = client.get(f"/api/v1/layers/raster/zones/{split}").json()
    expected = layer.members(split)
    population = layer.atoms.table["population"]
    assert body["code"] == split and body["name"] == layer.zone_name(split)
    assert body["population_year"] == layer.atoms.population_year
    assert [m["nis_code"] for m in body["members"]] == expected["nis_code"].tolist()
    for member, row in zip(body["members"], expected.itertuples()):
        assert member["name"] == row.municipality and member["share"] == pytest.approx(row.share, abs=1e-6)
        assert member["population"] == round(population[row.nis_code] * row.share)
    assert body["population"] == round(layer.zone_weight()[layer.zone_position(split)])
    missing = client.get("/api/v1/layers/raster/zones/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_zone"


def test_the_zone_route_takes_any_zone_code(client):
    """Codes come from uploads: a '/', '?', '#' or '%' in one reaches the route (URL-encoded)."""
    code = "a/b?c#d%e"
    created = client.post("/api/v1/layers", data={"id": "vreemd"},
                          files={"file": ("vreemd.csv", f'nis_code,zone_code,zone_name\n34022,"{code}",Vreemd\n')})
    assert created.status_code == 201, created.text
    body = client.get("/api/v1/layers/vreemd/zones/" + quote(code, safe="")).json()
    assert body["code"] == code and [m["name"] for m in body["members"]] == ["Kortrijk"]


# -- the choropleth of many zones -------------------------------------------------------------
def _zone_options(html: str) -> dict:
    found = re.search(r"regiomatch\.zoneColumns\([^,]+, [^,]+, (\{.*\})\);", html)
    assert found, "the page draws its zones from columns"
    return json.loads(found.group(1))


def test_a_map_of_many_zones_carries_numbers_per_zone_not_texts(client, raster, monkeypatch):
    layer = raster.layer("raster")
    few = base.render(population_map(layer, None, data_dir=raster.catalog.data_dir, assets="served"))
    # under MANY_ZONES a text per zone, as before; texts travel in a JSON data block
    tip, item = "<b>", "<li>"
    assert "regiomatch.zoneColumns(" not in few and 'id="rm-texts"' in few and tip in few and item in few
    monkeypatch.setattr(choropleth, "MANY_ZONES", SQUARES // 3)
    page = population_map(layer, None, data_dir=raster.catalog.data_dir, assets="served")
    html = base.render(page)
    assert 'id="rm-texts"' not in html and "<li>" not in html
    options = _zone_options(html)
    zones = options["zones"]
    summary = layer.summary().set_index("code")
    assert set(zones["code"]) == set(layer.zone_codes)
    for i, code in enumerate(zones["code"]):
        assert zones["name"][i] == summary.loc[code, "name"]
        assert zones["population"][i] == round(summary.loc[code, "population"])
        assert zones["members"][i] == summary.loc[code, "members"]
    brussels = dict(zip(layer.zone_codes, base.brussels_zones(layer)))
    assert [s == 0 for s in zones["status"]] == [bool(brussels[c]) for c in zones["code"]]
    assert options["words"]["statuses"] == [[choropleth.style.BRUSSELS_NOTE, "rm-muted"]]
    assert options["words"]["population"] == f"inwoners (1/1/{layer.atoms.population_year})"
    assert options["membersUrl"] == "/api/v1/layers/raster/zones/" and "members" not in options
    # the same styles as a map of few zones: one per kind of zone, referenced by number
    assert len(options["styles"]) <= 2 * (len(choropleth._ABOVE) + 1)
    assert all(options["hover"][s] is not None for s in set(zones["style"]))
    # through the route: the page, its image
    served = client.get("/maps/choropleth/raster")
    assert served.status_code == 200 and "regiomatch.zoneColumns(" in served.text
    assert len(served.content) < len(few.encode())
    image = client.get("/maps/choropleth/raster.png")
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_map_of_many_zones_keeps_user_text_out_of_its_script(raster, monkeypatch):
    monkeypatch.setattr(choropleth, "MANY_ZONES", SQUARES // 3)
    layer = raster.layer("raster")
    html = base.render(population_map(layer, None, data_dir=raster.catalog.data_dir, assets="served"))
    assert "</script><script>window.__xss" not in html  # the name cannot end the script
    assert SCRIPT_NAME in _zone_options(html)["zones"]["name"]  # it arrives intact, as JSON text


def test_a_standalone_map_of_many_zones_carries_the_members(raster, monkeypatch):
    """An exported file has no server to ask: it carries each zone's members itself."""
    monkeypatch.setattr(choropleth, "MANY_ZONES", SQUARES // 3)
    layer = raster.layer("raster")
    options = _zone_options(base.render(population_map(layer, None, data_dir=raster.catalog.data_dir,
                                                       assets="inline")))
    assert "membersUrl" not in options
    codes = options["zones"]["code"]
    for code, carried in zip(codes, options["members"]):
        expected = layer.members(code)
        assert [m[0] for m in carried] == expected["nis_code"].tolist()
        assert [m[1] for m in carried] == expected["municipality"].tolist()
        assert np.allclose([m[2] for m in carried], expected["share"], atol=1e-6)


def test_a_map_of_many_zones_says_which_zones_fail_a_norm(raster, monkeypatch):
    """No shipped layer with a norm has that many zones, but a scenario or import might: each zone
    gets its status line, failing zones the red outline, Brussels zones the note (never judged)."""
    monkeypatch.setattr(choropleth, "MANY_ZONES", SQUARES // 3)
    layer = raster.layer("raster")
    norm = PopulationNorm("minstens 2.000 inwoners", 2_000)
    options = _zone_options(base.render(population_map(layer, norm, data_dir=raster.catalog.data_dir,
                                                       assets="served")))
    zones, words = options["zones"], options["words"]
    assert [line for line, _ in words["statuses"]] == [choropleth.style.BRUSSELS_NOTE, "haalt de norm: minstens "
                                                       "2.000 inwoners", "haalt de norm niet: minstens 2.000 inwoners"]
    checked = check_population(layer, norm).set_index("code")["passes"]
    assert 0 < (~checked).sum() < len(checked)  # some squares pass, some fail
    for code, status, st in zip(zones["code"], zones["status"], zones["style"]):
        expected = 0 if code not in checked.index else 1 if checked[code] else 2
        assert status == expected, code
        assert (options["styles"][st]["color"] == choropleth.style.FAIL) == (expected == 2), code
