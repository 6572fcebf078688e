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

from tests.browser_support import LEAFLET_READY, Browser, browser, find_browser, server, wait  # noqa: F401  (shared fixtures)

BROWSER_SIZE = (1400, 950)

try:
    find_browser()
except RuntimeError as missing:  # pragma: no cover - depends on the machine
    pytest.skip(str(missing), allow_module_level=True)
pytest.importorskip("selenium", reason="pip install selenium")

EVALUATED = "return document.body.getAttribute('data-evaluated') !== 'pending' && !!document.body.getAttribute('data-evaluated');"




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

    # Suggestions on top of these moves: each explained, accepted or rejected one by one.
    browser.driver.find_element(By.ID, "wb-max-moves").clear()
    browser.driver.find_element(By.ID, "wb-max-moves").send_keys("2")
    browser.driver.find_element(By.ID, "wb-suggest-run").click()
    steps = wait(browser, "var s = document.querySelectorAll('#wb-steps li[data-step]'); return s.length ? s.length : null;", timeout=60)
    assert 1 <= steps <= 2
    explanation = browser.run("return document.querySelector('#wb-steps li[data-step] p').textContent;")
    assert " naar " in explanation and "inw." in explanation
    moves = "return JSON.stringify(regiomatchWorkbench.moves());"
    before = browser.run(moves)
    browser.driver.find_element(By.CSS_SELECTOR, "#wb-steps li[data-step] button").click()  # Aanvaarden
    wait(browser, f"return JSON.stringify(regiomatchWorkbench.moves()) !== {before!r};")
    assert "accepted" in browser.run("return document.querySelector('#wb-steps li[data-step]').className;")
    settled(browser)
    browser.driver.find_element(By.ID, "wb-undo").click()  # not this one after all
    wait(browser, f"return JSON.stringify(regiomatchWorkbench.moves()) === {before!r};")
    settled(browser)
    assert_clean(browser)

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


@pytest.fixture(scope="module")
def token_server():
    """Two worker processes and a configured token: nothing may live in one process only."""
    import tempfile

    from tests.server import Server

    with tempfile.TemporaryDirectory(prefix="regiomatch-state-") as state:
        env = {"REGIOMATCH_STATE_DIR": state, "REGIOMATCH_API_TOKEN": "werkbank-sleutel",
               "REGIOMATCH_DATABASE_URL": "", "DATABASE_URL": ""}
        running = Server(env, workers=2).start(timeout=120)  # two processes load the data: slower under load
        try:
            yield running
        finally:
            running.stop()


def test_sign_in_then_save_and_import_from_the_browser_with_two_workers(token_server, browser: Browser,
                                                                       tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url = token_server.url
    browser.driver.delete_all_cookies()
    browser.load(url + "/werkbank?base=eerstelijnszone", ready=LEAFLET_READY, timeout=60)
    settled(browser)
    assert browser.driver.find_element(By.ID, "wb-signin").is_displayed()

    # Without signing in, saving is refused in Dutch and the moves stay.
    browser.run("regiomatchWorkbench.move([['34025', 'elz18']]);")
    settled(browser)
    browser.driver.find_element(By.ID, "wb-name").send_keys("Met sleutel")
    browser.driver.find_element(By.ID, "wb-save-button").click()
    wait(browser, "return document.getElementById('wb-save-status').textContent.indexOf('aanmelding') >= 0;")
    assert browser.run("return document.querySelectorAll('#wb-move-list li').length") == 1
    assert_clean(browser, allowed=("401",))

    # Sign in: a wrong key is refused, the right one brings the user back to the workbench.
    browser.driver.find_element(By.ID, "wb-signin-link").click()
    wait(browser, "return !!document.getElementById('token');")
    browser.driver.find_element(By.ID, "token").send_keys("fout")
    browser.driver.find_element(By.CSS_SELECTOR, "form[action='/aanmelden'] button").click()
    wait(browser, "return document.body.textContent.indexOf('klopt niet') >= 0;")
    browser.driver.find_element(By.ID, "token").send_keys("werkbank-sleutel")
    browser.driver.find_element(By.CSS_SELECTOR, "form[action='/aanmelden'] button").click()
    wait(browser, "return location.pathname === '/werkbank' && !!window.regiomatchWorkbench;")
    session = browser.driver.get_cookie("regiomatch_session")
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert browser.run("return document.cookie.indexOf('regiomatch_session')") == -1  # not readable by scripts
    settled(browser)
    browser.run("regiomatchWorkbench.move([['34025', 'elz18']]);")
    settled(browser)
    browser.driver.find_element(By.ID, "wb-name").send_keys("Met sleutel")
    browser.driver.find_element(By.ID, "wb-save-button").click()
    wait(browser, "return document.getElementById('wb-save-status').textContent.indexOf('Opgeslagen') >= 0;")
    # Errors of the page before signing in (the refused 401s) are behind us: this page is clean.
    assert_clean(browser, allowed=("401",))

    # Import a layer: every problem row at once, then the preview, then save and delete.
    bad = tmp_path / "sel.csv"
    bad.write_text("nis_code;zone_code\n34022;A\nGeenstad;A\n34025;\n", encoding="utf-8")
    good = tmp_path / "sel_goed.csv"
    good.write_text("gemeente;zone_code;zone_name\nKortrijk;Z1;Kortrijk e.o.\nLendelede;Z1;Kortrijk e.o.\n",
                    encoding="utf-8")
    browser.load(url + "/lagen/nieuw")
    browser.driver.find_element(By.ID, "ln-id").send_keys("sel")
    browser.driver.find_element(By.ID, "ln-file").send_keys(str(bad))
    browser.driver.find_element(By.ID, "ln-preview-button").click()
    problems = wait(browser, "var l = document.querySelectorAll('#ln-problems li'); return l.length ? Array.from(l).map(function (x) { return x.textContent; }) : null;")
    assert [p.split(":")[0] for p in problems] == ["rij 3", "rij 4"]
    browser.driver.find_element(By.ID, "ln-file").send_keys(str(good))
    browser.driver.find_element(By.ID, "ln-preview-button").click()
    assert wait(browser, "return document.querySelectorAll('#ln-members tbody tr').length;") == 2
    browser.driver.find_element(By.ID, "ln-save").click()
    wait(browser, "return document.getElementById('ln-preview').textContent.indexOf('opgeslagen') >= 0;")
    assert httpx.get(url + "/api/v1/layers/sel").status_code == 200
    browser.load(url + "/lagen/nieuw")
    browser.driver.find_element(By.CSS_SELECTOR, "button[data-delete-layer=sel]").click()
    browser.driver.switch_to.alert.accept()
    wait(browser, "return !document.querySelector('button[data-delete-layer=sel]');")
    assert httpx.get(url + "/api/v1/layers/sel").status_code == 404
    assert_clean(browser)
