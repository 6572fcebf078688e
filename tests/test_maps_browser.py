"""A real browser opens the maps: headless Chromium loads each map from the running server on
loopback (and an exported file from disk), waits until Leaflet has drawn it, saves a screenshot,
and fails on any JavaScript error or asset that did not load.

Set ``REGIOMATCH_SCREENSHOT_DIR=docs/img`` to refresh the README screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from api.cli import main as cli_main
from geo.catalog import load_catalog
from geo.overlay import overlay
from tests.browser_support import LEAFLET_READY, Browser, served_app

W13_MOVES = [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 34002, "to_zone": "elz18"},
             {"nis_code": 34040, "to_zone": "elz18"}, {"nis_code": 34043, "to_zone": "elz18"}]


@pytest.fixture(scope="module")
def server():
    with served_app() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1280, height=800) as b:
        yield b


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
    assert len(attribution) == maps and all("Statbel" in a and "1/1/2020" in a for a in attribution), attribution
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
    assert "Gemeente buiten de dominante zone" in legend and "Kortrijk-Kuurne-Harelbeke (elz18): 37,1 %" in legend
    # the tooltip of a municipality opens on hover and speaks Dutch
    tooltip = browser.run("""
        var map = Object.values(window).find(v => v instanceof L.Map);
        var found = null;
        map.eachLayer(function(l) { if (l.feature && l.feature.id === '33029' && l.getTooltip()) { found = l; } });
        found.openTooltip(found.getBounds().getCenter());
        return document.querySelector('.leaflet-tooltip').innerText;""")
    assert "Wervik" in tooltip and "inwoners (1/1/2020)" in tooltip and "buiten de dominante zone" in tooltip
    keep_screenshot(tmp_path / "overlay.png", "overlay-map.png")


def test_municipality_map_renders(browser, server, tmp_path):
    assert_map_page(browser, server.url + "/maps/municipality/34022", tmp_path / "municipality.png")
    overlays = browser.run("return document.querySelectorAll('.leaflet-control-layers-overlays label').length")
    assert overlays >= 10  # one toggle per layer Kortrijk belongs to, plus the municipal borders
    keep_screenshot(tmp_path / "municipality.png", "municipality-map.png")


def test_scenario_map_renders_both_sides_and_keeps_them_together(browser, server, tmp_path):
    created = httpx.post(server.url + "/api/v1/scenarios", json={
        "name": "W13 samen in Kortrijk-Kuurne-Harelbeke", "base_layer": "eerstelijnszone", "moves": W13_MOVES})
    assert created.status_code == 201, created.text
    with Browser(width=1600, height=800) as wide:
        assert_map_page(wide, server.url + f"/maps/scenario/{created.json()['id']}", tmp_path / "scenario.png", maps=2)
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
