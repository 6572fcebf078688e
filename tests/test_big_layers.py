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

from api.settings import workspace_for
from benchmarks.grid import grid_geojson
from geo import dutch
from geo.engine.overlay import overlay
from geo.geometry.polygons import zone_polygons
from geo.reference.norms import PopulationNorm, check_population
from geo.storage.store import Store
from geo.storage.workspace import Workspace
from maps import base, choropleth
from maps.choropleth import population_map
from maps.overlay_map import _unit, _zone_summary_html, overlay_map

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
    return workspace_for(client.app.state.settings)


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
    import geo.storage.workspace

    parses = _counting(monkeypatch, geo.storage.workspace, "_read_polygons")
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
    monkeypatch.setattr(base, "MANY_ZONES", SQUARES // 3)
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
    assert zones["tip"] == [1 if brussels[c] else 0 for c in zones["code"]]  # Brussels: the template with its note
    population = f"inwoners (1/1/{layer.atoms.population_year})"
    numbers = [["", ["int", "population"], " " + population], ["", ["count", "members", "gemeente", "gemeenten"]]]
    assert options["tips"]["lines"] == [numbers, numbers + [["rm-muted", choropleth.style.BRUSSELS_NOTE]]]
    assert options["words"]["population"] == population
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
    monkeypatch.setattr(base, "MANY_ZONES", SQUARES // 3)
    layer = raster.layer("raster")
    html = base.render(population_map(layer, None, data_dir=raster.catalog.data_dir, assets="served"))
    assert "</script><script>window.__xss" not in html  # the name cannot end the script
    assert SCRIPT_NAME in _zone_options(html)["zones"]["name"]  # it arrives intact, as JSON text


def test_a_standalone_map_of_many_zones_carries_the_members(raster, monkeypatch):
    """An exported file has no server to ask: it carries each zone's members itself."""
    monkeypatch.setattr(base, "MANY_ZONES", SQUARES // 3)
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
    monkeypatch.setattr(base, "MANY_ZONES", SQUARES // 3)
    layer = raster.layer("raster")
    norm = PopulationNorm("minstens 2.000 inwoners", 2_000)
    options = _zone_options(base.render(population_map(layer, norm, data_dir=raster.catalog.data_dir,
                                                       assets="served")))
    zones, lines = options["zones"], options["tips"]["lines"]
    assert [template[2:] for template in lines] == [
        [], [["rm-muted", choropleth.style.BRUSSELS_NOTE]], [["", "haalt de norm: minstens 2.000 inwoners"]],
        [["rm-warn", "haalt de norm niet: minstens 2.000 inwoners"]]]
    checked = check_population(layer, norm).set_index("code")["passes"]
    assert 0 < (~checked).sum() < len(checked)  # some squares pass, some fail
    for code, tip, st in zip(zones["code"], zones["tip"], zones["style"]):
        expected = 1 if code not in checked.index else 2 if checked[code] else 3
        assert tip == expected, code
        assert (options["styles"][st]["color"] == choropleth.style.FAIL) == (expected == 3), code


# -- the overlay maps of a layer of many zones ----------------------------------------------------------
MANY_FOR_OVERLAYS = SQUARES // 2  # the grid counts as many zones, the 57 primary care zones do not
def _overlay_calls(html: str) -> dict[str, list[dict]]:
    """The options of every layer the page draws, by loader (geo, zoneColumns)."""
    calls: dict[str, list[dict]] = {}
    for loader, options in re.findall(r"regiomatch\.(geo|zoneColumns)\([^,]+, [^,]+, (\{.*\})\);", html):
        calls.setdefault(loader, []).append(json.loads(options))
    return calls


def _composed(options: dict, i: int) -> list[str]:
    """The lines of zone ``i``'s tooltip as regiomatch.zoneColumns writes them (read in the browser
    by tests/test_big_layers_browser.py)."""
    zones, tips = options["zones"], options["tips"]

    def part(p) -> str:
        if isinstance(p, str):
            return p
        value = zones[p[1]][i]
        return {"int": lambda: dutch.number(value), "pct": lambda: f"{dutch.number(value, 1)} %",
                "count": lambda: f"{dutch.number(value)} {p[2] if value == 1 else p[3]}",
                "pick": lambda: tips["lists"][p[2]][value]}.get(p[0], lambda: str(value))()

    lines = [f"{zones['name'][i]} ({zones['code'][i]}{tips['note']})"]
    return lines + ["".join(part(p) for p in line[1:]) for line in tips["lines"][zones["tip"][i]]]


def _lines(html: str) -> list[str]:
    """The text lines of an HTML fragment (what innerText gives for ours)."""
    import html as html_module

    return [html_module.unescape(re.sub(r"<[^>]+>", "", line)) for line in re.split(r"<br>|<hr>", html)]


def test_an_overlay_map_of_many_zones_carries_numbers_per_zone_and_fetches_its_texts(client, raster, monkeypatch):
    """The grid's squares as outlines: no text per square in the page. Each square's tooltip is
    composed from its numbers in the words of its summary; its summary and a municipality's popup
    (which names up to eight squares) are fetched on click."""
    layer, elz = raster.layer("raster"), raster.layer("eerstelijnszone")
    result = overlay(layer, elz)
    few = base.render(overlay_map(result, data_dir=raster.catalog.data_dir, assets="served"))
    monkeypatch.setattr(base, "MANY_ZONES", MANY_FOR_OVERLAYS)
    html = base.render(overlay_map(result, data_dir=raster.catalog.data_dir, assets="served"))
    assert len(html) < len(few)
    outlines = _overlay_calls(html)["zoneColumns"][0]
    zones = outlines["zones"]
    assert outlines["interactive"] and outlines["pane"] == "outlines"
    assert set(zones["code"]) == set(zone_polygons(layer, raster.catalog.data_dir)["code"])
    details = {d.code: d for d in result.details()}
    unit = _unit(result)
    templates = set()
    # against the primary care zones (each square in one or more) and the four associations (most in none)
    for other in (result, overlay(layer, raster.layer("samenwerkingsverband"))):
        page = base.render(overlay_map(other, data_dir=raster.catalog.data_dir, assets="served"))
        columns = _overlay_calls(page)["zoneColumns"][0]
        by_code = {d.code: d for d in other.details()}
        for i, code in enumerate(columns["zones"]["code"]):
            short = _zone_summary_html(by_code[code], other, unit, short=True)
            assert _composed(columns, i) == _lines(short), code
            assert json.dumps(short)[1:-1] not in page  # not carried
        templates |= set(columns["zones"]["tip"])
    assert templates == {0, 1, 2}  # squares in no zone, inside one, split over several
    assert SCRIPT_NAME in zones["name"] and "</script><script>window.__xss" not in html
    assert outlines["popups"]["url"] == "/maps/overlay/zone?a=raster&b=eerstelijnszone&code="
    split = next(code for code, tip in zip(zones["code"], zones["tip"]) if tip == 2)
    summary = client.get("/maps/overlay/zone", params={"a": "raster", "b": "eerstelijnszone", "code": split})
    assert summary.status_code == 200 and summary.text == _zone_summary_html(details[split], result, unit)
    # the municipalities: tooltips carried, popups fetched
    munis = next(o for o in _overlay_calls(html)["geo"] if o["pane"] == "municipalities")
    assert all(row[3] is None and row[2] is not None for row in munis["table"].values())
    assert munis["popups"]["url"] == "/maps/overlay/municipality?a=raster&b=eerstelijnszone&nis="
    popup = client.get("/maps/overlay/municipality", params={"a": "raster", "b": "eerstelijnszone", "nis": 34025})
    assert popup.status_code == 200 and popup.headers["content-type"].startswith("text/html")
    squares = layer.zones_of(34025)
    assert popup.text.startswith('<div class="rm-popup"><h4>Lendelede <span class="rm-muted">(NIS 34025)</span></h4>')
    for code, _, _ in squares[:base.MAX_ZONES_NAMED]:
        assert _zone_summary_html(details[code], result, unit, short=True) + "<hr>" in popup.text
    assert "RITS" in popup.text and "(elz40, Eerstelijnszones)" in popup.text
    missing = client.get("/maps/overlay/municipality", params={"a": "raster", "b": "eerstelijnszone", "nis": 99999})
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_nis_code"
    # through the route, and its image (drawn from the same frames)
    page = client.get("/maps/overlay", params={"a": "raster", "b": "eerstelijnszone"})
    assert page.status_code == 200 and "/maps/overlay/municipality?" in page.text
    image = client.get("/maps/overlay.png", params={"a": "raster", "b": "eerstelijnszone"})
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_overlay_map_over_many_zones_draws_their_fills_from_a_column_of_styles(raster, monkeypatch):
    layer, elz = raster.layer("raster"), raster.layer("eerstelijnszone")
    monkeypatch.setattr(base, "MANY_ZONES", MANY_FOR_OVERLAYS)
    html = base.render(overlay_map(overlay(elz, layer), data_dir=raster.catalog.data_dir, assets="served"))
    fills = _overlay_calls(html)["zoneColumns"][0]
    assert fills["pane"] == "fills" and fills["interactive"] is False
    assert set(fills["zones"]) == {"code", "style"} and "tips" not in fills and "popups" not in fills
    colours = base.zone_colours(layer, raster.catalog.data_dir)
    brussels = dict(zip(layer.zone_codes, base.brussels_zones(layer)))
    for code, st in zip(fills["zones"]["code"], fills["zones"]["style"]):
        expected = base.style.BRUSSELS_FILL if brussels[code] else colours[code]
        assert fills["styles"][st]["fillColor"] == expected, code
    assert len(fills["styles"]) <= len(base.style.ZONE_COLOURS) + 1  # one style per colour
    munis = next(o for o in _overlay_calls(html)["geo"] if o["pane"] == "municipalities")
    assert munis["popups"]["url"] == "/maps/overlay/municipality?a=eerstelijnszone&b=raster&nis="
    # A standalone file has no server to ask: it carries every text, as before.
    inline = base.render(overlay_map(overlay(layer, elz), data_dir=raster.catalog.data_dir, assets="inline"))
    assert "regiomatch.zoneColumns(" not in inline and "/maps/overlay/" not in inline
