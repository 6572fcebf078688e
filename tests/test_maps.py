"""Structural checks of the maps: what they draw, hatch, flag and say, that they load nothing
from the internet, credit the data and stay small. The browser test is tests/test_maps_browser.py."""

from __future__ import annotations

import html
import html as html_module
import json
import re
from pathlib import Path

import folium
import pytest

from api.cli import main as cli_main
from geo.engine.overlay import overlay
from geo.engine.scenario import Move, apply_moves, moved
from geo.paths import ATTRIBUTION
from geo.reference.catalog import load_catalog
from geo.reference.norms import NORM_LINES, ZONE_MINIMUM_60K, PopulationNorm, check_population
from maps import render, style
from maps.choropleth import population_classes, population_map
from maps.municipality_map import municipality_map
from maps.overlay_map import overlay_map
from maps.scenario_map import scenario_map

# Golden figures of 1 January 2020 (Statbel's municipal count): pinned, see conftest.GOLDEN_YEAR.
pytestmark = pytest.mark.usefixtures("population_2020")


@pytest.fixture(scope="module")
def catalog(catalog_2020):
    return catalog_2020

# Served pages carry styles and texts only; the geometry comes once from /api/v1/geometry.
MAX_HTML_BYTES = 400_000
W13_MOVES = [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 34002, "to_zone": "elz18"},
             {"nis_code": 34040, "to_zone": "elz18"}, {"nis_code": 34043, "to_zone": "elz18"}]


def geojson_layers(root) -> dict[str, list[folium.FeatureGroup]]:
    """Every regiomatch feature layer under a map or figure, by (unescaped) layer name."""
    found: dict[str, list[folium.FeatureGroup]] = {}

    def walk(element) -> None:
        for child in element._children.values():
            if hasattr(child, "rm_table"):
                found.setdefault(html.unescape(child.layer_name), []).append(child)
            walk(child)

    walk(root)
    return found


def _text(layer, ref):
    if ref is None:
        return None
    if isinstance(ref, list):
        return "".join(layer.rm_texts[i] for i in ref)
    return layer.rm_texts[ref]


def features(root, name: str) -> dict[str, dict]:
    """What each feature of a layer gets, by id, as GeoJSON-like ``properties`` (style, hover, tip, pop)."""
    out = {}
    for layer in geojson_layers(root)[name]:
        for ident, (st, hv, tip, pop) in layer.rm_table.items():
            props = {"_style": layer.rm_styles[st] if st is not None else None,
                     "_hover": layer.rm_styles[hv] if hv is not None else None,
                     "_tip": _text(layer, tip), "_pop": _text(layer, pop)}
            out[ident] = {"id": ident, "properties": {k: v for k, v in props.items() if v is not None}}
    return out


def resource_urls(html: str) -> list[str]:
    """What the page would fetch (``data:`` URIs are inside the page already)."""
    found = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
    return [url for url in found if not url.startswith("data:")]


@pytest.fixture(scope="module")
def sv_elz(catalog):
    return overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))


# -- overlay map ------------------------------------------------------------------------------
def test_overlay_map_hatches_exactly_the_members_outside_their_dominant_zone(catalog, sv_elz):
    m = overlay_map(sv_elz)
    expected = {str(mb.nis_code) for d in sv_elz.details() for mb in d.members_outside_dominant}
    hatched = features(m, "Gemeenten buiten de dominante zone")
    assert set(hatched) == expected
    assert {"33029", "34027"} <= set(hatched)  # Wervik and Menen: W13 members in other zones
    assert all(f["properties"]["_style"]["fillColor"] == style.HATCH_FILL for f in hatched.values())
    # B as fills (one per zone with an outline), A as unfilled bold outlines
    fills = features(m, "Eerstelijnszones (vlakken)")
    assert set(fills) == set(catalog.layer("eerstelijnszone").zone_codes)
    outlines = features(m, "Intergemeentelijke samenwerkingsverbanden (welzijn) (randen)")
    assert set(outlines) == {"NETELAND", "W13", "WRNL", "WZK"}  # on the pinned date: ISOM ended in 2018
    assert all(f["properties"]["_style"]["fill"] is False for f in outlines.values())


def test_overlay_map_tooltip_gives_municipality_nis_population_and_both_zones(catalog, sv_elz):
    munis = features(overlay_map(sv_elz), "Gemeenten")
    assert len(munis) == len(catalog.atoms)
    tip = munis["33029"]["properties"]["_tip"]
    assert "Wervik" in tip and "NIS 33029" in tip
    assert style.nl_int(catalog.atoms.population(33029)) + " inwoners (1/1/2020)" in tip
    assert "Welzijnsvereniging W13" in tip
    (code, name, _), = catalog.layer("eerstelijnszone").zones_of(33029)
    assert name in tip and code in tip
    assert "buiten de dominante zone van W13" in tip
    # the popup carries the zone summary of the municipality's association
    assert "37,1 % in Kortrijk-Kuurne-Harelbeke" in munis["33029"]["properties"]["_pop"]
    # a municipality in no association says so and is not hatched
    assert "in geen zone" in munis["44021"]["properties"]["_tip"]  # Gent


def test_brussels_is_grey_and_never_hatched(catalog, sv_elz):
    result = overlay(catalog.layer("eerstelijnszone"), catalog.layer("politiezone"))
    outside = {mb.nis_code for d in result.details() for mb in d.members_outside_dominant}
    brussels = set(catalog.atoms.nis_codes[~catalog.atoms.flemish].astype(int))
    assert outside & brussels, "Brussels municipalities are outside their dominant police zone in the data"
    hatched = {int(i) for i in features(overlay_map(result), "Gemeenten buiten de dominante zone")}
    assert hatched == outside - brussels
    fills = features(overlay_map(sv_elz), "Eerstelijnszones (vlakken)")
    grey = [c for c, f in fills.items() if f["properties"]["_style"]["fillColor"] == style.BRUSSELS_FILL]
    assert len(grey) == 1 and "Bruzel" in catalog.layer("eerstelijnszone").zone_name(grey[0])


def test_focus_zooms_to_one_zone_and_names_its_members(sv_elz):
    html = render(overlay_map(sv_elz, focus="W13"))
    bounds = re.search(r"regiomatch\.fit\([\w_]+, \[\[([\d.]+), ([\d.]+)\], \[([\d.]+), ([\d.]+)\]\]", html)
    south, west, north, east = map(float, bounds.groups())
    assert 50.6 < south < north < 51.0 and 2.8 < west < east < 3.6  # Zuid-West-Vlaanderen, not all Flanders
    assert "37,1 % in Kortrijk-Kuurne-Harelbeke (elz18)" in html
    assert "Wervik" in html and "Regio Waregem (elz50): 34,9 %" in html


def test_focus_on_unknown_zone_is_refused(sv_elz):
    from geo.errors import UnknownZone

    with pytest.raises(UnknownZone, match="XX"):
        overlay_map(sv_elz, focus="XX")


# -- municipality map -------------------------------------------------------------------------
def test_municipality_map_lists_every_zone_layer_by_layer(catalog):
    m = municipality_map(34022, catalog.layers())
    html = render(m)
    groups = [html_module.unescape(c.layer_name) for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    for layer in catalog.layers():
        if layer.id == "gemeente":
            continue
        zones = layer.zones_of(34022)
        if zones:
            assert any(g.startswith(f"{layer.name}: ") and zones[0][1] in g for g in groups), layer.id
        else:
            assert style.esc(f"{layer.name}: in geen zone") in html
    assert "Kortrijk: van welke structuren" in html and "77.109 inwoners (1/1/2020)" in html
    assert set(features(m, "Kortrijk")) == {"34022"}


def test_municipality_map_unknown_nis_code_is_refused(catalog):
    from geo.errors import UnknownMunicipality

    with pytest.raises(UnknownMunicipality, match="99999"):
        municipality_map(99999, catalog.layers())


# -- choropleth -------------------------------------------------------------------------------
def test_population_classes_put_the_norms_on_class_boundaries():
    edges, colours = population_classes(NORM_LINES)
    assert edges == [30000.0, 60000.0, 100000.0, 200000.0] and len(colours) == 5
    edges, colours = population_classes([75000, 125000, 60000])
    assert edges == [30000.0, 60000.0, 75000.0, 125000.0, 250000.0] and len(colours) == len(edges) + 1


def test_choropleth_colours_by_class_flags_norm_failures_and_shows_norms(catalog):
    layer = catalog.layer("eerstelijnszone")
    norm = PopulationNorm("minstens 100.000 inwoners", 100_000)
    m = population_map(layer, norm)
    zones = features(m, "Eerstelijnszones (inwoners)")
    failing = set(check_population(layer, norm).query("not passes")["code"])
    assert failing, "some primary care zones have fewer than 100.000 inhabitants"
    flagged = {c for c, f in zones.items() if f["properties"]["_style"]["color"] == style.FAIL}
    assert flagged == failing
    edges, colours = population_classes(NORM_LINES)
    population = dict(zip(layer.zone_codes, layer.zone_weight("population")))
    for code, feature in zones.items():
        fill = feature["properties"]["_style"]["fillColor"]
        if fill == style.BRUSSELS_FILL:
            assert code not in failing
            continue
        assert (fill in colours[:2]) == (population[code] < NORM_LINES[0]), code
    html = render(m)
    assert "norm: 60.000 inwoners" in html and "norm: 100.000 inwoners" in html
    assert "Inwoners per zone (1/1/2020)" in html


# -- scenario map -----------------------------------------------------------------------------
def test_scenario_map_marks_moves_and_flags_zones_failing_the_norm(catalog):
    elz = catalog.layer("eerstelijnszone")
    scenario = apply_moves(elz, [Move(m["nis_code"], m["to_zone"]) for m in W13_MOVES], id="scenario:t",
                           name="W13 samen")
    right = scenario_map(elz, scenario, ZONE_MINIMUM_60K)
    figure = right.get_root()
    maps = [c for c in figure._children.values() if isinstance(c, folium.Map)]
    assert len(maps) == 2
    expected_moved = {str(c["nis_code"]) for c in moved(elz, scenario)}
    for m in maps:
        assert set(features(m, "Verplaatste gemeenten")) == expected_moved
    failing = set(check_population(scenario, ZONE_MINIMUM_60K).query("not passes")["code"])
    assert failing, "moving Waregem and Anzegem out leaves Regio Waregem under 60.000"
    right_zones = features(maps[1], f"{scenario.name} (zones)")
    assert {c for c, f in right_zones.items() if f["properties"]["_style"]["color"] == style.FAIL} == failing
    left_zones = features(maps[0], f"{elz.name} (zones)")
    assert not {c for c, f in left_zones.items() if f["properties"]["_style"]["color"] == style.FAIL}
    html = render(right)
    assert html.count("L.map(") == 2 and "Vandaag: Eerstelijnszones" in html and "Scenario: W13 samen" in html
    assert f"{len(expected_moved)} gemeenten verplaatst" in html


# -- every map: offline, credited, Dutch, small -----------------------------------------------
@pytest.fixture(scope="module")
def every_map(catalog, sv_elz):
    elz = catalog.layer("eerstelijnszone")
    scenario = apply_moves(elz, [Move(34025, "elz18")], id="scenario:x", name="Lendelede naar Kortrijk")
    maps = {
        "overlay": overlay_map(sv_elz, assets="served"),
        "overlay_all_flanders": overlay_map(overlay(catalog.layer("politiezone"), elz), assets="served"),
        # the register of 286 associations, both ways: its summaries are fetched on click
        "overlay_register": overlay_map(overlay(catalog.layer("samenwerkingsverbanden"), elz), assets="served"),
        "overlay_on_register": overlay_map(overlay(elz, catalog.layer("samenwerkingsverbanden")), assets="served"),
        "choropleth_register": population_map(catalog.layer("samenwerkingsverbanden"), None, assets="served"),
        "municipality": municipality_map(34022, catalog.layers(), assets="served"),
        "choropleth_municipalities": population_map(catalog.layer("gemeente"), None, assets="served"),
        "scenario": scenario_map(elz, scenario, ZONE_MINIMUM_60K, assets="served"),
    }
    return {name: render(m) for name, m in maps.items()}


def test_every_map_credits_the_data_and_states_the_population_year(every_map):
    for name, page in every_map.items():
        assert page.count(f"addAttribution(\"{ATTRIBUTION} Bevolking op 1/1/2020.\")") >= 1, name
        assert "Legende" in page or "Inwoners per zone" in page or "Structuren waarvan" in page, name
        assert "1/1/2020" in page, name


def test_every_map_loads_only_vendored_assets_and_no_tiles(every_map):
    for name, page in every_map.items():
        assert set(resource_urls(page)) == {"/maps/static/leaflet.js", "/maps/static/leaflet.css",
                                                  "/maps/static/regiomatch.js", "/maps/static/favicon.svg"}, name
        assert "tileLayer" not in page and "cdn" not in page.lower(), name


def test_served_maps_stay_under_400_kb(every_map):
    for name, page in every_map.items():
        assert len(page.encode("utf-8")) < MAX_HTML_BYTES, name


def test_inline_maps_are_self_contained(sv_elz):
    html = render(overlay_map(sv_elz, focus="W13", assets="inline"))
    assert resource_urls(html) == []
    assert '"1.9.4"' in html and ".leaflet-control-layers-toggle" in html  # Leaflet JS and CSS inside
    assert "images/layers.png" not in html and "data:image/png;base64," in html


def test_dutch_number_formats():
    assert style.nl_int(123456.4) == "123.456" and style.nl_pct(0.349) == "34,9 %"


# -- HTTP -------------------------------------------------------------------------------------
def test_map_routes_serve_html_with_vendored_leaflet(client):
    r = client.get("/maps/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone", "focus": "W13"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/maps/static/leaflet.js" in r.text and ATTRIBUTION in r.text
    for url in ("/maps/municipality/34022", "/maps/choropleth/eerstelijnszone?norms=50000&norms=80000"):
        r = client.get(url)
        assert r.status_code == 200 and "L.map(" in r.text, url
    assert "norm: 80.000 inwoners" in r.text
    js = client.get("/maps/static/leaflet.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.content == (Path(__file__).resolve().parent.parent / "maps/static/leaflet.js").read_bytes()
    assert client.get("/maps/static/images/layers.png").headers["content-type"] == "image/png"


def test_scenario_map_route_reads_the_saved_scenario(client):
    created = client.post("/api/v1/scenarios", json={"name": "W13 samen", "base_layer": "eerstelijnszone",
                                                     "moves": W13_MOVES})
    assert created.status_code == 201, created.text
    r = client.get(f"/maps/scenario/{created.json()['id']}")
    assert r.status_code == 200 and r.text.count("L.map(") == 2
    assert "Scenario: W13 samen" in r.text and "4 gemeenten verplaatst" in r.text
    # a scenario is a layer like any other for the overlay and choropleth maps
    sid = created.json()["id"]
    assert client.get("/maps/overlay", params={"a": "samenwerkingsverband", "b": f"scenario:{sid}"}).status_code == 200
    assert "haalt de norm niet" in client.get(f"/maps/choropleth/scenario:{sid}").text


def test_a_map_of_many_zone_summaries_fetches_each_on_click_and_the_route_gives_it(client):
    """The register's 286 associations: their outlines carry no prebuilt popup; the page names the
    route that gives each summary, and that summary is what a small map would have carried."""
    from maps.base import js_value, json_data
    from maps.base import render as render_map
    from maps.overlay_map import _unit, _zone_summary_html

    def carries(page: str, text: str) -> bool:  # texts travel in the page's JSON data block
        return json_data(text)[1:-1] in page

    params = {"a": "samenwerkingsverbanden", "b": "eerstelijnszone"}
    page = client.get("/maps/overlay", params=params)
    assert page.status_code == 200 and len(page.content) < MAX_HTML_BYTES
    assert '"url": ' + js_value("/maps/overlay/zone?a=samenwerkingsverbanden&b=eerstelijnszone&code=") in page.text
    assert "Samenvatting laden" in page.text
    result = overlay(load_catalog(population_year=2020).layer("samenwerkingsverbanden"),
                     load_catalog(population_year=2020).layer("eerstelijnszone"))
    detail = next(d for d in result.details() if not d.nested and len(d.zones_touched) > 1)
    full = _zone_summary_html(detail, result, _unit(result))
    assert not carries(page.text, full)  # not carried (the standalone file below does carry it) ...
    summary = client.get("/maps/overlay/zone", params={**params, "code": detail.code})
    assert summary.status_code == 200 and summary.headers["content-type"].startswith("text/html")
    assert summary.text == full  # ... but fetched: the same words
    assert "raakt" in summary.text and "buiten de dominante zone" in summary.text
    missing = client.get("/maps/overlay/zone", params={**params, "code": "XX"})
    assert missing.status_code == 404
    # A small layer's page still carries its summaries (and a standalone file always does).
    small = client.get("/maps/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone"})
    assert "/maps/overlay/zone" not in small.text and "buiten de dominante zone" in small.text
    inline = render_map(overlay_map(result, assets="inline"))
    assert "/maps/overlay/zone" not in inline and carries(inline, full)


@pytest.mark.parametrize("url, code", [
    ("/maps/overlay?a=nope&b=eerstelijnszone", "unknown_layer"),
    ("/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone&focus=XX", "unknown_zone"),
    ("/maps/municipality/99999", "unknown_nis_code"),
    ("/maps/municipality/34022?layers=nope", "unknown_layer"),
    ("/maps/scenario/doesnotexist", "unknown_scenario"),
    ("/maps/choropleth/nope", "unknown_layer"),
    ("/maps/static/secret.txt", "not_found"),
    ("/maps/static/..%2F..%2Fpyproject.toml", "not_found"),
])
def test_map_errors_are_the_domain_json_errors(client, url, code):
    r = client.get(url)
    assert r.status_code == 404 and r.json()["code"] == code, r.text


def test_choropleth_refuses_nonsense_norms(client):
    for norms in ("norms=-5", "norms=" + "9" * 400, "&".join(f"norms={n}" for n in range(1, 9))):
        r = client.get(f"/maps/choropleth/eerstelijnszone?{norms}")
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", norms


# -- CLI --------------------------------------------------------------------------------------
def test_cli_writes_self_contained_maps(tmp_path):
    out = tmp_path / "w13.html"
    assert cli_main(["map", "overlay", "samenwerkingsverband", "eerstelijnszone", "--focus", "W13", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert resource_urls(html) == [] and "Welzijnsvereniging W13" in html and ATTRIBUTION in html
    assert cli_main(["map", "municipality", "34022", "-o", str(tmp_path / "k.html")]) == 0
    assert cli_main(["map", "choropleth", "eerstelijnszone", "--norms", "60000", "-o", str(tmp_path / "c.html")]) == 0
    assert "norm: 60.000 inwoners" in (tmp_path / "c.html").read_text(encoding="utf-8")


def test_cli_refuses_unknown_zone_and_wrong_suffix_without_writing(tmp_path, capsys):
    out = tmp_path / "x.html"
    assert cli_main(["map", "overlay", "samenwerkingsverband", "eerstelijnszone", "--focus", "XX", "-o", str(out)]) == 2
    assert "no zone 'XX'" in capsys.readouterr().err and not out.exists()
    assert cli_main(["map", "choropleth", "eerstelijnszone", "-o", str(tmp_path / "x.png")]) == 2
    assert "must end in .html" in capsys.readouterr().err


# -- PNG of every map, geometry served once ----------------------------------------------------
def test_every_map_page_links_its_png_and_the_png_is_the_same_view(client):
    r = client.get("/maps/overlay", params={"a": "samenwerkingsverband", "b": "eerstelijnszone", "focus": "W13"})
    control = next(json.loads(m) for m in re.findall(r'innerHTML = ("(?:[^"\\]|\\.)*")', r.text)
                   if "Download als PNG" in json.loads(m))  # the control's HTML, as the browser gets it
    link = re.search(r'href="(/maps/overlay\.png\?[^"]+)"[^>]*download', control)
    assert link, control
    png = client.get(html.unescape(link.group(1)))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert "attachment" in png.headers["content-disposition"]
    for url in ("/maps/choropleth/eerstelijnszone.png", "/maps/municipality/34025.png"):
        r = client.get(url)
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG", url
    assert client.get("/maps/choropleth/bestaatniet.png").json()["code"] == "unknown_layer"


def test_map_png_draws_the_map_legend_and_credit(catalog, sv_elz, tmp_path):
    import matplotlib.image as mpimg

    from maps.static_map import map_png

    out = tmp_path / "w13.png"
    out.write_bytes(map_png(overlay_map(sv_elz, focus="W13", assets="served")))
    pixels = mpimg.imread(out)
    assert pixels.shape[1] > 1000 and pixels.shape[0] > 700
    colours = {tuple((p[:3] * 255).round().astype(int)) for p in pixels.reshape(-1, pixels.shape[2])[::97]}
    # the zone fills appear (blended at 62 % over white) and so does the red hatching
    assert any(r > 180 and g < 80 and b < 80 for r, g, b in colours), "no red hatching drawn"
    assert len(colours) > 50


def test_geometry_is_served_once_per_layer_with_etag_and_304(client):
    r = client.get("/api/v1/geometry/layers/eerstelijnszone.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert {f["id"] for f in body["features"]} == set(load_catalog().layer("eerstelijnszone").zone_codes)
    assert all(f["properties"] == {} for f in body["features"])
    coords = re.findall(r"-?\d+\.\d+", r.text)
    assert coords and max(len(c.split(".")[1]) for c in coords) <= 5  # compact: at most 5 decimals
    etag = r.headers["etag"]
    assert etag.startswith('"') and r.headers["cache-control"] == "no-cache"
    again = client.get("/api/v1/geometry/layers/eerstelijnszone.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # the URL a page uses names the digest: the browser may keep that answer
    page = client.get("/maps/choropleth/eerstelijnszone").text
    url = re.search(r'(/api/v1/geometry/layers/eerstelijnszone\.geojson\?detail=coarse\\u0026v=[0-9a-f]+)', page).group(1)
    pinned = client.get(url.replace("\\u0026", "&"))
    assert pinned.headers["etag"] == etag and "max-age" in pinned.headers["cache-control"]
    munis = client.get("/api/v1/geometry/municipalities.geojson?detail=fine").json()
    assert len(munis["features"]) == len(load_catalog().atoms)
    assert client.get("/api/v1/geometry/layers/eerstelijnszone.geojson?detail=huge").status_code == 422
    assert client.get("/api/v1/geometry/layers/nope.geojson").json()["code"] == "unknown_layer"


def test_choropleth_tooltip_counts_members_in_dutch(catalog):
    kortrijk = features(population_map(catalog.layer("gemeente"), None), "Gemeenten (inwoners)")["34022"]
    assert "<br>1 gemeente" in kortrijk["properties"]["_tip"] and "1 gemeenten" not in kortrijk["properties"]["_tip"]
    zones = features(population_map(catalog.layer("eerstelijnszone"), ZONE_MINIMUM_60K), "Eerstelijnszones (inwoners)")
    assert "<br>3 gemeenten<br>" in zones["elz18"]["properties"]["_tip"]  # Kortrijk, Kuurne, Harelbeke


def test_choropleth_shows_norms_only_for_layers_with_a_norm(catalog):
    plain = render(population_map(catalog.layer("gemeente"), None, assets="served"))
    assert "norm:" not in plain and "haalt de norm" not in plain
    assert "norm: 60.000 inwoners" in render(population_map(catalog.layer("eerstelijnszone"),
                                                            ZONE_MINIMUM_60K, assets="served"))
