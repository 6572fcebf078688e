"""Shared fixtures: the real shipped catalog, and the app on a throwaway database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import os

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from geo.catalog import Catalog, load_catalog

# CI replays the same examples every run, so a red build is reproducible and not a dice roll;
# on developers' machines hypothesis keeps exploring new inputs (that is how the fuzz test found
# the xlsx control-character bug).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def reset_app_caches() -> None:
    """Settings and workspaces are cached per process; tests that change the environment reset them."""
    from api import deps, settings

    settings.get_settings.cache_clear()
    deps._workspace.cache_clear()


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh state directory (SQLite database) for one test; no token unless a test sets one."""
    monkeypatch.setenv("REGIOMATCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("REGIOMATCH_API_TOKEN", raising=False)
    monkeypatch.delenv("REGIOMATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_app_caches()
    yield tmp_path / "state"
    reset_app_caches()


@pytest.fixture
def client(state_dir: Path) -> Iterator[TestClient]:
    """The real app (every router) on a throwaway SQLite database."""
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


# Golden figures written against Statbel's municipal count of 1 January 2020 pin that year (the
# default is the latest year shipped): in a module, ``catalog = catalog_2020`` and
# ``pytestmark = pytest.mark.usefixtures("population_2020")`` for the app.
GOLDEN_YEAR = 2020


@pytest.fixture(scope="session")
def catalog_2020() -> Catalog:
    return load_catalog(population_year=GOLDEN_YEAR)


@pytest.fixture
def population_2020(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app serves the pinned golden year (settings are read when the client starts)."""
    monkeypatch.setenv("REGIOMATCH_POPULATION_YEAR", str(GOLDEN_YEAR))
    reset_app_caches()
