"""Shared fixtures: the real shipped catalog, and the app on a throwaway database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from geo.reference.catalog import Catalog, load_catalog

if TYPE_CHECKING:
    from api.settings import Settings

# CI replays the same examples every run, so a red build is reproducible and not a dice roll;
# on developers' machines hypothesis keeps exploring new inputs (that is how the fuzz test found
# the xlsx control-character bug).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")

# Every app a test starts (hundreds) would otherwise prepare all maps' geometry in a thread and
# load the PDF renderer: seconds of CPU each. tests/test_warmup.py turns it on where it is tested.
os.environ.setdefault("REGIOMATCH_WARM_UP", "0")
# Starlette's test client sends 'Host: testserver'; the service answers only the host names it is
# configured for (api/security.py), and loopback names always.
os.environ.setdefault("REGIOMATCH_ALLOWED_HOSTS", "testserver")
# The association layer is served on a date (default today): pinned, so figures do not follow the calendar.
from conftest import AS_OF  # noqa: E402  (the root conftest: doctests use the same date)

os.environ["REGIOMATCH_AS_OF"] = AS_OF
# No test writes to the checkout's var/ (a developer's own saved work): an app made without a
# state directory of its own (e.g. at a test module's import) gets a throwaway one per worker.
if "REGIOMATCH_STATE_DIR" not in os.environ:
    import tempfile

    os.environ["REGIOMATCH_STATE_DIR"] = tempfile.mkdtemp(prefix="regiomatch-tests-")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """One line when system packages are missing: the tests needing them skip, the rest run."""
    from tests.system import missing_packages

    missing = missing_packages()
    if not missing:
        return []
    packages = " ".join(missing)
    return [f"missing system packages: {packages}; the tests needing them are skipped "
            f"(install as root with `make system-deps`, or apt-get install -y {packages})"]


# What makes a test slow, named by marker so `make check` can leave it out (pyproject registers them).
# A test is marked by what it uses, so a new browser or server test is marked without anyone
# remembering: the `browser` / `server` fixtures, a server started in its body, a PDF printed.
_MARK_BY_FIXTURE = {"browser": "browser", "server": "server"}
_MARK_BY_SOURCE = {"server": ("Server(", "served_app(", "run_cli(", "subprocess.", "Popen("),
                   "pdf": (".pdf", "pdf(", "application/pdf", "pdftoppm", "print_ahead", "format=pdf")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import inspect

    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        marks = {mark for fixture, mark in _MARK_BY_FIXTURE.items() if fixture in names}
        function = getattr(item, "function", None)
        if function is not None:
            try:
                source = inspect.getsource(function)
            except (OSError, TypeError):
                source = ""
            marks |= {mark for mark, needles in _MARK_BY_SOURCE.items() if any(n in source for n in needles)}
            if "pdf" in function.__name__:
                marks.add("pdf")
        for mark in marks - {m.name for m in item.iter_markers()}:
            item.add_marker(getattr(pytest.mark, mark))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Skips for a missing system package share one location, so ``-ra`` folds them into one line
    ("SKIPPED [12] tests/system.py: needs the system packages chromium chromium-driver: ...")."""
    from tests.system import SKIP_MARK

    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple) and SKIP_MARK in str(report.longrepr[2]):
        report.longrepr = ("tests/system.py", None, report.longrepr[2])


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def tiny() -> Catalog:
    """Six hand-made municipalities and two layers (tests/fixtures.py), for engine unit tests."""
    from tests.fixtures import tiny_catalog

    return tiny_catalog()


def reset_app_caches() -> None:
    """Forget the workspaces opened in this process (they are keyed by data folder, database URL,
    year and date): only for a test that opens the same database again and needs a fresh
    workspace object (a restart). Settings need no reset: :func:`api.settings.get_settings` is
    keyed by the environment, and an app made by ``create_app(settings)`` reads only its own."""
    from geo.storage.workspace import open_workspace

    open_workspace.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The app's settings for one test: a fresh state directory (SQLite database), no token, no
    database URL; the rest from the environment (this file pins the date, the host names and no
    warm-up; ``population_2020`` the year). Change some for one app:
    ``create_app(settings.model_copy(update={"api_token": "t"}))``."""
    from api.settings import Settings

    return Settings(state_dir=tmp_path / "state", api_token=None, database_url=None)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same fresh state directory as ``settings``, also in the environment: for a test that
    runs the CLI in-process or reads :func:`api.settings.get_settings` beside the app."""
    monkeypatch.setenv("REGIOMATCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("REGIOMATCH_API_TOKEN", raising=False)
    monkeypatch.delenv("REGIOMATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path / "state"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app (every router) on a throwaway SQLite database."""
    from api.main import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Clients of apps on this test's settings with some changed, closed after the test:
    ``make_client(api_token="t")``."""
    from api.main import create_app

    with ExitStack() as stack:
        def make(**changes: object) -> TestClient:
            app = create_app(settings.model_copy(update=changes))
            return stack.enter_context(TestClient(app))

        yield make


# Golden figures written against Statbel's municipal count of 1 January 2020 pin that year (the
# default is the latest year shipped): in a module, ``catalog = catalog_2020`` and
# ``pytestmark = pytest.mark.usefixtures("population_2020")`` for the app.
GOLDEN_YEAR = 2020


@pytest.fixture(scope="session")
def catalog_2020() -> Catalog:
    return load_catalog(population_year=GOLDEN_YEAR)


@pytest.fixture
def population_2020(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app serves the pinned golden year: in the environment, so the ``settings`` fixture and
    a command run in-process read it (``get_settings`` is keyed by the environment: nothing to reset)."""
    monkeypatch.setenv("REGIOMATCH_POPULATION_YEAR", str(GOLDEN_YEAR))
    yield
