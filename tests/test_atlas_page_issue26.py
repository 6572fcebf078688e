"""The atlas page one screen at a time (issue 26, item 7): it was 59,394 px long (74,622 px against the
primary care zones) with a table wider than the page. Now the headline and the map come first, the
tables scroll in their own box, long member lists are folded, and nothing is wider than the window."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import Browser, browser, find_browser, server  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.browser

try:
    find_browser()
except RuntimeError as missing:  # pragma: no cover - depends on the machine
    pytest.skip(str(missing), allow_module_level=True)
pytest.importorskip("selenium", reason="pip install selenium")

BROWSER_SIZE = (1280, 800)
MEASURE = """
var table = document.getElementById('atlas-tabel'), box = table.parentNode;
return {height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,
        inner: innerWidth, screen: innerHeight, table: table.scrollWidth, box: box.clientWidth,
        headline: document.getElementById('kop').getBoundingClientRect().bottom,
        map: document.querySelector('#kaart').getBoundingClientRect().top,
        folded: document.querySelectorAll('#atlas-tabel td details').length,
        rows: table.tBodies[0].rows.length};
"""


@pytest.mark.parametrize("query", ["", "?against=eerstelijnszone", "?status=alle"])
def test_the_atlas_reads_one_screen_at_a_time(server, browser: Browser, query: str, tmp_path: Path) -> None:
    page = browser.load(server.url + "/atlas" + query, timeout=90)
    assert page.errors == []
    m = browser.run(MEASURE)
    browser.screenshot(tmp_path / "atlas.png")
    assert m["rows"] > 200  # every association is still there
    assert m["height"] < 4000, m  # was 59,394 px
    assert m["width"] <= m["inner"] and m["table"] <= m["box"] + 1, m  # nothing wider than the window
    assert m["headline"] < m["screen"] and m["map"] < m["screen"], m  # headline and map on the first screen
    assert m["folded"] > 20, m  # long lists of members outside are folded
