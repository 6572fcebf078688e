"""The fit atlas in a real headless Chromium: filter, read the headline, sort, follow to a report."""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser_support import browser, server  # noqa: F401  (shared module-scoped fixtures)

BROWSER_SIZE = (1280, 1400)
SCREENSHOTS = Path(os.environ.get("REGIOMATCH_SCREENSHOTS", "/tmp/regiomatch-screenshots"))


def test_atlas_filters_sorts_and_links_to_the_fit_report(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    page = browser.load(server.url + "/atlas")
    assert page.errors == []
    headline = browser.driver.find_element(By.ID, "kop").text
    assert "actieve samenwerkingsverbanden overschrijden een grens van een referentieregio" in headline
    image = browser.driver.find_element(By.CSS_SELECTOR, "#kaart + figure img")
    assert browser.driver.execute_script("return arguments[0].naturalWidth", image) > 500  # the map decoded

    Select(browser.driver.find_element(By.ID, "against")).select_by_value("eerstelijnszone")
    Select(browser.driver.find_element(By.ID, "type")).select_by_value("OCMW vereniging")
    browser.driver.find_element(By.CSS_SELECTOR, "form[aria-label=filters] button").click()
    # The form submits by navigating: wait for the new address before reading the page (reading
    # current_url straight after the click raced with the navigation and made this test flaky).
    WebDriverWait(browser.driver, 20).until(lambda d: "against=" in d.current_url)
    page = browser.load(browser.driver.current_url)
    assert page.errors == []
    assert "against=eerstelijnszone" in page.url and "OCMW" in page.url
    assert "van het type OCMW vereniging" in browser.driver.find_element(By.ID, "kop").text
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#atlas-tabel tbody tr")
    types = {r.find_elements(By.TAG_NAME, "td")[1].text for r in rows}
    assert types == {"OCMW vereniging"}

    # Click "Inwoners" to sort in place, largest first after a second click.
    header = browser.driver.find_elements(By.CSS_SELECTOR, "#atlas-tabel thead th")[3]
    header.click()
    header.click()
    first = browser.driver.find_elements(By.CSS_SELECTOR, "#atlas-tabel tbody tr td:nth-child(4)")
    values = [int(c.get_attribute("data-value")) for c in first]
    assert values == sorted(values, reverse=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = browser.screenshot(SCREENSHOTS / "atlas.png")
    assert shot.stat().st_size > 20_000

    link = browser.driver.find_element(By.CSS_SELECTOR, "#atlas-tabel tbody tr td a")
    target = link.get_attribute("href")
    link.click()
    page = browser.load(browser.driver.current_url)
    assert page.url == target and "/reports/samenwerkingsverbanden/" in page.url
    assert page.errors == []


def test_zone_page_deep_links_to_overlapping_zones(server, browser):
    from selenium.webdriver.common.by import By

    page = browser.load(server.url + "/search?q=RITS")
    assert page.errors == []
    assert "/zones/eerstelijnszone/" in page.url  # the only exact match opens straight away
    assert browser.driver.find_element(By.TAG_NAME, "h1").text == "RITS"
    link = browser.driver.find_element(By.CSS_SELECTOR, "#overlappingen-tabel a[href^='/zones/politiezone/']")
    link.click()
    page = browser.load(browser.driver.current_url)
    assert "/zones/politiezone/" in page.url and page.errors == []
    browser.screenshot(SCREENSHOTS / "zone.png")
