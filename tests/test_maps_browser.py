"""A real browser opens the maps: headless Chromium loads each map from the running server on
loopback (and an exported file from disk), waits until Leaflet has drawn it, saves a screenshot,
and fails on any JavaScript error or asset that did not load.

Set ``REGIOMATCH_SCREENSHOT_DIR=docs/img`` to refresh the README screenshots.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from api.cli import main as cli_main
from geo.dutch import percent
from geo.engine.overlay import overlay
from geo.reference.catalog import load_catalog
from tests.browser_support import LEAFLET_READY, Browser, browser, server  # noqa: F401  (shared fixtures)

W13_MOVES = [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 34002, "to_zone": "elz18"},
             {"nis_code": 34040, "to_zone": "elz18"}, {"nis_code": 34043, "to_zone": "elz18"}]
MAPS = "return Object.values(window).filter(v => v instanceof L.Map);"


@pytest.fixture(scope="module")
def scenario_id(server):
    created = httpx.post(server.url + "/api/v1/scenarios", json={
        "name": "W13 samen in Kortrijk-Kuurne-Harelbeke", "base_layer": "eerstelijnszone", "moves": W13_MOVES})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def keep_screenshot(path: Path, name: str) -> None:
    target = os.environ.get("REGIOMATCH_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(target) / name)


def assert_map_page(browser: Browser, url: str, shot: Path, maps: int = 1) -> None:
    page = browser.load(url, ready=LEAFLET_READY)
    assert page.errors == [], page.errors
    assert browser.run("return document.querySelectorAll('.leaflet-container').length") == maps
    attribution = browser.run("return Array.from(document.querySelectorAll('.leaflet-control-attribution'))"
                              ".map(e => e.textContent)")
    year = str(load_catalog().atoms.population_year)  # the population year is credited with the data
    assert len(attribution) == maps and all("Statbel" in a and year in a for a in attribution), attribution
    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000  # a drawn map, not a blank page


def test_the_error_collector_sees_javascript_errors_and_missing_assets(browser, server):
    page = browser.load("data:text/html,<script>throw new Error('kapot')</script>")
    assert any("kapot" in e for e in page.errors), page.errors
    page = browser.load("data:text/html,<script src='" + server.url + "/maps/static/missing.js'></script>")
    assert any("missing.js" in e for e in page.errors), page.errors


def test_overlay_map_renders_with_hatched_members(browser, server, tmp_path):
    url = server.url + "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone&focus=W13"
    assert_map_page(browser, url, tmp_path / "overlay.png")
    catalog = load_catalog()
    result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))
    flagged = {m.nis_code for d in result.details() for m in d.members_outside_dominant}
    hatched = browser.run("return document.querySelectorAll('path[fill=\"url(#rm-hatch)\"]').length")
    assert hatched == len(flagged)
    assert browser.run("return !!document.getElementById('rm-hatch')")
    legend = browser.run("return document.querySelector('.rm-legend').innerText")
    share = next(z.share for z in result.zone_detail("W13").zones_touched if z.code == "elz18")
    assert "Gemeente buiten de dominante zone" in legend
    assert f"Kortrijk-Kuurne-Harelbeke (elz18): {percent(share)}" in legend, legend
    # the tooltip of a municipality opens on hover and speaks Dutch
    tooltip = browser.run("""
        var map = Object.values(window).find(v => v instanceof L.Map);
        var found = null;
        map.eachLayer(function(l) { if (l.feature && l.feature.id === '33029' && l.getTooltip()) { found = l; } });
        found.openTooltip(found.getBounds().getCenter());
        return document.querySelector('.leaflet-tooltip').innerText;""")
    assert "Wervik" in tooltip and f"inwoners (1/1/{load_catalog().atoms.population_year})" in tooltip and "buiten de dominante zone" in tooltip
    keep_screenshot(tmp_path / "overlay.png", "overlay-map.png")


def test_municipality_map_renders(browser, server, tmp_path):
    assert_map_page(browser, server.url + "/maps/municipality/34022", tmp_path / "municipality.png")
    overlays = browser.run("return document.querySelectorAll('.leaflet-control-layers-overlays label').length")
    assert overlays >= 10  # one toggle per layer Kortrijk belongs to, plus the municipal borders
    keep_screenshot(tmp_path / "municipality.png", "municipality-map.png")


def test_scenario_map_renders_both_sides_and_keeps_them_together(server, scenario_id, tmp_path):
    with Browser(width=1600, height=800) as wide:
        assert_map_page(wide, server.url + f"/maps/scenario/{scenario_id}", tmp_path / "scenario.png", maps=2)
        centres = wide.run("""
            var maps = Object.values(window).filter(v => v instanceof L.Map);
            maps[0].setView([51.0, 3.5], 11, {animate: false});
            return maps.map(m => [m.getCenter().lat, m.getCenter().lng, m.getZoom()]);""")
        assert centres[0] == pytest.approx(centres[1])
        assert wide.run("return document.querySelectorAll('path[stroke-dasharray]').length") > 0  # a failing zone
        keep_screenshot(tmp_path / "scenario.png", "scenario-map.png")


def test_choropleth_renders(browser, server, tmp_path):
    assert_map_page(browser, server.url + "/maps/choropleth/eerstelijnszone", tmp_path / "choropleth.png")
    legend = browser.run("return document.querySelector('.rm-legend').innerText")
    assert "norm: 60.000 inwoners" in legend and "norm: 100.000 inwoners" in legend


def test_exported_map_opens_from_disk_without_a_server(browser, tmp_path):
    out = tmp_path / "w13.html"
    assert cli_main(["map", "overlay", "samenwerkingsverband", "eerstelijnszone", "--focus", "W13", "-o", str(out)]) == 0
    assert_map_page(browser, out.as_uri(), tmp_path / "exported.png")


# -- the map defects of issue 12, each checked where the user saw it -------------------------------
def _rects_overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


ZONE_BOXES = """
    var out = [];
    Object.values(window).filter(v => v instanceof L.Map).forEach(function(map, i) {
        var view = map.getBounds();
        var box = map.getContainer().getBoundingClientRect();
        var title = map.getContainer().querySelector('.rm-title').getBoundingClientRect();
        map.eachLayer(function(l) {
            if (!l.feature || !l.getBounds || l.options.pane !== 'fills') { return; }
            var b = l.getBounds();
            var nw = map.latLngToContainerPoint(b.getNorthWest()), se = map.latLngToContainerPoint(b.getSouthEast());
            out.push({map: i, id: l.feature.id, inside: view.contains(b), top: nw.y, left: nw.x, bottom: se.y,
                      right: se.x, title_bottom: title.bottom - box.top, title_right: title.right - box.left});
        });
    });
    return out;
"""


@pytest.mark.parametrize("path", ["/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone",
                                  "/maps/choropleth/eerstelijnszone",
                                  "/maps/choropleth/eerstelijnszone_antwerpen_stad"])
def test_maps_open_with_every_zone_in_view_and_none_under_the_title(browser, server, path):
    browser.load(server.url + path, ready=LEAFLET_READY)
    boxes = browser.run(ZONE_BOXES)
    assert boxes, "no zones drawn"
    for box in boxes:
        assert box["inside"], box
        # the view starts below the title box, so no zone is cropped under it
        assert box["top"] >= box["title_bottom"] - 1, box


def test_scenario_map_opens_on_every_touched_zone_with_names_and_the_association(server, scenario_id):
    catalog = load_catalog()
    elz = catalog.layer("eerstelijnszone")
    touched = {code for move in W13_MOVES for code, _, _ in elz.zones_of(move["nis_code"])} | {"elz18"}
    with Browser(width=1600, height=800) as wide:
        wide.load(server.url + f"/maps/scenario/{scenario_id}", ready=LEAFLET_READY)
        view = wide.run("""
            var maps = Object.values(window).filter(v => v instanceof L.Map), out = {};
            maps.forEach(function(map, i) {
                map.eachLayer(function(l) {
                    if (l.feature && l.getBounds && l.options.pane === 'fills') {
                        out[i + ':' + l.feature.id] = map.getBounds().contains(l.getBounds());
                    }
                });
            });
            return out;""")
        for side in (0, 1):
            for code in touched:
                assert view[f"{side}:{code}"], (side, code)
        labels = wide.run("return Array.from(document.querySelectorAll('.rm-label')).filter(e => e.style.visibility"
                          " !== 'hidden').map(e => e.textContent)")
        assert "W13" in labels and "Kortrijk-Kuurne-Harelbeke" in labels, labels
        legend = wide.run("return document.querySelector('.rm-legend').innerText")
        assert "Welzijnsvereniging W13" in legend
        outlines = wide.run("""var n = 0; Object.values(window).filter(v => v instanceof L.Map)[1].eachLayer(
            function(l) { if (l.feature && l.feature.id === 'W13' && l.options.pane === 'outlines') { n++; } });
            return n;""")
        assert outlines == 1
        _assert_scale_bar_clear_of_attribution(wide)
        _assert_labels_do_not_overlap(wide)


def _assert_labels_do_not_overlap(b: Browser) -> None:
    # labels outside their own map (clipped, e.g. left of the right-hand map) are not seen
    rects = b.run("""return Array.from(document.querySelectorAll('.rm-label'))
        .filter(e => e.style.visibility !== 'hidden')
        .map(e => { var r = e.getBoundingClientRect(), c = e.closest('.leaflet-container').getBoundingClientRect();
                    return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                            shown: r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom}; })
        .filter(r => r.shown);""")
    assert rects
    for i, a in enumerate(rects):
        for other in rects[i + 1:]:
            assert not _rects_overlap(a, other), (a, other)


def _assert_scale_bar_clear_of_attribution(b: Browser) -> None:
    pairs = b.run("""return Array.from(document.querySelectorAll('.leaflet-container')).map(function(c) {
        var s = c.querySelector('.leaflet-control-scale').getBoundingClientRect();
        var a = c.querySelector('.leaflet-control-attribution').getBoundingClientRect();
        var box = c.getBoundingClientRect();
        return {scale: {left: s.left, right: s.right, top: s.top, bottom: s.bottom, width: s.width},
                attribution: {left: a.left, right: a.right, top: a.top, bottom: a.bottom},
                box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom}}; });""")
    for pair in pairs:
        scale, attribution, box = pair["scale"], pair["attribution"], pair["box"]
        assert scale["width"] > 20 and box["top"] <= scale["top"] and scale["bottom"] <= box["bottom"], pair
        assert scale["bottom"] <= attribution["top"] + 0.5 and not _rects_overlap(scale, attribution), pair


@pytest.mark.parametrize("path", ["/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone",
                                  "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone&focus=W13",
                                  "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone&focus=WRNL"])
def test_labels_never_cover_each_other(browser, server, path):
    browser.load(server.url + path, ready=LEAFLET_READY)
    _assert_labels_do_not_overlap(browser)
    visible = browser.run("return Array.from(document.querySelectorAll('.rm-label')).filter(e => "
                          "e.style.visibility !== 'hidden').map(e => e.textContent)")
    assert {"W13", "WRNL"} & set(visible), visible  # the association labels win a collision
    # zoomed in, labels are placed again and still do not overlap
    browser.run(MAPS[len("return "):].rstrip(";") + "[0].setZoom(" + "Object.values(window).filter(v => v instanceof "
                "L.Map)[0].getZoom() + 1, {animate: false});")
    browser.run("return null;")
    _assert_labels_do_not_overlap(browser)


def test_scale_bar_is_above_the_attribution(browser, server):
    browser.load(server.url + "/maps/choropleth/eerstelijnszone", ready=LEAFLET_READY)
    _assert_scale_bar_clear_of_attribution(browser)


def test_popup_opens_clear_of_the_title_and_a_click_leaves_no_focus_rectangle(browser, server):
    browser.load(server.url + "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone", ready=LEAFLET_READY)
    browser.run("""
        var map = Object.values(window).filter(v => v instanceof L.Map)[0], target = null;
        map.eachLayer(function(l) { if (l.feature && l.feature.id === '34025' && l.getPopup()) { target = l; } });
        var box = map.getContainer().getBoundingClientRect();
        var title = map.getContainer().querySelector('.rm-title').getBoundingClientRect();
        var centre = target.getBounds().getCenter(), p = map.latLngToContainerPoint(centre);
        // put Lendelede just under the title box, where the popup used to open beneath it
        map.panBy([p.x - (title.left - box.left + 80), p.y - (title.bottom - box.top + 8)], {animate: false});
        target.openPopup(centre);""")
    import time
    time.sleep(1.0)  # the popup pans the map into view (animated)
    rects = browser.run("""
        var box = function(e) { var r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                                                                            bottom: r.bottom}; };
        return {popup: box(document.querySelector('.leaflet-popup-content-wrapper')),
                title: box(document.querySelector('.rm-title')), map: box(document.querySelector('.leaflet-container'))};""")
    popup, title, frame = rects["popup"], rects["title"], rects["map"]
    assert not _rects_overlap(popup, title), rects
    assert frame["left"] <= popup["left"] and popup["right"] <= frame["right"], rects
    assert frame["top"] <= popup["top"] and popup["bottom"] <= frame["bottom"], rects
    outline = browser.run("""var path = document.querySelector('.leaflet-municipalities-pane path.leaflet-interactive');
        path.setAttribute('tabindex', '0'); path.focus();
        return [document.activeElement === path, getComputedStyle(path).outlineStyle];""")
    assert outline == [True, "none"]


def test_legend_colours_are_the_drawn_colours_and_hatching_keeps_them(browser, server):
    browser.load(server.url + "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone&focus=W13", ready=LEAFLET_READY)
    pairs = browser.run("""
        var map = Object.values(window).filter(v => v instanceof L.Map)[0], drawn = {};
        map.eachLayer(function(l) { if (l.feature && l.options.pane === 'fills') {
            drawn[l.feature.id] = l._path.getAttribute('fill'); } });
        var probe = document.createElement('span'); document.body.appendChild(probe);
        var rgb = function(c) { probe.style.color = c; return getComputedStyle(probe).color; };
        return Array.from(document.querySelectorAll('.rm-legend .rm-row')).map(function(row) {
            var m = row.innerText.match(/\\((elz\\d+)\\)/);
            if (!m) { return null; }
            return [m[1], getComputedStyle(row.querySelector('.rm-sw')).backgroundColor, rgb(drawn[m[1]])];
        }).filter(x => x);""")
    assert {code for code, _, _ in pairs} >= {"elz18", "elz50", "elz24"}, pairs
    for code, legend, drawn in pairs:
        assert legend == drawn, (code, legend, drawn)
    # the hatch pattern draws lines only: no background that would tint the zone under it
    children = browser.run("return Array.from(document.getElementById('rm-hatch').children).map(e => e.tagName)")
    assert children == ["line"]


def test_an_association_of_the_register_shows_its_summary_fetched_on_click(browser, server, tmp_path):
    """The register's overlay map carries no prebuilt summaries: clicking an outline fetches one,
    shows 'laden' meanwhile, then the summary in Dutch; the municipality popups stay short."""
    import time

    browser.load(server.url + "/maps/overlay?a=samenwerkingsverbanden&b=eerstelijnszone", ready=LEAFLET_READY)
    code = browser.run("""
        var map = Object.values(window).filter(v => v instanceof L.Map)[0], target = null;
        map.eachLayer(function(l) {
            if (!target && l.feature && l.getPopup && l.getPopup() && l.options.pane === 'outlines') { target = l; } });
        var centre = target.getBounds().getCenter();
        map.setView(centre, 10, {animate: false});
        target.openPopup(centre);
        return target.feature.id;""")
    deadline, text = time.monotonic() + 15, ""
    while time.monotonic() < deadline:
        text = browser.run("var e = document.querySelector('.leaflet-popup-content'); return e ? e.innerText : '';")
        if code in text and "laden" not in text:
            break
        time.sleep(0.1)
    browser.screenshot(tmp_path / "register-popup.png")
    expected = httpx.get(server.url + "/maps/overlay/zone",
                         params={"a": "samenwerkingsverbanden", "b": "eerstelijnszone", "code": code}, timeout=60)
    assert expected.status_code == 200
    assert f"({code}, " in text and "inwoners" in text, text
    assert ("ligt volledig in" in text) or (" % in " in text and "raakt" in text), text
    assert browser.errors() == []


def test_layers_are_drawn_in_the_order_the_page_names_them(browser, server):
    """Outlines that share a border: the one the page names last lies on top, whichever outline
    file the server sent first (they are fetched at once and arrive in any order)."""
    import re

    page = httpx.get(server.url + "/maps/municipality/34025", timeout=60).text
    named = [json_key for json_key in re.findall(r'regiomatch\.(?:geo|zoneColumns)\([^,]+, [^,]+, \{"key": "([^"]+)"',
                                                 page)]
    assert len(named) >= 10
    browser.load(server.url + "/maps/municipality/34025", ready=LEAFLET_READY)
    deferred = browser.run("return window.regiomatch.deferred;")
    assert browser.run("return window.regiomatch.drawn;") == [key for key in named if key not in deferred]


def test_a_layer_that_opens_switched_off_is_fetched_when_switched_on(browser, server, tmp_path):
    """Lendelede lies in several associations of the register: that layer opens switched off, so
    its outlines (the largest file, 1.9 MB) are not downloaded until a planner switches it on;
    then they are drawn like any other."""
    url = server.url + "/maps/municipality/34025"
    browser.load(url, ready=LEAFLET_READY)
    fetched = ("return performance.getEntriesByType('resource').map(e => e.name)"
               ".filter(n => n.includes('/api/v1/geometry/'));")
    before = browser.run(fetched)
    assert not any("samenwerkingsverbanden.geojson" in n for n in before), before
    assert any("eerstelijnszone.geojson" in n for n in before), before
    assert len(browser.run("return window.regiomatch.deferred;")) == 1
    drawn = len(browser.run("return window.regiomatch.drawn;"))
    # Switch it on as a planner does: the box of the register's row in the layer control.
    browser.run("""
        document.querySelector('.leaflet-control-layers').classList.add('leaflet-control-layers-expanded');
        var row = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
            .filter(l => l.textContent.includes('(register)'))[0];
        row.querySelector('input').click();""")
    for _ in range(100):
        if browser.run("return window.regiomatch.ready && window.regiomatch.drawn.length;") == drawn + 1:
            break
        time.sleep(0.1)
    assert len(browser.run("return window.regiomatch.drawn;")) == drawn + 1
    assert any("samenwerkingsverbanden.geojson" in n for n in browser.run(fetched))
    assert browser.run("return window.regiomatch.deferred;") == []
    browser.run("document.querySelector('.leaflet-control-layers').classList.remove('leaflet-control-layers-expanded');")
    browser.screenshot(tmp_path / "register-switched-on.png")
    keep_screenshot(tmp_path / "register-switched-on.png", "municipality-register-on.png")
    assert browser.errors() == []
