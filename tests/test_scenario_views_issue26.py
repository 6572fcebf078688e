"""A scenario seen side by side and on paper (issue 26, item 6): /maps/scenario/{id} opened its two
maps at different zooms with West-Vlaanderen cut off; the comparison PDF had small maps cut off at
the coast, a narrow explanation column making every row six lines high, and a last page with one row."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.browser_support import LEAFLET_READY, Browser, find_browser, served_app

MOVES = [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 72004, "to_zone": "elz28"}]  # West and East


@pytest.fixture(scope="module")
def server():
    with served_app() as running:
        yield running


@pytest.fixture(scope="module")
def scenario(server) -> str:
    created = httpx.post(server.url + "/api/v1/scenarios",
                         json={"name": "Lendelede en Bree", "base_layer": "eerstelijnszone", "moves": MOVES})
    assert created.status_code == 201, created.text
    return created.json()["id"]


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1280, 800), (1600, 900)])
def test_both_maps_open_in_step_on_everything_the_moves_touch(server, scenario, size, tmp_path: Path) -> None:
    try:
        find_browser()
    except RuntimeError as missing:  # pragma: no cover - depends on the machine
        pytest.skip(str(missing))
    page = httpx.get(f"{server.url}/maps/scenario/{scenario}").text
    south, west, north, east = (float(v) for v in re.search(
        r"regiomatch\.fit\(b, \[\[([\d.]+), ([\d.]+)\], \[([\d.]+), ([\d.]+)\]\]\)", page).groups())
    with Browser(*size) as browser:
        loaded = browser.load(f"{server.url}/maps/scenario/{scenario}", ready=LEAFLET_READY, timeout=60)
        assert loaded.errors == []
        time.sleep(0.5)
        views = browser.run("""return Object.values(window).filter(v => v instanceof L.Map).map(function (m) {
            var b = m.getBounds(), c = m.getCenter();
            return [m.getZoom(), c.lat, c.lng, b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; });""")
        browser.screenshot(tmp_path / "scenario.png")
    assert len(views) == 2
    (z1, *c1), (z2, *c2) = [v[:3] for v in views]
    assert z1 == z2 and all(abs(a - b) < 1e-6 for a, b in zip(c1, c2)), views
    for _, _, _, s, w, n, e in views:
        assert s <= south and w <= west and n >= north and e >= east, (views, (south, west, north, east))


@pytest.mark.pdf
def test_the_comparison_pdf_is_laid_out_for_reading(server, scenario, tmp_path: Path) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is missing: apt-get install poppler-utils")
    response = httpx.get(f"{server.url}/vergelijk.pdf", params={"base": "eerstelijnszone", "other": f"scenario:{scenario}"},
                         timeout=120)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert 'filename="vergelijking_Eerstelijnszones_-_Lendelede_en_Bree.pdf"' in response.headers["content-disposition"]
    pdf = tmp_path / "vergelijking.pdf"
    pdf.write_bytes(response.content)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) <= 3, len(pages)
    for number, text in enumerate(pages[1:], start=2):  # page 1 holds the maps
        body = [line for line in text.splitlines() if line.strip() and "Statbel" not in line and "pagina" not in line]
        assert len(body) > 15, (number, body)  # no page carries a lone table row
    assert "Uitleg" not in pages[1]  # the explanation sits under each measure, not in a narrow column


def test_the_comparison_maps_show_all_of_flanders_when_the_moves_span_it() -> None:
    from geo.paths import SHIPPED_DATA
    from maps.comparison_png import _drawn_municipalities, view_bounds

    munis = _drawn_municipalities(SHIPPED_DATA)
    x0, y0, x1, y1 = (float(v) for v in munis.total_bounds)
    west, south, east, north = view_bounds(munis, [34025, 34022, 72004, 72041])
    assert west < x0 and south < y0 and east > x1 and north > y1
    west, south, east, north = view_bounds(munis, [34025, 34022])  # around Kortrijk only
    assert east < x0 + (x1 - x0) / 2
