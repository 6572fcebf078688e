"""Issue 13: after start-up a thread opens the database and prepares what the first map, report
and PDF need, so the first view does not wait; start-up itself does none of it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import warmup
from tests.conftest import reset_app_caches

# The warm-up prints the landing page's reports and loads the PDF renderer.
pytestmark = pytest.mark.pdf


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    """A throwaway state folder, no token, the warm-up on (a test may set REGIOMATCH_WARM_UP=0)."""
    monkeypatch.setenv("REGIOMATCH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REGIOMATCH_WARM_UP", "1")
    monkeypatch.delenv("REGIOMATCH_API_TOKEN", raising=False)
    reset_app_caches()
    yield tmp_path / "state"
    reset_app_caches()


def test_the_warm_up_prepares_every_shipped_layers_geometry_and_the_libraries(state, monkeypatch):
    import api.routes.reports
    from api.main import create_app
    from api.settings import get_settings, workspace_for
    from geo.geometry.polygons import WEB_DETAIL_METRES, _web_geometry

    with TestClient(create_app()) as client:
        assert warmup.wait(timeout=300), "the warm-up did not finish"
        health = client.get("/health").json()["warm_up"]
        ws = workspace_for(get_settings())
        assert health["warm"] is True
        assert health["prepared"][:5] == ["report", "database", "routes", "maps", "geometry"], health
        assert "templates" in health["prepared"] and "images" in health["prepared"]
        # Every shipped layer's geometry is ready at every detail: a map now only looks it up.
        before = _web_geometry.cache_info()
        for layer in ws.catalog.builtin.values():
            for metres in WEB_DETAIL_METRES.values():
                _web_geometry(layer, metres, ws.catalog.data_dir)
        after = _web_geometry.cache_info()
        assert after.misses == before.misses and after.hits == before.hits + 2 * len(ws.catalog.builtin)
        # The geometry a map page names is served from what was prepared.
        page = client.get("/maps/choropleth/eerstelijnszone")
        assert page.status_code == 200
        assert _web_geometry.cache_info().misses == after.misses
        # The PDFs the landing page links to were printed ahead: asking for one prints nothing.
        assert "reports" in health["prepared"] and "features" in health["prepared"]
        landing = client.get("/").text
        assert landing.count("?format=pdf") == len(ws.catalog.builtin["samenwerkingsverband"].zone_codes)

        def no_printing(html, renderer=None):
            raise AssertionError("printed again")

        monkeypatch.setattr(api.routes.reports, "html_to_pdf", no_printing)

        def no_rendering(*args, **kwargs):
            raise AssertionError("rendered again")

        monkeypatch.setattr(api.routes.reports, "report_html", no_rendering)
        for code in ws.catalog.builtin["samenwerkingsverband"].zone_codes:
            pdf = client.get(f"/reports/samenwerkingsverband/{code}?format=pdf")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-"), code
            page = client.get(f"/reports/samenwerkingsverband/{code}")
            assert page.status_code == 200 and code in page.text and "Download als PDF" in page.text, code


def test_without_the_warm_up_the_database_still_opens_after_start_up(state, monkeypatch):
    monkeypatch.setenv("REGIOMATCH_WARM_UP", "0")
    from api.main import create_app

    with TestClient(create_app()) as client:
        assert warmup.wait(timeout=60)
        health = client.get("/health").json()["warm_up"]
        assert health["prepared"] == ["database"] and health["warm"] is True
        assert (state / "regiomatch.sqlite3").exists()


def test_the_warm_up_waits_while_a_request_is_being_answered(state):
    from api.main import create_app

    warmup.requests.enter()  # a request in progress from before the start
    try:
        with TestClient(create_app()) as client:
            assert not warmup.wait(timeout=1.5), "the warm-up ran beside a request"
            assert not (state / "regiomatch.sqlite3").exists()
            warmup.requests.leave()
            assert warmup.wait(timeout=300), "the warm-up did not go on once the request was answered"
            assert client.get("/health").json()["warm_up"]["prepared"][:4] == ["report", "database", "routes", "maps"]
            # Requests through the app are counted and released, whatever their answer.
            assert client.get("/api/v1/layers/nope").status_code == 404
            assert warmup.requests._idle.is_set()
    finally:
        if not warmup.requests._idle.is_set():
            warmup.requests.leave()


def test_an_imported_layers_outlines_are_prepared_in_the_background(state):
    """With the warm-up on, an import leaves its browser outlines to a background thread, so the
    layer's first map finds them ready; with it off (the other tests), nothing runs behind."""
    from api.main import create_app
    from api.settings import get_settings, workspace_for
    from benchmarks.grid import grid_geojson
    from geo.geometry.polygons import WEB_DETAIL_METRES, _web_geometry

    with TestClient(create_app()) as client:
        assert warmup.wait(timeout=300)
        before = _web_geometry.cache_info().misses
        created = client.post("/api/v1/layers", data={"id": "raster", "name": "Raster"},
                              files={"file": ("raster.geojson", grid_geojson(150), "application/geo+json")})
        assert created.status_code == 201, created.text
        # The one background thread runs its jobs in order: once a job queued after the import's
        # has run, the import's outline steps have run too (counting cache misses raced with
        # the miss of a computation still under way).
        behind = threading.Event()
        warmup.in_background(behind.set)
        assert behind.wait(timeout=300)
        ws = workspace_for(get_settings())
        layer = ws.layer("raster")
        after = _web_geometry.cache_info()
        for metres in WEB_DETAIL_METRES.values():
            _web_geometry(layer, metres, ws.catalog.data_dir)
        # Both detail levels were ready: asking for them computed nothing (other layers' outlines
        # may be prepared meanwhile, so the count since the import is not pinned).
        assert _web_geometry.cache_info().misses == after.misses >= before + len(WEB_DETAIL_METRES)


def test_a_background_job_waits_for_a_quiet_moment():
    """Work queued after an import starts only once no request has come for QUIET_SECONDS: the
    requests that follow an import do not share the interpreter with it."""
    done = threading.Event()
    warmup.requests.enter()  # a request in progress
    warmup.in_background(done.set)
    time.sleep(0.2)
    assert not done.is_set(), "the job ran while a request was being answered"
    warmup.requests.leave()
    assert done.wait(timeout=30), "the job never ran"
