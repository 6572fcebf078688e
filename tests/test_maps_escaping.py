"""User text never runs in a map (issue 14.1) and a layer that puts one municipality in thousands
of zones keeps every map bounded (issue 14.4).

A layer, its zones (names and codes) and scenarios are imported with script payloads; headless
Chromium opens every map that shows them and opens every tooltip and popup. Each payload would set
``window.__xss`` if it ran; the test asserts it never is, no injected image is requested, and the
text is shown as text (layer control, title, legend, tooltips).
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import httpx
import pytest

from tests.browser_support import LEAFLET_READY, browser, served_app, server  # noqa: F401  (shared fixtures)
from tests.server import run_cli

PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    '"><script>window.__xss=2</script>',
    "</script><script>window.__xss=3</script>",
    "javascript:window.__xss=4",
    "'-(window.__xss=5)-'",
    '<svg onload="window.__xss=6">',
]
LAYER_NAME = "Laag " + PAYLOADS[0] + PAYLOADS[2]
# Kortrijk, Menen and Wervik in zones whose codes and names carry the payloads.
ZONES = [(34022, "k" + PAYLOADS[1], "Zone " + PAYLOADS[0]),
         (34027, "m" + PAYLOADS[2], "Zone " + PAYLOADS[5]),
         (33029, PAYLOADS[3], "Zone " + PAYLOADS[4])]
OPEN_EVERYTHING = """
    Object.values(window).filter(v => v instanceof L.Map).forEach(function(map) {
        map.eachLayer(function(l) {
            if (l.getTooltip && l.getTooltip()) { l.openTooltip(l.getBounds ? l.getBounds().getCenter() : undefined); }
        });
        map.eachLayer(function(l) {
            if (l.getPopup && l.getPopup() && l.feature && /^(34022|34027|33029)$|zone|k|m|javascript/i.test(l.feature.id)) {
                l.openPopup(l.getBounds().getCenter()); }
        });
        var control = document.querySelector('.leaflet-control-layers');
        if (control) { control.classList.add('leaflet-control-layers-expanded'); }
    });
    return true;
"""


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nis_code", "zone_code", "zone_name"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def hostile(server):
    """The imported layer ``xss`` and two scenarios (on the ELZ and on ``xss``), all named with payloads."""
    r = httpx.post(server.url + "/api/v1/layers", data={"id": "xss", "name": LAYER_NAME, "source": PAYLOADS[1]},
                   files={"file": ("xss.csv", _csv(ZONES))}, timeout=60)
    assert r.status_code == 201, r.text
    ids = []
    for base_layer, moves in (("eerstelijnszone", [{"nis_code": 34025, "to_zone": "elz18"}]),
                              ("xss", [{"nis_code": 34027, "to_zone": ZONES[0][1]}])):
        r = httpx.post(server.url + "/api/v1/scenarios", json={
            "name": "Scenario " + PAYLOADS[0] + PAYLOADS[2], "description": PAYLOADS[1],
            "base_layer": base_layer, "moves": moves}, timeout=60)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def _pages(ids: list[str]) -> list[str]:
    focus = quote(ZONES[0][1])
    return ["/maps/choropleth/xss", f"/maps/overlay?a=xss&b=eerstelijnszone&focus={focus}",
            "/maps/overlay?a=eerstelijnszone&b=xss", "/maps/overlay?a=xss&b=xss", "/maps/municipality/34022",
            *(f"/maps/scenario/{i}" for i in ids), f"/maps/choropleth/scenario:{ids[1]}"]


def test_no_payload_runs_in_any_map_and_every_payload_reads_as_text(browser, server, hostile):
    for path in _pages(hostile):
        page = browser.load(server.url + path, ready=LEAFLET_READY, timeout=60)
        assert page.errors == [], (path, page.errors)
        browser.run(OPEN_EVERYTHING)
        browser.run("return new Promise(r => setTimeout(r, 300));")
        assert browser.run("return window.__xss === undefined") is True, path
        shown = browser.run("return document.body.innerText")
        assert not browser.run("return !!document.querySelector('.leaflet-container img[src=\"x\"], "
                               ".leaflet-container svg[onload], .leaflet-container script')"), path
        assert browser.errors() == [], (path, browser.errors())  # no injected image was requested
        if "municipality" in path or "a=xss" in path or "choropleth/xss" in path:
            assert PAYLOADS[0] in shown, path  # the layer name, as text (layer control, title or legend)
        if "scenario/" in path:
            assert "Scenario " + PAYLOADS[0] in shown, path


def test_the_standalone_export_escapes_too(browser, server, hostile, tmp_path):
    """``regiomatch map`` writes a file that carries its geometry; user text is escaped there too."""
    out = tmp_path / "xss.html"
    done = run_cli(server, "map", "choropleth", "xss", "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = browser.load(out.as_uri(), ready=LEAFLET_READY)
    assert page.errors == []
    browser.run(OPEN_EVERYTHING)
    assert browser.run("return window.__xss === undefined") is True
    assert PAYLOADS[0] in browser.run("return document.body.innerText")


def test_a_municipality_in_thousands_of_zones_keeps_every_map_bounded():
    """Imports refuse more than 50 zones per municipality by default; a server configured to accept
    more still draws every map in bounded work."""
    rows = [(34022, f"z{i}", f"Zone {i}") for i in range(2000)] + [(34027, "z0", "Zone 0")]
    with served_app({"REGIOMATCH_IMPORT_ZONES_PER_MUNICIPALITY": "5000"}) as server:
        r = httpx.post(server.url + "/api/v1/layers", data={"id": "veel", "name": "Veel zones"},
                       files={"file": ("veel.csv", _csv(rows))}, timeout=120)
        assert r.status_code == 201, r.text
        _assert_bounded(server)


def _assert_bounded(server) -> None:
    for path in ("/maps/municipality/34022?layers=veel&layers=eerstelijnszone", "/maps/choropleth/veel",
                 "/maps/overlay?a=veel&b=eerstelijnszone", "/maps/overlay?a=eerstelijnszone&b=veel"):
        page = httpx.get(server.url + path, timeout=120)
        assert page.status_code == 200, (path, page.text[:300])
        text = page.text
        if "/maps/overlay/municipality?" in text:  # a layer of many zones: popups are fetched on click
            a, b = path.split("?a=")[1].split("&b=")
            text = httpx.get(server.url + "/maps/overlay/municipality", params={"a": a, "b": b, "nis": 34022},
                             timeout=120).text
        if "municipality" in path or "a=eerstelijnszone" in path:
            assert "en 1.992 andere" in text, path  # Kortrijk's 2,000 zones: 8 named, the rest counted
        assert len(page.content) < 2_000_000, (path, len(page.content))
