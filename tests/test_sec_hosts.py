"""Issue 27 item 3: DNS rebinding. With the no-token default, 'Host: evil.example' and
'Origin: http://evil.example' created and deleted scenarios and layers: the Host header was never
checked, so the attacker's page was "same origin". Now only configured host names are served."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import reset_app_caches

EVIL = {"host": "evil.example", "origin": "http://evil.example"}


@pytest.fixture
def default_app(state_dir, monkeypatch):
    """The no-token default, with no host names configured: the bound address and loopback only."""
    monkeypatch.delenv("REGIOMATCH_ALLOWED_HOSTS", raising=False)
    reset_app_caches()
    from api.main import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        yield client


def test_a_rebound_host_can_neither_read_nor_write(default_app):
    client = default_app
    created = client.post("/api/v1/scenarios", headers=EVIL, json={"name": "x", "base_layer": "provincie"})
    assert created.status_code == 400 and created.json()["code"] == "host_not_allowed"
    layer = client.post("/api/v1/layers", headers=EVIL, data={"id": "indringer"},
                        files={"file": ("i.csv", b"nis_code,zone_code\n34022,K\n")})
    assert layer.status_code == 400
    assert client.get("/api/v1/scenarios", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "evil.example:8000"}).status_code == 400
    # Nothing was written, and the service's own names still work, writes included.
    assert client.get("/api/v1/scenarios").json() == []
    assert client.get("/api/v1/layers/indringer").status_code == 404
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST."):
        assert client.get("/health", headers={"host": host}).status_code == 200, host
    own = client.post("/api/v1/scenarios", headers={"origin": "http://127.0.0.1:8000"},
                      json={"name": "eigen", "base_layer": "provincie"})
    assert own.status_code == 201, own.text


def test_a_write_from_another_origin_on_an_allowed_host_is_refused(default_app):
    refused = default_app.post("/api/v1/scenarios", headers={"origin": "http://evil.example"},
                               json={"name": "x", "base_layer": "provincie"})
    assert refused.status_code == 403 and refused.json()["code"] == "cross_site"


def test_configured_host_names_are_served_and_nothing_else(state_dir, monkeypatch):
    monkeypatch.setenv("REGIOMATCH_ALLOWED_HOSTS", "regiomatch.example, intern.regiomatch.example")
    reset_app_caches()
    from api.main import create_app

    with TestClient(create_app(), base_url="https://regiomatch.example") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"host": "intern.regiomatch.example"}).status_code == 200
        assert client.get("/health", headers={"host": "127.0.0.1"}).status_code == 200
        assert client.get("/health", headers={"host": "10.0.0.7"}).status_code == 400
        assert client.get("/health", headers={"host": "evil.example"}).status_code == 400
