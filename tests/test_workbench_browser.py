"""The workbench in a real headless Chromium against the real server, doing what the administration
does: move Lendelede into Kortrijk's zone and watch W13's zones touched drop from 4 to 3, undo and
redo, paint Bree and Oudsbergen into Noord-Limburg until WRNL is one zone, save, reload and find
the moves, survive a stale save, compare with today, export CSV. Any JavaScript error or failed
request fails the test (the browser log is read after every step)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.browser_support import LEAFLET_READY, Browser, find_browser, served_app

try:
    find_browser()
except RuntimeError as missing:  # pragma: no cover - depends on the machine
    pytest.skip(str(missing), allow_module_level=True)
pytest.importorskip("selenium", reason="pip install selenium")

EVALUATED = "return document.body.getAttribute('data-evaluated') !== 'pending' && !!document.body.getAttribute('data-evaluated');"


@pytest.fixture(scope="module")
def server():
    with served_app() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with Browser(1400, 950) as b:
        yield b


def wait(browser: Browser, script: str, timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = browser.run(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"never true: {script}; errors: {browser.errors()}")
        time.sleep(0.1)


def touched(browser: Browser, code: str) -> tuple[int, int]:
    """(before, after) of the 'zones geraakt' cell of an association, once the page has it."""
    cell = wait(browser, f"return document.querySelector('table.fit[data-layer=samenwerkingsverband] tr[data-code={code}] td.touched');")
    return int(cell.get_attribute("data-before")), int(cell.get_attribute("data-after"))


def settled(browser: Browser) -> None:
    wait(browser, EVALUATED)


def click_municipality(browser: Browser, nis: int) -> None:
    """Zoom the map onto the municipality (as a user would), then click its polygon."""
    from selenium.webdriver.common.by import By

    browser.run(f"var w = window.regiomatchWorkbench; w.map.fitBounds(w.shapes['{nis}'].getBounds(), {{animate: false, maxZoom: 11}});")
    time.sleep(0.3)
    browser.driver.find_element(By.CSS_SELECTOR, f"path.nis-{nis}").click()


def assert_clean(browser: Browser, allowed: tuple[str, ...] = ()) -> None:
    errors = [e for e in browser.errors() if not any(a in e for a in allowed)]
    assert errors == [], errors


def test_the_administration_tests_a_zoning(server, browser: Browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    page = browser.load(server.url + "/werkbank?base=eerstelijnszone", ready=LEAFLET_READY, timeout=60)
    assert page.errors == []
    settled(browser)
    assert touched(browser, "W13") == (4, 4)

    # Lendelede: click it on the map, pick Kortrijk-Kuurne-Harelbeke among its neighbours' zones.
    click_municipality(browser, 34025)
    wait(browser, "return document.querySelector('.popup-zones button[data-zone=elz18]');").click()
    settled(browser)
    assert wait(browser, "var t = document.querySelector('table.fit[data-layer=samenwerkingsverband] tr[data-code=W13] td.touched'); return t && t.getAttribute('data-after') === '3';")
    assert touched(browser, "W13") == (4, 3)
    assert_clean(browser)

    browser.driver.find_element(By.ID, "wb-undo").click()
    wait(browser, "var t = document.querySelector('tr[data-code=W13] td.touched'); return t && t.getAttribute('data-after') === '4';")
    assert browser.run("return document.querySelectorAll('#wb-move-list li').length") == 0
    browser.driver.find_element(By.ID, "wb-redo").click()
    wait(browser, "var t = document.querySelector('tr[data-code=W13] td.touched'); return t && t.getAttribute('data-after') === '3';")

    # Brussels cannot be moved, and the page says why.
    click_municipality(browser, 21015)  # Schaarbeek
    assert "Brussels Hoofdstedelijk Gewest" in browser.driver.find_element(By.ID, "wb-status").text

    # Bree and Oudsbergen painted into Noord-Limburg: WRNL becomes one zone.
    assert touched(browser, "WRNL")[0] > 1
    Select(browser.driver.find_element(By.ID, "wb-paint")).select_by_value("elz28")
    click_municipality(browser, 72004)
    settled(browser)
    click_municipality(browser, 72042)
    wait(browser, "var t = document.querySelector('tr[data-code=WRNL] td.touched'); return t && t.getAttribute('data-after') === '1';")
    Select(browser.driver.find_element(By.ID, "wb-paint")).select_by_value("")
    assert browser.run("return Array.from(document.querySelectorAll('#wb-move-list li')).map(function (l) { return l.getAttribute('data-nis'); });") == ["34025", "72004", "72042"]
    assert_clean(browser)
    browser.screenshot(tmp_path / "workbench.png")

    # Save, then reload and find the moves.
    browser.driver.find_element(By.ID, "wb-name").send_keys("Lendelede en Noord-Limburg")
    browser.driver.find_element(By.ID, "wb-save-button").click()
    wait(browser, "return document.getElementById('wb-save-status').textContent.indexOf('Opgeslagen') >= 0;")
    path = browser.run("return location.pathname;")
    assert path.startswith("/werkbank/")
    scenario_id = path.rsplit("/", 1)[1]
    browser.load(server.url + path, ready=LEAFLET_READY, timeout=60)
    settled(browser)
    assert browser.run("return Array.from(document.querySelectorAll('#wb-move-list li')).map(function (l) { return l.getAttribute('data-nis'); });") == ["34025", "72004", "72042"]
    assert touched(browser, "W13") == (4, 3) and touched(browser, "WRNL")[1] == 1
    assert_clean(browser)

    # Someone else saves in between: a clear Dutch message, and the moves stay on the page.
    other = httpx.patch(f"{server.url}/api/v1/scenarios/{scenario_id}", json={"description": "door een collega", "version": 1})
    assert other.status_code == 200
    browser.run("regiomatchWorkbench.move([['34027', 'elz18']]);")
    settled(browser)
    browser.driver.find_element(By.ID, "wb-save-button").click()
    wait(browser, "return document.getElementById('wb-save-status').textContent.indexOf('Iemand anders') >= 0;")
    assert browser.run("return document.querySelectorAll('#wb-move-list li').length") == 4
    assert_clean(browser, allowed=("409",))  # the refused save itself, expected
    saved = httpx.get(f"{server.url}/api/v1/scenarios/{scenario_id}").json()
    assert len(saved["moves"]) == 3  # nothing of the stale save got in

    # Compare with today: both maps, the moved municipalities, Dutch measures.
    href = browser.driver.find_element(By.ID, "wb-compare-link").get_attribute("href")
    browser.load(href, ready=LEAFLET_READY, timeout=60)
    wait(browser, "return document.querySelectorAll('#cmp-left path').length > 100 && document.querySelectorAll('#cmp-right path').length > 100;")
    moved = browser.run("return Array.from(document.querySelectorAll('#cmp-moved tr[data-nis]')).map(function (r) { return r.getAttribute('data-nis'); });")
    assert sorted(moved) == ["34025", "72004", "72042"]
    assert "nested_share" not in browser.driver.page_source
    assert_clean(browser)

    # Export CSV from the workbench's link: Belgian Excel's format, the moves in it.
    browser.load(server.url + path, ready=LEAFLET_READY, timeout=60)
    csv_href = browser.driver.find_element(By.ID, "wb-export-csv").get_attribute("href")
    response = httpx.get(csv_href)
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(response.content), sep=";", encoding="utf-8-sig")
    assert set(frame.loc[frame["verschoven"] == "ja", "NIS-code"]) == {34025, 72004, 72042}
    assert_clean(browser)
