"""Dead ends a planner met in the browser (issue 26, item 11): an unknown zone code answered raw
English JSON, "Lendelde 8860" found nothing, the search box had no suggestions while typing, and no
page had an icon."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.browser_support import LEAFLET_READY, Browser, browser, find_browser, server, wait  # noqa: F401

pytestmark = pytest.mark.browser

try:
    find_browser()
except RuntimeError as missing:  # pragma: no cover - depends on the machine
    pytest.skip(str(missing), allow_module_level=True)
pytest.importorskip("selenium", reason="pip install selenium")




def test_an_unknown_zone_code_is_a_dutch_page_with_suggestions(server, browser: Browser, tmp_path: Path) -> None:
    browser.load(server.url + "/zones/eerstelijnszone/elz999")
    text = browser.run("return document.body.innerText;")
    assert "Zone niet gevonden" in text and "elz999" in text and '"detail"' not in text
    links = browser.run("return Array.from(document.querySelectorAll('main a')).map(function (a) { return a.getAttribute('href'); });")
    assert any(h.startswith("/zones/eerstelijnszone/elz") for h in links), links
    assert browser.run("return !!document.querySelector('input[type=search][name=q]');")
    browser.screenshot(tmp_path / "zone-404.png")
    # The API keeps its JSON.
    response = httpx.get(server.url + "/api/v1/layers/eerstelijnszone/zones/elz999")
    assert response.status_code == 404 and response.json()["code"] == "unknown_zone"


def test_a_name_with_a_typo_and_a_postal_code_finds_the_municipality(server, browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    browser.load(server.url + "/")
    box = browser.driver.find_element(By.CSS_SELECTOR, "input[type=search][name=q]")
    box.send_keys("Lendelde 8860")
    box.submit()
    wait(browser, "return location.pathname !== '/';")
    assert browser.run("return location.pathname;") == "/municipalities/34025"


def test_the_search_box_suggests_while_typing(server, browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    browser.load(server.url + "/")
    box = browser.driver.find_element(By.CSS_SELECTOR, "input[type=search][name=q]")
    box.send_keys("Lende")
    wait(browser, "return document.body.getAttribute('data-suggested') === 'Lende';")
    options = browser.run("var l = document.getElementById(document.querySelector('input[name=q]').getAttribute('list'));"
                          "return Array.from(l.options).map(function (o) { return [o.value, o.label]; });")
    assert ["Lendelede", "gemeente, NIS 34025"] in options, options
    assert browser.errors() == []


@pytest.mark.parametrize("path", ["/", "/werkbank?base=eerstelijnszone",
                                  "/maps/overlay?a=samenwerkingsverband&b=eerstelijnszone"])
def test_every_page_has_an_icon(server, browser: Browser, path: str) -> None:
    browser.load(server.url + path, ready=LEAFLET_READY if "base=" in path or "maps" in path else
                 "return document.readyState === 'complete';", timeout=60)
    href = browser.run("var l = document.querySelector('link[rel~=icon]'); return l && l.href;")
    assert href and not href.startswith("data:"), href
    icon = httpx.get(href)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert browser.errors() == []
