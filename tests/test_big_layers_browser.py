"""A real browser on the maps of a layer of many zones (issue 13, item 5): an imported grid of
more than ``MANY_ZONES`` squares, some named and coded with the script payloads of
tests/test_maps_escaping.py. On the choropleth, hovering a square with the mouse shows its name,
code, inhabitants and member count in Dutch; clicking it fetches and shows its members; the
exported file shows them without a server. On the overlay map, hovering a square's outline shows
its summary written by the browser from numbers, clicking it fetches the full summary, and
clicking inside it fetches the popup of the municipality there. No payload runs and each reads as
text.

Set ``REGIOMATCH_SCREENSHOT_DIR`` to keep the screenshots.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from benchmarks.grid import grid_geojson
from geo import dutch
from geo.reference.catalog import load_catalog
from maps.base import MANY_ZONES
from maps.style import BRUSSELS_NOTE
from tests.browser_support import LEAFLET_READY, browser, server  # noqa: F401  (shared fixtures)
from tests.server import run_cli
from tests.test_maps_escaping import PAYLOADS

SQUARES = 600
PAGE = "/maps/choropleth/raster"
FOCUS = """
    var code = arguments[0], target = null;
    var map = Object.values(window).filter(v => v instanceof L.Map)[0];
    map.closePopup();
    map.eachLayer(function (l) { if (l.feature && l.feature.id === code && l.getPopup) { target = l; } });
    map.setView(target.getBounds().getCenter(), 11, {animate: false});
    return target._path;
"""
SAFE = """
    return window.__xss === undefined && !document.querySelector(
        '.leaflet-container img[src="x"], .leaflet-container svg[onload], .leaflet-container script');
"""


@pytest.fixture(scope="module")
def big(server) -> dict:
    """The grid imported as ``raster``; the zones the tests look at, with their members."""
    body = json.loads(grid_geojson(SQUARES))
    for i, payload in enumerate(PAYLOADS):  # spread over the grid, not all in one corner
        properties = body["features"][i * 37]["properties"]
        properties["name"], properties["code"] = "Vak " + payload, f"p{i}{payload}"
    created = httpx.post(server.url + "/api/v1/layers", data={"id": "raster", "name": "Raster"},
                         files={"file": ("raster.geojson", json.dumps(body).encode())}, timeout=300)
    assert created.status_code == 201, created.text
    zones = httpx.get(server.url + "/api/v1/layers/raster", timeout=60).json()["zones"]
    assert len(zones) > MANY_ZONES  # the page draws from columns, not from texts

    def members(code: str) -> dict:
        return httpx.get(f"{server.url}/api/v1/layers/raster/zones/{quote(code, safe='')}", timeout=60).json()

    hostile = [members(z["code"]) for z in zones if z["code"].startswith("p")]
    assert len(hostile) >= 4, [z["code"] for z in zones[:10]]
    # a square that two municipalities share, one with thousands of its inhabitants in it
    split = next(m for m in (members(z["code"]) for z in zones if z["members"] >= 2 and z["population"] >= 1000)
                 if any(x["share"] < 0.999 and x["population"] >= 1000 for x in m["members"]))
    return {"hostile": hostile, "split": split}


def _tooltip_lines(zone: dict) -> list[str]:
    regions = load_catalog().atoms.table["region"]
    count = len(zone["members"])
    lines = [f"{zone['name']} ({zone['code']})", f"{dutch.number(zone['population'])} inwoners (1/1/"
             f"{zone['population_year']})", f"{count} {'gemeente' if count == 1 else 'gemeenten'}"]
    if all(regions[m["nis_code"]] != "Vlaams Gewest" for m in zone["members"]):
        lines.append(BRUSSELS_NOTE)
    return lines


def _popup_lines(zone: dict) -> list[str]:
    lines = [f"{zone['name']} ({zone['code']})", f"{dutch.number(zone['population'])} inwoners (1/1/"
             f"{zone['population_year']})"]
    for m in zone["members"]:
        share = f" (voor {dutch.percent(m['share'])})" if m["share"] < 0.999 else ""
        lines.append(f"{m['name']} ({m['nis_code']}): {dutch.number(m['population'])}{share}")
    return lines


def _shown(browser, selector: str, containing: str, until_not: str = "", timeout: float = 15.0) -> list[str]:
    """The lines of ``selector`` once it shows ``containing`` (and no longer ``until_not``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = browser.run(f"var e = document.querySelector('{selector}'); return e ? e.innerText : '';")
        if containing in text and (not until_not or until_not not in text):
            return [line.strip() for line in text.splitlines() if line.strip()]
        time.sleep(0.1)
    raise AssertionError(f"{selector} did not show {containing!r} within {timeout} s: {browser.errors()}")


def _hover_and_click(browser, zone: dict) -> tuple[list[str], list[str]]:
    """Hover the zone's square with the mouse, read its tooltip; click it, read its popup."""
    from selenium.webdriver.common.action_chains import ActionChains

    square = browser.run(FOCUS, zone["code"])
    time.sleep(0.3)
    ActionChains(browser.driver).move_to_element(square).perform()
    tip = _shown(browser, ".leaflet-tooltip", zone["code"])
    ActionChains(browser.driver).click(square).perform()
    popup = _shown(browser, ".leaflet-popup-content", zone["code"], until_not="laden")
    return tip, popup


def _keep(shot: Path, name: str) -> None:
    target = os.environ.get("REGIOMATCH_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(target) / name)


def test_hovering_a_square_shows_its_numbers_and_clicking_it_its_members(browser, server, big, tmp_path):
    page = browser.load(server.url + PAGE, ready=LEAFLET_READY, timeout=120)
    assert page.errors == [], page.errors
    zone = big["split"]
    tip, popup = _hover_and_click(browser, zone)
    assert tip == _tooltip_lines(zone)
    browser.screenshot(tmp_path / "tooltip-popup.png")
    _keep(tmp_path / "tooltip-popup.png", "big-layer-popup.png")
    assert popup == _popup_lines(zone)
    assert any(" (voor " in line and "," in line.split("voor")[1] for line in popup)  # 12,3 %
    assert any(line.split(": ")[-1].split(" ")[0].count(".") for line in popup[2:])  # 1.234 inwoners
    assert browser.errors() == []


def test_no_payload_in_a_zone_name_or_code_runs_and_each_reads_as_text(browser, server, big):
    browser.load(server.url + PAGE, ready=LEAFLET_READY, timeout=120)
    for zone in big["hostile"]:
        tip, popup = _hover_and_click(browser, zone)
        assert tip == _tooltip_lines(zone), zone["code"]
        assert popup == _popup_lines(zone), zone["code"]
        assert browser.run(SAFE) is True, zone["code"]
    assert browser.errors() == []  # no injected image was requested


def test_the_exported_file_shows_the_members_without_a_server(browser, server, big, tmp_path):
    out = tmp_path / "raster.html"
    done = run_cli(server, "map", "choropleth", "raster", "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = browser.load(out.as_uri(), ready=LEAFLET_READY, timeout=120)
    assert page.errors == [], page.errors
    for zone in [big["split"], *big["hostile"][:2]]:
        tip, popup = _hover_and_click(browser, zone)
        assert (tip, popup) == (_tooltip_lines(zone), _popup_lines(zone))
    assert browser.run(SAFE) is True and browser.errors() == []


OVERLAY_PAGE = "/maps/overlay?a=raster&b=eerstelijnszone"
FOCUS_OUTLINE = """
    var code = arguments[0], target = null;
    var map = Object.values(window).filter(v => v instanceof L.Map)[0];
    map.closePopup();
    map.eachLayer(function (l) { if (l.feature && l.feature.id === code && l.options.pane === 'outlines') { target = l; } });
    map.setView(target.getBounds().getCenter(), 12, {animate: false});
    return target._path;
"""


def _fragment_lines(fragment: str) -> list[str]:
    """The lines a browser shows of an HTML fragment the server wrote (its innerText)."""
    text = re.sub(r"<br>|<hr>|</?(?:li|ul|h4)>", "\n", fragment)
    return [line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "", text)).splitlines() if line.strip()]


def test_a_square_of_the_overlay_map_shows_its_summary_and_a_municipality_its_popup(browser, server, big, tmp_path):
    """The squares' tooltips are written in the browser from numbers per square, in the words of
    the summary the server writes; a click on a square's outline fetches that summary, a click
    inside it the popup of the municipality there (it names up to eight squares)."""
    from selenium.webdriver.common.action_chains import ActionChains

    body = httpx.get(server.url + "/api/v1/overlay", params={"a": "raster", "b": "eerstelijnszone", "limit": 10_000},
                     timeout=60).json()
    split = next(z for z in body["zones"] if z["members_outside_dominant"] and z["dominant_zone"]
                 and z["population"] >= 1000 and not z["code"].startswith("p"))
    page = browser.load(server.url + OVERLAY_PAGE, ready=LEAFLET_READY, timeout=120)
    assert page.errors == [], page.errors
    for code in [split["code"], *(zone["code"] for zone in big["hostile"][:3])]:
        summary = httpx.get(server.url + "/maps/overlay/zone", timeout=60,
                            params={"a": "raster", "b": "eerstelijnszone", "code": code}).text
        square = browser.run(FOCUS_OUTLINE, code)
        time.sleep(0.3)
        on_outline = -square.size["width"] // 2 + 2  # a few pixels inside its left edge: on the line
        ActionChains(browser.driver).move_to_element_with_offset(square, on_outline, 0).perform()
        tip = _shown(browser, ".leaflet-tooltip", code)
        assert tip == _fragment_lines(summary.split("<ul>")[0]), code  # the summary's head, composed here
        ActionChains(browser.driver).click().perform()
        popup = _shown(browser, ".leaflet-popup-content", code, until_not="laden")
        assert popup == _fragment_lines(summary), code
        assert browser.run(SAFE) is True, code
        if code == split["code"]:
            assert " % in " in tip[2] and "raakt 2 zones" in tip[2] and "buiten de dominante zone" in tip[3], tip
            assert any(line.split(": ")[-1].split(" ")[0].count(".") for line in popup[4:]), popup  # 1.234 inwoners
            browser.screenshot(tmp_path / "overlay-square.png")
            _keep(tmp_path / "overlay-square.png", "big-overlay-square-popup.png")
    # inside the square (its outline is only a line): the municipality under it
    square = browser.run(FOCUS_OUTLINE, split["code"])
    time.sleep(0.3)
    ActionChains(browser.driver).move_to_element(square).click().perform()
    popup = _shown(browser, ".leaflet-popup-content", "NIS", until_not="laden")
    nis = int(re.search(r"\(NIS (\d+)\)", popup[0]).group(1))
    fragment = httpx.get(server.url + "/maps/overlay/municipality", timeout=60,
                         params={"a": "raster", "b": "eerstelijnszone", "nis": nis}).text
    assert popup == _fragment_lines(fragment)
    assert any(line.endswith(", Raster)") for line in popup) and any("(elz" in line for line in popup), popup
    browser.screenshot(tmp_path / "overlay-municipality.png")
    _keep(tmp_path / "overlay-municipality.png", "big-overlay-municipality-popup.png")
    assert browser.errors() == []


def test_the_squares_of_the_overlay_map_are_labelled_without_overlap_at_any_zoom(browser, server, big):
    """A code per square: placed on its square, moved with the map, never covering another."""
    from tests.test_maps_browser import _assert_labels_do_not_overlap

    browser.load(server.url + OVERLAY_PAGE, ready=LEAFLET_READY, timeout=120)
    _assert_labels_do_not_overlap(browser)  # the whole territory: most codes hidden
    zones = httpx.get(server.url + "/api/v1/layers/raster", timeout=60).json()["zones"]
    code = [z["code"] for z in zones if z["code"].startswith("g")][len(zones) // 2]  # squares: codes fit them
    for zoom in (11, 13):
        square = browser.run(FOCUS_OUTLINE.replace("12, {animate", f"{zoom}, {{animate"), code)
        browser.run("var map = Object.values(window).filter(v => v instanceof L.Map)[0]; map.fire('moveend');")
        time.sleep(0.3)
        _assert_labels_do_not_overlap(browser)
        label = browser.run("""var found = Array.from(document.querySelectorAll('.rm-label'))
            .filter(e => e.textContent === arguments[0] && e.style.visibility !== 'hidden')[0];
            if (!found) { return null; } var r = found.getBoundingClientRect();
            return {x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2};""", code)
        box = browser.run("var r = arguments[0].getBoundingClientRect(); "
                          "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};", square)
        assert label is not None, zoom  # the square in the middle of the view keeps its label
        assert box["left"] <= label["x"] <= box["right"] and box["top"] <= label["y"] <= box["bottom"], (label, box)
    assert browser.run(SAFE) is True and browser.errors() == []


def test_a_popup_says_so_when_the_members_cannot_be_fetched(browser, server, big):
    browser.load(server.url + PAGE, ready=LEAFLET_READY, timeout=120)
    assert httpx.delete(server.url + "/api/v1/layers/raster", timeout=60).status_code == 204  # gone meanwhile
    from selenium.webdriver.common.action_chains import ActionChains

    square = browser.run(FOCUS, big["split"]["code"])
    time.sleep(0.3)
    ActionChains(browser.driver).click(square).perform()
    assert _shown(browser, ".leaflet-popup-content", "geladen worden") == [
        "De gemeenten konden niet geladen worden; klik opnieuw om het nog eens te proberen."]
