"""Drive a real headless Chromium against the real server, for tests of pages and maps.

Generic on purpose (maps, landing page, reports)::

    with served_app() as server, Browser() as browser:
        page = browser.load(server.url + "/maps/overlay?a=...&b=...", ready=LEAFLET_READY)
        assert page.errors == []
        browser.screenshot(tmp_path / "map.png")

Chromium and chromedriver come from Debian (``make system-deps`` installs them as root; without
them these tests skip with one line saying so). Selenium is pointed at that chromedriver so Selenium Manager never tries
to download a browser. Errors are collected three ways: ``window.onerror`` and unhandled promise
rejections (recorded by a script installed before any page script runs) and SEVERE entries of
the browser console, which include resources that failed to load.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.server import Server
from tests.system import require_browser

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")

# True once a Leaflet map has drawn its vector layers (an SVG path or a canvas), no tile is
# pending and regiomatch's loader has drawn every geometry it fetched: the condition a map test waits for.
LEAFLET_READY = """
return !!(window.L && document.querySelector('.leaflet-container')
          && document.querySelector('.leaflet-overlay-pane, .leaflet-pane')
          && document.querySelectorAll('.leaflet-pane svg path, .leaflet-pane canvas').length > 0
          && !document.querySelector('.leaflet-zoom-anim')
          && (!window.regiomatch || window.regiomatch.ready)
          && document.readyState === 'complete');
"""

_ERROR_HOOK = """
window.__browserErrors = [];
window.addEventListener('error', function (e) {
    var where = e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : '';
    var what = e.message || (e.target && (e.target.src || e.target.href) ? 'failed to load ' + (e.target.src || e.target.href) : 'error');
    window.__browserErrors.push(what + where);
}, true);
window.addEventListener('unhandledrejection', function (e) {
    window.__browserErrors.push('unhandled rejection: ' + (e.reason && e.reason.message || e.reason));
});
"""


def find_browser() -> tuple[str, str]:
    """Paths of chromium and chromedriver; without them the calling test is skipped with one line
    naming the packages to install (see :mod:`tests.system`)."""
    return require_browser()


@dataclass
class Page:
    """What a loaded page left behind: its URL, title and every JavaScript/console error."""

    url: str
    title: str
    errors: list[str] = field(default_factory=list)


class Browser:
    """A headless Chromium with a throwaway profile; use as a context manager."""

    def __init__(self, width: int = 1280, height: int = 860):
        self.width, self.height = width, height
        self.driver = None
        self._profile: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> "Browser":
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, chromedriver = find_browser()
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile.name}")
        options.add_argument(f"--window-size={self.width},{self.height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        self.driver.set_page_load_timeout(60)
        # Installed for every document before its own scripts, so early errors are caught too.
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ERROR_HOOK})
        return self

    def __exit__(self, *exc: object) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    def load(self, url: str, ready: str = "return document.readyState === 'complete';",
             timeout: float = 30.0, settle: float = 0.3) -> Page:
        """Open ``url`` and wait until the JavaScript ``ready`` returns true; then collect errors.

        Raises ``TimeoutError`` (with the errors seen so far) when the page never becomes ready.
        """
        assert self.driver is not None, "use Browser() as a context manager"
        self.driver.get_log("browser")  # drop what earlier pages logged
        self.driver.get(url)
        deadline = time.monotonic() + timeout
        while not self.driver.execute_script(ready):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready within {timeout} s; errors: {self.errors()}")
            time.sleep(0.1)
        time.sleep(settle)  # let the last frame paint before anyone takes a screenshot
        return Page(url=self.driver.current_url, title=self.driver.title, errors=self.errors())

    def errors(self) -> list[str]:
        """JavaScript errors and SEVERE console messages since the last load."""
        assert self.driver is not None
        found = list(self.driver.execute_script("return window.__browserErrors || [];") or [])
        found += [entry["message"] for entry in self.driver.get_log("browser") if entry.get("level") == "SEVERE"]
        return found

    def run(self, script: str, *args: object) -> object:
        assert self.driver is not None
        return self.driver.execute_script(script, *args)

    def screenshot(self, path: Path) -> Path:
        assert self.driver is not None
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.driver.save_screenshot(str(path)):
            raise RuntimeError(f"could not save a screenshot to {path}")
        return path


@contextlib.contextmanager
def served_app(env: dict[str, str] | None = None) -> Iterator[Server]:
    """The real app (``api.main:app``) in a uvicorn subprocess on a free loopback port, on a
    throwaway state directory (SQLite database) and without an API token unless ``env`` sets one."""
    with tempfile.TemporaryDirectory(prefix="regiomatch-state-") as state:
        settings = {"REGIOMATCH_STATE_DIR": state, "REGIOMATCH_API_TOKEN": "", "REGIOMATCH_DATABASE_URL": "",
                    "DATABASE_URL": "", **(env or {})}
        with Server(settings) as server:
            yield server


def wait(browser: "Browser", script: str, timeout: float = 60.0) -> object:
    """Run ``script`` in the page until it returns something true (its value), at most ``timeout``
    seconds; then a TimeoutError naming the script and the page's errors."""
    deadline = time.monotonic() + timeout
    while True:
        value = browser.run(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"never true: {script}; errors: {browser.errors()}")
        time.sleep(0.1)


# -- pytest fixtures shared by the browser test modules (import them by name) ---------------------
try:
    import pytest
except ImportError:  # pragma: no cover - browser_support is also usable from plain scripts
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="module")
    def server():
        """One real server per test module (the fixture of every browser test file)."""
        with served_app() as running:
            yield running

    @pytest.fixture(scope="module")
    def browser(request):
        """One headless Chromium per test module, ``BROWSER_SIZE`` of the module (default 1280 x 800)."""
        width, height = getattr(request.module, "BROWSER_SIZE", (1280, 800))
        with Browser(width=width, height=height) as b:
            yield b
