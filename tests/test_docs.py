"""``/docs`` works offline: Swagger UI from vendored files, and it lists the operations in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import Browser, served_app

# Swagger UI has rendered the operations (one block per operation).
OPERATIONS_READY = "return document.querySelectorAll('.opblock').length > 0;"


def test_docs_page_links_only_vendored_files(client):
    response = client.get("/docs")
    assert response.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert links and all(link.startswith("/maps/static/swagger/") for link in links), links
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "cdn" not in response.text.lower()
    # every script (the inline initialiser too) carries the CSP nonce placeholder or a real nonce
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert len(scripts) == 2 and all("nonce=" in tag for tag in scripts)
    assert client.get("/redoc").status_code == 404


def test_vendored_swagger_ui_ships_with_its_licence(client):
    licence = client.get("/maps/static/swagger/LICENSE")
    assert licence.status_code == 200 and "Apache License" in licence.text
    assert "swagger-ui-dist" in client.get("/maps/static/LICENSES.md").text


@pytest.fixture(scope="module")
def server():
    with served_app() as running:
        yield running


def test_docs_lists_the_operations_in_a_browser(server, tmp_path: Path):
    with Browser(width=1280, height=1000) as browser:
        page = browser.load(server.url + "/docs", ready=OPERATIONS_READY)
        assert page.errors == []
        body = browser.run("return document.body.innerText;")
        assert "/api/v1/overlay" in body and "/api/v1/scenarios" in body
        # nothing came from another origin (the page must work without internet)
        origins = browser.run("return performance.getEntriesByType('resource').map(e => new URL(e.name).origin);")
        assert set(origins) == {server.url}
        shot = browser.screenshot(tmp_path / "docs.png")
        assert shot.stat().st_size > 10_000
