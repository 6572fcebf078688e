"""The Alternatieven page in a real headless Chromium against the real server: set a small run,
start it, see the progress bar move, get the histograms and the per-association table, open a
plan in the workbench. Any JavaScript error (a CSP violation included) fails the test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import Browser, browser, find_browser, server, wait  # noqa: F401  (shared fixtures)

BROWSER_SIZE = (1280, 1400)
# Where the screenshot is kept for a person to look at (pytest's tmp_path otherwise).
SCREENSHOTS = os.environ.get("REGIOMATCH_SCREENSHOTS")

try:
    find_browser()
except RuntimeError as missing:  # pragma: no cover - depends on the machine
    pytest.skip(str(missing), allow_module_level=True)
pytest.importorskip("selenium", reason="pip install selenium")

pytestmark = [pytest.mark.browser, pytest.mark.server]




def test_a_civil_servant_runs_a_small_ensemble_and_opens_a_plan(server, browser: Browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    page = browser.load(server.url + "/alternatieven?layer=eerstelijnszone",
                        ready="return !!(window.regiomatchAlternatives && window.regiomatchAlternatives.ready);")
    assert page.errors == []
    assert "Alternatieven voor Eerstelijnszones" in page.title
    # The norm is filled in by default; a small run for the test.
    assert browser.run("return document.getElementById('alt-lower').value") != ""
    for field, value in (("alt-plans", "16"), ("alt-chains", "2"), ("alt-seed", "11")):
        element = browser.driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)

    # Impossible rules first: the Dutch reason at once, nothing started.
    lower = browser.driver.find_element(By.ID, "alt-lower")
    lower.clear()
    lower.send_keys("5000000")
    browser.driver.find_element(By.ID, "alt-start").click()
    message = wait(browser, "var s = document.getElementById('alt-form-status'); "
                            "return s.className === 'warn' && s.textContent;")
    assert "ondergrens" in message and "/alternatieven/" not in browser.driver.current_url
    # The browser logs the refused request itself; that is the one expected entry.
    assert [e for e in browser.errors() if "status of 422" not in e] == []
    lower.clear()
    browser.driver.find_element(By.ID, "alt-start").click()

    # The job page: a progress bar that moves (or the results at once when it was quick), then results.
    wait(browser, "return location.pathname.indexOf('/alternatieven/') === 0;")
    seen_progress = browser.run("return !!document.getElementById('alt-progress');")
    wait(browser, "return document.querySelectorAll('svg.histogram').length >= 6;", timeout=240)
    assert seen_progress or browser.run("return document.getElementById('alt-job').dataset.status") == "done"
    assert browser.errors() == []
    rows = browser.run("return document.querySelectorAll('table.ensemble-associations tbody tr').length")
    assert rows >= 4
    assert "W13" in browser.run("return document.querySelector('table.ensemble-associations').textContent")
    statement = browser.run("return document.querySelector('.pass, .fail').textContent")
    assert "keten" in statement
    shot = browser.screenshot(Path(SCREENSHOTS or tmp_path) / "alternatieven.png")
    assert shot.stat().st_size > 10_000

    # Open the best plan in the workbench: it is saved as a scenario and opens there.
    browser.driver.find_element(By.CSS_SELECTOR, "button.alt-save[data-open=werkbank]").click()
    wait(browser, "return location.pathname.indexOf('/werkbank/') === 0;")
    heading = wait(browser, "var h = document.querySelector('h1'); return h && h.textContent;")
    assert "scenario “Alternatief" in heading


def test_a_long_run_shows_its_progress_and_can_be_cancelled(server, browser: Browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.load(server.url + "/alternatieven?layer=eerstelijnszone",
                 ready="return !!(window.regiomatchAlternatives && window.regiomatchAlternatives.ready);")
    for field, value in (("alt-plans", "20000"), ("alt-chains", "2"), ("alt-seed", "12")):
        element = browser.driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    browser.driver.find_element(By.ID, "alt-start").click()
    wait(browser, "return location.pathname.indexOf('/alternatieven/') === 0 && !!document.getElementById('alt-progress');")
    # The bar follows the job: it moves above zero while the chains run.
    wait(browser, "return document.getElementById('alt-progress').value > 0;", timeout=120)
    assert "Wordt berekend" in browser.run("return document.getElementById('alt-progress-text').textContent")
    browser.screenshot(Path(SCREENSHOTS or tmp_path) / "alternatieven_bezig.png")
    browser.driver.find_element(By.ID, "alt-cancel").click()
    # Once stopped, the page reloads and says so, with a way to start it again.
    wait(browser, "var s = document.getElementById('alt-job'); return s && s.dataset.status === 'cancelled';", timeout=90)
    assert browser.driver.find_element(By.ID, "alt-again").is_displayed()
    assert browser.errors() == []
