"""Issue 27 item 4: '?simplify=0.001xxx' with a new value each time missed the cache (1.5-7 s
per request). Output-tuning parameters are snapped to a few allowed values, and uncached heavy
routes hold a slot of the heavy-route limit while they render."""

from __future__ import annotations

import pytest

from api import limits


def test_new_simplify_values_are_answered_from_the_cache(client, monkeypatch):
    from api.routes import layers

    calls: list[float] = []
    real = layers.layer_geojson

    def counting(layer, simplify, data_dir):  # noqa: ANN001, ANN202
        calls.append(simplify)
        return real(layer, simplify, data_dir)

    monkeypatch.setattr(layers, "layer_geojson", counting)
    bodies = {client.get(f"/api/v1/layers/provincie/geojson?simplify={value}").content
              for value in ("0.001", "0.0011", "0.00123", "1", "2.5")}
    assert calls == [0.0]  # five values, one rendering
    assert len(bodies) == 1
    client.get("/api/v1/layers/provincie/geojson?simplify=149.7")
    client.get("/api/v1/layers/provincie/geojson?simplify=150")
    assert calls == [0.0, 150.0]
    assert client.get("/api/v1/layers/provincie/geojson?simplify=99999").status_code == 422


@pytest.fixture
def one_slot_client(make_client):
    from api.settings import CacheSettings

    return make_client(caches=CacheSettings(max_parallel_maps=1, max_parallel_reports=1))


@pytest.mark.parametrize("kind, path", [
    ("maps", "/api/v1/layers/provincie/geopackage"),
    ("reports", "/overlay.xlsx?a=samenwerkingsverband&b=eerstelijnszone"),
    ("reports", "/vergelijk?base=eerstelijnszone&other=referentieregio"),
])
def test_uncached_heavy_routes_count_against_the_heavy_route_limit(one_slot_client, kind, path):
    from api.settings import settings_in_use

    held = limits.slot(kind, "bezet")
    # Another request of this app renders right now and holds its only slot.
    with settings_in_use(one_slot_client.app.state.settings), held():
        busy = one_slot_client.get(path)
    assert busy.status_code == 503 and busy.json()["code"] == "busy", busy.text
    assert busy.headers.get("retry-after")
    assert one_slot_client.get(path).status_code == 200  # the slot is free again
